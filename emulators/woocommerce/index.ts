// WooCommerce emulator: the REST API v3 subset a stock sync uses, at `/wp-json/wc/v3`, written from
// WooCommerce's REST API reference and core's public source (channel-apis.md section 5):
// - auth: consumer key/secret as HTTP Basic (what WooCommerce accepts over HTTPS; the emulator is
//   plain http on 127.0.0.1 and stands in for an https store) or as consumer_key/consumer_secret
//   query parameters. Read-only keys are refused writes.
// - products and variations with manage_stock / stock_quantity, paged with page/per_page (1..100)
//   and X-WP-Total / X-WP-TotalPages / Link headers; batch endpoints (create/update/delete, at most
//   100 objects in all, else 413) answering per-item errors inside a 200.
// - orders, listable by modified_after; a sale creates an order (status processing) and takes the
//   stock; cancelling gives it back.
// - webhooks (order.created / order.updated) signed as core signs them, each delivery tried once,
//   the webhook disabled after repeated failures (hookshot.ts); GET/PUT /webhooks show and re-enable them.
// - errors as WP_Error JSON: {code, message, data: {status}}.
// - no rate limit: WooCommerce core has none (hosts and WAFs add their own); the kit's throttle
//   knob answers 429 with Retry-After as such a host would.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type AccountInput, type BaseAccount, type EmulatorOptions, type EmulatorSpec } from '../kit/index.ts';
import { Hookshot } from './hookshot.ts';
import {
  createStore,
  findStockable,
  loadStore,
  now,
  orderJson,
  productJson,
  refOf,
  saveStore,
  skuOf,
  stockables,
  stockHolder,
  variationJson,
  webhookJson,
  type Order,
  type Product,
  type Variation,
  type Webhook,
  type WooAccount,
} from './store.ts';

export { deliveryId, MAX_DELIVERY_FAILURES, wcSignature } from './hookshot.ts';
export type { WooAccount } from './store.ts';

export const API = '/wp-json/wc/v3';
/** woocommerce_rest_batch_items_limit default. */
export const BATCH_LIMIT = 100;
/** Order statuses whose stock WooCommerce has taken (wc_maybe_reduce_stock_levels runs on payment / these statuses). */
const REDUCING = new Set(['processing', 'completed', 'on-hold']);
/** Statuses that give the stock back (wc_maybe_increase_stock_levels on cancelled; GUESS: refunded restocks as a full refund does by default). */
const RESTORING = new Set(['cancelled', 'refunded']);
const ORDER_STATUSES = new Set(['pending', 'processing', 'on-hold', 'completed', 'cancelled', 'refunded', 'failed', 'checkout-draft']);

class WpError extends Error {
  readonly code: string;
  readonly status: number;
  readonly params?: Record<string, string>;
  constructor(status: number, code: string, message: string, params?: Record<string, string>) {
    super(message);
    this.code = code;
    this.status = status;
    this.params = params;
  }
  json(): Record<string, unknown> {
    return { code: this.code, message: this.message, data: { status: this.status, ...(this.params ? { params: this.params } : {}) } };
  }
}

const invalidParam = (name: string, why: string) => new WpError(400, 'rest_invalid_param', `Invalid parameter(s): ${name}`, { [name]: why });

interface Credentials {
  key: string | null;
  secret: string | null;
}

