// The Watcher: turns channel events into ledger movements, exactly once.
// - events are recorded once each, with their apply signal, by recordEvents (src/engine/intake.ts),
//   for webhooks and polls alike.
// - watcherApply: applies every pending event of one channel in one transaction (batched):
//   orders -> sale/return movements; level events -> deltas against what we last saw (channels
//   whose sales source is 'levels') or a confirmation / echo (channels whose source is 'orders').
// - watcherPoll: the safety net for channels that can be polled.
import { ChannelError, type InboundEvent, type RemoteListing } from '../channels/contract.ts';
import { applyJob, pollJob, type ChannelJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { recordEvents } from './intake.ts';
import { notifyIfWatchedSql } from '../db/live.ts';
import { takeWithin } from './rate-gate.ts';
import { named, withTx, type Tx } from '../db/pool.ts';
import { explodeKits } from '../domain/sellable.ts';
import { applyMovements, type MovementInput } from '../ledger/ledger.ts';
import { applyReservations, type ReservationInput } from '../ledger/reservations.ts';
import type { LiveChannel } from './channel-runtime.ts';
import { disconnectForAuth } from './channel-auth.ts';
import type { AppContext } from './context.ts';
import { metrics } from '../metrics.ts';
import { syncEventRows, syncEventsInsert, syncEventsNotice, type SyncEventInput } from './sync-events.ts';

type Q = Pick<Tx, 'query'>;

interface ListingState {
  id: string;
  item_id: string | null;
  external_id: string;
  external_location_id: string;
  external_sku: string | null;
  last_pushed_qty: number | null;
  /** What our last push wrote into the platform's own field (RemoteListing.raw), where it has one. */
  last_pushed_raw?: number | null;
  /** The last few values our pushes wrote there (an earlier write's echo can come after a later write). */
  recent_pushed_raw?: number[] | null;
  last_seen_qty: number | null;
  last_seen_version: string | null;
  changed?: boolean;
}

export type Observation = {
  listing: ListingState;
  remote: RemoteListing;
  source: 'webhook' | 'reread';
  /** The platform reported the level as the result of a stock edit of `delta` (Vendure adjustments). */
  change?: { delta: number };
};

/**
 * What a fresh look at a channel's level means. With sales source 'levels' the difference from
 * what we last saw is a movement; with 'orders' it only updates our view (orders move the ledger).
 * An observation older than what we already saw is stale and means nothing (out-of-order delivery).
 */
export function observeLevel(
  live: LiveChannel,
  obs: Observation,
  saleLocationId: string | null,
  sourceEventId: string,
): { outcome: 'stale' | 'echo' | 'confirmed' | 'applied' | 'unmatched' | 'drift'; movement: MovementInput | null } {
  const { listing, remote } = obs;
  const version = remote.version ?? null;
  if (version !== null && listing.last_seen_version !== null && !live.adapter.isNewer(version, listing.last_seen_version)) {
    return { outcome: 'stale', movement: null };
  }
  const qty = remote.qty ?? (remote.available == null ? null : remote.available ? 1 : 0);
  const before = listing.last_seen_qty;
  listing.last_seen_qty = qty;
  listing.last_seen_version = version ?? listing.last_seen_version;
  listing.changed = true;
  if (qty === null) return { outcome: 'confirmed', movement: null };
  if (obs.change && live.policy.salesSource === 'orders')
    return classifyEdit(live, listing, qty, remote.raw ?? null, before, obs.change.delta, saleLocationId, sourceEventId);
  if (live.policy.salesSource === 'orders' || live.module.capabilities.quantityModel === 'availability') {
    return { outcome: qty === listing.last_pushed_qty ? 'echo' : 'confirmed', movement: null };
  }
  if (before === null || qty === before) return { outcome: before === null ? 'confirmed' : 'echo', movement: null };
  if (!listing.item_id || !saleLocationId) return { outcome: 'unmatched', movement: null };
  const delta = qty - before;
  return {
    outcome: 'applied',
    movement: {
      itemId: listing.item_id,
      locationId: saleLocationId,
      qtyDelta: delta,
      reason: delta < 0 ? 'sale' : 'adjustment',
      sourceChannelId: live.row.id,
      sourceEventId,
      note: obs.source === 'reread' ? 'level change seen when a push was refused as stale' : null,
    },
  };
}

/**
 * A stock edit the platform reports with its delta (sales come from orders on such channels):
 * - echo: the channel now holds what we last pushed, or its own field holds what we last wrote
 *   into it, or one of the last few values we wrote there (an earlier write's event can arrive
 *   after a later write; other writers, such as Vendure's allocations, may have moved the
 *   quantity since): our own write coming back, nothing moves;
 * - applied: it adds up (what we last saw + delta = what it holds now): a merchant's manual edit
 *   on the channel, taken into the ledger as an adjustment;
 * - drift: it does not add up (a lost event, or the platform's own lost update): nothing moves,
 *   and the Guardian's read-back repairs or alerts.
 */
function classifyEdit(
  live: LiveChannel,
  listing: ListingState,
  qty: number,
  raw: number | null,
  before: number | null,
  delta: number,
  saleLocationId: string | null,
  sourceEventId: string,
): { outcome: 'echo' | 'applied' | 'unmatched' | 'drift'; movement: MovementInput | null } {
  if (qty === listing.last_pushed_qty || (raw !== null && (raw === listing.last_pushed_raw || listing.recent_pushed_raw?.includes(raw))))
    return { outcome: 'echo', movement: null };
  if (before === null || before + delta !== qty || delta === 0) return { outcome: 'drift', movement: null };
  if (!listing.item_id || !saleLocationId) return { outcome: 'unmatched', movement: null };
  return {
    outcome: 'applied',
    movement: {
      itemId: listing.item_id,
      locationId: saleLocationId,
      qtyDelta: delta,
      reason: 'adjustment',
      sourceChannelId: live.row.id,
      sourceEventId,
      note: 'stock edited on the channel',
    },
  };
}

/** $1 tenant, $2 jsonb [{id, q, v}] (listingViews): what we now know each listing holds. */
const LISTING_VIEWS_UPDATE = `update listings l set last_seen_qty = x.q, last_seen_version = x.v
  from jsonb_to_recordset($2::jsonb) as x(id text, q int, v text)
  where l.tenant_id = $1 and l.id = x.id`;

const listingViews = (listings: ListingState[]) => listings.filter((l) => l.changed).map((l) => ({ id: l.id, q: l.last_seen_qty, v: l.last_seen_version }));

export async function saveListingViews(tx: Q, tenantId: string, listings: ListingState[]): Promise<void> {
  const views = listingViews(listings);
  if (views.length > 0) await tx.query(LISTING_VIEWS_UPDATE, [tenantId, JSON.stringify(views)]);
}

interface PendingEvent {
  id: number;
  external_event_id: string;
  event: InboundEvent;
}

type KitRow = { kit_item_id: string; component_item_id: string; qty: number };

/**
 * $1 tenant, $2 channel, $3 batch size: up to $3 pending events of the channel, locked (skip
 * locked: a concurrent apply of the channel takes the others), with the listings they name (by
 * external id, or by SKU on order lines), the items their order lines name by SKU, and the kits
 * among all those items (item_components, ordered as kitsAmong orders them).
 */
const PENDING_SQL = `with pending as (
  select id, external_event_id, event from channel_events
  where tenant_id = $1 and channel_id = $2 and applied_at is null
  order by id limit $3 for update skip locked
), keys as (
  select p.event->'level'->>'externalId' as ext, null::text as sku from pending p where p.event->>'kind' = 'level'
  union all
  select nullif(ln->>'externalId', ''), nullif(ln->>'sku', '') from pending p, jsonb_array_elements(p.event->'lines') ln
  where p.event->>'kind' = 'order' and jsonb_typeof(p.event->'lines') = 'array'
), ls as (
  select id, item_id, external_id, external_location_id, external_sku, last_pushed_qty, last_pushed_raw, recent_pushed_raw, last_seen_qty, last_seen_version
  from listings where tenant_id = $1 and channel_id = $2
    and (external_id in (select ext from keys where ext is not null) or external_sku in (select sku from keys where sku is not null))
), its as (
  select id, sku from items where tenant_id = $1 and sku in (select sku from keys where sku is not null)
)
select (select coalesce(json_agg(pending order by id), '[]') from pending) as pending,
       (select coalesce(json_agg(ls), '[]') from ls) as listings,
       (select coalesce(json_agg(its), '[]') from its) as items,
       (select coalesce(json_agg(k order by k.kit_item_id, k.component_item_id), '[]') from (
          select kit_item_id, component_item_id, qty from item_components
          where tenant_id = $1 and kit_item_id in (select item_id from ls where item_id is not null union select id from its)) k) as kits`;

function kitMap(rows: KitRow[]): Map<string, Array<{ itemId: string; qty: number }>> {
  const kits = new Map<string, Array<{ itemId: string; qty: number }>>();
  for (const r of rows) {
    const list = kits.get(r.kit_item_id) ?? [];
    list.push({ itemId: r.component_item_id, qty: r.qty });
    kits.set(r.kit_item_id, list);
  }
  return kits;
}

/** Applies up to `batch` pending events of one channel in one transaction; returns how many. */
export async function applyPendingBatch(ctx: AppContext, live: LiveChannel, batch = 500): Promise<number> {
  const tenantId = live.row.tenant_id;
  const channelId = live.row.id;
  return withTx(ctx.db, async (tx) => {
    // The pending events and everything applying them reads (their listings, the items their
    // order lines name by SKU, the kits among those items): one round trip.
    const { rows: read } = await tx.query<{ pending: PendingEvent[]; listings: ListingState[]; items: Array<{ id: string; sku: string }>; kits: KitRow[] }>(
      named('watcher_pending', PENDING_SQL, [tenantId, channelId, batch]),
    );
    const { pending, listings, items, kits: kitRows } = read[0]!;
    if (pending.length === 0) return 0;
    const byExternal = new Map(listings.map((l) => [`${l.external_id}|${l.external_location_id}`, l]));
    const byExternalId = new Map(listings.map((l) => [l.external_id, l]));
    const bySku = new Map(listings.filter((l) => l.external_sku).map((l) => [l.external_sku!, l]));
    // A sale of a SKU we stock but never mapped on this channel still counts: fall back to the item's SKU.
    const itemBySku = new Map(items.map((i) => [i.sku, i.id]));

    const movements: MovementInput[] = [];
    const reservations: ReservationInput[] = [];
    const outcomes: Array<{ id: number; outcome: string }> = [];
    const syncEvents: SyncEventInput[] = [];
    for (const p of pending) {
      const ev = p.event;
      const loc = (ext: string | null | undefined) => (ext && live.policy.locationMap[ext]) || live.policy.saleLocationId;
      if (ev.kind === 'order' && live.policy.salesSource === 'levels') {
        // This channel's sales are counted from its level changes (invariant 5): the order only confirms.
        outcomes.push({ id: p.id, outcome: 'confirmed' });
      } else if (ev.kind === 'order') {
        const location = loc(ev.externalLocationId);
        let unmatched = 0;
        for (const line of ev.lines) {
          const listing = (line.externalId && byExternalId.get(line.externalId)) || (line.sku && bySku.get(line.sku)) || null;
          const itemId = listing?.item_id ?? (line.sku ? itemBySku.get(line.sku) : undefined);
          if (!itemId || !location || !Number.isInteger(line.qty) || line.qty <= 0) {
            unmatched++;
            continue;
          }
          if (ev.effect === 'reserve' || ev.effect === 'release') {
            const qty = ev.effect === 'reserve' ? line.qty : -line.qty;
            reservations.push({ itemId, locationId: location, qty });
            // The channel's own sellable moved with its allocation: keep our view of it in step.
            if (listing && listing.last_seen_qty !== null) {
              listing.last_seen_qty -= qty;
              listing.changed = true;
            }
            continue;
          }
          if (ev.effect === 'sale' && ev.consumesReservation) reservations.push({ itemId, locationId: location, qty: -line.qty });
          movements.push({
            itemId,
            locationId: location,
            qtyDelta: ev.effect === 'sale' ? -line.qty : line.qty,
            reason: ev.effect === 'sale' ? 'sale' : 'return',
            sourceChannelId: channelId,
            sourceEventId: p.external_event_id,
          });
        }
        const outcome = unmatched === ev.lines.length ? 'unmatched' : unmatched ? 'partly_applied' : 'applied';
        if (unmatched) syncEvents.push({ channelId, kind: 'inbound', outcome: 'unmatched', detail: { order_id: ev.orderId, unmatched_lines: unmatched } });
        outcomes.push({ id: p.id, outcome });
      } else if (ev.kind === 'level') {
        const listing = byExternal.get(`${ev.level.externalId}|${ev.level.externalLocationId ?? ''}`) ?? byExternalId.get(ev.level.externalId);
        if (!listing) {
          outcomes.push({ id: p.id, outcome: 'unmatched' });
          continue;
        }
        const r = observeLevel(
          live,
          { listing, remote: ev.level, source: 'webhook', change: ev.change },
          loc(ev.level.externalLocationId),
          p.external_event_id,
        );
        if (r.movement) movements.push(r.movement);
        outcomes.push({ id: p.id, outcome: r.outcome });
        if (r.outcome === 'applied')
          syncEvents.push({ channelId, listingId: listing.id, itemId: listing.item_id, kind: 'inbound', outcome: 'level_change', qty: ev.level.qty ?? null });
        if (r.outcome === 'drift') {
          syncEvents.push({
            channelId,
            listingId: listing.id,
            itemId: listing.item_id,
            kind: 'inbound',
            outcome: 'drift',
            qty: ev.level.qty ?? null,
            detail: { delta: ev.change?.delta ?? null },
          });
        }
        // (A sale itself is audited by its movement, which names the channel and the event.)
      } else {
        outcomes.push({ id: p.id, outcome: 'ignored' });
      }
    }
    // A kit holds no stock of its own: what a channel sold (or held) of a kit moves its components.
    const kits = kitMap(kitRows);
    await applyMovements(tx, tenantId, kits.size ? explodeKits(movements, kits, 'qtyDelta') : movements);
    await applyReservations(tx, tenantId, kits.size ? explodeKits(reservations, kits, 'qty') : reservations);
    // Our new view of the listings, the events' outcomes and their audit: one round trip.
    const rows = syncEventRows(syncEvents);
    await tx.query(
      named(
        'watcher_finish',
        `with views as (${LISTING_VIEWS_UPDATE}),
            applied as (update channel_events e set applied_at = now(), outcome = x.o
                        from jsonb_to_recordset($3::jsonb) as x(id bigint, o text)
                        where e.tenant_id = $1 and e.id = x.id),
            audit as (${syncEventsInsert('$1', '$4')})
       select ${notifyIfWatchedSql('$1::text', '$5')}`,
        [
          tenantId,
          JSON.stringify(listingViews(listings)),
          JSON.stringify(outcomes.map((o) => ({ id: o.id, o: o.outcome }))),
          JSON.stringify(rows),
          rows.length > 0 ? syncEventsNotice(tenantId, rows) : null,
        ],
      ),
    );
    for (const o of outcomes) metrics.events.inc({ channel_type: live.row.type, outcome: o.outcome });
    return pending.length;
  });
}

const APPLY_BATCH = 500;

/**
 * One batch per run. The channel's push jobs share its queue: a run that drained a never-ending
 * stream of webhooks would starve them, so a full batch hands over and re-enqueues itself.
 * (Events arriving while we run have already enqueued a fresh apply job of their own.)
 */
export async function watcherApply(ctx: AppContext, payload: ChannelJob): Promise<void> {
  const live = await ctx.channels.load(payload.tenantId, payload.channelId);
  if (!live) return;
  if ((await applyPendingBatch(ctx, live, APPLY_BATCH)) === APPLY_BATCH) {
    await withTx(ctx.db, (tx) => addJobs(tx, [applyJob(payload.tenantId, payload.channelId)]));
  }
  ctx.jobs.nudgeRelay(); // the pushes this batch caused are in the outbox: move them now, not at the next tick
}

/** A poll waits at most this long for the account's budget; past it, it asks for another poll that much later. */
const POLL_BUDGET_WAIT_MS = 2_000;

/** Another poll of the channel POLL_BUDGET_WAIT_MS from now (one job: the poll's key). */
async function pollAgainSoon(ctx: AppContext, payload: ChannelJob): Promise<void> {
  await withTx(ctx.db, (tx) => addJobs(tx, [{ ...pollJob(payload.tenantId, payload.channelId), runAt: new Date(Date.now() + POLL_BUDGET_WAIT_MS) }]));
  ctx.jobs.nudgeRelay();
}

/** Safety net: asks the channel for events since the stored cursor; duplicates of webhooks dedupe on their ids. */
export async function watcherPoll(ctx: AppContext, payload: ChannelJob): Promise<void> {
  const live = await ctx.channels.load(payload.tenantId, payload.channelId);
  if (!live || live.row.status !== 'connected' || !live.adapter.pollEvents) return;
  let cursor = live.row.poll_cursor;
  for (let page = 0; page < 20; page++) {
    // Polls spend the account's budget like pushes do: wait for it (a little), not for a 429. Out
    // of budget (our pushes are using it): poll again shortly, not only at the next scheduled
    // poll, so a sale a webhook hinted at is not left waiting for it.
    if ((await takeWithin(live.rate, 1, POLL_BUDGET_WAIT_MS)) > 0) return pollAgainSoon(ctx, payload);
    let polled: Awaited<ReturnType<NonNullable<typeof live.adapter.pollEvents>>>;
    try {
      polled = await live.adapter.pollEvents(cursor);
    } catch (err) {
      // Throttled or failing for now: poll again shortly (the pages before this one are saved),
      // not after the job queue's growing backoff: a hinted sale must not wait for minutes.
      if (err instanceof ChannelError && (err.kind === 'rate_limited' || err.kind === 'transient')) return pollAgainSoon(ctx, payload);
      // Refused credentials do not get better by retrying: disconnect and alert (pushes do the same).
      if (!(err instanceof ChannelError) || err.kind !== 'auth') throw err;
      await withTx(ctx.db, (tx) => disconnectForAuth(tx, live, err, 'polling'));
      return;
    }
    const { events, cursor: next } = polled;
    await withTx(ctx.db, async (tx) => {
      await recordEvents(tx, [{ tenantId: payload.tenantId, channelId: payload.channelId, events }]);
      await tx.query(`update channels set poll_cursor = $3, last_polled_at = now() where tenant_id = $1 and id = $2`, [
        payload.tenantId,
        payload.channelId,
        next,
      ]);
    });
    if (events.length === 0 || next === cursor || polled.done) break;
    cursor = next;
  }
}

/** The components of those of `itemIds` that are kits (one round trip, none when there is nothing to move). */
export async function kitsAmong(tx: Q, tenantId: string, itemIds: string[]): Promise<Map<string, Array<{ itemId: string; qty: number }>>> {
  if (itemIds.length === 0) return new Map();
  const { rows } = await tx.query<KitRow>(
    named(
      'watcher_kits',
      `select kit_item_id, component_item_id, qty from item_components where tenant_id = $1 and kit_item_id = any($2) order by kit_item_id, component_item_id`,
      [tenantId, [...new Set(itemIds)]],
    ),
  );
  return kitMap(rows);
}
