// A Shopify shop as the emulator holds it: one location, inventory items with available and
// committed quantities, the GraphQL cost bucket, remembered @idempotent keys, and counters.
// Facts: /work/shared/channel-apis.md section 1.
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export const API_VERSION = '2026-01';
export const LOCATION_GID = 'gid://shopify/Location/1';
export const LOCATION_NUM = 1;

export interface Item {
  num: number;
  gid: string;
  sku: string;
  name: string;
  variantId: number;
  productId: number;
  levelNum: number;
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
  let next = 1001;
  for (const it of input.items) {
    const m = it.externalId ? /(\d+)$/.exec(it.externalId) : null;
    const num = m ? Number(m[1]) : next;
    next = Math.max(next, num) + 1;
    const item: Item = {
      num,
      gid: `gid://shopify/InventoryItem/${num}`,
      sku: it.sku,
      name: it.name,
      variantId: 40_000 + num,
      productId: 70_000 + num,
      levelNum: 900_000 + num,
      available: it.qty,
      committed: 0,
      updatedAt: stamp(acc),
    };
    acc.items.push(item);
    acc.byGid.set(item.gid, item);
  }
  acc.items.sort((a, b) => a.num - b.num);
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
  return {
    ...base,
    domain: s.domain,
    items: s.items,
    byGid: new Map(s.items.map((i) => [i.gid, i])),
    cost,
    idempotency: new Map(s.idempotency),
    clock: s.clock,
    seq: s.seq,
  };
}
