// Shopify adapter: GraphQL Admin API 2026-01. Reads levels per location, pushes absolute
// "available" quantities with inventorySetQuantities guarded by changeFromQuantity (CAS) and an
// @idempotent key, and maps Shopify's throttling (200 + THROTTLED, or 429) to rate_limited.
// Facts: /work/shared/channel-apis.md section 1.
import { createHash } from 'node:crypto';
import { chunk, trimBase } from '../adapter-kit.ts';
import {
  ChannelError,
  type ChannelAdapter,
  type ChannelCapabilities,
  type ChannelConnection,
  type PushRequest,
  type PushResult,
  type RemoteListing,
} from '../contract.ts';
import { httpCall } from '../http-client.ts';
import type { ShopifySettings } from './settings.ts';

export const API_VERSION = '2026-01';

export const shopifyCapabilities: ChannelCapabilities = {
  quantityModel: 'absolute',
  compareAndSet: true,
  // orders/create is the sale; inventory_levels/update for the same checkout only confirms (invariant 5).
  defaultSalesSource: 'orders',
  webhooks: true,
  // No pollEvents: webhooks plus the Guardian's scheduled read-back cover lost deliveries.
  pollable: false,
  maxPushBatch: 250,
  // Shopify meters cost points, not requests: Standard plan restores 100 points/s into a 1000-point
  // bucket, and one set mutation costs 10, so ~10 pushes/s with a burst of 100. Reads cost more
  // (a 250-level page is ~750 points); a THROTTLED answer carries the exact wait in retryAfterMs.
  rateLimit: { perSecond: 10, burst: 100 },
};

const SHOP = 'query StockClerkShop { shop { name } }';

const LEVELS = `query StockClerkLevels($locationId: ID!, $after: String) {
  location(id: $locationId) {
    inventoryLevels(first: 250, after: $after) {
      nodes { updatedAt item { id sku } quantities(names: ["available"]) { name quantity } }
      pageInfo { hasNextPage endCursor }
    }
  }
}`;

const READ = `query StockClerkRead($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id sku
      inventoryLevel(locationId: $locationId) { updatedAt quantities(names: ["available"]) { name quantity } }
    }
  }
}`;

// The level's updatedAt is read inside the payload so a push needs one call to learn its version.
const SET = `mutation StockClerkSet($input: InventorySetQuantitiesInput!, $locationId: ID!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup {
      changes { name delta quantityAfterChange item { id inventoryLevel(locationId: $locationId) { updatedAt } } }
    }
    userErrors { code field message }
  }
}`;

interface Quantities {
  quantities: Array<{ name: string; quantity: number | null }>;
}
interface LevelsData {
  location: {
    inventoryLevels: {
      nodes: Array<Quantities & { updatedAt: string; item: { id: string; sku: string | null } }>;
      pageInfo: { hasNextPage: boolean; endCursor: string | null };
    };
  } | null;
}
interface ReadData {
  nodes: Array<{ id?: string; sku?: string | null; inventoryLevel?: (Quantities & { updatedAt: string }) | null } | null>;
}
interface SetData {
  inventorySetQuantities: {
    inventoryAdjustmentGroup: {
      changes: Array<{ name: string; quantityAfterChange: number | null; item: { id: string; inventoryLevel: { updatedAt: string } | null } }>;
    } | null;
    userErrors: Array<{ code: string | null; field: string[] | null; message: string }>;
  };
}
interface GqlBody<T> {
  data?: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }> | string;
  extensions?: { cost?: { requestedQueryCost?: number; throttleStatus?: { maximumAvailable?: number; currentlyAvailable?: number; restoreRate?: number } } };
}

/** Longest the adapter waits for Shopify's bucket before a call; beyond it the call runs and may be throttled. */
const MAX_PACE_MS = 15_000;
// Our own estimates of each document's requested cost (objects 1, connections 2 + first x node).
const LEVELS_COST = 753;
const readCost = (ids: number) => 3 * ids;
const SET_COST = 10;

