// Adapter <-> emulator over real HTTP, and emulator webhooks -> a local receiver -> our handler.
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { request } from 'undici';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { ChannelError, WebhookParseError, type IncomingWebhook, type PushRequest } from '../contract.ts';
import { sleep, type WriteRecord } from '../../../emulators/kit/index.ts';
import { createDeliverooEmulator, type DeliverooOrder } from '../../../emulators/deliveroo/index.ts';
import { deliverooChannel } from './index.ts';
import { openAdapter } from '../registry.ts';
import { deliverooWebhook } from './webhook.ts';

const WEBHOOK_SECRET = 'whsec-deliveroo-test';
const CREDS = { webhook_secret: WEBHOOK_SECRET };
const emu = createDeliverooEmulator();
let base = '';
let receiver: FastifyInstance;
let hookUrl = '';
const received: IncomingWebhook[] = [];
let siteSeq = 0;

/** A fresh site (own client, own rate-limit bucket) and an adapter connected to it. */
function newSite(items: Array<{ sku: string; name: string; qty: number }>, settings: Record<string, unknown> = {}) {
  const id = `site-${++siteSeq}`;
  const credentials = { client_id: `client-${id}`, client_secret: `secret-${id}` };
  emu.addAccount({ id, credentials, webhookUrl: hookUrl, webhookSecret: WEBHOOK_SECRET, items, brand_id: 'brand-a', menu_id: `menu-${id}` } as Parameters<
    typeof emu.addAccount
  >[0]);
  const adapter = openAdapter(deliverooChannel, {
    channelId: `ch_${id}`,
    baseUrl: base,
    credentials: { ...credentials, webhook_secret: WEBHOOK_SECRET },
    settings: { brand_id: 'brand-a', site_id: id, menu_id: `menu-${id}`, ...settings },
  });
  return { id, credentials, adapter };
}

const items = (n: number, qty = 5) => Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i + 1}`, name: `Dish ${i + 1}`, qty }));
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

async function rawToken(clientId: string, secret: string): Promise<string> {
  const res = await request(`${base}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64'), 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
  });
  const body = (await res.body.json()) as { access_token: string; expires_in: number; token_type: string };
  expect(res.statusCode).toBe(200);
  expect(body.token_type).toBe('Bearer');
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

describe('deliveroo auth', () => {
  it('testConnection works with good credentials and reuses the token', async () => {
    const { adapter, id } = newSite(items(2));
    const before = emu.stats.calls;
    await expect(adapter.testConnection()).resolves.toEqual({ ok: true, account: `brand brand-a / site ${id}` });
    expect(emu.stats.calls - before).toBe(2); // token + read
    await adapter.testConnection();
    expect(emu.stats.calls - before).toBe(3); // cached token: no second token request
  });

  it('bad client secret or unknown client -> auth', async () => {
    const { credentials } = newSite(items(1));
    for (const creds of [
      { ...credentials, client_secret: 'wrong' },
      { client_id: 'nobody', client_secret: 'x' },
    ]) {
      const adapter = openAdapter(deliverooChannel, {
        channelId: 'ch_bad',
        baseUrl: base,
        credentials: creds,
        settings: { brand_id: 'brand-a', site_id: 'x', menu_id: 'm' },
      });
      const err = await expectChannelError(adapter.testConnection(), 'auth');
      expect(err.status).toBe(401);
    }
  });

  it('a revoked token is replaced once on 401', async () => {
    const { adapter } = newSite(items(1));
    await adapter.testConnection();
    const issued = (await control('/_control/tokens')).json.issued as number;
    await control('/_control/tokens', { revoke: true });
    await expect(adapter.testConnection()).resolves.toMatchObject({ ok: true });
    expect((await control('/_control/tokens')).json.issued).toBe(issued + 1);
  });

  it('tokens expire on the emulator and the adapter fetches a new one before expiry', async () => {
    await control('/_control/tokens', { ttl_sec: 1 });
    try {
      const { adapter, id, credentials } = newSite(items(1));
      const old = await rawToken(credentials.client_id, credentials.client_secret);
      await adapter.testConnection();
      const issued = (await control('/_control/tokens')).json.issued as number;
      await sleep(1100);
      const res = await request(`${base}/menu/v2/brands/brand-a/sites/${id}/menu/item_unavailabilities`, { headers: { authorization: `Bearer ${old}` } });
      await res.body.dump();
      expect(res.statusCode).toBe(401);
      await adapter.testConnection();
      expect((await control('/_control/tokens')).json.issued).toBe(issued + 1);
    } finally {
      await control('/_control/tokens', { ttl_sec: 300 });
    }
  });
});

