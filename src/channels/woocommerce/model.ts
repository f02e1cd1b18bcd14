// WooCommerce's shapes as StockClerk reads them, shared by the adapter (listings, pushes, the order
// poll) and the webhook parser. Facts: channel-apis.md section 5 and WooCommerce's REST API v3 reference.
//
// Listing ids: a simple product is its product id ("123"); a variation is "<product id>:<variation id>"
// ("123:456"), since variations are written through their parent (`/products/123/variations/batch`).
// Ids are integers on WooCommerce (BIGINT UNSIGNED post ids): read exactly, kept as decimal strings.
import { z } from 'zod';
import type { ChannelCapabilities, InboundEvent } from '../contract.ts';
import { numericId } from '../json.ts';

export const WOOCOMMERCE_CAPABILITIES: ChannelCapabilities = {
  quantityModel: 'absolute',
  // stock_quantity writes are absolute; WooCommerce has no compare-and-set on them.
  compareAndSet: false,
  // Orders are the sale: order.created / order.updated webhooks and the order poll, keyed by order id.
  defaultSalesSource: 'orders',
  webhooks: true,
  // WooCommerce disables a webhook after repeated failed deliveries, silently: the poll of
  // /orders?modified_after= is the safety net.
  pollable: true,
  maxPushBatch: 100,
  // GUESS: core has no rate limit; hosts and WAFs do (shared hosting often allows a few requests
  // a second). 5/s with a burst of 10 stays under the usual ones; a 429 is honoured via Retry-After.
  rateLimit: { perSecond: 5, burst: 10 },
};

export interface ListingRef {
  productId: string;
  variationId: string | null;
}

export function listingRef(productId: string, variationId: string | null | undefined): string {
  return variationId && variationId !== '0' ? `${productId}:${variationId}` : productId;
}

export function parseListingRef(ref: string): ListingRef | null {
  const m = /^(\d{1,20})(?::(\d{1,20}))?$/.exec(ref);
  return m ? { productId: m[1]!, variationId: m[2] ?? null } : null;
}

/** WooCommerce dates carry no zone; `*_gmt` ones are UTC. */
export function gmtIso(d: string | null | undefined): string | null {
  if (!d) return null;
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(d) ? d : `${d}Z`);
  return Number.isFinite(t) ? new Date(t).toISOString() : null;
}

const id = numericId;
const optionalId = z.union([id, z.null()]).optional();

export const ApiProduct = z.looseObject({
  id,
  name: z.string().nullable().optional(),
  type: z.string().optional(),
  sku: z.string().nullable().optional(),
  manage_stock: z
    .union([z.boolean(), z.literal('parent')])
    .nullable()
    .optional(),
  stock_quantity: z.number().int().nullable().optional(),
  date_modified_gmt: z.string().nullable().optional(),
  variations: z.array(id).optional(),
});
export type ApiProduct = z.infer<typeof ApiProduct>;

export const ApiOrder = z.looseObject({
  id,
  status: z.string(),
  date_created_gmt: z.string().nullable().optional(),
  date_modified_gmt: z.string().nullable().optional(),
  date_paid_gmt: z.string().nullable().optional(),
  payment_method: z.string().nullable().optional(),
  line_items: z
    .array(
      z.looseObject({
        product_id: optionalId,
        variation_id: optionalId,
        sku: z.string().nullable().optional(),
        quantity: z.number(),
      }),
    )
    .default([]),
});
export type ApiOrder = z.infer<typeof ApiOrder>;

/**
 * Statuses whose stock WooCommerce has taken: wc_maybe_reduce_stock_levels runs when an order is
 * paid and on processing / completed / on-hold. pending, failed and checkout-draft have taken nothing.
 */
export const SOLD_STATUSES = new Set(['processing', 'completed', 'on-hold']);
/**
 * Statuses that give stock back: WooCommerce restores an order's stock when it is cancelled
 * (wc_maybe_increase_stock_levels). GUESS: `refunded` is treated the same (a full refund from
 * wp-admin restocks by default); a merchant who refunded without restocking shows up as drift.
 */
export const RESTOCKED_STATUSES = new Set(['cancelled', 'refunded']);

/**
 * Gateways whose orders wait on-hold for the payment (bank transfer, cheque): WooCommerce takes
 * their stock at on-hold, before any date_paid. GUESS: the core offline gateways' ids.
 */
const ON_HOLD_GATEWAYS = new Set(['bacs', 'cheque']);

/**
 * Whether WooCommerce took this order's stock at some point: a paid order (date_paid is set when an
 * order reaches processing or completed), one in a stock-taking status now, or a cancelled on-hold
 * one. A pending order that lapsed to cancelled (unpaid orders are cancelled after "Hold stock"
 * minutes) took none, so its cancellation gives nothing back.
 */
function tookStock(o: ApiOrder, status: string): boolean {
  return !!o.date_paid_gmt || SOLD_STATUSES.has(status) || ON_HOLD_GATEWAYS.has(o.payment_method ?? '');
}

const secondsOf = (d: string | null | undefined): number | null => {
  const iso = gmtIso(d);
  return iso ? Math.floor(Date.parse(iso) / 1000) : null;
};

/**
 * An order as events, the same from a webhook and from the poll: its sale (`order:<id>`), and its
 * return (`order:<id>:cancel`) once cancelled or refunded. A cancelled order also carries its sale:
 * counted earlier, it is a duplicate; never counted (cancelled before we heard of it), sale and
 * return cancel out.
 *
 * `notBeforeS`: the sale is only news when WooCommerce took the stock (paid, or put on hold) at or
 * after this instant (unix seconds); before it, it was already in the stock the import read, and
 * only its return can be news. The poll passes when it began; the webhook parser "a few minutes
 * ago", so a merchant completing an order placed before StockClerk was connected does not count
 * it again (the poll counts everything paid since it began, so a late delivery loses nothing).
 */
export function orderEvents(o: ApiOrder, notBeforeS: number | null = null): InboundEvent[] {
  const status = o.status.toLowerCase();
  const sold = SOLD_STATUSES.has(status);
  const restocked = RESTOCKED_STATUSES.has(status);
  if ((!sold && !restocked) || !tookStock(o, status)) return [];
  const lines = o.line_items
    .filter((l) => l.quantity > 0 && l.product_id && l.product_id !== '0')
    .map((l) => ({ externalId: listingRef(l.product_id!, l.variation_id), sku: l.sku || null, qty: l.quantity }));
  if (lines.length === 0) return [];
  const created = gmtIso(o.date_created_gmt) ?? new Date().toISOString();
  const modified = gmtIso(o.date_modified_gmt) ?? created;
  const tookAt = secondsOf(o.date_paid_gmt) ?? secondsOf(o.date_created_gmt);
  const base = { kind: 'order' as const, orderId: o.id, lines, externalLocationId: null };
  const events: InboundEvent[] = [];
  if (notBeforeS === null || tookAt === null || tookAt >= notBeforeS)
    events.push({ ...base, externalEventId: `order:${o.id}`, occurredAt: created, effect: 'sale' });
  if (restocked) events.push({ ...base, externalEventId: `order:${o.id}:cancel`, occurredAt: modified, effect: 'cancel' });
  return events;
}
