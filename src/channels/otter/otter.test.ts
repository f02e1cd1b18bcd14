// Adapter <-> emulator over real HTTP, and emulator webhooks -> a local receiver -> our handler.
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ChannelError, WebhookParseError, type ChannelAdapter, type IncomingWebhook, type PushRequest } from '../contract.ts';
import { sleep, type WriteRecord } from '../../../emulators/kit/index.ts';
import { createOtterEmulator, type OtterAccountInput, type OtterOrder } from '../../../emulators/otter/index.ts';
import { otterChannel } from './index.ts';
import { openAdapter } from '../registry.ts';
import { otterWebhook } from './webhook.ts';

const WEBHOOK_SECRET = 'whsec-otter-test';
const CREDS = { webhook_secret: WEBHOOK_SECRET };
const emu = createOtterEmulator();
let base = '';
let receiver: FastifyInstance;
let hookUrl = '';
const received: IncomingWebhook[] = [];
let storeSeq = 0;

interface Store {
  id: string;
  credentials: { client_id: string; client_secret: string };
  adapter: ChannelAdapter;
  saved: Array<Record<string, string>>;
}

/** A fresh store (own client, own rate-limit windows) and an adapter connected to it. */
function newStore(
  items: Array<{ sku: string; name: string; qty: number; externalId?: string }>,
  settings: Record<string, unknown> = {},
  extra: Partial<OtterAccountInput> = {},
): Store {
  const id = `store-${++storeSeq}`;
  const credentials = { client_id: `client-${id}`, client_secret: `secret-${id}` };
  emu.addAccount({ id, credentials, webhookUrl: hookUrl, webhookSecret: WEBHOOK_SECRET, items, ...extra } as OtterAccountInput);
  const saved: Array<Record<string, string>> = [];
  const adapter = openAdapter(otterChannel, {
    channelId: `ch_${id}`,
    baseUrl: base,
    credentials: { ...credentials, webhook_secret: WEBHOOK_SECRET },
    settings: { store_id: id, ...settings },
    saveCredentials: async (c) => void saved.push(c),
  });
  return { id, credentials, adapter, saved };
}

const items = (n: number, qty = 5) => Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i + 1}`, name: `Dish ${i + 1}`, qty, externalId: `item-${i + 1}` }));
const push = (externalId: string, qty: number): PushRequest => ({
  listingId: `lst_${externalId}`,
  externalId,
  qty,
  known: { qty: null, version: null },
  idempotencyKey: `${externalId}:${qty}`,
});

async function control(path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await request(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.statusCode, json: await res.body.json() };
}

async function rawToken(clientId: string, secret: string, scope = 'menus.read manager.menus manager.orders'): Promise<string> {
  const res = await request(`${base}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope }).toString(),
  });
  const body = (await res.body.json()) as { access_token: string; expires_in: number; token_type: string; scope: string };
  expect(res.statusCode).toBe(200);
  expect(body.token_type).toBe('bearer');
  return body.access_token;
}

async function expectChannelError(p: Promise<unknown>, kind: ChannelError['kind']): Promise<ChannelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  expect((err as ChannelError).kind).toBe(kind);
  return err as ChannelError;
}

/** Deliveries whose body mentions this order id, once `count` of them have arrived. */
async function deliveriesFor(orderId: string, count: number): Promise<IncomingWebhook[]> {
  for (let i = 0; i < 100; i++) {
    const hits = received.filter((r) => r.rawBody.toString('utf8').includes(orderId));
    if (hits.length >= count) return hits;
    await sleep(20);
  }
  throw new Error(`expected ${count} deliveries for ${orderId}`);
}

const listAll = async (a: ChannelAdapter) => {
  const pages = [];
  for await (const page of a.listListings()) pages.push(page);
  return pages;
};

