// Etsy, catalog side: a StockClerk product published as one Etsy listing whose variations are its
// variants (contract.ts "The catalog side"). Plans are pure: the exact requests, in order, with
// `{{listing_id}}` (and `{{shop_id}}` when the shop is not known yet) filled from earlier answers.
//
// publish: [getMe, when the shop id is unknown] -> createDraftListing (POST /shops/{shop_id}/listings;
//   captures listing_id) -> uploadListingImage per image (multipart, the bytes fetched from the URL
//   StockClerk serves them at) -> updateListingInventory (PUT, one product per variant) -> updateListing
//   state=active (Etsy refuses to activate a listing without an image).
// update:  updateListing (title, description, taxonomy) -> updateListingInventory. Images are not
//   re-uploaded (a changed image set is not detected: left for later).
// delist / relist: updateListing state=inactive / active.
// A create whose answer was lost (timeout, reset, 5xx after Etsy applied it) is not simply sent again
// (Etsy takes no idempotency key): the publishing job first asks `recover` for the draft it made.
//
// Bodies: createDraftListing and updateListing take application/x-www-form-urlencoded in Etsy's
// reference and tutorial, so `send` form-encodes those; updateListingInventory takes JSON. Prices are
// written as floats in major units (12.5), as Etsy wants; it answers Money {amount, divisor}.
import {
  ChannelError,
  type CatalogAction,
  type CatalogPlan,
  type CatalogSide,
  type ListingDraft,
  type PlannedRequest,
  type PublishedRef,
  type RemoteCatalogFields,
} from '../contract.ts';
import { fetchImage } from '../catalog.ts';
import { etsyErrorText, type EtsyClient } from './client.ts';
import { MAX_QUANTITY, liveProducts, offeringOf, variantId, type EtsyListing, type Money } from './model.ts';
import type { EtsySettings } from './settings.ts';

/**
 * Etsy's property ids for seller-defined variations ("custom1", "custom2"): a variation whose name
 * is the merchant's own (Size, Colour) without mapping it to the category's built-in properties.
 * GUESS: 513 and 514, as Etsy's inventory guide and open-api issues use them; built-in properties
 * (e.g. 100 size, 200 primary colour) depend on the taxonomy and are not mapped here.
 */
export const CUSTOM_PROPERTY_IDS = [513, 514] as const;
/** GUESS: the taxonomy used when neither the product's category nor the channel's setting is a taxonomy id. */
export const DEFAULT_TAXONOMY_ID = 1;
/** Etsy's title limit (its seller UI and the emulator: 140 characters). */
const MAX_TITLE = 140;

/** Digits after the decimal point in `currency` (JPY 0, USD 2). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** Minor units -> the float Etsy's writes take. */
export const toMajor = (minor: number, currency: string): number => minor / 10 ** currencyDigits(currency);

/** Etsy's Money -> minor units of its currency. */
export const moneyToMinor = (m: Money): number => Math.round((m.amount / (m.divisor || 1)) * 10 ** currencyDigits(m.currency_code));

const permanent = (msg: string): never => {
  throw new ChannelError('permanent', msg);
};

