// updateListingInventory (PUT /v3/application/listings/{listing_id}/inventory): the body replaces
// the listing's whole product set. What Etsy accepts and refuses, from its reference (OAS request
// schema: products[{sku, property_values[{property_id, value_ids, scale_id, property_name,
// values}], offerings[{price (float), quantity, is_enabled}]}], *_on_property int arrays), its
// listings tutorial (products sharing a quantity/price/sku property value share that value) and the
// etsy/open-api issues: #159 (price must be a float, product_id / is_deleted / scale_name refused),
// #134 ("Property values can't be empty"), #168 ("Missing Input Parameter: [products]"), #523 and
// #432 (every update hands out new product_id / offering_id), #337 / #495 (a product left out is gone).
import { groupKey, type Ids, type Listing, type Product, type PropertyValue } from './shop.ts';

export class InventoryError extends Error {}

const fail = (msg: string): never => {
  throw new InventoryError(msg);
};

const PRODUCT_KEYS = new Set(['sku', 'property_values', 'offerings']);
const OFFERING_KEYS = new Set(['price', 'quantity', 'is_enabled', 'readiness_state_id']);
const VALUE_KEYS = new Set(['property_id', 'property_name', 'scale_id', 'value_ids', 'values']);
// Read-only fields GET returns and PUT refuses (issue #159); named so the error says which.
const READ_ONLY = new Set(['product_id', 'offering_id', 'is_deleted', 'scale_name']);

// GUESS: Etsy's offering quantity range; the seller UI caps a listing's quantity at 999.
export const MAX_QUANTITY = 999;
// GUESS: Etsy's price ceiling (USD 50,000) is from its seller help, not the API reference.
const MAX_PRICE = 50_000;
// GUESS: at most two variation properties per listing (the seller UI offers two).
const MAX_PROPERTIES = 2;

function checkKeys(obj: Record<string, unknown>, allowed: Set<string>, where: string): void {
  for (const k of Object.keys(obj)) {
    // GUESS: the error texts; Etsy answered these with a bare 400 (issue #159 reports "UKNOWN_ERROR").
    if (READ_ONLY.has(k)) fail(`${where}.${k} is read-only and cannot be set`);
    if (!allowed.has(k)) fail(`${where}.${k} is not a valid field`);
  }
}

const intArray = (v: unknown, name: string): number[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => !Number.isInteger(x) || (x as number) < 1)) fail(`${name} must be an array of property ids`);
  const a = v as number[];
  if (new Set(a).size !== a.length) fail(`${name} must not repeat a property id`);
  return a;
};

/** Everything updateListingInventory would write, validated; `apply` then swaps it in. */
export interface InventoryUpdate {
  products: Product[];
  price_on_property: number[];
  quantity_on_property: number[];
  sku_on_property: number[];
  readiness_state_on_property: number[];
}

