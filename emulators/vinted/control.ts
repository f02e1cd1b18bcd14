// The /_control API: what happens on Vinted itself, outside the seller's API calls (a member
// signs up, logs in somewhere, a buyer buys, the seller lists or edits by hand), plus the knobs,
// counters and the request log. Tests and the demo drive the emulator through it; it needs no
// session and is never throttled.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VintedEmulator, VintedKnobs } from './index.ts';
import { itemPath, statusOf, type Item, type Member } from './store.ts';

const SESSION_COOKIE = '_vinted_fr_session';

interface SeedItem {
  title?: unknown;
  price?: unknown;
  currency?: unknown;
  description?: unknown;
  brand?: unknown;
  size?: unknown;
  is_hidden?: unknown;
}

export function controlItem(emu: VintedEmulator, i: Item): Record<string, unknown> {
  return {
    id: i.id,
    title: i.title,
    description: i.description,
    price: i.price,
    currency: i.currency,
    status: statusOf(i),
    is_hidden: i.isHidden,
    is_closed: i.isClosed,
    is_reserved: i.isReserved,
    brand: i.brand,
    size: i.size,
    status_id: i.statusId,
    photo_ids: i.photoIds,
    photo_urls: i.photoIds.flatMap((id) => {
      const p = emu.store.photos.get(id);
      return p ? [`${emu.url}${p.path}`] : [];
    }),
    url: `${emu.url}${itemPath(i)}`,
    upload_session_id: i.uploadSessionId,
    created_at: new Date(i.createdAt).toISOString(),
    updated_at: new Date(i.updatedAt).toISOString(),
  };
}