const STALE_CODES = new Set(['CHANGE_FROM_QUANTITY_STALE', 'COMPARE_QUANTITY_STALE']);

/** Shopify's wait: the points missing over the restore rate. */
function throttleWaitMs(body: GqlBody<unknown>): number {
  const cost = body.extensions?.cost;
  const requested = cost?.requestedQueryCost;
  const avail = cost?.throttleStatus?.currentlyAvailable;
  const rate = cost?.throttleStatus?.restoreRate;
  if (requested === undefined || avail === undefined || !rate) return 1000;
  return Math.max(0, Math.ceil(((requested - avail) / rate) * 1000));
}

function gqlFailure(body: GqlBody<unknown>): ChannelError {
  const errs = typeof body.errors === 'string' ? [{ message: body.errors }] : (body.errors ?? []);
  const codes = errs.map((e) => ('extensions' in e ? e.extensions?.code : undefined));
  const text = errs.map((e) => e.message).join('; ') || 'no data';
  if (codes.includes('THROTTLED')) return new ChannelError('rate_limited', `Shopify throttled: ${text}`, { retryAfterMs: throttleWaitMs(body), status: 200 });
  if (codes.includes('ACCESS_DENIED') || codes.includes('UNAUTHORIZED')) return new ChannelError('auth', `Shopify: ${text}`, { status: 200 });
  if (codes.includes('INTERNAL_SERVER_ERROR') || codes.includes('SERVICE_UNAVAILABLE') || codes.includes('TIMEOUT')) {
    return new ChannelError('transient', `Shopify: ${text}`, { status: 200 });
  }
  return new ChannelError('permanent', `Shopify GraphQL error: ${text}`, { status: 200 });
}

function available(q: Quantities): number | null {
  return q.quantities.find((x) => x.name === 'available')?.quantity ?? null;
}

