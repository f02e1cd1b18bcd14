// The Sync agent: after any movement, tell every channel that needs it its new sellable quantity.
// One job per channel (job_key coalesces a burst of changes into one run; the channel's queue keeps
// runs in order), which pushes every listing whose item changed since its last push, in the
// platform's batch size, behind the channel's token bucket. Pushes are absolute values from the
// ledger (invariant 4); CAS platforms refuse a stale write and we re-read instead of overwriting.
import { ChannelError, type PushRequest, type PushResult } from '../channels/contract.ts';
import { pushJob, type ChannelJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { notifyIfWatchedSql } from '../db/live.ts';
import { named, withTx } from '../db/pool.ts';
import { needsPush, type KitComponentStock } from '../domain/sellable.ts';
import { channelTarget } from '../domain/sync-rules.ts';
import { KIT_COMPONENTS_SQL, KITS_OF } from '../db/kits.ts';
import { applyMovements } from '../ledger/ledger.ts';
import type { LiveChannel } from './channel-runtime.ts';
import { disconnectForAuth } from './channel-auth.ts';
import type { AppContext } from './context.ts';
import { metrics } from '../metrics.ts';
import { NEEDS_PUSH_SET } from '../services/listing-push.ts';
import { recordSyncEvents, syncEventRows, syncEventsInsert, syncEventsNotice, type SyncEventInput } from './sync-events.ts';
import { observeLevel, saveListingViews } from './watcher.ts';
import { CURSOR_TO_CURRENT_SNAPSHOT, unseenChange } from '../db/push-cursor.ts';
import { BUDGET_SHARE, takeWithin } from './rate-gate.ts';

interface DirtyListing {
  id: string;
  item_id: string;
  external_id: string;
  external_location_id: string;
  external_sku: string | null;
  last_pushed_qty: number | null;
  last_seen_qty: number | null;
  last_seen_version: string | null;
  dirty_seq: number;
  item_buffer: number | null;
  available: number;
  /** A kit's components (their stock over the channel's locations); empty for a plain item. */
  components: KitComponentStock[];
  /** What sync rules match on: the item's product, its category and tags. */
  product_id: string | null;
  category: string | null;
  tags: string[] | null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_ROUNDS = 4;

/**
 * The listing columns a push works from, for the listings of `l` that `where` keeps ($1 tenant,
 * $2 channel, $3 the channel's location ids, $4 the batch size). `dirtySeq` is the expression
 * for the listing's dirty_seq (a statement that has just marked it reads the new value from its
 * own RETURNING, which its snapshot cannot see).
 */
const DIRTY_SELECT = (from: string, where: string, dirtySeq = 'l.dirty_seq') => `
  select l.id, l.item_id, l.external_id, l.external_location_id, l.external_sku, l.last_pushed_qty, l.last_seen_qty,
         l.last_seen_version, ${dirtySeq} as dirty_seq, i.buffer as item_buffer,
         coalesce((select sum(s.on_hand - s.reserved) from stock_levels s
                   where s.tenant_id = l.tenant_id and s.item_id = l.item_id
                     and (cardinality($3::text[]) = 0 or s.location_id = any($3))), 0)::int as available,
         ${KIT_COMPONENTS_SQL} as components, i.product_id, p.category, p.tags
  from ${from} join items i on i.tenant_id = l.tenant_id and i.id = l.item_id
  left join products p on p.tenant_id = i.tenant_id and p.id = i.product_id
  where l.tenant_id = $1 and l.channel_id = $2 and ${where}
  order by l.id limit $4`;

async function dirtyListings(ctx: AppContext, live: LiveChannel, limit: number): Promise<DirtyListing[]> {
  const { rows } = await ctx.db.query<DirtyListing>(
    named('sync_dirty', DIRTY_SELECT('listings l', 'l.dirty_seq > l.pushed_seq'), [live.row.tenant_id, live.row.id, live.policy.locationIds, limit]),
  );
  return rows;
}

/** What the channel should hold: its sellable, then the tenant's sync rules (src/domain/sync-rules.ts). */
function target(live: LiveChannel, l: DirtyListing): number {
  return channelTarget(live.policy, l, live.rules, { channel_id: live.row.id, product_id: l.product_id, category: l.category, tags: l.tags ?? [] }).qty;
}

/** A job waits this long at most while holding a worker slot; longer waits become a later job. */
const HOLD_MS = 15;

/**
 * Marks this channel's listings whose item's level changed since the channel's cursor, moves the
 * cursor to this statement's snapshot (src/db/push-cursor.ts), and returns the first batch of
 * listings waiting for a push (just marked, or left from before): one round trip. A writer still
 * in flight now stays unseen, and its own outbox row, which the relay sees only once it has
 * committed, brings the next push job. Done here, per channel and at push time, so a burst of
 * movements costs one mark per listing.
 */
async function markAndTakeDirty(ctx: AppContext, live: LiveChannel, limit: number): Promise<DirtyListing[]> {
  const { rows } = await ctx.db.query<DirtyListing>(
    named(
      'sync_mark_dirty',
      `with cur as (select push_cursor, push_cursor_xmax, push_cursor_xip from channels where tenant_id = $1 and id = $2),
     changed as (
       select distinct s.item_id from stock_levels s, cur c
       where s.tenant_id = $1 and ${unseenChange('s', 'c')}
         and (cardinality($3::text[]) = 0 or s.location_id = any($3))
     ), target as (
       select id from listings where tenant_id = $1 and channel_id = $2
         and (item_id in (select item_id from changed) or item_id in (${KITS_OF('$1', 'select item_id from changed')}))
       order by id for update
     ), marked as (
       update listings l set ${NEEDS_PUSH_SET}
       from target where l.tenant_id = $1 and l.id = target.id
       returning l.id, l.dirty_seq
     ), moved as (
       update channels set ${CURSOR_TO_CURRENT_SNAPSHOT} where tenant_id = $1 and id = $2
     )
     ${DIRTY_SELECT('listings l left join marked m on m.id = l.id', '(l.dirty_seq > l.pushed_seq or m.id is not null)', 'coalesce(m.dirty_seq, l.dirty_seq)')}`,
      [live.row.tenant_id, live.row.id, live.policy.locationIds, limit],
    ),
  );
  return rows;
}

export async function syncPush(ctx: AppContext, payload: ChannelJob): Promise<void> {
  const live = await ctx.channels.load(payload.tenantId, payload.channelId);
  if (!live || live.row.status !== 'connected') return;
  // Past its monthly push budget, a tenant's channels are pushed at most once per gap (coalesced).
  const budgetWait = await ctx.pushBudget.delayMs(live.row.tenant_id, live.row.id);
  if (budgetWait > 0) return reschedule(ctx, live, budgetWait);
  const caps = live.module.capabilities;
  let transientFailures = 0;
  // A few rounds per run, then hand the channel's queue to waiting inbound events (and come back).
  for (let round = 0; ; round++) {
    let dirty = round === 0 ? await markAndTakeDirty(ctx, live, caps.maxPushBatch) : await dirtyListings(ctx, live, caps.maxPushBatch);
    if (dirty.length === 0) break;
    if (round >= MAX_ROUNDS) {
      await reschedule(ctx, live, 0);
      return;
    }
    const targets = new Map(dirty.map((l) => [l.id, target(live, l)]));
    // The channel already holds what it should (a sale there, already counted): nothing to send.
    // Delta platforms report no levels, so our view of them can be behind (a till sale our last
    // read-then-write already absorbed): their adapter reads first and skips what is already right.
    const settled = caps.quantityModel === 'delta' ? [] : dirty.filter((l) => !needsPush(caps.quantityModel, targets.get(l.id)!, l.last_seen_qty));
    const { toPush, calls, deferred } = affordable(
      live,
      dirty.filter((l) => !settled.includes(l)),
    );
    if (deferred > 0) dirty = [...settled, ...toPush];
    let results: PushResult[] = [];
    if (toPush.length > 0) {
      const wait = await takeWithin(live.rate, calls, HOLD_MS);
      if (wait > 0) {
        await reschedule(ctx, live, wait);
        return;
      }
      const reqs: PushRequest[] = toPush.map((l) => ({
        listingId: l.id,
        externalId: l.external_id,
        externalLocationId: l.external_location_id || null,
        qty: targets.get(l.id)!,
        known: { qty: l.last_seen_qty, version: l.last_seen_version },
        idempotencyKey: `${l.id}:${l.dirty_seq}:${targets.get(l.id)}`,
      }));
      try {
        results = await live.adapter.pushLevels(reqs);
        // One per listing update the channel took (or refused on compare-and-set), however they were
        // batched; not one the adapter found already right, nor a failed one, nor a call that
        // failed as a whole (below).
        ctx.usage.count(live.row.tenant_id, 'pushes', results.filter((r) => r.outcome === 'stale' || (r.outcome === 'ok' && !r.unchanged)).length);
      } catch (err) {
        if (!(err instanceof ChannelError)) throw err;
        const handled = await onCallFailure(ctx, live, toPush, err, ++transientFailures);
        if (handled === 'stop') return;
        continue;
      }
    }
    await recordResults(ctx, live, dirty, settled, targets, results);
    if (results.some((r) => r.outcome === 'failed' && r.retryable)) {
      transientFailures++;
      if (transientFailures > ctx.tuning.pushRetries) throw new Error(`pushes to channel ${live.row.id} keep failing`);
      await sleep(ctx.tuning.pushRetryBaseMs * 2 ** transientFailures);
    } else if (deferred === 0 && dirty.length < caps.maxPushBatch && !results.some((r) => r.outcome === 'stale')) {
      // Everything this run marked fitted in one batch and is recorded: no need to look again
      // (a change marked later brings its own job).
      break;
    }
  }
}

/**
 * The first of `listings` whose push fits in the account's burst, and its cost in calls (the
 * adapter's count where the batch decides it). A batch costing more than the burst would be sent
 * all the same and draw 429s part-way, every time: the rest wait for the next round.
 */
function affordable(live: LiveChannel, listings: DirtyListing[]): { toPush: DirtyListing[]; calls: number; deferred: number } {
  const { adapter, module } = live;
  const fixed = module.capabilities.callsPerPush ?? 1;
  if (!adapter.pushCalls || listings.length === 0) return { toPush: listings, calls: fixed, deferred: 0 };
  const burst = Math.max(1, Math.floor(module.capabilities.rateLimit.burst * BUDGET_SHARE));
  const refs = listings.map((l) => ({ externalId: l.external_id, externalLocationId: l.external_location_id || null }));
  let n = listings.length;
  let calls = adapter.pushCalls(refs);
  while (calls > burst && n > 1) calls = adapter.pushCalls(refs.slice(0, --n));
  // One listing that alone costs more than the burst goes at the burst's price (a bucket never holds more).
  return { toPush: listings.slice(0, n), calls: Math.min(calls, burst), deferred: listings.length - n };
}

async function reschedule(ctx: AppContext, live: LiveChannel, delayMs: number): Promise<void> {
  await withTx(ctx.db, (tx) => addJobs(tx, [pushJob(live.row.tenant_id, live.row.id, new Date(Date.now() + delayMs))]));
  ctx.jobs.nudgeRelay();
  ctx.jobs.wakeWorkersIn(delayMs);
}

/** A whole call failed. Returns 'retry' to go round again now, 'stop' when the job should end here. */
async function onCallFailure(ctx: AppContext, live: LiveChannel, listings: DirtyListing[], err: ChannelError, attempt: number): Promise<'retry' | 'stop'> {
  const tenantId = live.row.tenant_id;
  const events: SyncEventInput[] = listings.map((l) => ({
    channelId: live.row.id,
    listingId: l.id,
    itemId: l.item_id,
    kind: 'push',
    outcome: err.kind === 'rate_limited' ? 'throttled' : 'failed',
    detail: { error: err.message, kind: err.kind },
  }));
  metrics.pushes.inc({ channel_type: live.row.type, outcome: err.kind }, listings.length);
  if (err.kind === 'auth') {
    await withTx(ctx.db, async (tx) => {
      await recordSyncEvents(tx, tenantId, events);
      await disconnectForAuth(tx, live, err, 'syncing');
    });
    return 'stop';
  }
  await withTx(ctx.db, (tx) => recordSyncEvents(tx, tenantId, events));
  if (err.kind === 'rate_limited') {
    // Without a Retry-After, wait what the budget takes to refill one push, longer each time.
    const limit = live.module.capabilities.rateLimit;
    const wait = err.retryAfterMs ?? Math.ceil((((live.module.capabilities.callsPerPush ?? 1) / limit.perSecond) * 1000 * attempt) / BUDGET_SHARE);
    await live.rate.drain(wait);
    if (wait > HOLD_MS) {
      await reschedule(ctx, live, wait);
      return 'stop';
    }
    await sleep(wait);
    return 'retry';
  }
  if (err.kind === 'permanent' || attempt > ctx.tuning.pushRetries) {
    // Hand back to the job queue: its exponential backoff takes over from here.
    throw new Error(`push to channel ${live.row.id} failed: ${err.message}`);
  }
  await sleep(ctx.tuning.pushRetryBaseMs * 2 ** attempt * (0.5 + Math.random()));
  return 'retry';
}

async function recordResults(
  ctx: AppContext,
  live: LiveChannel,
  dirty: DirtyListing[],
  settled: DirtyListing[],
  targets: Map<string, number>,
  results: PushResult[],
): Promise<void> {
  const tenantId = live.row.tenant_id;
  const byId = new Map(dirty.map((l) => [l.id, l]));
  const done: Array<{
    id: string;
    seq: number;
    pushed: number | null;
    seen: number | null;
    version: string | null;
    state: string;
    error: string | null;
    raw?: number;
  }> = [];
  const events: SyncEventInput[] = [];
  const staleViews: Array<{ listing: DirtyListing; result: Extract<PushResult, { outcome: 'stale' }> }> = [];
  for (const l of settled) {
    done.push({ id: l.id, seq: l.dirty_seq, pushed: l.last_seen_qty, seen: l.last_seen_qty, version: l.last_seen_version, state: 'in_sync', error: null });
  }
  for (const r of results) {
    const l = byId.get(r.listingId);
    if (!l) continue;
    metrics.pushes.inc({ channel_type: live.row.type, outcome: r.outcome });
    if (r.outcome === 'ok') {
      const held = live.module.capabilities.quantityModel === 'availability' ? targets.get(l.id)! : r.qty;
      done.push({
        id: l.id,
        seq: l.dirty_seq,
        pushed: held,
        seen: held,
        version: r.version ?? l.last_seen_version,
        state: 'in_sync',
        error: null,
        raw: r.written,
      });
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'push', outcome: 'ok', qty: held });
    } else if (r.outcome === 'stale') {
      staleViews.push({ listing: l, result: r });
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'push', outcome: 'stale', qty: r.remote.qty ?? null });
    } else if (r.retryable) {
      events.push({ channelId: live.row.id, listingId: l.id, itemId: l.item_id, kind: 'push', outcome: 'failed', detail: { error: r.error, retryable: true } });
    } else {
      // Not retryable (unknown listing on the platform, invalid value): park it until the item changes again.
      done.push({
        id: l.id,
        seq: l.dirty_seq,
        pushed: l.last_pushed_qty,
        seen: l.last_seen_qty,
        version: l.last_seen_version,
        state: 'failed',
        error: r.error,
      });
      events.push({
        channelId: live.row.id,
        listingId: l.id,
        itemId: l.item_id,
        kind: 'push',
        outcome: 'failed',
        detail: { error: r.error, retryable: false },
      });
    }
  }
  if (staleViews.length === 0) {
    // The common case in one statement (atomic on its own): no transaction round trips.
    const rows = syncEventRows(events);
    await ctx.db.query(
      named(
        'sync_results',
        `with done as (${LISTING_RESULTS_UPDATE}),
            ev as (${syncEventsInsert('$1', '$3')} returning 1),
            ch as (update channels set last_sync_at = now() where tenant_id = $1 and id = $4)
       select ${notifyIfWatchedSql('$1::text', '$5')}`,
        [tenantId, JSON.stringify(done), JSON.stringify(rows), live.row.id, rows.length > 0 ? syncEventsNotice(tenantId, rows) : null],
      ),
    );
    return;
  }
  await withTx(ctx.db, async (tx) => {
    await tx.query(named('sync_results_tx', LISTING_RESULTS_UPDATE, [tenantId, JSON.stringify(done)]));
    // A raced write still landed: its echo must be known as ours (RemoteListing.raw).
    const raws = staleViews.filter(({ result }) => result.written !== undefined).map(({ listing, result }) => ({ id: listing.id, raw: result.written }));
    if (raws.length) {
      await tx.query(
        `update listings l set last_pushed_raw = x.raw, recent_pushed_raw = ${RECENT_RAW}
         from jsonb_to_recordset($2::jsonb) as x(id text, raw int) where l.tenant_id = $1 and l.id = x.id`,
        [tenantId, JSON.stringify(raws)],
      );
    }
    // A refused compare-and-set: take in what the channel really holds (a movement when the
    // channel's sales source is its levels), then the next round pushes against that.
    const views = staleViews.map(({ listing }) => ({ ...listing, changed: false }));
    const movements = staleViews
      .map(
        ({ result }, i) =>
          observeLevel(
            live,
            { listing: views[i]!, remote: result.remote, source: 'reread' },
            live.policy.saleLocationId,
            `reread:${views[i]!.id}:${result.remote.version ?? Date.now()}`,
          ).movement,
      )
      .filter((m) => m !== null);
    await saveListingViews(tx, tenantId, views);
    await applyMovements(tx, tenantId, movements);
    await recordSyncEvents(tx, tenantId, events);
  });
}

/** The last 8 values written into the platform's own field, newest last (listings.recent_pushed_raw). */
const RECENT_RAW = `(array_append(coalesce(l.recent_pushed_raw, '{}'::int[]), x.raw))[greatest(1, coalesce(cardinality(l.recent_pushed_raw), 0) - 6):]`;

/** Records pushed (or settled, or parked) listings: $1 tenant, $2 jsonb [{id, seq, pushed, seen, version, state, error, raw?}]. */
const LISTING_RESULTS_UPDATE = `update listings l set pushed_seq = greatest(l.pushed_seq, x.seq), last_pushed_qty = x.pushed, last_seen_qty = x.seen,
         last_seen_version = x.version, last_synced_at = now(), last_error = x.error, last_pushed_raw = coalesce(x.raw, l.last_pushed_raw),
         recent_pushed_raw = case when x.raw is null then l.recent_pushed_raw else ${RECENT_RAW} end,
         state = case when l.dirty_seq > x.seq then 'pending' else x.state end
  from jsonb_to_recordset($2::jsonb) as x(id text, seq bigint, pushed int, seen int, version text, state text, error text, raw int)
  where l.tenant_id = $1 and l.id = x.id`;
