// A Shopify shop as the emulator holds it: one location, inventory items with available and
// committed quantities, the GraphQL cost bucket, remembered @idempotent keys, and counters.
// Facts: /work/shared/channel-apis.md section 1.
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export const API_VERSION = '2026-01';
export const LOCATION_GID = 'gid://shopify/Location/1';
export const LOCATION_NUM = 1;

/** Ids are decimal strings: Shopify's are 64-bit, beyond what a JS number holds (kit/json.ts). */
export interface Item {
  num: string;
  gid: string;
  sku: string;
  name: string;
  variantId: string;
  productId: string;
  levelNum: string;
  available: number;
  committed: number;
  updatedAt: string;
}

/** Shopify's GraphQL bucket is measured in cost points, not requests: requested cost is taken up front, the unused part refunded. */
export class CostBucket {
  readonly max: number;
  readonly rate: number;
  private level: number;
  private last = Date.now();
  constructor(max: number, rate: number) {
    this.max = max;
    this.rate = rate;
    this.level = max;
  }
  available(): number {
    const now = Date.now();
    this.level = Math.min(this.max, this.level + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    return this.level;
  }
  take(cost: number): boolean {
    if (this.available() < cost) return false;
    this.level -= cost;
    return true;
  }
  refund(points: number): void {
    this.level = Math.min(this.max, this.available() + points);
  }
  status(): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } {
    return { maximumAvailable: this.max, currentlyAvailable: Math.floor(this.available()), restoreRate: this.rate };
  }
}

export interface ShopifyAccount extends BaseAccount {
  domain: string;
  items: Item[];
  byGid: Map<string, Item>;
  cost: CostBucket;
  idempotency: Map<string, { hash: string; result: unknown }>;
  clock: number;
  seq: number;
}

/** Every level change gets a strictly later timestamp, so versions order even within one millisecond. */
export function stamp(acc: ShopifyAccount): string {
  acc.clock = Math.max(Date.now(), acc.clock + 1);
  return new Date(acc.clock).toISOString();
}

/** Numeric order of two decimal id strings. */
export function compareIds(a: string, b: string): number {
  const d = BigInt(a) - BigInt(b);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

export function toItemGid(id: string): string {
  return /^\d+$/.test(id) ? `gid://shopify/InventoryItem/${id}` : id;
}

export function findItem(acc: ShopifyAccount, input: { externalId?: string; sku?: string }): Item {
  const byId = input.externalId ? acc.byGid.get(toItemGid(input.externalId)) : undefined;
  const item = byId ?? (input.sku ? acc.items.find((i) => i.sku === input.sku) : undefined);
  if (!item) throw Object.assign(new Error(`no inventory item ${input.externalId ?? input.sku}`), { statusCode: 404 });
  return item;
}

export function createShop(input: AccountInput, base: BaseAccount, cost: CostBucket): ShopifyAccount {
  const acc: ShopifyAccount = {
    ...base,
    domain: `${input.id}.myshopify.com`,
    items: [],
    byGid: new Map(),
    cost,
    idempotency: new Map(),
    clock: 0,
    seq: 0,
  };
  let next = 1001n;
  for (const it of input.items) {
    // An id given in the input is kept digit for digit, 64-bit ones included.
    const m = it.externalId ? /(\d+)$/.exec(it.externalId) : null;
    const num = m ? BigInt(m[1]!) : next;
    next = (num > next ? num : next) + 1n;
    const item: Item = {
      num: String(num),
      gid: `gid://shopify/InventoryItem/${num}`,
      sku: it.sku,
      name: it.name,
      variantId: String(40_000n + num),
      productId: String(70_000n + num),
      levelNum: String(900_000n + num),
      available: it.qty,
      committed: 0,
      updatedAt: stamp(acc),
    };
    acc.items.push(item);
    acc.byGid.set(item.gid, item);
  }
  acc.items.sort((a, b) => compareIds(a.num, b.num));
  return acc;
}

interface SavedShop {
  domain: string;
  items: Item[];
  idempotency: Array<[string, { hash: string; result: unknown }]>;
  clock: number;
  seq: number;
}

export function saveShop(acc: ShopifyAccount): SavedShop {
  return { domain: acc.domain, items: acc.items, idempotency: [...acc.idempotency], clock: acc.clock, seq: acc.seq };
}

/** The cost bucket starts full after a restart (it refills within seconds anyway). */
export function loadShop(saved: unknown, base: BaseAccount, cost: CostBucket): ShopifyAccount {
  const s = saved as SavedShop;
  // State saved before ids were strings held numbers.
  const items = s.items.map((i) => ({
    ...i,
    num: String(i.num),
    variantId: String(i.variantId),
    productId: String(i.productId),
    levelNum: String(i.levelNum),
  }));
  return {
    ...base,
    domain: s.domain,
    items,
    byGid: new Map(items.map((i) => [i.gid, i])),
    cost,
    idempotency: new Map(s.idempotency),
    clock: s.clock,
    seq: s.seq,
  };
}
