// The Guardian: per tenant on a schedule, re-reads every listing from every connected channel and
// compares it with what the ledger says the channel should hold. Small drift is repaired by
// pushing the ledger's value; drift above the tenant's threshold raises an alert for a person.
// On a marketplace whose conflict_policy is not use_master, a level that differs is a stock
// conflict for a person instead (src/services/conflicts.ts): neither side is overwritten by the
// Guardian until it is resolved, and one that comes to match by itself is closed as agreed.
// One run per tenant at a time, across processes (the job's queue is per tenant); a tenant's
// channels are read at the same time (each has its own account and budget).
//
// Comparing under traffic (issue 16, point 5). A shop that sells all day always has some push or
// event in flight on a channel, so "skip the channel's listings while anything is in flight" never
// compares anything. Instead each listing is judged on its own, at a consistent point:
//  1. before the read, a mark of what we believe about each listing (dirty_seq, pushed_seq and what
//     we last saw the channel hold, with its version) and the newest channel event id;
//  2. the channel's listings are read in bulk (pages, behind the channel's rate budget);
//  3. after the read, each listing is judged only if nothing happened to IT in between: its mark is
//     the same, no ledger change of its item is waiting to be pushed, no push of it is pending, and
//     no event of the channel that names it (by external id or SKU) is unapplied or arrived since
//     step 1. Then the channel should hold exactly what our last push left, which is the ledger's
//     value, and any difference is drift. Listings something happened to are left to the next run.
//  4. A difference is acted on only after a short settle (guardianSettleMs, counted from step 1)
//     and a second look at those listings' marks and events: a sale the channel made just before
//     our read has its event on the way, and must be counted before its level is overwritten (on
//     a channel whose sales are its level changes, overwriting it first would lose the sale). The
//     wait is taken when the channel is selling (an event within the settle window) or its sales
//     are its levels; on a quiet orders channel it is skipped (an order is counted from the order
//     whatever its level became: a repair there cannot lose a sale).
// Repairs stay conditional on the mark being unchanged when they are written.
import { addJobs } from '../db/jobs.ts';
import { withTx, type Tx } from '../db/pool.ts';
import { explodeKits, type KitComponentStock } from '../domain/sellable.ts';
import { applyMovements, type MovementInput } from '../ledger/ledger.ts';
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
import { takeWithin } from './rate-gate.ts';
import { kitsAmong, observeLevel, saveListingViews } from './watcher.ts';

interface LocalListing {
  id: string;
  item_id: string;
  external_id: string;
  external_location_id: string;
  sku: string;
  external_sku: string | null;
  last_seen_qty: number | null;
  last_seen_version: string | null;
  last_pushed_qty: number | null;
  dirty_seq: number;
  /** dirty_seq, pushed_seq, last_seen_qty and last_seen_version in one string (MARK_SQL). */
  mark: string;
  /** A ledger change of its item not pushed yet (or not even marked for a push). */
  pending: boolean;
  /** An event of the channel that names this listing is unapplied, or arrived since the run began. */
  touched: boolean;
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
  const lives = (await Promise.all(chans.map((c) => ctx.channels.load(tenantId, c.id)))).filter((l): l is LiveChannel => l !== null && l !== undefined);
  // The channels at once: each is its own account with its own budget, and their settle waits overlap.
  const reports = await Promise.all(lives.map((live) => checkChannel(ctx, live, t[0]!.drift_threshold)));
  // Marketplaces: their catalog is read back too, as its own lower-priority job (conflicts).
  const catalogs = lives.filter((live) => live.adapter.catalog);
  if (catalogs.length)
    await addJobs(
      ctx.db,
      catalogs.map((live) => catalogCheckJob(tenantId, live.row.id)),
    );
  return reports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readAll(live: LiveChannel): Promise<Map<string, RemoteListing>> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readOnce(live);
    } catch (err) {
      // A busy account (Sync pushing a shop's sales) can run out of budget mid-read, the more so as
      // an adapter may make a call or two more than the one token a page takes: wait what the
      // platform asks, with the gate drained so pushes wait too, and read again from the start.
      if (!(err instanceof ChannelError) || err.kind !== 'rate_limited' || attempt >= 4) throw err;
      const wait = err.retryAfterMs ?? 1000 * attempt;
      await live.rate.drain(wait);
      await sleep(wait);
    }
  }
}