function credentialsOf(req: FastifyRequest): Credentials {
  const auth = header(req, 'authorization');
  if (auth?.startsWith('Basic ')) {
    const text = Buffer.from(auth.slice(6), 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { key: text.slice(0, i), secret: text.slice(i + 1) };
  }
  const q = req.query as Record<string, string | undefined>;
  return { key: q.consumer_key ?? null, secret: q.consumer_secret ?? null };
}

function intParam(q: Record<string, string | undefined>, name: string, dflt: number, min: number, max: number): number {
  const raw = q[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw invalidParam(name, `${name} must be between ${min} (inclusive) and ${max} (inclusive)`);
  return n;
}

/** A page of a collection with WordPress's pagination headers. */
function paged<T>(req: FastifyRequest, reply: FastifyReply, rows: T[], base: string): T[] {
  const q = req.query as Record<string, string | undefined>;
  const perPage = intParam(q, 'per_page', 10, 1, 100);
  const page = intParam(q, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
  const total = rows.length;
  const pages = Math.ceil(total / perPage);
  void reply.header('X-WP-Total', String(total)).header('X-WP-TotalPages', String(pages));
  const url = new URL(`${base}${req.url}`);
  const link = (p: number) => {
    url.searchParams.set('page', String(p));
    return url.toString();
  };
  const links: string[] = [];
  if (page > 1 && page <= pages + 1) links.push(`<${link(page - 1)}>; rel="prev"`);
  if (page < pages) links.push(`<${link(page + 1)}>; rel="next"`);
  if (links.length) void reply.header('Link', links.join(', '));
  return rows.slice((page - 1) * perPage, page * perPage);
}

/** orderby/order/include as WooCommerce's collection params take them (a subset). */
function sorted<T extends { id: number }>(req: FastifyRequest, rows: T[], dateOf: (r: T) => string, allowed: string[]): T[] {
  const q = req.query as Record<string, string | undefined>;
  const orderby = q.orderby ?? 'date';
  if (!allowed.includes(orderby)) throw invalidParam('orderby', `orderby is not one of ${allowed.join(', ')}.`);
  const order = q.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') throw invalidParam('order', 'order is not one of asc and desc.');
  let out = rows;
  if (q.include) {
    const ids = q.include.split(',').map(Number);
    out = out.filter((r) => ids.includes(r.id));
  }
  const dir = order === 'asc' ? 1 : -1;
  const key = orderby === 'date' ? (r: T) => dateOf(r) : (r: T) => r.id;
  return [...out].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return (ka < kb ? -1 : ka > kb ? 1 : a.id - b.id) * dir;
  });
}

/** Seconds since the epoch of a WooCommerce date (no zone = UTC here: the site's timezone is UTC and dates_are_gmt agrees). */
function secondsOf(s: string): number {
  const t = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(s) ? s : `${s}Z`);
  return Math.floor(t / 1000);
}

function dateParam(q: Record<string, string | undefined>, name: string): number | null {
  const raw = q[name];
  if (raw === undefined) return null;
  const s = secondsOf(raw);
  if (!Number.isFinite(s)) throw invalidParam(name, `Invalid date.`);
  return s;
}

