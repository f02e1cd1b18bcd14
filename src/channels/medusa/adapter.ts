// Medusa v2 adapter: the Admin REST API of a self-hosted Medusa (facts: /work/shared/medusa.md).
// - auth: a secret API key (`sk_...`, sent as HTTP Basic with the key as user, empty password), or
//   an admin user's email/password (`POST /auth/user/emailpass` gives a bearer token; a 401 logs
//   in again once).
// - a listing is one inventory item (Medusa creates one per variant with manage_inventory) at one
//   stock location; its quantity is what Medusa can still sell there: stocked - reserved (Medusa
//   reserves at checkout; those orders are already sales in our ledger).
// - push: Medusa only sets absolute stocked_quantity, so pushing "sellable N" reads the level and
//   sets stocked = N + reserved, then reads back; a checkout that reserved in between shows as
//   stale (the Sync agent pushes again). One write in flight per inventory item.
// - poll: orders created since the cursor (their created_at), with their reservations; the same
//   event ids as the subscriber's webhooks, so the two dedupe.
import { chunk, trimBase } from '../adapter-kit.ts';
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
import { basicAuth, httpCall, type HttpCall } from '../http-client.ts';
import type { MedusaSettings } from './settings.ts';
import { orderEvent, type MedusaOrderState } from './webhook.ts';

export const medusaCapabilities: ChannelCapabilities = {
  quantityModel: 'absolute',
  compareAndSet: false,
  // Orders (placed / canceled) move the ledger; level events confirm and carry our echoes.
  defaultSalesSource: 'orders',
  webhooks: true,
  // The subscriber delivers from memory, best effort: the Watcher also polls the orders.
  pollable: true,
  maxPushBatch: 50,
  // Self-hosted, no documented limit; measured 70-83 stock writes/s on 2 cores (medusa.md).
  rateLimit: { perSecond: 20, burst: 40 },
  callsPerPush: 3,
};

interface Level {
  location_id: string;
  stocked_quantity: number;
  reserved_quantity: number;
}
interface Item {
  id: string;
  sku: string | null;
  title: string | null;
  location_levels?: Level[];
}

const ITEM_FIELDS = 'id,sku,title,location_levels.location_id,location_levels.stocked_quantity,location_levels.reserved_quantity';
const POLL_PAGE = 50;

/** One write in flight per inventory item, in call order (installed before the first await). */
class ItemLocks {
  private readonly tails = new Map<string, Promise<void>>();
  async run<T>(ids: string[], fn: () => Promise<T>): Promise<T> {
    const unique = [...new Set(ids)];
    const before = unique.map((id) => this.tails.get(id)).filter((p): p is Promise<void> => p !== undefined);
    let release!: () => void;
    const mine = new Promise<void>((r) => (release = r));
    for (const id of unique) this.tails.set(id, mine);
    try {
      await Promise.all(before);
      return await fn();
    } finally {
      release();
      for (const id of unique) if (this.tails.get(id) === mine) this.tails.delete(id);
    }
  }
}

const q = (params: Record<string, string | number | string[]>) =>
  Object.entries(params)
    .flatMap(([k, v]) =>
      Array.isArray(v) ? v.map((x) => `${encodeURIComponent(k)}[]=${encodeURIComponent(x)}`) : [`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`],
    )
    .join('&');

export class MedusaAdapter implements ChannelAdapter {
  readonly type = 'medusa';
  readonly capabilities = medusaCapabilities;
  private readonly base: string;
  private readonly credentials: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly locks = new ItemLocks();
  private token: string | null = null;
  private loggingIn: Promise<string> | null = null;
  private location: string | null;
  private readonly pageSize: number;

  constructor(conn: ChannelConnection<MedusaSettings>) {
    this.base = trimBase(conn.baseUrl);
    this.credentials = conn.credentials;
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.location = conn.settings.stock_location_id ?? null;
    this.pageSize = conn.settings.page_size;
  }

  private async login(): Promise<string> {
    const res = await httpCall({
      method: 'POST',
      url: `${this.base}/auth/user/emailpass`,
      body: { email: this.credentials.email ?? '', password: this.credentials.password ?? '' },
      timeoutMs: this.timeoutMs,
    });
    const token = res.json<{ token?: string }>().token;
    if (!token) throw new ChannelError('auth', 'Medusa login gave no token', { status: res.status });
    return token;
  }

  private async authHeader(fresh: boolean): Promise<string> {
    if (this.credentials.api_key) return basicAuth(this.credentials.api_key, '');
    if (!this.token || fresh) {
      this.loggingIn ??= this.login().finally(() => (this.loggingIn = null));
      this.token = await this.loggingIn;
    }
    return `Bearer ${this.token}`;
  }