describe('deliveroo listings and pushes', () => {
  it('listListings yields the whole menu in several pages with availability and PLUs', async () => {
    const { adapter, id } = newSite(items(450));
    await emu.spec.setLevel(emu, emu.accounts.get(id)!, { sku: 'SKU-7', qty: 0 });
    const before = emu.stats.calls;
    const pages = [];
    for await (const page of adapter.listListings()) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([200, 200, 50]);
    expect(emu.stats.calls - before).toBe(3); // token, menu, unavailabilities: the menu is one document
    const all = pages.flat();
    expect(new Set(all.map((l) => l.externalId)).size).toBe(450);
    expect(all[0]).toEqual({ externalId: 'item-1', externalLocationId: id, sku: 'SKU-1', name: 'Dish 1', qty: null, available: true, version: null });
    expect(all.find((l) => l.sku === 'SKU-7')?.available).toBe(false);
    expect(all.filter((l) => !l.available)).toHaveLength(1);
  });

  it('readListings returns only the asked items', async () => {
    const { adapter } = newSite([...items(2), { sku: 'SKU-X', name: 'Gone', qty: 0 }]);
    const got = await adapter.readListings([{ externalId: 'item-3' }, { externalId: 'item-1' }]);
    expect(got.map((l) => [l.externalId, l.available]).sort()).toEqual([
      ['item-1', true],
      ['item-3', false],
    ]);
  });

  it('pushLevels sets availability on the emulator and returns ok with the pushed qty', async () => {
    const { adapter, id } = newSite([...items(2), { sku: 'SKU-3', name: 'Dish 3', qty: 0 }]);
    const writes: WriteRecord[] = [];
    const onWrite = (w: WriteRecord) => w.accountId === id && writes.push(w);
    emu.events.on('write', onWrite);
    const res = await adapter.pushLevels([push('item-1', 0), push('item-3', 4), push('item-2', -2)]);
    emu.events.off('write', onWrite);
    expect(res).toEqual([
      { listingId: 'lst_item-1', outcome: 'ok', qty: 0, version: null },
      { listingId: 'lst_item-3', outcome: 'ok', qty: 4, version: null },
      { listingId: 'lst_item-2', outcome: 'ok', qty: -2, version: null },
    ]);
    expect(emu.spec.state(emu.accounts.get(id)!).map((s) => [s.externalId, s.available])).toEqual([
      ['item-1', false],
      ['item-2', false],
      ['item-3', true],
    ]);
    expect(writes.map((w) => [w.externalId, w.available, w.qty])).toEqual([
      ['item-1', false, null],
      ['item-3', true, null],
      ['item-2', false, null],
    ]);
  });

  it('splits large pushes into POSTs of 100', async () => {
    const { adapter, id } = newSite(items(150));
    await adapter.testConnection();
    const before = emu.stats.calls;
    const res = await adapter.pushLevels(Array.from({ length: 150 }, (_, i) => push(`item-${i + 1}`, 0)));
    expect(emu.stats.calls - before).toBe(2);
    expect(res.every((r) => r.outcome === 'ok')).toBe(true);
    expect(emu.spec.state(emu.accounts.get(id)!).every((s) => s.available === false)).toBe(true);
  });

  it('an unknown item fails alone; the rest of the request is applied (the platform 404s the whole POST)', async () => {
    const { adapter, id } = newSite(items(2));
    const res = await adapter.pushLevels([push('item-1', 0), push('no-such-item', 3)]);
    expect(res[0]).toEqual({ listingId: 'lst_item-1', outcome: 'ok', qty: 0, version: null });
    expect(res[1]).toMatchObject({ listingId: 'lst_no-such-item', outcome: 'failed', retryable: false });
    expect(emu.spec.state(emu.accounts.get(id)!)[0]?.available).toBe(false);
  });

  it('a wrong site is a permanent whole-call error', async () => {
    const { adapter } = newSite(items(1), { site_id: 'not-my-site' });
    const err = await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'permanent');
    expect(err.status).toBe(404);
  });

  it('has no compare-and-set: no versions, isNewer only over nothing', () => {
    const { adapter } = newSite(items(1));
    expect(adapter.capabilities).toMatchObject({
      quantityModel: 'availability',
      compareAndSet: false,
      defaultSalesSource: 'orders',
      webhooks: true,
      maxPushBatch: 100,
    });
    expect(adapter.isNewer(null, null)).toBe(true);
    expect(adapter.isNewer('x', 'y')).toBe(false);
  });
});

