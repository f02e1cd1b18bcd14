// TikTok Shop Partner API emulator (202309 paths), written from TikTok Shop's documentation and
// the facts in ../shared/channel-apis.md section 8, never from StockClerk's adapter.
//
// What is modelled
// - Every API call carries query `app_key`, `timestamp` (unix s), `sign` (sign.ts: HMAC-SHA256 of
//   app_secret + path + sorted params + body + app_secret) and header `x-tts-access-token`; shop
//   calls also carry `shop_cipher`, from Get Authorized Shops (GET /authorization/202309/shops).
// - Tokens (the auth host, served here too): GET /api/v2/token/get (auth_code -> access + refresh)
//   and GET /api/v2/token/refresh, both with app_key + app_secret in the query, unsigned. The
//   `*_expire_in` fields are unix times (as TikTok's responses show), not durations.
// - Products: POST /product/202309/products/search (page_size, page_token), GET
//   /product/202309/products/{id}, POST /product/202309/products/{id}/inventory/update
//   {skus: [{id, inventory: [{warehouse_id, quantity}]}]} (absolute per SKU x warehouse).
// - Publishing (catalog.ts): image upload, Create / Edit Product, Activate / Deactivate.
// - Orders: POST /order/202309/orders/search (page_size, page_token, sort_field, sort_order; body
//   filters create_time_ge/lt, update_time_ge/lt, order_status) and GET /order/202309/orders?ids=.
//   A 202309 line item is one unit: an order of 3 has 3 line items.
// - Webhooks: a sale posts type 1 (ORDER_STATUS_CHANGE) {type, tts_notification_id, shop_id,
//   timestamp, data {order_id, order_status, update_time}} with `Authorization` = hex
//   HMAC-SHA256(app_secret, app_key + body) (channel-apis.md: from code, official page unread).
// - Answers use TikTok's envelope {code, message, request_id, data}; code 0 is success.
// - Consent (authorize.ts): the authorize page, Authorize / Cancel, redirect to the app's
//   registered redirect URL with code and state.
// - Control API: the kit's (accounts, sale, set, state, knobs, stats) plus
//   /_control/accounts/:id/authorize (an auth code, standing for the seller's consent),
//   /_control/accounts/:id/token (a token pair without the consent dance) and /_control/tokens
//   (ttl_sec, expire: every access token expires now).
//
// GUESSes (each also marked where it is made): the error codes and HTTP statuses of refusals
// (sign 106001, token 105001/105002, cipher 106011, params 36009003, throttle 36009004 with 429);
// the 5-minute timestamp window; the rate limit (20 calls/s per shop, burst 20); the shop
// cipher's shape; page_size 1..100; the access token lifetime (7 days) and refresh (1 year).
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type BaseAccount, type EmulatorOptions, type EmulatorSpec, type ItemState } from '../kit/index.ts';
import { installAuthorize } from './authorize.ts';
import { installCatalog } from './catalog.ts';
import { requestSign, sameHex, webhookSign } from './sign.ts';
import {
  createShop,
  digits,
  loadShop,
  now,
  orderJson,
  productJson,
  saveShop,
  type LineItem,
  type Order,
  type Product,
  type TiktokShopAccount,
  type TiktokShopAccountInput,
} from './shop.ts';

export type { TiktokShopAccount, TiktokShopAccountInput } from './shop.ts';
export { requestSign as tiktokShopRequestSign, webhookSign as tiktokShopWebhookSign } from './sign.ts';

export interface TiktokShopEmulatorOptions extends EmulatorOptions {
  /** Access token lifetime in seconds. GUESS: 7 days (TikTok's docs say the token lasts "7 days"). */
  tokenTtlSec?: number;
}

// GUESS: the accepted clock skew of `timestamp` (5 minutes, as Shopee documents for its own).
const TIMESTAMP_WINDOW_S = 300;
const REFRESH_TTL_S = 365 * 86_400; // GUESS
const MAX_QUANTITY = 99_999; // GUESS

