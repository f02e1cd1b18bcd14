// Alerts as business rules: raise (de-duplicated while open: one open alert per (tenant, type,
// subject), enforced by a partial unique index, so raising twice is harmless), resolve, the
// low / out-of-stock rule for a set of items, and the merchant's list and acknowledge. The Alert
// agent's jobs (src/engine/alerts.ts) and the services that change thresholds or channels call
// these in their own transactions.
import { newId } from '../domain/ids.ts';
import { alertMailJobTemplate } from '../db/job-specs.ts';
import { notifyTenant, OUTBOX_ROW_KEY_SQL, outboxRow } from '../db/jobs.ts';
import { named, wroteJobs, type Tx } from '../db/pool.ts';
import { webhookEventCtes, webhookJobRow, type WebhookEventType } from '../db/webhook-events.ts';
import { conflict, notFound } from '../domain/errors.ts';
import { metrics } from '../metrics.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export type AlertType =
  | 'low_stock'
  | 'out_of_stock'
  | 'channel_auth'
  | 'sync_failure_rate'
  | 'large_drift'
  | 'webhook_endpoint_paused'
  | 'tenant_quarantined'
  | 'push_budget_exceeded';

/** The outbound webhook event each alert raises (src/db/webhook-events.ts). */
const ALERT_EVENTS: Partial<Record<AlertType, WebhookEventType>> = {
  low_stock: 'item.low_stock',
  out_of_stock: 'item.out_of_stock',
  channel_auth: 'channel.disconnected',
  sync_failure_rate: 'sync.failed',
  large_drift: 'drift.detected',
};

// One statement (callers may pass the pool): the alert and, when it is new and someone subscribes,
// its webhook event (invariant 3).
const RAISE_SQL = `with ins as (
  insert into alerts (tenant_id, id, type, severity, subject, message, data)
  values ($1, $2, $3, $4, $5, $6, $7)
  on conflict (tenant_id, type, subject) where status <> 'resolved' do nothing
  returning id, type, severity, subject, message, data, status, created_at
), ${webhookEventCtes(
  '$1',
  '$8',
  `(select jsonb_build_object('alert_id', id, 'alert_type', type, 'severity', severity, 'subject', subject, 'message', message, 'data', data, 'created_at', created_at) from ins)`,
  '$9',
  'exists (select 1 from ins) and $8::text is not null',
)}, alert_mail as (
  -- Mailed by the alert_mail job (src/engine/mail.ts) when someone wants each alert.
  insert into job_outbox (key, job_key, task, payload, max_attempts)
  select ${OUTBOX_ROW_KEY_SQL('(j.job_key || ins.id)')}, j.job_key || ins.id, j.task, j.payload || jsonb_build_object('alertId', ins.id), j.max_attempts
  from ins cross join jsonb_to_record($10::jsonb) as j(job_key text, task text, payload jsonb, max_attempts int)
  where exists (select 1 from users u where u.tenant_id = $1 and u.alert_email = 'each' and u.email_verified_at is not null)
  on conflict (key) do nothing
)
select * from ins`;

export async function raiseAlert(
  q: Q,
  tenantId: string,
  a: { type: AlertType; subject: string; message: string; severity?: 'info' | 'warning' | 'critical'; data?: Record<string, unknown> },
): Promise<boolean> {
  const { rows } = await q.query(
    named('alert_raise', RAISE_SQL, [
      tenantId,
      newId('alr'),
      a.type,
      a.severity ?? 'warning',
      a.subject,
      a.message,
      a.data ?? null,
      ALERT_EVENTS[a.type] ?? null,
      webhookJobRow(tenantId),
      JSON.stringify(outboxRow(alertMailJobTemplate(tenantId))),
    ]),
  );
  if (rows[0]) {
    wroteJobs(q); // the alert's mail and webhook jobs, when anyone wants them
    metrics.alerts.inc({ type: a.type });
    await notifyTenant(q, tenantId, 'alert.raised', rows[0]);
  }
  return rows.length > 0;
}

export async function resolveAlerts(q: Q, tenantId: string, type: AlertType, subjects: string[]): Promise<void> {
  if (subjects.length === 0) return;
  await q.query(
    `update alerts set status = 'resolved', resolved_at = now() where tenant_id = $1 and type = $2 and subject = any($3) and status <> 'resolved'`,
    [tenantId, type, subjects],
  );
}

export interface ItemState {
  id: string;
  sku: string;
  name: string;
  low_stock_threshold: number;
  available: number;
  out_open: boolean;
  low_open: boolean;
}

