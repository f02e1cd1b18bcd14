// A small client for a real Medusa v2 server (tests and the benchmark): the admin fixture
// (/work/shared/medusa.md: stock location, sales channel, region, shipping, products with
// manage_inventory, levels, publishable key) and the storefront checkout.
// Not the channel adapter (adapter.ts): this is what a merchant and a shopper do on Medusa.
import { randomBytes } from 'node:crypto';

/* eslint-disable @typescript-eslint/no-explicit-any -- a test client of Medusa's JSON API: callers name T where they read fields */

export interface MedusaAdmin {
  url: string;
  token: string;
  call<T = any>(method: string, path: string, body?: unknown): Promise<T>;
}

export class MedusaHttpError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(status: number, body: string, where: string) {
    super(`Medusa ${where}: HTTP ${status} ${body.slice(0, 300)}`);
    this.status = status;
    this.body = body;
  }
}

async function request<T>(url: string, method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<T> {
  const res = await fetch(url + path, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new MedusaHttpError(res.status, text, `${method} ${path}`);
  return (text ? JSON.parse(text) : null) as T;
}

export async function adminLogin(url: string, email: string, password: string): Promise<MedusaAdmin> {
  const { token } = await request<{ token: string }>(url, 'POST', '/auth/user/emailpass', {}, { email, password });
  return { url, token, call: (method, path, body) => request(url, method, path, { authorization: `Bearer ${token}` }, body) };
}

export interface MedusaFixture {
  stockLocationId: string;
  salesChannelId: string;
  regionId: string;
  shippingOptionId: string;
  publishableKey: string;
  productId: string;
  /** sku -> ids */
  variants: Map<string, { variantId: string; inventoryItemId: string }>;
}

export interface FixtureOptions {
  skus: string[];
  initialStock: number;
}

/** The shop a merchant sets up before selling: every object a storefront checkout needs. */
export async function createFixture(admin: MedusaAdmin, o: FixtureOptions): Promise<MedusaFixture> {
  const { stock_location } = await admin.call('POST', '/admin/stock-locations', { name: 'Main warehouse' });
  const { sales_channel } = await admin.call('POST', '/admin/sales-channels', { name: 'Webshop' });
  await admin.call('POST', `/admin/stock-locations/${stock_location.id}/sales-channels`, { add: [sales_channel.id] });
  const { region } = await admin.call('POST', '/admin/regions', {
    name: 'Germany',
    currency_code: 'eur',
    countries: ['de'],
    payment_providers: ['pp_system_default'],
  });
  await admin.call('POST', `/admin/stock-locations/${stock_location.id}/fulfillment-providers`, { add: ['manual_manual'] });
  const withSet = await admin.call('POST', `/admin/stock-locations/${stock_location.id}/fulfillment-sets?fields=*fulfillment_sets`, {
    name: 'Main shipping',
    type: 'shipping',
  });
  const fulfillmentSetId: string = withSet.stock_location.fulfillment_sets[0].id;
  const withZone = await admin.call('POST', `/admin/fulfillment-sets/${fulfillmentSetId}/service-zones?fields=*service_zones`, {
    name: 'Germany',
    geo_zones: [{ type: 'country', country_code: 'de' }],
  });
  const serviceZoneId: string = withZone.fulfillment_set.service_zones[0].id;
  const profiles = await admin.call('GET', '/admin/shipping-profiles?limit=1');
  const profileId: string =
    profiles.shipping_profiles[0]?.id ?? (await admin.call('POST', '/admin/shipping-profiles', { name: 'Default', type: 'default' })).shipping_profile.id;
  const { shipping_option } = await admin.call('POST', '/admin/shipping-options', {
    name: 'Standard',
    service_zone_id: serviceZoneId,
    shipping_profile_id: profileId,
    provider_id: 'manual_manual',
    price_type: 'flat',
    type: { label: 'Standard', description: 'Standard shipping', code: 'standard' },
    prices: [
      { currency_code: 'eur', amount: 5 },
      { region_id: region.id, amount: 5 },
    ],
    rules: [],
  });
  const { product } = await admin.call('POST', '/admin/products?fields=id,*variants', {
    title: 'StockClerk test product',
    status: 'published',
    shipping_profile_id: profileId,
    sales_channels: [{ id: sales_channel.id }],
    options: [{ title: 'Variant', values: o.skus }],
    variants: o.skus.map((sku) => ({ title: sku, sku, manage_inventory: true, options: { Variant: sku }, prices: [{ currency_code: 'eur', amount: 10 }] })),
  });
  const variantBySku = new Map<string, string>((product.variants as Array<{ id: string; sku: string }>).map((v) => [v.sku, v.id]));
  const variants = new Map<string, { variantId: string; inventoryItemId: string }>();
  for (let offset = 0; ; offset += 200) {
    const page = await admin.call('GET', `/admin/inventory-items?limit=200&offset=${offset}&fields=id,sku`);
    for (const it of page.inventory_items as Array<{ id: string; sku: string }>) {
      const v = variantBySku.get(it.sku);
      if (v) variants.set(it.sku, { variantId: v, inventoryItemId: it.id });
    }
    if (offset + 200 >= page.count) break;
  }
  const levels = [...variants.values()].map((v) => ({
    inventory_item_id: v.inventoryItemId,
    location_id: stock_location.id,
    stocked_quantity: o.initialStock,
  }));
  for (let i = 0; i < levels.length; i += 200) {
    await admin.call('POST', '/admin/inventory-items/location-levels/batch', { create: levels.slice(i, i + 200) });
  }
  const { api_key } = await admin.call('POST', '/admin/api-keys', { title: 'Storefront', type: 'publishable' });
  await admin.call('POST', `/admin/api-keys/${api_key.id}/sales-channels`, { add: [sales_channel.id] });
  return {
    stockLocationId: stock_location.id,
    salesChannelId: sales_channel.id,
    regionId: region.id,
    shippingOptionId: shipping_option.id,
    publishableKey: api_key.token,
    productId: product.id,
    variants,
  };
}

export interface MedusaLevel {
  stocked_quantity: number;
  reserved_quantity: number;
  available_quantity: number;
}

export async function levelOf(admin: MedusaAdmin, inventoryItemId: string, locationId: string): Promise<MedusaLevel> {
  const r = await admin.call('GET', `/admin/inventory-items/${inventoryItemId}/location-levels?location_id=${locationId}`);
  const l = r.inventory_levels[0];
  return { stocked_quantity: Number(l.stocked_quantity), reserved_quantity: Number(l.reserved_quantity), available_quantity: Number(l.available_quantity) };
}

export async function setStocked(admin: MedusaAdmin, inventoryItemId: string, locationId: string, stocked: number): Promise<void> {
  await admin.call('POST', `/admin/inventory-items/${inventoryItemId}/location-levels/${locationId}`, { stocked_quantity: stocked });
}

/** A storefront cart with one line, shipping and a payment session: only `complete` is left. */
export async function prepareCart(url: string, f: MedusaFixture, variantId: string, qty: number): Promise<string> {
  const h = { 'x-publishable-api-key': f.publishableKey };
  const { cart } = await request<any>(url, 'POST', '/store/carts', h, {
    region_id: f.regionId,
    sales_channel_id: f.salesChannelId,
    // One guest per cart: Medusa creates the customer, and two carts racing to create one email collide.
    email: `shopper-${randomBytes(6).toString('hex')}@example.com`,
    shipping_address: { first_name: 'Sam', last_name: 'Shopper', address_1: 'Hauptstr. 1', city: 'Berlin', postal_code: '10115', country_code: 'de' },
  });
  await request(url, 'POST', `/store/carts/${cart.id}/line-items`, h, { variant_id: variantId, quantity: qty });
  await request(url, 'POST', `/store/carts/${cart.id}/shipping-methods`, h, { option_id: f.shippingOptionId });
  const { payment_collection } = await request<any>(url, 'POST', '/store/payment-collections', h, { cart_id: cart.id });
  await request(url, 'POST', `/store/payment-collections/${payment_collection.id}/payment-sessions`, h, { provider_id: 'pp_system_default' });
  return cart.id as string;
}

/** Completes a prepared cart: the order, or null when Medusa refused it (not enough stock). */
export async function completeCart(url: string, f: MedusaFixture, cartId: string): Promise<{ id: string } | null> {
  try {
    const r = await request<any>(url, 'POST', `/store/carts/${cartId}/complete`, { 'x-publishable-api-key': f.publishableKey });
    return r.type === 'order' ? { id: r.order.id } : null;
  } catch (err) {
    if (err instanceof MedusaHttpError && err.status >= 400 && err.status < 500) return null;
    throw err;
  }
}

export async function checkout(url: string, f: MedusaFixture, variantId: string, qty: number): Promise<{ id: string } | null> {
  return completeCart(url, f, await prepareCart(url, f, variantId, qty));
}
