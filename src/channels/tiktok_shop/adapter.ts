// TikTok Shop stock side: SKUs listed through Search Products, read through Get Product, written
// with inventory/update per product (every SKU of the product in one call, quantity per warehouse,
// absolute), and sales polled from Search Orders by update time. Publishing: catalog.ts.
import { chunk } from '../adapter-kit.ts';
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelConnection,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { TiktokShopCatalog } from './catalog.ts';
import { envelopeOf, TiktokShopClient } from './client.ts';
import { listingId, orderEvent, parseListingId, TIKTOK_SHOP_CAPABILITIES, type ApiOrder, type ApiProduct } from './model.ts';
import type { TiktokShopSettings } from './settings.ts';

const PAGE_SIZE = 50;
/** Pages of orders one poll reads at most; the cursor resumes where it stopped. */
const MAX_POLL_PAGES = 5;

/**
 * Poll cursor: orders updated at or after `t` (unix s) are read; `seen` = `<id>@<status>` of the
 * orders at second `t` already read. `start`: orders created before it were history when polling began (a later
 * status change of one is not a new sale); `before`: ids created in second `start` that were.
 */
interface PollCursor {
  t: number;
  seen: string[];
  start: number;
  before: string[];
}

export class TiktokShopAdapter implements ChannelAdapter {
  readonly type = 'tiktok_shop';
  readonly capabilities = TIKTOK_SHOP_CAPABILITIES;
  readonly client: TiktokShopClient;
  readonly catalog: TiktokShopCatalog;
  private readonly warehouse: string | null;

  constructor(conn: ChannelConnection<TiktokShopSettings>, now?: () => number) {
    this.client = new TiktokShopClient(conn, now);
    this.catalog = new TiktokShopCatalog(this.client, conn.settings);
    this.warehouse = conn.settings.warehouse_id ?? null;
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    return { ok: true, account: await this.client.shopLabel() };
  }

  private listingsOf(p: ApiProduct): RemoteListing[] {
    return (p.skus ?? []).map((s) => {
      const inv = s.inventory ?? [];
      const wh = this.warehouse ?? inv[0]?.warehouse_id ?? null;
      const at = inv.find((i) => i.warehouse_id === wh);
      return {
        externalId: listingId(p.id, s.id),
        externalLocationId: wh,
        sku: s.seller_sku || null,
        name: p.title ?? null,
        qty: at ? at.quantity : wh === null ? null : 0,
        version: p.update_time === undefined ? null : String(p.update_time),
      };
    });
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    let token = '';
    do {
      const q: Record<string, string> = { page_size: String(PAGE_SIZE) };
      if (token) q.page_token = token;
      const d = await this.client.data<{ products?: ApiProduct[]; next_page_token?: string }>({
        method: 'POST',
        path: '/product/202309/products/search',
        query: q,
        body: { status: 'ALL' },
      });
      yield (d.products ?? []).flatMap((p) => this.listingsOf(p));
      token = d.next_page_token ?? '';
    } while (token);
  }

  private async product(productId: string): Promise<ApiProduct | null> {
    const res = await this.client.call({ method: 'GET', path: `/product/202309/products/${productId}` });
    if (res.status === 404) return null;
    const env = envelopeOf(res);
    if (res.status >= 300 || env.code !== 0)
      throw new ChannelError('permanent', `GET product ${productId} -> ${res.status}: ${env.message}`, { status: res.status });
    return res.json<{ data: ApiProduct }>().data;
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const byProduct = new Map<string, string[]>();
    for (const r of refs) {
      const id = parseListingId(r.externalId);
      if (id) byProduct.set(id.productId, [...(byProduct.get(id.productId) ?? []), r.externalId]);
    }
    const out: RemoteListing[] = [];
    for (const [productId, wanted] of byProduct) {
      const p = await this.product(productId);
      if (p) out.push(...this.listingsOf(p).filter((l) => wanted.includes(l.externalId)));
    }
    return out;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: PushResult[] = [];
    const byProduct = new Map<string, PushRequest[]>();
    for (const r of reqs) {
      const id = parseListingId(r.externalId);
      const wh = this.warehouse ?? r.externalLocationId ?? null;
      if (!id) results.push({ listingId: r.listingId, outcome: 'failed', error: `not a TikTok Shop SKU id: ${r.externalId}`, retryable: false });
      else if (!wh) results.push({ listingId: r.listingId, outcome: 'failed', error: "no warehouse: set the channel's warehouse id", retryable: false });
      else byProduct.set(id.productId, [...(byProduct.get(id.productId) ?? []), r]);
    }
    let wroteAny = false;
    let halted: ChannelError | null = null;
    const retryLater = (part: PushRequest[], err: ChannelError) =>
      part.forEach((r) => results.push({ listingId: r.listingId, outcome: 'failed', error: err.message, retryable: err.kind !== 'permanent' }));
    for (const [productId, group] of byProduct) {
      for (const part of chunk(group, 100)) {
        if (halted) {
          retryLater(part, halted);
          continue;
        }
        const skus = part.map((r) => ({
          id: parseListingId(r.externalId)!.skuId,
          inventory: [{ warehouse_id: this.warehouse ?? r.externalLocationId!, quantity: Math.max(0, r.qty) }],
        }));
        let res: Awaited<ReturnType<TiktokShopClient['call']>>;
        try {
          res = await this.client.call({ method: 'POST', path: `/product/202309/products/${productId}/inventory/update`, body: { skus } });
        } catch (err) {
          // Nothing written yet: the whole push failed (the engine retries it, or raises the auth
          // alert). Products already written are kept as done and the rest retried, so a batch
          // interrupted part-way (a 429 on its tenth product) still makes progress.
          if (!(err instanceof ChannelError) || !wroteAny || err.kind === 'auth') throw err;
          halted = err;
          retryLater(part, err);
          continue;
        }
        wroteAny = true;
        const env = envelopeOf(res);
        const done = res.status < 300 && env.code === 0;
        for (const r of part)
          results.push(
            done
              ? { listingId: r.listingId, outcome: 'ok', qty: Math.max(0, r.qty), version: null, written: 1 }
              : { listingId: r.listingId, outcome: 'failed', error: `inventory update -> ${res.status} (${env.code}): ${env.message}`, retryable: false },
          );
      }
    }
    return results;
  }