/** SQL: the alert state of the tenant's ($1) items that `ids` (a subquery) names. */
export const itemStates = (ids: string) => `select i.id, i.sku, i.name, i.low_stock_threshold,
    coalesce((select sum(s.on_hand - s.reserved) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as available,
    exists (select 1 from alerts a where a.tenant_id = i.tenant_id and a.type = 'out_of_stock' and a.subject = i.id and a.status <> 'resolved') as out_open,
    exists (select 1 from alerts a where a.tenant_id = i.tenant_id and a.type = 'low_stock' and a.subject = i.id and a.status <> 'resolved') as low_open
  from items i where i.tenant_id = $1 and i.id in (${ids})`;

/** Raises what newly holds and resolves what no longer does, for these items. */
export async function settleStockAlerts(tx: Tx, tenantId: string, items: ItemState[]): Promise<void> {
  const recoveredLow: string[] = [];
  const recoveredOut: string[] = [];
  for (const r of items) {
    const out = r.available <= 0;
    const low = !out && r.low_stock_threshold > 0 && r.available <= r.low_stock_threshold;
    if (out && !r.out_open) {
      await raiseAlert(tx, tenantId, {
        type: 'out_of_stock',
        subject: r.id,
        severity: 'critical',
        message: `${r.name} (${r.sku}) is out of stock`,
        data: { item_id: r.id, sku: r.sku, available: r.available },
      });
    }
    if (low && !r.low_open) {
      await raiseAlert(tx, tenantId, {
        type: 'low_stock',
        subject: r.id,
        message: `${r.name} (${r.sku}) is low: ${r.available} left (threshold ${r.low_stock_threshold})`,
        data: { item_id: r.id, sku: r.sku, available: r.available, threshold: r.low_stock_threshold },
      });
    }
    if (!out && r.out_open) recoveredOut.push(r.id);
    if (!low && !out && r.low_open) recoveredLow.push(r.id);
  }
  await resolveAlerts(tx, tenantId, 'out_of_stock', recoveredOut);
  await resolveAlerts(tx, tenantId, 'low_stock', recoveredLow);
}

/** Low / out of stock for these items now, in the caller's transaction (their threshold changed). */
export async function checkStockAlerts(tx: Tx, tenantId: string, itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  // Only stocked items: one never stocked is not "out of stock" (the job's rule too).
  const { rows } = await tx.query<ItemState>(itemStates('select s.item_id from stock_levels s where s.tenant_id = $1 and s.item_id = any($2)'), [
    tenantId,
    itemIds,
  ]);
  await settleStockAlerts(tx, tenantId, rows);
}

export const ALERT_TYPES = [
  'low_stock',
  'out_of_stock',
  'channel_auth',
  'sync_failure_rate',
  'large_drift',
  'webhook_endpoint_paused',
  'tenant_quarantined',
  'push_budget_exceeded',
] as const satisfies readonly AlertType[];
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;

const COLUMNS = `a.id, a.type, a.severity, a.subject, a.message, a.data, a.status, a.created_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at`;

/** The tenant's alerts, newest first (ids are UUIDv7 underneath: id order is creation order). */
export async function listAlerts(q: Q, scope: Scope, filter: { status?: (typeof ALERT_STATUSES)[number]; type?: AlertType }, p: PageRequest) {
  const { rows } = await q.query(
    `select ${COLUMNS} from alerts a
     where a.tenant_id = $1 and ($2::text is null or a.id < $2) and ($3::text is null or a.status = $3) and ($4::text is null or a.type = $4)
     order by a.id desc limit $5`,
    [scope.tenantId, p.after, filter.status ?? null, filter.type ?? null, p.limit + 1],
  );
  return page(rows, p.limit, (r) => r.id as string);
}

export async function getAlert(q: Q, scope: Scope, id: string) {
  const { rows } = await q.query(`select ${COLUMNS} from alerts a where a.tenant_id = $1 and a.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Alert');
  return rows[0];
}

/** Acknowledging twice is harmless (unchanged); a resolved alert has nothing to acknowledge (409). */
export async function acknowledgeAlert(tx: Q, scope: Scope, id: string) {
  const { rows } = await tx.query(`select ${COLUMNS} from alerts a where a.tenant_id = $1 and a.id = $2 for update`, [scope.tenantId, id]);
  const alert = rows[0];
  if (!alert) throw notFound('Alert');
  if (alert.status === 'acknowledged') return alert;
  if (alert.status === 'resolved') throw conflict('This alert is already resolved');
  const { rows: updated } = await tx.query(
    `update alerts a set status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $3
     where a.tenant_id = $1 and a.id = $2 returning ${COLUMNS}`,
    [scope.tenantId, id, scope.actor.id],
  );
  await notifyTenant(tx, scope.tenantId, 'alert.acknowledged', updated[0]);
  await audit(tx, scope, 'alert.acknowledged', { type: 'alert', id });
  return updated[0];
}
