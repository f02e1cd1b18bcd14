// TikTok Shop's 202309 shapes as this module reads them, the listing id, capabilities, and an
// order turned into the engine's event.
import type { ChannelCapabilities, InboundEvent } from '../contract.ts';

export interface ApiSku {
  id: string;
  seller_sku?: string | null;
  price?: { amount?: string; currency?: string };
  inventory?: Array<{ warehouse_id: string; quantity: number }>;
}
export interface ApiProduct {
  id: string;
  title?: string;
  description?: string;
  status?: string;
  update_time?: number;
  skus?: ApiSku[];
}
export interface ApiOrder {
  id: string;
  status: string;
  create_time: number;
  update_time: number;
  line_items?: Array<{ product_id: string; sku_id: string; seller_sku?: string | null; quantity?: number }>;
}

export const TIKTOK_SHOP_CAPABILITIES: ChannelCapabilities = {
  catalog: true,
  // inventory/update sets each SKU's quantity per warehouse outright.
  quantityModel: 'absolute',
  compareAndSet: false,
  // Sales come from orders; TikTok sends no stock-level notifications we use.
  defaultSalesSource: 'orders',
  webhooks: true,
  // Webhooks only signal; orders are polled as well (a lost notification loses no sale).
  pollable: true,
  // SKUs of one product share one inventory/update call.
  maxPushBatch: 50,
  // GUESS: TikTok Shop's per-API QPS limits are in Partner Center, unread; 10/s stays under the emulator's guessed 20.
  rateLimit: { perSecond: 10, burst: 10 },
  callsPerPush: 1,
};

/** Our listing id for a SKU: `<product_id>:<sku_id>` (inventory/update needs both). */
export const listingId = (productId: string, skuId: string) => `${productId}:${skuId}`;
export function parseListingId(id: string): { productId: string; skuId: string } | null {
  const m = /^(\d+):(\d+)$/.exec(id);
  return m ? { productId: m[1]!, skuId: m[2]! } : null;
}

// Order statuses after payment: the stock is sold. UNPAID and ON_HOLD orders are not sales yet
// (the order is seen again when it moves on); CANCELLED before payment never was one.
const SOLD = new Set(['AWAITING_SHIPMENT', 'AWAITING_COLLECTION', 'PARTIALLY_SHIPPING', 'IN_TRANSIT', 'DELIVERED', 'COMPLETED']);

/**
 * The sale an order is, under `order:<id>` whichever way it is heard (poll or webhook), or null
 * when it is not (yet) a sale. A 202309 line item is one unit unless it says a quantity.
 */
export function orderEvent(o: ApiOrder): InboundEvent | null {
  if (!SOLD.has(o.status)) return null;
  const lines = new Map<string, { externalId: string; sku: string | null; qty: number }>();
  for (const li of o.line_items ?? []) {
    const key = listingId(li.product_id, li.sku_id);
    const line = lines.get(key) ?? { externalId: key, sku: li.seller_sku || null, qty: 0 };
    line.qty += li.quantity ?? 1;
    lines.set(key, line);
  }
  if (lines.size === 0) return null;
  return {
    kind: 'order',
    externalEventId: `order:${o.id}`,
    occurredAt: new Date(o.create_time * 1000).toISOString(),
    effect: 'sale',
    orderId: o.id,
    lines: [...lines.values()],
  };
}