export function createWoocommerceEmulator(opts: EmulatorOptions = {}): WoocommerceEmulator {
  // `emu` (below) exists once the kit built it; deliveries and handlers only reach it after that.
  const hookshot = new Hookshot(
    () => emu.knobs,
    {
      get webhooksSent() {
        return emu.stats.webhooksSent;
      },
      set webhooksSent(v) {
        emu.stats.webhooksSent = v;
      },
      get webhooksFailed() {
        return emu.stats.webhooksFailed;
      },
      set webhooksFailed(v) {
        emu.stats.webhooksFailed = v;
      },
    },
    () => emu.touch(),
  );

  function newWebhook(acc: WooAccount, input: { name?: string; topic: string; deliveryUrl?: string | null; secret?: string | null; status?: string }): Webhook {
    const at = now(acc);
    const w: Webhook = {
      id: acc.nextWebhookId++,
      name: input.name ?? `Webhook created on ${at}`,
      topic: input.topic,
      status: input.status ?? 'active',
      deliveryUrl: input.deliveryUrl ?? null,
      secret: input.secret ?? null,
      failureCount: 0,
      created: at,
      modified: at,
    };
    acc.webhooks.push(w);
    if (w.status === 'active') void hookshot.ping(acc, w);
    return w;
  }

  function changeStock(acc: WooAccount, holder: Product | Variation, qty: number, ref: string): void {
    holder.stockQuantity = qty;
    holder.modified = now(acc);
    emu.recordWrite(acc.id, ref, qty);
  }

  /** Takes (sign -1) or gives back (+1) an order's stock, as wc_reduce/increase_stock_levels do. */
  function moveOrderStock(acc: WooAccount, o: Order, sign: 1 | -1): void {
    for (const l of o.lineItems) {
      const all = stockables(acc);
      const s = all.find((x) => x.product.id === l.productId && (x.variation?.id ?? 0) === l.variationId);
      const holder = s ? stockHolder(s) : null;
      if (s && holder) changeStock(acc, holder, (holder.stockQuantity ?? 0) + sign * l.quantity, refOf(s));
    }
    o.stockReduced = sign === -1;
  }

  function setOrderStatus(acc: WooAccount, o: Order, status: string): void {
    if (!ORDER_STATUSES.has(status)) throw invalidParam('status', `status is not one of ${[...ORDER_STATUSES].join(', ')}.`);
    o.status = status;
    if ((status === 'processing' || status === 'completed') && !o.paid) o.paid = now(acc);
    if (REDUCING.has(status) && !o.stockReduced) moveOrderStock(acc, o, -1);
    if (RESTORING.has(status) && o.stockReduced) moveOrderStock(acc, o, 1);
    o.modified = now(acc);
    hookshot.fire(acc, 'order.updated', orderJson(o));
  }

  /** The stock fields of one update object (products and variations alike), as the REST controller applies them. */
  function applyStock(acc: WooAccount, p: Product, v: Variation | null, body: Record<string, unknown>): void {
    const target = v ?? p;
    if ('manage_stock' in body) {
      const m = body.manage_stock;
      const ok = typeof m === 'boolean' || (v !== null && m === 'parent');
      if (!ok) throw invalidParam('manage_stock', 'manage_stock is not of type boolean.');
      target.manageStock = m as boolean;
      if (m !== true) target.stockQuantity = null;
    }
    if ('stock_quantity' in body && body.stock_quantity !== null) {
      const q = body.stock_quantity;
      if (typeof q !== 'number' || !Number.isInteger(q)) throw invalidParam('stock_quantity', 'stock_quantity is not of type integer.');
      // A product not managing its stock ignores stock_quantity (the controller only sets it when
      // get_manage_stock() is true); the answer shows manage_stock false and no quantity.
      if (target.manageStock === true) changeStock(acc, target, q, v ? `${p.id}:${v.id}` : String(p.id));
    }
    target.modified = now(acc);
    if (v) p.modified = target.modified;
  }

  const findProduct = (acc: WooAccount, id: number): Product => {
    const p = acc.products.find((x) => x.id === id);
    if (!p) throw new WpError(404, 'woocommerce_rest_product_invalid_id', 'Invalid ID.');
    return p;
  };
  const findVariation = (p: Product, id: number): Variation => {
    const v = p.variations.find((x) => x.id === id);
    if (!v) throw new WpError(404, 'woocommerce_rest_product_variation_invalid_id', 'Invalid ID.');
    return v;
  };
  const requireWrite = (acc: WooAccount, batch = false) => {
    if (acc.credentials.permissions === 'read')
      throw batch
        ? new WpError(401, 'woocommerce_rest_cannot_batch', 'Sorry, you are not allowed to batch manipulate this resource.')
        : new WpError(401, 'woocommerce_rest_cannot_edit', 'Sorry, you are not allowed to edit this resource.');
  };

  /** A batch request: `{create, update, delete}`, at most BATCH_LIMIT objects in all; per-item errors inside the 200. */
  function batch(
    acc: WooAccount,
    body: unknown,
    update: (item: Record<string, unknown>) => Record<string, unknown>,
    invalidCode: string,
  ): Record<string, unknown> {
    requireWrite(acc, true);
    const b = (body && typeof body === 'object' ? body : {}) as { create?: unknown[]; update?: unknown[]; delete?: unknown[] };
    const total =
      (Array.isArray(b.create) ? b.create.length : 0) + (Array.isArray(b.update) ? b.update.length : 0) + (Array.isArray(b.delete) ? b.delete.length : 0);
    if (total > BATCH_LIMIT)
      throw new WpError(413, 'woocommerce_rest_request_entity_too_large', `Unable to accept more than ${BATCH_LIMIT} items for this request.`);
    const out: Record<string, unknown> = {};
    const itemError = (id: unknown, e: WpError) => ({
      id: typeof id === 'number' ? id : 0,
      error: { code: e.code, message: e.message, data: { status: e.status } },
    });
    if (Array.isArray(b.update)) {
      out.update = b.update.map((raw) => {
        const item = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
        try {
          if (typeof item.id !== 'number' || !Number.isInteger(item.id)) throw new WpError(400, invalidCode, 'Invalid ID.');
          return update(item);
        } catch (e) {
          if (!(e instanceof WpError)) throw e;
          // GUESS: an unknown id inside a batch is reported with status 400 (a single PUT says 404).
          return itemError(item.id, e.status === 404 ? new WpError(400, e.code, e.message) : e);
        }
      });
    }
    // GUESS: the emulator creates and deletes nothing (a stock sync never asks); each is refused per item.
    const refused = new WpError(400, 'woocommerce_rest_emulator_unsupported', 'Creating and deleting through batch is not emulated.');
    if (Array.isArray(b.create)) out.create = b.create.map(() => itemError(0, refused));
    if (Array.isArray(b.delete)) out.delete = b.delete.map((id) => itemError(id, refused));
    return out;
  }

  const spec: EmulatorSpec<WooAccount> = {
    platform: 'woocommerce',
    // No limit in WooCommerce core: out of reach; 429s come from the throttle knob.
    rateLimit: { perSecond: 100_000, burst: 100_000 },
    createAccount(input: AccountInput, base: BaseAccount) {
      const acc = createStore(input, base);
      // A store connected to StockClerk has order.created and order.updated webhooks to it.
      if (input.webhookUrl) for (const topic of ['order.created', 'order.updated']) newWebhook(acc, { name: `StockClerk ${topic}`, topic });
      return acc;
    },
    saveAccount: saveStore,
    loadAccount: loadStore,
    authenticate(req, accounts) {
      const c = credentialsOf(req);
      if (!c.key || !c.secret) return null;
      for (const acc of accounts.values()) if (acc.credentials.consumer_key === c.key && acc.credentials.consumer_secret === c.secret) return acc;
      return null;
    },
    unauthorized(reply: FastifyReply) {
      const c = credentialsOf(reply.request);
      const known = c.key ? [...emu.accounts.values()].some((a) => a.credentials.consumer_key === c.key) : false;
      const e = !c.key
        ? new WpError(401, 'woocommerce_rest_cannot_view', 'Sorry, you cannot list resources.')
        : !known
          ? new WpError(401, 'woocommerce_rest_authentication_error', 'Consumer key is invalid.')
          : new WpError(401, 'woocommerce_rest_authentication_error', 'Consumer secret is invalid.');
      return reply.code(401).send(e.json());
    },
    // GUESS: hosts that limit answer 429 with Retry-After; the body here is WP_Error-shaped.
    throttled: (reply: FastifyReply, retryAfterSec: number) =>
      reply
        .code(429)
        .header('Retry-After', String(retryAfterSec))
        .send({ code: 'too_many_requests', message: 'Too many requests.', data: { status: 429 } }),
    serverError: (reply: FastifyReply) =>
      reply.code(500).send({ code: 'internal_server_error', message: 'There has been a critical error on this website.', data: { status: 500 } }),

    routes(app: FastifyInstance, e: Emulator<WooAccount>) {
      app.setErrorHandler((err, _req, reply) => {
        if (err instanceof WpError) return reply.code(err.status).send(err.json());
        const status = (err as { statusCode?: number }).statusCode ?? 500;
        if (status === 400)
          return reply.code(400).send({ code: 'rest_invalid_json', message: 'Invalid JSON body passed.', data: { status: 400, json_error_code: 4 } });
        return reply.code(status).send({ code: 'internal_server_error', message: (err as Error).message, data: { status } });
      });
      const base = () => e.url;
      const idOf = (raw: string, code: string) => {
        const n = Number(raw);
        if (!Number.isInteger(n) || n <= 0) throw new WpError(404, code, 'Invalid ID.');
        return n;
      };
      type P = { Params: Record<string, string> };

      app.get(`${API}/products`, async (req, reply) => {
        const acc = e.account(req);
        const rows = sorted(req, acc.products, (p) => p.created, ['date', 'id', 'include', 'title', 'slug', 'modified']);
        return paged(req, reply, rows, base()).map((p) => productJson(acc, p));
      });
      app.get<P>(`${API}/products/:id`, async (req) => {
        const acc = e.account(req);
        return productJson(acc, findProduct(acc, idOf(req.params.id!, 'woocommerce_rest_product_invalid_id')));
      });
      app.put<P>(`${API}/products/:id`, async (req) => {
        const acc = e.account(req);
        requireWrite(acc);
        const p = findProduct(acc, idOf(req.params.id!, 'woocommerce_rest_product_invalid_id'));
        applyStock(acc, p, null, (req.body ?? {}) as Record<string, unknown>);
        return productJson(acc, p);
      });
      app.post(`${API}/products/batch`, async (req) => {
        const acc = e.account(req);
        return batch(
          acc,
          req.body,
          (item) => {
            const p = findProduct(acc, item.id as number);
            applyStock(acc, p, null, item);
            return productJson(acc, p);
          },
          'woocommerce_rest_product_invalid_id',
        );
      });
      app.get<P>(`${API}/products/:id/variations`, async (req, reply) => {
        const acc = e.account(req);
        const p = findProduct(acc, idOf(req.params.id!, 'woocommerce_rest_product_invalid_id'));
        const rows = sorted(req, p.variations, () => p.created, ['date', 'id', 'include', 'title', 'slug', 'modified', 'menu_order']);
        return paged(req, reply, rows, base()).map((v) => variationJson(p, v));
      });
      app.get<P>(`${API}/products/:id/variations/:vid`, async (req) => {
        const acc = e.account(req);
        const p = findProduct(acc, idOf(req.params.id!, 'woocommerce_rest_product_invalid_id'));
        return variationJson(p, findVariation(p, idOf(req.params.vid!, 'woocommerce_rest_product_variation_invalid_id')));
      });
      app.put<P>(`${API}/products/:id/variations/:vid`, async (req) => {
        const acc = e.account(req);
        requireWrite(acc);
        const p = findProduct(acc, idOf(req.params.id!, 'woocommerce_rest_product_invalid_id'));
        const v = findVariation(p, idOf(req.params.vid!, 'woocommerce_rest_product_variation_invalid_id'));
        applyStock(acc, p, v, (req.body ?? {}) as Record<string, unknown>);
        return variationJson(p, v);
      });
      app.post<P>(`${API}/products/:id/variations/batch`, async (req) => {
        const acc = e.account(req);
        const p = findProduct(acc, idOf(req.params.id!, 'woocommerce_rest_product_invalid_id'));
        return batch(
          acc,
          req.body,
          (item) => {
            const v = findVariation(p, item.id as number);
            applyStock(acc, p, v, item);
            return variationJson(p, v);
          },
          'woocommerce_rest_product_variation_invalid_id',
        );
      });

      // Orders. modified_after / modified_before: exclusive bounds on date_modified (WordPress
      // date_query 'after'/'before' default to non-inclusive; GUESS that WooCommerce keeps that).
      // orderby 'modified' is not among the default choices (date, id, include, title, slug).
      app.get(`${API}/orders`, async (req, reply) => {
        const acc = e.account(req);
        const q = req.query as Record<string, string | undefined>;
        const mAfter = dateParam(q, 'modified_after');
        const mBefore = dateParam(q, 'modified_before');
        const after = dateParam(q, 'after');
        const before = dateParam(q, 'before');
        const statuses = q.status && q.status !== 'any' ? q.status.split(',') : null;
        let rows = acc.orders.filter(
          (o) =>
            (mAfter === null || secondsOf(o.modified) > mAfter) &&
            (mBefore === null || secondsOf(o.modified) < mBefore) &&
            (after === null || secondsOf(o.created) > after) &&
            (before === null || secondsOf(o.created) < before) &&
            (statuses === null || statuses.includes(o.status)),
        );
        rows = sorted(req, rows, (o) => o.created, ['date', 'id', 'include', 'title', 'slug']);
        return paged(req, reply, rows, base()).map(orderJson);
      });
      app.get<P>(`${API}/orders/:id`, async (req) => {
        const acc = e.account(req);
        const id = idOf(req.params.id!, 'woocommerce_rest_shop_order_invalid_id');
        const o = acc.orders.find((x) => x.id === id);
        if (!o) throw new WpError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
        return orderJson(o);
      });
      app.put<P>(`${API}/orders/:id`, async (req) => {
        const acc = e.account(req);
        requireWrite(acc);
        const id = idOf(req.params.id!, 'woocommerce_rest_shop_order_invalid_id');
        const o = acc.orders.find((x) => x.id === id);
        if (!o) throw new WpError(404, 'woocommerce_rest_shop_order_invalid_id', 'Invalid ID.');
        const body = (req.body ?? {}) as { status?: unknown };
        if (typeof body.status === 'string' && body.status !== o.status) setOrderStatus(acc, o, body.status);
        return orderJson(o);
      });

      // Webhooks: their status shows a webhook disabled after failed deliveries; PUT re-enables it.
      app.get(`${API}/webhooks`, async (req, reply) => {
        const acc = e.account(req);
        const q = req.query as Record<string, string | undefined>;
        const rows = acc.webhooks.filter((w) => !q.status || q.status === 'all' || w.status === q.status);
        return paged(
          req,
          reply,
          sorted(req, rows, (w) => w.created, ['date', 'id', 'include', 'title']),
          base(),
        ).map((w) => webhookJson(acc, w));
      });
      app.get<P>(`${API}/webhooks/:id`, async (req) => {
        const acc = e.account(req);
        const w = acc.webhooks.find((x) => x.id === Number(req.params.id));
        if (!w) throw new WpError(404, 'woocommerce_rest_webhook_invalid_id', 'Invalid ID.');
        return webhookJson(acc, w);
      });
      app.post(`${API}/webhooks`, async (req, reply) => {
        const acc = e.account(req);
        requireWrite(acc);
        const b = (req.body ?? {}) as { name?: string; topic?: string; delivery_url?: string; secret?: string; status?: string };
        if (!b.topic || !/^(order|product|customer|coupon)\.(created|updated|deleted|restored)$/.test(b.topic))
          throw invalidParam('topic', 'Webhook topic is required and must be valid.');
        if (!b.delivery_url) throw invalidParam('delivery_url', 'Webhook delivery URL must be a valid URL starting with http:// or https://.');
        const w = newWebhook(acc, { name: b.name, topic: b.topic, deliveryUrl: b.delivery_url, secret: b.secret ?? null, status: b.status });
        return reply.code(201).send(webhookJson(acc, w));
      });
      app.put<P>(`${API}/webhooks/:id`, async (req) => {
        const acc = e.account(req);
        requireWrite(acc);
        const w = acc.webhooks.find((x) => x.id === Number(req.params.id));
        if (!w) throw new WpError(404, 'woocommerce_rest_webhook_invalid_id', 'Invalid ID.');
        const b = (req.body ?? {}) as { status?: string; delivery_url?: string; secret?: string };
        if (b.status !== undefined) {
          if (!['active', 'paused', 'disabled'].includes(b.status)) throw invalidParam('status', 'status is not one of active, paused, and disabled.');
          w.status = b.status;
        }
        if (b.delivery_url !== undefined) w.deliveryUrl = b.delivery_url;
        if (b.secret !== undefined) w.secret = b.secret;
        w.modified = now(acc);
        return webhookJson(acc, w);
      });
    },

    async sale(_emu, acc, input) {
      const s = findStockable(acc, input);
      const stock = stockHolder(s);
      // Backorders are off (backorders: 'no'): the checkout refuses more than the stock
      // ("You cannot add that amount to the cart"). Concurrent checkouts can still oversell on a
      // real store (channel-apis.md pitfalls); the emulator applies sales one at a time.
      if (stock && (stock.stockQuantity ?? 0) < input.qty) return { ok: false, error: 'out_of_stock', qty: stock.stockQuantity };
      const at = now(acc);
      const o: Order = {
        id: acc.nextPostId++,
        status: 'pending',
        created: at,
        modified: at,
        stockReduced: false,
        lineItems: [
          {
            id: acc.nextLineItemId++,
            productId: s.product.id,
            variationId: s.variation?.id ?? 0,
            sku: skuOf(s),
            name: s.variation?.name ?? s.product.name,
            quantity: input.qty,
          },
        ],
      };
      acc.orders.push(o);
      // Paid at checkout: processing, stock taken (a product not managing stock has nothing to take).
      // GUESS: a paid checkout delivers order.created and then order.updated, both showing processing.
      o.status = 'processing';
      o.paid = at;
      moveOrderStock(acc, o, -1);
      hookshot.fire(acc, 'order.created', orderJson(o));
      hookshot.fire(acc, 'order.updated', orderJson(o));
      const holder = stockHolder(s);
      return { order_id: o.id, externalId: refOf(s), sku: skuOf(s), qty: holder ? holder.stockQuantity : null };
    },
    async setLevel(_emu, acc, input) {
      const s = findStockable(acc, input);
      const holder = stockHolder(s);
      if (holder) changeStock(acc, holder, input.qty, refOf(s));
      return { externalId: refOf(s), sku: skuOf(s), qty: holder ? holder.stockQuantity : null };
    },
    state: (acc) =>
      stockables(acc).map((s) => {
        const holder = stockHolder(s);
        return { externalId: refOf(s), sku: skuOf(s), name: s.variation?.name ?? s.product.name, qty: holder ? holder.stockQuantity : null, available: null };
      }),
  };

  class WoocommerceEmulatorImpl extends Emulator<WooAccount> {
    /** Changes an order's status the way wp-admin does (stock given back on cancel), sending order.updated. */
    setOrderStatus(accountId: string, orderId: number, status: string): Record<string, unknown> {
      const acc = this.accounts.get(accountId);
      const o = acc?.orders.find((x) => x.id === orderId);
      if (!acc || !o) throw new Error(`no order ${orderId} in ${accountId}`);
      setOrderStatus(acc, o, status);
      this.touch();
      return orderJson(o);
    }
    override async drain(): Promise<void> {
      await super.drain();
      await hookshot.drain();
    }
    override async close(): Promise<void> {
      hookshot.stop();
      await super.close();
    }
  }
  const emu = new WoocommerceEmulatorImpl(spec, opts);
  // The merchant cancelling or completing an order in wp-admin.
  emu.app.post('/_control/accounts/:id/orders/:orderId/status', async (req, reply) => {
    const { id, orderId } = req.params as { id: string; orderId: string };
    try {
      return emu.setOrderStatus(id, Number(orderId), (req.body as { status: string }).status);
    } catch (err) {
      return reply.code(404).send({ error: (err as Error).message });
    }
  });
  return emu;
}

export type WoocommerceEmulator = Emulator<WooAccount> & { setOrderStatus(accountId: string, orderId: number, status: string): Record<string, unknown> };
