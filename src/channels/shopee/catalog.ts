// Shopee, catalog side: a StockClerk product published as one Shopee item whose models are its
// variants (contract.ts "The catalog side"). Plans are pure: the exact requests, in order, with
// `{{name}}` filled from earlier answers (an uploaded image's id, the item id, the model ids).
// Shapes from Shopee's Open Platform v2 reference (v2.media_space.upload_image, v2.product.add_item,
// init_tier_variation, update_item, update_price, unlist_item, get_item_base_info, get_model_list).
//
// publish: upload each image (POST /api/v2/media_space/upload_image, a public API: multipart field
//   `image`) -> add_item (item_name, description, original_price, category_id, image
//   {image_id_list}, weight, logistic_info, seller_stock; a product without options is sold as the
//   item itself, model 0) -> for a product with options, init_tier_variation (up to two tiers from
//   its options, one model per variant with model_sku, original_price and seller_stock).
// update:  upload the images again -> update_item (name, description, category, images, weight)
//   -> update_price (every model, named by the ids publishing captured). Stock is the stock side's
//   (update_stock, adapter.ts); the SKU is how StockClerk names a model, so update_model (which
//   renames model_sku) has nothing to change.
// delist / relist: unlist_item {item_list: [{item_id, unlist: true | false}]}.
// `send` answers the envelope's `response`, so captures read `item_id`, `image_info.image_id`,
// `model.0.model_id`. A `{{name}}` standing for an id in a body is sent as the number Shopee wants.
//
// Variations: Shopee's docs deprecated init_tier_variation's `tier_variation` request field
// (update log 2025-09-12) for `standardise_tier_variation`; custom variations are sent with
// variation_id 0 and variation_option_id 0, as the docs' request sample does. Answers still carry
// `tier_variation` (name, option_list).
//
// Not built: changing the set of variants of a published item (add_model / delete_model /
// update_tier_variation): an update whose variants differ from what was published is refused,
// saying so, rather than leaving Shopee with a different set than StockClerk tracks.
//
// GUESSes: DEFAULT_CATEGORY_ID and DEFAULT_LOGISTIC_ID (the ids in Shopee's add_item request sample;
// a real shop needs its own leaf category and an enabled logistics channel: the channel's settings
// name them); that an item with options is added with seller_stock 0 (its models hold the stock
// once init_tier_variation ran, and nothing can be sold in between); the image's file name.
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
import { amountOf, fetchImage, minorOf } from '../catalog.ts';
import { API, ShopeeRefusal, type ShopeeClient } from './client.ts';
import { modelRef } from './model.ts';
import { exactInt } from '../json.ts';
import type { ShopeeSettings } from './settings.ts';

export const DEFAULT_CATEGORY_ID = '14695'; // GUESS: the category_id of Shopee's add_item request sample
export const DEFAULT_LOGISTIC_ID = '80101'; // GUESS: the logistic_id of Shopee's add_item request sample
/** "image number should be less than 9" (upload_image); add_item takes up to 9 image ids. */
const MAX_IMAGES = 9;
/** init_tier_variation: at most two tiers, 20 options a tier, 50 models an item (error list and field limits). */
const MAX_TIERS = 2;
const MAX_OPTIONS = 20;
const MAX_MODELS = 50;
/** update_price: price_list of 1 to 50 entries; get_item_base_info: item_id_list of up to 50. */
const BATCH = 50;
const UPLOAD_PATH = '/media_space/upload_image';

const permanent = (msg: string): never => {
  throw new ChannelError('permanent', msg);
};

/** A price as Shopee takes it: a number in major units (12.5 for 1250 pence). */
export const priceOf = (minor: number, currency: string): number => Number(amountOf(minor, currency));

// Prices in answers are floats in major units: minorOf (src/channels/catalog.ts) brings them back.
export { amountOf, minorOf } from '../catalog.ts';

/** What a merchant can do about a refusal, from Shopee's error word (the product APIs' error lists). */
function advice(error: string, message: string): string | null {
  const text = `${error} ${message}`.toLowerCase();
  if (/categor/.test(text)) return "set the channel's default category id (or the product's category_id attribute) to a Shopee leaf category";
  if (/logistic|shipping channel/.test(text)) return "set the channel's shipping channel id to a logistics channel enabled in the shop";
  if (/image/.test(text)) return 'check the product images (JPG or PNG, at most 10 MB, at most 9)';
  if (/weight|dimension/.test(text)) return "set the product's weight_kg attribute or the channel's default parcel weight";
  if (/item_name|title|name_length|name is too/.test(text)) return "change the product's title to a length Shopee accepts";
  if (/desc/.test(text)) return "lengthen or shorten the product's description as Shopee asks";
  if (/price/.test(text)) return 'check the variant prices';
  if (/attribute|brand/.test(text))
    return "the Shopee category asks for attributes or a brand StockClerk does not send: pick another category in the channel's settings";
  if (/item_limit|reaches limit/.test(text)) return 'the shop has reached its item limit on Shopee: delist or delete items there first';
  if (/promotion/.test(text)) return 'the item is in a Shopee promotion: try again once the promotion ends';
  if (/tier|model|option|variation/.test(text)) return 'check the product options: Shopee takes at most two options, 20 values each, 50 variants';
  return null;
}