async function readOnce(live: LiveChannel): Promise<Map<string, RemoteListing>> {
  const out = new Map<string, RemoteListing>();
  const pages = live.adapter.listListings()[Symbol.asyncIterator]();
  for (;;) {
    // One token of the channel's budget per page: the read shares the account with Sync's pushes,
    // on equal terms. A reserve kept for the pushes (even one push's calls) was tried: under a
    // till's full traffic the pushes then took every token and the read stretched until every
    // selling listing had moved during it (guardian-traffic.test.ts judged none of them). The
    // price: while a run reads, a push may wait a page's worth of budget.
    const wait = await takeWithin(live.rate, 1, 30_000);
    if (wait > 0) await sleep(wait);
    const next = await pages.next();
    if (next.done) break;
    for (const r of next.value) {
      out.set(`${r.externalId}|${r.externalLocationId ?? ''}`, r);
      if (!out.has(`${r.externalId}|*`)) out.set(`${r.externalId}|*`, r);
    }
  }
  return out;
}

/** What we believe about a listing, in one comparable string: a listing whose mark moved had something happen to it. */
const MARK_SQL = `concat(l.dirty_seq, '|', l.pushed_seq, '|', coalesce(l.last_seen_qty::text, '-'), '|', coalesce(l.last_seen_version, '-'))`;

/**
 * The channel's local listings as the Guardian judges them. $1 tenant, $2 channel, $3 the channel's
 * locations, $4 the newest channel event id when the run began, $5 null or the listing ids to look at.
 * `touched`: an event of this channel naming the listing (a level by its external id, an order
 * line by external id or SKU, or an order line naming neither, which could be any) that is not
 * applied yet or arrived after the run began. The events in question are few (those in flight),
 * so they are gathered once per channel, not per listing.
 */
const LOCAL_SQL = `with ev as (
    select e.event from channel_events e where e.tenant_id = $1 and e.channel_id = $2 and e.applied_at is null
    union all
    select e.event from channel_events e where e.tenant_id = $1 and e.id > $4 and e.channel_id = $2 and e.applied_at is not null
  ), named as (
    select ev.event->'level'->>'externalId' as ext, null::text as sku from ev where ev.event->>'kind' = 'level'
    union all
    select ln->>'externalId', ln->>'sku' from ev, jsonb_array_elements(case when jsonb_typeof(ev.event->'lines') = 'array' then ev.event->'lines' else '[]'::jsonb end) ln
    where ev.event->>'kind' = 'order'
  )
  select l.id, l.item_id, l.external_id, l.external_location_id, i.sku, l.external_sku, l.last_seen_qty, l.last_seen_version, l.last_pushed_qty,
         l.dirty_seq, ${MARK_SQL} as mark,
         (l.dirty_seq > l.pushed_seq or exists (
            select 1 from stock_levels s join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
            where s.tenant_id = l.tenant_id and (s.item_id = l.item_id or s.item_id in (
                    select k.component_item_id from item_components k where k.tenant_id = l.tenant_id and k.kit_item_id = l.item_id))
              and ${unseenChange('s', 'c')})) as pending,
         exists (select 1 from named n where n.ext = l.external_id or n.sku = l.external_sku or n.sku = i.sku or (n.ext is null and n.sku is null)) as touched,
         i.buffer as item_buffer,
         coalesce((select sum(s.on_hand - s.reserved) from stock_levels s
                   where s.tenant_id = l.tenant_id and s.item_id = l.item_id
                     and (cardinality($3::text[]) = 0 or s.location_id = any($3))), 0)::int as available,
         ${KIT_COMPONENTS_SQL} as components, i.product_id, p.category, p.tags
  from listings l join items i on i.tenant_id = l.tenant_id and i.id = l.item_id
  left join products p on p.tenant_id = i.tenant_id and p.id = i.product_id
  where l.tenant_id = $1 and l.channel_id = $2 and ($5::text[] is null or l.id = any($5))`;

async function localListings(ctx: AppContext, live: LiveChannel, sinceEventId: number, ids: string[] | null): Promise<LocalListing[]> {
  const { rows } = await ctx.db.query<LocalListing>(LOCAL_SQL, [live.row.tenant_id, live.row.id, live.policy.locationIds, sinceEventId, ids]);
  return rows;
}

/**
 * Takes the levels that moved on a 'levels' channel into the ledger (observeLevel, as the Watcher
 * does), for the listings whose mark is still the one judged (locked until the commit), and
 * records what we now know each holds. A notification of the same count arriving later is then
 * stale (its version is not newer) and counts nothing.
 */