describe('deliveroo faults', () => {
  it('the rate limit answers 429 + Retry-After + message, mapped to rate_limited', async () => {
    const { id, credentials, adapter } = newSite(items(1));
    const token = await rawToken(credentials.client_id, credentials.client_secret);
    const statuses: number[] = [];
    let throttled: { headers: Record<string, unknown>; body: unknown } | null = null;
    for (let i = 0; i < 12; i++) {
      const res = await request(`${base}/menu/v2/brands/brand-a/sites/${id}/menu/item_unavailabilities`, { headers: { authorization: `Bearer ${token}` } });
      statuses.push(res.statusCode);
      const body = await res.body.json();
      if (res.statusCode === 429) throttled ??= { headers: res.headers, body };
    }
    expect(statuses).toContain(429);
    expect(throttled?.headers['retry-after']).toBe('1');
    expect(throttled?.body).toEqual({ message: 'Too Many Requests' });
    const err = await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'rate_limited');
    expect(err.retryAfterMs).toBe(1000);
  });

  it('5xx knob -> transient', async () => {
    const { adapter } = newSite(items(1));
    await adapter.testConnection();
    emu.knobs.errorRate = 1;
    try {
      const err = await expectChannelError(adapter.pushLevels([push('item-1', 1)]), 'transient');
      expect(err.status).toBe(500);
    } finally {
      emu.knobs.errorRate = 0;
    }
  });

  it('timeout knob -> transient', async () => {
    const { adapter } = newSite(items(1), { request_timeout_ms: 100 });
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

describe('deliveroo webhooks', () => {
  it('a sale sends a signed order.new that verifies and parses into one sale; availability is unchanged', async () => {
    const { id } = newSite(items(3));
    const sale = await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-2', qty: 2 });
    expect(sale.status).toBe(200);
    const order = sale.json.order as DeliverooOrder;
    expect(order.id).toMatch(/^gb:[0-9a-f-]{36}$/);
    const [hook] = await deliveriesFor(order.id, 1);
    const h = hook!.headers;
    expect(h['x-deliveroo-payload-type']).toBe('event/order.new');
    expect(h['x-deliveroo-webhook-version']).toBe('1');
    // Independent of our verifier: hex HMAC over guid + " " + raw body.
    const guid = String(h['x-deliveroo-sequence-guid']);
    expect(h['x-deliveroo-hmac-sha256']).toBe(createHmac('sha256', WEBHOOK_SECRET).update(`${guid} `).update(hook!.rawBody).digest('hex'));
    expect(deliverooWebhook.verify(hook!, CREDS, new Date())).toEqual({ ok: true });
    expect(deliverooWebhook.parse(hook!)).toEqual([
      {
        kind: 'order',
        effect: 'sale',
        externalEventId: `order:${order.id}:new`,
        occurredAt: order.status_log[0]!.at,
        orderId: order.id,
        lines: [{ sku: 'SKU-2', qty: 2 }],
        externalLocationId: id,
      },
    ]);
    expect(emu.spec.state(emu.accounts.get(id)!).every((s) => s.available)).toBe(true);
  });

  it('cancel and reject give stock back under one key; other statuses are ignored', async () => {
    const { id } = newSite(items(1));
    const a = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 3 })).json.order as DeliverooOrder;
    const b = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 1 })).json.order as DeliverooOrder;
    expect((await control(`/_control/accounts/${id}/order-status`, { orderId: a.id, status: 'accepted' })).status).toBe(200);
    expect((await control(`/_control/accounts/${id}/cancel`, { orderId: a.id })).status).toBe(200);
    expect((await control(`/_control/accounts/${id}/cancel`, { orderId: a.id })).status).toBe(409);
    expect((await control(`/_control/accounts/${id}/order-status`, { orderId: b.id, status: 'rejected' })).status).toBe(200);
    const hooksA = await deliveriesFor(a.id, 3);
    const hooksB = await deliveriesFor(b.id, 2);
    const events = [...hooksA, ...hooksB].map((hk) => {
      expect(deliverooWebhook.verify(hk, CREDS, new Date())).toEqual({ ok: true });
      return deliverooWebhook.parse(hk)[0]!;
    });
    const byKey = Object.fromEntries(events.map((e) => [e.externalEventId, e]));
    expect(byKey[`order:${a.id}:accepted`]).toMatchObject({ kind: 'ignored' });
    expect(byKey[`order:${a.id}:canceled`]).toMatchObject({ kind: 'order', effect: 'cancel', orderId: a.id, lines: [{ sku: 'SKU-1', qty: 3 }] });
    expect(byKey[`order:${b.id}:canceled`]).toMatchObject({ kind: 'order', effect: 'cancel', orderId: b.id, lines: [{ sku: 'SKU-1', qty: 1 }] });
  });

  it('rejects tampered, unsigned and wrongly keyed deliveries; Deliveroo has no timestamp to be stale', async () => {
    const { id } = newSite(items(1));
    const order = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 2 })).json.order as DeliverooOrder;
    const [hook] = await deliveriesFor(order.id, 1);
    const tampered = { ...hook!, rawBody: Buffer.from(hook!.rawBody.toString('utf8').replace('"quantity":2', '"quantity":20')) };
    expect(tampered.rawBody.equals(hook!.rawBody)).toBe(false);
    expect(deliverooWebhook.verify(tampered, CREDS, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(deliverooWebhook.verify(hook!, { webhook_secret: 'other' }, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    const { ['x-deliveroo-hmac-sha256']: _sig, ...unsigned } = hook!.headers;
    expect(deliverooWebhook.verify({ ...hook!, headers: unsigned }, CREDS, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    const { ['x-deliveroo-sequence-guid']: _guid, ...noGuid } = hook!.headers;
    expect(deliverooWebhook.verify({ ...hook!, headers: noGuid }, CREDS, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    // No timestamp header exists: a late retry (Deliveroo retries for up to 30 min) still verifies; dedupe handles replays.
    expect(deliverooWebhook.verify(hook!, CREDS, new Date(Date.now() + 3600_000))).toEqual({ ok: true });
  });

  it('legacy new_order is signed over guid + " \\n " + body and counts as the same sale', () => {
    const body = Buffer.from(
      JSON.stringify({ event: 'new_order', location_id: 'site-L', order: { id: 'gb:abc', display_id: '12', items: [{ pos_item_id: 'SKU-9', quantity: 1 }] } }),
    );
    const sign = (sep: string) => createHmac('sha256', WEBHOOK_SECRET).update(`g-1${sep}`).update(body).digest('hex');
    const req = (sig: string): IncomingWebhook => ({
      headers: { 'x-deliveroo-sequence-guid': 'g-1', 'x-deliveroo-hmac-sha256': sig },
      rawBody: body,
      url: hookUrl,
    });
    expect(deliverooWebhook.verify(req(sign(' \n ')), CREDS, new Date())).toEqual({ ok: true });
    expect(deliverooWebhook.verify(req(sign(' ')), CREDS, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(deliverooWebhook.parse(req(sign(' \n ')))).toMatchObject([
      { kind: 'order', effect: 'sale', externalEventId: 'order:gb:abc:new', lines: [{ sku: 'SKU-9', qty: 1 }], externalLocationId: 'site-L' },
    ]);
  });

  it('malformed bodies throw WebhookParseError; unknown events are ignored', () => {
    const req = (body: string): IncomingWebhook => ({ headers: { 'x-deliveroo-sequence-guid': 'g-2' }, rawBody: Buffer.from(body), url: hookUrl });
    expect(() => deliverooWebhook.parse(req('{"event":"order.new",'))).toThrow(WebhookParseError);
    expect(() => deliverooWebhook.parse(req('[1]'))).toThrow(WebhookParseError);
    expect(() => deliverooWebhook.parse(req('{"event":"order.new","body":{"order":{"items":[]}}}'))).toThrow(WebhookParseError);
    expect(() => deliverooWebhook.parse(req('{"event":"order.new","body":{"order":{"id":"gb:1","items":[{"pos_item_id":"A","quantity":0}]}}}'))).toThrow(
      WebhookParseError,
    );
    expect(deliverooWebhook.parse(req('{"event":"rider.status_update","body":{}}'))).toMatchObject([
      { kind: 'ignored', externalEventId: 'rider.status_update:g-2' },
    ]);
  });

  it('duplicateRate=1 delivers the same event twice with the same key and guid', async () => {
    const { id } = newSite(items(1));
    emu.knobs.duplicateRate = 1;
    try {
      const order = (await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-1', qty: 1 })).json.order as DeliverooOrder;
      const hooks = await deliveriesFor(order.id, 2);
      expect(hooks).toHaveLength(2);
      const keys = hooks.map((hk) => {
        expect(deliverooWebhook.verify(hk, CREDS, new Date())).toEqual({ ok: true });
        return deliverooWebhook.parse(hk)[0]!.externalEventId;
      });
      expect(keys).toEqual([`order:${order.id}:new`, `order:${order.id}:new`]);
      expect(hooks[0]!.headers['x-deliveroo-sequence-guid']).toBe(hooks[1]!.headers['x-deliveroo-sequence-guid']);
    } finally {
      emu.knobs.duplicateRate = 0;
    }
  });

  it('the merchant marking an item sold out changes availability, sends no webhook, and blocks orders', async () => {
    const { id, adapter } = newSite(items(2));
    const before = received.length;
    const set = await control(`/_control/accounts/${id}/set`, { sku: 'SKU-2', qty: 0 });
    expect(set.json).toEqual({ item_id: 'item-2', status: 'unavailable' });
    await emu.drain();
    expect(received.length).toBe(before);
    expect((await adapter.readListings([{ externalId: 'item-2' }]))[0]?.available).toBe(false);
    expect((await control(`/_control/accounts/${id}/sale`, { sku: 'SKU-2', qty: 1 })).status).toBe(409);
  });
});
