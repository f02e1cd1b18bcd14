// Shopee Open Platform v2, stock side. One StockClerk listing per model (model.ts names them);
// signing, token renewal and error mapping are client.ts.
//
// A push is one update_stock per item (the call takes one item_id), carrying every model of that
// item pushed together, as absolute seller_stock: a retry after a timeout is safe.
// Sales: orders. Pushes (webhook.ts) only say an order changed; the order itself is read through
// the API, and the Watcher also polls get_order_list by update_time, so a lost push loses nothing.
// The same order id keys both paths (`order:<order_sn>`), so nothing is counted twice.
// Publishing products (add item, update, unlist): catalog.ts.
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelConnection,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { chunk } from '../adapter-kit.ts';
import { exactInt } from '../json.ts';
import { ShopeeCatalog } from './catalog.ts';
import { ShopeeClient } from './client.ts';
import { modelRef, parseModelRef, sellerStock, SHOPEE_CAPABILITIES, type ApiModel, type BaseInfo, type OrderDetail } from './model.ts';
import type { ShopeeSettings } from './settings.ts';

const PAGE = 100; // get_item_list / get_order_list page_size ceiling
const BASE_INFO_BATCH = 50; // get_item_base_info item_id_list ceiling
const DETAIL_BATCH = 50; // get_order_detail order_sn_list ceiling
const MAX_WINDOW_S = 15 * 24 * 3600; // get_order_list: time_to - time_from <= 15 days
const MAX_POLL_PAGES = 5;

/**
 * Poll cursor: orders updated at or after `t` (unix s) are read; `seen` = event ids already emitted
 * for second `t`. `start` = when watching began: an order created before it was counted by the
 * import, so only its cancellation is news.
 */
interface PollCursor {
  t: number;
  seen: string[];
  start: number;
}

export class ShopeeAdapter implements ChannelAdapter {
  readonly type = 'shopee';
  readonly capabilities = SHOPEE_CAPABILITIES;
  readonly client: ShopeeClient;
  readonly catalog: ShopeeCatalog;
  private readonly now: () => number;

  constructor(conn: ChannelConnection<ShopeeSettings>, now: () => number = Date.now, opts: { renew?: boolean } = {}) {
    this.client = new ShopeeClient(conn, now, opts);
    this.catalog = new ShopeeCatalog(this.client, conn.settings);
    this.now = now;
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    const r = await this.client.call<{ total_count?: number }>({
      method: 'GET',
      path: '/product/get_item_list',
      query: { offset: 0, page_size: 1, item_status: 'NORMAL' },
    });
    return { ok: true, account: `Shopee shop ${this.client.shopId} (${r?.total_count ?? 0} listed items)` };
  }

  /** Rows for items whose base info is known: one per model (variants read with get_model_list). */
  private async rows(items: BaseInfo[], wanted?: Set<string>): Promise<RemoteListing[]> {
    const out: RemoteListing[] = [];
    for (const it of items) {
      const version = typeof it.update_time === 'number' ? String(it.update_time) : null;
      if (!it.has_model) {
        const ref = modelRef(it.item_id, 0);
        if (!wanted || wanted.has(ref))
          out.push({ externalId: ref, sku: it.item_sku || null, name: it.item_name ?? null, qty: sellerStock(it.stock_info_v2), version });
        continue;
      }
      if (wanted && ![...wanted].some((w) => w.startsWith(`${it.item_id}:`))) continue;
      const m = await this.client.call<{ model?: ApiModel[] }>({ method: 'GET', path: '/product/get_model_list', query: { item_id: it.item_id } });
      for (const model of m?.model ?? []) {
        const ref = modelRef(it.item_id, model.model_id);
        if (wanted && !wanted.has(ref)) continue;
        out.push({ externalId: ref, sku: model.model_sku || null, name: it.item_name ?? null, qty: sellerStock(model.stock_info_v2), version });
      }
    }
    return out;
  }

