// The audit log: who changed what, when, from which key or user. Every service that changes a
// tenant's data records it here in the same transaction as the change, so the log never claims a
// change that rolled back.
import { named } from '../db/pool.ts';
import type { Q, Scope } from './scope.ts';

export async function audit(
  q: Q,
  scope: Scope,
  action: string,
  resource: { type: string; id: string },
  changes: Record<string, unknown> | null = null,
): Promise<void> {
  await q.query(
    named(
      'audit_insert',
      `insert into audit_log (tenant_id, actor_type, actor_id, action, resource_type, resource_id, changes, request_id)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [scope.tenantId, scope.actor.type, scope.actor.id, action, resource.type, resource.id, changes, scope.requestId],
    ),
  );
}
