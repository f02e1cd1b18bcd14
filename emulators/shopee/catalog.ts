// Publishing on Shopee's side, written from Shopee's Open Platform v2 product reference (the
// v2.media_space.upload_image, v2.product.add_item, init_tier_variation, update_item,
// update_price and unlist_item pages: their request fields, required marks, limits and error
// lists), never from StockClerk's adapter (DESIGN.md invariant 9).
//
// - upload_image: a public API (signed without access_token / shop_id); multipart field `image`,
//   JPG or PNG, at most 10 MB; answers image_info {image_id, image_url_list}.
// - add_item: item_name, description, original_price, weight, category_id, image.image_id_list
//   (ids upload_image handed out) and logistic_info are required; seller_stock and item_sku
//   optional; item_status NORMAL or UNLIST. The item is sold as itself (model_id 0) until
//   init_tier_variation gives it models.
// - init_tier_variation: one or two tiers (standardise_tier_variation, or the deprecated
//   tier_variation), at most 20 options a tier, names unique; 1 to 50 models, each with a
//   tier_index of one valid position per tier (no two alike), original_price and seller_stock.
// - update_item: the fields given replace the item's; update_price: price_list of 1 to 50
//   {model_id (0 for an item without models), original_price}, answered per model;
//   unlist_item: item_list of 1 to 50 {item_id, unlist}, answered per item.
//
// GUESSes: image id shape; that any positive category_id is a leaf of the shop's region and any
// logistic_id a channel enabled in the shop (the emulator keeps no category or logistics tree);
// item_name at most 120 characters; that init_tier_variation on an item with models replaces them
// (new model ids) and answers the models in the order sent; that prices need not share decimals
// rules per region (any positive float); error words chosen from each page's error list where it
// has one that fits.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import { hasModel, nowSec, type Item, type Model, type ShopeeAccount, type Tier } from './shop.ts';

export interface CatalogHelpers {
  ok: (response: unknown) => unknown;
  /** A refusal: HTTP status, Shopee's error word, its message. */
  fail: (status: number, error: string, message: string) => Error;
  nextId: () => number;
  itemOf: (acc: ShopeeAccount, id: number) => Item;
}

const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
const MAX_IMAGES = 9;
const MAX_NAME = 120; // GUESS
const MAX_SKU = 100; // "model_sku length ... no more than 100 characters"
const MAX_TIERS = 2;
const MAX_OPTIONS = 20;
const MAX_MODELS = 50;
const MAX_STOCK = 999_999; // GUESS, as update_stock's range

type Body = Record<string, unknown>;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const isPrice = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;
const str = (v: unknown): v is string => typeof v === 'string' && v.trim().length > 0;

/** The `image` file of a multipart body: its bytes, or null when there is none. */
function imagePart(body: Buffer, contentType: string): Buffer | null {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return null;
  const delim = Buffer.from(`--${boundary.trim()}`);
  let at = body.indexOf(delim);
  while (at >= 0) {
    const next = body.indexOf(delim, at + delim.length);
    if (next < 0) break;
    const part = body.subarray(at + delim.length, next);
    const split = part.indexOf('\r\n\r\n');
    if (split >= 0) {
      const head = part.subarray(0, split).toString('latin1');
      if (/name="image"/i.test(head) && /filename=/i.test(head)) {
        let content = part.subarray(split + 4);
        if (content.subarray(-2).toString('latin1') === '\r\n') content = content.subarray(0, -2);
        return content;
      }
    }
    at = next;
  }
  return null;
}

const isPng = (b: Buffer) => b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
const isJpeg = (b: Buffer) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

