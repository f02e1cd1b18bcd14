// A TikTok Shop seller account as the emulator keeps it: one authorized shop (id, cipher),
// warehouses, products with SKUs holding stock per warehouse, and orders. JSON renderers give
// the 202309 shapes (Get Product, Search Products, Get Order Detail).
import { createHash } from 'node:crypto';
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export interface Sku {
  id: string;
  seller_sku: string;
  price: string;
  /** quantity per warehouse id */
  inventory: Record<string, number>;
}
export interface Product {
  id: string;
  title: string;
  description?: string;
  status: 'ACTIVATE' | 'SELLER_DEACTIVATED';
  create_time: number;
  update_time: number;
  skus: Sku[];
}
export interface LineItem {
  id: string;
  product_id: string;
  sku_id: string;
  seller_sku: string;
  product_name: string;
  sale_price: string;
}
export interface Order {
  id: string;
  status: string;
  create_time: number;
  update_time: number;
  line_items: LineItem[];
}
export interface TiktokShopAccount extends BaseAccount {
  shopId: string;
  cipher: string;
  shopName: string;
  region: string;
  warehouses: string[];
  products: Product[];
  orders: Order[];
}
/** What the control API takes beside the kit's fields (all optional). */
export interface TiktokShopAccountInput extends AccountInput {
  shop_name?: string;
  region?: string;
  /** Warehouse ids; the first is the default (sales draw from it). */
  warehouses?: string[];
  /** One warehouse (the seller's only one), when `warehouses` is not given. */
  warehouse_id?: string;
}

export const now = () => Math.floor(Date.now() / 1000);

/** Stable 19-digit ids from a seed, so an account reopened after a restart keeps its ids. */
export function digits(seed: string): string {
  const h = createHash('sha256').update(seed).digest();
  return '7' + (h.readBigUInt64BE(0) % 10n ** 18n).toString().padStart(18, '0');
}

export function createShop(input: TiktokShopAccountInput, base: BaseAccount): TiktokShopAccount {
  const shopId = digits(`shop:${input.id}`);
  const warehouses = input.warehouses?.length ? input.warehouses : [input.warehouse_id ?? digits(`wh:${input.id}`)];
  const t = now();
  return {
    ...base,
    shopId,
    // GUESS: the cipher's shape (TikTok documents it as an opaque string; seen as ROW_ + base64-ish text).
    cipher: `ROW_${createHash('sha256').update(`cipher:${input.id}`).digest('base64url').slice(0, 24)}`,
    shopName: input.shop_name ?? `Shop ${input.id}`,
    region: input.region ?? 'GB',
    warehouses,
    products: input.items.map((it, i) => ({
      id: it.externalId ?? digits(`product:${input.id}:${i}:${it.sku}`),
      title: it.name,
      status: 'ACTIVATE',
      create_time: t,
      update_time: t,
      skus: [{ id: digits(`sku:${input.id}:${i}:${it.sku}`), seller_sku: it.sku, price: '10.00', inventory: { [warehouses[0]!]: it.qty } }],
    })),
    orders: [],
  };
}

export function saveShop(a: TiktokShopAccount): unknown {
  const { shopId, cipher, shopName, region, warehouses, products, orders } = a;
  return { shopId, cipher, shopName, region, warehouses, products, orders };
}
export function loadShop(saved: unknown, base: BaseAccount): TiktokShopAccount {
  return { ...base, ...(saved as Omit<TiktokShopAccount, keyof BaseAccount>) };
}

export function skuJson(acc: TiktokShopAccount, s: Sku) {
  return {
    id: s.id,
    seller_sku: s.seller_sku,
    price: { amount: s.price, currency: acc.region === 'GB' ? 'GBP' : 'USD', sale_price: s.price },
    inventory: Object.entries(s.inventory).map(([warehouse_id, quantity]) => ({ warehouse_id, quantity })),
  };
}
export function productJson(acc: TiktokShopAccount, p: Product) {
  return {
    id: p.id,
    title: p.title,
    description: p.description ?? '',
    status: p.status,
    create_time: p.create_time,
    update_time: p.update_time,
    skus: p.skus.map((s) => skuJson(acc, s)),
  };
}
export function orderJson(acc: TiktokShopAccount, o: Order) {
  return { id: o.id, status: o.status, create_time: o.create_time, update_time: o.update_time, shop_id: acc.shopId, line_items: o.line_items };
}