export function parseInventory(body: unknown, ids: Ids, old: Listing): InventoryUpdate {
  if (!body || typeof body !== 'object') fail('Missing Input Parameter: [products].');
  const b = body as Record<string, unknown>;
  if (!Array.isArray(b.products) || b.products.length === 0) fail('Missing Input Parameter: [products].');
  const list = b.products as unknown[];
  // value ids the listing already uses are kept for the same (property, value); new ones are issued.
  const knownValueIds = new Map<string, number>();
  for (const p of old.products)
    for (const v of p.property_values) v.values.forEach((val, i) => knownValueIds.set(`${v.property_id}:${val}`, v.value_ids[i] ?? 0));

  const products: Product[] = list.map((raw, i) => {
    const where = `products[${i}]`;
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail(`${where} must be an object`);
    const p = raw as Record<string, unknown>;
    checkKeys(p, PRODUCT_KEYS, where);
    if (p.sku !== undefined && p.sku !== null && typeof p.sku !== 'string') fail(`${where}.sku must be a string`);
    const offerings = p.offerings;
    if (!Array.isArray(offerings) || offerings.length !== 1) fail(`${where}.offerings must hold exactly one offering`); // GUESS: one offering per product
    const o = (offerings as unknown[])[0];
    if (!o || typeof o !== 'object' || Array.isArray(o)) fail(`${where}.offerings[0] must be an object`);
    const off = o as Record<string, unknown>;
    checkKeys(off, OFFERING_KEYS, `${where}.offerings[0]`);
    if (typeof off.price !== 'number' || !Number.isFinite(off.price))
      fail(`${where}.offerings[0].price must be a number (a float such as 12.5), not a Money object`);
    const price = off.price as number;
    if (price <= 0 || price > MAX_PRICE) fail(`${where}.offerings[0].price must be greater than 0 and at most ${MAX_PRICE}`);
    if (!Number.isInteger(off.quantity) || (off.quantity as number) < 0 || (off.quantity as number) > MAX_QUANTITY) {
      fail(`${where}.offerings[0].quantity must be an integer between 0 and ${MAX_QUANTITY}`);
    }
    if (off.is_enabled !== undefined && typeof off.is_enabled !== 'boolean') fail(`${where}.offerings[0].is_enabled must be a boolean`);
    const rs = off.readiness_state_id;
    if (rs !== undefined && rs !== null && !Number.isInteger(rs)) fail(`${where}.offerings[0].readiness_state_id must be an integer`);

    const pvs = p.property_values ?? [];
    if (!Array.isArray(pvs)) fail(`${where}.property_values must be an array`);
    const property_values: PropertyValue[] = (pvs as unknown[]).map((rv, j) => {
      const w = `${where}.property_values[${j}]`;
      if (!rv || typeof rv !== 'object' || Array.isArray(rv)) fail(`${w} must be an object`);
      const v = rv as Record<string, unknown>;
      checkKeys(v, VALUE_KEYS, w);
      if (!Number.isInteger(v.property_id) || (v.property_id as number) < 1) fail(`${w}.property_id must be a positive integer`);
      if (!Array.isArray(v.values) || v.values.length !== 1 || typeof v.values[0] !== 'string' || v.values[0].trim() === '') {
        fail(`${w}.values must hold one non-empty string`); // GUESS: one value per property per product
      }
      const propertyId = v.property_id as number;
      const value = (v.values as string[])[0]!;
      let valueIds: number[];
      if (v.value_ids !== undefined && v.value_ids !== null) {
        if (!Array.isArray(v.value_ids) || v.value_ids.length > 1 || v.value_ids.some((x) => !Number.isInteger(x) || (x as number) < 1)) {
          fail(`${w}.value_ids must hold at most one positive integer`);
        }
        valueIds = v.value_ids as number[];
      } else valueIds = [];
      if (valueIds.length === 0) {
        const key = `${propertyId}:${value}`;
        const known = knownValueIds.get(key);
        const id = known || ids.next();
        knownValueIds.set(key, id);
        valueIds = [id];
      }
      if (v.scale_id !== undefined && v.scale_id !== null && !Number.isInteger(v.scale_id)) fail(`${w}.scale_id must be an integer or null`);
      return {
        property_id: propertyId,
        property_name: typeof v.property_name === 'string' ? v.property_name : null,
        scale_id: (v.scale_id as number | null | undefined) ?? null,
        scale_name: null,
        value_ids: valueIds,
        values: [value],
      };
    });
    if (new Set(property_values.map((v) => v.property_id)).size !== property_values.length) fail(`${where}.property_values repeats a property`);
    return {
      // Every update hands out new ids (issues #523, #432): never key on product_id / offering_id.
      product_id: ids.next(),
      sku: (p.sku as string | null | undefined) ?? '',
      property_values,
      offering: {
        offering_id: ids.next(),
        price: Math.round(price * 100),
        quantity: off.quantity as number,
        is_enabled: (off.is_enabled as boolean | undefined) ?? true,
        readiness_state_id: (rs as number | null | undefined) ?? null,
      },
    };
  });

  // Variations: every product names the same properties, each combination once, all combinations present.
  if (products.length > 1 && products.some((p) => p.property_values.length === 0)) fail("Property values can't be empty");
  const props = (products[0]?.property_values ?? []).map((v) => v.property_id).sort((a, c) => a - c);
  if (props.length > MAX_PROPERTIES) fail(`A listing can vary by at most ${MAX_PROPERTIES} properties`);
  const propKey = props.join(',');
  for (const [i, p] of products.entries()) {
    const mine = p.property_values
      .map((v) => v.property_id)
      .sort((a, c) => a - c)
      .join(',');
    if (mine !== propKey) fail(`products[${i}] must name the same properties as products[0] (${propKey || 'none'})`);
  }
  const combos = new Set(products.map((p) => groupKey(p, props)));
  if (combos.size !== products.length) fail('Each combination of property values may appear only once');
  const valuesPer = props.map((id) => new Set(products.map((p) => p.property_values.find((v) => v.property_id === id)!.values[0])).size);
  // GUESS: Etsy v2's rule ("All combinations of property values must be supplied"), assumed unchanged in v3.
  if (valuesPer.reduce((a, n) => a * n, 1) !== products.length) fail('All combinations of property values must be supplied');
  if (!products.some((p) => p.offering.is_enabled)) fail('At least one offering must be enabled'); // GUESS: text and rule

  // After the products, so that GET's answer sent back names its first read-only field, not `listing`.
  for (const k of Object.keys(b)) {
    if (!['products', 'price_on_property', 'quantity_on_property', 'sku_on_property', 'readiness_state_on_property'].includes(k))
      fail(`${k} is not a valid field`);
  }
  const price_on_property = intArray(b.price_on_property, 'price_on_property');
  const quantity_on_property = intArray(b.quantity_on_property, 'quantity_on_property');
  const sku_on_property = intArray(b.sku_on_property, 'sku_on_property');
  const readiness_state_on_property = intArray(b.readiness_state_on_property, 'readiness_state_on_property');
  for (const [name, on] of [
    ['price_on_property', price_on_property],
    ['quantity_on_property', quantity_on_property],
    ['sku_on_property', sku_on_property],
    ['readiness_state_on_property', readiness_state_on_property],
  ] as const) {
    const stray = on.find((id) => !props.includes(id));
    if (stray !== undefined) fail(`${name} names property ${stray}, which no product has`);
  }
  // Products that agree on every property of X_on_property must agree on X: with the list empty,
  // all products share one value (tutorial "Updating inventory"; issue #159 / #168 threads).
  const same = (on: number[], get: (p: Product) => unknown, what: string, name: string) => {
    const seen = new Map<string, unknown>();
    for (const p of products) {
      const k = groupKey(p, on);
      if (seen.has(k) && seen.get(k) !== get(p)) {
        fail(
          on.length === 0
            ? `Products have different ${what}s but ${name} is empty: list the property the ${what} varies by`
            : `Products sharing the same values of ${name} [${on.join(', ')}] must have the same ${what}`,
        );
      }
      seen.set(k, get(p));
    }
  };
  same(price_on_property, (p) => p.offering.price, 'price', 'price_on_property');
  same(quantity_on_property, (p) => p.offering.quantity, 'quantity', 'quantity_on_property');
  same(sku_on_property, (p) => p.sku, 'sku', 'sku_on_property');
  same(readiness_state_on_property, (p) => p.offering.readiness_state_id, 'readiness_state_id', 'readiness_state_on_property');
  return { products, price_on_property, quantity_on_property, sku_on_property, readiness_state_on_property };
}