beforeAll(async () => {
  receiver = Fastify();
  receiver.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  receiver.post('/hook', async (req) => {
    received.push({ headers: req.headers, rawBody: req.body as Buffer, url: hookUrl });
    return { ok: true };
  });
  hookUrl = (await receiver.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1') + '/hook';
  base = await emu.listen();
});

afterAll(async () => {
  await emu.drain();
  await emu.close();
  await receiver.close();
});

describe('otter auth', () => {
  it('testConnection works with good credentials, reuses the token and stores it with the credentials', async () => {
    const { adapter, id, saved } = newStore(items(2));
    const before = emu.stats.calls;
    await expect(adapter.testConnection()).resolves.toEqual({ ok: true, account: `store ${id}` });
    expect(emu.stats.calls - before).toBe(2); // token + menu
    await adapter.testConnection();
    expect(emu.stats.calls - before).toBe(3); // cached token: no second token request
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ client_id: `client-${id}`, access_token: expect.any(String) });
    expect(Date.parse(saved[0]!.access_expires_at!)).toBeGreaterThan(Date.now() + 24 * 3600_000);
    // A process starting from the stored credentials asks for no token.
    const next = openAdapter(otterChannel, { channelId: 'ch_next', baseUrl: base, credentials: saved[0]!, settings: { store_id: id } });
    const mid = emu.stats.calls;
    await next.testConnection();
    expect(emu.stats.calls - mid).toBe(1);
  });

  it('bad client secret or unknown client -> auth', async () => {
    const { credentials, id } = newStore(items(1));
    for (const creds of [
      { ...credentials, client_secret: 'wrong' },
      { client_id: 'nobody', client_secret: 'x' },
    ]) {
      const adapter = openAdapter(otterChannel, { channelId: 'ch_bad', baseUrl: base, credentials: creds, settings: { store_id: id } });
      const err = await expectChannelError(adapter.testConnection(), 'auth');
      expect(err.status).toBe(401);
    }
  });

  it('a token without the scope an endpoint needs is refused 403 -> auth', async () => {
    const { adapter } = newStore(items(1), { scope: 'menus.read' });
    await expect(adapter.testConnection()).resolves.toMatchObject({ ok: true });
    const err = await expectChannelError(adapter.pushLevels([push('item-1', 0)]), 'auth');
    expect(err.status).toBe(403);
  });

  it('a revoked token is replaced once on 401', async () => {
    const { adapter } = newStore(items(1));
    await adapter.testConnection();
    const issued = (await control('/_control/tokens')).json.issued as number;
    await control('/_control/tokens', { revoke: true });
    await expect(adapter.testConnection()).resolves.toMatchObject({ ok: true });
    expect((await control('/_control/tokens')).json.issued).toBe(issued + 1);
  });

  it('tokens expire on the emulator and the adapter fetches a new one before expiry', async () => {
    await control('/_control/tokens', { ttl_sec: 1 });
    try {
      const { adapter, id, credentials } = newStore(items(1));
      const old = await rawToken(credentials.client_id, credentials.client_secret);
      await adapter.testConnection();
      const issued = (await control('/_control/tokens')).json.issued as number;
      await sleep(1100);
      const res = await request(`${base}/v1/menus`, { headers: { authorization: `Bearer ${old}`, 'x-store-id': id } });
      expect(res.statusCode).toBe(401);
      expect(await res.body.json()).toEqual({ message: 'Invalid authorization.' });
      await adapter.testConnection();
      expect((await control('/_control/tokens')).json.issued).toBe(issued + 1);
    } finally {
      await control('/_control/tokens', { ttl_sec: 2_627_999 });
    }
  });
});

