// The Sell Inventory API (/sell/inventory/v1): inventory items, inventory item groups
// (multiple-variation listings), offers, publishing, and bulkUpdatePriceQuantity.
// Facts: eBay's Sell Inventory API v1.13 OpenAPI document (paths, fields, errorIds) and the
// "bulk updates" page (listing quantity = min of the two quantities; 250 revisions a day).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import {
  DEFAULT_MARKETPLACE,
  groupOf,
  listingQuantity,
  liveOffers,
  nextId,
  type EbayAccount,
  type InventoryItem,
  type ItemGroup,
  type Listing,
  type Offer,
} from './account.ts';
import { intParam, isNonNegInt, jsonBody, origin, requireContentLanguage, requireUser } from './context.ts';
import {
  EbayError,
  inv,
  invError,
  invalidValue,
  missing,
  notFound,
  offerUnavailable,
  revisionLimit,
  skuUnknown,
  userError,
  type EbayErrorDetail,
} from './errors.ts';
import { SCOPE_BASE } from './oauth.ts';
import type { Platform } from './platform.ts';

const BASE = '/sell/inventory/v1';
const WRITE = [`${SCOPE_BASE}/sell.inventory`];
const READ = [`${SCOPE_BASE}/sell.inventory`, `${SCOPE_BASE}/sell.inventory.readonly`];
const BULK_MAX = 25;

/**
 * Documented: up to 50 characters. GUESS: the documents also say "alphanumeric only", but sellers'
 * SKUs with '-', '_' and '.' list fine on eBay, so those are accepted too.
 */
function checkSku(sku: string): void {
  if (!/^[A-Za-z0-9._-]{1,50}$/.test(sku)) {
    throw invError(
      400,
      25707,
      'This is an invalid value for a SKU. Only alphanumeric characters can be used for SKUs, and their length must not exceed 50 characters.',
    );
  }
}

const quantityOf = (body: Record<string, unknown>): unknown =>
  (body.availability as { shipToLocationAvailability?: { quantity?: unknown } } | undefined)?.shipToLocationAvailability?.quantity;

function setItemQuantity(item: InventoryItem, qty: number): void {
  item.quantity = qty;
  const availability = (item.body.availability ??= {}) as { shipToLocationAvailability?: Record<string, unknown> };
  availability.shipToLocationAvailability = { ...(availability.shipToLocationAvailability ?? {}), quantity: qty };
}

export function itemJson(acc: EbayAccount, item: InventoryItem): Record<string, unknown> {
  const g = groupOf(acc, item.sku);
  const { availability, ...rest } = item.body as { availability?: Record<string, unknown> };
  return {
    sku: item.sku,
    locale: item.locale,
    ...rest,
    availability: { ...(availability ?? {}), shipToLocationAvailability: { quantity: item.quantity } },
    // GUESS: groupIds carries the group key, like inventoryItemGroupKeys; its exact content is not documented clearly.
    ...(g ? { groupIds: [g.key], inventoryItemGroupKeys: [g.key] } : {}),
  };
}

export function offerJson(acc: EbayAccount, o: Offer): Record<string, unknown> {
  const listing = o.listingId ? acc.listings.get(o.listingId) : undefined;
  return {
    offerId: o.offerId,
    sku: o.sku,
    marketplaceId: o.marketplaceId,
    format: o.format,
    includeCatalogProductDetails: true,
    ...o.body,
    ...(o.availableQuantity === null ? {} : { availableQuantity: o.availableQuantity }),
    status: o.status,
    // Documented: the listing container is returned for published offers only.
    ...(o.status === 'PUBLISHED' && listing ? { listing: { listingId: listing.listingId, listingStatus: 'ACTIVE', soldQuantity: o.soldQuantity } } : {}),
  };
}

/** The live listings a change to this SKU revises. */
function listingsOfSku(acc: EbayAccount, sku: string): Listing[] {
  const out = new Map<string, Listing>();
  for (const o of liveOffers(acc, sku)) {
    const l = o.listingId ? acc.listings.get(o.listingId) : undefined;
    if (l) out.set(l.listingId, l);
  }
  return [...out.values()];
}

