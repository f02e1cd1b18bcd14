// The service scope of an HTTP request: its tenant, the credential acting, and the request id the
// audit log records.
import type { FastifyRequest } from 'fastify';
import type { Scope } from '../services/scope.ts';

export function scopeOf(req: FastifyRequest): Scope {
  return { tenantId: req.auth.tenantId, actor: { type: req.auth.actorType, id: req.auth.actorId }, requestId: req.id };
}
