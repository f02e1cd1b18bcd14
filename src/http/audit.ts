// The audit log: who changed what, when, from which key or user. Written by the route in the
// same transaction as the change, so the log never claims a change that rolled back.
import type { FastifyRequest } from 'fastify';
import { named, type Tx } from '../db/pool.ts';

export async function audit(
  q: Pick<Tx, 'query'>,
  req: FastifyRequest,
  action: string,
  resource: { type: string; id: string },
  changes: Record<string, unknown> | null = null,
): Promise<void> {
  await q.query(
    named(
      'audit_insert',
      `insert into audit_log (tenant_id, actor_type, actor_id, action, resource_type, resource_id, changes, request_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [req.auth.tenantId, req.auth.actorType, req.auth.actorId, action, resource.type, resource.id, changes, req.id],
    ),
  );
}