/**
 * Counts one revision on each listing; refuses (changing nothing) when any of them already had
 * its documented 250 revisions this calendar day.
 */
export function revise(platform: Platform, listings: Listing[]): void {
  const day = platform.today();
  for (const l of listings) {
    if (l.revisionDay !== day) {
      l.revisionDay = day;
      l.revisions = 0;
    }
    if (l.revisions >= platform.limits.revisionsPerListingPerDay) throw revisionLimit(l.listingId);
  }
  for (const l of listings) l.revisions++;
}

function endListing(acc: EbayAccount, listingId: string | null): void {
  const l = listingId ? acc.listings.get(listingId) : undefined;
  if (!l) return;
  l.status = 'ENDED';
  for (const id of l.offerIds) {
    const o = acc.offers.get(id);
    if (o) {
      o.status = 'UNPUBLISHED';
      o.listingId = null;
    }
  }
  l.offerIds = [];
}

function parseAmount(v: unknown, field: string): void {
  const p = v as { value?: unknown; currency?: unknown } | undefined;
  if (p === undefined) return;
  if (typeof p?.value !== 'string' || !/^\d+(\.\d{1,2})?$/.test(p.value) || typeof p.currency !== 'string') throw invalidValue(field);
}

/** What publishing needs of an offer (documented list: location, price, quantity, category, policies). */
function offerProblems(o: Offer, item: InventoryItem | undefined, inGroup: boolean): EbayErrorDetail[] {
  const b = o.body as {
    categoryId?: unknown;
    merchantLocationKey?: unknown;
    listingDescription?: unknown;
    pricingSummary?: { price?: { value?: unknown } };
    listingPolicies?: Record<string, unknown>;
  };
  const miss = (f: string) => inv(25017, `${f} is missing.`, { fieldName: f });
  const out: EbayErrorDetail[] = [];
  if (!item) return [inv(25702, `${o.sku} could not be found or is not available in the system.`, { skuValue: o.sku })];
  const product = (item.body.product ?? {}) as { title?: unknown; description?: unknown; imageUrls?: unknown };
  if (!inGroup) {
    // For a variation the group supplies title, description and pictures.
    if (typeof product.title !== 'string' || !product.title) out.push(miss('product.title'));
    if (!b.listingDescription && !product.description) out.push(miss('listingDescription'));
    if (!Array.isArray(product.imageUrls) || product.imageUrls.length === 0) out.push(miss('product.imageUrls'));
  }
  if (!item.body.condition) out.push(miss('condition'));
  if (quantityOf(item.body) === undefined && o.availableQuantity === null) out.push(miss('availability.shipToLocationAvailability.quantity'));
  if (!b.pricingSummary?.price?.value) out.push(miss('pricingSummary.price'));
  if (!b.categoryId) out.push(miss('categoryId'));
  if (!b.merchantLocationKey) out.push(miss('merchantLocationKey'));
  for (const p of ['fulfillmentPolicyId', 'paymentPolicyId', 'returnPolicyId']) if (!b.listingPolicies?.[p]) out.push(miss(`listingPolicies.${p}`));
  return out;
}

function findOffer(acc: EbayAccount, offerId: string): Offer {
  const o = acc.offers.get(offerId);
  // GUESS: a missing offer answers 404 with 25713 (the documents list 25713 under 400 for getOffer).
  if (!o) throw new EbayError(404, [inv(25713, `This Offer is not available : ${offerId}.`)]);
  return o;
}

/** createOrReplaceInventoryItem's effect (shared with the bulk form). Returns true when created. */
function putItem(acc: EbayAccount, platform: Platform, emu: Emulator<EbayAccount>, sku: string, locale: string, body: Record<string, unknown>): boolean {
  const qty = quantityOf(body);
  if (qty !== undefined && !isNonNegInt(qty))
    throw invError(400, 25004, 'The eBay listing associated with the inventory item, or the unpublished offer has an invalid quantity.');
  const existing = acc.items.get(sku);
  // Documented: changes to an item in a live listing update that listing (a revision).
  if (existing) revise(platform, listingsOfSku(acc, sku));
  const { sku: _s, locale: _l, groupIds: _g, inventoryItemGroupKeys: _k, ...rest } = body;
  const item: InventoryItem = { sku, locale, body: rest, quantity: typeof qty === 'number' ? qty : 0 };
  acc.items.set(sku, item);
  const live = liveOffers(acc, sku)[0];
  emu.recordWrite(acc.id, sku, live ? listingQuantity(acc, live) : item.quantity);
  return !existing;
}