describe('otter listings and pushes', () => {
  it('listListings yields the whole menu in several pages with availability and SKUs (skuDetails.skuSlug)', async () => {
    const { adapter, id } = newStore(items(450));
    await emu.spec.setLevel(emu, emu.accounts.get(id)!, { sku: 'SKU-7', qty: 0 });
    const before = emu.stats.calls;
    const pages = await listAll(adapter);
    expect(pages.map((p) => p.length)).toEqual([200, 200, 50]);
    expect(emu.stats.calls - before).toBe(2); // token and one menu document
    const all = pages.flat();
    expect(new Set(all.map((l) => l.externalId)).size).toBe(450);
    expect(all[0]).toEqual({ externalId: 'item-1', externalLocationId: id, sku: 'SKU-1', name: 'Dish 1', qty: null, available: true, version: null });
    expect(all.find((l) => l.sku === 'SKU-7')?.available).toBe(false);
    expect(all.filter((l) => !l.available)).toHaveLength(1);
  });

  it('readListings returns only the asked items', async () => {
    const { adapter } = newStore([...items(2), { sku: 'SKU-X', name: 'Gone', qty: 0, externalId: 'item-3' }]);
    const got = await adapter.readListings([{ externalId: 'item-3' }, { externalId: 'item-1' }]);
    expect(got.map((l) => [l.externalId, l.available]).sort()).toEqual([
      ['item-1', true],
      ['item-3', false],
    ]);
  });

  it('pushLevels suspends sold-out items and unsuspends the rest, and returns ok with the pushed qty', async () => {
    const { adapter, id } = newStore([...items(2), { sku: 'SKU-3', name: 'Dish 3', qty: 0, externalId: 'item-3' }]);
    await adapter.testConnection();
    emu.knobs.recordRequests = true;
    const writes: WriteRecord[] = [];
    const onWrite = (w: WriteRecord) => w.accountId === id && writes.push(w);
    emu.events.on('write', onWrite);
    const res = await adapter.pushLevels([push('item-1', 0), push('item-3', 4), push('item-2', -2)]);
    emu.events.off('write', onWrite);
    emu.knobs.recordRequests = false;
    expect(res).toEqual([
      { listingId: 'lst_item-1', outcome: 'ok', qty: 0, version: null },
      { listingId: 'lst_item-3', outcome: 'ok', qty: 4, version: null },
      { listingId: 'lst_item-2', outcome: 'ok', qty: -2, version: null },
    ]);
    expect(emu.spec.state(emu.accounts.get(id)!).map((s) => [s.externalId, s.available, s.qty])).toEqual([
      ['item-1', false, null],
      ['item-2', false, null],
      ['item-3', true, null],
    ]);
    expect(writes.map((w) => [w.externalId, w.available])).toEqual([
      ['item-1', false],
      ['item-2', false],
      ['item-3', true],
    ]);
    // What went over the wire, as the reference's SuspendItemsRequest / UnsuspendItemsRequest.
    const sent = (await control('/_control/requests')).json.requests.filter((r: { url: string }) => r.url.includes('/availability/'));
    await request(`${base}/_control/requests`, { method: 'DELETE' }).then((r) => r.body.dump());
    expect(sent.map((r: { url: string; body: unknown; status: number }) => [r.url, r.body, r.status])).toEqual([
      [
        '/manager/menu/v1/menus/entities/availability/suspend',
        { entityIds: ['item-1', 'item-2'], note: 'Out of stock (StockClerk)', status: { isIndefinite: true } },
        202,
      ],
      ['/manager/menu/v1/menus/entities/availability/unsuspend', { entityIds: ['item-3'], note: 'Back in stock (StockClerk)' }, 202],
    ]);
    expect(emu.accounts.get(id)!.items.get('item-1')!.saleStatus).toBe('INDEFINITELY_NOT_FOR_SALE');
  });

  it('splits large pushes into calls of 100 entities, and says so in pushCalls', async () => {
    const { adapter, id } = newStore(items(150));
    await adapter.testConnection();
    const before = emu.stats.calls;
    const reqs = Array.from({ length: 150 }, (_, i) => push(`item-${i + 1}`, 0));
    expect(adapter.pushCalls!(reqs)).toBe(4);
    const res = await adapter.pushLevels(reqs);
    expect(emu.stats.calls - before).toBe(2); // all suspends: one per chunk
    expect(res.every((r) => r.outcome === 'ok')).toBe(true);
    expect(emu.spec.state(emu.accounts.get(id)!).every((s) => s.available === false)).toBe(true);
  });

  it('an unknown item fails alone; the rest of the request is applied (the platform 404s the whole call)', async () => {
    const { adapter, id } = newStore(items(2));
    const res = await adapter.pushLevels([push('item-1', 0), push('no-such-item', 0)]);
    expect(res[0]).toEqual({ listingId: 'lst_item-1', outcome: 'ok', qty: 0, version: null });
    expect(res[1]).toMatchObject({ listingId: 'lst_no-such-item', outcome: 'failed', retryable: false });
    expect(emu.spec.state(emu.accounts.get(id)!)[0]?.available).toBe(false);
  });

  it('a wrong store is a permanent whole-call error; a missing store id too', async () => {
    const { adapter } = newStore(items(1), { store_id: 'not-my-store' });
    const err = await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'permanent');
    expect(err.status).toBe(404);
    const { adapter: none } = newStore(items(1), { store_id: undefined });
    await expectChannelError(none.testConnection(), 'permanent');
  });

  it('a malformed suspend is a 400 in the reference ErrorMessage shape', async () => {
    const { id, credentials } = newStore(items(1));
    const token = await rawToken(credentials.client_id, credentials.client_secret);
    const res = await request(`${base}/manager/menu/v1/menus/entities/availability/suspend`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-store-id': id, 'content-type': 'application/json' },
      body: JSON.stringify({ entityIds: ['item-1'] }),
    });
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toEqual({ message: 'note and status.isIndefinite are required', details: [] });
  });

  it('has no compare-and-set: no versions, isNewer only over nothing', () => {
    const { adapter } = newStore(items(1));
    expect(adapter.capabilities).toMatchObject({
      quantityModel: 'availability',
      compareAndSet: false,
      defaultSalesSource: 'orders',
      webhooks: true,
      pollable: true,
      maxPushBatch: 100,
    });
    expect(adapter.capabilities.rateLimit.perSecond * 60).toBeCloseTo(32);
    expect(adapter.isNewer(null, null)).toBe(true);
    expect(adapter.isNewer('x', 'y')).toBe(false);
  });
});

