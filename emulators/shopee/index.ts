// Shopee Open Platform v2 emulator, written from Shopee's documentation (channel-apis.md section 8:
// the API-calls, Stock-&-Price-Management and Push-Mechanism pages), never from StockClerk's
// adapter (DESIGN.md invariant 9). Guesses are marked GUESS where they are made.
//
// Modelled
// - Signed calls (sign.ts): every call carries partner_id, timestamp (unix s, within 5 minutes of
//   the platform's clock) and sign; shop calls add access_token and shop_id, and the sign covers them.
// - Shop authorisation: GET /api/v2/shop/auth_partner (redirect with code + shop_id; the seller's
//   consent is taken as given), POST /api/v2/auth/token/get (code -> access_token 4 h + refresh_token
//   30 days), POST /api/v2/auth/access_token/get (refresh -> a new pair).
// - Products: get_item_list (offset/page_size <= 100, item_status), get_item_base_info
//   (item_id_list <= 50), get_model_list, update_stock (seller_stock, absolute, one item per call).
// - Publishing (catalog.ts): media_space/upload_image, add_item, init_tier_variation, update_item,
//   update_price, unlist_item; what they set is read back through the calls above, and a model of
//   a listed (NORMAL) item is what the control API's sale sells.
// - Orders: get_order_list (time_range_field create_time|update_time, window <= 15 days, page_size
//   <= 100, cursor), get_order_detail (order_sn_list <= 50, item_list on request). A sale through the
//   kit's control API creates a READY_TO_SHIP order and takes the units from seller_stock.
// - Push: code 3 (order status) to the shop's callback URL, `Authorization` = hex
//   HMAC-SHA256(partner_key, url + "|" + body). The kit delivers, duplicates, delays and retries.
// - Control API: the kit's, plus /_control/accounts/:id/token (a grant without the redirect),
//   /_control/accounts/:id/code (an authorisation code), /_control/accounts/:id/cancel (a buyer
//   cancels an order), /_control/tokens (expire every access token now).
//
// GUESSes: the HTTP statuses and error texts of refusals (403 error_sign / error_auth, 400
// error_param); the rate limit (Shopee documents none we could read: 10/s per shop, burst 20) and
// its answer (429 error_too_many_request with retry-after); that a used refresh token dies with the
// refresh; the code lifetime (10 min, single use); stock range 0..999,999; order_sn format; sort
// order of get_order_list (oldest first); that items without variants answer get_model_list with
// an empty model list; reserved stock not modelled.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, type EmulatorOptions, type EmulatorSpec } from '../kit/index.ts';
import { installCatalog } from './catalog.ts';
import { apiSign, pushSign, sameSign } from './sign.ts';
import {
  createShop,
  hasModel,
  loadShop,
  nowSec,
  saveShop,
  state,
  stockInfo,
  type Grant,
  type Item,
  type Order,
  type ShopeeAccount,
  type ShopeeAccountInput,
} from './shop.ts';

export type { ShopeeAccount, ShopeeAccountInput, Order as ShopeeOrder } from './shop.ts';
export { apiSign, pushSign } from './sign.ts';

export interface ShopeeEmulatorOptions extends EmulatorOptions {
  /** Access token lifetime; Shopee's is 4 hours (expire_in 14400). */
  accessTtlSec?: number;
}

const API = '/api/v2';
// upload_image is a public API too (its page lists partner_id, timestamp and sign only).
const PUBLIC_PATHS = new Set([`${API}/shop/auth_partner`, `${API}/auth/token/get`, `${API}/auth/access_token/get`, `${API}/media_space/upload_image`]);
/** "timestamp ... valid for 5 minutes" (API-calls page). */
const TIMESTAMP_WINDOW_S = 300;
const REFRESH_TTL_S = 30 * 24 * 3600;
const CODE_TTL_MS = 10 * 60 * 1000; // GUESS
const MAX_STOCK = 999_999; // GUESS: get_item_limit's stock range is per shop; this stands for it.
const FIFTEEN_DAYS_S = 15 * 24 * 3600;

class ShopeeError extends Error {
  readonly status: number;
  readonly error: string;
  constructor(status: number, error: string, message: string) {
    super(message);
    this.status = status;
    this.error = error;
  }
}
const param = (message: string) => new ShopeeError(400, 'error_param', message);

