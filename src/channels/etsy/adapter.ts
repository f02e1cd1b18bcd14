// Etsy Open API v3, stock side. One StockClerk listing per variant: externalId `<listing_id>:<sku>`
// (model.ts says why product ids cannot be used), sku = the variant's SKU. Credentials, token
// renewal and error mapping: client.ts. Settings: settings.ts.
//
// A push is read-then-write per Etsy listing: GET its inventory, set the quantity of the products
// carrying each pushed SKU, PUT the whole set back otherwise unchanged (updateListingInventory
// replaces every product: one left out is deleted; read-only fields and Money prices are refused).
// Variants of one listing pushed together share the GET and the PUT. A listing already holding
// every pushed value is not written at all (`unchanged`). The write is absolute, so a retry after a
// timeout is safe; a sale between our GET and PUT is overwritten on Etsy but still arrives as a
// receipt (pollEvents) and moves the ledger, and the next push converges.
//
// Sales: Etsy has no webhooks, so the Watcher polls getShopReceipts by min_last_modified.
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelConnection,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { EtsyCatalog } from './catalog.ts';
import { EtsyClient, etsyErrorText } from './client.ts';
import {
  ETSY_CAPABILITIES,
  MAX_QUANTITY,
  groupKey,
  offeringOf,
  PAGE_LIMIT,
  liveProducts,
  parseVariantId,
  skuQuantity,
  variantId,
  writableInventory,
  type EtsyInventory,
  type EtsyListing,
  type EtsyProduct,
  type EtsyReceipt,
} from './model.ts';
import type { EtsySettings } from './settings.ts';

/** Listing states that hold stock worth tracking (drafts are not for sale yet). */
const STOCK_STATES = ['active', 'sold_out', 'inactive', 'expired'] as const;
/** Pages of receipts one poll reads at most; the cursor resumes where it stopped. */
const MAX_POLL_PAGES = 5;
/** OAS minimum of the receipt time filters (2000-01-01): "from the beginning". */
const EPOCH_FLOOR = 946_684_800;

/**
 * Poll cursor: receipts modified at or after `t` (unix s) are read; `seen` = event ids already
 * emitted for second `t`. `start` = when watching began (Etsy's clock): a receipt created before it
 * (or in that second and listed in `before`) was counted by the import, so when it comes back
 * modified (shipped, paid) its sale is not applied again; only a cancellation of it is news.
 */
interface PollCursor {
  t: number;
  seen: string[];
  start: number;
  before: number[];
}

export class EtsyAdapter implements ChannelAdapter {
  readonly type = 'etsy';
  readonly capabilities = ETSY_CAPABILITIES;
  readonly client: EtsyClient;
  readonly catalog: EtsyCatalog;
  private readonly shopSetting: string | null;

  constructor(conn: ChannelConnection<EtsySettings>, now: () => number = Date.now) {
    this.client = new EtsyClient(conn, now);
    this.catalog = new EtsyCatalog(this.client, conn.settings);
    this.shopSetting = conn.settings.shop_id === undefined ? null : String(conn.settings.shop_id);
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    const me = await this.client.json<{ user_id?: number; shop_id?: number | null }>({ method: 'GET', url: '/users/me' });
    if (!me?.shop_id) throw new ChannelError('permanent', 'The connected Etsy account has no shop');
    if (this.shopSetting !== null && this.shopSetting !== String(me.shop_id)) {
      throw new ChannelError('permanent', `settings.shop_id ${this.shopSetting} is not the connected seller's shop (${me.shop_id})`);
    }
    return { ok: true, account: `Etsy shop ${me.shop_id} (user ${me.user_id ?? '?'})` };
  }

  private inventory(listingId: number): Promise<EtsyInventory> {
    return this.client.json<EtsyInventory>({ method: 'GET', url: `/listings/${listingId}/inventory` });
  }

