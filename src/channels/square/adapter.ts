// Square Inventory API client (channel-apis.md section 4). One listing = one item variation at one
// location (its IN_STOCK count). Listings come from the catalog (ITEMs with their variations, the
// variation's sku) and the counts of the chosen locations; pushes are PHYSICAL_COUNT changes sent
// with POST /v2/inventory/changes/batch-create under an idempotency key derived from the push, so
// a retry of the same push (a timeout that may have landed) is answered from Square's memory
// instead of applied twice. Sales are the counts moving (inventory.count.updated webhooks, and the
// counts poll with `updated_after` as a safety net): the sales source is 'levels'.
import { createHash } from 'node:crypto';
import { chunk } from '../adapter-kit.ts';
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelConnection,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { SquareClient, squareChannelError } from './client.ts';
import { isNewerTimestamp, parseQuantity, type CatalogItem, type InventoryCount, type Location } from './model.ts';
import type { SquareSettings } from './settings.ts';

export const SQUARE_CAPABILITIES: ChannelCapabilities = {
  quantityModel: 'absolute',
  // No compare-and-set on counts: the adapter reads the counts before writing (callsPerPush 2) and
  // answers 'stale' where a sale moved them since we last looked.
  compareAndSet: false,
  // inventory.count.updated carries the new absolute count; order webhooks carry no lines.
  defaultSalesSource: 'levels',
  webhooks: true,
  pollable: true,
  // BatchChangeInventory takes at most 100 changes.
  maxPushBatch: 100,
  // GUESS: Square publishes no number, only 429 RATE_LIMITED with exponential backoff advised.
  // 5 calls/s with a burst of 10 per seller stays well under what integrations report seeing.
  rateLimit: { perSecond: 5, burst: 10 },
  callsPerPush: 2,
};

/** Catalog object ids per counts request. GUESS: no documented maximum; 500 keeps bodies small. */
const IDS_PER_READ = 500;
/** Largest count a physical count may set. GUESS: Square documents quantities as decimals of up to 5 places, no range; ours stay within int32. */
const QUANTITY_LIMIT = 2_147_483_647;

/** GUESS: how far before its cursor the counts poll reads again (Square documents no ordering guarantee for calculated_at). */
const POLL_OVERLAP_MS = 2000;

type Ref = { externalId: string; externalLocationId?: string | null };
const key = (variationId: string, locationId: string) => `${variationId}\u0000${locationId}`;

/** Square's count as a listing (its catalog fields left for listListings to fill in). */
export function countListing(c: InventoryCount): RemoteListing {
  return {
    externalId: c.catalog_object_id ?? '',
    externalLocationId: c.location_id ?? null,
    sku: null,
    qty: parseQuantity(c.quantity),
    version: c.calculated_at ?? null,
  };
}

/** A count that moved, as a level event. Its id names the count and the instant Square calculated it, so a webhook, its retries and the poll that sees the same count agree. */
export function countEvent(c: InventoryCount, fallbackAt: string): InboundEvent | null {
  if (!c.catalog_object_id || !c.location_id || (c.state && c.state !== 'IN_STOCK')) return null;
  const level = countListing(c);
  if (level.qty === null) return null;
  return {
    kind: 'level',
    externalEventId: `count:${c.catalog_object_id}:${c.location_id}:${c.calculated_at ?? fallbackAt}`,
    occurredAt: c.calculated_at ?? fallbackAt,
    level,
  };
}

/** A batch-create request sent without an answer yet (a timeout, a dropped connection, a 5xx). */
interface SentBatch {
  body: { idempotency_key: string; changes: unknown[]; ignore_unchanged_counts: boolean };
  /** What each change set: listing request key -> (variation, location, qty). */
  reqs: Map<string, { externalId: string; loc: string; qty: number }>;
}

