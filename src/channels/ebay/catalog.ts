// eBay's catalog side: a product published as a listing through the Sell Inventory API.
// Single-variant product: createOrReplaceInventoryItem -> createOffer (offerId) -> publishOffer (listingId).
// Multi-variant product: bulkCreateOrReplaceInventoryItem (25 per call) -> createOrReplaceInventoryItemGroup
// (variantSKUs, variesBy) -> createOffer per SKU (offerIds) -> publishOfferByInventoryItemGroup (listingId).
// Update re-PUTs items and group (a live listing follows them) and updateOffer's the offers (price);
// delist withdraws (by group or offer); relist updates, then publishes again.
// Facts: Sell Inventory API v1 reference (paths, bodies, 25-per-bulk); price is
// pricingSummary.price {value: "12.50", currency} in major units.
// Refs kept per publication: `group` (the inventory item group key) and `offer:<sku>` (offer ids).
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
import { chunk } from '../adapter-kit.ts';
import { describeErrors, type EbayErrorDetail, type EbaySession } from './client.ts';
import type { EbaySettings } from './settings.ts';

type Variant = ListingDraft['variants'][number];
/** Documented: an inventory item group key is at most 50 characters. */
const KEY_MAX = 50;
/** Documented errorId of createOffer for an SKU that already has an offer on that marketplace and format. */
const OFFER_EXISTS = 25002;

const fractionDigits = (currency: string): number => {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
};

/** Minor units -> eBay's Amount (major units as a decimal string). */
export function amount(minor: number, currency: string): { value: string; currency: string } {
  const d = fractionDigits(currency);
  return { value: (minor / 10 ** d).toFixed(d), currency };
}

/** eBay's Amount -> minor units (null when unreadable). */
export function minorOf(a: { value?: unknown; currency?: unknown } | undefined): number | null {
  if (!a || typeof a.value !== 'string' || typeof a.currency !== 'string' || !/^\d+(\.\d+)?$/.test(a.value)) return null;
  return Math.round(Number(a.value) * 10 ** fractionDigits(a.currency));
}

const offerRef = (sku: string) => `offer:${sku}`;

export class EbayCatalog implements CatalogSide {
  private readonly session: EbaySession;
  private readonly settings: EbaySettings;

  constructor(session: EbaySession, settings: EbaySettings) {
    this.session = session;
    this.settings = settings;
  }

  private get inv(): string {
    return `${this.session.base}/sell/inventory/v1`;
  }