type Marked = FastifyRequest & { shopeeRefusal?: ShopeeError };

const requestId = () => randomBytes(16).toString('hex');
/** price_info as get_item_base_info and get_model_list answer it (no promotion: current = original). */
const priceInfo = (currency: string, price: number) => ({
  currency,
  original_price: price,
  current_price: price,
  inflated_price_of_original_price: price,
  inflated_price_of_current_price: price,
});
/** Shopee's envelope: request_id, error ("" when none), message, and the call's `response`. */
const ok = (response: unknown) => ({ request_id: requestId(), error: '', message: '', response });

const q = (req: FastifyRequest) => req.query as Record<string, string | string[] | undefined>;
const one = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
const intParam = (v: string | string[] | undefined, name: string, min: number, max: number, dflt?: number): number => {
  const s = one(v);
  if (s === undefined || s === '') {
    if (dflt !== undefined) return dflt;
    throw param(`${name} is required`);
  }
  const n = Number(s);
  if (!Number.isInteger(n) || n < min || n > max) throw param(`${name} must be an integer between ${min} and ${max}`);
  return n;
};
/** Shopee's list parameters: comma-separated (item_id_list=1,2) or repeated. */
const listParam = (v: string | string[] | undefined): string[] =>
  (Array.isArray(v) ? v : v === undefined ? [] : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);