interface Grant {
  accountId: string;
  appKey: string;
  expiresAt: number;
}
type Marked = FastifyRequest & { tts?: { error: [number, number, string] | null }; rawBody?: string };

class TtsError extends Error {
  readonly status: number;
  readonly code: number;
  constructor(status: number, code: number, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}
const requestId = () => randomBytes(16).toString('hex').toUpperCase();
const ok = (data: unknown) => ({ code: 0, message: 'Success', request_id: requestId(), data });
const send = (reply: FastifyReply, status: number, code: number, message: string) =>
  reply.code(status).send({ code, message, request_id: requestId(), data: null });

const pathOf = (req: FastifyRequest) => req.url.split('?')[0] ?? '';
const isAuthHost = (path: string) => path.startsWith('/api/v2/token/') || path === '/oauth/authorize';

/** page_token is opaque to callers; here it is the offset, base64url. */
function page(q: Record<string, string | undefined>): { size: number; offset: number } {
  const size = Number(q.page_size ?? 'NaN');
  // GUESS: page_size is required and 1..100.
  if (!Number.isInteger(size) || size < 1 || size > 100) throw new TtsError(400, 36009003, 'page_size must be an integer between 1 and 100');
  if (!q.page_token) return { size, offset: 0 };
  const offset = Number(Buffer.from(q.page_token, 'base64url').toString());
  if (!Number.isInteger(offset) || offset < 0) throw new TtsError(400, 36009003, 'invalid page_token');
  return { size, offset };
}
const nextToken = (offset: number, size: number, total: number) => (offset + size < total ? Buffer.from(String(offset + size)).toString('base64url') : '');

export function createTiktokShopEmulator(opts: TiktokShopEmulatorOptions = {}): Emulator<TiktokShopAccount> {
  let ttlSec = opts.tokenTtlSec ?? 7 * 86_400;
  const access = new Map<string, Grant>();
  const refresh = new Map<string, Grant>();
  const codes = new Map<string, Grant>();
  let orderSeq = 1;

  const issue = (acc: TiktokShopAccount) => {
    const t = now();
    const a = `TTP_${randomBytes(18).toString('base64url')}`;
    const r = `TTP_${randomBytes(18).toString('base64url')}`;
    access.set(a, { accountId: acc.id, appKey: acc.credentials.app_key ?? '', expiresAt: t + ttlSec });
    refresh.set(r, { accountId: acc.id, appKey: acc.credentials.app_key ?? '', expiresAt: t + REFRESH_TTL_S });
    return {
      access_token: a,
      access_token_expire_in: t + ttlSec,
      refresh_token: r,
      refresh_token_expire_in: t + REFRESH_TTL_S,
      open_id: digits(`open:${acc.id}`),
      seller_name: acc.shopName,
      seller_base_region: acc.region,
      user_type: 0,
      granted_scopes: ['seller.product.basic', 'seller.product.write', 'seller.order.info', 'seller.authorization.info'],
    };
  };

  const skuOf = (acc: TiktokShopAccount, input: { externalId?: string; sku?: string }) => {
    const [pid, sid] = (input.externalId ?? '').split(':');
    for (const p of acc.products)
      for (const s of p.skus) {
        if (pid && p.id !== pid) continue;
        if (sid && s.id !== sid) continue;
        if (input.sku !== undefined && s.seller_sku !== input.sku) continue;
        return { p, s };
      }
    return null;
  };

  const spec: EmulatorSpec<TiktokShopAccount> = {
    platform: 'tiktok_shop',
    // GUESS: TikTok Shop publishes per-API QPS limits in Partner Center that we have not read.
    rateLimit: { perSecond: 20, burst: 20 },
    createAccount: (input, base: BaseAccount) => createShop(input as TiktokShopAccountInput, base),
    saveAccount: saveShop,
    loadAccount: loadShop,
    saveShared: () => ({ access: [...access], refresh: [...refresh], orderSeq, ttlSec }),
    loadShared(saved) {
      const s = saved as { access?: [string, Grant][]; refresh?: [string, Grant][]; orderSeq?: number; ttlSec?: number };
      for (const [k, v] of s.access ?? []) access.set(k, v);
      for (const [k, v] of s.refresh ?? []) refresh.set(k, v);
      orderSeq = Math.max(orderSeq, s.orderSeq ?? 1);
      if (s.ttlSec) ttlSec = s.ttlSec;
    },

    // The account a call acts for: the token's; token endpoints, the app's. The signature needs the
    // raw body, so it is checked in the preHandler hook below.
    authenticate(req, accounts) {
      const mark = ((req as Marked).tts = { error: null as [number, number, string] | null });
      const q = req.query as Record<string, string | undefined>;
      const apps = [...accounts.values()].filter((a) => a.credentials.app_key === q.app_key);
      // The authorize page finds its app itself (an unknown one gets a page, not a JSON error).
      if (pathOf(req) === '/oauth/authorize') return apps[0] ?? [...accounts.values()][0] ?? null;
      if (isAuthHost(pathOf(req))) return apps[0] ?? (((mark.error = [401, 36004004, 'invalid app_key']), null) as null); // GUESS: code
      if (apps.length === 0) return ((mark.error = [401, 106001, 'Invalid credentials: unknown app_key']), null); // GUESS
      const token = header(req, 'x-tts-access-token');
      const grant = token ? access.get(token) : undefined;
      if (!grant || grant.appKey !== q.app_key) return ((mark.error = [401, 105001, 'access_token is invalid']), null); // GUESS
      if (grant.expiresAt <= now()) return ((mark.error = [401, 105002, 'access_token is expired']), null); // GUESS
      return accounts.get(grant.accountId) ?? null;
    },
    unauthorized(reply) {
      const e = (reply.request as Marked).tts?.error ?? [401, 105001, 'access_token is invalid'];
      return send(reply, e[0], e[1], e[2]);
    },
    // GUESS: status 429 and code 36009004; no retry-after header documented (none sent).
    throttled: (reply) => send(reply, 429, 36009004, 'Too many requests'),
    serverError: (reply) => send(reply, 500, 36009001, 'Internal error, please try again later'), // GUESS

    routes(app, emu) {
      // The sign covers the body as sent: keep it raw beside the parsed value.
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
        (req as Marked).rawBody = body as string;
        try {
          done(null, body === '' ? {} : JSON.parse(body as string));
        } catch {
          done(new TtsError(400, 36009003, 'request body is not JSON'), undefined);
        }
      });
      app.setErrorHandler((e, _req, reply) => {
        if (e instanceof TtsError) return send(reply, e.status, e.code, e.message);
        const status = (e as { statusCode?: number }).statusCode ?? 500;
        return status >= 500 ? send(reply, 500, 36009001, 'Internal error') : send(reply, status, 36009003, (e as Error).message);
      });

      // Timestamp and sign, once the body is in. Control and token endpoints are not signed.
      app.addHook('preHandler', async (req, reply) => {
        const path = pathOf(req);
        if (path.startsWith('/_control') || isAuthHost(path) || reply.sent) return;
        const acc = emu.account(req);
        const q = req.query as Record<string, string>;
        const ts = Number(q.timestamp);
        if (!q.sign || !q.timestamp) return send(reply, 401, 106001, 'sign and timestamp are required'); // GUESS
        if (!Number.isInteger(ts) || Math.abs(now() - ts) > TIMESTAMP_WINDOW_S) return send(reply, 401, 106001, 'timestamp is invalid or expired'); // GUESS
        const want = requestSign(acc.credentials.app_secret ?? '', path, q, (req as Marked).rawBody ?? '');
        if (!sameHex(want, q.sign)) return send(reply, 401, 106001, 'Invalid sign'); // GUESS: code
        // Every shop API names its shop by cipher; only the shop list itself goes without.
        if (path !== '/authorization/202309/shops' && q.shop_cipher !== acc.cipher) return send(reply, 403, 106011, 'shop_cipher is invalid'); // GUESS
      });

      // ---- auth host ---------------------------------------------------------------------------
      const appSecretOk = (acc: TiktokShopAccount, q: Record<string, string | undefined>) => q.app_secret === acc.credentials.app_secret;
      app.get('/api/v2/token/get', async (req, reply) => {
        const q = req.query as Record<string, string | undefined>;
        const acc = emu.account(req);
        if (!appSecretOk(acc, q)) return send(reply, 401, 36004004, 'invalid app_secret'); // GUESS
        if (q.grant_type !== 'authorized_code') return send(reply, 400, 36004005, 'grant_type must be authorized_code'); // GUESS
        const grant = q.auth_code ? codes.get(q.auth_code) : undefined;
        if (!grant || grant.appKey !== q.app_key || grant.expiresAt <= now()) return send(reply, 400, 36004006, 'auth_code is invalid or expired'); // GUESS
        codes.delete(q.auth_code!); // GUESS: single use
        const owner = emu.accounts.get(grant.accountId);
        if (!owner) return send(reply, 400, 36004006, 'auth_code is invalid or expired');
        emu.touch();
        return ok(issue(owner));
      });
      app.get('/api/v2/token/refresh', async (req, reply) => {
        const q = req.query as Record<string, string | undefined>;
        const acc = emu.account(req);
        if (!appSecretOk(acc, q)) return send(reply, 401, 36004004, 'invalid app_secret');
        if (q.grant_type !== 'refresh_token') return send(reply, 400, 36004005, 'grant_type must be refresh_token');
        const grant = q.refresh_token ? refresh.get(q.refresh_token) : undefined;
        if (!grant || grant.appKey !== q.app_key || grant.expiresAt <= now()) return send(reply, 400, 36004007, 'refresh_token is invalid or expired'); // GUESS
        const owner = emu.accounts.get(grant.accountId);
        if (!owner) return send(reply, 400, 36004007, 'refresh_token is invalid or expired');
        // GUESS: the refresh token stays valid (TikTok returns the same one until it expires).
        const t = now();
        const a = `TTP_${randomBytes(18).toString('base64url')}`;
        access.set(a, { accountId: owner.id, appKey: grant.appKey, expiresAt: t + ttlSec });
        emu.touch();
        return ok({
          access_token: a,
          access_token_expire_in: t + ttlSec,
          refresh_token: q.refresh_token,
          refresh_token_expire_in: grant.expiresAt,
          open_id: digits(`open:${owner.id}`),
          seller_name: owner.shopName,
          seller_base_region: owner.region,
        });
      });

      // ---- shops -------------------------------------------------------------------------------
      app.get('/authorization/202309/shops', async (req) => {
        const acc = emu.account(req);
        return ok({
          shops: [{ id: acc.shopId, name: acc.shopName, region: acc.region, seller_type: 'LOCAL', cipher: acc.cipher, code: `GB${acc.shopId.slice(-6)}` }],
        });
      });

      // ---- products ----------------------------------------------------------------------------
      app.post('/product/202309/products/search', async (req) => {
        const acc = emu.account(req);
        const { size, offset } = page(req.query as Record<string, string>);
        const b = (req.body ?? {}) as { status?: string };
        const all = acc.products.filter((p) => !b.status || b.status === 'ALL' || p.status === b.status);
        return ok({
          products: all.slice(offset, offset + size).map((p) => productJson(acc, p)),
          total_count: all.length,
          next_page_token: nextToken(offset, size, all.length),
        });
      });
      const productOr404 = (acc: TiktokShopAccount, id: string): Product => {
        const p = acc.products.find((x) => x.id === id);
        if (!p) throw new TtsError(404, 12052048, `product ${id} not found`); // GUESS: code
        return p;
      };
      app.get('/product/202309/products/:product_id', async (req) => {
        const acc = emu.account(req);
        return ok(productJson(acc, productOr404(acc, (req.params as { product_id: string }).product_id)));
      });
      app.post('/product/202309/products/:product_id/inventory/update', async (req) => {
        const acc = emu.account(req);
        const p = productOr404(acc, (req.params as { product_id: string }).product_id);
        const b = (req.body ?? {}) as { skus?: Array<{ id?: unknown; inventory?: Array<{ warehouse_id?: unknown; quantity?: unknown }> }> };
        if (!Array.isArray(b.skus) || b.skus.length === 0) throw new TtsError(400, 36009003, 'skus is required');
        // Validate everything first: a refused call changes nothing.
        const writes: Array<{ sku: Product['skus'][number]; wh: string; qty: number }> = [];
        for (const s of b.skus) {
          const sku = p.skus.find((x) => x.id === s.id);
          if (!sku) throw new TtsError(400, 12019009, `sku ${String(s.id)} does not belong to product ${p.id}`); // GUESS: code
          if (!Array.isArray(s.inventory) || s.inventory.length === 0) throw new TtsError(400, 36009003, 'inventory is required');
          for (const inv of s.inventory) {
            const wh = String(inv.warehouse_id ?? '');
            if (!acc.warehouses.includes(wh)) throw new TtsError(400, 12019010, `warehouse ${wh} is not a warehouse of this shop`); // GUESS
            if (!Number.isInteger(inv.quantity) || (inv.quantity as number) < 0 || (inv.quantity as number) > MAX_QUANTITY)
              throw new TtsError(400, 36009003, `quantity must be an integer 0..${MAX_QUANTITY}`);
            writes.push({ sku, wh, qty: inv.quantity as number });
          }
        }
        for (const w of writes) {
          w.sku.inventory[w.wh] = w.qty;
          emu.recordWrite(acc.id, `${p.id}:${w.sku.id}`, w.qty);
        }
        p.update_time = now();
        return ok({});
      });

      installCatalog(app, emu, ok, (status, code, msg) => new TtsError(status, code, msg));

      // ---- orders ------------------------------------------------------------------------------
      app.post('/order/202309/orders/search', async (req) => {
        const acc = emu.account(req);
        const q = req.query as Record<string, string>;
        const { size, offset } = page(q);
        const b = (req.body ?? {}) as Record<string, unknown>;
        const bound = (k: string) => (b[k] === undefined ? null : Number(b[k]));
        const [cge, clt, uge, ult] = [bound('create_time_ge'), bound('create_time_lt'), bound('update_time_ge'), bound('update_time_lt')];
        const field = q.sort_field ?? 'create_time';
        if (field !== 'create_time' && field !== 'update_time') throw new TtsError(400, 36009003, 'sort_field must be create_time or update_time');
        const dir = (q.sort_order ?? 'DESC') === 'ASC' ? 1 : -1;
        const all = acc.orders
          .filter(
            (o) =>
              (cge === null || o.create_time >= cge) &&
              (clt === null || o.create_time < clt) &&
              (uge === null || o.update_time >= uge) &&
              (ult === null || o.update_time < ult) &&
              (b.order_status === undefined || o.status === b.order_status),
          )
          .sort((x, y) => dir * (x[field] - y[field] || (x.id < y.id ? -1 : 1)));
        return ok({
          orders: all.slice(offset, offset + size).map((o) => orderJson(acc, o)),
          total_count: all.length,
          next_page_token: nextToken(offset, size, all.length),
        });
      });
      app.get('/order/202309/orders', async (req) => {
        const acc = emu.account(req);
        const ids = String((req.query as Record<string, string>).ids ?? '')
          .split(',')
          .filter(Boolean);
        // GUESS: at most 50 ids per call.
        if (ids.length === 0 || ids.length > 50) throw new TtsError(400, 36009003, 'ids must name 1..50 orders');
        return ok({ orders: acc.orders.filter((o) => ids.includes(o.id)).map((o) => orderJson(acc, o)) });
      });

      // ---- control API beyond the kit's --------------------------------------------------------
      const accountOr404 = (req: FastifyRequest): TiktokShopAccount => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw new TtsError(404, 404, 'no such account');
        return acc;
      };
      const issueCode = (acc: TiktokShopAccount) => {
        const code = `ROW_${randomBytes(16).toString('base64url')}`;
        codes.set(code, { accountId: acc.id, appKey: acc.credentials.app_key ?? '', expiresAt: now() + 600 }); // GUESS: 10 min
        return code;
      };
      installAuthorize(app, emu, issueCode);
      // The seller consented on TikTok's authorize page: the code the redirect would carry.
      app.post('/_control/accounts/:id/authorize', async (req) => ({ code: issueCode(accountOr404(req)) }));
      app.post('/_control/accounts/:id/token', async (req) => {
        const t = issue(accountOr404(req));
        emu.touch();
        return { ...t, expires_in: t.access_token_expire_in - now() };
      });
      app.post('/_control/tokens', async (req) => {
        const b = (req.body ?? {}) as { ttl_sec?: number; expire?: boolean };
        if (typeof b.ttl_sec === 'number' && b.ttl_sec > 0) ttlSec = b.ttl_sec;
        if (b.expire) for (const g of access.values()) g.expiresAt = now() - 1;
        emu.touch();
        return { ttl_sec: ttlSec };
      });
    },

    // A buyer pays for `qty` of a SKU: stock leaves the default warehouse, an order appears, and
    // TikTok notifies the order status change.
    async sale(emu, acc, input) {
      const qty = Math.floor(input.qty);
      if (!(qty >= 1)) throw new TtsError(400, 400, 'qty must be a positive integer');
      const hit = skuOf(acc, input);
      if (!hit) throw new TtsError(404, 404, `no SKU ${input.sku ?? input.externalId}`);
      const wh = acc.warehouses[0]!;
      const have = hit.s.inventory[wh] ?? 0;
      if (have < qty) throw new TtsError(409, 409, `out of stock: ${have} left`);
      hit.s.inventory[wh] = have - qty;
      const t = now();
      const id = digits(`order:${acc.id}:${orderSeq++}:${t}`);
      const line_items: LineItem[] = Array.from({ length: qty }, (_, i) => ({
        id: `${id}${i}`,
        product_id: hit.p.id,
        sku_id: hit.s.id,
        seller_sku: hit.s.seller_sku,
        product_name: hit.p.title,
        sale_price: hit.s.price,
      }));
      const order: Order = { id, status: 'AWAITING_SHIPMENT', create_time: t, update_time: t, line_items };
      acc.orders.push(order);
      emu.recordWrite(acc.id, `${hit.p.id}:${hit.s.id}`, hit.s.inventory[wh]!);
      const body = JSON.stringify({
        type: 1,
        tts_notification_id: digits(`note:${id}`),
        shop_id: acc.shopId,
        timestamp: t,
        data: { order_id: id, order_status: order.status, is_on_hold_order: false, update_time: t },
      });
      emu.sendWebhook(acc, { headers: { authorization: webhookSign(acc.credentials.app_key ?? '', acc.credentials.app_secret ?? '', body) }, body });
      return { order_id: id, sku: hit.s.seller_sku, qty: hit.s.inventory[wh]! };
    },

    async setLevel(_emu, acc, input) {
      const qty = Math.floor(input.qty);
      if (!(qty >= 0 && qty <= MAX_QUANTITY)) throw new TtsError(400, 400, `qty must be 0..${MAX_QUANTITY}`);
      const hit = skuOf(acc, input);
      if (!hit) throw new TtsError(404, 404, `no SKU ${input.sku ?? input.externalId}`);
      hit.s.inventory[acc.warehouses[0]!] = qty;
      hit.p.update_time = now();
      return { sku: hit.s.seller_sku, qty };
    },

    // Per SKU, the stock of every warehouse added up.
    state(acc): ItemState[] {
      return acc.products.flatMap((p) =>
        p.skus.map((s) => ({
          externalId: `${p.id}:${s.id}`,
          sku: s.seller_sku,
          name: p.title,
          qty: Object.values(s.inventory).reduce((a, b) => a + b, 0),
          available: null,
        })),
      );
    },
  };
  return new Emulator(spec, opts);
}