/**
 * Pushes whose outcome we never learnt, by each listing request's idempotency key. A push of the
 * same request again resends that batch as it was (same key, same body, same occurred_at): Square
 * answers it from its memory if it landed, applies it if it did not. Its counts are dated when it
 * was first made, so a later push of the same listing (a later occurred_at) still wins, and sales
 * rung up since are re-sequenced on top of it. Reading first instead would take our own landed
 * write for a sale. In memory: a retry in another process sends a new occurred_at under the same
 * key, Square refuses that (IDEMPOTENCY_KEY_REUSED) and the push goes out under a key of its own.
 */
const unanswered = new Map<string, SentBatch>();
/** Tries of one batch within a push before its outcome is left to the next push. */
const SEND_ATTEMPTS = 4;
const UNANSWERED_KEEP = 10_000;

/** The request's idempotency key: the same listings at the same intended values (each PushRequest's own key) give the same key. */
export function pushKey(reqs: Array<Pick<PushRequest, 'idempotencyKey'>>): string {
  const h = createHash('sha256');
  for (const k of reqs.map((r) => r.idempotencyKey).sort()) h.update(k).update('\n');
  return `sc-${h.digest('hex').slice(0, 60)}`;
}

function canonicalChanges(batch: SentBatch): string {
  return JSON.stringify(batch.body.changes);
}

export class SquareAdapter implements ChannelAdapter {
  readonly type = 'square';
  readonly capabilities = SQUARE_CAPABILITIES;
  private readonly client: SquareClient;
  private readonly settings: SquareSettings;

  constructor(conn: ChannelConnection<SquareSettings>) {
    this.settings = conn.settings;
    this.client = new SquareClient(conn, conn.settings.request_timeout_ms);
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    const locs = await this.locations();
    return { ok: true, account: locs[0]?.name ?? locs[0]?.id ?? 'square' };
  }

  /** The locations this channel reads: the configured one, or every active one. */
  private async locations(): Promise<Location[]> {
    const res = await this.client.call<{ locations?: Location[] }>({ method: 'GET', path: '/v2/locations' });
    const all = (res.locations ?? []).filter((l) => typeof l.id === 'string' && l.id);
    if (this.settings.location_id) return all.filter((l) => l.id === this.settings.location_id);
    return all.filter((l) => !l.status || l.status === 'ACTIVE');
  }

  /** IN_STOCK counts of these variations at these locations, every page. */
  private async counts(variationIds: string[], locationIds: string[], updatedAfter?: string): Promise<InventoryCount[]> {
    const out: InventoryCount[] = [];
    const parts = variationIds.length ? chunk(variationIds, IDS_PER_READ) : [null];
    for (const ids of parts) {
      let cursor: string | undefined;
      do {
        const body: Record<string, unknown> = { location_ids: locationIds, states: ['IN_STOCK'], limit: this.settings.page_size };
        if (ids) body.catalog_object_ids = ids;
        if (updatedAfter) body.updated_after = updatedAfter;
        if (cursor) body.cursor = cursor;
        const res = await this.client.call<{ counts?: InventoryCount[]; cursor?: string }>({
          method: 'POST',
          path: '/v2/inventory/counts/batch-retrieve',
          body,
        });
        out.push(...(res.counts ?? []));
        cursor = res.cursor || undefined;
      } while (cursor);
    }
    return out;
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const locationIds = (await this.locations()).map((l) => l.id!);
    if (!locationIds.length) return;
    let cursor: string | undefined;
    do {
      const q = new URLSearchParams({ types: 'ITEM' });
      if (cursor) q.set('cursor', cursor);
      const res = await this.client.call<{ objects?: CatalogItem[]; cursor?: string }>({ method: 'GET', path: `/v2/catalog/list?${q.toString()}` });
      const variations: Array<{ id: string; sku: string | null; name: string | null }> = [];
      for (const item of res.objects ?? []) {
        if (item.type !== 'ITEM' || item.is_deleted) continue;
        for (const v of item.item_data?.variations ?? []) {
          if (!v.id || v.is_deleted) continue;
          const d = v.item_variation_data ?? {};
          const name = [item.item_data?.name, d.name].filter(Boolean).join(' / ');
          variations.push({ id: v.id, sku: d.sku || null, name: name || null });
        }
      }
      if (variations.length) {
        const counts = new Map<string, InventoryCount>();
        for (const c of await this.counts(
          variations.map((v) => v.id),
          locationIds,
        ))
          counts.set(key(c.catalog_object_id ?? '', c.location_id ?? ''), c);
        const page: RemoteListing[] = [];
        for (const v of variations) {
          for (const loc of locationIds) {
            const c = counts.get(key(v.id, loc));
            // A variation never counted at a location has no count there: it holds none.
            page.push({
              externalId: v.id,
              externalLocationId: loc,
              sku: v.sku,
              name: v.name,
              qty: c ? parseQuantity(c.quantity) : 0,
              version: c?.calculated_at ?? null,
            });
          }
        }
        yield page;
      }
      cursor = res.cursor || undefined;
    } while (cursor);
  }

