// Vendure adapter: the Admin GraphQL API of Vendure 3 (facts: /work/shared/vendure.md).
// - auth: `login` mutation; the session token comes back in the `vendure-auth-token` header and
//   goes out as a bearer token; an expired or revoked session (FORBIDDEN) logs in again once.
// - a listing is one variant at one Vendure stock location; its quantity is what Vendure can
//   still sell there: stockOnHand - stockAllocated (Vendure's allocations are StockClerk
//   reservations, already subtracted from the sellable we push).
// - push: Vendure only sets absolute stockOnHand (no compare-and-set, no delta), so pushing
//   "sellable N" reads the level and sets stockOnHand = N + stockAllocated, then reads back.
//   Vendure loses concurrent updates to one level (vendure.md): this adapter never has two
//   writes in flight for one variant, and a read-back that disagrees is reported as stale so the
//   Sync agent pushes again; the Guardian repairs what other writers' races leave.
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
import { httpCall } from '../http-client.ts';
import type { VendureSettings } from './settings.ts';
import { movementEvents, VendureMovement } from './webhook.ts';

export const vendureCapabilities: ChannelCapabilities = {
  quantityModel: 'absolute',
  compareAndSet: false,
  // Sales come from stock movement events (allocation/sale/...); adjustments are checked against levels.
  defaultSalesSource: 'orders',
  webhooks: true,
  // The plugin's deliveries live in memory: the Watcher also polls its stockClerkMovements query.
  pollable: true,
  maxPushBatch: 100,
  // Self-hosted, no documented limit; measured ~50 stock writes/s on 2 cores (vendure.md).
  rateLimit: { perSecond: 20, burst: 40 },
  callsPerPush: 3,
};

const LOGIN = `mutation StockClerkLogin($u: String!, $p: String!) {
  login(username: $u, password: $p) { __typename ... on CurrentUser { identifier } ... on ErrorResult { errorCode message } }
}`;
const ME = `query StockClerkMe { me { identifier } }`;
const VARIANT_FIELDS = `id sku name stockLevels { stockLocationId stockOnHand stockAllocated }`;
const PAGE = `query StockClerkVariants($skip: Int!, $take: Int!) {
  productVariants(options: { skip: $skip, take: $take, sort: { id: ASC } }) { totalItems items { ${VARIANT_FIELDS} } }
}`;
const READ = `query StockClerkRead($ids: [String!]!, $take: Int!) {
  productVariants(options: { filter: { id: { in: $ids } }, take: $take }) { items { ${VARIANT_FIELDS} } }
}`;
const LOCATIONS = `query StockClerkLocations { stockLocations(options: { take: 100, sort: { id: ASC } }) { items { id name } } }`;
const SET = `mutation StockClerkSet($input: [UpdateProductVariantInput!]!) { updateProductVariants(input: $input) { id } }`;
const POLL = `query StockClerkPoll($after: ID, $take: Int) {
  stockClerkMovements(afterId: $after, take: $take) { id type quantity variantId sku stockLocationId orderLineId stockOnHand stockAllocated createdAt }
}`;

interface Variant {
  id: string;
  sku: string | null;
  name: string | null;
  stockLevels: Array<{ stockLocationId: string; stockOnHand: number; stockAllocated: number }>;
}
interface GqlBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

const PAGE_SIZE = 100;
const POLL_TAKE = 500;

/**
 * One write in flight per variant: a call waits for every earlier call that touches any of its
 * variants. The chain is installed synchronously for all ids at once, so calls cannot deadlock.
 */
export class VariantLocks {
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

  get size(): number {
    return this.tails.size;
  }
}

export class VendureAdapter implements ChannelAdapter {
  readonly type = 'vendure';
  readonly capabilities = vendureCapabilities;
  private readonly url: string;
  private readonly credentials: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly locks = new VariantLocks();
  private token: string | null = null;
  private loggingIn: Promise<string> | null = null;
  /** The configured stock location, else Vendure's first (looked up once). */
  private defaultLocation: string | null;

  constructor(conn: ChannelConnection<VendureSettings>) {
    this.url = `${trimBase(conn.baseUrl)}/${conn.settings.admin_api_path.replace(/^\/+/, '')}`;
    this.credentials = conn.credentials;
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.defaultLocation = conn.settings.stock_location_id ?? null;
  }

