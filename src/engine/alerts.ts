// The Alert agent's jobs: stock alerts for the items whose levels moved, channel health across
// tenants. The rules themselves (raise, resolve, low / out of stock) are src/services/alerts.ts.
import type { TenantJob } from '../db/job-specs.ts';
import { named, withTx } from '../db/pool.ts';
import { itemStates, raiseAlert, resolveAlerts, settleStockAlerts, type ItemState } from '../services/alerts.ts';
import { cursorToCurrentSnapshot, unseenChange } from '../db/push-cursor.ts';
import type { AppContext } from './context.ts';

/**
 * Low / out of stock, for the items whose levels changed since the tenant's last check (its
 * cursor, src/db/push-cursor.ts): raise for items at or below their threshold (or at zero),
 * resolve the ones that recovered. An item never stocked has no level and raises nothing; a kit
 * has none of its own either (its components alert).
 */
export async function alertsStock(ctx: AppContext, payload: TenantJob): Promise<void> {
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