describe('otter faults', () => {
  it('the menu read budget (8 a minute per store) answers 429 + Retry-After, mapped to rate_limited', async () => {
    const { id, credentials, adapter } = newStore(items(1));
    const token = await rawToken(credentials.client_id, credentials.client_secret);
    const statuses: number[] = [];
    let throttled: { headers: Record<string, unknown>; body: unknown } | null = null;
    for (let i = 0; i < 9; i++) {
      const res = await request(`${base}/v1/menus`, { headers: { authorization: `Bearer ${token}`, 'x-store-id': id } });
      statuses.push(res.statusCode);
      const body = await res.body.json();
      if (res.statusCode === 429) throttled ??= { headers: res.headers, body };
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    const retryAfter = Number(throttled?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(50);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(throttled?.body).toEqual({ message: 'Too Many Requests' });
    // Another endpoint of the same store has its own budget; the menu read stays refused.
    expect((await adapter.pushLevels([push('item-1', 0)]))[0]).toMatchObject({ outcome: 'ok' });
    const err = await expectChannelError(adapter.readListings([{ externalId: 'item-1' }]), 'rate_limited');
    expect(err.retryAfterMs).toBe(retryAfter * 1000);
  });

  it('the throttle knob answers 429 -> rate_limited; 5xx -> transient', async () => {
    const { adapter } = newStore(items(1));
    await adapter.testConnection();
    emu.knobs.throttleRate = 1;
    try {
      const err = await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'rate_limited');
      expect(err.retryAfterMs).toBe(1000);
    } finally {
      emu.knobs.throttleRate = 0;
    }
    emu.knobs.errorRate = 1;
    try {
      const err = await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'transient');
      expect(err.status).toBe(500);
    } finally {
      emu.knobs.errorRate = 0;
    }
  });

  it('timeout knob -> transient', async () => {
    const { adapter } = newStore(items(1), { request_timeout_ms: 100 });
    await adapter.testConnection();
    emu.knobs.timeoutRate = 1;
    emu.knobs.timeoutHangMs = 300;
    try {
      const t0 = Date.now();
      await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'transient');
      expect(Date.now() - t0).toBeLessThan(290);
    } finally {
      emu.knobs.timeoutRate = 0;
      emu.knobs.timeoutHangMs = 3000;
    }
  });
});

