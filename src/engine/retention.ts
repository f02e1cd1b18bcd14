// Retention: the history tables that grow with every sale are pruned, so a busy account's database
// stays the size of its recent past. The ledger (stock_movements), the audit log, alerts and
// orders are records and are kept. What goes, once older than the history window (30 days):
// sync events; inbound channel events already applied (platforms retry a webhook for hours to
// days, not weeks, so the exactly-once gate no longer needs them); webhook deliveries that are
// settled (delivered or dead), with their attempts, and events no delivery points at any more.
// Finished API jobs (imports, exports and their files) go after 7 days, idle rate-limit buckets
// after an hour, ended sessions, used refresh tokens and mailed links after a week, invitations a
// month after they expired. Pending work never goes.
// Each run deletes bounded slices, one statement each; the hourly job
// runs again sooner while a table still has more to go.
import { retentionJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { DEFAULT_RETENTION, type AppContext, type RetentionPolicy } from './context.ts';

const DAY = 86_400_000;

/**
 * What goes: rows of `table` whose `time` is older than `keepMs`, that also meet `where`; `also`
 * deletes what hangs off each deleted row (`gone`). BRIN indexes on the time columns (0016) find
 * the old end without a scan, at almost no cost to the inserts.
 */
interface Slice {
  table: string;
  time: string;
  keepMs: (p: RetentionPolicy) => number;
  where?: string;
  also?: string;
}

const SLICES: Slice[] = [
  { table: 'sync_events', time: 'created_at', keepMs: (p) => p.historyDays * DAY },
  { table: 'channel_events', time: 'created_at', keepMs: (p) => p.historyDays * DAY, where: 'applied_at is not null' },
  {
    table: 'webhook_deliveries',
    time: 'created_at',
    keepMs: (p) => p.historyDays * DAY,
    where: `status in ('delivered', 'dead')`,
    also: 'delete from webhook_attempts a using gone where a.tenant_id = gone.tenant_id and a.delivery_id = gone.id',
  },
  {
    table: 'webhook_events',
    time: 'created_at',
    keepMs: (p) => p.historyDays * DAY,
    where: 'not exists (select 1 from webhook_deliveries d where d.tenant_id = t.tenant_id and d.event_id = t.id)',
  },
  { table: 'api_jobs', time: 'finished_at', keepMs: (p) => p.jobDays * DAY, where: `status in ('succeeded', 'failed')` },
  // A key's rate-limit bucket idle for an hour is full again (every plan refills within seconds):
  // its row says nothing a fresh one would not.
  { table: 'api_key_buckets', time: 'taken_at', keepMs: () => 3_600_000 },
  // Sessions a week past their end (their refresh tokens go with them), and used refresh tokens a
  // week old: one that old presented again is refused as unknown rather than as a reuse.
  { table: 'sessions', time: 'expires_at', keepMs: () => 7 * DAY },
  { table: 'refresh_tokens', time: 'used_at', keepMs: () => 7 * DAY },
  // Mailed links a week past their end, used or not (the audit log keeps what they did); settled
  // invitations likewise a month on (a pending one is gone once it expires a month ago).
  { table: 'user_tokens', time: 'expires_at', keepMs: () => 7 * DAY },
  { table: 'invitations', time: 'expires_at', keepMs: () => 30 * DAY },
];

/** One slice of one table in one statement: `$1` the cut-off, `$2` the slice; answers how many went. */
const sliceSql = (s: Slice) => `with gone as (
    delete from ${s.table} where ctid = any(array(
      select ctid from ${s.table} t where t.${s.time} < $1${s.where ? ` and ${s.where}` : ''} limit $2))
    returning *
  )${s.also ? `, also as (${s.also})` : ''}
  select count(*)::int as n from gone`;

/** Rows deleted per table by one pass; a table at its slice may have more to go. */
export async function pruneHistory(ctx: AppContext, policy: RetentionPolicy = DEFAULT_RETENTION): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of SLICES) {
    const { rows } = await ctx.db.query<{ n: number }>(sliceSql(s), [new Date(Date.now() - s.keepMs(policy)), policy.slice]);
    out[s.table] = rows[0]!.n;
  }
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

/** The `retention` task: a run, and when more than a slice was due, the next in a minute rather than an hour. */
export async function retentionTask(ctx: AppContext): Promise<void> {
  const { more } = await retentionRun(ctx);
  if (more) await addJobs(ctx.db, [retentionJob(new Date(Date.now() + 60_000))]);
}
