// Etsy Open API v3 shapes this module reads, the listing ids it tracks, and what the engine is told
// the channel can do. Facts: /work/shared/channel-apis.md section 7 and Etsy's reference.
import type { ChannelCapabilities } from '../contract.ts';

export const ETSY_CAPABILITIES: ChannelCapabilities = {
  catalog: true,
  // updateListingInventory sets each offering's quantity outright.
  quantityModel: 'absolute',
  // No compare-and-set: the PUT replaces the whole product set, whatever it held.
  compareAndSet: false,
  // Sales arrive as receipts (orders); Etsy sends no stock-level events.
  defaultSalesSource: 'orders',
  // Etsy documents no webhooks for orders or stock (channel-apis.md: "Webhooks: UNCONFIRMED").
  webhooks: false,
  pollable: true,
  // One GET + one PUT of the inventory per listing in the batch.
  callsPerPush: 2,
  // Requests are grouped by listing (variants of one listing share one GET + PUT); 25 listings is
  // 50 calls, five seconds of the default 10 per second quota.
  maxPushBatch: 25,
  // Etsy's default quota: 10 requests per second and 10,000 per day, counted per OAuth access token
  // for a seller's calls (Rate Limits page), i.e. per channel, which is what this budget is.
  // Our gate is a token bucket; Etsy counts calls in a window of one second (GUESS: sliding). A
  // bucket lets through its burst plus a second's refill in any one second, so burst + rate must
  // stay well under 10: calls are counted when they leave the gate and by Etsy when they arrive,
  // and a busy event loop (a loaded CI machine) bunches them up in between; a few calls (listing
  // import, the first order poll) are not drawn from the gate at all. With the gate's 90% share,
  // 3.6 + 3.6 = 7.2 leaves almost three calls of slack. Measured on the way here with
  // test/e2e/marketplaces-budget.test.ts: 10 + 10 sent up to 18 (429s); 4 + 6 (9 in any second)
  // and 4 + 5 (8.1) each earned one 429 in CI runs with other suites beside it.
  // A burst of 4 keeps a push's two calls free below the bulk reserve (PUBLISH_PRIORITY: half the burst).
  rateLimit: { perSecond: 4, burst: 4 },
};

/** Largest page getListingsByShop and getShopReceipts serve (limit 1..100). */
export const PAGE_LIMIT = 100;
/** GUESS: the largest offering quantity Etsy takes (the seller UI caps a listing at 999). */
export const MAX_QUANTITY = 999;

export interface Money {
  amount: number;
  divisor: number;
  currency_code: string;
}

export interface EtsyPropertyValue {
  property_id: number;
  property_name?: string | null;
  scale_id?: number | null;
  scale_name?: string | null;
  value_ids?: number[];
  values: string[];
}

export interface EtsyOffering {
  offering_id?: number;
  quantity: number;
  is_enabled: boolean;
  is_deleted?: boolean;
  price: Money;
  readiness_state_id?: number | null;
}

export interface EtsyProduct {
  product_id?: number;
  sku: string | null;
  is_deleted?: boolean;
  offerings: EtsyOffering[];
  property_values: EtsyPropertyValue[];
}

export interface EtsyInventory {
  products: EtsyProduct[];
  price_on_property?: number[];
  quantity_on_property?: number[];
  sku_on_property?: number[];
  readiness_state_on_property?: number[];
}

export interface EtsyListing {
  listing_id: number;
  title: string;
  description?: string;
  state: string;
  quantity?: number;
  last_modified_timestamp?: number;
  updated_timestamp?: number;
  price?: Money;
  inventory?: EtsyInventory;
}

export interface EtsyReceipt {
  receipt_id: number;
  status?: string;
  is_paid?: boolean;
  create_timestamp?: number;
  created_timestamp?: number;
  update_timestamp?: number;
  updated_timestamp?: number;
  transactions: Array<{ transaction_id: number; listing_id: number; product_id?: number; sku?: string | null; quantity: number }>;
}

/**
 * The stable listing id of one variant: `<listing_id>:<sku>`. Etsy hands out new product_id and
 * offering_id values on every inventory write (issues #432, #523), so neither can key a listing;
 * the SKU is the merchant's and stays. The listing id is digits, so the first ':' splits it.
 */
export function variantId(listingId: number | string, sku: string): string {
  return `${listingId}:${sku}`;
}

export function parseVariantId(externalId: string): { listingId: number; sku: string } | null {
  const i = externalId.indexOf(':');
  if (i < 1) return null;
  const listingId = Number(externalId.slice(0, i));
  if (!Number.isSafeInteger(listingId) || listingId < 1) return null;
  return { listingId, sku: externalId.slice(i + 1) };
}

/** Products that agree on every property in `on` share one value (Etsy's *_on_property rule). */
export function groupKey(p: EtsyProduct, on: readonly number[]): string {
  return on.map((id) => `${id}=${(p.property_values.find((v) => v.property_id === id)?.values ?? []).join('|')}`).join(';');
}

export const liveProducts = (inv: EtsyInventory): EtsyProduct[] => (inv.products ?? []).filter((p) => !p.is_deleted);
export const offeringOf = (p: EtsyProduct): EtsyOffering | undefined => p.offerings.find((o) => !o.is_deleted) ?? p.offerings[0];

/** Quantity a SKU holds on a listing: products of the SKU in separate quantity groups add up. */
export function skuQuantity(inv: EtsyInventory, sku: string): number | null {
  const groups = new Map<string, number>();
  for (const p of liveProducts(inv)) {
    if ((p.sku ?? '') !== sku) continue;
    const o = offeringOf(p);
    if (o) groups.set(groupKey(p, inv.quantity_on_property ?? []), o.quantity);
  }
  if (groups.size === 0) return null;
  let total = 0;
  for (const q of groups.values()) total += q;
  return total;
}

/** Money -> a float in major units, as updateListingInventory wants prices. */
export const majorOf = (m: Money): number => m.amount / (m.divisor || 1);

/** The inventory as updateListingInventory takes it back: read-only fields dropped, Money as a float. */
export function writableInventory(inv: EtsyInventory, quantityOf: (p: EtsyProduct) => number): Record<string, unknown> {
  return {
    products: liveProducts(inv).map((p) => {
      const o = offeringOf(p)!;
      return {
        sku: p.sku ?? '',
        property_values: p.property_values.map((v) => ({
          property_id: v.property_id,
          value_ids: v.value_ids ?? [],
          scale_id: v.scale_id ?? null,
          property_name: v.property_name ?? null,
          values: v.values,
        })),
        offerings: [
          {
            price: majorOf(o.price),
            quantity: quantityOf(p),
            is_enabled: o.is_enabled,
            ...(o.readiness_state_id === undefined || o.readiness_state_id === null ? {} : { readiness_state_id: o.readiness_state_id }),
          },
        ],
      };
    }),
    price_on_property: inv.price_on_property ?? [],
    quantity_on_property: inv.quantity_on_property ?? [],
    sku_on_property: inv.sku_on_property ?? [],
    ...(inv.readiness_state_on_property ? { readiness_state_on_property: inv.readiness_state_on_property } : {}),
  };
}
