// WooCommerce REST API v3 adapter, at `{store URL}/wp-json/wc/v3`. Facts: channel-apis.md section 5
// and WooCommerce's REST API reference (woocommerce.github.io/woocommerce-rest-api-docs).
//
// Auth: the store's consumer key and secret as HTTP Basic. WooCommerce accepts Basic only over
// HTTPS; a store reached over plain http needs OAuth 1.0a one-legged signatures instead, which
// this adapter does not implement, so a plain-http store URL is refused (it would also send the
// keys in clear) unless it is on this machine (127.0.0.1 / localhost: the emulator, a local dev store).
//
// Listings: every simple product and every variation of a variable product (a variable product
// that manages stock itself is a listing too), paged with page/per_page and X-WP-TotalPages.
// Pushes: absolute stock_quantity through the batch endpoints (POST /products/batch, POST
// /products/{id}/variations/batch; at most 100 objects per request), per-item errors read from the
// 200. An item with manage_stock off is reported failed (not retried): WooCommerce ignores
// stock_quantity there, and its answer says manage_stock false.
// Sales: order.created / order.updated webhooks (webhook.ts) and the poll of
// /orders?modified_after=, both keyed by order id (model.ts orderEvents), so either path counts a sale once.
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelConnection,
  type InboundEvent,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { chunk, trimBase } from '../adapter-kit.ts';
import { basicAuth, httpCall } from '../http-client.ts';
import { z } from 'zod';
import { numericId } from '../json.ts';
import { ApiOrder, ApiProduct, gmtIso, listingRef, orderEvents, parseListingRef, WOOCOMMERCE_CAPABILITIES } from './model.ts';
import type { WoocommerceSettings } from './settings.ts';

const BATCH = 100; // woocommerce_rest_batch_items_limit default
const INCLUDE = 100; // ids per `include=` read (one page of per_page 100)
const MAX_POLL_PAGES = 20;
/** How often the poll looks for our webhooks disabled by failed deliveries (seconds). */
const HOOK_CHECK_S = 600;
/** Product types that hold no stock of their own. */
const NO_STOCK_TYPES = new Set(['grouped', 'external']);
/** 4xx answers read for WooCommerce's own error code (401/403 become auth, the rest permanent). */
const READ_4XX = [400, 401, 403, 404, 409, 410, 413, 422];

const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
/** An id written back as the JSON integer WooCommerce gave, digit for digit. */
const idJson = (digits: string): unknown => rawJSON(digits);

interface WpError {
  code?: string;
  message?: string;
  data?: { status?: number };
}

interface PollCursor {
  /** Unix seconds: orders modified in or after this second are read. */
  t: number;
  /** Event ids already emitted for orders modified in second t. */
  seen: string[];
  /** When polling began: an order paid before it was in the stock the import read. */
  start: number;
  /** When the poll last looked for disabled webhooks (unix seconds). */
  hooks?: number;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** WooCommerce's date format for query parameters (UTC with dates_are_gmt). */
function wcDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19);
}

const secondsOf = (d: string | null | undefined): number | null => {
  const iso = gmtIso(d);
  return iso ? Math.floor(Date.parse(iso) / 1000) : null;
};

export class WoocommerceAdapter implements ChannelAdapter {
  readonly type = 'woocommerce';
  readonly capabilities = WOOCOMMERCE_CAPABILITIES;
  private readonly api: string;
  private readonly host: string;
  private readonly insecure: boolean;
  private readonly auth: string;
  private readonly pageSize: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly channelId: string;

  constructor(conn: ChannelConnection<WoocommerceSettings>, now: () => number = Date.now) {
    this.api = `${trimBase(conn.baseUrl)}/wp-json/wc/v3`;
    const u = new URL(conn.baseUrl);
    this.host = u.host;
    this.insecure = u.protocol !== 'https:' && !isLoopback(u.hostname);
    this.auth = basicAuth(conn.credentials.consumer_key ?? '', conn.credentials.consumer_secret ?? '');
    this.pageSize = conn.settings.page_size;
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.now = now;
    this.channelId = conn.channelId;
  }