  private locationOf(ref: Ref): string | null {
    return ref.externalLocationId || this.settings.location_id || null;
  }

  async readListings(refs: Ref[]): Promise<RemoteListing[]> {
    const byLocation = new Map<string, Set<string>>();
    for (const r of refs) {
      const loc = this.locationOf(r);
      if (!loc) continue;
      let s = byLocation.get(loc);
      if (!s) byLocation.set(loc, (s = new Set()));
      s.add(r.externalId);
    }
    const out: RemoteListing[] = [];
    for (const [loc, ids] of byLocation) {
      const found = new Map((await this.counts([...ids], [loc])).map((c) => [c.catalog_object_id ?? '', c]));
      for (const id of ids) {
        const c = found.get(id);
        out.push(c ? countListing(c) : { externalId: id, externalLocationId: loc, sku: null, qty: 0, version: null });
      }
    }
    return out;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const mine = new Map(reqs.map((r) => [r.idempotencyKey, r.listingId]));
    const results = new Map<string, PushResult>();
    const failed = (r: PushRequest, error: string, retryable: boolean) =>
      results.set(r.listingId, { listingId: r.listingId, outcome: 'failed', error, retryable });
    const located: Array<{ req: PushRequest; loc: string }> = [];
    for (const r of reqs) {
      const loc = this.locationOf(r);
      if (!Number.isInteger(r.qty) || r.qty < 0 || r.qty > QUANTITY_LIMIT) failed(r, `quantity ${r.qty} is not a count Square takes`, false);
      else if (!loc) failed(r, `no Square location for ${r.externalId}`, false);
      else located.push({ req: r, loc });
    }
    for (const part of chunk(located, this.capabilities.maxPushBatch)) await this.pushChunk(part, results, mine);
    return reqs.map((r) => results.get(r.listingId) ?? { listingId: r.listingId, outcome: 'failed', error: 'no result from Square', retryable: true });
  }