  private async baseInfo(ids: Array<number | string>): Promise<BaseInfo[]> {
    const out: BaseInfo[] = [];
    for (const batch of chunk(ids, BASE_INFO_BATCH)) {
      const r = await this.client.call<{ item_list?: BaseInfo[] }>({
        method: 'GET',
        path: '/product/get_item_base_info',
        query: { item_id_list: batch.join(',') },
      });
      out.push(...(r?.item_list ?? []));
    }
    return out;
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    // Unlisted items still hold stock the seller may list again: tracked as well.
    for (const status of ['NORMAL', 'UNLIST']) {
      for (let offset = 0; ;) {
        const page = await this.client.call<{ item?: Array<{ item_id: number }>; has_next_page?: boolean; next_offset?: number }>({
          method: 'GET',
          path: '/product/get_item_list',
          query: { offset, page_size: PAGE, item_status: status },
        });
        const ids = (page?.item ?? []).map((i) => i.item_id);
        const rows = ids.length ? await this.rows(await this.baseInfo(ids)) : [];
        if (rows.length) yield rows;
        if (!page?.has_next_page || typeof page.next_offset !== 'number' || page.next_offset <= offset) break;
        offset = page.next_offset;
      }
    }
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const wanted = new Set<string>();
    const items = new Set<string>();
    for (const r of refs) {
      const id = parseModelRef(r.externalId);
      if (!id) continue; // not a Shopee model id: cannot exist there
      wanted.add(modelRef(id.itemId, id.modelId));
      items.add(id.itemId);
    }
    if (items.size === 0) return [];
    return this.rows(await this.baseInfo([...items]), wanted);
  }

  /** One update_stock per item (its models together). */
  pushCalls(reqs: Array<{ externalId: string }>): number {
    const items = new Set<string>();
    for (const r of reqs) {
      const id = parseModelRef(r.externalId);
      if (id) items.add(id.itemId);
    }
    return Math.max(1, items.size);
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: Array<PushResult | undefined> = new Array(reqs.length);
    const failed = (i: number, error: string, retryable = false) => (results[i] = { listingId: reqs[i]!.listingId, outcome: 'failed', error, retryable });
    // item id -> model id -> index of the last request for it (an earlier one in the batch is superseded).
    const byItem = new Map<string, Map<string, number>>();
    for (const [i, req] of reqs.entries()) {
      const id = parseModelRef(req.externalId);
      if (!id) failed(i, `not a Shopee model id (<item_id>:<model_id>): ${req.externalId}`);
      else if (!Number.isInteger(req.qty) || req.qty < 0) failed(i, `quantity must be a whole number >= 0, got ${req.qty}`);
      else {
        const models = byItem.get(id.itemId) ?? new Map<string, number>();
        const prev = models.get(id.modelId);
        if (prev !== undefined) failed(prev, 'superseded by a later push for the same listing in this batch');
        models.set(id.modelId, i);
        byItem.set(id.itemId, models);
      }
    }
    let wroteAny = false;
    for (const [itemId, models] of byItem) {
      try {
        const r = await this.client.call<{
          success_list?: Array<{ model_id?: number; stock?: number }>;
          failure_list?: Array<{ model_id?: number; failed_reason?: string }>;
        }>({
          method: 'POST',
          path: '/product/update_stock',
          body: {
            item_id: exactInt(itemId),
            stock_list: [...models].map(([modelId, i]) => ({ model_id: exactInt(modelId), seller_stock: [{ stock: reqs[i]!.qty }] })),
          },
        });
        wroteAny = true;
        for (const s of r?.success_list ?? []) {
          const i = models.get(String(s.model_id ?? 0));
          if (i !== undefined) results[i] = { listingId: reqs[i]!.listingId, outcome: 'ok', qty: s.stock ?? reqs[i]!.qty, version: null };
        }
        for (const f of r?.failure_list ?? []) {
          const i = models.get(String(f.model_id ?? 0));
          if (i !== undefined) failed(i, `Shopee refused the stock of item ${itemId} model ${f.model_id ?? 0}: ${f.failed_reason ?? 'no reason given'}`);
        }
      } catch (err) {
        if (!(err instanceof ChannelError)) throw err;
        // Nothing written yet: the whole call failed (the engine retries it, or raises the auth alert).
        if (!wroteAny && err.kind !== 'permanent') throw err;
        for (const i of models.values()) failed(i, err.message, err.kind !== 'permanent');
      }
    }
    return results.map((r, i) => r ?? failed(i, 'Shopee did not answer for this model'));
  }

  /** Order details for these order numbers, item lines included. */
  async orderDetails(sns: string[]): Promise<OrderDetail[]> {
    const out: OrderDetail[] = [];
    for (const batch of chunk(sns, DETAIL_BATCH)) {
      const r = await this.client.call<{ order_list?: OrderDetail[] }>({
        method: 'GET',
        path: '/order/get_order_detail',
        query: { order_sn_list: batch.join(','), response_optional_fields: 'item_list' },
      });
      out.push(...(r?.order_list ?? []));
    }
    return out;
  }