/** updateListingInventory's body for a draft: one product per variant, missing combinations disabled. */
export function inventoryBody(draft: ListingDraft): Record<string, unknown> {
  if (draft.variants.length === 0) permanent('The product has no variants to sell on Etsy');
  const offering = (priceMinor: number, qty: number, enabled = true) => ({
    price: toMajor(priceMinor, draft.currency),
    // GUESS: Etsy's per-offering ceiling (999).
    quantity: Math.max(0, Math.min(MAX_QUANTITY, Math.floor(qty))),
    is_enabled: enabled,
  });
  const options = draft.options.filter((o) => o.values.length > 0);
  if (options.length === 0) {
    if (draft.variants.length > 1) permanent('Several variants but no options: Etsy tells variations apart by their option values');
    const v = draft.variants[0]!;
    return {
      products: [{ sku: v.sku, property_values: [], offerings: [offering(v.priceMinor, v.qty)] }],
      price_on_property: [],
      quantity_on_property: [],
      sku_on_property: [],
    };
  }
  if (options.length > CUSTOM_PROPERTY_IDS.length)
    permanent(`Etsy listings vary by at most ${CUSTOM_PROPERTY_IDS.length} options; this product has ${options.length}`);
  const props = options.map((o, k) => ({ id: CUSTOM_PROPERTY_IDS[k]!, name: o.name }));
  const valuesOf = (ov: Record<string, string>) =>
    options.map((o) => {
      const v = ov[o.name];
      if (v === undefined || v.trim() === '') return permanent(`A variant has no ${o.name}: every Etsy variation needs a value for each option`);
      return v;
    });
  const propertyValues = (vals: string[]) => vals.map((value, k) => ({ property_id: props[k]!.id, property_name: props[k]!.name, values: [value] }));
  const products = draft.variants.map((v) => ({
    sku: v.sku,
    property_values: propertyValues(valuesOf(v.optionValues)),
    offerings: [offering(v.priceMinor, v.qty)],
  }));
  // Etsy wants every combination of the option values; combinations the product does not sell go in disabled.
  const have = new Set(draft.variants.map((v) => JSON.stringify(valuesOf(v.optionValues))));
  const minPrice = Math.min(...draft.variants.map((v) => v.priceMinor));
  const combos = options.reduce<string[][]>((acc, o) => acc.flatMap((c) => o.values.map((v) => [...c, v])), [[]]);
  for (const c of combos) {
    if (!have.has(JSON.stringify(c))) products.push({ sku: '', property_values: propertyValues(c), offerings: [offering(minPrice, 0, false)] });
  }
  const ids = props.map((p) => p.id);
  const pricesDiffer = new Set(draft.variants.map((v) => v.priceMinor)).size > 1;
  // Each variant keeps its own SKU and quantity; the price varies by the options only when it does.
  return { products, price_on_property: pricesDiffer ? ids : [], quantity_on_property: ids, sku_on_property: ids };
}

function taxonomyOf(draft: ListingDraft, settings: EtsySettings): number {
  const fromAttr = draft.attributes.taxonomy_id;
  for (const c of [fromAttr, draft.category]) if (c && /^\d{1,9}$/.test(c.trim()) && Number(c) > 0) return Number(c);
  return settings.taxonomy_id ?? DEFAULT_TAXONOMY_ID;
}

const FORM_ENDPOINT = /\/v3\/application\/shops\/[^/]+\/listings(\/[^/]+)?$/;
const CREATE_ENDPOINT = /\/v3\/application\/shops\/[^/]+\/listings$/;
/** getListingsByShop's largest page: drafts made since a lost create are the newest, so one page does. */
const RECOVER_PAGE = 100;
/** How far Etsy's clock (created_timestamp) may be from ours when matching a draft to a lost create. */
const CLOCK_SLACK_S = 120;

type DraftListing = EtsyListing & { created_timestamp?: number; creation_timestamp?: number; taxonomy_id?: number; who_made?: string; when_made?: string };