  private async pushChunk(part: Array<{ req: PushRequest; loc: string }>, results: Map<string, PushResult>, mine: Map<string, string>): Promise<void> {
    // Requests already sent once without an answer: their batches go again as they were.
    const replays = new Set<SentBatch>();
    for (const p of part) {
      const b = unanswered.get(p.req.idempotencyKey);
      if (b) replays.add(b);
    }
    for (const b of replays) await this.send(b, results, mine);
    const fresh = part.filter((p) => !results.has(p.req.listingId));
    if (!fresh.length) return;

    // Square has no compare-and-set: read first, and leave alone any count a sale moved since we
    // last saw it (the engine takes the sale in, then pushes again) instead of counting over it.
    // The count is dated before that read: Square orders changes by occurred_at, so a sale rung up
    // after the read (too late for it to see) comes after our count and stays applied on top.
    const at = new Date().toISOString();
    const now = new Map(
      (await this.readListings(fresh.map((p) => ({ externalId: p.req.externalId, externalLocationId: p.loc })))).map((l) => [
        key(l.externalId, l.externalLocationId ?? ''),
        l,
      ]),
    );
    const send: typeof part = [];
    for (const p of fresh) {
      const remote = now.get(key(p.req.externalId, p.loc));
      if (remote && p.req.known.qty !== null && remote.qty !== p.req.known.qty) {
        results.set(p.req.listingId, { listingId: p.req.listingId, outcome: 'stale', remote });
      } else if (remote && remote.qty === p.req.qty) {
        results.set(p.req.listingId, { listingId: p.req.listingId, outcome: 'ok', qty: p.req.qty, version: remote.version ?? null, unchanged: true });
      } else send.push(p);
    }
    if (!send.length) return;
    const batch: SentBatch = {
      body: {
        idempotency_key: pushKey(send.map((p) => p.req)),
        changes: send.map(({ req, loc }) => ({
          type: 'PHYSICAL_COUNT',
          physical_count: { catalog_object_id: req.externalId, location_id: loc, state: 'IN_STOCK', quantity: String(req.qty), occurred_at: at },
        })),
        // Every count is recorded, even one equal to what Square holds now: a sale that reached
        // Square after our read is then re-sequenced after it, and shows in the answer.
        ignore_unchanged_counts: false,
      },
      reqs: new Map(send.map(({ req, loc }) => [req.idempotencyKey, { externalId: req.externalId, loc, qty: req.qty }])),
    };
    await this.send(batch, results, mine);
  }