  /**
   * Orders updated since the cursor, as order events (orderEvents). The lower bound is inclusive
   * and the cursor keeps the ids already emitted in its second, so none is skipped or repeated.
   * A null cursor starts now without replaying anything (the import counted the stock as it was).
   */
  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    const nowS = Math.floor(this.now() / 1000);
    if (cursor === null) return { events: [], cursor: JSON.stringify({ t: nowS, seen: [], start: nowS } satisfies PollCursor) };
    const from = readCursor(cursor);
    const to = Math.min(nowS, from.t + MAX_WINDOW_S);
    let t = from.t;
    let seen = new Set(from.seen);
    const events: InboundEvent[] = [];
    const sns: string[] = [];
    let more = false;
    let next = '';
    for (let page = 0; page < MAX_POLL_PAGES; page++) {
      const r = await this.client.call<{ order_list?: Array<{ order_sn: string }>; more?: boolean; next_cursor?: string }>({
        method: 'GET',
        path: '/order/get_order_list',
        query: { time_range_field: 'update_time', time_from: from.t, time_to: Math.max(to, from.t), page_size: PAGE, ...(next ? { cursor: next } : {}) },
      });
      sns.push(...(r?.order_list ?? []).map((o) => o.order_sn));
      more = r?.more === true && !!r.next_cursor;
      if (!more) break;
      next = r!.next_cursor!;
    }
    const details = (await this.orderDetails(sns)).sort((a, b) => (a.update_time ?? 0) - (b.update_time ?? 0));
    for (const o of details) {
      const u = o.update_time ?? from.t;
      if (u < t) continue;
      if (u > t) {
        t = u;
        seen = new Set();
      }
      for (const e of orderEvents(o)) {
        if (seen.has(e.externalEventId)) continue;
        if (e.kind === 'order' && e.effect === 'sale' && (o.create_time ?? 0) < from.start) continue;
        seen.add(e.externalEventId);
        events.push(e);
      }
    }
    // A window that ended in the past with nothing left to read: the next poll starts after it.
    if (!more && details.length === 0 && to < nowS) t = to;
    return { events, cursor: JSON.stringify({ t, seen: [...seen], start: from.start } satisfies PollCursor) };
  }

  /** Versions are Shopee's update_time (unix seconds). */
  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    if (a === null || a === undefined) return false;
    if (b === null || b === undefined) return true;
    return Number(a) > Number(b);
  }

  async close(): Promise<void> {}
}

function readCursor(cursor: string): PollCursor {
  try {
    const c = JSON.parse(cursor) as Partial<PollCursor>;
    if (typeof c.t === 'number' && Number.isInteger(c.t) && Array.isArray(c.seen)) {
      return { t: c.t, seen: c.seen.map(String), start: typeof c.start === 'number' ? c.start : 0 };
    }
  } catch {
    /* below */
  }
  throw new ChannelError('permanent', `bad Shopee poll cursor ${cursor.slice(0, 100)}`);
}

/** Order statuses before payment: the units are not sold yet. GUESS: Shopee takes stock at UNPAID too; we wait for payment. */
const NOT_SOLD = new Set(['UNPAID']);
const CANCELLED = new Set(['CANCELLED']);

/** An order as events: its sale once paid (`order:<sn>`), and its cancellation (`order:<sn>:cancel`). */
export function orderEvents(o: OrderDetail): InboundEvent[] {
  const status = (o.order_status ?? '').toUpperCase();
  if (NOT_SOLD.has(status)) return [];
  const lines = (o.item_list ?? [])
    .filter((l) => (l.model_quantity_purchased ?? 0) > 0)
    .map((l) => ({ externalId: modelRef(l.item_id, l.model_id ?? 0), sku: l.model_sku || l.item_sku || null, qty: l.model_quantity_purchased! }));
  if (lines.length === 0) return [];
  const base = { kind: 'order' as const, orderId: o.order_sn, lines };
  const at = (s: number | undefined) => new Date((s ?? 0) * 1000).toISOString();
  const events: InboundEvent[] = [{ ...base, externalEventId: `order:${o.order_sn}`, occurredAt: at(o.create_time ?? o.update_time), effect: 'sale' }];
  if (CANCELLED.has(status)) events.push({ ...base, externalEventId: `order:${o.order_sn}:cancel`, occurredAt: at(o.update_time), effect: 'cancel' });
  return events;
}