  /** One RemoteListing per SKU on the listing. Products without a SKU are tracked only when alone (`<listing_id>:`). */
  private rows(listingId: number, inv: EtsyInventory, name: string | null, version: string | null): RemoteListing[] {
    const products = liveProducts(inv);
    const skus = [...new Set(products.map((p) => p.sku ?? ''))].filter((s) => s !== '' || products.length === 1);
    return skus.map((sku) => ({ externalId: variantId(listingId, sku), sku: sku || null, name, qty: skuQuantity(inv, sku), version }));
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const shop = await this.client.shop();
    for (const state of STOCK_STATES) {
      for (let offset = 0; ; offset += PAGE_LIMIT) {
        const page = await this.client.json<{ count: number; results: EtsyListing[] }>({
          method: 'GET',
          url: `/shops/${shop}/listings?state=${state}&limit=${PAGE_LIMIT}&offset=${offset}&includes=Inventory`,
        });
        const results = page?.results ?? [];
        const out: RemoteListing[] = [];
        for (const l of results) {
          const inv = l.inventory ?? (await this.inventory(l.listing_id));
          out.push(...this.rows(l.listing_id, inv, l.title ?? null, versionOf(l)));
        }
        if (out.length) yield out;
        if (results.length < PAGE_LIMIT || offset + PAGE_LIMIT >= (page?.count ?? 0)) break;
      }
    }
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const byListing = new Map<number, Set<string>>();
    for (const ref of refs) {
      const id = parseVariantId(ref.externalId);
      if (!id) continue; // not an Etsy variant id: cannot exist there
      byListing.set(id.listingId, (byListing.get(id.listingId) ?? new Set()).add(id.sku));
    }
    const out: RemoteListing[] = [];
    for (const [listingId, skus] of byListing) {
      const res = await this.client.call({ method: 'GET', url: `/listings/${listingId}/inventory` });
      if (res.status === 404) continue;
      if (res.status >= 300) throw new ChannelError('permanent', `GET /listings/${listingId}/inventory -> ${res.status}: ${etsyErrorText(res)}`);
      const inv = res.json<EtsyInventory>();
      out.push(...this.rows(listingId, inv, null, null).filter((r) => skus.has(r.sku ?? '')));
    }
    return out;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: Array<PushResult | undefined> = new Array(reqs.length);
    const failed = (i: number, error: string, retryable = false) => (results[i] = { listingId: reqs[i]!.listingId, outcome: 'failed', error, retryable });
    // listing id -> sku -> index of the last request for it (an earlier one in the same batch is superseded).
    const byListing = new Map<number, Map<string, number>>();
    for (const [i, req] of reqs.entries()) {
      const id = parseVariantId(req.externalId);
      if (!id) failed(i, `not an Etsy variant id (<listing_id>:<sku>): ${req.externalId}`);
      else if (!Number.isInteger(req.qty) || req.qty < 0) failed(i, `quantity must be a whole number >= 0, got ${req.qty}`);
      else {
        const skus = byListing.get(id.listingId) ?? new Map<string, number>();
        const prev = skus.get(id.sku);
        if (prev !== undefined) failed(prev, 'superseded by a later push for the same listing in this batch');
        skus.set(id.sku, i);
        byListing.set(id.listingId, skus);
      }
    }
    let wroteAny = false;
    for (const [listingId, skus] of byListing) {
      try {
        wroteAny = (await this.pushListing(listingId, skus, reqs, results, failed)) || wroteAny;
      } catch (err) {
        if (!(err instanceof ChannelError)) throw err;
        // Nothing written yet: the whole call failed (the engine retries it, or raises the auth alert).
        if (!wroteAny && err.kind !== 'permanent') throw err;
        for (const i of skus.values()) failed(i, err.message, err.kind !== 'permanent');
      }
    }
    return results.map((r, i) => r ?? failed(i, 'not processed'));
  }

