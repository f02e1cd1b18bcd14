// Routes that still write their own audit entries go through the service's audit log with the
// request's scope (src/services/audit-log.ts holds the SQL).
import type { FastifyRequest } from 'fastify';
import { audit as record } from '../services/audit-log.ts';
import type { Q } from '../services/scope.ts';
import { scopeOf } from './scope.ts';

export function audit(q: Q, req: FastifyRequest, action: string, resource: { type: string; id: string }, changes: Record<string, unknown> | null = null) {
  return record(q, scopeOf(req), action, resource, changes);
}