  private async login(): Promise<string> {
    const res = await httpCall({
      method: 'POST',
      url: this.url,
      body: { query: LOGIN, variables: { u: this.credentials.username ?? '', p: this.credentials.password ?? '' } },
      timeoutMs: this.timeoutMs,
    });
    const body = res.json<GqlBody<{ login: { __typename: string; errorCode?: string; message?: string } }>>();
    const r = body.data?.login;
    const t = res.headers['vendure-auth-token'];
    const tok = Array.isArray(t) ? t[0] : t;
    if (!r || r.__typename !== 'CurrentUser' || !tok) {
      throw new ChannelError('auth', `Vendure login refused: ${r?.errorCode ?? body.errors?.[0]?.message ?? 'no session token'}`, { status: res.status });
    }
    return tok;
  }

  /** Concurrent callers share one login. */
  private async session(fresh: boolean): Promise<string> {
    if (this.token && !fresh) return this.token;
    this.loggingIn ??= this.login().finally(() => (this.loggingIn = null));
    this.token = await this.loggingIn;
    return this.token;
  }

  private async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const tok = await this.session(attempt > 0);
      let res;
      try {
        res = await httpCall({
          method: 'POST',
          url: this.url,
          headers: { authorization: `Bearer ${tok}` },
          body: { query, variables },
          timeoutMs: this.timeoutMs,
        });
      } catch (err) {
        // An expired session answers 401/403 on some setups: log in again once before giving up.
        if (err instanceof ChannelError && err.kind === 'auth' && attempt === 0) continue;
        throw err;
      }
      // Vendure rotates the token in the header when it refreshes a session.
      const next = res.headers['vendure-auth-token'];
      if (typeof next === 'string' && next) this.token = next;
      const body = res.json<GqlBody<T>>();
      const codes = (body.errors ?? []).map((e) => e.extensions?.code);
      if (codes.includes('FORBIDDEN') && attempt === 0) continue;
      if (body.errors && body.errors.length > 0) {
        const text = body.errors.map((e) => e.message).join('; ');
        if (codes.includes('FORBIDDEN')) throw new ChannelError('auth', `Vendure: ${text}`, { status: res.status });
        if (codes.includes('INTERNAL_SERVER_ERROR')) throw new ChannelError('transient', `Vendure: ${text}`, { status: res.status });
        throw new ChannelError('permanent', `Vendure GraphQL error: ${text}`, { status: res.status });
      }
      if (!body.data) throw new ChannelError('transient', 'Vendure answered without data', { status: res.status });
      return body.data;
    }
  }

  private async stockLocation(): Promise<string> {
    if (this.defaultLocation) return this.defaultLocation;
    const data = await this.gql<{ stockLocations: { items: Array<{ id: string; name: string }> } }>(LOCATIONS);
    const first = data.stockLocations.items[0];
    if (!first) throw new ChannelError('permanent', 'Vendure has no stock location');
    this.defaultLocation = first.id;
    return first.id;
  }

  private toListing(v: Variant, loc: string): RemoteListing | null {
    const level = v.stockLevels.find((l) => l.stockLocationId === loc);
    if (!level) return null;
    return { externalId: v.id, externalLocationId: loc, sku: v.sku || null, name: v.name, qty: level.stockOnHand - level.stockAllocated, version: null };
  }

  private async readVariants(ids: string[]): Promise<Map<string, Variant>> {
    const out = new Map<string, Variant>();
    for (const part of chunk([...new Set(ids)], 500)) {
      const data = await this.gql<{ productVariants: { items: Variant[] } }>(READ, { ids: part, take: part.length });
      for (const v of data.productVariants.items) out.set(v.id, v);
    }
    return out;
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const fallback = await this.stockLocation();
    const variants = await this.readVariants(refs.map((r) => r.externalId));
    const out: RemoteListing[] = [];
    for (const r of refs) {
      const v = variants.get(r.externalId);
      const l = v ? this.toListing(v, r.externalLocationId || fallback) : null;
      if (l) out.push(l);
    }
    return out;
  }

  private async pushChunk(reqs: PushRequest[], idx: number[], results: PushResult[], fallback: string): Promise<void> {
    const fresh = await this.readVariants(idx.map((i) => reqs[i]!.externalId));
    // One entry per variant; several locations of one variant go in the same entry.
    const input = new Map<string, Array<{ stockLocationId: string; stockOnHand: number }>>();
    const writable: number[] = [];
    const written = new Map<number, number>();
    const unchanged = new Set<number>();
    for (const i of idx) {
      const r = reqs[i]!;
      const loc = r.externalLocationId || fallback;
      const level = fresh.get(r.externalId)?.stockLevels.find((l) => l.stockLocationId === loc);
      if (!level) {
        results[i] = { listingId: r.listingId, outcome: 'failed', error: `variant ${r.externalId} has no stock level at location ${loc}`, retryable: false };
        continue;
      }
      writable.push(i);
      const onHand = r.qty + level.stockAllocated;
      written.set(i, onHand);
      // Setting the value it already holds is a no-op in Vendure (no movement): skip the call.
      if (level.stockOnHand !== onHand) input.set(r.externalId, [...(input.get(r.externalId) ?? []), { stockLocationId: loc, stockOnHand: onHand }]);
      else unchanged.add(i);
    }
    if (input.size > 0) {
      await this.gql(SET, { input: [...input].map(([id, stockLevels]) => ({ id, stockLevels })) });
    }
    // Read back: Vendure's own writers (checkouts, admins) race with ours without locks.
    const after = input.size > 0 ? await this.readVariants(writable.map((i) => reqs[i]!.externalId)) : fresh;
    for (const i of writable) {
      const r = reqs[i]!;
      const v = after.get(r.externalId);
      const remote = v ? this.toListing(v, r.externalLocationId || fallback) : null;
      if (!remote) results[i] = { listingId: r.listingId, outcome: 'failed', error: `variant ${r.externalId} vanished`, retryable: true };
      // `written`: the stockOnHand we set. An allocation between our read and our write leaves the
      // sellable short of r.qty (stale, pushed again), and that adjustment's echo still comes back.
      else if (remote.qty === r.qty) {
        results[i] = {
          listingId: r.listingId,
          outcome: 'ok',
          qty: r.qty,
          version: null,
          written: written.get(i),
          ...(unchanged.has(i) ? { unchanged: true as const } : {}),
        };
      } else results[i] = { listingId: r.listingId, outcome: 'stale', remote, written: written.get(i) };
    }
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    const data = await this.gql<{ me: { identifier: string } | null }>(ME);
    if (!data.me) throw new ChannelError('auth', 'Vendure session has no user');
    return { ok: true, account: data.me.identifier };
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const loc = await this.stockLocation();
    for (let skip = 0; ; skip += PAGE_SIZE) {
      const data = await this.gql<{ productVariants: { totalItems: number; items: Variant[] } }>(PAGE, { skip, take: PAGE_SIZE });
      yield data.productVariants.items.map((v) => this.toListing(v, loc)).filter((l): l is RemoteListing => l !== null);
      if (skip + PAGE_SIZE >= data.productVariants.totalItems || data.productVariants.items.length === 0) break;
    }
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: PushResult[] = new Array<PushResult>(reqs.length);
    const valid: number[] = [];
    reqs.forEach((r, i) => {
      if (!Number.isInteger(r.qty) || r.qty < 0)
        results[i] = { listingId: r.listingId, outcome: 'failed', error: `invalid quantity ${r.qty}`, retryable: false };
      else valid.push(i);
    });
    // The variants are claimed before the first await, so calls on one variant run in call order.
    return this.locks.run(
      valid.map((i) => reqs[i]!.externalId),
      async () => {
        const fallback = await this.stockLocation();
        for (const part of chunk(valid, vendureCapabilities.maxPushBatch)) await this.pushChunk(reqs, part, results, fallback);
        return results;
      },
    );
  }

  async pollEvents(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }> {
    // The first poll only finds where the movement log ends: history before the channel was
    // connected is already in the imported levels.
    if (cursor === null) {
      let last = '0';
      for (;;) {
        const page = (await this.gql<{ stockClerkMovements: VendureMovement[] }>(POLL, { after: last, take: POLL_TAKE })).stockClerkMovements;
        if (page.length === 0) return { events: [], cursor: last };
        last = page[page.length - 1]!.id;
      }
    }
    const page = (await this.gql<{ stockClerkMovements: unknown[] }>(POLL, { after: cursor, take: POLL_TAKE })).stockClerkMovements;
    const movements = page.map((m) => VendureMovement.parse(m));
    return { events: movementEvents(movements), cursor: movements.length ? movements[movements.length - 1]!.id : cursor };
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    // Versions are Vendure stock movement ids (integers, increasing).
    if (!a) return false;
    if (!b) return true;
    const na = Number(a);
    const nb = Number(b);
    return Number.isFinite(na) && Number.isFinite(nb) ? na > nb : a > b;
  }

  async close(): Promise<void> {
    // Sessions expire on Vendure's side; the keep-alive pool is shared.
  }
}