async function takeMovedLevels(
  tx: Tx,
  live: LiveChannel,
  moved: Array<{ l: LocalListing; r: RemoteListing }>,
  events: SyncEventInput[],
  report: GuardianReport,
): Promise<void> {
  const tenantId = live.row.tenant_id;
  const { rows } = await tx.query<{ id: string }>(
    `select l.id from listings l join jsonb_to_recordset($2::jsonb) as x(id text, mark text) on x.id = l.id
     where l.tenant_id = $1 and ${MARK_SQL} = x.mark order by l.id for update of l`,
    [tenantId, JSON.stringify(moved.map(({ l }) => ({ id: l.id, mark: l.mark })))],
  );
  const still = new Set(rows.map((r) => r.id));
  report.skipped += moved.length - still.size;
  const views = moved.filter(({ l }) => still.has(l.id)).map(({ l, r }) => ({ l, r, view: { ...l, changed: false } }));
  const movements: MovementInput[] = [];
  for (const { l, r, view } of views) {
    const location = (r.externalLocationId && live.policy.locationMap[r.externalLocationId]) || live.policy.saleLocationId;
    const o = observeLevel(live, { listing: view, remote: r, source: 'reread' }, location, `guardian:${l.id}:${r.version ?? Date.now()}`);
    if (o.movement) movements.push({ ...o.movement, note: 'level change found by the Guardian (its notification never came)' });
    events.push({
      channelId: live.row.id,
      listingId: l.id,
      itemId: l.item_id,
      kind: 'guardian',
      outcome: 'level_change',
      qty: r.qty ?? null,
      detail: { seen: l.last_seen_qty, held: r.qty },
    });
  }
  const kits = await kitsAmong(
    tx,
    tenantId,
    movements.map((m) => m.itemId),
  );
  await applyMovements(tx, tenantId, kits.size ? explodeKits(movements, kits, 'qtyDelta') : movements);
  await saveListingViews(
    tx,
    tenantId,
    views.map((v) => v.view),
  );
}

/** Judged: nothing happened to the listing between the mark taken before the read and now. */
const undisturbed = (l: LocalListing, before: Map<string, string>) => !l.pending && !l.touched && before.get(l.id) === l.mark;

/**
 * Whether the channel is selling: it sent an event within the settle window before the run began,
 * or since. A sale in flight is then likely, and the Guardian settles before acting (step 4).
 */
async function selling(ctx: AppContext, live: LiveChannel, began: number): Promise<boolean> {
  const { rows } = await ctx.db.query(`select 1 from channel_events where tenant_id = $1 and channel_id = $2 and created_at > $3::timestamptz limit 1`, [
    live.row.tenant_id,
    live.row.id,
    new Date(began - ctx.tuning.guardianSettleMs),
  ]);
  return rows.length > 0;
}

