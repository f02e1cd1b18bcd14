// One audit_log row as its writers build it, and the statement text that inserts it. Two paths
// write audit rows: audit() (src/services/audit-log.ts), in the writer's transaction, and the
// ledger's checked take-out (src/ledger/ledger.ts), which writes its row inside the ledger statement
// itself, and only when the take-out applied, so that the statement can be the transaction's last
// and carry the commit (commitWith, src/db/pool.ts).

/** An audit_log row; `changes` is JSON text or null. */
export interface AuditRow {
  tenant_id: string;
  actor_type: string;
  actor_id: string;
  action: string;
  resource_type: string;
  resource_id: string;
  changes: string | null;
  request_id: string | null;
}

export const AUDIT_COLUMNS = ['tenant_id', 'actor_type', 'actor_id', 'action', 'resource_type', 'resource_id', 'changes', 'request_id'] as const;

/** `values` in AUDIT_COLUMNS' order. */
export const auditValues = (r: AuditRow): Array<string | null> => AUDIT_COLUMNS.map((c) => r[c]);

/** The insert of one row whose values are the statement's parameters $1 to $8. */
export const AUDIT_INSERT = `insert into audit_log (${AUDIT_COLUMNS.join(', ')}) values (${AUDIT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;

/** The insert of the row held by the jsonb parameter `param` (an AuditRow), when `when` holds. */
export const auditInsertFromJson = (param: string, when: string) =>
  `insert into audit_log (${AUDIT_COLUMNS.join(', ')})
  select a.tenant_id, a.actor_type, a.actor_id, a.action, a.resource_type, a.resource_id, a.changes::jsonb, a.request_id
  from jsonb_to_record(${param}::jsonb) as a(tenant_id text, actor_type text, actor_id text, action text, resource_type text,
       resource_id text, changes text, request_id text)
  where ${when}`;
