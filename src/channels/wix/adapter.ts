// Wix Stores Catalog V3 inventory client. One listing = one inventory item (variant x location);
// writes are absolute and compare-and-set on the item's `revision` (channel-apis.md section 2).
import { chunk } from '../adapter-kit.ts';
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
import { RenewableTokens } from '../renewable-tokens.ts';
import { refreshWixToken } from './oauth.ts';
import type { WixSettings } from './settings.ts';

/** Renew an installed site's access token (5 minutes) this long before it expires. */
const REFRESH_MARGIN_MS = 60_000;

export const WIX_CAPABILITIES: ChannelCapabilities = {
  quantityModel: 'absolute',
  compareAndSet: true,
  // Checkout sends order_created AND inventory_item_updated; the order is the sale, the level confirms.
  defaultSalesSource: 'orders',
  webhooks: true,
  pollable: false,
  maxPushBatch: 100,
  // Wix allows 200 requests/minute per site (3.33/s). Our bucket sits just under that and keeps the
  // burst small, so the engine never spends the whole minute's quota at once and leaves headroom
  // for the site's other apps sharing the quota.
  rateLimit: { perSecond: 3.3, burst: 20 },
};

const QUANTITY_LIMIT = 99_999; // documented range of inventoryItem.quantity
/** Wix Stores' app id, carried by every Stores line item's catalogReference. */
export const WIX_STORES_APP_ID = '215238eb-22a5-4c36-9e7b-e7c08025e04e';
const READ_CHUNK = 100;

/** Inventory item as the REST API returns it (only what we read). */
export interface WixInventoryItem {
  id: string;
  locationId?: string;
  variantId?: string;
  productId?: string;
  trackQuantity?: boolean;
  quantity?: number;
  inStock?: boolean;
  revision?: string | number;
  product?: { name?: string | null; variantName?: string | null; variantSku?: string | null };
}

interface QueryResponse {
  inventoryItems?: WixInventoryItem[];
  pagingMetadata?: { cursors?: { next?: string | null } };
}

// Documented: {results[], bulkActionMetadata}. GUESS: each result's itemMetadata {id, originalIndex,
// success, error{code, description}} + item follows Wix's common bulk-action shape (not read on the page).
interface BulkUpdateResponse {
  results?: Array<{
    itemMetadata?: { id?: string; originalIndex?: number; success?: boolean; error?: { code?: string; description?: string } };
    item?: WixInventoryItem;
  }>;
}

export function toListing(it: WixInventoryItem): RemoteListing {
  const name = [it.product?.name, it.product?.variantName].filter(Boolean).join(' / ');
  return {
    externalId: it.id,
    externalLocationId: it.locationId ?? null,
    // GUESS: product.variantSku is the SDK field name we recall for the variant's SKU on the item.
    sku: it.product?.variantSku || null,
    name: name || null,
    // An item tracked by in-stock flag has no count.
    qty: it.trackQuantity === false || typeof it.quantity !== 'number' ? null : it.quantity,
    available: typeof it.inStock === 'boolean' ? it.inStock : null,
    version: it.revision === undefined || it.revision === null ? null : String(it.revision),
  };
}

function toBig(v: string | null | undefined): bigint | null {
  if (v === null || v === undefined || !/^-?\d+$/.test(v)) return null;
  return BigInt(v);
}

export function isNewerRevision(a: string | null | undefined, b: string | null | undefined): boolean {
  const x = toBig(a);
  const y = toBig(b);
  if (x === null) return false;
  if (y === null) return true;
  return x > y;
}

export class WixAdapter implements ChannelAdapter {
  readonly type = 'wix';
  readonly capabilities = WIX_CAPABILITIES;
  private readonly conn: ChannelConnection<WixSettings>;
  private readonly timeoutMs: number;
  private readonly pageSize: number;
  private readonly locationId: string | null;
  /** A site that installed the app from Wix: its OAuth access token, renewed with the refresh token. Null for an API key. */
  private readonly tokens: RenewableTokens | null;

  constructor(conn: ChannelConnection<WixSettings>) {
    this.conn = conn;
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.pageSize = conn.settings.page_size;
    this.locationId = conn.settings.location_id ?? null;
    this.tokens =
      conn.credentials.refresh_token && !conn.credentials.api_key
        ? new RenewableTokens(conn, {
            marginMs: REFRESH_MARGIN_MS,
            renew: (creds) =>
              refreshWixToken({
                baseUrl: conn.baseUrl,
                appId: creds.app_id ?? '',
                appSecret: creds.app_secret ?? '',
                refreshToken: creds.refresh_token ?? '',
                timeoutMs: this.timeoutMs,
              }),
          })
        : null;
  }

  private async post<T>(path: string, body: unknown): Promise<T> {
    if (!this.tokens) {
      const res = await httpCall({
        method: 'POST',
        url: new URL(path, this.conn.baseUrl).toString(),
        // An API key goes in Authorization as is (no "Bearer"), with the site it acts on.
        headers: { authorization: this.conn.credentials.api_key ?? '', 'wix-site-id': this.conn.credentials.site_id ?? '' },
        body,
        timeoutMs: this.timeoutMs,
      });
      return res.json<T>();
    }
    await this.tokens.ready();
    for (let attempt = 0; ; attempt++) {
      const used = this.tokens.creds.access_token ?? '';
      try {
        // An app instance's access token names its site: no wix-site-id header.
        const res = await httpCall({
          method: 'POST',
          url: new URL(path, this.conn.baseUrl).toString(),
          headers: { authorization: used },
          body,
          timeoutMs: this.timeoutMs,
        });
        return res.json<T>();
      } catch (err) {
        // A token that expired before its recorded expiry: renew once (unless another call already did) and retry.
        if (attempt > 0 || !(err instanceof ChannelError) || err.status !== 401) throw err;
        if ((this.tokens.creds.access_token ?? '') === used) await this.tokens.refresh();
      }
    }
  }

