// TikTok Shop, catalog side: a StockClerk product published as one TikTok Shop product whose SKUs
// are its variants (contract.ts "The catalog side"). Plans are pure: the exact requests, in order,
// with `{{name}}` filled from earlier answers (an uploaded image's uri, the product and SKU ids).
//
// publish: upload each image (POST /product/202309/images/upload, multipart field `data`) ->
//   Create Product (POST /product/202309/products: title, description, category_id, main_images,
//   skus [{seller_sku, price, inventory [{warehouse_id, quantity}], sales_attributes}]).
// update:  upload the images again -> Edit Product (PUT /product/202309/products/{id}, the whole
//   product; SKUs named by the ids publishing captured).
// delist / relist: Deactivate / Activate Products ({product_ids}).
// `send` answers the envelope's `data`, so captures read `product_id`, `skus.0.id`, `uri`.
// GUESS: a product's category when neither the product nor the channel names a numeric one
// (DEFAULT_CATEGORY_ID); TikTok wants a leaf category of the shop's region.
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
import { amountOf, fetchImage, minorOf } from '../catalog.ts';
import { envelopeOf, type TiktokShopClient } from './client.ts';
import { listingId, type ApiProduct } from './model.ts';
import type { TiktokShopSettings } from './settings.ts';

export const DEFAULT_CATEGORY_ID = '601226'; // GUESS: a leaf category id seen in TikTok's examples
const API = '/product/202309';

const permanent = (msg: string): never => {
  throw new ChannelError('permanent', msg);
};

// Prices go as decimal strings in major units ("12.50"): amountOf / minorOf (src/channels/catalog.ts).
export { amountOf, minorOf } from '../catalog.ts';

export class TiktokShopCatalog implements CatalogSide {
  private readonly client: TiktokShopClient;
  private readonly settings: TiktokShopSettings;

  constructor(client: TiktokShopClient, settings: TiktokShopSettings) {
    this.client = client;
    this.settings = settings;
  }

  private body(draft: ListingDraft, skuIds: Record<string, string>, images: string[]): Record<string, unknown> {
    if (draft.variants.length === 0) permanent('The product has no variants to sell on TikTok Shop');
    if (draft.images.length === 0) permanent('TikTok Shop needs at least one image: add one to the product');
    const warehouse = this.settings.warehouse_id ?? permanent("Set the channel's warehouse id: TikTok Shop stocks new SKUs in a warehouse");
    const category =
      [draft.attributes.category_id, draft.category].find((c) => c && /^\d{1,12}$/.test(c.trim())) ?? this.settings.category_id ?? DEFAULT_CATEGORY_ID;
    return {
      title: draft.title,
      description: draft.description || draft.title,
      category_id: category,
      main_images: images.map((uri) => ({ uri })),
      skus: draft.variants.map((v) => ({
        ...(skuIds[v.sku] ? { id: skuIds[v.sku] } : {}),
        seller_sku: v.sku,
        price: { amount: amountOf(v.priceMinor, draft.currency), currency: draft.currency },
        inventory: [{ warehouse_id: warehouse, quantity: Math.max(0, Math.floor(v.qty)) }],
        sales_attributes: Object.entries(v.optionValues).map(([name, value_name]) => ({ name, value_name })),
      })),
    };
  }