/** Ids Shopee wants as numbers that a plan carries as `{{name}}` strings: item_id, model_id. */
function numericIds(value: unknown, key = ''): unknown {
  if (typeof value === 'string' && (key === 'item_id' || key === 'model_id') && /^\d{1,18}$/.test(value)) return Number(value);
  if (Array.isArray(value)) return value.map((v) => numericIds(v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, numericIds(v, k)]));
  return value;
}

interface ModelIn {
  model_sku?: string;
  tier_index?: number[];
}
interface ModelOut {
  model_id?: number;
  model_sku?: string;
  tier_index?: number[];
}

export class ShopeeCatalog implements CatalogSide {
  private readonly client: ShopeeClient;
  private readonly settings: ShopeeSettings;

  constructor(client: ShopeeClient, settings: ShopeeSettings) {
    this.client = client;
    this.settings = settings;
  }

  private url(path: string): string {
    return `${this.client.base}${API}${path}`;
  }

  /** Checks what Shopee would refuse before anything is sent; the tier index of each variant for a product with options. */
  private shape(draft: ListingDraft): number[][] | null {
    if (draft.variants.length === 0) permanent('The product has no variants to sell on Shopee');
    if (draft.images.length === 0) permanent('Shopee needs at least one image: add one to the product');
    if (draft.images.length > MAX_IMAGES) permanent(`Shopee takes at most ${MAX_IMAGES} images: remove ${draft.images.length - MAX_IMAGES}`);
    if (draft.options.length === 0) {
      if (draft.variants.length > 1) permanent('A product with several variants needs options (Size, Colour) to be sold on Shopee');
      return null;
    }
    if (draft.options.length > MAX_TIERS) permanent(`Shopee takes at most ${MAX_TIERS} options (variation tiers); this product has ${draft.options.length}`);
    for (const o of draft.options)
      if (o.values.length > MAX_OPTIONS) permanent(`Shopee takes at most ${MAX_OPTIONS} values per option; ${o.name} has ${o.values.length}`);
    if (draft.variants.length > MAX_MODELS) permanent(`Shopee takes at most ${MAX_MODELS} variants per item; this product has ${draft.variants.length}`);
    return draft.variants.map((v) =>
      draft.options.map((o) => {
        const i = o.values.indexOf(v.optionValues[o.name] ?? '');
        return i >= 0 ? i : permanent(`Variant ${v.sku} has no ${o.name} among the product's values (${o.values.join(', ')})`);
      }),
    );
  }

  private category(draft: ListingDraft): number {
    const id = [draft.attributes.category_id, draft.category].find((c) => c && /^\d{1,12}$/.test(c.trim()));
    return Number(id?.trim() ?? this.settings.category_id ?? DEFAULT_CATEGORY_ID);
  }

  private weight(draft: ListingDraft): number {
    const w = Number(draft.attributes.weight_kg);
    return Number.isFinite(w) && w > 0 ? w : this.settings.weight_kg;
  }

  private uploads(draft: ListingDraft): PlannedRequest[] {
    return draft.images.map((img, i) => ({
      method: 'POST',
      url: this.url(UPLOAD_PATH),
      upload: { field: 'image', imageUrl: img.url, contentType: img.contentType },
      capture: { [`image_${i}`]: 'image_info.image_id' },
      label: `Upload image ${i + 1}`,
    }));
  }

