// eBay Sell Inventory API client, stock side. One listing per SKU: externalId = the SKU, the key
// of its inventory item (stable; eBay's listingId changes when a listing is ended and relisted).
// A push sets BOTH quantities eBay keeps, in one bulkUpdatePriceQuantity call per 25 SKUs: the
// item's shipToLocationAvailability.quantity and each published offer's availableQuantity, since
// the listing shows the smaller of the two (channel-apis.md section 7; bulk-updates page).
// Sales are read from the Fulfillment API's getOrders (pollEvents) and pushed as
// ORDER_CONFIRMATION notifications (webhook.ts); both give the same `order:<orderId>` event id.
import { chunk } from '../adapter-kit.ts';
import {
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelConnection,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { EbayCatalog } from './catalog.ts';
import { describeErrors, EbaySession, type EbayErrorDetail } from './client.ts';
import type { EbaySettings } from './settings.ts';

export const EBAY_CAPABILITIES: ChannelCapabilities = {
  catalog: true,
  quantityModel: 'absolute',
  compareAndSet: false,
  // ORDER_CONFIRMATION / getOrders are the sales; there is no level notification to confirm with.
  defaultSalesSource: 'orders',
  webhooks: true,
  pollable: true,
  // Documented: bulkUpdatePriceQuantity takes up to 25 requests.
  maxPushBatch: 25,
  // GUESS: eBay documents daily call limits per application (Inventory API in the millions a day),
  // not a per-second rate; this bucket keeps one seller's bursts modest.
  rateLimit: { perSecond: 10, burst: 25 },
  callsPerPush: 1,
};

const INV = '/sell/inventory/v1';
const PAGE = 100; // documented maximum limit of getInventoryItems
/** GUESS: no errorId is documented for the 251st revision of a day; 25019 "Cannot revise listing" is the closest one. */
const REVISION_LIMIT = 25019;
/** Offer ids per SKU change rarely (publish, withdraw); re-read them after this long. */
const OFFER_CACHE_MS = 10 * 60_000;

interface ApiItem {
  sku: string;
  product?: { title?: string };
  availability?: { shipToLocationAvailability?: { quantity?: number } };
}

interface ApiOffer {
  offerId: string;
  sku: string;
  marketplaceId?: string;
  status?: string;
  availableQuantity?: number;
  listing?: { listingId?: string };
}

export interface ApiOrder {
  orderId: string;
  creationDate: string;
  lastModifiedDate: string;
  cancelStatus?: { cancelState?: string };
  lineItems?: Array<{ sku?: string; quantity?: number; legacyItemId?: string }>;
}

function toListing(it: ApiItem): RemoteListing {
  const q = it.availability?.shipToLocationAvailability?.quantity;
  return { externalId: it.sku, sku: it.sku, name: it.product?.title ?? null, qty: typeof q === 'number' ? q : 0, version: null };
}

/** An order as the Watcher applies it: the id is the order's, whoever (poll or notification) saw it. */
export function orderEvents(o: ApiOrder): InboundEvent[] {
  const lines = (o.lineItems ?? []).map((l) => ({ externalId: l.sku ?? null, sku: l.sku ?? null, qty: l.quantity ?? 0 }));
  const sale: InboundEvent = { kind: 'order', externalEventId: `order:${o.orderId}`, occurredAt: o.creationDate, effect: 'sale', orderId: o.orderId, lines };
  // Documented cancelState CANCELED: the units come back. (The emulator does not model cancellations.)
  if (o.cancelStatus?.cancelState === 'CANCELED') {
    return [sale, { ...sale, externalEventId: `cancel:${o.orderId}`, occurredAt: o.lastModifiedDate, effect: 'cancel' }];
  }
  return [sale];
}

/** Poll cursor: the newest lastModifiedDate seen and the orders seen at exactly that instant. */
interface Cursor {
  t: string;
  ids: string[];
}
const DAY = 86_400_000;

function readCursor(raw: string): Cursor {
  try {
    const c = JSON.parse(raw) as Cursor;
    if (typeof c.t === 'string' && Number.isFinite(Date.parse(c.t)) && Array.isArray(c.ids)) return c;
  } catch {
    /* below */
  }
  // An old or foreign cursor: an instant alone.
  return { t: Number.isFinite(Date.parse(raw)) ? new Date(raw).toISOString() : new Date().toISOString(), ids: [] };
}

export class EbayAdapter implements ChannelAdapter {
  readonly type = 'ebay';
  readonly capabilities = EBAY_CAPABILITIES;
  readonly catalog: EbayCatalog;
  private readonly session: EbaySession;
  private readonly offers = new Map<string, { ids: string[]; at: number }>();
  private readonly conn: ChannelConnection<EbaySettings>;

  constructor(conn: ChannelConnection<EbaySettings>) {
    this.conn = conn;
    this.session = new EbaySession(conn.baseUrl, conn.credentials, conn.settings.request_timeout_ms, conn.saveCredentials);
    this.catalog = new EbayCatalog(this.session, conn.settings);
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    await this.session.call({ method: 'GET', url: `${INV}/inventory_item?limit=1&offset=0` });
    return { ok: true, account: this.conn.credentials.client_id ?? 'ebay' };
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    // Documented: offset is the page number; `next` is the following page's absolute href.
    let url: string | null = `${INV}/inventory_item?limit=${PAGE}&offset=0`;
    while (url) {
      const { body } = await this.session.call({ method: 'GET', url });
      const page = body as { inventoryItems?: ApiItem[]; next?: string };
      yield (page.inventoryItems ?? []).map(toListing);
      url = page.next ? this.onBase(page.next) : null;
    }
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const out: RemoteListing[] = [];
    for (const part of chunk([...new Set(refs.map((r) => r.externalId))], 25)) {
      const { body } = await this.session.call({
        method: 'POST',
        url: `${INV}/bulk_get_inventory_item`,
        body: { requests: part.map((sku) => ({ sku })) },
        okStatuses: [207],
      });
      for (const r of (body as { responses?: Array<{ statusCode: number; inventoryItem?: ApiItem }> }).responses ?? []) {
        if (r.statusCode === 200 && r.inventoryItem) out.push(toListing(r.inventoryItem));
      }
    }
    return out;
  }

  /** The SKU's published offers on any marketplace (only published ones take availableQuantity in a bulk update), cached. */
  private async offerIds(sku: string): Promise<string[]> {
    const hit = this.offers.get(sku);
    if (hit && Date.now() - hit.at < OFFER_CACHE_MS) return hit.ids;
    const { status, body } = await this.session.call({
      method: 'GET',
      // Every marketplace's offer: the item's quantity is shared by all of them, each offer caps its own listing.
      url: `${INV}/offer?sku=${encodeURIComponent(sku)}`,
      okStatuses: [404],
    });
    // 404: the SKU has no offer (not listed): only its item quantity is set.
    const offers = status === 404 ? [] : ((body as { offers?: ApiOffer[] }).offers ?? []);
    const ids = offers.filter((o) => o.status === 'PUBLISHED').map((o) => o.offerId);
    this.offers.set(sku, { ids, at: Date.now() });
    return ids;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results = new Map<string, PushResult>();
    const valid: PushRequest[] = [];
    for (const r of reqs) {
      if (!Number.isInteger(r.qty) || r.qty < 0)
        results.set(r.listingId, { listingId: r.listingId, outcome: 'failed', error: `quantity ${r.qty} is not a whole number >= 0`, retryable: false });
      else valid.push(r);
    }
    // One entry per SKU in a call (documented); a repeated SKU keeps its last value.
    const bySku = new Map<string, PushRequest[]>();
    for (const r of valid) bySku.set(r.externalId, [...(bySku.get(r.externalId) ?? []), r]);
    for (const part of chunk([...bySku.keys()], EBAY_CAPABILITIES.maxPushBatch)) {
      const entries = [];
      for (const sku of part) {
        const qty = bySku.get(sku)!.at(-1)!.qty;
        const offerIds = await this.offerIds(sku);
        entries.push({
          sku,
          shipToLocationAvailability: { quantity: qty },
          ...(offerIds.length ? { offers: offerIds.map((offerId) => ({ offerId, availableQuantity: qty })) } : {}),
        });
      }
      const { body } = await this.session.call({ method: 'POST', url: `${INV}/bulk_update_price_quantity`, body: { requests: entries }, okStatuses: [207] });
      const responses = (body as { responses?: Array<{ sku?: string; offerId?: string; statusCode?: number; errors?: EbayErrorDetail[] }> }).responses ?? [];
      for (const e of entries) {
        const mine = responses.filter((r) => r.sku === e.sku);
        const bad = mine.filter((r) => r.statusCode !== 200);
        for (const r of bySku.get(e.sku)!) {
          if (mine.length > 0 && bad.length === 0) {
            results.set(r.listingId, { listingId: r.listingId, outcome: 'ok', qty: e.shipToLocationAvailability.quantity, version: null });
            continue;
          }
          const errors = bad.flatMap((b) => b.errors ?? []);
          if (errors.some((x) => x.errorId === REVISION_LIMIT)) {
            results.set(r.listingId, {
              listingId: r.listingId,
              outcome: 'failed',
              error: `eBay allows 250 revisions of a listing per calendar day and SKU ${e.sku}'s listing has had them; it can be changed again tomorrow (${describeErrors(errors, 'revision limit')})`,
              retryable: false,
            });
            continue;
          }
          // An offer we had cached was withdrawn or replaced: read the offers again next time.
          this.offers.delete(e.sku);
          const stale = errors.some((x) => x.errorId === 25713);
          results.set(r.listingId, {
            listingId: r.listingId,
            outcome: 'failed',
            error: mine.length ? `eBay refused SKU ${e.sku}: ${describeErrors(errors, `status ${bad[0]?.statusCode}`)}` : `no answer for SKU ${e.sku}`,
            retryable: stale || mine.length === 0 || bad.some((b) => (b.statusCode ?? 500) >= 500),
          });
        }
      }
    }
    return reqs.map((r) => results.get(r.listingId) ?? { listingId: r.listingId, outcome: 'failed', error: 'no result from eBay', retryable: true });
  }

  /**
   * Orders modified since the cursor (Fulfillment getOrders, filter lastmodifieddate, oldest
   * first). A null cursor starts now: nothing before the connection is replayed. Orders seen at the
   * cursor's exact instant are remembered in it, so none is emitted twice and none skipped.
   */
  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    if (cursor === null) return { events: [], cursor: JSON.stringify({ t: new Date().toISOString(), ids: [] } satisfies Cursor) };
    const c = readCursor(cursor);
    // Documented: the filter reaches back 90 days at most.
    const floor = Date.now() - 90 * DAY + 60_000;
    const from = Date.parse(c.t) < floor ? new Date(floor).toISOString() : c.t;
    const filter = `lastmodifieddate:[${from}..]`;
    const orders: ApiOrder[] = [];
    for (let offset = 0; ;) {
      const { body } = await this.session.call({
        method: 'GET',
        url: `/sell/fulfillment/v1/order?filter=${encodeURIComponent(filter)}&limit=200&offset=${offset}`,
      });
      const page = body as { orders?: ApiOrder[]; total?: number };
      orders.push(...(page.orders ?? []));
      offset += page.orders?.length ?? 0;
      if (!page.orders?.length || offset >= (page.total ?? 0)) break;
    }
    const seen = new Set(c.ids);
    const fresh = orders.filter((o) => !(o.lastModifiedDate === c.t && seen.has(o.orderId)));
    let next: Cursor = c;
    for (const o of fresh) {
      if (Date.parse(o.lastModifiedDate) > Date.parse(next.t)) next = { t: o.lastModifiedDate, ids: [o.orderId] };
      else if (o.lastModifiedDate === next.t) next = { t: next.t, ids: [...new Set([...next.ids, o.orderId])] };
    }
    return { events: fresh.flatMap(orderEvents), cursor: JSON.stringify(next) };
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    // eBay's inventory items carry no version; nothing orders two reads of one.
    return a !== null && a !== undefined && (b === null || b === undefined);
  }

  async close(): Promise<void> {
    // The shared keep-alive pool in http-client outlives one adapter.
  }

  /** eBay's absolute hrefs, taken onto the connection's base (the same host in production). */
  private onBase(href: string): string {
    const u = new URL(href, this.session.base);
    return `${u.pathname}${u.search}`;
  }
}