  /**
   * One batch-create, sent again at once (same key, same body) while its outcome is unknown: a
   * timeout, a dropped connection, a 5xx, or a 429 after one of those. Square answers a landed one
   * from its memory, so the outcome is learnt before this push returns. Left unknown, the
   * notification of our own count would be applied before the next push learnt it, and read as a
   * sale (a 'levels' channel has no other way to tell it from one). `unknown` says whether an
   * earlier try of this batch may have landed.
   *
   * Known gap: when every resend goes unanswered too, the push fails and a count that did land
   * comes back as a level the Watcher reads as a sale. Holding such levels until a later push got
   * an answer (tried on 2026-12-07) made sales go missing under load in the chaos test and was
   * reverted; the way out is Square's change history (ADJUSTMENT vs our PHYSICAL_COUNT).
   */
  private async sendOnce(batch: SentBatch, unknown: boolean): Promise<{ res: Awaited<ReturnType<SquareClient['raw']>>; unknown: boolean }> {
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= SEND_ATTEMPTS;
      let wait = 100 * attempt;
      try {
        const res = await this.client.raw({ method: 'POST', path: '/v2/inventory/changes/batch-create', body: batch.body });
        if (res.status >= 500) unknown = true;
        else if (res.status !== 429 || !unknown) return { res, unknown };
        if (last) return { res, unknown };
        if (res.status === 429) wait = Math.max(wait, squareChannelError('', 429, res.errors, res.retryAfter).retryAfterMs ?? 500);
      } catch (err) {
        if (!(err instanceof ChannelError) || err.kind !== 'transient' || last) throw err;
        unknown = true;
      }
      await new Promise((r) => setTimeout(r, Math.min(wait, 2000)));
    }
  }

  /**
   * Sends one batch and records the outcome of the listings it carries that this push asked for
   * (`mine`: request key -> listing id; a replayed batch may carry requests of an earlier push too).
   * Without an answer the batch is kept for the next push of the same requests.
   */
  private async send(batch: SentBatch, results: Map<string, PushResult>, mine: Map<string, string>): Promise<void> {
    // A batch kept from an earlier push may have landed then.
    let unknown = [...batch.reqs.keys()].some((k) => unanswered.get(k) === batch);
    for (const k of batch.reqs.keys()) {
      unanswered.set(k, batch);
      if (unanswered.size > UNANSWERED_KEEP) unanswered.delete(unanswered.keys().next().value!);
    }
    const path = '/v2/inventory/changes/batch-create';
    let res: Awaited<ReturnType<SquareClient['raw']>>;
    ({ res, unknown } = await this.sendOnce(batch, unknown));
    if (res.status === 400 && res.errors.some((e) => e.code === 'IDEMPOTENCY_KEY_REUSED')) {
      // The key went out before with another body (a retry from another process, or after a
      // restart): the same counts go again under a key of their own.
      batch.body = { ...batch.body, idempotency_key: pushKey([{ idempotencyKey: batch.body.idempotency_key }, { idempotencyKey: canonicalChanges(batch) }]) };
      ({ res, unknown } = await this.sendOnce(batch, false));
    }
    // Still not known whether it landed: kept for the next push of the same requests.
    if (res.status >= 500 || (res.status === 429 && unknown)) throw squareChannelError(`POST ${path}`, res.status, res.errors, res.retryAfter);
    // An answer (applied, or refused before anything was applied): nothing left to resend.
    for (const k of batch.reqs.keys()) unanswered.delete(k);
    const listed = [...batch.reqs].flatMap(([k, r]) => (mine.has(k) ? [{ listingId: mine.get(k)!, ...r }] : []));
    if (res.status >= 400) {
      const err = squareChannelError(`POST ${path}`, res.status, res.errors, res.retryAfter);
      // The whole call failed: auth and throttling fail the batch (the engine retries it).
      if (err.kind !== 'permanent') throw err;
      for (const r of listed) results.set(r.listingId, { listingId: r.listingId, outcome: 'failed', error: err.message, retryable: false });
      return;
    }
    const answer = res.body as { counts?: InventoryCount[] };
    const counts = new Map(
      (answer.counts ?? []).filter((c) => !c.state || c.state === 'IN_STOCK').map((c) => [key(c.catalog_object_id ?? '', c.location_id ?? ''), c]),
    );
    for (const r of listed) {
      const c = counts.get(key(r.externalId, r.loc));
      const qty = c ? parseQuantity(c.quantity) : null;
      // Square re-sequences changes by occurred_at: a sale that occurred after our count was taken
      // but reached Square before it stays applied on top of it. Then the count holds less than we
      // set, and that difference is a sale: the version is left unset so the notification of this
      // count (newer than anything we saw) moves the ledger instead of being taken as our echo.
      const version = qty === r.qty ? (c?.calculated_at ?? null) : null;
      results.set(r.listingId, { listingId: r.listingId, outcome: 'ok', qty: r.qty, version, written: 1 });
    }
  }

  /**
   * Counts changed since `cursor` (the newest calculated_at seen), as level events under the same
   * ids the webhooks give them. The first poll only takes the cursor: listings were just imported.
   */
  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    const locationIds = (await this.locations()).map((l) => l.id!);
    if (!locationIds.length) return { events: [], cursor };
    // Read a little before the cursor: counts calculated in the same instant as the newest one seen
    // may be committed after our read. What comes twice has the id it had: recorded once.
    const since = cursor === null ? undefined : new Date(Date.parse(cursor) - POLL_OVERLAP_MS).toISOString();
    const counts = await this.counts([], locationIds, since);
    let newest = cursor;
    for (const c of counts) if (c.calculated_at && isNewerTimestamp(c.calculated_at, newest)) newest = c.calculated_at;
    if (cursor === null) return { events: [], cursor: newest ?? new Date(0).toISOString() };
    const events = counts.map((c) => countEvent(c, c.calculated_at ?? cursor)).filter((e): e is InboundEvent => e !== null);
    return { events, cursor: newest };
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    return isNewerTimestamp(a, b);
  }

  async close(): Promise<void> {
    // The shared keep-alive pool in http-client outlives one adapter.
  }
}
