// One Shopee shop as the emulator keeps it: items, their models (variants) with seller_stock,
// orders, and the tokens the shop's authorisation issued. Plain data, saved as JSON in the kit's
// state file.
import type { AccountInput, BaseAccount, ItemState } from '../kit/index.ts';

export interface Model {
  /** 0 for an item without variants: Shopee's order item_list reports such items with model_id 0. */
  model_id: number;
  model_sku: string;
  /** The seller's own stock (the writable part of stock_info_v2). Single warehouse: no location_id. */
  seller_stock: number;
  /** Position of each tier's option (init_tier_variation); absent for items made without tiers. */
  tier_index?: number[];
  /** Major units (Shopee's prices are floats); absent for items the emulator was seeded with. */
  original_price?: number;
}

/** One variation tier as init_tier_variation set it. */
export interface Tier {
  name: string;
  options: string[];
}

export interface Item {
  item_id: number;
  item_name: string;
  /** Parent SKU; the models carry their own. */
  item_sku: string;
  item_status: 'NORMAL' | 'UNLIST' | 'BANNED' | 'DELETED';
  update_time: number;
  /** One model with model_id 0 when the item has no variants (has_model false). */
  models: Model[];
  // Catalog fields (add_item / update_item); absent on items the emulator was seeded with.
  description?: string;
  category_id?: number;
  /** The item's price when it has no models (major units). */
  original_price?: number;
  weight?: number;
  image_id_list?: string[];
  logistic_info?: Array<{ logistic_id: number; enabled: boolean; is_free?: boolean }>;
  brand?: { brand_id: number; original_brand_name: string };
  condition?: string;
  /** Set by init_tier_variation: the models' tier_index points into these. */
  tiers?: Tier[];
  create_time?: number;
}

export interface OrderLine {
  item_id: number;
  item_name: string;
  item_sku: string;
  model_id: number;
  model_sku: string;
  model_quantity_purchased: number;
}

export interface Order {
  order_sn: string;
  order_status: string;
  create_time: number;
  update_time: number;
  item_list: OrderLine[];
}

export interface Grant {
  access_token: string;
  access_expires_at: number;
  refresh_token: string;
  refresh_expires_at: number;
}

export interface ShopeeAccount extends BaseAccount {
  partnerId: string;
  partnerKey: string;
  shopId: number;
  shopName: string;
  items: Item[];
  orders: Order[];
  /** Every live token pair (a refresh retires the pair it came from). */
  grants: Grant[];
  /** Authorisation codes not yet exchanged: code -> expiry (ms). */
  codes: Record<string, number>;
  /** Image ids media_space/upload_image handed out to this shop's partner (add_item may name them). */
  images: string[];
  /** The shop's listing currency (price_info.currency). GUESS: a Singapore shop unless told otherwise. */
  currency: string;
}

/** Account input: the kit's, plus `item` on an input row to make it a model of a shared item. */
export type ShopeeAccountInput = AccountInput & { shop_name?: string; currency?: string; items: Array<AccountInput['items'][number] & { item?: string }> };

export const nowSec = (): number => Math.floor(Date.now() / 1000);

export function createShop(input: ShopeeAccountInput, base: BaseAccount, ids: { next: () => number }): ShopeeAccount {
  const c = input.credentials;
  if (!c.partner_id || !c.partner_key || !c.shop_id) throw new Error('a Shopee shop needs credentials partner_id, partner_key and shop_id');
  const items: Item[] = [];
  const grouped = new Map<string, Item>();
  for (const row of input.items) {
    const t = nowSec();
    const existing = row.item ? grouped.get(row.item) : undefined;
    if (existing) {
      existing.models.push({ model_id: ids.next(), model_sku: row.sku, seller_stock: row.qty });
      continue;
    }
    const item: Item = {
      item_id: ids.next(),
      item_name: row.item ?? row.name,
      item_sku: row.item ? row.item : row.sku,
      item_status: 'NORMAL',
      update_time: t,
      models: [{ model_id: row.item ? ids.next() : 0, model_sku: row.sku, seller_stock: row.qty }],
    };
    if (row.item) grouped.set(row.item, item);
    items.push(item);
  }
  return {
    ...base,
    partnerId: c.partner_id,
    partnerKey: c.partner_key,
    shopId: Number(c.shop_id),
    shopName: input.shop_name ?? `Shop ${c.shop_id}`,
    items,
    orders: [],
    grants: [],
    codes: {},
    images: [],
    currency: input.currency ?? 'SGD',
  };
}

export type SavedShop = Omit<ShopeeAccount, keyof BaseAccount>;

export function saveShop(a: ShopeeAccount): SavedShop {
  const { partnerId, partnerKey, shopId, shopName, items, orders, grants, codes, images, currency } = a;
  return { partnerId, partnerKey, shopId, shopName, items, orders, grants, codes, images, currency };
}

export function loadShop(saved: unknown, base: BaseAccount): ShopeeAccount {
  const s = saved as Partial<SavedShop>;
  return { ...base, ...(saved as SavedShop), images: s.images ?? [], currency: s.currency ?? 'SGD' };
}

export const hasModel = (item: Item): boolean => !(item.models.length === 1 && item.models[0]!.model_id === 0);

export function state(acc: ShopeeAccount): ItemState[] {
  return acc.items
    .filter((i) => i.item_status !== 'DELETED')
    .flatMap((i) =>
      i.models.map((m) => ({ externalId: `${i.item_id}:${m.model_id}`, sku: m.model_sku || null, name: i.item_name, qty: m.seller_stock, available: null })),
    );
}

/** Shopee's stock_info_v2 for one model. GUESS: reserved stock is not modelled (always 0): a sale takes seller_stock at once. */
export function stockInfo(m: Model): Record<string, unknown> {
  return {
    summary_info: { total_reserved_stock: 0, total_available_stock: m.seller_stock },
    seller_stock: [{ stock: m.seller_stock }],
  };
}