export function createShopeeEmulator(opts: ShopeeEmulatorOptions = {}): Emulator<ShopeeAccount> {
  let nextId = 800_000_001;
  const ids = { next: () => nextId++ };
  let accessTtlSec = opts.accessTtlSec ?? 14_400;

  const issue = (acc: ShopeeAccount): Grant => {
    const g: Grant = {
      access_token: randomBytes(16).toString('hex'),
      access_expires_at: Date.now() + accessTtlSec * 1000,
      refresh_token: randomBytes(16).toString('hex'),
      refresh_expires_at: Date.now() + REFRESH_TTL_S * 1000,
    };
    acc.grants.push(g);
    return g;
  };
  const tokenAnswer = (acc: ShopeeAccount, g: Grant) => ({
    request_id: requestId(),
    error: '',
    message: '',
    access_token: g.access_token,
    refresh_token: g.refresh_token,
    expire_in: Math.round((g.access_expires_at - Date.now()) / 1000),
    partner_id: Number(acc.partnerId),
    shop_id: acc.shopId,
  });

  /** Checks partner_id, timestamp and sign (and access_token for shop calls); the refusal is kept for `unauthorized`. */
  const authenticate = (req: FastifyRequest, accounts: Map<string, ShopeeAccount>): ShopeeAccount | null => {
    const m = req as Marked;
    const path = req.url.split('?')[0] ?? '';
    const query = q(req);
    const refuse = (e: ShopeeError) => ((m.shopeeRefusal = e), null);
    const partnerId = one(query.partner_id);
    const ts = one(query.timestamp);
    const sign = one(query.sign);
    if (!partnerId || !ts || !sign) return refuse(new ShopeeError(403, 'error_param', 'partner_id, timestamp and sign are required')); // GUESS: status and text
    const partners = [...accounts.values()].filter((a) => a.partnerId === partnerId);
    if (partners.length === 0) return refuse(new ShopeeError(403, 'error_auth', `Invalid partner_id ${partnerId}`)); // GUESS: text
    const t = Number(ts);
    if (!Number.isInteger(t) || Math.abs(nowSec() - t) > TIMESTAMP_WINDOW_S)
      return refuse(new ShopeeError(403, 'error_auth', 'Invalid timestamp: more than 5 minutes from the server time')); // GUESS: error word and text
    const key = partners[0]!.partnerKey;
    if (PUBLIC_PATHS.has(path)) {
      if (!sameSign(sign, apiSign(key, partnerId, path, ts))) return refuse(new ShopeeError(403, 'error_sign', 'Wrong sign.'));
      return partners[0]!;
    }
    const token = one(query.access_token) ?? '';
    const shopId = one(query.shop_id) ?? '';
    if (!token || !shopId) return refuse(new ShopeeError(403, 'error_param', 'access_token and shop_id are required for shop APIs')); // GUESS
    if (!sameSign(sign, apiSign(key, partnerId, path, ts, token, shopId))) return refuse(new ShopeeError(403, 'error_sign', 'Wrong sign.'));
    const acc = partners.find((a) => String(a.shopId) === shopId);
    const grant = acc?.grants.find((g) => g.access_token === token);
    // GUESS: an expired token answers like an unknown one.
    if (!acc || !grant || grant.access_expires_at <= Date.now()) return refuse(new ShopeeError(403, 'error_auth', 'Invalid access_token.'));
    return acc;
  };

  const findModel = (acc: ShopeeAccount, input: { externalId?: string; sku?: string }) => {
    for (const item of acc.items) {
      if (item.item_status !== 'NORMAL') continue;
      for (const model of item.models) {
        if (input.externalId !== undefined ? input.externalId === `${item.item_id}:${model.model_id}` : model.model_sku === input.sku) return { item, model };
      }
    }
    return null;
  };

  const notify = (emu: Emulator<ShopeeAccount>, acc: ShopeeAccount, order: Order) => {
    if (!acc.webhookUrl) return;
    // Push Mechanism, code 3 "order status update": data {ordersn, status, update_time}.
    const body = JSON.stringify({
      shop_id: acc.shopId,
      code: 3,
      timestamp: nowSec(),
      data: { ordersn: order.order_sn, status: order.order_status, update_time: order.update_time },
    });
    emu.sendWebhook(acc, { headers: { authorization: pushSign(acc.partnerKey, acc.webhookUrl, body) }, body });
  };

  const spec: EmulatorSpec<ShopeeAccount> = {
    platform: 'shopee',
    rateLimit: { perSecond: 10, burst: 20 }, // GUESS: Shopee's API rate limits are UNCONFIRMED (channel-apis.md)
    createAccount: (input, base) => createShop(input as ShopeeAccountInput, base, ids),
    saveAccount: saveShop,
    loadAccount: loadShop,
    saveShared: () => ({ nextId, accessTtlSec }),
    loadShared(saved) {
      const s = saved as { nextId?: number; accessTtlSec?: number };
      nextId = Math.max(nextId, s.nextId ?? 0);
      if (s.accessTtlSec) accessTtlSec = s.accessTtlSec;
    },
    authenticate,
    unauthorized(reply: FastifyReply) {
      const e = (reply.request as Marked).shopeeRefusal ?? new ShopeeError(403, 'error_auth', 'Invalid request');
      return reply.code(e.status).send({ request_id: requestId(), error: e.error, message: e.message });
    },
    throttled: (reply, retryAfterSec) =>
      reply
        .code(429)
        .header('retry-after', String(retryAfterSec))
        .send({ request_id: requestId(), error: 'error_too_many_request', message: 'Too many requests, please try again later.' }), // GUESS
    serverError: (reply) => reply.code(500).send({ request_id: requestId(), error: 'error_server', message: 'Something wrong. Please try later.' }), // GUESS

    routes(app, emu) {
      app.setErrorHandler((e, _req, reply) => {
        if (e instanceof ShopeeError) return reply.code(e.status).send({ request_id: requestId(), error: e.error, message: e.message });
        const status = (e as { statusCode?: number }).statusCode ?? 500;
        return reply.code(status).send({ request_id: requestId(), error: status >= 500 ? 'error_server' : 'error_param', message: (e as Error).message });
      });
      const shop = (req: FastifyRequest) => emu.account(req);
      const itemOf = (acc: ShopeeAccount, id: number): Item => {
        const item = acc.items.find((i) => i.item_id === id && i.item_status !== 'DELETED');
        if (!item) throw new ShopeeError(400, 'error_item_not_found', 'Product not found'); // error word and text from add_item's error list
        return item;
      };
      installCatalog(app, emu, { ok, fail: (status, error, message) => new ShopeeError(status, error, message), nextId: ids.next, itemOf });

      // ---- authorisation --------------------------------------------------------------------
      app.get(`${API}/shop/auth_partner`, async (req, reply) => {
        const redirect = one(q(req).redirect);
        if (!redirect) throw param('redirect is required');
        // The seller logs in and picks a shop; here the first shop of this partner consents.
        const acc = shop(req);
        const code = randomBytes(16).toString('hex');
        acc.codes[code] = Date.now() + CODE_TTL_MS;
        const to = new URL(redirect);
        to.searchParams.set('code', code);
        to.searchParams.set('shop_id', String(acc.shopId));
        return reply.redirect(to.toString(), 302);
      });

      app.post(`${API}/auth/token/get`, async (req) => {
        const b = (req.body ?? {}) as { code?: string; shop_id?: number; partner_id?: number };
        const acc = [...emu.accounts.values()].find((a) => a.partnerId === String(b.partner_id ?? '') && a.shopId === Number(b.shop_id));
        if (!acc || !b.code) throw param('code, shop_id and partner_id are required');
        const exp = acc.codes[b.code];
        delete acc.codes[b.code];
        if (exp === undefined || exp <= Date.now()) throw new ShopeeError(403, 'error_auth', 'Invalid code'); // GUESS: text
        return tokenAnswer(acc, issue(acc));
      });

      app.post(`${API}/auth/access_token/get`, async (req) => {
        const b = (req.body ?? {}) as { refresh_token?: string; shop_id?: number; partner_id?: number };
        const acc = [...emu.accounts.values()].find((a) => a.partnerId === String(b.partner_id ?? '') && a.shopId === Number(b.shop_id));
        if (!acc || !b.refresh_token) throw param('refresh_token, shop_id and partner_id are required');
        const old = acc.grants.find((g) => g.refresh_token === b.refresh_token && g.refresh_expires_at > Date.now());
        if (!old) throw new ShopeeError(403, 'error_auth', 'Invalid refresh_token'); // GUESS: text
        // GUESS: the pair the refresh came from is retired at once.
        acc.grants = acc.grants.filter((g) => g !== old);
        return tokenAnswer(acc, issue(acc));
      });

      // ---- products ---------------------------------------------------------------------------
      app.get(`${API}/product/get_item_list`, async (req) => {
        const acc = shop(req);
        const offset = intParam(q(req).offset, 'offset', 0, 1_000_000);
        const size = intParam(q(req).page_size, 'page_size', 1, 100);
        const statuses = listParam(q(req).item_status);
        if (statuses.length === 0) throw param('item_status is required');
        const all = acc.items.filter((i) => statuses.includes(i.item_status));
        const page = all.slice(offset, offset + size);
        const more = offset + size < all.length;
        return ok({
          item: page.map((i) => ({ item_id: i.item_id, item_status: i.item_status, update_time: i.update_time })),
          total_count: all.length,
          has_next_page: more,
          next_offset: more ? offset + size : 0,
        });
      });

      app.get(`${API}/product/get_item_base_info`, async (req) => {
        const acc = shop(req);
        const idList = listParam(q(req).item_id_list).map(Number);
        if (idList.length === 0 || idList.length > 50 || idList.some((n) => !Number.isInteger(n))) throw param('item_id_list must hold 1 to 50 item ids');
        const found = acc.items.filter((i) => idList.includes(i.item_id) && i.item_status !== 'DELETED');
        return ok({
          item_list: found.map((i) => ({
            item_id: i.item_id,
            category_id: i.category_id ?? 0,
            item_name: i.item_name,
            description: i.description ?? '',
            item_sku: i.item_sku,
            create_time: i.create_time ?? i.update_time,
            item_status: i.item_status,
            update_time: i.update_time,
            image: { image_id_list: i.image_id_list ?? [], image_url_list: (i.image_id_list ?? []).map((id) => `https://cf.shopee.sg/file/${id}`) },
            weight: String(i.weight ?? 0),
            logistic_info: i.logistic_info ?? [],
            condition: i.condition ?? 'NEW',
            has_model: hasModel(i),
            // "If the item has models, price_info will not be returned": get_model_list has each model's.
            // Items with variants keep their stock per model (get_model_list) too.
            ...(hasModel(i)
              ? {}
              : {
                  stock_info_v2: stockInfo(i.models[0]!),
                  ...(i.original_price !== undefined ? { price_info: [priceInfo(acc.currency, i.original_price)] } : {}),
                }),
          })),
        });
      });

      app.get(`${API}/product/get_model_list`, async (req) => {
        const acc = shop(req);
        const item = itemOf(acc, intParam(q(req).item_id, 'item_id', 1, Number.MAX_SAFE_INTEGER));
        if (!hasModel(item)) return ok({ tier_variation: [], model: [] });
        // Items given tiers by init_tier_variation answer them; seeded items one tier of their SKUs.
        const tiers = item.tiers ?? [{ name: 'Variation', options: item.models.map((m) => m.model_sku) }];
        return ok({
          tier_variation: tiers.map((t) => ({ name: t.name, option_list: t.options.map((option) => ({ option })) })),
          ...(item.tiers
            ? {
                standardise_tier_variation: tiers.map((t) => ({
                  variation_id: 0,
                  variation_name: t.name,
                  variation_group_id: 0,
                  variation_option_list: t.options.map((o) => ({ variation_option_id: 0, variation_option_name: o })),
                })),
              }
            : {}),
          model: item.models.map((m, n) => ({
            model_id: m.model_id,
            model_sku: m.model_sku,
            tier_index: m.tier_index ?? [n],
            model_status: 'MODEL_NORMAL',
            ...(m.original_price !== undefined ? { price_info: [priceInfo(acc.currency, m.original_price)] } : {}),
            stock_info_v2: stockInfo(m),
          })),
        });
      });

      // Absolute seller_stock per model; one item per call (Stock-&-Price-Management page).
      app.post(`${API}/product/update_stock`, async (req) => {
        const acc = shop(req);
        const b = (req.body ?? {}) as {
          item_id?: number;
          stock_list?: Array<{ model_id?: number; seller_stock?: Array<{ location_id?: string; stock?: number }> }>;
        };
        if (!Number.isInteger(b.item_id)) throw param('item_id is required');
        if (!Array.isArray(b.stock_list) || b.stock_list.length === 0 || b.stock_list.length > 50) throw param('stock_list must hold 1 to 50 entries'); // GUESS: 50
        const item = itemOf(acc, b.item_id!);
        const success_list: unknown[] = [];
        const failure_list: unknown[] = [];
        for (const s of b.stock_list) {
          const modelId = s.model_id ?? 0;
          const model = item.models.find((m) => m.model_id === modelId);
          const stock = s.seller_stock?.[0]?.stock;
          if (!model) failure_list.push({ model_id: modelId, failed_reason: 'model_id not found' });
          else if (!Number.isInteger(stock) || stock! < 0 || stock! > MAX_STOCK)
            failure_list.push({ model_id: modelId, failed_reason: `stock must be 0..${MAX_STOCK}` });
          else {
            model.seller_stock = stock!;
            success_list.push({ model_id: modelId, stock: stock });
            emu.recordWrite(acc.id, `${item.item_id}:${modelId}`, stock!);
          }
        }
        if (success_list.length) item.update_time = nowSec();
        return ok({ success_list, failure_list });
      });

      // ---- orders -------------------------------------------------------------------------------
      app.get(`${API}/order/get_order_list`, async (req) => {
        const acc = shop(req);
        const query = q(req);
        const field = one(query.time_range_field);
        if (field !== 'create_time' && field !== 'update_time') throw param('time_range_field must be create_time or update_time');
        const from = intParam(query.time_from, 'time_from', 0, 4_102_444_800);
        const to = intParam(query.time_to, 'time_to', 0, 4_102_444_800);
        if (to < from || to - from > FIFTEEN_DAYS_S) throw param('time_to - time_from must be between 0 and 15 days');
        const size = intParam(query.page_size, 'page_size', 1, 100);
        const offset = intParam(query.cursor, 'cursor', 0, 1_000_000, 0); // GUESS: the cursor is an offset as a string
        const status = one(query.order_status);
        const all = acc.orders
          .filter((o) => o[field] >= from && o[field] <= to && (!status || o.order_status === status))
          .sort((a, b) => a[field] - b[field] || a.order_sn.localeCompare(b.order_sn));
        const page = all.slice(offset, offset + size);
        const more = offset + size < all.length;
        return ok({ more, next_cursor: more ? String(offset + size) : '', order_list: page.map((o) => ({ order_sn: o.order_sn })) });
      });

      app.get(`${API}/order/get_order_detail`, async (req) => {
        const acc = shop(req);
        const sns = listParam(q(req).order_sn_list);
        if (sns.length === 0 || sns.length > 50) throw param('order_sn_list must hold 1 to 50 order numbers');
        const withItems = listParam(q(req).response_optional_fields).includes('item_list');
        return ok({
          order_list: acc.orders
            .filter((o) => sns.includes(o.order_sn))
            .map((o) => ({
              order_sn: o.order_sn,
              order_status: o.order_status,
              create_time: o.create_time,
              update_time: o.update_time,
              ...(withItems ? { item_list: o.item_list } : {}),
            })),
        });
      });

      // ---- control API beyond the kit's ----------------------------------------------------------
      const accountOr404 = (req: FastifyRequest): ShopeeAccount => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw new ShopeeError(404, 'error_not_found', 'no such account');
        return acc;
      };
      app.post('/_control/accounts/:id/token', async (req) => {
        const acc = accountOr404(req);
        emu.touch();
        return tokenAnswer(acc, issue(acc));
      });
      app.post('/_control/accounts/:id/code', async (req) => {
        const acc = accountOr404(req);
        const code = randomBytes(16).toString('hex');
        acc.codes[code] = Date.now() + CODE_TTL_MS;
        emu.touch();
        return { code, shop_id: acc.shopId };
      });
      // A buyer cancels: the order turns CANCELLED, the units go back, and Shopee pushes the status.
      app.post('/_control/accounts/:id/cancel', async (req) => {
        const acc = accountOr404(req);
        const sn = (req.body as { order_sn?: string } | undefined)?.order_sn;
        const order = acc.orders.find((o) => o.order_sn === sn);
        if (!order) throw new ShopeeError(404, 'error_not_found', `no order ${sn}`);
        if (order.order_status !== 'CANCELLED') {
          order.order_status = 'CANCELLED';
          order.update_time = Math.max(nowSec(), order.update_time + 1);
          for (const l of order.item_list) {
            const m = acc.items.find((i) => i.item_id === l.item_id)?.models.find((x) => x.model_id === l.model_id);
            if (m) m.seller_stock += l.model_quantity_purchased;
          }
          notify(emu, acc, order);
        }
        emu.touch();
        return { order };
      });
      // ttl_sec: lifetime of access tokens issued from now on; expire: every access token expires now.
      app.post('/_control/tokens', async (req) => {
        const b = (req.body ?? {}) as { ttl_sec?: number; expire?: boolean };
        if (typeof b.ttl_sec === 'number' && b.ttl_sec > 0) accessTtlSec = b.ttl_sec;
        if (b.expire) for (const a of emu.accounts.values()) for (const g of a.grants) g.access_expires_at = Date.now() - 1;
        emu.touch();
        return { ttl_sec: accessTtlSec };
      });
    },

    async sale(emu, acc, input) {
      const qty = Math.floor(input.qty);
      if (!(qty >= 1)) throw param('qty must be a positive integer');
      const hit = findModel(acc, input);
      if (!hit) throw new ShopeeError(404, 'error_not_found', `no listed item sells ${input.sku ?? input.externalId}`);
      const { item, model } = hit;
      // Shopee's checkout never sells more than the seller holds.
      if (model.seller_stock < qty) throw new ShopeeError(409, 'error_stock', `only ${model.seller_stock} left`);
      model.seller_stock -= qty;
      const t = nowSec();
      item.update_time = t;
      // GUESS: order_sn shape (date prefix + random), as seen in Shopee's samples ("201218V2Y6E59M").
      const d = new Date();
      const prefix = `${String(d.getUTCFullYear()).slice(2)}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
      const order: Order = {
        order_sn: `${prefix}${randomBytes(6).toString('hex').toUpperCase().slice(0, 8)}`,
        order_status: 'READY_TO_SHIP',
        create_time: t,
        update_time: t,
        item_list: [
          {
            item_id: item.item_id,
            item_name: item.item_name,
            item_sku: item.item_sku,
            model_id: model.model_id,
            model_sku: model.model_sku,
            model_quantity_purchased: qty,
          },
        ],
      };
      acc.orders.push(order);
      emu.recordWrite(acc.id, `${item.item_id}:${model.model_id}`, model.seller_stock);
      notify(emu, acc, order);
      return { order_sn: order.order_sn, sku: model.model_sku, qty: model.seller_stock, order };
    },

    async setLevel(_emu, acc, input) {
      const qty = Math.floor(input.qty);
      if (!(qty >= 0 && qty <= MAX_STOCK)) throw param(`qty must be 0..${MAX_STOCK}`);
      const hit = findModel(acc, input);
      if (!hit) throw new ShopeeError(404, 'error_not_found', `no model ${input.sku ?? input.externalId}`);
      hit.model.seller_stock = qty;
      hit.item.update_time = nowSec();
      return { sku: hit.model.model_sku, qty };
    },

    state,
  };
  return new Emulator(spec, opts);
}