  plan(action: CatalogAction, draft: ListingDraft, existing: PublishedRef | null): CatalogPlan {
    const base = this.client.base;
    if (action !== 'publish' && !existing) permanent(`Cannot ${action} a product that is not published on TikTok Shop`);
    const requests: PlannedRequest[] = [];
    const warehouse = this.settings.warehouse_id ?? null;
    if (action === 'publish' || action === 'update') {
      draft.images.forEach((img, i) =>
        requests.push({
          method: 'POST',
          url: `${base}${API}/images/upload`,
          upload: { field: 'data', imageUrl: img.url, contentType: img.contentType },
          capture: { [`image_${i}`]: 'uri' },
          label: `Upload image ${i + 1}`,
        }),
      );
      const images = draft.images.map((_, i) => `{{image_${i}}}`);
      const capture = Object.fromEntries([['product_id', 'product_id'], ...draft.variants.map((_, i) => [`sku_${i}`, `skus.${i}.id`])]);
      requests.push(
        action === 'publish'
          ? { method: 'POST', url: `${base}${API}/products`, body: this.body(draft, {}, images), capture, label: 'Create the product' }
          : {
              method: 'PUT',
              url: `${base}${API}/products/${existing!.externalId}`,
              body: this.body(draft, existing!.refs, images),
              capture,
              label: 'Edit the product',
            },
      );
    } else {
      const path = action === 'delist' ? 'deactivate' : 'activate';
      requests.push({
        method: 'POST',
        url: `${base}${API}/products/${path}`,
        body: { product_ids: [existing!.externalId] },
        label: action === 'delist' ? 'Deactivate the product' : 'Activate the product',
      });
    }
    return {
      requests,
      outcome: (captured) => {
        const productId = captured.product_id ?? existing!.externalId;
        const refs: Record<string, string> = action === 'publish' || action === 'update' ? {} : { ...existing!.refs };
        draft.variants.forEach((v, i) => {
          const id = captured[`sku_${i}`] ?? existing?.refs[v.sku];
          if (id) refs[v.sku] = id;
        });
        return {
          ref: { externalId: productId, refs },
          listings: draft.variants
            .filter((v) => refs[v.sku])
            .map((v) => ({ sku: v.sku, externalId: listingId(productId, refs[v.sku]!), externalLocationId: warehouse })),
        };
      },
    };
  }

  async send(req: PlannedRequest): Promise<unknown> {
    const url = new URL(req.url);
    const query = Object.fromEntries(url.searchParams);
    let multipart: { bytes: Uint8Array; contentType: string } | undefined;
    if (req.upload) {
      const img = await fetchImage(req.upload.imageUrl, this.client.timeoutMs);
      const boundary = `----stockclerk${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
      const type = req.upload.contentType || img.type;
      const head = `--${boundary}\r\nContent-Disposition: form-data; name="${req.upload.field}"; filename="image"\r\nContent-Type: ${type}\r\n\r\n`;
      const use = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="use_case"\r\n\r\nMAIN_IMAGE\r\n--${boundary}--\r\n`;
      multipart = {
        bytes: Buffer.concat([Buffer.from(head), Buffer.from(img.bytes), Buffer.from(use)]),
        contentType: `multipart/form-data; boundary=${boundary}`,
      };
    }
    const res = await this.client.call({ method: req.method as 'GET' | 'POST' | 'PUT', path: url.pathname, query, body: req.body, multipart });
    const env = envelopeOf(res);
    if (res.status >= 300 || env.code !== 0) {
      const retryable = res.status >= 500;
      throw new ChannelError(retryable ? 'transient' : 'permanent', `${req.label}: TikTok Shop answered ${res.status} (${env.code}): ${env.message}`, {
        status: res.status,
      });
    }
    return res.json<{ data: unknown }>().data;
  }

  async readFields(refs: PublishedRef[]): Promise<RemoteCatalogFields[]> {
    const out: RemoteCatalogFields[] = [];
    for (const r of refs) {
      const res = await this.client.call({ method: 'GET', path: `${API}/products/${r.externalId}` });
      if (res.status === 404) {
        out.push({ externalId: r.externalId, title: null, description: null, priceMinor: null });
        continue;
      }
      const env = envelopeOf(res);
      if (res.status >= 300 || env.code !== 0) throw new ChannelError('permanent', `GET product ${r.externalId} -> ${res.status}: ${env.message}`);
      const p = res.json<{ data: ApiProduct }>().data;
      const prices = new Set((p.skus ?? []).map((s) => s.price?.amount));
      const only = prices.size === 1 ? [...prices][0] : undefined;
      out.push({
        externalId: p.id,
        title: p.title ?? null,
        description: p.description ?? null,
        priceMinor: only ? minorOf(only, p.skus?.[0]?.price?.currency ?? 'GBP') : null,
      });
    }
    return out;
  }
}