  private async call<T>(method: HttpCall['method'], path: string, body?: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const authorization = await this.authHeader(attempt > 0);
      try {
        const res = await httpCall({ method, url: `${this.base}${path}`, headers: { authorization }, body, timeoutMs: this.timeoutMs });
        return res.json<T>();
      } catch (err) {
        // A session token expired: log in again once (an API key refused stays refused).
        if (err instanceof ChannelError && err.kind === 'auth' && err.status === 401 && attempt === 0 && !this.credentials.api_key) continue;
        throw err;
      }
    }
  }

  private async stockLocation(): Promise<string> {
    if (this.location) return this.location;
    const r = await this.call<{ stock_locations: Array<{ id: string }> }>(
      'GET',
      `/admin/stock-locations?${q({ limit: 1, order: 'created_at', fields: 'id' })}`,
    );
    const first = r.stock_locations[0];
    if (!first) throw new ChannelError('permanent', 'Medusa has no stock location');
    this.location = first.id;
    return first.id;
  }

  private toListing(it: Item, loc: string): RemoteListing | null {
    const l = it.location_levels?.find((x) => x.location_id === loc);
    if (!l) return null;
    const stocked = Number(l.stocked_quantity);
    const reserved = Number(l.reserved_quantity);
    return { externalId: it.id, externalLocationId: loc, sku: it.sku || null, name: it.title, qty: stocked - reserved, version: null, raw: stocked };
  }

  private async readItems(ids: string[]): Promise<Map<string, Item>> {
    const out = new Map<string, Item>();
    for (const part of chunk([...new Set(ids)], 100)) {
      const r = await this.call<{ inventory_items: Item[] }>('GET', `/admin/inventory-items?${q({ id: part, limit: part.length, fields: ITEM_FIELDS })}`);
      for (const it of r.inventory_items) out.set(it.id, it);
    }
    return out;
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    // Always one authenticated call, even where the location is configured.
    const r = await this.call<{ stock_locations: Array<{ id: string; name: string }> }>(
      'GET',
      `/admin/stock-locations?${q({ limit: 100, order: 'created_at', fields: 'id,name' })}`,
    );
    const loc = this.location ? r.stock_locations.find((l) => l.id === this.location) : r.stock_locations[0];
    if (!loc) throw new ChannelError('permanent', this.location ? `Medusa has no stock location ${this.location}` : 'Medusa has no stock location');
    this.location = loc.id;
    return { ok: true, account: `${this.credentials.api_key ? 'API key' : this.credentials.email}, ${loc.name}` };
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const loc = await this.stockLocation();
    for (let offset = 0; ; offset += this.pageSize) {
      const r = await this.call<{ inventory_items: Item[]; count: number }>(
        'GET',
        `/admin/inventory-items?${q({ limit: this.pageSize, offset, order: 'created_at', fields: ITEM_FIELDS })}`,
      );
      yield r.inventory_items.map((it) => this.toListing(it, loc)).filter((l): l is RemoteListing => l !== null);
      if (offset + this.pageSize >= r.count || r.inventory_items.length === 0) break;
    }
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const fallback = await this.stockLocation();
    const items = await this.readItems(refs.map((r) => r.externalId));
    const out: RemoteListing[] = [];
    for (const r of refs) {
      const it = items.get(r.externalId);
      const l = it ? this.toListing(it, r.externalLocationId || fallback) : null;
      if (l) out.push(l);
    }
    return out;
  }

  pushCalls(reqs: Array<Pick<PushRequest, 'externalId' | 'externalLocationId'>>): number {
    // One read, one write per listing, one read back.
    return 2 + reqs.length;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: PushResult[] = new Array<PushResult>(reqs.length);
    const valid: number[] = [];
    reqs.forEach((r, i) => {
      if (!Number.isInteger(r.qty) || r.qty < 0)
        results[i] = { listingId: r.listingId, outcome: 'failed', error: `invalid quantity ${r.qty}`, retryable: false };
      else valid.push(i);
    });
    return this.locks.run(
      valid.map((i) => reqs[i]!.externalId),
      async () => {
        const fallback = await this.stockLocation();
        for (const part of chunk(valid, medusaCapabilities.maxPushBatch)) await this.pushChunk(reqs, part, results, fallback);
        return results;
      },
    );
  }

  private async pushChunk(reqs: PushRequest[], idx: number[], results: PushResult[], fallback: string): Promise<void> {
    const fresh = await this.readItems(idx.map((i) => reqs[i]!.externalId));
    const written = new Map<number, number>();
    const unchanged = new Set<number>();
    const writable: number[] = [];
    for (const i of idx) {
      const r = reqs[i]!;
      const loc = r.externalLocationId || fallback;
      const level = fresh.get(r.externalId)?.location_levels?.find((l) => l.location_id === loc);
      if (!level) {
        results[i] = { listingId: r.listingId, outcome: 'failed', error: `inventory item ${r.externalId} has no level at location ${loc}`, retryable: false };
        continue;
      }
      writable.push(i);
      const stocked = r.qty + Number(level.reserved_quantity);
      written.set(i, stocked);
      if (Number(level.stocked_quantity) === stocked) {
        unchanged.add(i);
        continue;
      }
      try {
        await this.call('POST', `/admin/inventory-items/${encodeURIComponent(r.externalId)}/location-levels/${encodeURIComponent(loc)}?fields=id`, {
          stocked_quantity: stocked,
        });
      } catch (err) {
        if (err instanceof ChannelError && err.kind === 'permanent') {
          results[i] = { listingId: r.listingId, outcome: 'failed', error: err.message, retryable: false };
          writable.pop();
          continue;
        }
        throw err;
      }
    }
    const anyWritten = writable.some((i) => !unchanged.has(i));
    const after = anyWritten ? await this.readItems(writable.map((i) => reqs[i]!.externalId)) : fresh;
    for (const i of writable) {
      const r = reqs[i]!;
      const it = after.get(r.externalId);
      const remote = it ? this.toListing(it, r.externalLocationId || fallback) : null;
      if (!remote) results[i] = { listingId: r.listingId, outcome: 'failed', error: `inventory item ${r.externalId} vanished`, retryable: true };
      else if (remote.qty === r.qty)
        results[i] = {
          listingId: r.listingId,
          outcome: 'ok',
          qty: r.qty,
          version: null,
          written: written.get(i),
          ...(unchanged.has(i) ? { unchanged: true as const } : {}),
        };
      // A checkout reserved between our read and our write: sellable is short of r.qty.
      else results[i] = { listingId: r.listingId, outcome: 'stale', remote, written: written.get(i) };
    }
  }

  private async reservationsOf(lineItemIds: string[]): Promise<MedusaOrderState['reservations']> {
    const out: MedusaOrderState['reservations'] = [];
    for (const part of chunk(lineItemIds, 100)) {
      const r = await this.call<{ reservations: MedusaOrderState['reservations'] }>(
        'GET',
        `/admin/reservations?${q({ line_item_id: part, limit: 1000, fields: 'id,line_item_id,inventory_item_id,location_id,quantity' })}`,
      );
      out.push(...r.reservations.map((x) => ({ ...x, quantity: Number(x.quantity) })));
    }
    return out;
  }

  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    type Order = {
      id: string;
      created_at: string;
      status: string;
      items?: Array<{ id: string; variant_id?: string | null; variant_sku?: string | null; quantity: number }>;
    };
    // The first poll only finds where the order list ends: older orders are in the imported levels.
    if (cursor === null) {
      const r = await this.call<{ orders: Order[] }>('GET', `/admin/orders?${q({ limit: 1, order: '-created_at', fields: 'id,created_at' })}`);
      return { events: [], cursor: r.orders[0]?.created_at ?? new Date(0).toISOString() };
    }
    const r = await this.call<{ orders: Order[] }>(
      'GET',
      `/admin/orders?${q({ 'created_at[$gt]': cursor, order: 'created_at', limit: POLL_PAGE, fields: 'id,created_at,status,items.id,items.quantity,items.variant_id,items.variant_sku' })}`,
    );
    if (r.orders.length === 0) return { events: [], cursor };
    const lineIds = r.orders.flatMap((o) => (o.items ?? []).map((i) => i.id));
    const reservations = lineIds.length ? await this.reservationsOf(lineIds) : [];
    const events = r.orders
      .filter((o) => o.status !== 'draft')
      .map((o) => {
        const items = (o.items ?? []).map((i) => ({ id: i.id, variant_id: i.variant_id ?? null, sku: i.variant_sku ?? null, quantity: Number(i.quantity) }));
        const mine = new Set(items.map((i) => i.id));
        return orderEvent(o.id, 'placed', {
          created_at: o.created_at,
          status: o.status,
          items,
          reservations: reservations.filter((x) => x.line_item_id && mine.has(x.line_item_id)),
        });
      });
    return { events, cursor: r.orders[r.orders.length - 1]!.created_at };
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    if (!a) return false;
    if (!b) return true;
    return a > b;
  }

  async close(): Promise<void> {
    // Tokens expire on Medusa's side; the keep-alive pool is shared.
  }
}