describe('otter order feed (pollEvents)', () => {
  it('starts at the first poll, pages through the feed, counts each order once and sees cancellations', async () => {
    const { id, adapter } = newStore(items(2), { page_size: 2 });
    const history = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 1 })).json.order as OtterOrder;
    await sleep(5);
    const first = await adapter.pollEvents!(null);
    expect(first.events).toEqual([]);
    await sleep(5);
    const orders: OtterOrder[] = [];
    for (let i = 0; i < 5; i++) orders.push((await control(`/_control/accounts/${id}/sale`, { sku: i % 2 ? 'SKU-2' : 'SKU-1', qty: i + 1 })).json.order);
    emu.knobs.recordRequests = true;
    const second = await adapter.pollEvents!(first.cursor);
    emu.knobs.recordRequests = false;
    const feedCalls = (await control('/_control/requests')).json.requests.filter((r: { url: string }) => r.url.startsWith('/manager/order/v1/orders'));
    await request(`${base}/_control/requests`, { method: 'DELETE' }).then((r) => r.body.dump());
    expect(feedCalls).toHaveLength(3); // 5 orders (and the history one) at 2 a page
    expect(second.events.map((e) => e.externalEventId)).toEqual(orders.map((o) => `order:${o.externalIdentifiers.id}:new`));
    expect(second.events.map((e) => e.externalEventId)).not.toContain(`order:${history.externalIdentifiers.id}:new`);
    expect(second.events[2]).toMatchObject({
      kind: 'order',
      effect: 'sale',
      orderId: orders[2]!.externalIdentifiers.id,
      occurredAt: orders[2]!.orderedAt,
      lines: [{ externalId: 'item-1', qty: 3 }],
      externalLocationId: id,
    });
    // Polled again: nothing new.
    const third = await adapter.pollEvents!(second.cursor);
    expect(third.events).toEqual([]);
    // A cancellation of an order already counted is seen on the next poll (the feed is re-read behind the cursor).
    expect((await control(`/_control/accounts/${id}/cancel`, { orderId: orders[1]!.externalIdentifiers.id })).status).toBe(200);
    const fourth = await adapter.pollEvents!(third.cursor);
    expect(fourth.events).toEqual([
      expect.objectContaining({
        kind: 'order',
        effect: 'cancel',
        externalEventId: `order:${orders[1]!.externalIdentifiers.id}:canceled`,
        lines: [{ externalId: 'item-2', qty: 2 }],
      }),
    ]);
  });
});

