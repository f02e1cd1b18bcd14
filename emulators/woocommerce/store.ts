// A WooCommerce store as the emulator holds it: products (simple and variable) with their
// variations, orders, the store's webhooks, and the id counters. Written from WooCommerce's REST
// API v3 reference (woocommerce.github.io/woocommerce-rest-api-docs) and channel-apis.md section 5.
//
// Ids: products, variations and orders are WordPress posts and share one id sequence (as in a real
// store without HPOS); order line items have their own. Dates are written the way WooCommerce
// writes them: `YYYY-MM-DDTHH:MM:SS`, no fraction, no zone; `*_gmt` are UTC, and the emulated site's
// timezone is UTC so both agree.
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export interface Variation {
  id: number;
  sku: string;
  name: string;
  /** true, false, or 'parent' (stock held on the parent product). */
  manageStock: boolean | 'parent';
  stockQuantity: number | null;
  modified: string;
}

export interface Product {
  id: number;
  type: 'simple' | 'variable';
  sku: string;
  name: string;
  manageStock: boolean;
  stockQuantity: number | null;
  created: string;
  modified: string;
  variations: Variation[];
}

export interface LineItem {
  id: number;
  productId: number;
  variationId: number;
  sku: string;
  name: string;
  quantity: number;
}

export interface Order {
  id: number;
  status: string;
  created: string;
  modified: string;
  /** When it was paid (processing / completed), or null. */
  paid?: string | null;
  lineItems: LineItem[];
  /** Stock was taken for this order (WooCommerce's `_order_stock_reduced`): a cancellation gives it back once. */
  stockReduced: boolean;
}

export interface Webhook {
  id: number;
  name: string;
  topic: string;
  /** active | paused | disabled */
  status: string;
  /** null: the account's webhook target (the kit's /_control/accounts/:id/webhook sets it). */
  deliveryUrl: string | null;
  /** null: the account's webhook secret. */
  secret: string | null;
  failureCount: number;
  created: string;
  modified: string;
}

export interface WooAccount extends BaseAccount {
  siteUrl: string;
  products: Product[];
  orders: Order[];
  webhooks: Webhook[];
  /** Next post id (products, variations, orders). */
  nextPostId: number;
  nextLineItemId: number;
  nextWebhookId: number;
  /** Last timestamp handed out (ms): every change gets a later second-precision date. */
  clock: number;
}

/** WooCommerce's date format. */
export function wcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** A date for a change now. Second precision, as WooCommerce stores it: two changes in one second share it. */
export function now(acc: WooAccount): string {
  acc.clock = Math.max(Date.now(), acc.clock);
  return wcDate(acc.clock);
}

export type Stockable = { product: Product; variation: Variation | null };

export function stockables(acc: WooAccount): Stockable[] {
  const out: Stockable[] = [];
  for (const p of acc.products) {
    if (p.type === 'simple') out.push({ product: p, variation: null });
    else for (const v of p.variations) out.push({ product: p, variation: v });
  }
  return out;
}

export function refOf(s: Stockable): string {
  return s.variation ? `${s.product.id}:${s.variation.id}` : String(s.product.id);
}

export function findStockable(acc: WooAccount, input: { externalId?: string; sku?: string }): Stockable {
  const all = stockables(acc);
  const hit =
    (input.externalId ? all.find((s) => refOf(s) === input.externalId) : undefined) ?? (input.sku ? all.find((s) => skuOf(s) === input.sku) : undefined);
  if (!hit) throw Object.assign(new Error(`no product or variation ${input.externalId ?? input.sku}`), { statusCode: 404 });
  return hit;
}

export function skuOf(s: Stockable): string {
  return s.variation ? s.variation.sku : s.product.sku;
}

/** Where a stockable's count lives: itself, or its parent when the variation says 'parent'. */
export function stockHolder(s: Stockable): Product | Variation | null {
  if (!s.variation) return s.product.manageStock ? s.product : null;
  if (s.variation.manageStock === true) return s.variation;
  if (s.variation.manageStock === 'parent' && s.product.manageStock) return s.product;
  return null;
}

/**
 * Opens a store from the kit's account input. An item whose externalId is `<product>:<variation>`
 * becomes a variation of a variable product with that id (items sharing a product id share the
 * product); a plain number is a simple product's id; none: the next free id.
 * Extra input (`unmanaged: [sku...]`) opens those items with stock management off.
 */