async function checkChannel(ctx: AppContext, live: LiveChannel, threshold: number): Promise<GuardianReport> {
  const tenantId = live.row.tenant_id;
  const report: GuardianReport = { channelId: live.row.id, checked: 0, inSync: 0, repaired: 0, alerted: 0, skipped: 0, conflicts: 0, error: null };
  const { rows: run } = await ctx.db.query<{ id: number }>(`insert into guardian_runs (tenant_id, channel_id) values ($1, $2) returning id`, [
    tenantId,
    live.row.id,
  ]);
  const began = Date.now();
  // Where a run's time goes (logged at debug): the read, the local query, the settle, the writes.
  const timing = { read: 0, local: 0, settle: 0, write: 0 };
  // Step 1 (see the top of the file): the newest event id, and each listing's mark, before the read.
  const { rows: head } = await ctx.db.query<{ since: string }>(`select coalesce(max(id), 0)::text as since from channel_events where tenant_id = $1`, [
    tenantId,
  ]);
  const since = Number(head[0]!.since);
  const { rows: marks } = await ctx.db.query<{ id: string; mark: string }>(
    `select l.id, ${MARK_SQL} as mark from listings l where l.tenant_id = $1 and l.channel_id = $2 and l.item_id is not null`,
    [tenantId, live.row.id],
  );
  const before = new Map(marks.map((m) => [m.id, m.mark]));
  let remote: Map<string, RemoteListing>;
  try {
    remote = await readAll(live);
    timing.read = Date.now() - began;
  } catch (err) {
    report.error = (err as Error).message;
    await ctx.db.query(`update guardian_runs set error = $3, finished_at = now() where tenant_id = $1 and id = $2`, [tenantId, run[0]!.id, report.error]);
    if (err instanceof ChannelError && err.kind === 'auth') await withTx(ctx.db, (tx) => disconnectForAuth(tx, live, err, 'checking'));
    return report;
  }
  const local = await localListings(ctx, live, since, null);
  timing.local = Date.now() - began - timing.read;
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
  const repairs: Array<{ id: string; mark: string; seen: number | null; version: string | null }> = [];
  const events: SyncEventInput[] = [];
  const drifts: Array<{ l: LocalListing; held: number; want: number }> = [];
  // Step 3: judge the listings nothing happened to; set aside those that differ.
  const differ: Array<{ l: LocalListing; r: RemoteListing; want: number; held: number }> = [];
  for (const l of local) {
    report.checked++;
    const r = remote.get(`${l.external_id}|${l.external_location_id}`) ?? remote.get(`${l.external_id}|*`);
    // Something happened to this listing while we read (a push, a sale, an event naming it): what
    // the channel held at our read is not known to be our last push. The next run decides.
    if (!r || !undisturbed(l, before)) {
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
    differ.push({ l, r, want, held });
  }
  // Step 4: a difference may be a sale of the channel's whose event is on its way. Settle, then
  // look at those listings again: any that moved or got an event is left to the next run.
  let confirmed = differ;
  if (differ.length > 0 && ctx.tuning.guardianSettleMs > 0 && (live.policy.salesSource === 'levels' || (await selling(ctx, live, began)))) {
    await sleep(ctx.tuning.guardianSettleMs - (Date.now() - began));
    const again = new Map(
      (
        await localListings(
          ctx,
          live,
          since,
          differ.map((d) => d.l.id),
        )
      ).map((l) => [l.id, l]),
    );
    confirmed = differ.filter((d) => {
      const now = again.get(d.l.id);
      return now !== undefined && undisturbed(now, before);
    });
    report.skipped += differ.length - confirmed.length;
    timing.settle = Date.now() - began - timing.read - timing.local;
  }
  // On a channel whose sales are its level changes, a level that moved from what we last saw is a
  // movement of the channel's (a sale whose notification and poll we missed, a count taken there),
  // as the Watcher would have taken it: overwriting it with a repair would lose that sale. Only a
  // level still at what we last saw, yet not what it should be, is ours to repair.
  const moved: Array<{ l: LocalListing; r: RemoteListing }> = [];
  for (const { l, r, want, held } of confirmed) {
    if (live.policy.salesSource === 'levels' && !availability && l.last_seen_qty !== null && r.qty != null && r.qty !== l.last_seen_qty) {
      moved.push({ l, r });
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
      repairs.push({ id: l.id, mark: l.mark, seen: r.qty ?? (r.available ? 1 : 0), version: r.version ?? null });
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'repair', outcome: 'repaired', qty: want, detail: { held, drift } });
    } else {
      drifts.push({ l, held, want });
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'guardian', outcome: 'drift', qty: held, detail: { held, want, drift } });
      report.alerted++;
      metrics.drift.inc({ channel_type: live.row.type, action: 'alerted' });
    }
  }
  const writing = Date.now();
  await withTx(ctx.db, async (tx) => {
    if (repairs.length > 0) {
      // Only if nothing happened to the listing since its mark was taken before the read: then the
      // channel held our last push when we read it, and a push of the ledger's value repairs it.
      const { rows: done } = await tx.query<{ id: string }>(
        `update listings l set last_seen_qty = x.seen, last_seen_version = x.version, last_pushed_qty = null, ${NEEDS_PUSH_SET}
         from jsonb_to_recordset($2::jsonb) as x(id text, mark text, seen int, version text)
         where l.tenant_id = $1 and l.id = x.id and ${MARK_SQL} = x.mark
         returning l.id`,
        [tenantId, JSON.stringify(repairs)],
      );
      const repaired = new Set(done.map((d) => d.id));
      // One that moved in the meantime was not repaired: no repair event, and it counts as skipped.
      for (let i = events.length - 1; i >= 0; i--) if (events[i]!.kind === 'repair' && !repaired.has(events[i]!.listingId!)) events.splice(i, 1);
      report.repaired = repaired.size;
      report.skipped += repairs.length - repaired.size;
      if (repaired.size > 0) {
        metrics.drift.inc({ channel_type: live.row.type, action: 'repaired' }, repaired.size);
        await addJobs(tx, [pushJob(tenantId, live.row.id)]);
      }
    }
    if (moved.length > 0) await takeMovedLevels(tx, live, moved, events, report);
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
  timing.write = Date.now() - writing;
  ctx.log.debug({ tenantId, ...report, ms: timing }, 'guardian run');
  return report;
}