/** A title as Etsy may give it back: GUESS: entities decoded and spaces collapsed (Etsy stores titles HTML-escaped in places). */
const plainTitle = (t: unknown): string =>
  String(t ?? '')
    .replace(/&quot;/g, '"')
    .replace(/&#0?39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

/** Whether `l` holds what a createDraftListing with `sent` writes (a draft nothing changed since). */
function isDraftOf(l: DraftListing, sent: Record<string, unknown>): boolean {
  if (l.state !== 'draft' || plainTitle(l.title) !== plainTitle(sent.title)) return false;
  if (l.quantity !== undefined && l.quantity !== Number(sent.quantity)) return false;
  if (l.taxonomy_id !== undefined && l.taxonomy_id !== Number(sent.taxonomy_id)) return false;
  if (l.who_made !== undefined && l.who_made !== sent.who_made) return false;
  if (l.when_made !== undefined && l.when_made !== sent.when_made) return false;
  if (!l.price) return true;
  return moneyToMinor(l.price) === Math.round(Number(sent.price) * 10 ** currencyDigits(l.price.currency_code));
}

export class EtsyCatalog implements CatalogSide {
  private readonly client: EtsyClient;
  private readonly settings: EtsySettings;

  constructor(client: EtsyClient, settings: EtsySettings) {
    this.client = client;
    this.settings = settings;
  }

  plan(action: CatalogAction, draft: ListingDraft, existing: PublishedRef | null): CatalogPlan {
    const api = this.client.api;
    if (action !== 'publish' && !existing) permanent(`Cannot ${action} a product that is not published on Etsy`);
    const known = this.settings.shop_id !== undefined ? String(this.settings.shop_id) : (existing?.refs.shop_id ?? null);
    const requests: PlannedRequest[] = [];
    if (known === null) {
      requests.push({ method: 'GET', url: `${api}/users/me`, capture: { shop_id: 'shop_id' }, label: 'Find the connected seller’s shop' });
    }
    const shop = known ?? '{{shop_id}}';
    const listing = action === 'publish' ? '{{listing_id}}' : existing!.externalId;
    const patch = (body: Record<string, unknown>, label: string): PlannedRequest => ({
      method: 'PATCH',
      url: `${api}/shops/${shop}/listings/${listing}`,
      body,
      label,
    });
    const title = draft.title.trim();
    if (action === 'publish' || action === 'update') {
      if (!title) permanent('The product needs a title for Etsy');
      if (title.length > MAX_TITLE) permanent(`Etsy titles are at most ${MAX_TITLE} characters; this one has ${title.length}`);
    }
    const description = draft.description.trim() || title;
    const inventory = (): PlannedRequest => ({
      method: 'PUT',
      url: `${api}/listings/${listing}/inventory`,
      body: inventoryBody(draft),
      label: `Set the ${draft.variants.length} variation${draft.variants.length === 1 ? '' : 's'}: SKUs, prices and quantities`,
    });
    if (action === 'publish') {
      if (draft.images.length === 0) permanent('Etsy activates only listings with at least one image: add an image to the product');
      const total = draft.variants.reduce((s, v) => s + Math.max(0, v.qty), 0);
      // Etsy refuses to activate a listing with no quantity: say so before anything is created.
      if (total === 0) permanent('Etsy activates only listings with stock: this product has none to sell yet');
      requests.push({
        method: 'POST',
        url: `${api}/shops/${shop}/listings`,
        body: {
          // Etsy wants a quantity of at least 1 on the draft; the inventory write below sets the real ones.
          quantity: Math.max(1, Math.min(MAX_QUANTITY, total)),
          title,
          description,
          price: toMajor(Math.min(...(draft.variants.length ? draft.variants.map((v) => v.priceMinor) : [0])), draft.currency),
          who_made: draft.attributes.who_made ?? this.settings.who_made,
          when_made: draft.attributes.when_made ?? this.settings.when_made,
          taxonomy_id: taxonomyOf(draft, this.settings),
          type: 'physical',
        },
        capture: { listing_id: 'listing_id' },
        label: 'Create the draft listing',
        // createDraftListing takes no idempotency key: see `recover`.
        recoverable: true,
      });
      draft.images.forEach((img, i) =>
        requests.push({
          method: 'POST',
          url: `${api}/shops/${shop}/listings/${listing}/images`,
          body: { rank: i + 1 },
          upload: { field: 'image', imageUrl: img.url, contentType: img.contentType },
          label: `Upload image ${i + 1} of ${draft.images.length}`,
        }),
      );
      requests.push(inventory());
      requests.push(patch({ state: 'active' }, 'Activate the listing'));
    } else if (action === 'update') {
      requests.push(patch({ title, description, taxonomy_id: taxonomyOf(draft, this.settings) }, 'Update the title, description and category'));
      requests.push(inventory());
    } else if (action === 'delist') {
      requests.push(patch({ state: 'inactive' }, 'Deactivate the listing'));
    } else {
      requests.push(patch({ state: 'active' }, 'Activate the listing again'));
    }
    return {
      requests,
      outcome(captured) {
        const listingId = action === 'publish' ? captured.listing_id : existing!.externalId;
        if (!listingId) permanent('Etsy gave no listing_id for the new listing');
        const shopId = known ?? captured.shop_id;
        return {
          ref: { externalId: listingId!, refs: { ...(existing?.refs ?? {}), ...(shopId ? { shop_id: shopId } : {}) } },
          listings: draft.variants.map((v) => ({ sku: v.sku, externalId: variantId(listingId!, v.sku) })),
        };
      },
    };
  }

  async send(req: PlannedRequest): Promise<unknown> {
    let body: unknown = req.body;
    let contentType: string | undefined;
    if (req.upload) {
      const image = await fetchImage(req.upload.imageUrl, this.client.timeoutMs);
      const boundary = `----stockclerk${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
      body = multipart(boundary, (req.body ?? {}) as Record<string, unknown>, req.upload.field, image.bytes, req.upload.contentType || image.type);
      contentType = `multipart/form-data; boundary=${boundary}`;
    } else if (req.body !== undefined && FORM_ENDPOINT.test(new URL(req.url).pathname) && (req.method === 'POST' || req.method === 'PATCH')) {
      body = formEncode(req.body as Record<string, unknown>);
      contentType = 'application/x-www-form-urlencoded';
    }
    const res = await this.client.call({ method: req.method, url: req.url, body, contentType });
    if (res.status === 404)
      throw new ChannelError('permanent', `${req.label}: Etsy has no such listing or shop (deleted on Etsy?): ${etsyErrorText(res)}`, { status: 404 });
    if (res.status >= 300) throw new ChannelError('permanent', `${req.label}: Etsy refused it: ${etsyErrorText(res)}`, { status: res.status });
    return res.text ? res.json() : null;
  }

  /**
   * The drafts a createDraftListing whose answer was lost may have made: getListingsByShop
   * state=draft, newest first, those created since the attempt went out (Etsy's clock, in whole
   * seconds: CLOCK_SLACK_S either way) whose fields are the ones the create sent. createDraftListing
   * takes nothing Etsy keeps only for us (no idempotency key, no external reference; tags and
   * materials show to buyers, SKUs come later with the inventory), so the match is on what the
   * create wrote: title, price, quantity, taxonomy, who_made and when_made. The draft's answer
   * carries listing_id, which is all the create captures.
   */
  async recover(req: PlannedRequest, since: Date): Promise<unknown[]> {
    const path = new URL(req.url).pathname;
    if (req.method !== 'POST' || !CREATE_ENDPOINT.test(path)) return [];
    const sent = (req.body ?? {}) as Record<string, unknown>;
    const res = await this.client.call({ method: 'GET', url: `${req.url}?state=draft&sort_on=created&sort_order=desc&limit=${RECOVER_PAGE}` });
    if (res.status >= 300)
      throw new ChannelError('permanent', `Looking for the draft a lost create made: Etsy refused it: ${etsyErrorText(res)}`, { status: res.status });
    const from = Math.floor(since.getTime() / 1000) - CLOCK_SLACK_S;
    const drafts = res.json<{ results?: DraftListing[] }>().results ?? [];
    return drafts
      .filter((l) => (l.created_timestamp ?? l.creation_timestamp ?? 0) >= from && isDraftOf(l, sent))
      .sort((a, b) => (a.created_timestamp ?? 0) - (b.created_timestamp ?? 0) || a.listing_id - b.listing_id);
  }

  async readFields(refs: PublishedRef[]): Promise<RemoteCatalogFields[]> {
    const out: RemoteCatalogFields[] = [];
    for (const ref of refs) {
      const res = await this.client.call({ method: 'GET', url: `/listings/${encodeURIComponent(ref.externalId)}?includes=Inventory` });
      if (res.status === 404) {
        out.push({ externalId: ref.externalId, title: null, description: null, priceMinor: null });
        continue;
      }
      if (res.status >= 300)
        throw new ChannelError('permanent', `GET /listings/${ref.externalId} -> ${res.status}: ${etsyErrorText(res)}`, { status: res.status });
      const l = res.json<EtsyListing>();
      const prices = new Set(
        (l.inventory ? liveProducts(l.inventory) : [])
          .map((p) => offeringOf(p))
          .filter((o) => o?.is_enabled)
          .map((o) => moneyToMinor(o!.price)),
      );
      const priceMinor = l.inventory ? (prices.size === 1 ? [...prices][0]! : null) : l.price ? moneyToMinor(l.price) : null;
      out.push({ externalId: ref.externalId, title: l.title ?? null, description: l.description ?? null, priceMinor });
    }
    return out;
  }
}

function formEncode(body: Record<string, unknown>): string {
  const f = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) f.set(k, v.join(','));
    else f.set(k, String(v));
  }
  return f.toString();
}

/** A multipart/form-data body: the text fields, then the file. */
function multipart(boundary: string, fields: Record<string, unknown>, field: string, bytes: Uint8Array, type: string): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined || v === null) continue;
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${String(v)}\r\n`));
  }
  const ext = type.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'bin';
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="image.${ext}"\r\nContent-Type: ${type}\r\n\r\n`));
  parts.push(Buffer.from(bytes));
  parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(parts);
}