  /** GET, set, PUT one listing; true when it wrote. */
  private async pushListing(
    listingId: number,
    skus: Map<string, number>,
    reqs: PushRequest[],
    results: Array<PushResult | undefined>,
    failed: (i: number, error: string, retryable?: boolean) => void,
  ): Promise<boolean> {
    const res = await this.client.call({ method: 'GET', url: `/listings/${listingId}/inventory` });
    if (res.status === 404) {
      for (const i of skus.values()) failed(i, `Etsy listing ${listingId} no longer exists`);
      return false;
    }
    if (res.status >= 300) throw new ChannelError('permanent', `GET /listings/${listingId}/inventory -> ${res.status}: ${etsyErrorText(res)}`);
    const inv = res.json<EtsyInventory>();
    const target = new Map<string, number>();
    const changed = new Set<string>();
    for (const [sku, i] of skus) {
      const current = skuQuantity(inv, sku);
      if (current === null) {
        failed(i, `Etsy listing ${listingId} has no variation with SKU ${JSON.stringify(sku)}`);
        continue;
      }
      // GUESS: Etsy's ceiling per offering (999); more is offered as 999.
      const qty = Math.min(reqs[i]!.qty, MAX_QUANTITY);
      if (skuSpansGroups(inv, sku)) {
        failed(i, `SKU ${sku} covers several separately stocked variations on Etsy listing ${listingId}: give each its own SKU`);
        continue;
      }
      target.set(sku, qty);
      if (current !== qty) changed.add(sku);
      results[i] = { listingId: reqs[i]!.listingId, outcome: 'ok', qty, version: null, ...(current === qty ? { unchanged: true as const } : {}) };
    }
    if (changed.size === 0) return false;
    const quantityOf = (p: EtsyProduct) => target.get(p.sku ?? '') ?? offeringOf(p)?.quantity ?? 0;
    const body = writableInventory(inv, quantityOf);
    // Products sharing a quantity (quantity_on_property leaves them in one group) must keep one
    // value: when SKUs of one group now differ, let the quantity vary by what the SKU varies by.
    const groups = new Map<string, number>();
    const onQty = inv.quantity_on_property ?? [];
    const split = liveProducts(inv).some((p) => {
      const k = groupKey(p, onQty);
      const q = quantityOf(p);
      if (groups.has(k) && groups.get(k) !== q) return true;
      groups.set(k, q);
      return false;
    });
    if (split) {
      const props = [...new Set(liveProducts(inv).flatMap((p) => p.property_values.map((v) => v.property_id)))];
      body.quantity_on_property = (inv.sku_on_property ?? []).length ? inv.sku_on_property : props;
    }
    const put = await this.client.call({ method: 'PUT', url: `/listings/${listingId}/inventory`, body });
    if (put.status >= 300) {
      const why = `updateListingInventory ${listingId} -> ${put.status}: ${etsyErrorText(put)}`;
      // Those already holding their value stay `unchanged`; the rest were not written.
      for (const [sku, i] of skus) if (changed.has(sku)) failed(i, why);
      return false;
    }
    return true;
  }

  /**
   * Receipts modified since the cursor, one order event per receipt (`receipt:<receipt_id>`); a
   * cancelled or fully refunded receipt also gives its units back (`receipt:<id>:cancel`). The
   * lower bound is inclusive and the cursor keeps the event ids already emitted in its second, so
   * a receipt modified in that same second after the poll is not skipped, and none is emitted twice.
   * A null cursor starts at the newest receipt without replaying any (the import already counted them).
   */
  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    const shop = await this.client.shop();
    const url = (q: string) => `/shops/${shop}/receipts?${q}`;
    if (cursor === null) {
      const newest = await this.client.json<{ results: EtsyReceipt[] }>({ method: 'GET', url: url(`sort_on=updated&sort_order=desc&limit=${PAGE_LIMIT}`) });
      const list = newest?.results ?? [];
      // An empty shop: every receipt to come is new, so start from the beginning (no clock to trust).
      if (list.length === 0) return { events: [], cursor: JSON.stringify({ t: EPOCH_FLOOR, seen: [], start: EPOCH_FLOOR, before: [] } satisfies PollCursor) };
      const t = Math.max(...list.map(updatedOf));
      const seen = list.filter((r) => updatedOf(r) === t).flatMap((r) => receiptEvents(r).map((e) => e.externalEventId));
      // Every receipt that exists now was created at or before t; those created in second t are listed.
      const before = list.filter((r) => createdOf(r) === t).map((r) => r.receipt_id);
      return { events: [], cursor: JSON.stringify({ t, seen, start: t, before } satisfies PollCursor) };
    }
    const from = readCursor(cursor);
    const counted = (r: EtsyReceipt) => createdOf(r) < from.start || (createdOf(r) === from.start && from.before.includes(r.receipt_id));
    let t = from.t;
    let seen = new Set(from.seen);
    const events: InboundEvent[] = [];
    for (let page = 0; page < MAX_POLL_PAGES; page++) {
      const res = await this.client.json<{ count: number; results: EtsyReceipt[] }>({
        method: 'GET',
        url: url(`min_last_modified=${from.t}&sort_on=updated&sort_order=asc&limit=${PAGE_LIMIT}&offset=${page * PAGE_LIMIT}`),
      });
      const list = res?.results ?? [];
      for (const r of list) {
        const u = updatedOf(r);
        if (u < t) continue; // an overlap already moved past
        if (u > t) {
          t = u;
          seen = new Set();
        }
        for (const e of receiptEvents(r)) {
          if (seen.has(e.externalEventId)) continue;
          if (e.kind === 'order' && e.effect === 'sale' && counted(r)) continue;
          seen.add(e.externalEventId);
          events.push(e);
        }
      }
      if (list.length < PAGE_LIMIT) break;
    }
    return { events, cursor: JSON.stringify({ t, seen: [...seen], start: from.start, before: from.before } satisfies PollCursor) };
  }

  /** Versions are Etsy's last_modified_timestamp (unix seconds). */
  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    if (a === null || a === undefined) return false;
    if (b === null || b === undefined) return true;
    return Number(a) > Number(b);
  }

  async close(): Promise<void> {}
}