describe('otter webhooks', () => {
  it('a sale sends a signed orders.new_order that verifies and parses into one sale; availability is unchanged', async () => {
    const { id, credentials } = newStore(items(3));
    const sale = await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-2', qty: 2 });
    expect(sale.status).toBe(200);
    const order = sale.json.order as OtterOrder;
    const orderId = order.externalIdentifiers.id;
    const [hook] = await deliveriesFor(orderId, 1);
    // Independent of our verifier: base64 HMAC-SHA256 of the raw body in X-HMAC-SHA256.
    expect(hook!.headers['x-hmac-sha256']).toBe(createHmac('sha256', WEBHOOK_SECRET).update(hook!.rawBody).digest('base64'));
    const body = JSON.parse(hook!.rawBody.toString('utf8'));
    expect(body).toMatchObject({ eventType: 'orders.new_order', metadata: { storeId: id, applicationId: credentials.client_id, resourceId: orderId } });
    expect(otterWebhook.verify(hook!, CREDS, new Date())).toEqual({ ok: true });
    expect(otterWebhook.parse(hook!)).toEqual([
      {
        kind: 'order',
        effect: 'sale',
        externalEventId: `order:${orderId}:new`,
        occurredAt: order.orderedAt,
        orderId,
        lines: [{ externalId: 'item-2', qty: 2 }],
        externalLocationId: id,
      },
    ]);
    expect(emu.spec.state(emu.accounts.get(id)!).every((s) => s.available)).toBe(true);
  });

  it('cancel and reject come as orders.update: the sale (deduped) and its cancellation under one key; other statuses move nothing', async () => {
    const { id } = newStore(items(1));
    const a = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 3 })).json.order as OtterOrder;
    const b = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 1 })).json.order as OtterOrder;
    const [aId, bId] = [a.externalIdentifiers.id, b.externalIdentifiers.id];
    expect((await control(`/_control/accounts/${id}/order-status`, { orderId: aId, status: 'CONFIRMED' })).status).toBe(200);
    expect((await control(`/_control/accounts/${id}/cancel`, { orderId: aId })).status).toBe(200);
    expect((await control(`/_control/accounts/${id}/cancel`, { orderId: aId })).status).toBe(409);
    expect((await control(`/_control/accounts/${id}/order-status`, { orderId: bId, status: 'REJECTED' })).status).toBe(200);
    const hooks = [...(await deliveriesFor(aId, 3)), ...(await deliveriesFor(bId, 2))];
    const events = hooks.flatMap((hk) => {
      expect(otterWebhook.verify(hk, CREDS, new Date())).toEqual({ ok: true });
      return otterWebhook.parse(hk);
    });
    const keys = events.map((e) => e.externalEventId);
    // orders.new_order says "sale"; the CONFIRMED update moves nothing; the CANCELED update says sale (deduped) + cancel.
    expect(keys.filter((k) => k === `order:${aId}:new`)).toHaveLength(2);
    expect(events.filter((e) => e.kind === 'ignored')).toEqual([expect.objectContaining({ reason: 'order status CONFIRMED does not move stock' })]);
    expect(events.filter((e) => e.externalEventId === `order:${aId}:canceled`)).toEqual([
      expect.objectContaining({ kind: 'order', effect: 'cancel', orderId: aId, lines: [{ externalId: 'item-1', qty: 3 }] }),
    ]);
    expect(events.filter((e) => e.externalEventId === `order:${bId}:canceled`)).toEqual([
      expect.objectContaining({ kind: 'order', effect: 'cancel', orderId: bId, lines: [{ externalId: 'item-1', qty: 1 }] }),
    ]);
  });

  it('rejects tampered, unsigned and wrongly keyed deliveries; Otter signs no timestamp, so nothing is stale', async () => {
    const { id } = newStore(items(1));
    const order = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 2 })).json.order as OtterOrder;
    const [hook] = await deliveriesFor(order.externalIdentifiers.id, 1);
    const tampered = { ...hook!, rawBody: Buffer.from(hook!.rawBody.toString('utf8').replace('"quantity":2', '"quantity":20')) };
    expect(tampered.rawBody.equals(hook!.rawBody)).toBe(false);
    expect(otterWebhook.verify(tampered, CREDS, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(otterWebhook.verify(hook!, { webhook_secret: 'other' }, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(otterWebhook.verify(hook!, {}, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    const { ['x-hmac-sha256']: _sig, ...unsigned } = hook!.headers;
    expect(otterWebhook.verify({ ...hook!, headers: unsigned }, CREDS, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    // Hex of the same MAC is accepted (the guide's encoding is a GUESS); a SHA-1 MAC in the SHA-256 header is not.
    const hex = createHmac('sha256', WEBHOOK_SECRET).update(hook!.rawBody).digest('hex');
    expect(otterWebhook.verify({ ...hook!, headers: { ...unsigned, 'x-hmac-sha256': hex } }, CREDS, new Date())).toEqual({ ok: true });
    const sha1 = createHmac('sha1', WEBHOOK_SECRET).update(hook!.rawBody).digest('base64');
    expect(otterWebhook.verify({ ...hook!, headers: { ...unsigned, 'x-hmac-sha256': sha1 } }, CREDS, new Date())).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    // A late retry still verifies; dedupe on the order key handles replays.
    expect(otterWebhook.verify(hook!, CREDS, new Date(Date.now() + 3600_000))).toEqual({ ok: true });
  });

  it('legacy HMAC-SHA1 (seed 000) signs as Authorization: MAC <digest> and verifies; tampered or wrong key does not', async () => {
    const { id } = newStore(items(1), {}, { webhook_signing: 'hmac-sha1' });
    const order = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 1 })).json.order as OtterOrder;
    const [hook] = await deliveriesFor(order.externalIdentifiers.id, 1);
    expect(hook!.headers['x-hmac-sha256']).toBeUndefined();
    expect(hook!.headers.authorization).toBe(`MAC ${createHmac('sha1', WEBHOOK_SECRET).update(hook!.rawBody).digest('base64')}`);
    expect(otterWebhook.verify(hook!, CREDS, new Date())).toEqual({ ok: true });
    expect(otterWebhook.verify(hook!, { webhook_secret: 'other' }, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    const tampered = { ...hook!, rawBody: Buffer.from(hook!.rawBody.toString('utf8').replace('"quantity":1', '"quantity":9')) };
    expect(otterWebhook.verify(tampered, CREDS, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(otterWebhook.verify({ ...hook!, headers: { ...hook!.headers, authorization: 'Bearer abc' } }, CREDS, new Date())).toEqual({
      ok: false,
      reason: 'missing_signature',
    });
  });

  it('malformed bodies throw WebhookParseError; other events are ignored under their event id', () => {
    const req = (body: string): IncomingWebhook => ({ headers: {}, rawBody: Buffer.from(body), url: hookUrl });
    const ev = (payload: unknown, type = 'orders.new_order') =>
      JSON.stringify({ eventId: 'e-1', eventTime: '2026-01-01T00:00:00Z', eventType: type, metadata: { storeId: 's', payload } });
    expect(() => otterWebhook.parse(req('{"eventId":'))).toThrow(WebhookParseError);
    expect(() => otterWebhook.parse(req('[1]'))).toThrow(WebhookParseError);
    expect(() => otterWebhook.parse(req('{"eventType":"orders.new_order"}'))).toThrow(WebhookParseError);
    expect(() => otterWebhook.parse(req(ev({ items: [] })))).toThrow(WebhookParseError);
    expect(() => otterWebhook.parse(req(ev({ externalIdentifiers: { id: 'o-1' }, items: [{ id: 'i', quantity: 0 }] })))).toThrow(WebhookParseError);
    expect(() => otterWebhook.parse(req(ev({ externalIdentifiers: { id: 'o-1' }, items: [{ quantity: 1 }] })))).toThrow(WebhookParseError);
    expect(otterWebhook.parse(req(ev({ externalIdentifiers: { id: 'o-1' }, cancellationReason: 'REASON_UNKNOWN' }, 'orders.cancel_order')))).toEqual([
      { kind: 'ignored', externalEventId: 'orders.cancel_order:e-1', occurredAt: '2026-01-01T00:00:00Z', reason: 'event orders.cancel_order is not acted on' },
    ]);
    expect(otterWebhook.parse(req(ev({}, 'menus.menu_publish')))).toMatchObject([{ kind: 'ignored', externalEventId: 'menus.menu_publish:e-1' }]);
  });

  it('duplicateRate=1 delivers the same event twice with the same eventId and key', async () => {
    const { id } = newStore(items(1));
    emu.knobs.duplicateRate = 1;
    try {
      const order = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 1 })).json.order as OtterOrder;
      const hooks = await deliveriesFor(order.externalIdentifiers.id, 2);
      expect(hooks).toHaveLength(2);
      const keys = hooks.map((hk) => {
        expect(otterWebhook.verify(hk, CREDS, new Date())).toEqual({ ok: true });
        return otterWebhook.parse(hk)[0]!.externalEventId;
      });
      expect(keys).toEqual([`order:${order.externalIdentifiers.id}:new`, `order:${order.externalIdentifiers.id}:new`]);
      expect(JSON.parse(hooks[0]!.rawBody.toString()).eventId).toBe(JSON.parse(hooks[1]!.rawBody.toString()).eventId);
    } finally {
      emu.knobs.duplicateRate = 0;
    }
  });

  it('the merchant suspending an item in Otter changes availability, sends no webhook, and blocks orders', async () => {
    const { id, adapter } = newStore(items(2));
    const before = received.length;
    const set = await control(`/_control/accounts/${id}/set`, { sku: 'SKU-2', qty: 0 });
    expect(set.json).toEqual({ id: 'item-2', saleStatus: 'INDEFINITELY_NOT_FOR_SALE' });
    await emu.drain();
    expect(received.length).toBe(before);
    expect((await adapter.readListings([{ externalId: 'item-2' }]))[0]?.available).toBe(false);
    expect((await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-2', qty: 1 })).status).toBe(409);
  });
});

describe('otter emulator state', () => {
  it('answers /state as availability (qty null) and keeps stores, availability, orders and tokens across a restart', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otter-state-'));
    const file = path.join(dir, 'otter.json');
    try {
      let e = createOtterEmulator({ stateFile: file, saveDelayMs: 10 });
      const url = await e.listen();
      e.addAccount({ id: 'store-p', credentials: { client_id: 'c-p', client_secret: 's-p' }, items: items(2) });
      const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
        const res = await request(`${e.url}${p}`, {
          method: method as 'GET',
          headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: res.statusCode, json: (await res.body.json()) as any };
      };
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const tokenRes = await request(`${e.url}/v1/auth/token`, {
        method: 'POST',
        headers: { authorization: 'Basic ' + Buffer.from('c-p:s-p').toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials&scope=menus.read%20manager.orders',
      });
      const { access_token } = (await tokenRes.body.json()) as { access_token: string };
      const order = (await call('POST', '/_control/accounts/store-p/sale', { sku: 'SKU-1', qty: 2 })).json.order as OtterOrder;
      await call('POST', '/_control/accounts/store-p/set', { sku: 'SKU-2', qty: 0 });
      expect((await call('GET', '/_control/accounts/store-p/state')).json).toEqual({
        items: [
          { externalId: 'item-1', sku: 'SKU-1', name: 'Dish 1', qty: null, available: true },
          { externalId: 'item-2', sku: 'SKU-2', name: 'Dish 2', qty: null, available: false },
        ],
      });
      await e.close();
      e = createOtterEmulator({ stateFile: file });
      await e.listen();
      try {
        const bearer = { authorization: `Bearer ${access_token}`, 'x-store-id': 'store-p' };
        const menu = await call('GET', '/v1/menus', undefined, bearer);
        expect(menu.status).toBe(200);
        expect(Object.values(menu.json.items).map((i: any) => [i.skuDetails.skuSlug, i.status.saleStatus])).toEqual([
          ['SKU-1', 'FOR_SALE'],
          ['SKU-2', 'INDEFINITELY_NOT_FOR_SALE'],
        ]);
        const feed = await call('GET', '/manager/order/v1/orders?limit=10', undefined, bearer);
        expect(feed.json.orders.map((o: OtterOrder) => o.externalIdentifiers.id)).toEqual([order.externalIdentifiers.id]);
        // The order placed before the restart can still be cancelled.
        expect((await call('POST', '/_control/accounts/store-p/cancel', { orderId: order.externalIdentifiers.id })).json.order.status).toBe('CANCELED');
        // A token without a scope an endpoint needs is refused there.
        expect((await call('POST', '/manager/menu/v1/menus/entities/availability/unsuspend', { entityIds: ['item-2'] }, bearer)).status).toBe(403);
      } finally {
        await e.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