  plan(action: CatalogAction, draft: ListingDraft, existing: PublishedRef | null): CatalogPlan {
    if (action !== 'publish' && !existing) permanent(`Cannot ${action} a product that is not published on Shopee`);
    const requests: PlannedRequest[] = [];
    const images = draft.images.map((_, i) => `{{image_${i}}}`);
    let tiers: number[][] | null = null;
    if (action === 'publish') {
      tiers = this.shape(draft);
      requests.push(...this.uploads(draft));
      const single = tiers ? null : draft.variants[0]!;
      const prices = draft.variants.map((v) => v.priceMinor);
      requests.push({
        method: 'POST',
        url: this.url('/product/add_item'),
        body: {
          item_name: draft.title,
          description: draft.description || draft.title,
          // An item with options shows its lowest model price until init_tier_variation sets each.
          original_price: priceOf(single ? single.priceMinor : Math.min(...prices), draft.currency),
          category_id: this.category(draft),
          image: { image_id_list: images },
          weight: this.weight(draft),
          logistic_info: [{ logistic_id: Number(this.settings.logistic_id ?? DEFAULT_LOGISTIC_ID), enabled: true }],
          ...(draft.brand ? { brand: { brand_id: 0, original_brand_name: draft.brand } } : {}),
          condition: 'NEW',
          item_status: 'NORMAL',
          ...(single ? { item_sku: single.sku } : {}),
          seller_stock: [{ stock: single ? Math.max(0, Math.floor(single.qty)) : 0 }],
        },
        capture: { item_id: 'item_id' },
        label: 'Add the item',
      });
      if (tiers) {
        requests.push({
          method: 'POST',
          url: this.url('/product/init_tier_variation'),
          body: {
            item_id: '{{item_id}}',
            standardise_tier_variation: draft.options.map((o) => ({
              variation_id: 0,
              variation_name: o.name,
              variation_option_list: o.values.map((value) => ({ variation_option_id: 0, variation_option_name: value })),
            })),
            model: draft.variants.map((v, i) => ({
              tier_index: tiers![i],
              model_sku: v.sku,
              original_price: priceOf(v.priceMinor, draft.currency),
              seller_stock: [{ stock: Math.max(0, Math.floor(v.qty)) }],
            })),
          },
          capture: Object.fromEntries(draft.variants.map((_, i) => [`model_${i}`, `model.${i}.model_id`])),
          label: `Create the ${draft.variants.length} variants`,
        });
      }
    } else if (action === 'update') {
      this.shape(draft);
      const refs = existing!.refs;
      const missing = draft.variants.filter((v) => refs[v.sku] === undefined).map((v) => v.sku);
      const gone = Object.keys(refs).filter((sku) => !draft.variants.some((v) => v.sku === sku));
      if (missing.length || gone.length)
        permanent(
          `The product's variants changed since it was published on Shopee (${[...missing.map((s) => `new ${s}`), ...gone.map((s) => `removed ${s}`)].join(', ')}): ` +
            "StockClerk cannot change a published item's variants on Shopee yet; delist it and publish the product again",
        );
      const itemId = exactInt(existing!.externalId);
      requests.push(...this.uploads(draft), {
        method: 'POST',
        url: this.url('/product/update_item'),
        body: {
          item_id: itemId,
          item_name: draft.title,
          description: draft.description || draft.title,
          category_id: this.category(draft),
          image: { image_id_list: images },
          weight: this.weight(draft),
        },
        label: 'Update the item',
      });
      const batches = chunk(draft.variants, BATCH);
      batches.forEach((batch, n) =>
        requests.push({
          method: 'POST',
          url: this.url('/product/update_price'),
          body: {
            item_id: itemId,
            price_list: batch.map((v) => ({ model_id: exactInt(refs[v.sku]!), original_price: priceOf(v.priceMinor, draft.currency) })),
          },
          label: batches.length > 1 ? `Update the prices (${n + 1} of ${batches.length})` : 'Update the prices',
        }),
      );
    } else {
      requests.push({
        method: 'POST',
        url: this.url('/product/unlist_item'),
        body: { item_list: [{ item_id: exactInt(existing!.externalId), unlist: action === 'delist' }] },
        label: action === 'delist' ? 'Unlist the item' : 'List the item again',
      });
    }
    return {
      requests,
      outcome: (captured) => {
        const itemId = captured.item_id ?? existing!.externalId;
        const refs: Record<string, string> = {};
        draft.variants.forEach((v, i) => {
          const id = action === 'publish' ? (tiers ? captured[`model_${i}`] : '0') : existing!.refs[v.sku];
          if (id !== undefined) refs[v.sku] = id;
        });
        if (action === 'delist' || action === 'relist') Object.assign(refs, existing!.refs);
        return {
          ref: { externalId: itemId, refs },
          listings: draft.variants.filter((v) => refs[v.sku] !== undefined).map((v) => ({ sku: v.sku, externalId: modelRef(itemId, refs[v.sku]!) })),
        };
      },
    };
  }