function skuSpansGroups(inv: EtsyInventory, sku: string): boolean {
  const on = inv.quantity_on_property ?? [];
  const keys = new Set(
    liveProducts(inv)
      .filter((p) => (p.sku ?? '') === sku)
      .map((p) => on.map((id) => p.property_values.find((v) => v.property_id === id)?.values.join('|') ?? '').join(';')),
  );
  return keys.size > 1;
}

function versionOf(l: EtsyListing): string | null {
  const t = l.last_modified_timestamp ?? l.updated_timestamp;
  return typeof t === 'number' ? String(t) : null;
}

const createdOf = (r: EtsyReceipt): number => r.created_timestamp ?? r.create_timestamp ?? 0;
const updatedOf = (r: EtsyReceipt): number => r.updated_timestamp ?? r.update_timestamp ?? r.created_timestamp ?? r.create_timestamp ?? 0;

function readCursor(cursor: string): PollCursor {
  try {
    const c = JSON.parse(cursor) as Partial<PollCursor>;
    if (typeof c.t === 'number' && Number.isInteger(c.t) && Array.isArray(c.seen)) {
      return {
        t: Math.max(c.t, EPOCH_FLOOR),
        seen: c.seen.map(String),
        start: typeof c.start === 'number' ? c.start : EPOCH_FLOOR,
        before: Array.isArray(c.before) ? c.before.map(Number) : [],
      };
    }
  } catch {
    /* below */
  }
  throw new ChannelError('permanent', `bad Etsy poll cursor ${cursor.slice(0, 100)}`);
}

/** Receipt statuses that give the units back. Etsy's OAS lists: paid, completed, open, payment processing, canceled, fully refunded, partially refunded. */
const CANCELLED = new Set(['canceled', 'cancelled', 'fully refunded']);

/** A receipt as order events: its sale (every receipt: Etsy takes the stock at checkout), and its cancellation if cancelled. */
export function receiptEvents(r: EtsyReceipt): InboundEvent[] {
  const created = r.created_timestamp ?? r.create_timestamp ?? updatedOf(r);
  const lines = (r.transactions ?? [])
    .filter((t) => t.quantity > 0)
    .map((t) => ({ externalId: variantId(t.listing_id, t.sku ?? ''), sku: t.sku || null, qty: t.quantity }));
  if (lines.length === 0) return [];
  const base = { kind: 'order' as const, orderId: String(r.receipt_id), lines };
  const events: InboundEvent[] = [{ ...base, externalEventId: `receipt:${r.receipt_id}`, occurredAt: new Date(created * 1000).toISOString(), effect: 'sale' }];
  if (CANCELLED.has((r.status ?? '').toLowerCase())) {
    events.push({ ...base, externalEventId: `receipt:${r.receipt_id}:cancel`, occurredAt: new Date(updatedOf(r) * 1000).toISOString(), effect: 'cancel' });
  }
  return events;
}