  /** One REST call; WooCommerce's `{code, message, data: {status}}` errors mapped to ChannelError kinds. */
  private async call<T>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    query: Record<string, string | number> = {},
    body?: unknown,
  ): Promise<{ body: T; headers: Record<string, string | string[] | undefined> }> {
    if (this.insecure) {
      throw new ChannelError(
        'auth',
        `WooCommerce store ${this.host} is reached over plain http: its REST API keys are only accepted over https (plain http needs OAuth 1.0a). Use the store's https:// URL.`,
      );
    }
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    const res = await httpCall(
      { method, url: `${this.api}${path}${qs ? `?${qs}` : ''}`, headers: { authorization: this.auth }, body, timeoutMs: this.timeoutMs },
      READ_4XX,
    );
    if (res.status >= 400) {
      let err: WpError = {};
      try {
        err = res.json<WpError>() ?? {};
      } catch {
        /* not JSON: status only */
      }
      const what = `WooCommerce ${method} ${path} -> ${res.status}${err.code ? ` ${err.code}` : ''}${err.message ? `: ${err.message}` : ''}`;
      throw new ChannelError(res.status === 401 || res.status === 403 ? 'auth' : 'permanent', what, { status: res.status });
    }
    return { body: res.json<T>(), headers: res.headers };
  }

  private parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
    const r = schema.safeParse(value);
    if (!r.success)
      throw new ChannelError('transient', `unexpected WooCommerce ${what}: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    return r.data;
  }

  /** Every page of a collection (X-WP-TotalPages says how many), one yielded at a time. */
  private async *pages<T>(path: string, schema: z.ZodType<T>, query: Record<string, string | number> = {}, maxPages = Infinity): AsyncIterable<T[]> {
    for (let page = 1; page <= maxPages; page++) {
      const r = await this.call<unknown>('GET', path, { ...query, per_page: this.pageSize, page });
      const rows = this.parse(z.array(schema), r.body, path);
      if (rows.length > 0) yield rows;
      const total = Number(r.headers['x-wp-totalpages']);
      if (rows.length === 0 || (Number.isFinite(total) ? page >= total : rows.length < this.pageSize)) return;
    }
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    const r = await this.call<unknown[]>('GET', '/products', { per_page: 1 });
    const total = r.headers['x-wp-total'];
    return { ok: true, account: `WooCommerce store ${this.host} (${typeof total === 'string' ? total : '?'} products)` };
  }

  private productRow(p: ApiProduct): RemoteListing {
    return {
      externalId: p.id,
      sku: p.sku || null,
      name: p.name ?? null,
      qty: p.manage_stock === true ? (p.stock_quantity ?? null) : null,
      version: p.date_modified_gmt ?? null,
    };
  }

  private variationRow(parent: { id: string; name?: string | null }, v: ApiProduct): RemoteListing {
    // manage_stock 'parent': the count is the parent's (a listing of its own); false: not tracked.
    return {
      externalId: listingRef(parent.id, v.id),
      sku: v.sku || null,
      name: v.name ?? parent.name ?? null,
      qty: v.manage_stock === true ? (v.stock_quantity ?? null) : null,
      version: v.date_modified_gmt ?? null,
    };
  }

  private async variationRows(p: ApiProduct, include?: string[]): Promise<RemoteListing[]> {
    const out: RemoteListing[] = [];
    const query: Record<string, string | number> = { orderby: 'id', order: 'asc', ...(include ? { include: include.join(',') } : {}) };
    for await (const vs of this.pages(`/products/${p.id}/variations`, ApiProduct, query)) out.push(...vs.map((v) => this.variationRow(p, v)));
    return out;
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    for await (const products of this.pages('/products', ApiProduct, { orderby: 'id', order: 'asc' })) {
      const rows: RemoteListing[] = [];
      for (const p of products) {
        if (NO_STOCK_TYPES.has(p.type ?? '')) continue;
        if (p.type === 'variable') {
          if (p.manage_stock === true) rows.push(this.productRow(p));
          if ((p.variations?.length ?? 1) > 0) rows.push(...(await this.variationRows(p)));
        } else rows.push(this.productRow(p));
      }
      if (rows.length) yield rows;
    }
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const products = new Set<string>();
    const variations = new Map<string, Set<string>>();
    for (const r of refs) {
      const ref = parseListingRef(r.externalId);
      if (!ref) continue; // not a WooCommerce id: cannot exist there
      if (ref.variationId) variations.set(ref.productId, (variations.get(ref.productId) ?? new Set()).add(ref.variationId));
      else products.add(ref.productId);
    }
    const out: RemoteListing[] = [];
    for (const ids of chunk([...products], INCLUDE)) {
      for await (const ps of this.pages('/products', ApiProduct, { include: ids.join(','), orderby: 'id', order: 'asc' }))
        out.push(...ps.map((p) => this.productRow(p)));
    }
    for (const [pid, vids] of variations) {
      for (const ids of chunk([...vids], INCLUDE)) {
        try {
          out.push(...(await this.variationRows({ id: pid }, ids)));
        } catch (err) {
          // The parent is gone: its variations with it.
          if (err instanceof ChannelError && err.status === 404) continue;
          throw err;
        }
      }
    }
    return out;
  }

  /** Groups requests by the batch call that writes them: products, or one parent's variations; the last request per listing wins. */
  private plan(reqs: Array<Pick<PushRequest, 'externalId'>>): { products: Map<string, number>; variations: Map<string, Map<string, number>>; bad: number[] } {
    const products = new Map<string, number>();
    const variations = new Map<string, Map<string, number>>();
    const bad: number[] = [];
    reqs.forEach((r, i) => {
      const ref = parseListingRef(r.externalId);
      if (!ref) bad.push(i);
      else if (ref.variationId) variations.set(ref.productId, (variations.get(ref.productId) ?? new Map<string, number>()).set(ref.variationId, i));
      else products.set(ref.productId, i);
    });
    return { products, variations, bad };
  }

  pushCalls(reqs: Array<Pick<PushRequest, 'externalId' | 'externalLocationId'>>): number {
    const { products, variations } = this.plan(reqs);
    let n = Math.ceil(products.size / BATCH);
    for (const vs of variations.values()) n += Math.ceil(vs.size / BATCH);
    return Math.max(1, n);
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: Array<PushResult | undefined> = new Array(reqs.length);
    const failed = (i: number, error: string, retryable = false) => (results[i] = { listingId: reqs[i]!.listingId, outcome: 'failed', error, retryable });
    const { products, variations, bad } = this.plan(reqs);
    for (const i of bad) failed(i, `not a WooCommerce product id ("<product>" or "<product>:<variation>"): ${reqs[i]!.externalId}`);
    // An earlier request for the same listing in this batch is superseded by the later one.
    const kept = new Set([...products.values(), ...[...variations.values()].flatMap((m) => [...m.values()])]);
    reqs.forEach((_r, i) => {
      if (!kept.has(i) && !results[i]) failed(i, 'superseded by a later push for the same listing in this batch');
    });
    for (const i of kept) {
      const q = reqs[i]!.qty;
      if (!Number.isInteger(q) || q < 0) failed(i, `quantity must be a whole number >= 0, got ${q}`);
    }

    const groups: Array<{ path: string; entries: Array<[string, number]> }> = [];
    const valid = (m: Map<string, number>) => [...m].filter(([, i]) => !results[i]);
    for (const part of chunk(valid(products), BATCH)) groups.push({ path: '/products/batch', entries: part });
    for (const [pid, vs] of variations) for (const part of chunk(valid(vs), BATCH)) groups.push({ path: `/products/${pid}/variations/batch`, entries: part });

    let wroteAny = false;
    for (const g of groups) {
      if (g.entries.length === 0) continue;
      try {
        const r = await this.call<{ update?: unknown[] }>(
          'POST',
          g.path,
          {},
          { update: g.entries.map(([id, i]) => ({ id: idJson(id), stock_quantity: reqs[i]!.qty })) },
        );
        wroteAny = true;
        const answers = Array.isArray(r.body?.update) ? r.body.update : [];
        g.entries.forEach(([id, i], pos) => {
          const a = answers[pos] as (Record<string, unknown> & { error?: WpError }) | undefined;
          if (!a) return void failed(i, 'WooCommerce did not answer for this item', true);
          if (a.error) {
            const status = a.error.data?.status ?? 400;
            return void failed(i, `WooCommerce refused ${id}: ${a.error.code ?? 'error'}: ${a.error.message ?? ''}`.trim(), status >= 500 || status === 429);
          }
          const p = ApiProduct.safeParse(a);
          if (!p.success || p.data.id !== id) return void failed(i, `WooCommerce answered for another item than ${id}`, true);
          if (p.data.manage_stock !== true) {
            const where = p.data.manage_stock === 'parent' ? 'is managed on its parent product' : 'is not managed (manage_stock is off)';
            return void failed(
              i,
              `stock of ${reqs[i]!.externalId}${p.data.sku ? ` (${p.data.sku})` : ''} ${where} on WooCommerce: nothing was written; turn on "Manage stock?" for it`,
            );
          }
          results[i] = { listingId: reqs[i]!.listingId, outcome: 'ok', qty: p.data.stock_quantity ?? reqs[i]!.qty, version: p.data.date_modified_gmt ?? null };
        });
      } catch (err) {
        if (!(err instanceof ChannelError)) throw err;
        // Nothing written yet: the whole call failed (the engine retries it, or raises the auth alert).
        if (!wroteAny && err.kind !== 'permanent') throw err;
        for (const [, i] of g.entries) failed(i, err.message, err.kind !== 'permanent');
      }
    }
    return results.map((r, i) => r ?? failed(i, 'not pushed'));
  }

  /**
   * Orders modified since the cursor (`modified_after`, `dates_are_gmt`), as order events. WordPress
   * treats `after` as exclusive and dates have whole seconds, so the query starts one second early
   * and the cursor keeps the events already emitted in its second: none is skipped or repeated.
   * A null cursor starts now without replaying anything (the import counted the stock as it was).
   * Ordered by id (orderby=modified is not among WooCommerce's default choices), every page read,
   * sorted here by date_modified. GUESS: more than MAX_POLL_PAGES pages modified between two polls
   * leaves the rest to the Guardian's read-back.
   */
  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    const nowS = Math.floor(this.now() / 1000);
    if (cursor === null) return { events: [], cursor: JSON.stringify({ t: nowS, seen: [], start: nowS } satisfies PollCursor) };
    const from = readCursor(cursor);
    let hooks = from.hooks ?? 0;
    if (nowS - hooks >= HOOK_CHECK_S) {
      await this.reenableWebhooks();
      hooks = nowS;
    }
    const orders: ApiOrder[] = [];
    for await (const page of this.pages(
      '/orders',
      ApiOrder,
      { modified_after: wcDate(from.t - 1), dates_are_gmt: 'true', orderby: 'id', order: 'asc' },
      MAX_POLL_PAGES,
    ))
      orders.push(...page);
    const keyed = orders
      .map((o) => ({ o, m: secondsOf(o.date_modified_gmt) ?? from.t }))
      .sort((a, b) => a.m - b.m || (BigInt(a.o.id) < BigInt(b.o.id) ? -1 : 1));
    let t = from.t;
    let seen = new Set(from.seen);
    const events: InboundEvent[] = [];
    for (const { o, m } of keyed) {
      if (m < t) continue;
      if (m > t) {
        t = m;
        seen = new Set();
      }
      // A sale paid (or put on hold) before polling began was in the stock the import read.
      for (const e of orderEvents(o, from.start)) {
        if (seen.has(e.externalEventId)) continue;
        seen.add(e.externalEventId);
        events.push(e);
      }
    }
    return { events, cursor: JSON.stringify({ t, seen: [...seen], start: from.start, hooks } satisfies PollCursor) };
  }

  /**
   * WooCommerce disables a webhook silently after repeated failed deliveries (StockClerk down, a
   * network outage). The poll keeps sales flowing meanwhile; every HOOK_CHECK_S it also turns this
   * channel's disabled webhooks (those delivering to /webhooks/woocommerce/<this channel>) back on,
   * so the fast path returns by itself. If StockClerk is still unreachable, WooCommerce disables
   * them again after a few more failures; nothing is lost either way. Best effort: a key without
   * the right to manage webhooks, or any failure, leaves them as they are.
   */
  async reenableWebhooks(): Promise<number> {
    const ours = `/webhooks/woocommerce/${this.channelId}`;
    let n = 0;
    try {
      const r = await this.call<unknown>('GET', '/webhooks', { status: 'disabled', per_page: 100 });
      const hooks = this.parse(
        z.array(z.looseObject({ id: numericId, status: z.string(), delivery_url: z.string().nullable().optional() })),
        r.body,
        'webhooks',
      );
      for (const w of hooks) {
        if (w.status !== 'disabled' || !(w.delivery_url ?? '').replace(/\/+$/, '').endsWith(ours)) continue;
        await this.call('PUT', `/webhooks/${w.id}`, {}, { status: 'active' });
        n++;
      }
    } catch (err) {
      if (!(err instanceof ChannelError)) throw err;
    }
    return n;
  }

  /** Versions are date_modified_gmt (second precision). */
  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    if (!a) return false;
    if (!b) return true;
    const ta = gmtIso(a);
    const tb = gmtIso(b);
    return ta && tb ? ta > tb : a > b;
  }

  async close(): Promise<void> {}
}

function readCursor(cursor: string): PollCursor {
  try {
    const c = JSON.parse(cursor) as Partial<PollCursor>;
    if (typeof c.t === 'number' && Number.isInteger(c.t) && Array.isArray(c.seen)) {
      return { t: c.t, seen: c.seen.map(String), start: typeof c.start === 'number' ? c.start : 0, hooks: typeof c.hooks === 'number' ? c.hooks : 0 };
    }
  } catch {
    /* below */
  }
  throw new ChannelError('permanent', `bad WooCommerce poll cursor ${cursor.slice(0, 100)}`);
}
