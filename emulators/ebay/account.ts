// An eBay seller as the emulator holds it: Inventory API records (inventory items, inventory item
// groups, offers), the live listings publishing made of them, the orders buyers placed, and the
// Notification API subscriptions the seller's user token created.
// Facts: Sell Inventory API v1.13 OpenAPI document (sell_inventory_v1_oas3.json) and the Fulfillment
// API v1.11 document (sell_fulfillment_v1_oas3.json), as published by eBay; see index.ts.
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export interface Amount {
  value: string;
  currency: string;
}

/** An inventory item record exactly as the seller last wrote it, plus the fields eBay adds. */
export interface InventoryItem {
  sku: string;
  locale: string;
  /** The body of the last createOrReplaceInventoryItem (product, condition, availability, ...). */
  body: Record<string, unknown>;
  /** availability.shipToLocationAvailability.quantity (0 when never set). */
  quantity: number;
}

export interface ItemGroup {
  key: string;
  body: Record<string, unknown>;
  variantSKUs: string[];
}

export interface Offer {
  offerId: string;
  sku: string;
  marketplaceId: string;
  format: string;
  /** The offer as the seller last wrote it (createOffer / updateOffer body, minus the keys). */
  body: Record<string, unknown>;
  /** null when the seller has not set one (the listing then offers the whole item quantity). */
  availableQuantity: number | null;
  status: 'PUBLISHED' | 'UNPUBLISHED';
  listingId: string | null;
  soldQuantity: number;
}

export interface Listing {
  listingId: string;
  /** null for a single-variation listing. */
  groupKey: string | null;
  offerIds: string[];
  status: 'ACTIVE' | 'ENDED';
  /** Revisions counted against the documented 250 per listing per calendar day. */
  revisionDay: string;
  revisions: number;
}

export interface OrderLine {
  lineItemId: string;
  legacyItemId: string;
  legacyVariationId?: string;
  sku: string;
  title: string;
  quantity: number;
  lineItemCost: Amount;
  total: Amount;
  lineItemFulfillmentStatus: string;
  listingMarketplaceId: string;
  purchaseMarketplaceId: string;
  soldFormat: string;
}

export interface Order {
  orderId: string;
  legacyOrderId: string;
  creationDate: string;
  lastModifiedDate: string;
  orderFulfillmentStatus: string;
  orderPaymentStatus: string;
  sellerId: string;
  buyer: { username: string };
  pricingSummary: { priceSubtotal: Amount; total: Amount };
  cancelStatus: { cancelState: string; cancelRequests: unknown[] };
  salesRecordReference: string;
  lineItems: OrderLine[];
}

export interface Subscription {
  subscriptionId: string;
  topicId: string;
  status: 'ENABLED' | 'DISABLED';
  destinationId: string;
  payload: Record<string, unknown>;
}

export interface EbayAccount extends BaseAccount {
  /** The seller's eBay user name (orders' sellerId, the consent page's sign-in). */
  username: string;
  items: Map<string, InventoryItem>;
  groups: Map<string, ItemGroup>;
  offers: Map<string, Offer>;
  listings: Map<string, Listing>;
  orders: Order[];
  subscriptions: Map<string, Subscription>;
  seq: number;
}

export const DEFAULT_MARKETPLACE = 'EBAY_US';
export const DEFAULT_PRICE: Amount = { value: '10.00', currency: 'USD' };

/** Ids with the shape eBay's have (numeric strings); unique per account through its counter. */
export function nextId(acc: EbayAccount, base: number): string {
  return String(base + ++acc.seq);
}

/**
 * What a published listing offers buyers: the smaller of the offer's availableQuantity and the
 * item's ship-to-home quantity (documented on the bulk-updates page: "the quantity specified on a
 * listing will be the minimum value between these two fields").
 */
export function listingQuantity(acc: EbayAccount, offer: Offer): number {
  const item = acc.items.get(offer.sku);
  const itemQty = item?.quantity ?? 0;
  return Math.max(0, Math.min(offer.availableQuantity ?? itemQty, itemQty));
}

export function liveOffers(acc: EbayAccount, sku: string): Offer[] {
  return [...acc.offers.values()].filter((o) => o.sku === sku && o.status === 'PUBLISHED');
}

export function groupOf(acc: EbayAccount, sku: string): ItemGroup | undefined {
  for (const g of acc.groups.values()) if (g.variantSKUs.includes(sku)) return g;
  return undefined;
}

/**
 * A new seller. Each `items` entry becomes an inventory item with a published fixed-price offer
 * on EBAY_US (a seller with live listings, which is what StockClerk connects to); the publishing
 * feature adds its own SKUs through the API.
 */
export function createSeller(input: AccountInput, base: BaseAccount): EbayAccount {
  const acc: EbayAccount = {
    ...base,
    username: input.credentials.username ?? input.id,
    items: new Map(),
    groups: new Map(),
    offers: new Map(),
    listings: new Map(),
    orders: [],
    subscriptions: new Map(),
    seq: 0,
  };
  for (const it of input.items) {
    acc.items.set(it.sku, {
      sku: it.sku,
      locale: 'en_US',
      quantity: it.qty,
      body: {
        product: { title: it.name, description: it.name, imageUrls: ['https://i.ebayimg.com/images/g/emulator/s-l1600.jpg'] },
        condition: 'NEW',
        availability: { shipToLocationAvailability: { quantity: it.qty } },
      },
    });
    const offerId = nextId(acc, 5_000_000_000);
    const listingId = it.externalId && /^\d+$/.test(it.externalId) ? it.externalId : nextId(acc, 110_000_000_000);
    acc.offers.set(offerId, {
      offerId,
      sku: it.sku,
      marketplaceId: DEFAULT_MARKETPLACE,
      format: 'FIXED_PRICE',
      body: {
        availableQuantity: it.qty,
        categoryId: '29792',
        listingDescription: it.name,
        merchantLocationKey: 'default',
        listingPolicies: { fulfillmentPolicyId: 'f-1', paymentPolicyId: 'p-1', returnPolicyId: 'r-1' },
        pricingSummary: { price: DEFAULT_PRICE },
      },
      availableQuantity: it.qty,
      status: 'PUBLISHED',
      listingId,
      soldQuantity: 0,
    });
    acc.listings.set(listingId, { listingId, groupKey: null, offerIds: [offerId], status: 'ACTIVE', revisionDay: '', revisions: 0 });
  }
  return acc;
}

interface SavedSeller {
  username: string;
  items: InventoryItem[];
  groups: ItemGroup[];
  offers: Offer[];
  listings: Listing[];
  orders: Order[];
  subscriptions: Subscription[];
  seq: number;
}

export function saveSeller(acc: EbayAccount): SavedSeller {
  return {
    username: acc.username,
    items: [...acc.items.values()],
    groups: [...acc.groups.values()],
    offers: [...acc.offers.values()],
    listings: [...acc.listings.values()],
    orders: acc.orders,
    subscriptions: [...acc.subscriptions.values()],
    seq: acc.seq,
  };
}

export function loadSeller(saved: unknown, base: BaseAccount): EbayAccount {
  const s = saved as SavedSeller;
  return {
    ...base,
    username: s.username,
    items: new Map(s.items.map((i) => [i.sku, i])),
    groups: new Map(s.groups.map((g) => [g.key, g])),
    offers: new Map(s.offers.map((o) => [o.offerId, o])),
    listings: new Map(s.listings.map((l) => [l.listingId, l])),
    orders: s.orders,
    subscriptions: new Map(s.subscriptions.map((x) => [x.subscriptionId, x])),
    seq: s.seq,
  };
}