  plan(action: CatalogAction, draft: ListingDraft, existing: PublishedRef | null): CatalogPlan {
    const multi = draft.options.length > 0 || draft.variants.length > 1;
    const group = multi ? (existing?.refs.group ?? draft.productId.slice(0, KEY_MAX)) : null;
    const offerOf = (sku: string) => existing?.refs[offerRef(sku)] ?? null;
    const requests: PlannedRequest[] = [];

    if (action === 'delist') {
      if (group) {
        requests.push({
          method: 'POST',
          url: `${this.inv}/offer/withdraw_by_inventory_item_group`,
          body: { inventoryItemGroupKey: group, marketplaceId: this.settings.marketplace_id },
          label: 'End the multi-variation listing',
        });
      } else {
        const id = offerOf(draft.variants[0]?.sku ?? '');
        if (!id) throw new ChannelError('permanent', 'eBay: no offer id is known for this listing; it cannot be ended from here');
        requests.push({ method: 'POST', url: `${this.inv}/offer/${encodeURIComponent(id)}/withdraw`, label: 'End the listing' });
      }
    } else {
      // publish, update and relist all write the current draft first; publish and relist then publish.
      const publishing = action === 'publish' || action === 'relist';
      const created: string[] = [];
      if (group) {
        for (const [i, part] of chunk(draft.variants, 25).entries()) {
          requests.push({
            method: 'POST',
            url: `${this.inv}/bulk_create_or_replace_inventory_item`,
            body: { requests: part.map((v) => ({ sku: v.sku, locale: this.settings.content_language.replace('-', '_'), ...this.itemBody(draft, v) })) },
            label: `Write inventory items ${i * 25 + 1}-${i * 25 + part.length} (title, aspects, images, quantity)`,
          });
        }
        requests.push({
          method: 'PUT',
          url: `${this.inv}/inventory_item_group/${encodeURIComponent(group)}`,
          body: this.groupBody(draft),
          label: 'Write the inventory item group (variations)',
        });
      } else {
        const v = draft.variants[0];
        if (!v) throw new ChannelError('permanent', 'eBay: a product needs at least one variant to be listed');
        requests.push({
          method: 'PUT',
          url: `${this.inv}/inventory_item/${encodeURIComponent(v.sku)}`,
          body: this.itemBody(draft, v),
          label: `Write inventory item ${v.sku}`,
        });
      }
      for (const [i, v] of draft.variants.entries()) {
        const id = offerOf(v.sku);
        if (id) {
          requests.push({
            method: 'PUT',
            url: `${this.inv}/offer/${encodeURIComponent(id)}`,
            body: this.offerBody(draft, v),
            label: `Update the offer of ${v.sku} (price, quantity)`,
          });
        } else {
          created.push(v.sku);
          requests.push({
            method: 'POST',
            url: `${this.inv}/offer`,
            body: { sku: v.sku, marketplaceId: this.settings.marketplace_id, format: 'FIXED_PRICE', ...this.offerBody(draft, v) },
            capture: { [`offer_${i}`]: 'offerId' },
            label: `Create the offer of ${v.sku}`,
          });
        }
      }
      // A live listing takes the writes above; a new variation of it needs publishing too.
      if (publishing || created.length > 0) {
        if (group) {
          requests.push({
            method: 'POST',
            url: `${this.inv}/offer/publish_by_inventory_item_group`,
            body: { inventoryItemGroupKey: group, marketplaceId: this.settings.marketplace_id },
            capture: { listingId: 'listingId' },
            label: 'Publish the multi-variation listing',
          });
        } else {
          const id = offerOf(draft.variants[0]!.sku) ?? '{{offer_0}}';
          requests.push({
            method: 'POST',
            url: `${this.inv}/offer/${id === '{{offer_0}}' ? id : encodeURIComponent(id)}/publish`,
            capture: { listingId: 'listingId' },
            label: 'Publish the listing',
          });
        }
      }
    }

    return {
      requests,
      outcome: (captured) => {
        const refs: Record<string, string> = { ...(existing?.refs ?? {}) };
        if (group) refs.group = group;
        for (const [i, v] of draft.variants.entries()) {
          const id = captured[`offer_${i}`] ?? offerOf(v.sku);
          if (id) refs[offerRef(v.sku)] = id;
        }
        return {
          ref: { externalId: captured.listingId ?? existing?.externalId ?? '', refs },
          listings: draft.variants.map((v) => ({ sku: v.sku, externalId: v.sku })),
        };
      },
    };
  }

