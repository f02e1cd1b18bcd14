// Deliveroo Partner Platform client. Deliveroo has no stock counts, only an availability status
// per menu item and site, so a push says "available" (qty > 0) or "unavailable"; the menu (for
// names and PLUs) and the site's unavailabilities together give the current state.
// Auth: OAuth2 client credentials; tokens live 300 s and there is no refresh token.
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelConnection,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { chunk, trimBase } from '../adapter-kit.ts';
import { basicAuth, httpCall, type HttpResult } from '../http-client.ts';
import type { DeliverooSettings } from './settings.ts';

export const DELIVEROO_CAPABILITIES: ChannelCapabilities = {
  quantityModel: 'availability',
  compareAndSet: false,
  // Orders carry what was sold; availability never reports sales (there are no counts).
  defaultSalesSource: 'orders',
  webhooks: true,
  pollable: false,
  maxPushBatch: 100,
  // 1 request / 100 ms / site for partial availability updates.
  rateLimit: { perSecond: 10, burst: 10 },
};

/** Items per availability POST. GUESS: no documented cap; 100 keeps bodies small and matches maxPushBatch. */
const POST_CHUNK = 100;
/** Listings per yielded page. The menu arrives whole (no paging); chunks keep the engine's batches bounded. */
const LIST_CHUNK = 200;
/** Refresh this long before expiry (capped at half the lifetime so short test tokens still get reused). */
const TOKEN_MARGIN_MS = 30_000;

type Status = 'available' | 'unavailable' | 'hidden';

interface MenuItem {
  id: string;
  name: string | null;
  plu: string | null;
}

export class DeliverooAdapter implements ChannelAdapter {
  readonly type = 'deliveroo';
  readonly capabilities = DELIVEROO_CAPABILITIES;
  private readonly conn: ChannelConnection<DeliverooSettings>;
  private readonly baseUrl: string;
  private readonly authBaseUrl: string;
  private readonly timeoutMs: number;
  private token: { value: string; refreshAt: number } | null = null;
  private pendingToken: Promise<string> | null = null;

  constructor(conn: ChannelConnection<DeliverooSettings>) {
    this.conn = conn;
    this.baseUrl = trimBase(conn.baseUrl);
    // Production tokens come from auth.developers.deliveroo.com; the emulator serves them on its own host.
    this.authBaseUrl = trimBase(conn.settings.auth_base_url ?? this.baseUrl);
    this.timeoutMs = conn.settings.request_timeout_ms;
  }

  /** The account's ids: optional when saved (a channel can be connected first), needed by every call. */
  private setting(name: 'brand_id' | 'site_id' | 'menu_id'): string {
    const v = this.conn.settings[name];
    if (!v) throw new ChannelError('permanent', `deliveroo: setting ${name} is required`);
    return encodeURIComponent(v);
  }

  private get siteId(): string {
    return String(this.conn.settings.site_id);
  }

  private unavailabilitiesPath(): string {
    return `/menu/v2/brands/${this.setting('brand_id')}/sites/${this.setting('site_id')}/menu/item_unavailabilities`;
  }

  private async getToken(): Promise<string> {
    if (this.token && Date.now() < this.token.refreshAt) return this.token.value;
    // Single flight: concurrent calls share one token request.
    this.pendingToken ??= this.fetchToken().finally(() => {
      this.pendingToken = null;
    });
    return this.pendingToken;
  }

  private async fetchToken(): Promise<string> {
    const { client_id, client_secret } = this.conn.credentials;
    if (!client_id || !client_secret) throw new ChannelError('auth', 'deliveroo: client_id and client_secret are required');
    const res = await httpCall(
      {
        method: 'POST',
        url: `${this.authBaseUrl}/oauth2/token`,
        headers: { authorization: basicAuth(client_id, client_secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
        timeoutMs: this.timeoutMs,
      },
      [400],
    );
    // OAuth2 servers may answer a bad client with 400 invalid_client: still a credentials problem.
    if (res.status === 400) throw new ChannelError('auth', `deliveroo token: ${res.text.slice(0, 200)}`, { status: 400 });
    const body = res.json<{ access_token?: unknown; expires_in?: unknown }>();
    if (typeof body.access_token !== 'string') throw new ChannelError('transient', 'deliveroo token: no access_token in answer');
    const ttlMs = (typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300) * 1000;
    this.token = { value: body.access_token, refreshAt: Date.now() + ttlMs - Math.min(TOKEN_MARGIN_MS, ttlMs / 2) };
    return body.access_token;
  }

  /** An API call with the bearer token; a 401 (token revoked or expired early) refetches the token once. */
  private async api(method: 'GET' | 'POST', path: string, body?: unknown, okStatuses: number[] = []): Promise<HttpResult> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.getToken();
      try {
        return await httpCall({ method, url: this.baseUrl + path, headers: { authorization: `Bearer ${token}` }, body, timeoutMs: this.timeoutMs }, okStatuses);
      } catch (err) {
        if (attempt > 0 || !(err instanceof ChannelError) || err.status !== 401) throw err;
        if (this.token?.value === token) this.token = null;
      }
    }
  }