  async send(req: PlannedRequest): Promise<unknown> {
    const url = new URL(req.url);
    const path = url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname;
    let multipart: { bytes: Uint8Array; contentType: string } | undefined;
    if (req.upload) {
      const img = await fetchImage(req.upload.imageUrl, this.client.timeoutMs);
      const type = req.upload.contentType || img.type;
      const ext = /png/.test(type) ? 'png' : 'jpg';
      const boundary = `----stockclerk${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="${req.upload.field}"; filename="image.${ext}"\r\nContent-Type: ${type}\r\n\r\n`;
      const tail = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="scene"\r\n\r\nnormal\r\n--${boundary}--\r\n`;
      multipart = {
        bytes: Buffer.concat([Buffer.from(head), Buffer.from(img.bytes), Buffer.from(tail)]),
        contentType: `multipart/form-data; boundary=${boundary}`,
      };
    }
    const body = numericIds(req.body);
    let answer: Record<string, unknown> | null;
    try {
      answer = await this.client.call<Record<string, unknown> | null>({
        method: req.method === 'GET' ? 'GET' : 'POST',
        path,
        query: Object.fromEntries(url.searchParams),
        ...(multipart ? { multipart } : { body }),
        public: path === UPLOAD_PATH,
      });
    } catch (err) {
      if (err instanceof ShopeeRefusal && err.kind === 'permanent') {
        const what = advice(err.error, err.detail);
        throw new ChannelError(
          'permanent',
          `${req.label}: Shopee refused it (${err.error || err.status}: ${err.detail || 'no reason given'})${what ? `: ${what}` : ''}`,
          {
            status: err.status,
          },
        );
      }
      throw err;
    }
    // Batch calls answer HTTP 200 with the refused entries in failure_list (unlist_item, update_price).
    const failures = (answer?.failure_list as Array<{ item_id?: number; model_id?: number; failed_reason?: string }> | undefined) ?? [];
    if (failures.length) {
      const reasons = failures.map((f) => f.failed_reason ?? 'no reason given');
      const what = advice('', reasons.join(' '));
      throw new ChannelError('permanent', `${req.label}: Shopee refused it (${reasons.join('; ')})${what ? `: ${what}` : ''}`);
    }
    if (path === UPLOAD_PATH && !(answer?.image_info as { image_id?: string } | undefined)?.image_id) {
      const list = (answer?.image_info_list as Array<{ error?: string; message?: string }> | undefined) ?? [];
      throw new ChannelError(
        'permanent',
        `${req.label}: Shopee kept no image (${list.map((i) => i.message || i.error).join('; ') || 'no reason given'}): ${advice('image', '')}`,
      );
    }
    if (path === '/product/init_tier_variation' && answer) answer = { ...answer, model: alignModels(body, answer.model) };
    return answer;
  }

  async readFields(refs: PublishedRef[]): Promise<RemoteCatalogFields[]> {
    const found = new Map<string, RemoteCatalogFields>();
    for (const batch of chunk(refs, BATCH)) {
      const r = await this.client.call<{ item_list?: ItemInfo[] }>({
        method: 'GET',
        path: '/product/get_item_base_info',
        query: { item_id_list: batch.map((b) => b.externalId).join(',') },
      });
      for (const it of r?.item_list ?? []) {
        let price: { original_price?: number; currency?: string } | undefined;
        let same = true;
        if (it.has_model) {
          const m = await this.client.call<{ model?: Array<{ price_info?: Array<{ original_price?: number; currency?: string }> }> }>({
            method: 'GET',
            path: '/product/get_model_list',
            query: { item_id: it.item_id },
          });
          const prices = (m?.model ?? []).map((x) => x.price_info?.[0]);
          same = new Set(prices.map((p) => p?.original_price)).size === 1;
          price = prices[0];
        } else price = it.price_info?.[0];
        found.set(String(it.item_id), {
          externalId: String(it.item_id),
          title: it.item_name ?? null,
          description: it.description ?? null,
          // GUESS: an answer without a currency is priced in a currency of two decimals.
          priceMinor: same && typeof price?.original_price === 'number' ? minorOf(String(price.original_price), price.currency ?? 'USD') : null,
        });
      }
    }
    return refs.map((r) => found.get(r.externalId) ?? { externalId: r.externalId, title: null, description: null, priceMinor: null });
  }
}

interface ItemInfo {
  item_id: number;
  item_name?: string;
  description?: string;
  has_model?: boolean;
  price_info?: Array<{ original_price?: number; currency?: string }>;
}

/**
 * The answered models in the order they were sent (matched by model_sku, else tier_index), so
 * `model.<i>.model_id` names the i-th variant whatever order Shopee answers in.
 */
function alignModels(body: unknown, answered: unknown): unknown {
  const sent = ((body as { model?: ModelIn[] } | undefined)?.model ?? []) as ModelIn[];
  const got = Array.isArray(answered) ? (answered as ModelOut[]) : [];
  if (sent.length === 0 || got.length === 0) return answered;
  const key = (t: number[] | undefined) => (t ?? []).join(',');
  return sent.map((s) => got.find((g) => s.model_sku && g.model_sku === s.model_sku) ?? got.find((g) => key(g.tier_index) === key(s.tier_index)) ?? {});
}
