// A Deliveroo site as the Partner Platform shows it: OAuth2 client-credentials tokens (300 s),
// a menu of items with PLUs, an availability status per item (Menu API v2), orders placed by
// customers and the signed Order Events webhook (notify.ts). Deliveroo has no stock counts: a
// sale never changes availability; only the merchant (tablet) or the API does.
// Facts: /work/shared/channel-apis.md section 6.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type EmulatorOptions, type EmulatorSpec, type ItemState } from '../kit/index.ts';
import { sendOrderEvent } from './notify.ts';
import { createSite, loadSite, saveSite, STATUSES, type DeliverooAccount, type DeliverooMenuItem, type DeliverooOrder, type ItemStatus } from './site.ts';

export type { DeliverooAccount, DeliverooAccountInput, DeliverooMenuItem, DeliverooOrder, ItemStatus } from './site.ts';

export interface DeliverooEmulatorOptions extends EmulatorOptions {
  /** Token lifetime; the platform's is 300 s. Tests shorten it (also POST /_control/tokens {ttl_sec}). */
  tokenTtlSec?: number;
}

const UNIT_PRICE = 500; // GUESS: prices are irrelevant to stock; a flat £5.00 keeps orders realistic.

type Token = { clientId: string; expiresAt: number };

export function createDeliverooEmulator(opts: DeliverooEmulatorOptions = {}): Emulator<DeliverooAccount> {
  const cfg = { tokenTtlSec: opts.tokenTtlSec ?? 300, issued: 0 };
  const tokens = new Map<string, Token>();

  const byClient = (accounts: Map<string, DeliverooAccount>, clientId: string): DeliverooAccount[] =>
    [...accounts.values()].filter((a) => a.credentials.client_id === clientId);

  const fail = (statusCode: number, message: string): Error => Object.assign(new Error(message), { statusCode });

  const findItem = (acc: DeliverooAccount, input: { externalId?: string; sku?: string }): DeliverooMenuItem => {
    const item = input.externalId ? acc.items.get(input.externalId) : [...acc.items.values()].find((i) => i.plu === input.sku);
    if (!item) throw fail(404, `no menu item ${input.externalId ?? input.sku}`);
    return item;
  };

  const setOrderStatus = (emu: Emulator<DeliverooAccount>, acc: DeliverooAccount, orderId: string, status: DeliverooOrder['status']) => {
    const order = acc.orders.get(orderId);
    if (!order) throw fail(404, `no order ${orderId}`);
    if (order.status === 'canceled' || order.status === 'rejected') throw fail(409, `order ${orderId} is ${order.status}`);
    order.status = status;
    order.status_log.push({ at: new Date().toISOString(), status });
    sendOrderEvent(emu, acc, 'order.status_update', order);
    return { order };
  };

  const unavailabilities = (acc: DeliverooAccount) =>
    [...acc.items.values()].filter((i) => i.status !== 'available').map((i) => ({ item_id: i.id, status: i.status }));

  /** Path ids must name this account's brand / site / menu; anything else is a 404. */
  const checkPath = (acc: DeliverooAccount, p: { brand_id?: string; site_id?: string; menu_id?: string }): void => {
    if (p.brand_id !== acc.brandId) throw fail(404, `brand ${p.brand_id} not found`);
    if (p.site_id !== undefined && p.site_id !== acc.id) throw fail(404, `site ${p.site_id} not found`);
    if (p.menu_id !== undefined && p.menu_id !== acc.menuId) throw fail(404, `menu ${p.menu_id} not found`);
  };

  const parseUpdates = (body: unknown): Array<{ item_id: string; status: ItemStatus }> => {
    const list = (body as { item_unavailabilities?: unknown } | null)?.item_unavailabilities;
    if (!Array.isArray(list)) throw fail(400, 'item_unavailabilities must be an array');
    return list.map((u: { item_id?: unknown; status?: unknown }) => {
      if (typeof u?.item_id !== 'string' || typeof u.status !== 'string' || !STATUSES.has(u.status)) {
        throw fail(400, 'each entry needs item_id and status available|unavailable|hidden');
      }
      return { item_id: u.item_id, status: u.status as ItemStatus };
    });
  };

  const spec: EmulatorSpec<DeliverooAccount> = {
    platform: 'deliveroo',
    // Documented 1 request / 100 ms / site for partial availability updates.
    rateLimit: { perSecond: 10, burst: 10 },
    createAccount: createSite,
    saveAccount: saveSite,
    loadAccount: loadSite,
    // Issued tokens outlive a restart of the platform, as they would; expired ones are dropped.
    saveShared: () => ({ tokens: [...tokens].filter(([, t]) => t.expiresAt > Date.now()) }),
    loadShared(saved) {
      for (const [tok, t] of (saved as { tokens?: Array<[string, Token]> }).tokens ?? []) tokens.set(tok, t);
    },

    authenticate(req: FastifyRequest, accounts) {
      const path = req.url.split('?')[0] ?? '';
      const auth = header(req, 'authorization') ?? '';
      if (path === '/oauth2/token') {
        if (!auth.startsWith('Basic ')) return null;
        const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
        return byClient(accounts, id).find((a) => colon > 0 && a.credentials.client_secret === secret) ?? null;
      }
      if (!auth.startsWith('Bearer ')) return null;
      const tok = tokens.get(auth.slice(7));
      if (!tok) return null;
      if (tok.expiresAt <= Date.now()) {
        tokens.delete(auth.slice(7));
        return null;
      }
      // One client may reach several sites: pick the site (or menu) the path names so its own bucket applies.
      const mine = byClient(accounts, tok.clientId);
      const site = /\/sites\/([^/]+)\//.exec(path)?.[1];
      const menu = /\/menus\/([^/]+)/.exec(path)?.[1];
      return (
        mine.find((a) => site !== undefined && a.id === decodeURIComponent(site)) ??
        mine.find((a) => menu !== undefined && a.menuId === decodeURIComponent(menu)) ??
        mine[0] ??
        null
      );
    },

    unauthorized(reply: FastifyReply) {
      // GUESS: error bodies are not documented; OAuth2's invalid_client on the token host, a message elsewhere.
      const onToken = reply.request.url.startsWith('/oauth2/token');
      return reply.code(401).send(onToken ? { error: 'invalid_client' } : { message: 'Unauthorized' });
    },
    throttled(reply, retryAfterSec) {
      // GUESS: the docs say 429 + back off exponentially; they name no Retry-After header. We send one.
      return reply.code(429).header('retry-after', String(retryAfterSec)).send({ message: 'Too Many Requests' });
    },
    serverError(reply) {
      return reply.code(500).send({ message: 'Internal Server Error' });
    },

    routes(app, emu) {
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      });

      app.post('/oauth2/token', async (req, reply) => {
        const acc = emu.account(req);
        if ((req.body as Record<string, string> | null)?.grant_type !== 'client_credentials') {
          return reply.code(400).send({ error: 'unsupported_grant_type' });
        }
        const token = randomBytes(24).toString('hex');
        tokens.set(token, { clientId: acc.credentials.client_id ?? '', expiresAt: Date.now() + cfg.tokenTtlSec * 1000 });
        cfg.issued++;
        return { access_token: token, expires_in: cfg.tokenTtlSec, token_type: 'Bearer' };
      });

      // GUESS: menu read shape. The Menu API's upload body is {name, menu: {items: [...]}, site_ids};
      // we assume GET returns the same, items with {id, name: {en}, plu, price_info}. No paging.
      app.get('/menu/v1/brands/:brand_id/menus/:menu_id', async (req) => {
        const acc = emu.account(req);
        checkPath(acc, req.params as { brand_id: string; menu_id: string });
        const items = [...acc.items.values()].map((i) => ({ id: i.id, name: { en: i.name }, plu: i.plu, price_info: { price: UNIT_PRICE } }));
        return { id: acc.menuId, name: 'Menu', menu: { categories: [], items, modifiers: [], mealtimes: [] }, site_ids: [acc.id] };
      });

      const UNAV = '/menu/v2/brands/:brand_id/sites/:site_id/menu/item_unavailabilities';
      // GUESS: the GET answer has the same shape as the PUT/POST body; only non-available items are listed.
      app.get(UNAV, async (req) => {
        const acc = emu.account(req);
        checkPath(acc, req.params as { brand_id: string; site_id: string });
        return { item_unavailabilities: unavailabilities(acc) };
      });

      // Partial update: only the listed items change; one unknown item fails the whole request.
      app.post(UNAV, async (req, reply) => {
        const acc = emu.account(req);
        checkPath(acc, req.params as { brand_id: string; site_id: string });
        const updates = parseUpdates(req.body);
        const unknown = updates.find((u) => !acc.items.has(u.item_id));
        if (unknown) return reply.code(404).send({ message: `item ${unknown.item_id} not found` });
        for (const u of updates) {
          const item = acc.items.get(u.item_id)!;
          item.status = u.status;
          emu.recordWrite(acc.id, item.id, null, u.status === 'available');
        }
        // GUESS: success body undocumented; we answer 200 with the resulting unavailabilities.
        return { item_unavailabilities: unavailabilities(acc) };
      });

      // Replace-all: items not listed become available; unknown ids are ignored (documented for v1).
      app.put(UNAV, async (req) => {
        const acc = emu.account(req);
        checkPath(acc, req.params as { brand_id: string; site_id: string });
        const wanted = new Map(parseUpdates(req.body).map((u) => [u.item_id, u.status]));
        for (const item of acc.items.values()) {
          item.status = wanted.get(item.id) ?? 'available';
          emu.recordWrite(acc.id, item.id, null, item.status === 'available');
        }
        return { item_unavailabilities: unavailabilities(acc) };
      });

      // Control helpers beyond the kit's: order status changes (cancel) and the token knob.
      app.post('/_control/accounts/:id/cancel', async (req) => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw fail(404, 'no such account');
        return setOrderStatus(emu, acc, String((req.body as { orderId?: string } | null)?.orderId), 'canceled');
      });
      app.post('/_control/accounts/:id/order-status', async (req) => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw fail(404, 'no such account');
        const b = (req.body ?? {}) as { orderId?: string; status?: DeliverooOrder['status'] };
        if (!b.status || !['accepted', 'rejected', 'confirmed', 'canceled'].includes(b.status)) throw fail(400, 'bad status');
        return setOrderStatus(emu, acc, String(b.orderId), b.status);
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
      // Customers cannot order what the site shows as sold out or hidden.
      if (item.status !== 'available') throw fail(409, `item ${item.id} is ${item.status}`);
      const qty = Math.max(1, Math.floor(input.qty));
      const now = new Date().toISOString();
      const uuid = randomUUID();
      const price = { fractional: UNIT_PRICE, currency_code: 'GBP' };
      const order: DeliverooOrder = {
        id: `gb:${uuid}`,
        order_number: String(++acc.orderSeq),
        location_id: acc.id,
        display_id: uuid.slice(0, 4).toUpperCase(),
        status: 'placed',
        status_log: [{ at: now, status: 'placed' }],
        fulfillment_type: 'deliveroo',
        asap: true,
        total_price: { fractional: UNIT_PRICE * qty, currency_code: 'GBP' },
        items: [
          {
            pos_item_id: item.plu,
            quantity: qty,
            name: item.name,
            operational_name: item.name,
            unit_price: price,
            menu_unit_price: price,
            total_price: { fractional: UNIT_PRICE * qty, currency_code: 'GBP' },
            discount_amount: { fractional: 0, currency_code: 'GBP' },
            modifiers: [],
          },
        ],
      };
      acc.orders.set(order.id, order);
      sendOrderEvent(emu, acc, 'order.new', order);
      return { order };
    },

    // The merchant taps an item sold out / back on the tablet: state changes, no webhook is sent.
    async setLevel(_emu, acc, input) {
      const item = findItem(acc, input);
      item.status = input.qty > 0 ? 'available' : 'unavailable';
      return { item_id: item.id, status: item.status };
    },

    state(acc): ItemState[] {
      return [...acc.items.values()].map((i) => ({ externalId: i.id, sku: i.plu, name: i.name, qty: null, available: i.status === 'available' }));
    },
  };

  return new Emulator(spec, opts);
}
