// The Guardian: per tenant on a schedule, re-reads every listing from every connected channel and
// compares it with what the ledger says the channel should hold. Small drift is repaired by
// pushing the ledger's value; drift above the tenant's threshold raises an alert for a person.
// On a marketplace whose conflict_policy is not use_master, a level that differs is a stock
// conflict for a person instead (src/services/conflicts.ts): neither side is overwritten by the
// Guardian until it is resolved, and one that comes to match by itself is closed as agreed.
// One run per tenant at a time, across processes (the job's queue is per tenant).
import { addJobs } from '../db/jobs.ts';
import { withTx } from '../db/pool.ts';
import type { KitComponentStock } from '../domain/sellable.ts';
import { channelTarget } from '../domain/sync-rules.ts';
import { KIT_COMPONENTS_SQL } from '../db/kits.ts';
import { ChannelError, type RemoteListing } from '../channels/contract.ts';
import { loadSettings } from '../channels/settings.ts';
import { raiseAlert } from '../services/alerts.ts';
import { recordConflict, type ConflictPolicy } from '../services/conflicts.ts';
import type { LiveChannel } from './channel-runtime.ts';
import { disconnectForAuth } from './channel-auth.ts';
import type { AppContext } from './context.ts';
import { metrics } from '../metrics.ts';
import { catalogCheckJob, pushJob, type TenantJob } from '../db/job-specs.ts';
import { NEEDS_PUSH_SET } from '../services/listing-push.ts';
import { recordSyncEvents, type SyncEventInput } from './sync-events.ts';
import { unseenChange } from '../db/push-cursor.ts';

interface LocalListing {
  id: string;
  item_id: string;
  external_id: string;
  external_location_id: string;
  sku: string;
  last_seen_version: string | null;
  dirty_seq: number;
  pending: boolean;
  recent: boolean;
  item_buffer: number | null;
  available: number;
  /** A kit's components; empty for a plain item. */
  components: KitComponentStock[];
  product_id: string | null;
  category: string | null;
  tags: string[] | null;
}

export interface GuardianReport {
  channelId: string;
  checked: number;
  inSync: number;
  repaired: number;
  alerted: number;
  skipped: number;
  /** Stock conflicts recorded (or still open) instead of a repair. */
  conflicts: number;
  error: string | null;
}

/** Whether drift on this channel is a stock conflict for a person (marketplaces not set to use_master). */
function stockConflicts(live: LiveChannel): boolean {
  if (!live.module.capabilities.catalog) return false;
  const policy = (loadSettings(live.module.settings, live.row.settings) as { conflict_policy?: ConflictPolicy }).conflict_policy ?? 'ask';
  return policy !== 'use_master';
}

export async function guardianRun(ctx: AppContext, payload: TenantJob): Promise<GuardianReport[]> {
  const { tenantId } = payload;
  const { rows: t } = await ctx.db.query<{ drift_threshold: number }>(`select drift_threshold from tenants where id = $1`, [tenantId]);
  if (!t[0]) return [];
  const { rows: chans } = await ctx.db.query<{ id: string }>(`select id from channels where tenant_id = $1 and status = 'connected' order by id`, [tenantId]);
  const reports: GuardianReport[] = [];
  for (const c of chans) {
    const live = await ctx.channels.load(tenantId, c.id);
    if (!live) continue;
    reports.push(await checkChannel(ctx, live, t[0].drift_threshold));
    // Marketplaces: their catalog is read back too, as its own lower-priority job (conflicts).
    if (live.adapter.catalog) await addJobs(ctx.db, [catalogCheckJob(tenantId, c.id)]);
  }
  return reports;
}

async function readAll(live: LiveChannel): Promise<Map<string, RemoteListing>> {
  const out = new Map<string, RemoteListing>();
  for await (const page of live.adapter.listListings()) {
    for (const r of page) {
      out.set(`${r.externalId}|${r.externalLocationId ?? ''}`, r);
      if (!out.has(`${r.externalId}|*`)) out.set(`${r.externalId}|*`, r);
    }
  }
  return out;
}

