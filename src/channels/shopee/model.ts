// Shopee's shapes as the adapter reads them, and how StockClerk names a Shopee listing.
// One StockClerk listing per model (variant): externalId `<item_id>:<model_id>`, model_id 0 for an
// item without variants (Shopee's order item_list reports such items with model_id 0).
import type { ChannelCapabilities } from '../contract.ts';

export interface StockInfoV2 {
  summary_info?: { total_reserved_stock?: number; total_available_stock?: number };
  seller_stock?: Array<{ location_id?: string; stock?: number }>;
  shopee_stock?: Array<{ location_id?: string; stock?: number }>;
}

export interface BaseInfo {
  item_id: number;
  item_name?: string;
  item_sku?: string;
  has_model?: boolean;
  update_time?: number;
  stock_info_v2?: StockInfoV2;
}

export interface ApiModel {
  model_id: number;
  model_sku?: string;
  stock_info_v2?: StockInfoV2;
}

export interface OrderDetail {
  order_sn: string;
  order_status?: string;
  create_time?: number;
  update_time?: number;
  item_list?: Array<{ item_id: number; model_id?: number; item_sku?: string; model_sku?: string; model_quantity_purchased?: number }>;
}

export const modelRef = (itemId: number | string, modelId: number | string) => `${itemId}:${modelId}`;

/** Item and model ids as the digits Shopee sent (int64: a JS number could round them); exactInt writes them back. */
export function parseModelRef(id: string): { itemId: string; modelId: string } | null {
  const m = /^(\d{1,19}):(\d{1,19})$/.exec(id);
  return m ? { itemId: m[1]!, modelId: m[2]! } : null;
}

/** The seller's own stock: the only part a seller writes (only `seller_stock` is writable), summed over its warehouses. */
export function sellerStock(s: StockInfoV2 | undefined): number | null {
  const list = s?.seller_stock;
  if (!Array.isArray(list) || list.length === 0) return null;
  return list.reduce((n, x) => n + (typeof x.stock === 'number' ? x.stock : 0), 0);
}

export const SHOPEE_CAPABILITIES: ChannelCapabilities = {
  // A marketplace: products are published to it (catalog.ts), not only stocked.
  catalog: true,
  // update_stock sets seller_stock outright; Shopee offers no compare-and-set.
  quantityModel: 'absolute',
  compareAndSet: false,
  // Sales are orders (get_order_list / get_order_detail); pushes only say an order changed.
  defaultSalesSource: 'orders',
  webhooks: true,
  // Pushes can be lost or disabled (Shopee turns a failing subscription off), so orders are polled too.
  pollable: true,
  // One update_stock per item, carrying all its models pushed together.
  callsPerPush: 1,
  maxPushBatch: 50,
  // GUESS: Shopee's API rate limits are UNCONFIRMED (channel-apis.md section 8): 10 calls/s per shop.
  rateLimit: { perSecond: 10, burst: 10 },
};
