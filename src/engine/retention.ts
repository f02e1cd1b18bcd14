// Retention: the history tables that grow with every sale are pruned, so a busy account's database
// stays the size of its recent past. The ledger (stock_movements), the audit log, alerts and
// orders are records and are kept. What goes, once older than the history window (30 days):
// sync events; inbound channel events already applied (platforms retry a webhook for hours to
// days, not weeks, so the exactly-once gate no longer needs them); webhook deliveries that are
// settled (delivered or dead), with their attempts, and events no delivery points at any more.
// Finished API jobs (imports, exports and their files) go after 7 days, idle rate-limit buckets
// after an hour. Pending work never goes.
// Each run deletes bounded slices in transactions of their own; the hourly job
// runs again sooner while a table still has more to go.
import { withTx } from '../db/pool.ts';
import type { AppContext } from './context.ts';

export interface RetentionPolicy {
  historyDays: number;
  jobDays: number;
  /** Rows per table per slice. */
  slice: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { historyDays: 30, jobDays: 7, slice: 5_000 };

// Each: one slice of one table; `$1` the cut-off, `$2` the slice. BRIN indexes on the
// time columns (0016) find the old end without a scan, at almost no cost to the inserts.
const SLICES: Record<string, string> = {
  sync_events: `delete from sync_events where ctid = any(array(
    select ctid from sync_events where created_at < $1 limit $2))`,
  channel_events: `delete from channel_events where ctid = any(array(
    select ctid from channel_events where created_at < $1 and applied_at is not null limit $2))`,
  webhook_deliveries: `with gone as (
      delete from webhook_deliveries where ctid = any(array(
        select ctid from webhook_deliveries where created_at < $1 and status in ('delivered', 'dead') limit $2))
      returning tenant_id, id
    ), attempts as (
      delete from webhook_attempts a using gone where a.tenant_id = gone.tenant_id and a.delivery_id = gone.id
    )
    select count(*) from gone`,
  webhook_events: `delete from webhook_events e where ctid = any(array(
    select ctid from webhook_events v where v.created_at < $1
      and not exists (select 1 from webhook_deliveries d where d.tenant_id = v.tenant_id and d.event_id = v.id)
    limit $2))`,
};

/** Rows deleted per table by one pass; a table at its slice may have more to go. */
export async function pruneHistory(ctx: AppContext, policy: RetentionPolicy = DEFAULT_RETENTION): Promise<Record<string, number>> {
  const history = new Date(Date.now() - policy.historyDays * 86_400_000);
  const jobs = new Date(Date.now() - policy.jobDays * 86_400_000);
  const out: Record<string, number> = {};
  for (const [table, sql] of Object.entries(SLICES)) {
    const res = await withTx(ctx.db, (tx) => tx.query(sql, [history, policy.slice]));
    out[table] = table === 'webhook_deliveries' ? Number(res.rows[0]?.count ?? 0) : (res.rowCount ?? 0);
  }
  const done = await ctx.db.query(
    `delete from api_jobs where ctid = any(array(
       select ctid from api_jobs where status in ('succeeded', 'failed') and finished_at < $1 limit $2))`,
    [jobs, policy.slice],
  );
  out.api_jobs = done.rowCount ?? 0;
  // A key's rate-limit bucket idle for an hour is full again (every plan refills within seconds):
  // its row says nothing a fresh one would not.
  const idle = await ctx.db.query(
    `delete from api_key_buckets where ctid = any(array(select ctid from api_key_buckets where taken_at < now() - interval '1 hour' limit $1))`,
    [policy.slice],
  );
  out.api_key_buckets = idle.rowCount ?? 0;
  return out;
}

/** The hourly job: prune, and come back in a minute while any table still had a full slice to go. */
export async function retentionRun(ctx: AppContext): Promise<{ deleted: Record<string, number>; more: boolean }> {
  const deleted = await pruneHistory(ctx, ctx.tuning.retention);
  const more = Object.values(deleted).some((n) => n >= ctx.tuning.retention.slice);
  const total = Object.values(deleted).reduce((a, b) => a + b, 0);
  if (total > 0) ctx.log.info({ deleted }, 'retention: pruned history');
  return { deleted, more };
}
