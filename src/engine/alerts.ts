// The Alert agent. Alerts de-duplicate while open: one open alert per (tenant, type, subject),
// enforced by a partial unique index, so raising twice is harmless.
import { newId } from '../domain/ids.ts';
import { notifyTenant } from '../db/jobs.ts';
import { named, withTx, type Tx } from '../db/pool.ts';
import { cursorToCurrentSnapshot, unseenChange } from './push-cursor.ts';
import { webhookEventCtes, type WebhookEventType } from '../db/webhook-events.ts';
import type { AppContext } from './context.ts';
import { metrics } from './metrics.ts';

type Q = Pick<Tx, 'query'>;

export type AlertType = 'low_stock' | 'out_of_stock' | 'channel_auth' | 'sync_failure_rate' | 'large_drift' | 'webhook_endpoint_paused';

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
  'exists (select 1 from ins) and $8::text is not null',
)}
select * from ins`;

export async function raiseAlert(
  q: Q,
  tenantId: string,
  a: { type: AlertType; subject: string; message: string; severity?: 'info' | 'warning' | 'critical'; data?: Record<string, unknown> },
): Promise<boolean> {
  const { rows } = await q.query(named('alert_raise', RAISE_SQL, [tenantId, newId('alr'), a.type, a.severity ?? 'warning', a.subject, a.message, a.data ?? null, ALERT_EVENTS[a.type] ?? null]));
  if (rows[0]) {
    metrics.alerts.inc({ type: a.type });
    await notifyTenant(q, tenantId, 'alert.raised', rows[0]);
  }
  return rows.length > 0;
}

export async function resolveAlerts(q: Q, tenantId: string, type: AlertType, subjects: string[]): Promise<void> {
  if (subjects.length === 0) return;
  await q.query(`update alerts set status = 'resolved', resolved_at = now() where tenant_id = $1 and type = $2 and subject = any($3) and status <> 'resolved'`, [
    tenantId,
    type,
    subjects,
  ]);
}

interface ItemState {
  id: string;
  sku: string;
  name: string;
  low_stock_threshold: number;
  available: number;
  out_open: boolean;
  low_open: boolean;
}

/** SQL: the alert state of the tenant's ($1) items that `ids` (a subquery) names. */
const itemStates = (ids: string) => `select i.id, i.sku, i.name, i.low_stock_threshold,
    coalesce((select sum(s.on_hand - s.reserved) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as available,
    exists (select 1 from alerts a where a.tenant_id = i.tenant_id and a.type = 'out_of_stock' and a.subject = i.id and a.status <> 'resolved') as out_open,
    exists (select 1 from alerts a where a.tenant_id = i.tenant_id and a.type = 'low_stock' and a.subject = i.id and a.status <> 'resolved') as low_open
  from items i where i.tenant_id = $1 and i.id in (${ids})`;

/** Raises what newly holds and resolves what no longer does, for these items. */
async function settleStockAlerts(tx: Tx, tenantId: string, items: ItemState[]): Promise<void> {
  const recoveredLow: string[] = [];
  const recoveredOut: string[] = [];
  for (const r of items) {
    const out = r.available <= 0;
    const low = !out && r.low_stock_threshold > 0 && r.available <= r.low_stock_threshold;
    if (out && !r.out_open) {
      await raiseAlert(tx, tenantId, { type: 'out_of_stock', subject: r.id, severity: 'critical', message: `${r.name} (${r.sku}) is out of stock`, data: { item_id: r.id, sku: r.sku, available: r.available } });
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

/**
 * Low / out of stock, for the items whose levels changed since the tenant's last check (its
 * cursor, src/engine/push-cursor.ts): raise for items at or below their threshold (or at zero),
 * resolve the ones that recovered. An item never stocked has no level and raises nothing; a kit
 * has none of its own either (its components alert).
 */
export async function alertsStock(ctx: AppContext, payload: { tenantId: string }): Promise<void> {
  const { tenantId } = payload;
  await withTx(ctx.db, async (tx) => {
    // One check per tenant at a time: the next waits here and then starts where this one ends.
    await tx.query(`insert into stock_alert_cursors (tenant_id) values ($1) on conflict (tenant_id) do nothing`, [tenantId]);
    await tx.query(`select 1 from stock_alert_cursors where tenant_id = $1 for update`, [tenantId]);
    // One statement: the levels it reads and the snapshot the cursor moves to are the same.
    const { rows } = await tx.query<ItemState>(
      named(
        'alerts_stock_changed',
        `with changed as (
           select distinct s.item_id from stock_levels s, stock_alert_cursors c
           where c.tenant_id = $1 and s.tenant_id = $1 and ${unseenChange('s', 'c', 'cursor')}
         ), moved as (
           update stock_alert_cursors set ${cursorToCurrentSnapshot('cursor')} where tenant_id = $1
         )
         ${itemStates('select item_id from changed')}`,
        [tenantId],
      ),
    );
    await settleStockAlerts(tx, tenantId, rows);
  });
}

/** Low / out of stock for these items now, in the caller's transaction (their threshold changed). */
export async function checkStockAlerts(tx: Tx, tenantId: string, itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  // Only stocked items: one never stocked is not "out of stock" (the job's rule too).
  const { rows } = await tx.query<ItemState>(itemStates('select s.item_id from stock_levels s where s.tenant_id = $1 and s.item_id = any($2)'), [tenantId, itemIds]);
  await settleStockAlerts(tx, tenantId, rows);
}

/** Channel health across tenants: push failure rate over the last 15 minutes. */
export async function alertsHealth(ctx: AppContext): Promise<void> {
  const { rows } = await ctx.db.query<{ tenant_id: string; channel_id: string; name: string; total: number; failed: number }>(
    `select e.tenant_id, e.channel_id, c.name, count(*)::int as total, count(*) filter (where e.outcome = 'failed')::int as failed
     from sync_events e join channels c on c.tenant_id = e.tenant_id and c.id = e.channel_id
     where e.kind = 'push' and e.created_at > now() - interval '15 minutes'
     group by 1, 2, 3`,
  );
  for (const r of rows) {
    const rate = r.failed / r.total;
    await withTx(ctx.db, async (tx) => {
      if (r.total >= 10 && rate >= 0.2) {
        await raiseAlert(tx, r.tenant_id, {
          type: 'sync_failure_rate',
          subject: r.channel_id,
          message: `${Math.round(rate * 100)}% of pushes to ${r.name} failed in the last 15 minutes`,
          data: { channel_id: r.channel_id, failed: r.failed, total: r.total },
        });
      } else if (rate < 0.05) {
        await resolveAlerts(tx, r.tenant_id, 'sync_failure_rate', [r.channel_id]);
      }
    });
  }
}
