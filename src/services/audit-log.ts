// The audit log: who changed what, when, from which key or user. Every service that changes a
// tenant's data records it here in the same transaction as the change, so the log never claims a
// change that rolled back. Admins read it newest first.
import { AUDIT_COLUMNS, AUDIT_INSERT, auditValues, type AuditRow } from '../db/audit-row.ts';
import { deferToCommit, named } from '../db/pool.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

/** The row audit() writes, for a statement that writes it itself (the ledger's checked take-out). */
export function auditRow(scope: Scope, action: string, resource: { type: string; id: string }, changes: Record<string, unknown> | null = null): AuditRow {
  return {
    tenant_id: scope.tenantId,
    actor_type: scope.actor.type,
    actor_id: scope.actor.id,
    action,
    resource_type: resource.type,
    resource_id: resource.id,
    changes: changes === null ? null : JSON.stringify(changes),
    request_id: scope.requestId,
  };
}

export async function audit(
  q: Q,
  scope: Scope,
  action: string,
  resource: { type: string; id: string },
  changes: Record<string, unknown> | null = null,
): Promise<void> {
  const values = auditValues(auditRow(scope, action, resource, changes));
  // Nothing reads an audit row in the transaction that writes it: it goes with the commit.
  if (deferToCommit(q, (lit) => `insert into audit_log (${AUDIT_COLUMNS.join(', ')}) values (${values.map((v) => lit(v)).join(', ')})`)) return;
  await q.query(named('audit_insert', AUDIT_INSERT, values));
}

export interface AuditFilter {
  resourceId?: string;
  actorId?: string;
  action?: string;
  /** ISO 8601 times: since inclusive, until exclusive. */
  since?: string;
  until?: string;
}

/** The tenant's audit log, newest first; pages seek on the entry's id. */
export async function listAuditLog(q: Q, scope: Scope, f: AuditFilter, p: PageRequest<number>) {
  const { rows } = await q.query(
    `select a.id, a.actor_type, a.actor_id, a.action, a.resource_type, a.resource_id, a.changes, a.request_id, a.created_at
     from audit_log a
     where a.tenant_id = $1 and ($2::bigint is null or a.id < $2) and ($3::text is null or a.resource_id = $3)
       and ($4::text is null or a.actor_id = $4) and ($5::text is null or a.action = $5)
       and ($6::timestamptz is null or a.created_at >= $6) and ($7::timestamptz is null or a.created_at < $7)
     order by a.id desc limit $8`,
    [scope.tenantId, p.after, f.resourceId ?? null, f.actorId ?? null, f.action ?? null, f.since ?? null, f.until ?? null, p.limit + 1],
  );
  return page(rows, p.limit, (r) => r.id as number);
}