async function checkChannel(ctx: AppContext, live: LiveChannel, threshold: number): Promise<GuardianReport> {
  const tenantId = live.row.tenant_id;
  const report: GuardianReport = { channelId: live.row.id, checked: 0, inSync: 0, repaired: 0, alerted: 0, skipped: 0, conflicts: 0, error: null };
  const { rows: run } = await ctx.db.query<{ id: number }>(`insert into guardian_runs (tenant_id, channel_id) values ($1, $2) returning id`, [
    tenantId,
    live.row.id,
  ]);
  let remote: Map<string, RemoteListing>;
  try {
    remote = await readAll(live);
  } catch (err) {
    report.error = (err as Error).message;
    await ctx.db.query(`update guardian_runs set error = $3, finished_at = now() where tenant_id = $1 and id = $2`, [tenantId, run[0]!.id, report.error]);
    if (err instanceof ChannelError && err.kind === 'auth') await withTx(ctx.db, (tx) => disconnectForAuth(tx, live, err, 'checking'));
    return report;
  }
  const { rows: local } = await ctx.db.query<LocalListing>(
    `select l.id, l.item_id, l.external_id, l.external_location_id, i.sku, l.last_seen_version, l.dirty_seq,
            (l.dirty_seq > l.pushed_seq or exists (
               select 1 from stock_levels s join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
               where s.tenant_id = l.tenant_id and (s.item_id = l.item_id or s.item_id in (
                       select k.component_item_id from item_components k where k.tenant_id = l.tenant_id and k.kit_item_id = l.item_id))
                 and ${unseenChange('s', 'c')})) as pending,
            (l.last_synced_at > now() - make_interval(secs => $4::float / 1000)
             or exists (select 1 from channel_events e where e.tenant_id = l.tenant_id and e.channel_id = l.channel_id
                        and e.applied_at is null)) as recent,
            i.buffer as item_buffer,
            coalesce((select sum(s.on_hand - s.reserved) from stock_levels s
                      where s.tenant_id = l.tenant_id and s.item_id = l.item_id
                        and (cardinality($3::text[]) = 0 or s.location_id = any($3))), 0)::int as available,
            ${KIT_COMPONENTS_SQL} as components, i.product_id, p.category, p.tags
     from listings l join items i on i.tenant_id = l.tenant_id and i.id = l.item_id
     left join products p on p.tenant_id = i.tenant_id and p.id = i.product_id
     where l.tenant_id = $1 and l.channel_id = $2`,
    [tenantId, live.row.id, live.policy.locationIds, ctx.tuning.guardianSettleMs],
  );
  const availability = live.module.capabilities.quantityModel === 'availability';
  const asConflicts = stockConflicts(live);
  const open = new Map<string, string>();
  if (asConflicts) {
    const { rows } = await ctx.db.query<{ id: string; item_id: string }>(
      `select id, item_id from conflicts where tenant_id = $1 and channel_id = $2 and field = 'stock' and status = 'open'`,
      [tenantId, live.row.id],
    );
    for (const r of rows) open.set(r.item_id, r.id);
  }
  const agreed: string[] = [];
  const stockConflictsSeen: Array<{ l: LocalListing; held: number; want: number }> = [];
  const repairs: Array<{ id: string; seq: number; seen: number | null; version: string | null }> = [];
  const events: SyncEventInput[] = [];
  const drifts: Array<{ l: LocalListing; held: number; want: number }> = [];
  for (const l of local) {
    report.checked++;
    const r = remote.get(`${l.external_id}|${l.external_location_id}`) ?? remote.get(`${l.external_id}|*`);
    // Pending pushes and listings with events in flight are not drift yet: the next run decides.
    if (!r || l.pending || l.recent) {
      report.skipped++;
      continue;
    }
    // What Sync pushes: the channel's sellable, then the sync rules (src/domain/sync-rules.ts).
    const want = channelTarget(live.policy, l, live.rules, { channel_id: live.row.id, product_id: l.product_id, category: l.category, tags: l.tags ?? [] }).qty;
    const held = availability ? (r.available ? Math.max(1, want) : 0) : (r.qty ?? 0);
    const matches = availability ? Boolean(r.available) === want > 0 : held === want;
    if (matches) {
      report.inSync++;
      if (open.has(l.item_id)) agreed.push(open.get(l.item_id)!);
      continue;
    }
    const drift = held - want;
    if (asConflicts && l.product_id && !availability) {
      stockConflictsSeen.push({ l, held, want });
      events.push({
        channelId: live.row.id,
        listingId: l.id,
        itemId: l.item_id,
        kind: 'guardian',
        outcome: 'conflict',
        qty: held,
        detail: { held, want, drift },
      });
      report.conflicts++;
      continue;
    }
    if (Math.abs(drift) <= threshold || availability) {
      repairs.push({ id: l.id, seq: l.dirty_seq, seen: r.qty ?? (r.available ? 1 : 0), version: r.version ?? null });
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'repair', outcome: 'repaired', qty: want, detail: { held, drift } });
      report.repaired++;
      metrics.drift.inc({ channel_type: live.row.type, action: 'repaired' });
    } else {
      drifts.push({ l, held, want });
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'guardian', outcome: 'drift', qty: held, detail: { held, want, drift } });
      report.alerted++;
      metrics.drift.inc({ channel_type: live.row.type, action: 'alerted' });
    }
  }
  await withTx(ctx.db, async (tx) => {
    if (repairs.length > 0) {
      // Only if nothing touched the listing since we read it (its seq is unchanged): then we know
      // what the channel holds, and a push of the ledger's value repairs it.
      const { rowCount } = await tx.query(
        `update listings l set last_seen_qty = x.seen, last_seen_version = x.version, last_pushed_qty = null, ${NEEDS_PUSH_SET}
         from jsonb_to_recordset($2::jsonb) as x(id text, seq bigint, seen int, version text)
         where l.tenant_id = $1 and l.id = x.id and l.dirty_seq = x.seq`,
        [tenantId, JSON.stringify(repairs)],
      );
      if (rowCount) await addJobs(tx, [pushJob(tenantId, live.row.id)]);
    }
    for (const c of stockConflictsSeen) {
      await recordConflict(tx, tenantId, {
        channelId: live.row.id,
        productId: c.l.product_id!,
        publicationId: null,
        itemId: c.l.item_id,
        field: 'stock',
        master: c.want,
        platform: c.held,
      });
    }
    if (agreed.length) {
      await tx.query(
        `update conflicts set status = 'resolved', resolution = 'agreed', resolved_value = master_value, resolved_by = 'guardian', resolved_at = now()
         where tenant_id = $1 and id = any($2) and status = 'open'`,
        [tenantId, agreed],
      );
    }
    for (const d of drifts) {
      await tx.query(`update listings set state = 'drift' where tenant_id = $1 and id = $2`, [tenantId, d.l.id]);
      await raiseAlert(tx, tenantId, {
        type: 'large_drift',
        subject: d.l.id,
        message: `${live.row.name} holds ${d.held} of ${d.l.sku} but should hold ${d.want} (drift ${d.held - d.want} is above the threshold of ${threshold})`,
        data: { channel_id: live.row.id, listing_id: d.l.id, item_id: d.l.item_id, held: d.held, want: d.want },
      });
    }
    await recordSyncEvents(tx, tenantId, events);
    await tx.query(
      `update guardian_runs set checked = $3, in_sync = $4, repaired = $5, alerted = $6, skipped = $7, finished_at = now()
       where tenant_id = $1 and id = $2`,
      [tenantId, run[0]!.id, report.checked, report.inSync, report.repaired, report.alerted, report.skipped],
    );
  });
  return report;
}