function deleteItem(acc: EbayAccount, sku: string): void {
  for (const o of [...acc.offers.values()].filter((x) => x.sku === sku)) removeOffer(acc, o);
  const g = groupOf(acc, sku);
  if (g) g.variantSKUs = g.variantSKUs.filter((s) => s !== sku);
  acc.items.delete(sku);
}

/** deleteOffer's effect: a single listing ends; a variation leaves its listing and its group. */
function removeOffer(acc: EbayAccount, o: Offer): void {
  const l = o.listingId ? acc.listings.get(o.listingId) : undefined;
  if (l && l.groupKey === null) endListing(acc, l.listingId);
  else if (l) {
    l.offerIds = l.offerIds.filter((id) => id !== o.offerId);
    const g = acc.groups.get(l.groupKey!);
    if (g) g.variantSKUs = g.variantSKUs.filter((s) => s !== o.sku);
    if (l.offerIds.length === 0) l.status = 'ENDED';
  }
  acc.offers.delete(o.offerId);
}

/** limit/offset paging as the Inventory API documents it: offset is the PAGE number (0 = first page). */
function page<T>(all: T[], req: FastifyRequest, path: string, extra: Record<string, string>): { items: T[]; meta: Record<string, unknown> } {
  const q = req.query as { limit?: string; offset?: string };
  const bad = () => invError(400, 25706, 'You have provided invalid pagination values. ');
  const limit = intParam(q.limit, 100, 1, 100, bad);
  const offset = intParam(q.offset, 0, 0, Number.MAX_SAFE_INTEGER, bad);
  const items = all.slice(offset * limit, offset * limit + limit);
  const href = (o: number) => `${origin(req)}${BASE}${path}?${new URLSearchParams({ ...extra, offset: String(o), limit: String(limit) }).toString()}`;
  return {
    items,
    meta: {
      href: href(offset),
      limit,
      ...((offset + 1) * limit < all.length ? { next: href(offset + 1) } : {}),
      ...(offset > 0 ? { prev: href(offset - 1) } : {}),
      total: all.length,
    },
  };
}

