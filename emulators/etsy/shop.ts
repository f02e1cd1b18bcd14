// An Etsy shop as the emulator holds it: the seller (user id, shop id), the app key it is reached
// through, its listings (each with images and an inventory of products x one offering) and the
// receipts buyers left, plus how Open API v3 renders each of them. Prices are kept in minor units
// (Etsy's Money is {amount, divisor, currency_code}); timestamps are unix seconds, as Etsy's are.
// Facts: /work/shared/channel-apis.md section 7 and the sources named in index.ts.
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export type ListingState = 'draft' | 'active' | 'inactive' | 'sold_out' | 'expired';

export interface PropertyValue {
  property_id: number;
  property_name: string | null;
  scale_id: number | null;
  scale_name: string | null;
  value_ids: number[];
  values: string[];
}

export interface Offering {
  offering_id: number;
  /** Minor units (cents). */
  price: number;
  quantity: number;
  is_enabled: boolean;
  readiness_state_id: number | null;
}

export interface Product {
  product_id: number;
  sku: string;
  property_values: PropertyValue[];
  /** Etsy products carry one offering each. */
  offering: Offering;
}

export interface ListingImage {
  listing_image_id: number;
  rank: number;
  created: number;
  width: number | null;
  height: number | null;
  bytes: number;
  alt_text: string | null;
}

export interface Listing {
  listing_id: number;
  state: ListingState;
  title: string;
  description: string;
  who_made: string;
  when_made: string;
  taxonomy_id: number;
  type: string;
  tags: string[];
  materials: string[];
  is_supply: boolean;
  should_auto_renew: boolean;
  is_taxable: boolean;
  is_personalizable: boolean;
  shipping_profile_id: number | null;
  created: number;
  updated: number;
  state_changed: number;
  products: Product[];
  price_on_property: number[];
  quantity_on_property: number[];
  sku_on_property: number[];
  readiness_state_on_property: number[];
  images: ListingImage[];
}

export interface Transaction {
  transaction_id: number;
  listing_id: number;
  product_id: number;
  sku: string;
  title: string;
  quantity: number;
  price: number;
  created: number;
  variations: Array<{ property_id: number; value_id: number | null; formatted_name: string; formatted_value: string }>;
}

export interface Receipt {
  receipt_id: number;
  buyer_user_id: number;
  created: number;
  updated: number;
  is_paid: boolean;
  is_shipped: boolean;
  status: string;
  transactions: Transaction[];
}

export interface EtsyAccount extends BaseAccount {
  /** The app's API key keystring (= OAuth client_id) and shared secret. Several shops may share one app. */
  keystring: string;
  sharedSecret: string;
  userId: number;
  shopId: number;
  shopName: string;
  currency: string;
  /** Redirect URIs registered for the app; empty = any is accepted (the emulator has no app settings page). */
  redirectUris: string[];
  /** The app's quota (Etsy sets it per API key; set here per account and applied to its key). */
  limits: { perSecond: number; perDay: number };
  listings: Listing[];
  receipts: Receipt[];
}

/** Fields a /_control/accounts body may carry beyond the kit's AccountInput. */
export type EtsyAccountInput = AccountInput & {
  shop_name?: string;
  currency_code?: string;
  redirect_uris?: string[];
  rate_limit?: { per_second?: number; per_day?: number };
};

export const DEFAULT_LIMITS = { perSecond: 10, perDay: 10_000 };
// GUESS: seeded listings need some price; Etsy has no default. 10.00 in the shop's currency.
export const SEED_PRICE = 1000;

export const now = (): number => Math.floor(Date.now() / 1000);

/** Ids come from one counter shared by the whole emulator, so no id is ever handed out twice (even across restarts). */
export interface Ids {
  next(): number;
}

export function createShop(input: EtsyAccountInput, base: BaseAccount, ids: Ids): EtsyAccount {
  const c = input.credentials;
  const num = (v: string | undefined): number | null => (v && /^\d+$/.test(v) ? Number(v) : null);
  const acc: EtsyAccount = {
    ...base,
    keystring: c.keystring ?? c.api_key ?? input.id,
    sharedSecret: c.shared_secret ?? '',
    userId: num(c.user_id) ?? ids.next(),
    shopId: num(c.shop_id) ?? ids.next(),
    shopName: input.shop_name ?? input.id,
    currency: input.currency_code ?? 'USD',
    redirectUris: input.redirect_uris ?? [],
    limits: { perSecond: input.rate_limit?.per_second ?? DEFAULT_LIMITS.perSecond, perDay: input.rate_limit?.per_day ?? DEFAULT_LIMITS.perDay },
    listings: [],
    receipts: [],
  };
  // Each seeded item is an active single-product listing with one photo, as a shop would have it.
  for (const it of input.items) {
    const t = now();
    const listing = newListing(ids, { title: it.name, description: it.name, who_made: 'i_did', when_made: 'made_to_order', taxonomy_id: 1 }, t);
    if (it.externalId && /^\d+$/.test(it.externalId)) listing.listing_id = Number(it.externalId);
    listing.products = [
      {
        product_id: ids.next(),
        sku: it.sku,
        property_values: [],
        offering: { offering_id: ids.next(), price: SEED_PRICE, quantity: it.qty, is_enabled: true, readiness_state_id: null },
      },
    ];
    listing.images.push({ listing_image_id: ids.next(), rank: 1, created: t, width: 1000, height: 1000, bytes: 0, alt_text: null });
    listing.state = it.qty > 0 ? 'active' : 'sold_out';
    acc.listings.push(listing);
  }
  return acc;
}

