// An Otter (tryotter) store as the Public API shows it to a "manager" application:
// OAuth2 client-credentials tokens (POST /v1/auth/token, scopes per endpoint), the store's menu
// (GET /v1/menus, one document, items with a sale status and SKU details), item availability
// through suspend / unsuspend (POST /manager/menu/v1/menus/entities/availability/{suspend,unsuspend}),
// the order feed (GET /manager/order/v1/orders, opaque page token, minDateTime/maxDateTime), and
// signed order webhooks (notify.ts). Otter has no stock counts: a sale never changes availability.
// Every store call names the store in the X-Store-Id header.
// Facts: Otter Public API reference (developer-guides.tryotter.com/api-reference) as mirrored in
// api-evangelist/otter openapi/_original/otter-public-api-openapi.yml; channel-apis.md section 6.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type EmulatorOptions, type EmulatorSpec, type ItemState } from '../kit/index.ts';
import { sendOrderEvent } from './notify.ts';
import { createStore, loadStore, saveStore, type OtterMenuItem, type OtterOrder, type OtterStore } from './store.ts';

export type { OtterAccountInput, OtterMenuItem, OtterOrder, OtterStore, SaleStatus, WebhookSigning } from './store.ts';
export { otterSignature } from './notify.ts';

export interface OtterEmulatorOptions extends EmulatorOptions {
  /** Token lifetime. The reference's example answers expires_in 2627999 (about 30 days); tests shorten it (POST /_control/tokens). */
  tokenTtlSec?: number;
}

/**
 * Documented per-endpoint budgets ("RATE LIMIT: n per minute" on each operation), kept per
 * (application, store, endpoint) as the rate-limiting guide describes (channel-apis.md section 6).
 */
const ENDPOINT_LIMITS: Record<string, number> = {
  'GET /v1/menus': 8,
  'POST /manager/menu/v1/menus/entities/availability/suspend': 16,
  'POST /manager/menu/v1/menus/entities/availability/unsuspend': 16,
  // GUESS: the order feed states no limit; the other manager order endpoints allow 32 per minute.
  'GET /manager/order/v1/orders': 32,
};

/** Scopes each operation requires (the reference's `security` per operation). */
const SCOPES: Record<string, string> = {
  'GET /v1/menus': 'menus.read',
  'POST /manager/menu/v1/menus/entities/availability/suspend': 'manager.menus',
  'POST /manager/menu/v1/menus/entities/availability/unsuspend': 'manager.menus',
  'GET /manager/order/v1/orders': 'manager.orders',
};

/** The order feed filters at most this far back ("Limited to the past 20 days"). */
const FEED_MAX_AGE_MS = 20 * 24 * 3600_000;
const UNIT_PRICE = 5.5; // GUESS: prices are irrelevant to stock; a flat price keeps orders realistic.

type Token = { clientId: string; scopes: string[]; expiresAt: number };