/** One key per mutation, derived from the batch: a retry of the same batch with the same inputs replays. */
function batchKey(keys: string[], input: unknown): string {
  const h = createHash('sha256').update(JSON.stringify({ keys, input })).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

type Ref = { externalId: string; externalLocationId?: string | null };

export class ShopifyAdapter implements ChannelAdapter {
  readonly type = 'shopify';
  readonly capabilities = shopifyCapabilities;
  private readonly channelId: string;
  private readonly url: string;
  private readonly token: string;
  private readonly defaultLocation: string;
  private readonly timeoutMs: number;
  // Last bucket state Shopify reported. Bulk reads cost hundreds of points (a 250-level page is
  // ~750 of a 1000-point bucket), so consecutive pages must wait for the bucket to refill: we pace
  // from throttleStatus as Shopify recommends instead of running into THROTTLED. Best effort: other
  // workers share the bucket, so THROTTLED still maps to rate_limited.
  private bucket: { available: number; rate: number; max: number; at: number } | null = null;

  constructor(conn: ChannelConnection<ShopifySettings>) {
    this.channelId = conn.channelId;
    this.url = `${trimBase(conn.baseUrl)}/admin/api/${API_VERSION}/graphql.json`;
    this.token = conn.credentials.access_token ?? '';
    this.defaultLocation = conn.settings.location_id;
    this.timeoutMs = conn.settings.request_timeout_ms;
  }

  private async pace(cost: number): Promise<void> {
    const bucket = this.bucket;
    if (!bucket) return;
    const est = Math.min(bucket.max, bucket.available + ((Date.now() - bucket.at) / 1000) * bucket.rate);
    const waitMs = Math.ceil(((cost - est) / bucket.rate) * 1000);
    if (waitMs > 0 && waitMs <= MAX_PACE_MS) await new Promise((r) => setTimeout(r, waitMs));
  }

  private async gql<T>(query: string, variables: Record<string, unknown>, cost = 1): Promise<T> {
    await this.pace(cost);
    const res = await httpCall({
      method: 'POST',
      url: this.url,
      headers: { 'X-Shopify-Access-Token': this.token },
      body: { query, variables },
      timeoutMs: this.timeoutMs,
    });
    const body = res.json<GqlBody<T>>();
    const ts = body.extensions?.cost?.throttleStatus;
    if (ts?.currentlyAvailable !== undefined && ts.restoreRate) {
      this.bucket = { available: ts.currentlyAvailable, rate: ts.restoreRate, max: ts.maximumAvailable ?? ts.currentlyAvailable, at: Date.now() };
    }
    if ((body.errors && body.errors.length > 0) || !body.data) throw gqlFailure(body);
    return body.data;
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    const data = await this.gql<{ shop: { name: string } }>(SHOP, {});
    return { ok: true, account: data.shop.name };
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const loc = this.defaultLocation;
    let after: string | null = null;
    do {
      const data: LevelsData = await this.gql<LevelsData>(LEVELS, { locationId: loc, after }, LEVELS_COST);
      if (!data.location) throw new ChannelError('permanent', `Shopify location ${loc} not found`);
      const page = data.location.inventoryLevels;
      yield page.nodes.map((n) => ({
        externalId: n.item.id,
        externalLocationId: loc,
        sku: n.item.sku ?? null,
        name: null,
        qty: available(n),
        version: n.updatedAt,
      }));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
  }

  async readListings(refs: Ref[]): Promise<RemoteListing[]> {
    const byLoc = new Map<string, string[]>();
    for (const r of refs) {
      const loc = r.externalLocationId ?? this.defaultLocation;
      byLoc.set(loc, [...(byLoc.get(loc) ?? []), r.externalId]);
    }
    const out: RemoteListing[] = [];
    for (const [loc, ids] of byLoc) {
      for (const part of chunk(ids, 250)) {
        const data = await this.gql<ReadData>(READ, { ids: part, locationId: loc }, readCost(part.length));
        for (const n of data.nodes) {
          // Unknown ids and items not stocked at this location have no level to report.
          if (!n?.id || !n.inventoryLevel) continue;
          out.push({ externalId: n.id, externalLocationId: loc, sku: n.sku ?? null, qty: available(n.inventoryLevel), version: n.inventoryLevel.updatedAt });
        }
      }
    }
    return out;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results: PushResult[] = new Array<PushResult>(reqs.length);
    const byLoc = new Map<string, number[]>();
    reqs.forEach((r, i) => {
      if (!Number.isInteger(r.qty) || r.qty < 0) {
        results[i] = { listingId: r.listingId, outcome: 'failed', error: `invalid quantity ${r.qty}`, retryable: false };
        return;
      }
      const loc = r.externalLocationId ?? this.defaultLocation;
      byLoc.set(loc, [...(byLoc.get(loc) ?? []), i]);
    });
    for (const [loc, idx] of byLoc) for (const part of chunk(idx, 250)) await this.pushChunk(loc, reqs, part, results);
    return results;
  }

  private async pushChunk(loc: string, reqs: PushRequest[], idx: number[], results: PushResult[]): Promise<void> {
    let pending = idx;
    // At most three rounds: the set is all-or-nothing on Shopify (GUESS), so a rejected entry
    // (stale or invalid) is taken out and the rest resubmitted under a key for the smaller batch.
    for (let round = 0; round < 3 && pending.length > 0; round++) {
      const input = {
        name: 'available',
        reason: 'correction',
        // GUESS: any URI is accepted; this one lets the merchant see StockClerk in the inventory history.
        referenceDocumentUri: `gid://stockclerk/Channel/${this.channelId}`,
        quantities: pending.map((i) => {
          const r = reqs[i] as PushRequest;
          // Explicit null opts out of the compare when we do not know what Shopify holds.
          return { inventoryItemId: r.externalId, locationId: loc, quantity: r.qty, changeFromQuantity: r.known.qty ?? null };
        }),
      };
      const key = batchKey(
        pending.map((i) => (reqs[i] as PushRequest).idempotencyKey),
        input,
      );
      const payload = (await this.gql<SetData>(SET, { input, locationId: loc, idempotencyKey: key }, SET_COST)).inventorySetQuantities;

      const stale: number[] = [];
      const rejected = new Set<number>();
      for (const e of payload.userErrors) {
        const pos = e.field?.[0] === 'input' && e.field[1] === 'quantities' ? Number(e.field[2]) : NaN;
        const i = Number.isInteger(pos) ? pending[pos] : undefined;
        if (i === undefined) {
          // Whole-mutation errors (reason, idempotency): nothing applied for anyone in this call.
          const retryable = e.code === 'IDEMPOTENCY_CONCURRENT_REQUEST';
          for (const j of pending)
            results[j] ??= { listingId: (reqs[j] as PushRequest).listingId, outcome: 'failed', error: `${e.code}: ${e.message}`, retryable };
          return;
        }
        rejected.add(i);
        if (STALE_CODES.has(e.code ?? '')) stale.push(i);
        else results[i] = { listingId: (reqs[i] as PushRequest).listingId, outcome: 'failed', error: `${e.code}: ${e.message}`, retryable: false };
      }
      if (stale.length > 0) await this.settleFromRead(loc, reqs, stale, results, true);
      const rest = pending.filter((i) => !rejected.has(i));
      if (payload.inventoryAdjustmentGroup === null && payload.userErrors.length > 0) {
        pending = rest;
        continue;
      }
      const changed = new Map((payload.inventoryAdjustmentGroup?.changes ?? []).filter((c) => c.name === 'available').map((c) => [c.item.id, c]));
      const unseen: number[] = [];
      for (const i of rest) {
        const r = reqs[i] as PushRequest;
        const c = changed.get(r.externalId);
        if (c?.item.inventoryLevel)
          results[i] = { listingId: r.listingId, outcome: 'ok', qty: c.quantityAfterChange ?? r.qty, version: c.item.inventoryLevel.updatedAt };
        else unseen.push(i);
      }
      // No change row: Shopify already held the value, so the version must be read.
      if (unseen.length > 0) await this.settleFromRead(loc, reqs, unseen, results, false);
      return;
    }
    for (const i of pending)
      results[i] ??= { listingId: (reqs[i] as PushRequest).listingId, outcome: 'failed', error: 'rejected in every resubmission', retryable: true };
  }

  /** Fresh read for entries whose outcome the mutation did not settle: stale CAS, or no-op sets. */
  private async settleFromRead(loc: string, reqs: PushRequest[], idx: number[], results: PushResult[], casFailed: boolean): Promise<void> {
    const fresh = new Map(
      (await this.readListings(idx.map((i) => ({ externalId: (reqs[i] as PushRequest).externalId, externalLocationId: loc })))).map((l) => [l.externalId, l]),
    );
    for (const i of idx) {
      const r = reqs[i] as PushRequest;
      const remote = fresh.get(r.externalId);
      if (!remote) results[i] = { listingId: r.listingId, outcome: 'failed', error: 'inventory item not stocked at location', retryable: false };
      else if (casFailed || remote.qty !== r.qty) results[i] = { listingId: r.listingId, outcome: 'stale', remote };
      else results[i] = { listingId: r.listingId, outcome: 'ok', qty: r.qty, version: remote.version ?? null };
    }
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    if (!a) return false;
    if (!b) return true;
    const ta = Date.parse(a);
    const tb = Date.parse(b);
    // updatedAt may carry an offset (REST webhooks) or Z (GraphQL): compare instants, not strings.
    return Number.isFinite(ta) && Number.isFinite(tb) ? ta > tb : a > b;
  }

  async close(): Promise<void> {
    // The shared keep-alive pool in http-client outlives one adapter; nothing to release.
  }
}