export function installInventory(app: FastifyInstance, emu: Emulator<EbayAccount>, platform: Platform): void {
  const acc = (req: FastifyRequest, scopes: string[]) => {
    requireUser(req, scopes);
    return emu.account(req);
  };

  // ---- inventory items
  app.put(`${BASE}/inventory_item/:sku`, async (req, reply) => {
    const a = acc(req, WRITE);
    const { sku } = req.params as { sku: string };
    checkSku(sku);
    const lang = requireContentLanguage(req);
    const created = putItem(a, platform, emu, sku, lang.replace('-', '_'), jsonBody(req));
    // GUESS: 201 on create and 204 on replace (both are documented outcomes; which one when is not).
    return reply.code(created ? 201 : 204).send();
  });

  app.get(`${BASE}/inventory_item/:sku`, async (req) => {
    const a = acc(req, READ);
    const item = a.items.get((req.params as { sku: string }).sku);
    if (!item) throw notFound();
    return itemJson(a, item);
  });

  app.delete(`${BASE}/inventory_item/:sku`, async (req, reply) => {
    const a = acc(req, WRITE);
    const { sku } = req.params as { sku: string };
    if (!a.items.has(sku)) throw notFound();
    deleteItem(a, sku);
    return reply.code(204).send();
  });

  app.get(`${BASE}/inventory_item`, async (req) => {
    const a = acc(req, READ);
    const { items, meta } = page([...a.items.values()], req, '/inventory_item', {});
    const limit = meta.limit as number;
    // Documented: InventoryItems.size is the number of PAGES (unlike Offers.size, the count on the page).
    return { ...meta, size: Math.ceil(a.items.size / limit), inventoryItems: items.map((i) => itemJson(a, i)) };
  });

  app.post(`${BASE}/bulk_create_or_replace_inventory_item`, async (req, reply) => {
    const a = acc(req, WRITE);
    const requests = jsonBody(req).requests;
    if (!Array.isArray(requests) || requests.length === 0) throw invalidValue('requests');
    if (requests.length > BULK_MAX) throw invError(400, 25727, `The number of InventoryItems in the request cannot exceed ${BULK_MAX}.`);
    const skus = requests.map((r: { sku?: unknown }) => r?.sku);
    if (new Set(skus).size !== skus.length) throw invError(400, 25728, 'InventoryItems should be unique in the request.');
    if (requests.some((r: { sku?: unknown; locale?: unknown }) => typeof r?.sku !== 'string' || typeof r.locale !== 'string')) {
      throw invError(400, 25733, 'Valid SKU and locale information are required for all the InventoryItems in the request.');
    }
    const responses = requests.map((r: Record<string, unknown>) => {
      const sku = r.sku as string;
      try {
        checkSku(sku);
        putItem(a, platform, emu, sku, r.locale as string, r);
        return { statusCode: 200, sku, locale: r.locale };
      } catch (e) {
        if (!(e instanceof EbayError)) throw e;
        return { statusCode: e.statusCode, sku, locale: r.locale, errors: e.errors };
      }
    });
    return reply.code(responses.every((r) => r.statusCode === 200) ? 200 : 207).send({ responses });
  });

  app.post(`${BASE}/bulk_get_inventory_item`, async (req, reply) => {
    const a = acc(req, READ);
    const requests = jsonBody(req).requests;
    if (!Array.isArray(requests) || requests.length === 0 || requests.some((r: { sku?: unknown }) => typeof r?.sku !== 'string')) {
      throw invError(400, 25708, 'Invalid SKU.');
    }
    if (requests.length > BULK_MAX) throw invError(400, 25727, `The number of InventoryItems in the request cannot exceed ${BULK_MAX}.`);
    const skus = requests.map((r: { sku: string }) => r.sku);
    if (new Set(skus).size !== skus.length) throw invError(400, 25734, 'SKU should be unique in the request.');
    const responses = skus.map((sku) => {
      const item = a.items.get(sku);
      return item
        ? { statusCode: 200, sku, inventoryItem: itemJson(a, item) }
        : { statusCode: 404, sku, errors: [inv(25710, "We didn't find the resource/entity you are requesting. Please verify the request")] };
    });
    return reply.code(responses.every((r) => r.statusCode === 200) ? 200 : 207).send({ responses });
  });

  // ---- inventory item groups
  app.put(`${BASE}/inventory_item_group/:key`, async (req, reply) => {
    const a = acc(req, WRITE);
    const { key } = req.params as { key: string };
    requireContentLanguage(req);
    const body = jsonBody(req);
    const skus = body.variantSKUs;
    if (!Array.isArray(skus) || skus.length === 0 || skus.some((s) => typeof s !== 'string')) throw missing('variantSKUs');
    for (const sku of skus as string[]) {
      if (!a.items.has(sku)) throw skuUnknown(sku);
      const other = groupOf(a, sku);
      if (other && other.key !== key) {
        throw invError(400, 25703, `The following SKU is already a member of another group. SKU : ${sku} groupId : ${other.key}`, {
          skuValue: sku,
          inventoryItemGroupKey: other.key,
        });
      }
      const single = liveOffers(a, sku).find((o) => o.listingId && a.listings.get(o.listingId)?.groupKey === null);
      if (single) {
        throw invError(400, 25704, `The following SKU is already listed as a single SKU listing. SKU : ${sku} Listing ID : ${single.listingId}`, {
          skuValue: sku,
          listingId: single.listingId!,
        });
      }
    }
    const existing = a.groups.get(key);
    const listing = [...a.listings.values()].find((l) => l.groupKey === key && l.status === 'ACTIVE');
    if (listing) revise(platform, [listing]);
    const { inventoryItemGroupKey: _k, variantSKUs: _v, ...rest } = body;
    const group: ItemGroup = { key, body: rest, variantSKUs: [...(skus as string[])] };
    a.groups.set(key, group);
    // Documented: a SKU removed from a live group leaves the listing.
    if (listing) {
      for (const id of [...listing.offerIds]) {
        const o = a.offers.get(id);
        if (o && !group.variantSKUs.includes(o.sku)) {
          o.status = 'UNPUBLISHED';
          o.listingId = null;
          listing.offerIds = listing.offerIds.filter((x) => x !== id);
        }
      }
    }
    return reply.code(existing ? 204 : 201).send();
  });

  app.get(`${BASE}/inventory_item_group/:key`, async (req) => {
    const a = acc(req, READ);
    const g = a.groups.get((req.params as { key: string }).key);
    if (!g) throw notFound();
    return { inventoryItemGroupKey: g.key, ...g.body, variantSKUs: g.variantSKUs };
  });

  app.delete(`${BASE}/inventory_item_group/:key`, async (req, reply) => {
    const a = acc(req, WRITE);
    const { key } = req.params as { key: string };
    if (!a.groups.has(key)) throw notFound();
    // GUESS: deleting the group of a live multiple-variation listing ends that listing.
    for (const l of a.listings.values()) if (l.groupKey === key && l.status === 'ACTIVE') endListing(a, l.listingId);
    a.groups.delete(key);
    return reply.code(204).send();
  });

  // ---- offers
  const offerBody = (o: Offer, body: Record<string, unknown>) => {
    const q = body.availableQuantity;
    if (q !== undefined && !isNonNegInt(q)) throw invalidValue('availableQuantity');
    parseAmount((body.pricingSummary as { price?: unknown } | undefined)?.price, 'pricingSummary.price');
    const { offerId: _o, sku: _s, marketplaceId: _m, format: _f, status: _st, listing: _l, availableQuantity: _q, ...rest } = body;
    o.body = rest;
    o.availableQuantity = typeof q === 'number' ? q : null;
  };

  app.post(`${BASE}/offer`, async (req, reply) => {
    const a = acc(req, WRITE);
    requireContentLanguage(req);
    const body = jsonBody(req);
    for (const f of ['sku', 'marketplaceId', 'format']) if (typeof body[f] !== 'string' || !body[f]) throw invalidValue(f);
    const sku = body.sku as string;
    if (!a.items.has(sku)) throw skuUnknown(sku);
    const format = body.format as string;
    if (format !== 'FIXED_PRICE' && format !== 'AUCTION') throw invalidValue('format');
    if (format === 'AUCTION' && groupOf(a, sku))
      throw invError(400, 25756, 'Auction format is not permitted with a SKU that is part of an InventoryItemGroup.');
    const dup = [...a.offers.values()].find((o) => o.sku === sku && o.marketplaceId === body.marketplaceId && o.format === format);
    // Documented: one offer per sku/marketplaceId/format. GUESS: the answer (25002 "Offer entity already exists." with the offerId) is what live eBay returns.
    if (dup) throw userError('Offer entity already exists.', { offerId: dup.offerId });
    const o: Offer = {
      offerId: nextId(a, 5_000_000_000),
      sku,
      marketplaceId: body.marketplaceId as string,
      format,
      body: {},
      availableQuantity: null,
      status: 'UNPUBLISHED',
      listingId: null,
      soldQuantity: 0,
    };
    offerBody(o, body);
    a.offers.set(o.offerId, o);
    return reply.code(201).send({ offerId: o.offerId, warnings: [] });
  });

  app.get(`${BASE}/offer`, async (req) => {
    const a = acc(req, READ);
    const q = req.query as { sku?: string; marketplace_id?: string; format?: string };
    // GUESS: getOffers without sku is refused; the documents describe it as "offers for this SKU".
    if (!q.sku) throw invalidValue('sku');
    // GUESS: an unknown SKU, or one without offers, answers 404 / 25710 (what public clients expect).
    if (!a.items.has(q.sku)) throw notFound();
    const all = [...a.offers.values()].filter(
      (o) => o.sku === q.sku && (!q.marketplace_id || o.marketplaceId === q.marketplace_id) && (!q.format || o.format === q.format),
    );
    if (all.length === 0) throw notFound();
    const { items, meta } = page(all, req, '/offer', { sku: q.sku });
    return { ...meta, size: items.length, offers: items.map((o) => offerJson(a, o)) };
  });

  app.get(`${BASE}/offer/:offerId`, async (req) => {
    const a = acc(req, READ);
    return offerJson(a, findOffer(a, (req.params as { offerId: string }).offerId));
  });

  app.put(`${BASE}/offer/:offerId`, async (req, reply) => {
    const a = acc(req, WRITE);
    requireContentLanguage(req);
    const o = findOffer(a, (req.params as { offerId: string }).offerId);
    const body = jsonBody(req);
    const listing = o.listingId ? a.listings.get(o.listingId) : undefined;
    if (listing) {
      // Documented: listingDescription is required to update a published offer.
      if (!body.listingDescription) throw missing('listingDescription');
      revise(platform, [listing]);
    }
    offerBody(o, body);
    if (listing) emu.recordWrite(a.id, o.sku, listingQuantity(a, o));
    return reply.code(204).send();
  });

  app.delete(`${BASE}/offer/:offerId`, async (req, reply) => {
    const a = acc(req, WRITE);
    const o = findOffer(a, (req.params as { offerId: string }).offerId);
    const l = o.listingId ? a.listings.get(o.listingId) : undefined;
    // Documented: a variation with sales is not removed from its listing.
    if (l?.groupKey && o.soldQuantity > 0) throw userError('This variation has sales; set its quantity to 0 instead.');
    removeOffer(a, o);
    return reply.code(204).send();
  });

  const publish = async (req: FastifyRequest) => {
    const a = acc(req, WRITE);
    const o = findOffer(a, (req.params as { offerId: string }).offerId);
    // Documented: multiple-variation listings are published with publishOfferByInventoryItemGroup. GUESS: the error.
    if (groupOf(a, o.sku)) throw userError('This SKU is part of an inventory item group; use publishOfferByInventoryItemGroup.');
    const problems = offerProblems(o, a.items.get(o.sku), false);
    if (problems.length) throw new EbayError(400, problems);
    if (o.status === 'PUBLISHED' && o.listingId) {
      // Publishing a live offer again revises its listing. GUESS: same listingId back.
      revise(platform, [a.listings.get(o.listingId)!]);
      return { listingId: o.listingId, warnings: [] };
    }
    const listingId = nextId(a, 110_000_000_000);
    a.listings.set(listingId, { listingId, groupKey: null, offerIds: [o.offerId], status: 'ACTIVE', revisionDay: '', revisions: 0 });
    o.status = 'PUBLISHED';
    o.listingId = listingId;
    emu.recordWrite(a.id, o.sku, listingQuantity(a, o));
    return { listingId, warnings: [] };
  };
  // The document's paths end in '/', clients call both forms.
  app.post(`${BASE}/offer/:offerId/publish`, publish);
  app.post(`${BASE}/offer/:offerId/publish/`, publish);

  const publishGroup = async (req: FastifyRequest) => {
    const a = acc(req, WRITE);
    const body = jsonBody(req);
    const key = body.inventoryItemGroupKey;
    const marketplaceId = typeof body.marketplaceId === 'string' ? body.marketplaceId : DEFAULT_MARKETPLACE;
    if (typeof key !== 'string' || !key) throw missing('inventoryItemGroupKey');
    const g = a.groups.get(key);
    if (!g)
      throw invError(400, 25705, `The Inventory Item Group named ${key} could not be found or is not available in the system.`, { inventoryItemGroupKey: key });
    const gb = g.body as {
      title?: unknown;
      description?: unknown;
      imageUrls?: unknown;
      variesBy?: { specifications?: Array<{ name?: string; values?: string[] }> };
    };
    const problems: EbayErrorDetail[] = [];
    const miss = (f: string) => problems.push(inv(25017, `${f} is missing.`, { fieldName: f }));
    if (!gb.title) miss('title');
    if (!gb.description) miss('description');
    if (!Array.isArray(gb.imageUrls) || gb.imageUrls.length === 0) miss('imageUrls');
    const specs = gb.variesBy?.specifications ?? [];
    if (specs.length === 0) miss('variesBy.specifications');
    if (problems.length) throw new EbayError(400, problems);
    // Documented: variants without an offer are left out; variants with invalid data fail the call.
    const offers: Offer[] = [];
    for (const sku of g.variantSKUs) {
      const o = [...a.offers.values()].find((x) => x.sku === sku && x.marketplaceId === marketplaceId && x.format === 'FIXED_PRICE');
      if (!o) continue;
      const item = a.items.get(sku);
      const p = offerProblems(o, item, true);
      const aspects = ((item?.body.product as { aspects?: Record<string, unknown> } | undefined)?.aspects ?? {}) as Record<string, unknown>;
      for (const s of specs) {
        const v = aspects[s.name ?? ''];
        const value = Array.isArray(v) ? v[0] : v;
        if (typeof value !== 'string' || !(s.values ?? []).includes(value)) {
          p.push(inv(25013, `Invalid data in the Inventory Item Group. SKU ${sku} needs aspect ${s.name} with one of the variesBy values.`, { skuValue: sku }));
        }
      }
      if (p.length) throw new EbayError(400, p);
      offers.push(o);
    }
    // GUESS: a group with no publishable variant at all is a user error.
    if (offers.length === 0) throw userError(`No offers found for the variants of inventory item group ${key} on ${marketplaceId}.`);
    let listing = [...a.listings.values()].find((l) => l.groupKey === key && l.status === 'ACTIVE');
    if (listing) revise(platform, [listing]);
    else {
      const listingId = nextId(a, 110_000_000_000);
      listing = { listingId, groupKey: key, offerIds: [], status: 'ACTIVE', revisionDay: '', revisions: 0 };
      a.listings.set(listingId, listing);
    }
    for (const o of offers) {
      o.status = 'PUBLISHED';
      o.listingId = listing.listingId;
      if (!listing.offerIds.includes(o.offerId)) listing.offerIds.push(o.offerId);
      emu.recordWrite(a.id, o.sku, listingQuantity(a, o));
    }
    return { listingId: listing.listingId, warnings: [] };
  };
  app.post(`${BASE}/offer/publish_by_inventory_item_group`, publishGroup);
  app.post(`${BASE}/offer/publish_by_inventory_item_group/`, publishGroup);

  app.post(`${BASE}/offer/:offerId/withdraw`, async (req) => {
    const a = acc(req, WRITE);
    const o = findOffer(a, (req.params as { offerId: string }).offerId);
    if (o.status !== 'PUBLISHED' || !o.listingId) throw offerUnavailable(`offer ${o.offerId} is not published`);
    const l = a.listings.get(o.listingId);
    // Documented: a multiple-variation listing is ended with withdrawOfferByInventoryItemGroup. GUESS: the error.
    if (l?.groupKey) throw userError('This offer is part of a multiple-variation listing; use withdrawOfferByInventoryItemGroup.');
    const listingId = o.listingId;
    endListing(a, listingId);
    return { listingId, warnings: [] };
  });

  app.post(`${BASE}/offer/withdraw_by_inventory_item_group`, async (req, reply) => {
    const a = acc(req, WRITE);
    const key = jsonBody(req).inventoryItemGroupKey;
    const l = [...a.listings.values()].find((x) => x.groupKey === key && x.status === 'ACTIVE');
    if (!l) throw invError(400, 25705, `The Inventory Item Group named ${String(key)} could not be found or is not available in the system.`);
    endListing(a, l.listingId);
    return reply.code(204).send();
  });

  // ---- price and quantity of live listings
  app.post(`${BASE}/bulk_update_price_quantity`, async (req, reply) => {
    const a = acc(req, WRITE);
    const requests = jsonBody(req).requests;
    if (!Array.isArray(requests) || requests.length === 0) throw invalidValue('requests');
    // Documented limit 25. GUESS: the errorId for more than 25 (25709 on the requests field).
    if (requests.length > BULK_MAX) throw invalidValue('requests', `The number of requests cannot exceed ${BULK_MAX}.`);
    type Req = {
      sku?: unknown;
      shipToLocationAvailability?: { quantity?: unknown };
      offers?: Array<{ offerId?: unknown; availableQuantity?: unknown; price?: unknown }>;
    };
    const skus = (requests as Req[]).map((r) => r?.sku);
    // Documented: one SKU per request entry; the same SKU twice would make the outcome order-dependent.
    if (skus.some((s) => typeof s !== 'string') || new Set(skus).size !== skus.length) throw invalidValue('sku', 'Each request needs a distinct sku.');
    const responses: Array<Record<string, unknown>> = [];
    for (const r of requests as Req[]) {
      const sku = r.sku as string;
      const offers = Array.isArray(r.offers) ? r.offers : [];
      const fail = (e: EbayError) => {
        if (offers.length === 0) responses.push({ sku, statusCode: e.statusCode, errors: e.errors });
        for (const o of offers) responses.push({ sku, offerId: o?.offerId, statusCode: e.statusCode, errors: e.errors });
      };
      try {
        const item = a.items.get(sku);
        if (!item) throw skuUnknown(sku);
        const qty = r.shipToLocationAvailability?.quantity;
        if (r.shipToLocationAvailability !== undefined && !isNonNegInt(qty)) throw invalidValue('shipToLocationAvailability.quantity');
        const ids = offers.map((o) => o?.offerId);
        // Documented: duplicate offerIds, or offers of another SKU, are an error.
        if (new Set(ids).size !== ids.length) throw userError('Duplicate offerId in offers.');
        const targets = offers.map((o) => {
          const off = typeof o?.offerId === 'string' ? a.offers.get(o.offerId) : undefined;
          if (!off || off.sku !== sku) throw offerUnavailable(`offer ${String(o?.offerId)} does not belong to SKU ${sku}`);
          // Documented: for unpublished offers use updateOffer. GUESS: the error id.
          if (off.status !== 'PUBLISHED') throw offerUnavailable(`offer ${off.offerId} is not published; use updateOffer`);
          if (o.availableQuantity === undefined && o.price === undefined) throw missing('availableQuantity or price');
          if (o.availableQuantity !== undefined && !isNonNegInt(o.availableQuantity)) throw invalidValue('availableQuantity');
          parseAmount(o.price, 'price');
          return { off, change: o };
        });
        const touched = new Map<string, Listing>();
        if (qty !== undefined) for (const l of listingsOfSku(a, sku)) touched.set(l.listingId, l);
        for (const t of targets) {
          const l = t.off.listingId ? a.listings.get(t.off.listingId) : undefined;
          if (l) touched.set(l.listingId, l);
        }
        revise(platform, [...touched.values()]);
        if (typeof qty === 'number') setItemQuantity(item, qty);
        for (const { off, change } of targets) {
          if (typeof change.availableQuantity === 'number') off.availableQuantity = change.availableQuantity;
          if (change.price !== undefined) off.body.pricingSummary = { ...((off.body.pricingSummary as object) ?? {}), price: change.price };
        }
        const live = liveOffers(a, sku)[0];
        emu.recordWrite(a.id, sku, live ? listingQuantity(a, live) : item.quantity);
        // Documented: offerId is absent when only the item's ship-to-home quantity was updated.
        if (targets.length === 0) responses.push({ sku, statusCode: 200 });
        for (const t of targets) responses.push({ sku, offerId: t.off.offerId, statusCode: 200 });
      } catch (e) {
        if (!(e instanceof EbayError)) throw e;
        fail(e);
      }
    }
    // GUESS: 200 when every entry succeeded, 207 Multi-Status otherwise (both documented statuses).
    return reply.code(responses.every((r) => r.statusCode === 200) ? 200 : 207).send({ responses });
  });
}