export function installCatalog(app: FastifyInstance, emu: Emulator<ShopeeAccount>, h: CatalogHelpers): void {
  const { ok, fail } = h;
  const param = (message: string) => fail(400, 'error_param', message);
  const imageUrl = (id: string) => `https://cf.shopee.sg/file/${id}`;
  /** Image ids this shop's partner uploaded (upload_image authenticates by partner only). */
  const uploadedBy = (acc: ShopeeAccount) => new Set([...emu.accounts.values()].filter((a) => a.partnerId === acc.partnerId).flatMap((a) => a.images));

  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/api/v2/media_space/upload_image', async (req: FastifyRequest) => {
    const acc = emu.account(req);
    const body = req.body;
    const file = Buffer.isBuffer(body) ? imagePart(body, String(req.headers['content-type'] ?? '')) : null;
    if (!file || file.length === 0) throw param('Wrong parameters, detail: image is required.');
    if (file.length > MAX_IMAGE_BYTES) throw param('Wrong parameters, detail: image must be at most 10.0 MB.');
    if (!isPng(file) && !isJpeg(file)) throw param('Wrong parameters, detail: image format must be JPG, JPEG or PNG.');
    const id = `sg-11134201-${randomBytes(12).toString('hex')}`; // GUESS: shape
    acc.images.push(id);
    emu.touch();
    const info = { image_id: id, image_url_list: [{ image_url_region: 'SG', image_url: imageUrl(id) }] };
    return ok({ image_info: info, image_info_list: [{ id: 0, error: '', message: '', image_info: info }] });
  });

  /** Checks the item fields add_item requires (all) or update_item was given (those present). */
  const checkItem = (acc: ShopeeAccount, b: Body, all: boolean) => {
    const has = (k: string) => all || b[k] !== undefined;
    if (has('item_name')) {
      if (!str(b.item_name)) throw fail(400, 'error_item_name_empty', 'Item name could not be empty.');
      if (b.item_name.length > MAX_NAME) throw fail(400, 'error_title_exceeds_max_length', 'The length of item_name is bigger than max limit.');
    }
    if (has('description') && !str(b.description)) throw fail(400, 'error_desc_length_min_limit', 'Description length is less than the min limit.');
    if (all && !isPrice(b.original_price)) throw fail(400, 'error_invalid_price', 'Invalid price, please use the correct format');
    if (has('weight') && !isPrice(b.weight)) throw param('Invalid Weight.');
    if (has('category_id') && !(isInt(b.category_id) && b.category_id > 0)) throw param('Invalid category.');
    if (has('image')) {
      const ids = (b.image as { image_id_list?: unknown } | undefined)?.image_id_list;
      if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IMAGES)
        throw fail(400, 'error_image_num_min', `image.image_id_list must hold 1 to ${MAX_IMAGES} image ids`);
      const known = uploadedBy(acc);
      if (ids.some((i) => typeof i !== 'string' || !known.has(i))) throw param('Image not exist.');
    }
    if (has('logistic_info')) {
      const li = b.logistic_info;
      if (!Array.isArray(li) || li.length === 0 || li.some((l) => !isInt((l as Body)?.logistic_id) || typeof (l as Body).enabled !== 'boolean'))
        throw param('Invalid logistic info, logistic_info needs logistic_id and enabled.');
      if (!li.some((l) => (l as Body).enabled === true)) throw fail(400, 'error_invalid_logistic_info', 'invalid logistic info , no logistics channel enabled');
    }
    if (b.item_status !== undefined && b.item_status !== 'NORMAL' && b.item_status !== 'UNLIST')
      throw param('Wrong parameters, detail: item_status must be NORMAL or UNLIST.');
    if (b.item_sku !== undefined && (typeof b.item_sku !== 'string' || b.item_sku.length > MAX_SKU))
      throw param('Wrong parameters, detail: item_sku is at most 100 characters.');
    if (b.brand !== undefined) {
      const br = b.brand as Body;
      if (!isInt(br?.brand_id) || (br.brand_id === 0 && !str(br.original_brand_name))) throw fail(400, 'error_invalid_brand', 'Brand name required');
    }
  };

  /** seller_stock [{location_id?, stock}]: the one stock figure of a single-warehouse shop. */
  const stockOf = (v: unknown, required: boolean): number => {
    if (v === undefined && !required) return 0;
    const s = Array.isArray(v) ? (v[0] as Body | undefined)?.stock : undefined;
    if (!Array.isArray(v) || v.length !== 1 || !isInt(s) || s < 0 || s > MAX_STOCK)
      throw param(`Wrong parameters, detail: seller_stock must hold one stock of 0..${MAX_STOCK}.`);
    return s;
  };

  const itemAnswer = (acc: ShopeeAccount, i: Item) => ({
    item_id: i.item_id,
    item_name: i.item_name,
    description: i.description ?? '',
    item_status: i.item_status,
    category_id: i.category_id ?? 0,
    weight: i.weight ?? 0,
    condition: i.condition ?? 'NEW',
    images: { image_id_list: i.image_id_list ?? [], image_url_list: (i.image_id_list ?? []).map(imageUrl) },
    price_info: { original_price: i.original_price ?? 0, current_price: i.original_price ?? 0, currency: acc.currency },
    logistic_info: i.logistic_info ?? [],
    ...(hasModel(i) ? {} : { seller_stock: [{ stock: i.models[0]!.seller_stock }] }),
  });

  app.post('/api/v2/product/add_item', async (req) => {
    const acc = emu.account(req);
    const b = (req.body ?? {}) as Body;
    checkItem(acc, b, true);
    const stock = stockOf(b.seller_stock, false);
    const t = nowSec();
    const sku = typeof b.item_sku === 'string' ? b.item_sku : '';
    const item: Item = {
      item_id: h.nextId(),
      item_name: (b.item_name as string).trim(),
      item_sku: sku,
      item_status: (b.item_status as Item['item_status'] | undefined) ?? 'NORMAL',
      update_time: t,
      create_time: t,
      models: [{ model_id: 0, model_sku: sku, seller_stock: stock }],
      description: b.description as string,
      category_id: b.category_id as number,
      original_price: b.original_price as number,
      weight: b.weight as number,
      image_id_list: (b.image as { image_id_list: string[] }).image_id_list,
      logistic_info: (b.logistic_info as Item['logistic_info'])!.map((l) => ({ logistic_id: l.logistic_id, enabled: l.enabled, is_free: l.is_free ?? false })),
      ...(b.brand ? { brand: b.brand as Item['brand'] } : {}),
      condition: typeof b.condition === 'string' ? b.condition : 'NEW',
    };
    acc.items.push(item);
    emu.recordWrite(acc.id, `${item.item_id}:0`, stock);
    return ok(itemAnswer(acc, item));
  });

  /** The tiers of an init_tier_variation body: standardise_tier_variation, or the deprecated tier_variation. */
  const tiersOf = (b: Body): Tier[] => {
    const std = b.standardise_tier_variation;
    const old = b.tier_variation;
    let tiers: Tier[];
    if (Array.isArray(std) && std.length) {
      tiers = std.map((t: Body) => {
        if (!isInt(t?.variation_id) || !Array.isArray(t.variation_option_list))
          throw param('Wrong parameters, detail: standardise_tier_variation needs variation_id and variation_option_list.');
        // variation_id 0 = a variation of the seller's own (the docs' sample); its name is then required.
        if (t.variation_id === 0 && !str(t.variation_name)) throw param('Wrong parameters, detail: variation_name is required for a custom variation.');
        return {
          name: String(t.variation_name ?? `variation ${t.variation_id}`).trim(),
          options: (t.variation_option_list as Body[]).map((o) => String(o?.variation_option_name ?? '').trim()),
        };
      });
    } else if (Array.isArray(old) && old.length) {
      tiers = old.map((t: Body) => ({
        name: String(t?.name ?? '').trim(),
        options: Array.isArray(t?.option_list) ? (t.option_list as Body[]).map((o) => String(o?.option ?? '').trim()) : [],
      }));
    } else throw param('There is at least one standardise_tier_variation and tier_variation.');
    if (tiers.length > MAX_TIERS) throw param('The level of tier-variation over 2.');
    if (tiers.some((t) => !t.name)) throw param('Wrong parameters, detail: every variation needs a name.');
    if (new Set(tiers.map((t) => t.name.toLowerCase())).size !== tiers.length)
      throw fail(400, 'error_model_duplicate_name', 'Item tier_variation have duplicate name.');
    for (const t of tiers) {
      if (t.options.length === 0 || t.options.some((o) => !o)) throw param(`Wrong parameters, detail: variation ${t.name} needs named options.`);
      if (t.options.length > MAX_OPTIONS) throw fail(400, 'error_tier_opt_too_many', 'Count of tier_variation option is larger than 20.');
      if (new Set(t.options.map((o) => o.toLowerCase())).size !== t.options.length)
        throw param(`Wrong parameters, detail: variation ${t.name} has duplicate options.`); // GUESS: text
    }
    return tiers;
  };

  app.post('/api/v2/product/init_tier_variation', async (req) => {
    const acc = emu.account(req);
    const b = (req.body ?? {}) as Body;
    if (!isInt(b.item_id)) throw param('Wrong parameters, detail: item_id is required.');
    const item = h.itemOf(acc, b.item_id);
    const tiers = tiersOf(b);
    const list = b.model;
    if (!Array.isArray(list) || list.length === 0) throw param('Wrong parameters, detail: model is required.');
    if (list.length > MAX_MODELS) throw fail(400, 'error_model_count_over_limit', 'The count of model is too large. Should be under 20 (50 for TW)');
    const seen = new Set<string>();
    const models: Model[] = list.map((m: Body) => {
      const idx = m?.tier_index;
      if (!Array.isArray(idx) || idx.length !== tiers.length || idx.some((x, n) => !isInt(x) || x < 0 || x >= tiers[n]!.options.length))
        throw param('Model tier_index error.');
      const key = idx.join(',');
      if (seen.has(key)) throw fail(400, 'error_model_duplicate_tier_variation_index', 'Item have duplicate tier_index.');
      seen.add(key);
      if (!isPrice(m.original_price)) throw fail(400, 'error_invalid_price', 'Invalid price, please use the correct format');
      if (m.model_sku !== undefined && (typeof m.model_sku !== 'string' || m.model_sku.length > MAX_SKU))
        throw param('Wrong parameters, detail: model_sku is at most 100 characters.');
      return {
        model_id: 0,
        model_sku: typeof m.model_sku === 'string' ? m.model_sku : '',
        seller_stock: stockOf(m.seller_stock, true),
        tier_index: idx as number[],
        original_price: m.original_price,
      };
    });
    for (const m of models) m.model_id = h.nextId();
    item.tiers = tiers;
    item.models = models;
    item.update_time = nowSec();
    for (const m of models) emu.recordWrite(acc.id, `${item.item_id}:${m.model_id}`, m.seller_stock);
    return ok({
      item_id: item.item_id,
      tier_variation: tiers.map((t) => ({ name: t.name, option_list: t.options.map((option) => ({ option })) })),
      model: models.map((m) => ({
        tier_index: m.tier_index,
        model_id: m.model_id,
        model_sku: m.model_sku,
        price_info: [{ original_price: m.original_price }],
        seller_stock: [{ stock: m.seller_stock }],
      })),
    });
  });

  app.post('/api/v2/product/update_item', async (req) => {
    const acc = emu.account(req);
    const b = (req.body ?? {}) as Body;
    if (!isInt(b.item_id)) throw param('Wrong parameters, detail: item_id is required.');
    const item = h.itemOf(acc, b.item_id);
    checkItem(acc, b, false);
    if (b.item_name !== undefined) item.item_name = (b.item_name as string).trim();
    if (b.description !== undefined) item.description = b.description as string;
    if (b.weight !== undefined) item.weight = b.weight as number;
    if (b.category_id !== undefined) item.category_id = b.category_id as number;
    if (b.image !== undefined) item.image_id_list = (b.image as { image_id_list: string[] }).image_id_list;
    if (b.logistic_info !== undefined) item.logistic_info = b.logistic_info as Item['logistic_info'];
    if (b.item_sku !== undefined) item.item_sku = b.item_sku as string;
    if (b.brand !== undefined) item.brand = b.brand as Item['brand'];
    if (b.condition !== undefined) item.condition = String(b.condition);
    if (b.item_status !== undefined) item.item_status = b.item_status as Item['item_status'];
    item.update_time = nowSec();
    return ok(itemAnswer(acc, item));
  });

  app.post('/api/v2/product/update_price', async (req) => {
    const acc = emu.account(req);
    const b = (req.body ?? {}) as Body;
    if (!isInt(b.item_id)) throw param('Wrong parameters, detail: item_id is required.');
    const item = h.itemOf(acc, b.item_id);
    const list = b.price_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 50) throw param('Wrong parameters, detail: price_list length should be between 1 to 50.');
    const success_list: unknown[] = [];
    const failure_list: unknown[] = [];
    for (const p of list as Body[]) {
      const modelId = p?.model_id ?? 0;
      const model = isInt(modelId) ? item.models.find((m) => m.model_id === modelId) : undefined;
      if (!model)
        failure_list.push({ model_id: modelId, failed_reason: 'model_id not found' }); // GUESS: text
      else if (!isPrice(p.original_price)) failure_list.push({ model_id: modelId, failed_reason: 'Invalid price, please use the correct format' });
      else {
        if (hasModel(item)) model.original_price = p.original_price;
        else item.original_price = p.original_price;
        success_list.push({ model_id: modelId, original_price: p.original_price });
      }
    }
    if (success_list.length) item.update_time = nowSec();
    return ok({ success_list, failure_list });
  });

  app.post('/api/v2/product/unlist_item', async (req) => {
    const acc = emu.account(req);
    const list = ((req.body ?? {}) as Body).item_list;
    if (!Array.isArray(list) || list.length === 0 || list.length > 50) throw param('Wrong parameters, detail: item_list length should be between 1 to 50.');
    const success_list: unknown[] = [];
    const failure_list: unknown[] = [];
    for (const e of list as Body[]) {
      const item = isInt(e?.item_id) ? acc.items.find((i) => i.item_id === e.item_id && i.item_status !== 'DELETED') : undefined;
      if (typeof e?.unlist !== 'boolean')
        failure_list.push({ item_id: e?.item_id ?? 0, failed_reason: 'unlist is required' }); // GUESS: text
      else if (!item) failure_list.push({ item_id: e.item_id, failed_reason: 'Product not found' });
      else if (item.item_status === 'BANNED') failure_list.push({ item_id: item.item_id, failed_reason: 'Banned and Reviewing Products cannot be delisted' });
      else {
        item.item_status = e.unlist ? 'UNLIST' : 'NORMAL';
        item.update_time = nowSec();
        success_list.push({ item_id: item.item_id, unlist: e.unlist });
      }
    }
    return ok({ success_list, failure_list });
  });
}