export function newListing(ids: Ids, f: Pick<Listing, 'title' | 'description' | 'who_made' | 'when_made' | 'taxonomy_id'>, t = now()): Listing {
  return {
    listing_id: ids.next(),
    state: 'draft',
    ...f,
    type: 'physical',
    tags: [],
    materials: [],
    is_supply: false,
    should_auto_renew: false,
    is_taxable: true,
    is_personalizable: false,
    shipping_profile_id: null,
    created: t,
    updated: t,
    state_changed: t,
    products: [],
    price_on_property: [],
    quantity_on_property: [],
    sku_on_property: [],
    readiness_state_on_property: [],
    images: [],
  };
}

type SavedShop = Omit<EtsyAccount, keyof BaseAccount>;

export function saveShop(acc: EtsyAccount): SavedShop {
  const { keystring, sharedSecret, userId, shopId, shopName, currency, redirectUris, limits, listings, receipts } = acc;
  return { keystring, sharedSecret, userId, shopId, shopName, currency, redirectUris, limits, listings, receipts };
}

export function loadShop(saved: unknown, base: BaseAccount): EtsyAccount {
  return { ...base, ...(saved as SavedShop) };
}

// ---- quantity groups -------------------------------------------------------------------------
// Products that agree on every property named in quantity_on_property share one stock count
// (with quantity_on_property empty, the whole listing shares one). Etsy's tutorial: "when quantity
// is updated it must be the same value across all products sharing the same sku" / property.

/** The key of the group a product belongs to for the given *_on_property list. */
export function groupKey(p: Pick<Product, 'property_values'>, on: number[]): string {
  return on.map((id) => `${id}=${p.property_values.find((v) => v.property_id === id)?.values.join('|') ?? ''}`).join(';');
}

/** The listing's quantity: the sum over quantity groups of their enabled stock (OAS: "the sum of available offering quantities"). */
export function listingQuantity(l: Listing): number {
  const seen = new Map<string, number>();
  for (const p of l.products) if (p.offering.is_enabled) seen.set(groupKey(p, l.quantity_on_property), p.offering.quantity);
  let total = 0;
  for (const q of seen.values()) total += q;
  return total;
}

/** Sets a product's stock and every product sharing its quantity group. */
export function setGroupQuantity(l: Listing, p: Product, qty: number): void {
  const key = groupKey(p, l.quantity_on_property);
  for (const o of l.products) if (groupKey(o, l.quantity_on_property) === key) o.offering.quantity = qty;
}

/** Active listings with nothing left become sold_out, and come back when stock returns. */
export function settleState(l: Listing, t = now()): void {
  const q = listingQuantity(l);
  // GUESS: the automatic active <-> sold_out switch is Etsy's storefront behaviour; no API page states it.
  const next = l.state === 'active' && q === 0 ? 'sold_out' : l.state === 'sold_out' && q > 0 ? 'active' : null;
  if (next) {
    l.state = next;
    l.state_changed = t;
  }
}

// ---- JSON as Open API v3 renders it ----------------------------------------------------------

export function money(amount: number, currency: string): { amount: number; divisor: number; currency_code: string } {
  return { amount, divisor: 100, currency_code: currency };
}

export function imageJson(l: Listing, i: ListingImage): Record<string, unknown> {
  // GUESS: image URLs point at a made-up static host; colour analysis fields are fixed values.
  const url = (size: string) => `https://i.etsystatic.invalid/${l.listing_id}/il_${size}.${i.listing_image_id}.jpg`;
  return {
    listing_id: l.listing_id,
    listing_image_id: i.listing_image_id,
    hex_code: null,
    red: null,
    green: null,
    blue: null,
    hue: null,
    saturation: null,
    brightness: null,
    is_black_and_white: null,
    creation_tsz: i.created,
    created_timestamp: i.created,
    rank: i.rank,
    url_75x75: url('75x75'),
    url_170x135: url('170x135'),
    url_443x_n: url('443xN'),
    url_570xN: url('570xN'),
    url_fullxfull: url('fullxfull'),
    full_height: i.height,
    full_width: i.width,
    alt_text: i.alt_text,
  };
}

