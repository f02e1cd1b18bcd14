// A Wix site as the emulator holds it: Catalog V3 inventory items (one per variant x location,
// here all at the default location) with their int64 `revision`, and how the REST API renders
// and queries them (channel-apis.md section 2, "V3 inventory items").
import { randomUUID } from 'node:crypto';
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export interface WixItem {
  id: string;
  variantId: string;
  productId: string;
  locationId: string;
  quantity: number;
  revision: bigint;
  sku: string;
  name: string;
  createdDate: string;
  updatedDate: string;
}

export interface WixAccount extends BaseAccount {
  siteId: string;
  apiKey: string;
  instanceId: string;
  defaultLocationId: string;
  items: WixItem[];
  /** Signs when no webhookSecret (private key PEM) is set; nobody holds its public half, so such webhooks never verify. */
  fallbackPrivateKey: string | null;
  orderSeq: number;
  /** The app installed by OAuth (install.ts): its tokens, besides the API key. */
  appGrant: { appId: string; accessToken: string; accessExp: number; refreshToken: string } | null;
}

export function createSite(input: AccountInput, base: BaseAccount): WixAccount {
  const defaultLocationId = randomUUID();
  const now = new Date().toISOString();
  return {
    ...base,
    apiKey: input.credentials.api_key ?? '',
    siteId: input.credentials.site_id ?? input.id,
    instanceId: randomUUID(),
    defaultLocationId,
    fallbackPrivateKey: null,
    orderSeq: 10000,
    appGrant: null,
    items: input.items.map((i) => ({
      id: i.externalId ?? randomUUID(),
      variantId: randomUUID(),
      productId: randomUUID(),
      locationId: defaultLocationId,
      quantity: i.qty,
      revision: 1n,
      sku: i.sku,
      name: i.name,
      createdDate: now,
      updatedDate: now,
    })),
  };
}

type SavedItem = Omit<WixItem, 'revision'> & { revision: string };
type SavedSite = Pick<WixAccount, 'siteId' | 'apiKey' | 'instanceId' | 'defaultLocationId' | 'fallbackPrivateKey' | 'orderSeq' | 'appGrant'> & {
  items: SavedItem[];
};

export function saveSite(acc: WixAccount): SavedSite {
  const { siteId, apiKey, instanceId, defaultLocationId, fallbackPrivateKey, orderSeq, appGrant } = acc;
  return {
    appGrant,
    siteId,
    apiKey,
    instanceId,
    defaultLocationId,
    fallbackPrivateKey,
    orderSeq,
    items: acc.items.map((i) => ({ ...i, revision: i.revision.toString() })),
  };
}

export function loadSite(saved: unknown, base: BaseAccount): WixAccount {
  const s = saved as SavedSite;
  return { ...base, ...s, appGrant: s.appGrant ?? null, items: s.items.map((i) => ({ ...i, revision: BigInt(i.revision) })) };
}

/** The inventory item as the REST API renders it (int64 as string, like every Wix int64). */
export function itemJson(it: WixItem): Record<string, unknown> {
  return {
    id: it.id,
    revision: it.revision.toString(),
    createdDate: it.createdDate,
    updatedDate: it.updatedDate,
    variantId: it.variantId,
    locationId: it.locationId,
    productId: it.productId,
    trackQuantity: true,
    quantity: it.quantity,
    availabilityStatus: it.quantity > 0 ? 'IN_STOCK' : 'OUT_OF_STOCK',
    preorderInfo: { enabled: false },
    // GUESS: the object documents a read-only `product` ("associated product and variant details");
    // the sub-field names name/variantName/variantSku follow the SDK types we recall, not a page we read.
    product: { name: it.name, variantName: null, variantSku: it.sku, variantVisible: true },
  };
}

export type Filter = Record<string, unknown>;
const FILTERABLE = new Set(['id', 'variantId', 'locationId', 'productId']);

/** Wix query-language subset: field: value | {$eq|$ne|$in}. Returns an error text for anything else. */
export function compileFilter(filter: Filter | undefined): ((it: WixItem) => boolean) | string {
  const tests: Array<(it: WixItem) => boolean> = [];
  for (const [field, cond] of Object.entries(filter ?? {})) {
    if (!FILTERABLE.has(field)) return `unsupported filter field ${field}`;
    const get = (it: WixItem) => String(it[field as keyof WixItem]);
    if (typeof cond === 'string') {
      tests.push((it) => get(it) === cond);
      continue;
    }
    if (!cond || typeof cond !== 'object') return `bad filter on ${field}`;
    for (const [op, v] of Object.entries(cond)) {
      if (op === '$eq') tests.push((it) => get(it) === String(v));
      else if (op === '$ne') tests.push((it) => get(it) !== String(v));
      else if (op === '$in' && Array.isArray(v)) {
        const set = new Set(v.map(String));
        tests.push((it) => set.has(get(it)));
      } else return `unsupported operator ${op} on ${field}`;
    }
  }
  return (it) => tests.every((t) => t(it));
}

// The cursor carries the query it belongs to, as Wix cursors do (later pages send only the cursor).
export function encodeCursor(c: { offset: number; filter: Filter | undefined }): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
export function decodeCursor(s: string): { offset: number; filter: Filter | undefined } | null {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { offset: number; filter?: Filter };
    return Number.isInteger(c.offset) && c.offset >= 0 ? { offset: c.offset, filter: c.filter } : null;
  } catch {
    return null;
  }
}

export function findItem(acc: WixAccount, input: { externalId?: string; sku?: string }): WixItem | undefined {
  if (input.externalId) return acc.items.find((i) => i.id === input.externalId);
  // A storefront sale draws from the default location (Wix checkout always does).
  return acc.items.find((i) => i.sku === input.sku && i.locationId === acc.defaultLocationId);
}

export function bump(it: WixItem, qty: number): void {
  it.quantity = qty;
  it.revision += 1n;
  it.updatedDate = new Date().toISOString();
}