  private async fetchMenu(): Promise<MenuItem[]> {
    const res = await this.api('GET', `/menu/v1/brands/${this.setting('brand_id')}/menus/${this.setting('menu_id')}`);
    // GUESS: menu read shape {menu: {items: [{id, name: {en} | string, plu}]}}; a top-level items list is accepted too.
    const body = res.json<{ menu?: { items?: unknown }; items?: unknown }>();
    const raw = Array.isArray(body.menu?.items) ? body.menu.items : Array.isArray(body.items) ? body.items : null;
    if (!raw) throw new ChannelError('permanent', 'deliveroo menu: no items list in answer');
    const items: MenuItem[] = [];
    for (const it of raw as Array<{ id?: unknown; name?: unknown; plu?: unknown }>) {
      if (typeof it?.id !== 'string') continue;
      items.push({ id: it.id, name: itemName(it.name), plu: typeof it.plu === 'string' && it.plu ? it.plu : null });
    }
    return items;
  }

  private async fetchUnavailable(): Promise<Map<string, Status>> {
    const res = await this.api('GET', this.unavailabilitiesPath());
    const list = res.json<{ item_unavailabilities?: Array<{ item_id?: unknown; status?: unknown }> }>().item_unavailabilities;
    const out = new Map<string, Status>();
    for (const u of Array.isArray(list) ? list : []) {
      if (typeof u?.item_id === 'string') out.set(u.item_id, u.status === 'hidden' ? 'hidden' : 'unavailable');
    }
    return out;
  }

  private async snapshot(): Promise<RemoteListing[]> {
    const [menu, unavailable] = await Promise.all([this.fetchMenu(), this.fetchUnavailable()]);
    return menu.map((m) => ({
      externalId: m.id,
      externalLocationId: this.siteId,
      sku: m.plu,
      name: m.name,
      qty: null,
      available: !unavailable.has(m.id),
      version: null,
    }));
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    await this.fetchUnavailable();
    return { ok: true, account: `brand ${String(this.conn.settings.brand_id)} / site ${this.siteId}` };
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

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results = new Map<string, PushResult>();
    // A failure thrown mid-way loses nothing: availability writes are idempotent, the engine re-pushes all.
    for (const part of chunk(reqs, POST_CHUNK)) {
      for (const r of await this.pushChunk(part)) results.set(r.listingId, r);
    }
    return reqs.map((r) => results.get(r.listingId)!);
  }

  private async pushChunk(reqs: PushRequest[]): Promise<PushResult[]> {
    const failed: PushResult[] = [];
    let todo = reqs;
    for (let attempt = 0; todo.length > 0; attempt++) {
      const body = { item_unavailabilities: todo.map((r) => ({ item_id: r.externalId, status: r.qty > 0 ? 'available' : 'unavailable' })) };
      const res = await this.api('POST', this.unavailabilitiesPath(), body, [400, 404]);
      if (res.status < 300) {
        return [...failed, ...todo.map((r): PushResult => ({ listingId: r.listingId, outcome: 'ok', qty: r.qty, version: null }))];
      }
      if (res.status === 400) {
        return [
          ...failed,
          ...todo.map((r): PushResult => ({ listingId: r.listingId, outcome: 'failed', error: `deliveroo 400: ${res.text.slice(0, 200)}`, retryable: false })),
        ];
      }
      // 404: one unknown item fails the whole request. Find the unknown ones on the menu, fail
      // only those, and send the rest again. If the menu knows them all, the site itself is wrong.
      if (attempt > 0) break;
      const known = new Set((await this.fetchMenu()).map((m) => m.id));
      const unknown = todo.filter((r) => !known.has(r.externalId));
      if (unknown.length === 0) break;
      for (const r of unknown)
        failed.push({ listingId: r.listingId, outcome: 'failed', error: `item ${r.externalId} is not on the Deliveroo menu`, retryable: false });
      todo = todo.filter((r) => known.has(r.externalId));
    }
    if (todo.length === 0) return failed;
    throw new ChannelError('permanent', `deliveroo: site ${this.siteId} or brand not found (404)`, { status: 404 });
  }

  /** Deliveroo has no versions: any reading is newer than none, and no reading is newer than another. */
  isNewer(_a: string | null | undefined, b: string | null | undefined): boolean {
    return b === null || b === undefined;
  }

  async close(): Promise<void> {
    // The HTTP pool is shared by all adapters; nothing of ours to release.
  }
}

/** Menu names are translation maps ({en: "..."}) on Deliveroo; tolerate a plain string. */
function itemName(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const m = v as Record<string, unknown>;
    const first = typeof m.en === 'string' ? m.en : Object.values(m).find((x) => typeof x === 'string');
    return typeof first === 'string' ? first : null;
  }
  return null;
}