  /** All pages of one query; later pages send only the cursor (it carries the filter). */
  private async *query(filter: Record<string, unknown>, limit: number): AsyncGenerator<WixInventoryItem[]> {
    let cursor: string | null = null;
    do {
      const query: Record<string, unknown> = cursor ? { cursorPaging: { limit, cursor } } : { filter, cursorPaging: { limit } };
      const res: QueryResponse = await this.post<QueryResponse>('/stores/v3/inventory-items/query', { query });
      yield res.inventoryItems ?? [];
      cursor = res.pagingMetadata?.cursors?.next || null;
    } while (cursor);
  }

  async testConnection(): Promise<{ ok: true; account: string }> {
    await this.post('/stores/v3/inventory-items/query', { query: { cursorPaging: { limit: 1 } } });
    return { ok: true, account: this.conn.credentials.site_id ?? this.conn.credentials.instance_id ?? '' };
  }

  async *listListings(): AsyncIterable<RemoteListing[]> {
    const filter = this.locationId ? { locationId: { $eq: this.locationId } } : {};
    for await (const page of this.query(filter, this.pageSize)) yield page.map(toListing);
  }

  async readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]> {
    const ids = [...new Set(refs.map((r) => r.externalId))];
    const out: RemoteListing[] = [];
    for (const part of chunk(ids, READ_CHUNK)) {
      for await (const page of this.query({ id: { $in: part } }, READ_CHUNK)) out.push(...page.map(toListing));
    }
    return out;
  }

  async pushLevels(reqs: PushRequest[]): Promise<PushResult[]> {
    const results = new Map<string, PushResult>();
    const failed = (r: PushRequest, error: string, retryable: boolean) =>
      results.set(r.listingId, { listingId: r.listingId, outcome: 'failed', error, retryable });

    // Without a known revision there is nothing to compare against: read it first.
    const unknown = reqs.filter((r) => r.known.version === null);
    const fresh = unknown.length ? byId(await this.readListings(unknown.map((r) => ({ externalId: r.externalId })))) : new Map<string, RemoteListing>();
    const sendable: Array<{ req: PushRequest; revision: string }> = [];
    for (const r of reqs) {
      if (!Number.isInteger(r.qty) || Math.abs(r.qty) > QUANTITY_LIMIT) {
        failed(r, `quantity ${r.qty} outside Wix's +-${QUANTITY_LIMIT}`, false);
        continue;
      }
      if (r.known.version !== null) {
        sendable.push({ req: r, revision: r.known.version });
        continue;
      }
      const remote = fresh.get(r.externalId);
      if (!remote?.version) failed(r, `inventory item ${r.externalId} not found`, false);
      // We believed the item held known.qty but it holds something else: a sale or an edit we have
      // not seen yet. Reconcile instead of overwriting it (invariant 4).
      else if (r.known.qty !== null && remote.qty !== r.known.qty) results.set(r.listingId, { listingId: r.listingId, outcome: 'stale', remote });
      else sendable.push({ req: r, revision: remote.version });
    }

    for (const part of chunk(sendable, this.capabilities.maxPushBatch)) await this.pushChunk(part, results);
    return reqs.map((r) => results.get(r.listingId) ?? { listingId: r.listingId, outcome: 'failed', error: 'no result from Wix', retryable: true });
  }

  private async pushChunk(part: Array<{ req: PushRequest; revision: string }>, results: Map<string, PushResult>): Promise<void> {
    const res = await this.post<BulkUpdateResponse>('/stores/v3/bulk/inventory-items/update', {
      inventoryItems: part.map(({ req, revision }) => ({ inventoryItem: { id: req.externalId, revision, quantity: req.qty } })),
      returnEntity: true,
      reason: 'StockClerk sync',
    });
    const rejected: Array<{ req: PushRequest; revision: string; error: string }> = [];
    for (const [idx, r] of (res.results ?? []).entries()) {
      const sent = part[r.itemMetadata?.originalIndex ?? idx];
      if (!sent) continue;
      const { req, revision } = sent;
      if (r.itemMetadata?.success) {
        const version = r.item?.revision !== undefined ? String(r.item.revision) : (BigInt(revision) + 1n).toString();
        results.set(req.listingId, { listingId: req.listingId, outcome: 'ok', qty: r.item?.quantity ?? req.qty, version });
      } else {
        const e = r.itemMetadata?.error;
        rejected.push({ req, revision, error: `${e?.code ?? 'ERROR'}: ${e?.description ?? 'rejected'}` });
      }
    }
    if (!rejected.length) return;
    // The per-item error code for a stale revision is not documented, so decide from a fresh read:
    // a revision other than the one we sent means someone changed the item -> stale.
    const now = byId(await this.readListings(rejected.map((x) => ({ externalId: x.req.externalId }))));
    for (const { req, revision, error } of rejected) {
      const remote = now.get(req.externalId);
      if (!remote) results.set(req.listingId, { listingId: req.listingId, outcome: 'failed', error, retryable: false });
      else if (remote.version !== revision) results.set(req.listingId, { listingId: req.listingId, outcome: 'stale', remote });
      else results.set(req.listingId, { listingId: req.listingId, outcome: 'failed', error, retryable: false });
    }
  }

  isNewer(a: string | null | undefined, b: string | null | undefined): boolean {
    return isNewerRevision(a, b);
  }

  async close(): Promise<void> {
    // The shared keep-alive pool in http-client outlives one adapter.
  }
}

function byId(list: RemoteListing[]): Map<string, RemoteListing> {
  return new Map(list.map((l) => [l.externalId, l]));
}
