// Otter (tryotter) Public API client, as a "manager" application of one store. Otter has no stock
// counts, only a sale status per menu item (FOR_SALE, or suspended), so a push suspends the items
// whose sellable is 0 and unsuspends the rest; the store's menu gives names, SKUs and the current
// status. Sales arrive as order webhooks (webhook.ts) and through the documented order feed, which
// pollEvents reads as the safety net for lost webhooks.
// Auth: OAuth2 client credentials (POST /v1/auth/token, form body); the token is kept with the
// channel's credentials through RenewableTokens and fetched again shortly before it expires or
// when a call is refused with 401.
// Facts: Otter Public API reference (developer-guides.tryotter.com/api-reference) through the
// api-evangelist/otter mirror (openapi/_original/otter-public-api-openapi.yml); channel-apis.md section 6.
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
import { chunk, trimBase } from '../adapter-kit.ts';
import { httpCall, type HttpResult } from '../http-client.ts';
import { RenewableTokens } from '../renewable-tokens.ts';
import type { OtterSettings } from './settings.ts';
import { orderEvents, type OtterOrderBody } from './webhook.ts';

/** Entity ids per suspend / unsuspend call. GUESS: the reference sets no cap; 100 keeps bodies small. */
const ENTITY_CHUNK = 100;

export const OTTER_CAPABILITIES: ChannelCapabilities = {
  quantityModel: 'availability',
  compareAndSet: false,
  // Orders carry what was sold; availability never reports sales (there are no counts).
  defaultSalesSource: 'orders',
  webhooks: true,
  // The order feed (GET /manager/order/v1/orders) is the net under lost webhooks.
  pollable: true,
  maxPushBatch: ENTITY_CHUNK,
  // A push is at most one suspend and one unsuspend call per chunk.
  callsPerPush: 2,
  // GUESS, conservative: Otter budgets each (application, store, endpoint) per minute: suspend and
  // unsuspend 16/min each, the menu read 8/min, the order feed none stated (plus 20 req/s per IP).
  // A push costs two calls of this budget (one suspend and one unsuspend at most), so 32 calls a
  // minute is 16 pushes a minute: neither availability endpoint can pass its own 16. Menu reads
  // (import, Guardian) and polls share the same bucket; a burst of menu reads past 8 a minute gets
  // Otter's 429, which the engine backs off from.
  rateLimit: { perSecond: 32 / 60, burst: 8 },
};

/** Refresh this long before expiry (Otter's tokens live about 30 days). */
const TOKEN_MARGIN_MS = 5 * 60_000;
/** Listings per yielded page. The menu arrives whole (no paging); chunks keep the engine's batches bounded. */
const LIST_CHUNK = 200;
/** The poll re-reads this much of the feed behind its cursor: late cancellations of recent orders are seen. GUESS. */
const POLL_LOOKBACK_MS = 2 * 3600_000;
/** The feed filters at most 20 days back (the reference's minDateTime). */
const FEED_MAX_AGE_MS = 20 * 24 * 3600_000 - 3600_000;
const MAX_POLL_PAGES = 20;

interface MenuItem {
  id: string;
  name: string | null;
  sku: string | null;
  available: boolean;
}

/**
 * The poll cursor: `start` is when polling began (older orders are history, never counted);
 * `since` the newest orderedAt seen; `seen` the event keys already returned from the re-read window.
 */
interface PollCursor {
  start: number;
  since: number;
  seen: Record<string, number>;
}

export class OtterAdapter implements ChannelAdapter {
  readonly type = 'otter';
  readonly capabilities = OTTER_CAPABILITIES;
  private readonly conn: ChannelConnection<OtterSettings>;
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly tokens: RenewableTokens;
  private readonly now: () => number;

  constructor(conn: ChannelConnection<OtterSettings>, now: () => number = Date.now) {
    this.conn = conn;
    this.baseUrl = trimBase(conn.baseUrl);
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.now = now;
    this.tokens = new RenewableTokens(conn, { marginMs: TOKEN_MARGIN_MS, now, renew: (creds) => this.fetchToken(creds) });
  }

  private get storeId(): string {
    const v = this.conn.settings.store_id;
    if (!v) throw new ChannelError('permanent', 'otter: setting store_id is required');
    return v;
  }