export function createOtterEmulator(opts: OtterEmulatorOptions = {}): Emulator<OtterStore> {
  const cfg = { tokenTtlSec: opts.tokenTtlSec ?? 2_627_999, issued: 0 };
  const tokens = new Map<string, Token>();
  /** Calls per (client, store, endpoint) in the last minute. */
  const windows = new Map<string, number[]>();
  const fail = (statusCode: number, message: string): Error => Object.assign(new Error(message), { statusCode });
  const byClient = (accounts: Map<string, OtterStore>, clientId: string) => [...accounts.values()].filter((a) => a.credentials.client_id === clientId);
  const tokenOf = (req: FastifyRequest): Token | null => {
    const auth = header(req, 'authorization') ?? '';
    return auth.startsWith('Bearer ') ? (tokens.get(auth.slice(7)) ?? null) : null;
  };
  const routeKey = (req: FastifyRequest) => `${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`;

  const findItem = (acc: OtterStore, input: { externalId?: string; sku?: string }): OtterMenuItem => {
    const item = input.externalId ? acc.items.get(input.externalId) : [...acc.items.values()].find((i) => i.skuSlug === input.sku);
    if (!item) throw fail(404, `no menu item ${input.externalId ?? input.sku}`);
    return item;
  };

  /** Every store call names its store: a store this application is not connected to is not found. */
  const checkStore = (req: FastifyRequest, acc: OtterStore): void => {
    const store = header(req, 'x-store-id');
    if (!store) throw fail(400, 'X-Store-Id header is required');
    if (store !== acc.id) throw fail(404, `store ${store} not found`);
  };

  const menus = (acc: OtterStore) => {
    const items = Object.fromEntries(
      [...acc.items.values()].map((i) => [
        i.id,
        {
          id: i.id,
          name: i.name,
          description: '',
          photoIds: [],
          price: { currencyCode: 'GBP', amount: UNIT_PRICE },
          status: { saleStatus: i.saleStatus, ...(i.suspendedUntil ? { suspendedUntil: i.suspendedUntil } : {}) },
          modifierGroupIds: [],
          skuDetails: { skuSlug: i.skuSlug, skuId: i.skuId },
        },
      ]),
    );
    const categoryId = `cat-${acc.id}`;
    const menuId = `menu-${acc.id}`;
    return {
      photos: {},
      categories: { [categoryId]: { id: categoryId, name: 'Everything', itemIds: Object.keys(items) } },
      modifierGroups: {},
      menus: { [menuId]: { id: menuId, name: 'Menu', categoryIds: [categoryId], fulfillmentModes: ['DELIVERY'] } },
      items,
    };
  };

  const entityIds = (body: unknown, suspend: boolean): string[] => {
    const b = (body ?? {}) as { entityIds?: unknown; note?: unknown; status?: { isIndefinite?: unknown } };
    if (!Array.isArray(b.entityIds) || !b.entityIds.every((x) => typeof x === 'string')) throw fail(400, 'entityIds must be an array of strings');
    // SuspendItemsRequest requires entityIds, note and status {isIndefinite}; UnsuspendItemsRequest requires none.
    if (suspend && (typeof b.note !== 'string' || typeof b.status?.isIndefinite !== 'boolean')) throw fail(400, 'note and status.isIndefinite are required');
    return b.entityIds as string[];
  };

  const job = () => ({ jobReference: { id: randomUUID(), status: 'PENDING' }, jobType: 'SUSPEND' });

  const setOrderStatus = (emu: Emulator<OtterStore>, acc: OtterStore, orderId: string, status: OtterOrder['status']) => {
    const order = acc.orders.find((o) => o.externalIdentifiers.id === orderId);
    if (!order) throw fail(404, `no order ${orderId}`);
    if (order.status === 'CANCELED' || order.status === 'REJECTED') throw fail(409, `order ${orderId} is ${order.status}`);
    order.status = status;
    // Manager applications hear of status changes through the Order Update webhook (orders.update, full Order).
    sendOrderEvent(emu, acc, 'orders.update', order);
    return { order };
  };

  const spec: EmulatorSpec<OtterStore> = {
    platform: 'otter',
    // "20 authenticated requests per second per IP" (rate-limiting guide, channel-apis.md section 6);
    // the per-endpoint budgets are kept in `windows` below.
    rateLimit: { perSecond: 20, burst: 20 },
    createAccount: createStore,
    saveAccount: saveStore,
    loadAccount: loadStore,
    saveShared: () => ({ tokens: [...tokens].filter(([, t]) => t.expiresAt > Date.now()) }),
    loadShared(saved) {
      for (const [tok, t] of (saved as { tokens?: Array<[string, Token]> }).tokens ?? []) tokens.set(tok, t);
    },
    authenticate(req, accounts) {
      const path = req.url.split('?')[0] ?? '';
      if (path === '/v1/auth/token') {
        // Credentials may come in the form body, which is not parsed yet here: the route checks
        // them. Any store passes this gate (the token endpoint has no store).
        return accounts.values().next().value ?? null;
      }
      const auth = header(req, 'authorization') ?? '';
      const tok = tokenOf(req);
      if (!tok) return null;
      if (tok.expiresAt <= Date.now()) {
        tokens.delete(auth.slice(7));
        return null;
      }
      const mine = byClient(accounts, tok.clientId);
      const store = header(req, 'x-store-id');
      return mine.find((a) => a.id === store) ?? mine[0] ?? null;
    },
    unauthorized(reply: FastifyReply) {
      return reply.code(401).send({ message: 'Invalid authorization.' });
    },
    throttled(reply, retryAfterSec) {
      // GUESS: the reference documents no 429 body or Retry-After; the guide says 429 when exceeded.
      return reply.code(429).header('retry-after', String(retryAfterSec)).send({ message: 'Too Many Requests' });
    },
    serverError(reply) {
      return reply.code(500).send({ message: 'Internal Server Error' });
    },
    routes(app, emu) {
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      });
      // Errors in the reference's ErrorMessage shape {message, details}.
      app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
        const code = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
        return reply.code(code).send({ message: err.message, details: [] });
      });
      // Scopes, then the documented per-minute budget of the endpoint (after the kit's auth and faults).
      app.addHook('preHandler', async (req, reply) => {
        const key = routeKey(req);
        if (req.url.startsWith('/_control') || key === 'POST /v1/auth/token') return;
        const tok = tokenOf(req);
        const scope = SCOPES[key];
        if (scope && tok && !tok.scopes.includes(scope))
          return reply.code(403).send({ message: `Authorization not valid for the requested resource: needs ${scope}` });
        const limit = ENDPOINT_LIMITS[key];
        if (!limit || !emu.knobs.enforceRateLimit) return;
        const acc = emu.account(req);
        const wkey = `${tok?.clientId}|${acc.id}|${key}`;
        const now = Date.now();
        const recent = (windows.get(wkey) ?? []).filter((t) => t > now - 60_000);
        if (recent.length >= limit) {
          windows.set(wkey, recent);
          emu.stats.throttled++;
          return spec.throttled(reply, Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000)));
        }
        recent.push(now);
        windows.set(wkey, recent);
      });

      app.post('/v1/auth/token', async (req, reply) => {
        const body = (req.body ?? {}) as Record<string, string>;
        let clientId = body.client_id;
        let secret = body.client_secret;
        const auth = header(req, 'authorization') ?? '';
        if (auth.startsWith('Basic ')) {
          const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon > 0) [clientId, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
        }
        if (body.grant_type !== 'client_credentials') return reply.code(400).send({ message: 'grant_type must be client_credentials', details: [] });
        if (!body.scope) return reply.code(400).send({ message: 'scope is required', details: [] });
        const ok = clientId && [...emu.accounts.values()].some((a) => a.credentials.client_id === clientId && a.credentials.client_secret === secret);
        if (!ok) return reply.code(401).send({ message: 'Invalid authorization.', details: [] });
        const token = randomBytes(32).toString('base64url');
        const scopes = body.scope.split(' ').filter(Boolean);
        tokens.set(token, { clientId: clientId!, scopes, expiresAt: Date.now() + cfg.tokenTtlSec * 1000 });
        cfg.issued++;
        return { access_token: token, expires_in: cfg.tokenTtlSec, scope: scopes.join(' '), token_type: 'bearer' };
      });

      app.get('/v1/ping', async () => ({ message: 'pong' }));

      // The whole menu in one document (no paging in the reference).
      app.get('/v1/menus', async (req) => {
        const acc = emu.account(req);
        checkStore(req, acc);
        return menus(acc);
      });

      // GUESS: suspend / unsuspend answer 202 with a job and apply at once here (Otter processes
      // them asynchronously and publishes to each marketplace); one unknown entity 404s the whole request.
      const availability = (suspend: boolean) => async (req: FastifyRequest, reply: FastifyReply) => {
        const acc = emu.account(req);
        checkStore(req, acc);
        const ids = entityIds(req.body, suspend);
        const unknown = ids.find((id) => !acc.items.has(id));
        if (unknown) return reply.code(404).send({ message: `entity ${unknown} not found`, details: [] });
        const status = (req.body as { status?: { isIndefinite?: boolean; suspendedUntil?: string | null } }).status;
        for (const id of ids) {
          const item = acc.items.get(id)!;
          item.saleStatus = !suspend ? 'FOR_SALE' : status?.isIndefinite ? 'INDEFINITELY_NOT_FOR_SALE' : 'TEMPORARILY_NOT_FOR_SALE';
          item.suspendedUntil = suspend && !status?.isIndefinite ? (status?.suspendedUntil ?? null) : null;
          emu.recordWrite(acc.id, id, null, !suspend);
        }
        return reply.code(202).send(job());
      };
      app.post('/manager/menu/v1/menus/entities/availability/suspend', availability(true));
      app.post('/manager/menu/v1/menus/entities/availability/unsuspend', availability(false));

      // The order feed: `limit` is required, `token` is the opaque page token, min/maxDateTime filter orderedAt.
      app.get('/manager/order/v1/orders', async (req) => {
        const acc = emu.account(req);
        checkStore(req, acc);
        const q = req.query as { limit?: string; token?: string; minDateTime?: string; maxDateTime?: string };
        const limit = Number(q.limit);
        if (!q.limit || !Number.isInteger(limit) || limit < 1) throw fail(400, 'limit is required');
        const min = q.minDateTime ? Date.parse(q.minDateTime) : Date.now() - FEED_MAX_AGE_MS;
        const max = q.maxDateTime ? Date.parse(q.maxDateTime) : Infinity;
        if (Number.isNaN(min) || Number.isNaN(max)) throw fail(400, 'minDateTime and maxDateTime must be ISO 8601 date-times');
        if (min < Date.now() - FEED_MAX_AGE_MS - 60_000) throw fail(400, 'minDateTime is limited to the past 20 days');
        // GUESS: the token is opaque; here it is the offset into the filtered feed.
        const offset = q.token ? Number(Buffer.from(q.token, 'base64url').toString('utf8')) : 0;
        if (!Number.isInteger(offset) || offset < 0) throw fail(400, 'bad token');
        const hits = acc.orders.filter((o) => {
          const t = Date.parse(o.orderedAt);
          return t >= min && t <= max;
        });
        const page = hits.slice(offset, offset + Math.min(limit, 100));
        const next = offset + page.length;
        return { orders: page, ...(next < hits.length ? { offsetToken: Buffer.from(String(next)).toString('base64url') } : {}) };
      });

      // Control helpers beyond the kit's: order cancellation, other status changes, the token knob.
      app.post('/_control/accounts/:id/cancel', async (req) => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw fail(404, 'no such account');
        const r = setOrderStatus(emu, acc, String((req.body as { orderId?: string } | null)?.orderId), 'CANCELED');
        emu.touch();
        return r;
      });
      app.post('/_control/accounts/:id/order-status', async (req) => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw fail(404, 'no such account');
        const b = (req.body ?? {}) as { orderId?: string; status?: OtterOrder['status'] };
        if (!b.status || !['CONFIRMED', 'PREPARED', 'PICKED_UP', 'FULFILLED', 'CANCELED', 'REJECTED'].includes(b.status)) throw fail(400, 'bad status');
        const r = setOrderStatus(emu, acc, String(b.orderId), b.status);
        emu.touch();
        return r;
      });
      app.post('/_control/tokens', async (req) => {
        const b = (req.body ?? {}) as { ttl_sec?: number; revoke?: boolean };
        if (typeof b.ttl_sec === 'number' && b.ttl_sec > 0) cfg.tokenTtlSec = b.ttl_sec;
        if (b.revoke) tokens.clear();
        return { ttl_sec: cfg.tokenTtlSec, issued: cfg.issued };
      });
      app.get('/_control/tokens', async () => ({ ttl_sec: cfg.tokenTtlSec, issued: cfg.issued }));
    },
    async sale(emu, acc, input) {
      const item = findItem(acc, input);
      // Customers cannot order what the store shows as not for sale.
      if (item.saleStatus !== 'FOR_SALE') throw fail(409, `item ${item.id} is ${item.saleStatus}`);
      const qty = Math.max(1, Math.floor(input.qty));
      const id = randomUUID();
      const order: OtterOrder = {
        externalIdentifiers: { id, friendlyId: id.slice(0, 5).toUpperCase(), source: acc.source, sourceType: 'ORDERING_MARKETPLACE' },
        currencyCode: 'GBP',
        status: 'NEW_ORDER',
        // GUESS: an order line's `id` is the menu item's id (the reference: "The unique ID of the item").
        items: [{ quantity: qty, id: item.id, skuId: item.skuId, name: item.name, price: UNIT_PRICE * qty, modifiers: [] }],
        orderedAt: new Date().toISOString(),
        customerNote: null,
      };
      acc.orders.push(order);
      sendOrderEvent(emu, acc, 'orders.new_order', order);
      return { order };
    },
    // The merchant suspends / unsuspends an item in Otter's own app: state changes, no webhook to us.
    async setLevel(_emu, acc, input) {
      const item = findItem(acc, input);
      item.saleStatus = input.qty > 0 ? 'FOR_SALE' : 'INDEFINITELY_NOT_FOR_SALE';
      item.suspendedUntil = null;
      return { id: item.id, saleStatus: item.saleStatus };
    },
    // Availability only: qty is null, as for Deliveroo.
    state(acc): ItemState[] {
      return [...acc.items.values()].map((i) => ({ externalId: i.id, sku: i.skuSlug, name: i.name, qty: null, available: i.saleStatus === 'FOR_SALE' }));
    },
  };
  return new Emulator(spec, opts);
}