export function createStore(input: AccountInput & { unmanaged?: string[] }, base: BaseAccount): WooAccount {
  const acc: WooAccount = {
    ...base,
    siteUrl: `https://${input.id}.example`,
    products: [],
    orders: [],
    webhooks: [],
    nextPostId: 10,
    nextLineItemId: 1,
    nextWebhookId: 1,
    clock: 0,
  };
  const unmanaged = new Set(input.unmanaged ?? []);
  const at = now(acc);
  const used = new Set<number>();
  for (const it of input.items) {
    const m = it.externalId ? /^(\d+)(?::(\d+))?$/.exec(it.externalId) : null;
    if (m?.[1]) used.add(Number(m[1]));
    if (m?.[2]) used.add(Number(m[2]));
  }
  const nextId = () => {
    while (used.has(acc.nextPostId)) acc.nextPostId++;
    used.add(acc.nextPostId);
    return acc.nextPostId++;
  };
  for (const it of input.items) {
    const m = it.externalId ? /^(\d+)(?::(\d+))?$/.exec(it.externalId) : null;
    const managed = !unmanaged.has(it.sku);
    if (m?.[2]) {
      const pid = Number(m[1]);
      let parent = acc.products.find((p) => p.id === pid);
      if (!parent) {
        parent = {
          id: pid,
          type: 'variable',
          sku: `${it.sku}-PARENT`,
          name: it.name,
          manageStock: false,
          stockQuantity: null,
          created: at,
          modified: at,
          variations: [],
        };
        acc.products.push(parent);
      }
      parent.variations.push({ id: Number(m[2]), sku: it.sku, name: it.name, manageStock: managed, stockQuantity: managed ? it.qty : null, modified: at });
    } else {
      const id = m?.[1] ? Number(m[1]) : nextId();
      acc.products.push({
        id,
        type: 'simple',
        sku: it.sku,
        name: it.name,
        manageStock: managed,
        stockQuantity: managed ? it.qty : null,
        created: at,
        modified: at,
        variations: [],
      });
    }
  }
  acc.nextPostId = Math.max(acc.nextPostId, ...used) + 1;
  acc.products.sort((a, b) => a.id - b.id);
  return acc;
}

type SavedStore = Omit<WooAccount, keyof BaseAccount>;

export function saveStore(acc: WooAccount): SavedStore {
  const { siteUrl, products, orders, webhooks, nextPostId, nextLineItemId, nextWebhookId, clock } = acc;
  return { siteUrl, products, orders, webhooks, nextPostId, nextLineItemId, nextWebhookId, clock };
}

export function loadStore(saved: unknown, base: BaseAccount): WooAccount {
  return { ...base, ...(saved as SavedStore) };
}

// ---- JSON as the REST API writes it ----

const stockStatus = (qty: number | null) => (qty === null || qty > 0 ? 'instock' : 'outofstock');

export function productJson(acc: WooAccount, p: Product): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    slug: p.name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    permalink: `${acc.siteUrl}/product/${p.id}/`,
    date_created: p.created,
    date_created_gmt: p.created,
    date_modified: p.modified,
    date_modified_gmt: p.modified,
    type: p.type,
    status: 'publish',
    sku: p.sku,
    price: '10.00',
    manage_stock: p.manageStock,
    stock_quantity: p.manageStock ? p.stockQuantity : null,
    stock_status: p.type === 'variable' ? 'instock' : stockStatus(p.manageStock ? p.stockQuantity : null),
    backorders: 'no',
    variations: p.variations.map((v) => v.id),
  };
}

export function variationJson(p: Product, v: Variation): Record<string, unknown> {
  const holder = stockHolder({ product: p, variation: v });
  const qty = holder ? holder.stockQuantity : null;
  return {
    id: v.id,
    date_created: p.created,
    date_created_gmt: p.created,
    date_modified: v.modified,
    date_modified_gmt: v.modified,
    sku: v.sku,
    price: '10.00',
    status: 'publish',
    // A variation reports 'parent' when its parent manages the stock (its quantity is the parent's).
    manage_stock: v.manageStock,
    stock_quantity: qty,
    stock_status: stockStatus(qty),
    backorders: 'no',
    name: v.name,
  };
}

export function orderJson(o: Order): Record<string, unknown> {
  return {
    id: o.id,
    parent_id: 0,
    number: String(o.id),
    order_key: `wc_order_${o.id.toString(36)}`,
    created_via: 'checkout',
    version: '9.8.0',
    status: o.status,
    currency: 'GBP',
    date_created: o.created,
    date_created_gmt: o.created,
    date_modified: o.modified,
    date_modified_gmt: o.modified,
    date_paid: o.paid ?? null,
    date_paid_gmt: o.paid ?? null,
    total: (o.lineItems.reduce((n, l) => n + l.quantity, 0) * 10).toFixed(2),
    line_items: o.lineItems.map((l) => ({
      id: l.id,
      name: l.name,
      product_id: l.productId,
      variation_id: l.variationId,
      quantity: l.quantity,
      sku: l.sku,
      price: 10,
      subtotal: (l.quantity * 10).toFixed(2),
      total: (l.quantity * 10).toFixed(2),
    })),
    refunds: [],
  };
}

export function webhookJson(acc: WooAccount, w: Webhook): Record<string, unknown> {
  const [resource, event] = w.topic.split('.');
  return {
    id: w.id,
    name: w.name,
    status: w.status,
    topic: w.topic,
    resource,
    event,
    hooks: [],
    delivery_url: w.deliveryUrl ?? acc.webhookUrl ?? '',
    date_created: w.created,
    date_created_gmt: w.created,
    date_modified: w.modified,
    date_modified_gmt: w.modified,
  };
}