  /** POST /v1/auth/token with the client credentials in the form body (the reference also allows Basic). */
  private async fetchToken(creds: Readonly<Record<string, string>>): Promise<Record<string, string>> {
    const { client_id, client_secret } = creds;
    if (!client_id || !client_secret) throw new ChannelError('auth', 'otter: client_id and client_secret are required');
    const res = await httpCall(
      {
        method: 'POST',
        url: `${this.baseUrl}/v1/auth/token`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id, client_secret, scope: this.conn.settings.scope }).toString(),
        timeoutMs: this.timeoutMs,
      },
      [400, 422],
    );
    // A malformed token request is our mistake or a scope the application lacks: the merchant must act.
    if (res.status === 400 || res.status === 422) throw new ChannelError('auth', `otter token: ${res.text.slice(0, 200)}`, { status: res.status });
    const body = res.json<{ access_token?: unknown; expires_in?: unknown }>();
    if (typeof body.access_token !== 'string' || !body.access_token) throw new ChannelError('transient', 'otter token: no access_token in answer');
    // GUESS: an answer without expires_in lives an hour (the reference's example says 2627999 s).
    const ttlS = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 3600;
    // Short-lived tokens (tests) are renewed at half their life rather than never reused.
    const expiresAt = this.now() + ttlS * 1000 + Math.max(0, TOKEN_MARGIN_MS - (ttlS * 1000) / 2);
    return { access_token: body.access_token, access_expires_at: new Date(expiresAt).toISOString() };
  }

  private async token(): Promise<string> {
    if (!this.tokens.creds.access_token) await this.tokens.refresh();
    else await this.tokens.ready();
    return this.tokens.creds.access_token ?? '';
  }

  /** An API call for the store; a 401 (token revoked or expired early) fetches a new token once. */
  private async api(method: 'GET' | 'POST', path: string, body?: unknown, okStatuses: number[] = []): Promise<HttpResult> {
    const store = this.storeId;
    for (let attempt = 0; ; attempt++) {
      const token = await this.token();
      try {
        return await httpCall(
          { method, url: this.baseUrl + path, headers: { authorization: `Bearer ${token}`, 'x-store-id': store }, body, timeoutMs: this.timeoutMs },
          okStatuses,
        );
      } catch (err) {
        if (attempt > 0 || !(err instanceof ChannelError) || err.status !== 401) throw err;
        if (this.tokens.creds.access_token === token) await this.tokens.refresh();
      }
    }
  }

  private async fetchMenu(): Promise<MenuItem[]> {
    const res = await this.api('GET', '/v1/menus');
    const body = res.json<{ items?: unknown }>();
    if (!body || typeof body.items !== 'object' || body.items === null) throw new ChannelError('permanent', 'otter menu: no items in answer');
    const out: MenuItem[] = [];
    // Menus.items is a map of item id -> MenuItem_POS.
    for (const it of Object.values(body.items as Record<string, unknown>)) {
      const m = it as { id?: unknown; name?: unknown; status?: { saleStatus?: unknown }; skuDetails?: { skuSlug?: unknown } } | null;
      if (typeof m?.id !== 'string' || !m.id) continue;
      // GUESS: the merchant's SKU is skuDetails.skuSlug ("a system-unique, human-readable identifier for the product").
      const sku = typeof m.skuDetails?.skuSlug === 'string' && m.skuDetails.skuSlug ? m.skuDetails.skuSlug : null;
      out.push({ id: m.id, name: typeof m.name === 'string' ? m.name : null, sku, available: m.status?.saleStatus === 'FOR_SALE' });
    }
    return out;
  }

  private async snapshot(): Promise<RemoteListing[]> {
    return (await this.fetchMenu()).map((m) => ({
      externalId: m.id,
      externalLocationId: this.storeId,
      sku: m.sku,
      name: m.name,
      qty: null,
      available: m.available,
      version: null,
    }));
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    await this.fetchMenu();
    return { ok: true, account: `store ${this.storeId}` };
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const all = await this.snapshot();
    for (const part of chunk(all, LIST_CHUNK)) yield part;
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    if (refs.length === 0) return [];
    const wanted = new Set(refs.map((r) => r.externalId));
    return (await this.snapshot()).filter((l) => wanted.has(l.externalId));
  }

  pushCalls(reqs: Array<Pick<PushRequest, 'externalId'>>): number {
    return 2 * Math.max(1, Math.ceil(reqs.length / ENTITY_CHUNK));
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results = new Map<string, PushResult>();
    // A failure thrown mid-way loses nothing: availability writes are idempotent, the engine re-pushes all.
    for (const part of chunk(reqs, ENTITY_CHUNK)) {
      const off = part.filter((r) => r.qty <= 0);
      const on = part.filter((r) => r.qty > 0);
      for (const r of [...(await this.setStatus(off, true)), ...(await this.setStatus(on, false))]) results.set(r.listingId, r);
    }
    return reqs.map((r) => results.get(r.listingId)!);
  }

  /** One suspend or unsuspend call; one unknown entity 404s the whole request (GUESS), so unknown ones are failed alone. */
  private async setStatus(reqs: PushRequest[], suspend: boolean): Promise<PushResult[]> {
    const failed: PushResult[] = [];
    let todo = reqs;
    const path = `/manager/menu/v1/menus/entities/availability/${suspend ? 'suspend' : 'unsuspend'}`;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const entityIds = todo.map((r) => r.externalId);
      // Indefinite: the item comes back when StockClerk unsuspends it, not at a time Otter picks.
      const body = suspend
        ? { entityIds, note: 'Out of stock (StockClerk)', status: { isIndefinite: true } }
        : { entityIds, note: 'Back in stock (StockClerk)' };
      const res = await this.api('POST', path, body, [400, 404, 422]);
      if (res.status < 300) {
        return [...failed, ...todo.map((r): PushResult => ({ listingId: r.listingId, outcome: 'ok', qty: r.qty, version: null }))];
      }
      if (res.status === 400 || res.status === 422) {
        return [
          ...failed,
          ...todo.map((r): PushResult => ({
            listingId: r.listingId,
            outcome: 'failed',
            error: `otter ${res.status}: ${res.text.slice(0, 200)}`,
            retryable: false,
          })),
        ];
      }
      if (attempt > 0) break;
      const known = new Set((await this.fetchMenu()).map((m) => m.id));
      const unknown = todo.filter((r) => !known.has(r.externalId));
      if (unknown.length === 0) break;
      for (const r of unknown)
        failed.push({ listingId: r.listingId, outcome: 'failed', error: `item ${r.externalId} is not on the Otter menu`, retryable: false });
      todo = todo.filter((r) => known.has(r.externalId));
    }
    if (todo.length === 0) return failed;
    throw new ChannelError('permanent', `otter: store ${this.storeId} not found (404)`, { status: 404 });
  }

  /**
   * The order feed since the cursor. The first poll starts the clock (orders placed before it are
   * history). Each poll re-reads POLL_LOOKBACK_MS behind the newest order seen, so an order
   * cancelled after we counted it is seen again; keys already returned are not returned twice.
   */
  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    const now = this.now();
    if (cursor === null) return { events: [], cursor: JSON.stringify({ start: now, since: now, seen: {} } satisfies PollCursor) };
    const from = JSON.parse(cursor) as PollCursor;
    const min = Math.max(from.start, Math.min(from.since, now - POLL_LOOKBACK_MS), now - FEED_MAX_AGE_MS);
    const seen: Record<string, number> = {};
    for (const [k, t] of Object.entries(from.seen)) if (t >= min) seen[k] = t;
    const events: InboundEvent[] = [];
    let since = from.since;
    let token: string | null = null;
    let complete = false;
    for (let page = 0; page < MAX_POLL_PAGES; page++) {
      const q = new URLSearchParams({ limit: String(this.conn.settings.page_size), minDateTime: new Date(min).toISOString() });
      if (token) q.set('token', token);
      const res = await this.api('GET', `/manager/order/v1/orders?${q}`);
      const body = res.json<{ orders?: unknown; offsetToken?: unknown }>();
      if (!Array.isArray(body.orders)) throw new ChannelError('transient', 'otter order feed: no orders in answer');
      for (const o of body.orders as OtterOrderBody[]) {
        const at = typeof o?.orderedAt === 'string' ? Date.parse(o.orderedAt) : NaN;
        if (!Number.isFinite(at) || at < from.start) continue;
        let evs: InboundEvent[];
        try {
          evs = orderEvents(o, this.storeId, new Date(now).toISOString());
        } catch {
          continue; // an order we cannot read is reported by nothing here; the webhook path refuses it loudly
        }
        for (const e of evs) {
          if (seen[e.externalEventId] !== undefined) continue;
          seen[e.externalEventId] = at;
          events.push(e);
        }
        since = Math.max(since, at);
      }
      token = typeof body.offsetToken === 'string' && body.offsetToken ? body.offsetToken : null;
      if (!token) {
        complete = true;
        break;
      }
    }
    // A window too big to read whole keeps the old cursor: nothing older than what was read is skipped.
    return { events, cursor: JSON.stringify({ start: from.start, since: complete ? since : from.since, seen } satisfies PollCursor) };
  }

  /** Otter has no versions: any reading is newer than none, and no reading is newer than another. */
  isNewer(_a: string | null | undefined, b: string | null | undefined): boolean {
    return b === null || b === undefined;
  }

  async close(): Promise<void> {
    // The HTTP pool is shared by all adapters; nothing of ours to release.
  }
}