export function installControl(emu: VintedEmulator): void {
  const { app, store } = emu;
  const fail = (reply: FastifyReply, status: number, error: string) => reply.code(status).send({ error });
  const memberOf = (req: FastifyRequest, reply: FastifyReply): Member | null => {
    const m = store.members.get((req.params as { login: string }).login);
    if (!m) void fail(reply, 404, `no member ${(req.params as { login: string }).login}`);
    return m ?? null;
  };
  const seed = (m: Member, s: SeedItem): Item | string => {
    if (typeof s.title !== 'string' || s.title.trim() === '') return 'title is required';
    const price = Number(s.price);
    if (!(price > 0)) return 'price must be a positive number';
    return store.newItem(m, {
      title: s.title.trim(),
      description: typeof s.description === 'string' ? s.description : '',
      brand: typeof s.brand === 'string' ? s.brand : null,
      size: typeof s.size === 'string' ? s.size : null,
      statusId: null,
      price: Math.round(price * 100) / 100,
      currency: typeof s.currency === 'string' ? s.currency : 'GBP',
      photoIds: [],
      isHidden: s.is_hidden === true,
      uploadSessionId: null,
      tempUuid: null,
    });
  };

  app.get('/_control/knobs', async () => emu.knobs);
  app.post('/_control/knobs', async (req) => {
    emu.knobs = { ...emu.knobs, ...((req.body ?? {}) as Partial<VintedKnobs>) };
    // New limits start from an empty window.
    emu.antibot.clear();
    return emu.knobs;
  });
  app.get('/_control/stats', async () => emu.stats);
  app.get('/_control/requests', async () => ({ requests: emu.requests }));
  app.delete('/_control/requests', async () => {
    emu.requests.length = 0;
    return { ok: true };
  });
  app.post('/_control/reset', async () => {
    store.reset();
    emu.requests.length = 0;
    emu.antibot.clear();
    return { ok: true };
  });

  // A member signs up. An existing login is kept (a restarted demo reopens it) unless `replace`.
  app.post('/_control/accounts', async (req, reply) => {
    const b = (req.body ?? {}) as { login?: unknown; password?: unknown; items?: unknown; replace?: unknown };
    if (typeof b.login !== 'string' || !/^[A-Za-z0-9._@+-]{1,64}$/.test(b.login)) return fail(reply, 400, 'login: 1..64 letters, digits or ._@+-');
    if (typeof b.password !== 'string' || b.password === '') return fail(reply, 400, 'password is required');
    const had = store.members.get(b.login);
    if (had && b.replace !== true) {
      had.password = b.password;
      store.touch();
      return reply.code(200).send({ user_id: had.id, login: had.login, created: false });
    }
    const m = store.addMember(b.login, b.password);
    for (const s of Array.isArray(b.items) ? (b.items as SeedItem[]) : []) {
      const r = seed(m, s);
      if (typeof r === 'string') return fail(reply, 400, `items: ${r}`);
    }
    return reply.code(201).send({ user_id: m.id, login: m.login, created: true });
  });

  // The member logged in somewhere: a live session, without the login form.
  app.post('/_control/sessions', async (req, reply) => {
    const login = ((req.body ?? {}) as { login?: unknown }).login;
    const s = typeof login === 'string' ? emu.session(login) : null;
    if (!s) return fail(reply, 404, `no member ${String(login)}`);
    return { cookie_name: SESSION_COOKIE, cookie_value: s.value, csrf_token: s.csrf, user_id: store.members.get(s.login)!.id };
  });
  app.post('/_control/accounts/:login/logout', async (req, reply) => {
    const m = memberOf(req, reply);
    if (!m) return reply;
    return { closed: store.closeSessions(m.login) };
  });

  app.get('/_control/accounts/:login/state', async (req, reply) => {
    const m = memberOf(req, reply);
    if (!m) return reply;
    return {
      user_id: m.id,
      login: m.login,
      items: m.items.filter((i) => !i.deleted).map((i) => controlItem(emu, i)),
      deleted_item_ids: m.items.filter((i) => i.deleted).map((i) => i.id),
      orders: m.orders.map((o) => ({
        transaction_id: o.transactionId,
        item_id: o.itemId,
        title: o.title,
        price: o.price,
        currency: o.currency,
        status: o.status,
        date: new Date(o.date).toISOString(),
      })),
    };
  });

  // A buyer buys the item: it closes (sold) and a my_orders row appears.
  app.post('/_control/accounts/:login/sale', async (req, reply) => {
    const m = memberOf(req, reply);
    if (!m) return reply;
    const b = (req.body ?? {}) as { item_id?: unknown; status?: unknown };
    const item = store.item(m, Number(b.item_id));
    if (!item) return fail(reply, 404, `no item ${String(b.item_id)}`);
    if (item.isClosed) return fail(reply, 409, `item ${item.id} is already sold`);
    if (item.isHidden) return fail(reply, 409, `item ${item.id} is hidden: no buyer can see it`);
    item.isClosed = true;
    item.isReserved = false;
    item.updatedAt = Date.now();
    // GUESS: the status text of a fresh paid order.
    const o = store.newOrder(m, item, typeof b.status === 'string' ? b.status : 'payment_successful');
    return { transaction_id: o.transactionId, item_id: item.id, price: o.price, currency: o.currency, status: o.status, date: new Date(o.date).toISOString() };
  });

  // The seller lists an item by hand on Vinted (no photo needed here).
  app.post('/_control/accounts/:login/items', async (req, reply) => {
    const m = memberOf(req, reply);
    if (!m) return reply;
    const r = seed(m, (req.body ?? {}) as SeedItem);
    if (typeof r === 'string') return fail(reply, 400, r);
    return reply.code(201).send(controlItem(emu, r));
  });

  // The seller edits on Vinted by hand (drift), or a buyer reserves the item.
  app.post('/_control/accounts/:login/items/:id/edit', async (req, reply) => {
    const m = memberOf(req, reply);
    if (!m) return reply;
    const item = store.item(m, Number((req.params as { id: string }).id));
    if (!item) return fail(reply, 404, 'no such item');
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.title === 'string' && b.title.trim() !== '') item.title = b.title.trim();
    if (typeof b.description === 'string') item.description = b.description;
    if (b.price !== undefined) {
      const p = Number(b.price);
      if (!(p > 0)) return fail(reply, 400, 'price must be a positive number');
      item.price = Math.round(p * 100) / 100;
    }
    if (typeof b.is_hidden === 'boolean') item.isHidden = b.is_hidden;
    if (typeof b.is_reserved === 'boolean') item.isReserved = b.is_reserved;
    item.updatedAt = Date.now();
    store.touch();
    return controlItem(emu, item);
  });
}