  private aspects(draft: ListingDraft, v: Variant | null): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const [k, val] of Object.entries(draft.attributes)) out[k] = [val];
    if (draft.brand) out.Brand = [draft.brand];
    if (v) for (const [k, val] of Object.entries(v.optionValues)) out[k] = [val];
    return out;
  }

  private itemBody(draft: ListingDraft, v: Variant): Record<string, unknown> {
    return {
      product: {
        title: draft.title,
        description: draft.description,
        ...(draft.brand ? { brand: draft.brand } : {}),
        aspects: this.aspects(draft, v),
        imageUrls: draft.images.map((i) => i.url),
      },
      // GUESS: StockClerk products are sold new; a condition setting can come when a merchant needs another.
      condition: 'NEW',
      availability: { shipToLocationAvailability: { quantity: v.qty } },
    };
  }

  private groupBody(draft: ListingDraft): Record<string, unknown> {
    return {
      title: draft.title,
      description: draft.description,
      imageUrls: draft.images.map((i) => i.url),
      aspects: this.aspects(draft, null),
      variantSKUs: draft.variants.map((v) => v.sku),
      variesBy: { specifications: draft.options.map((o) => ({ name: o.name, values: o.values })) },
    };
  }

  /** What createOffer and updateOffer share (updateOffer takes no sku / marketplaceId / format). */
  private offerBody(draft: ListingDraft, v: Variant): Record<string, unknown> {
    const s = this.settings;
    const category = draft.category && /^\d+$/.test(draft.category) ? draft.category : (s.category_id ?? null);
    const policies = {
      ...(s.fulfillment_policy_id ? { fulfillmentPolicyId: s.fulfillment_policy_id } : {}),
      ...(s.payment_policy_id ? { paymentPolicyId: s.payment_policy_id } : {}),
      ...(s.return_policy_id ? { returnPolicyId: s.return_policy_id } : {}),
    };
    return {
      availableQuantity: v.qty,
      ...(category ? { categoryId: category } : {}),
      ...(s.merchant_location_key ? { merchantLocationKey: s.merchant_location_key } : {}),
      listingDescription: draft.description,
      ...(Object.keys(policies).length ? { listingPolicies: policies } : {}),
      pricingSummary: { price: amount(v.priceMinor, draft.currency) },
    };
  }

  async send(req: PlannedRequest): Promise<unknown> {
    const write = req.method !== 'GET' && req.method !== 'DELETE';
    const creating = req.method === 'POST' && /\/offer$/.test(new URL(req.url).pathname);
    const { status, body } = await this.session.call({
      method: req.method,
      url: req.url,
      body: req.body,
      language: write ? this.settings.content_language : undefined,
      okStatuses: creating ? [400] : [],
    });
    const errors = (body as { errors?: EbayErrorDetail[] } | null)?.errors;
    if (creating && status === 400) {
      // The offer exists already (an earlier attempt went through but its answer was lost): eBay names it.
      const dup = errors?.find((e) => e.errorId === OFFER_EXISTS)?.parameters?.find((p) => p.name === 'offerId')?.value;
      if (dup) return { offerId: dup, warnings: [] };
      throw new ChannelError('permanent', `${req.label}: ${describeErrors(errors, 'refused')}`, { status });
    }
    // Bulk writes answer 207 with an outcome per entry.
    const failed = (body as { responses?: Array<{ statusCode?: number; sku?: string; errors?: EbayErrorDetail[] }> } | null)?.responses?.filter(
      (r) => (r.statusCode ?? 200) >= 400,
    );
    if (failed?.length) {
      throw new ChannelError(
        'permanent',
        `${req.label}: ${failed.map((r) => `${r.sku ?? ''}: ${describeErrors(r.errors, `status ${r.statusCode}`)}`).join('; ')}`,
      );
    }
    return body;
  }

  async readFields(refs: PublishedRef[]): Promise<RemoteCatalogFields[]> {
    const out: RemoteCatalogFields[] = [];
    for (const ref of refs) {
      const offers = Object.entries(ref.refs).filter(([k]) => k.startsWith('offer:'));
      let title: string | null = null;
      let description: string | null = null;
      if (ref.refs.group) {
        const { body } = await this.session.call({ method: 'GET', url: `${this.inv}/inventory_item_group/${encodeURIComponent(ref.refs.group)}` });
        const g = body as { title?: string; description?: string };
        title = g.title ?? null;
        description = g.description ?? null;
      } else if (offers[0]) {
        const sku = offers[0][0].slice('offer:'.length);
        const { body } = await this.session.call({ method: 'GET', url: `${this.inv}/inventory_item/${encodeURIComponent(sku)}` });
        const p = (body as { product?: { title?: string; description?: string } }).product;
        title = p?.title ?? null;
        description = p?.description ?? null;
      }
      const prices = new Set<number | null>();
      for (const [, id] of offers) {
        const { body } = await this.session.call({ method: 'GET', url: `${this.inv}/offer/${encodeURIComponent(id)}` });
        prices.add(minorOf((body as { pricingSummary?: { price?: { value?: string; currency?: string } } }).pricingSummary?.price));
      }
      const [only] = prices;
      out.push({ externalId: ref.externalId, title, description, priceMinor: prices.size === 1 && only !== undefined ? only : null });
    }
    return out;
  }
}