  /** One inventory/update per product (its SKUs together, up to 100). */
  pushCalls(reqs: Array<{ externalId: string }>): number {
    const products = new Map<string, number>();
    for (const r of reqs) {
      const id = parseListingId(r.externalId);
      if (id) products.set(id.productId, (products.get(id.productId) ?? 0) + 1);
    }
    let calls = 0;
    for (const n of products.values()) calls += Math.ceil(n / 100);
    return Math.max(1, calls);
  }

  private async orders(body: Record<string, unknown>, sort: 'ASC' | 'DESC', pageToken: string): Promise<{ orders: ApiOrder[]; next: string }> {
    const q: Record<string, string> = { page_size: String(PAGE_SIZE), sort_field: 'update_time', sort_order: sort };
    if (pageToken) q.page_token = pageToken;
    const d = await this.client.data<{ orders?: ApiOrder[]; next_page_token?: string }>({
      method: 'POST',
      path: '/order/202309/orders/search',
      query: q,
      body,
    });
    return { orders: d.orders ?? [], next: d.next_page_token ?? '' };
  }

  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    if (cursor === null) {
      // Orders that exist now are history: start after the newest one (an empty shop: from the beginning).
      const { orders } = await this.orders({}, 'DESC', '');
      if (orders.length === 0) return { events: [], cursor: JSON.stringify({ t: 0, seen: [], start: 0, before: [] } satisfies PollCursor) };
      const t = Math.max(...orders.map((o) => o.update_time));
      const start = Math.max(...orders.map((o) => o.create_time));
      return {
        events: [],
        cursor: JSON.stringify({
          t,
          seen: orders.filter((o) => o.update_time === t).map((o) => `${o.id}@${o.status}`),
          start,
          before: orders.filter((o) => o.create_time === start).map((o) => o.id),
        } satisfies PollCursor),
      };
    }
    const from = JSON.parse(cursor) as PollCursor;
    const history = (o: ApiOrder) => o.create_time < from.start || (o.create_time === from.start && from.before.includes(o.id));
    let t = from.t;
    let seen = new Set(from.seen);
    const events: InboundEvent[] = [];
    let token = '';
    for (let page = 0; page < MAX_POLL_PAGES; page++) {
      const res = await this.orders({ update_time_ge: from.t }, 'ASC', token);
      for (const o of res.orders) {
        // An order is new again whenever its status moves on (unpaid -> paid in the same second too).
        const key = `${o.id}@${o.status}`;
        if (o.update_time < t || seen.has(key)) continue;
        if (o.update_time > t) {
          t = o.update_time;
          seen = new Set();
        }
        seen.add(key);
        const e = history(o) ? null : orderEvent(o);
        if (e) events.push(e);
      }
      token = res.next;
      if (!token) break;
    }
    return { events, cursor: JSON.stringify({ t, seen: [...seen], start: from.start, before: from.before } satisfies PollCursor) };
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    return Number(a ?? 0) > Number(b ?? 0);
  }

  async close(): Promise<void> {}
}