export function inventoryJson(l: Listing, currency: string): Record<string, unknown> {
  return {
    products: l.products.map((p) => ({
      product_id: p.product_id,
      sku: p.sku,
      is_deleted: false,
      offerings: [
        {
          offering_id: p.offering.offering_id,
          quantity: p.offering.quantity,
          is_enabled: p.offering.is_enabled,
          is_deleted: false,
          price: money(p.offering.price, currency),
          readiness_state_id: p.offering.readiness_state_id,
        },
      ],
      property_values: p.property_values.map((v) => ({ ...v })),
    })),
    price_on_property: l.price_on_property,
    quantity_on_property: l.quantity_on_property,
    sku_on_property: l.sku_on_property,
    readiness_state_on_property: l.readiness_state_on_property,
    listing: null,
  };
}

export function listingJson(acc: EtsyAccount, l: Listing, includes: Set<string> = new Set()): Record<string, unknown> {
  const prices = l.products.map((p) => p.offering.price);
  const has = (s: string) => includes.has(s.toLowerCase());
  return {
    listing_id: l.listing_id,
    user_id: acc.userId,
    shop_id: acc.shopId,
    title: l.title,
    description: l.description,
    state: l.state,
    creation_timestamp: l.created,
    created_timestamp: l.created,
    // GUESS: listings run four months from activation; drafts carry the same arithmetic.
    ending_timestamp: l.state_changed + 120 * 86400,
    original_creation_timestamp: l.created,
    last_modified_timestamp: l.updated,
    updated_timestamp: l.updated,
    state_timestamp: l.state_changed,
    quantity: listingQuantity(l),
    shop_section_id: null,
    featured_rank: -1,
    url: `https://www.etsy.com/listing/${l.listing_id}`,
    num_favorers: 0,
    non_taxable: !l.is_taxable,
    is_taxable: l.is_taxable,
    is_customizable: false,
    is_personalizable: l.is_personalizable,
    listing_type: l.type,
    tags: l.tags,
    materials: l.materials,
    shipping_profile_id: l.shipping_profile_id,
    who_made: l.who_made,
    when_made: l.when_made,
    is_supply: l.is_supply,
    is_private: false,
    has_variations: l.products.some((p) => p.property_values.length > 0),
    should_auto_renew: l.should_auto_renew,
    language: 'en-US',
    price: money(prices.length ? Math.min(...prices) : 0, acc.currency),
    taxonomy_id: l.taxonomy_id,
    ...(has('images') ? { images: l.images.map((i) => imageJson(l, i)) } : {}),
    ...(has('inventory') ? { inventory: inventoryJson(l, acc.currency) } : {}),
  };
}

export function receiptJson(acc: EtsyAccount, r: Receipt): Record<string, unknown> {
  const subtotal = r.transactions.reduce((s, t) => s + t.price * t.quantity, 0);
  const m = (a: number) => money(a, acc.currency);
  return {
    receipt_id: r.receipt_id,
    receipt_type: 0,
    seller_user_id: acc.userId,
    seller_email: null,
    buyer_user_id: r.buyer_user_id,
    buyer_email: null,
    name: 'Emulated Buyer',
    first_line: null,
    second_line: null,
    city: null,
    state: null,
    zip: null,
    status: r.status,
    formatted_address: null,
    country_iso: 'US',
    payment_method: 'cc',
    payment_email: null,
    message_from_seller: null,
    message_from_buyer: null,
    message_from_payment: null,
    is_paid: r.is_paid,
    is_shipped: r.is_shipped,
    create_timestamp: r.created,
    created_timestamp: r.created,
    update_timestamp: r.updated,
    updated_timestamp: r.updated,
    is_gift: false,
    gift_message: '',
    grandtotal: m(subtotal),
    subtotal: m(subtotal),
    total_price: m(subtotal),
    total_shipping_cost: m(0),
    total_tax_cost: m(0),
    total_vat_cost: m(0),
    discount_amt: m(0),
    gift_wrap_price: m(0),
    shipments: [],
    transactions: r.transactions.map((t) => ({
      transaction_id: t.transaction_id,
      title: t.title,
      description: null,
      seller_user_id: acc.userId,
      buyer_user_id: r.buyer_user_id,
      create_timestamp: t.created,
      created_timestamp: t.created,
      paid_timestamp: r.is_paid ? t.created : null,
      shipped_timestamp: null,
      quantity: t.quantity,
      listing_image_id: null,
      receipt_id: r.receipt_id,
      is_digital: false,
      file_data: '',
      listing_id: t.listing_id,
      transaction_type: 'listing',
      product_id: t.product_id,
      sku: t.sku,
      price: m(t.price),
      shipping_cost: m(0),
      variations: t.variations,
      product_data: [],
      shipping_profile_id: null,
      min_processing_days: null,
      max_processing_days: null,
      shipping_method: null,
      shipping_upgrade: null,
      expected_ship_date: null,
      buyer_coupon: 0,
      shop_coupon: 0,
    })),
    refunds: [],
  };
}
