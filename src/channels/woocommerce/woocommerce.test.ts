// WooCommerce adapter + webhook handler against the WooCommerce emulator over real HTTP (127.0.0.1, port 0).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHmac } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_KNOBS } from '../../../emulators/kit/index.ts';
import { API, createWoocommerceEmulator, type WoocommerceEmulator } from '../../../emulators/woocommerce/index.ts';
import { ChannelError, type IncomingWebhook, type InboundEvent, type PushRequest, type RemoteListing } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import { woocommerceChannel } from './index.ts';
import type { WoocommerceAdapter } from './adapter.ts';

const SECRET = 'wc-webhook-secret';
const CREDS = { consumer_key: 'ck_test', consumer_secret: 'cs_test', webhook_secret: SECRET };
let emu: WoocommerceEmulator;
let receiver: FastifyInstance;
let hookUrl = '';
let received: IncomingWebhook[] = [];
let answer = 200;

const ITEMS = [
  { sku: 'A', name: 'Apple', qty: 10 },
  { sku: 'B', name: 'Bread', qty: 4 },
  { sku: 'C', name: 'Cake', qty: 2 },
  { sku: 'D', name: 'Donut', qty: 8 },
  { sku: 'V-S', name: 'Tee S', qty: 5, externalId: '500:501' },
  { sku: 'V-M', name: 'Tee M', qty: 6, externalId: '500:502' },
  { sku: 'OFF', name: 'Untracked', qty: 0 },
];

function adapter(settings: Record<string, unknown> = {}, credentials: Record<string, string> = CREDS, baseUrl = emu.url): WoocommerceAdapter {
  return openAdapter(woocommerceChannel, { channelId: 'ch_woo', baseUrl, credentials, settings }) as WoocommerceAdapter;
}

function openShop(id: string, items = ITEMS, extra: Record<string, unknown> = {}) {
  return emu.addAccount({
    id,
    credentials: { consumer_key: `ck_${id}`, consumer_secret: `cs_${id}`, ...(extra.credentials as Record<string, string> | undefined) },
    webhookUrl: (extra.webhookUrl as string | undefined) ?? hookUrl,
    webhookSecret: SECRET,
    items,
    unmanaged: ['OFF'],
  } as Parameters<WoocommerceEmulator['addAccount']>[0]);
}
const credsFor = (id: string) => ({ consumer_key: `ck_${id}`, consumer_secret: `cs_${id}`, webhook_secret: SECRET });

async function caught(p: Promise<unknown>): Promise<ChannelError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ChannelError) return e;
    throw e;
  }
  throw new Error('expected a ChannelError');
}

async function api(method: string, url: string, id: string, body?: unknown): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${emu.url}${API}${url}`, {
    method,
    headers: {
      authorization: `Basic ${Buffer.from(`ck_${id}:cs_${id}`).toString('base64')}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

const sale = async (account: string, sku: string, qty = 1) =>
  (await (
    await fetch(`${emu.url}/_control/accounts/${account}/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku, qty }),
    })
  ).json()) as { order_id: number; qty: number | null };

const push = (externalId: string, qty: number, i = 0): PushRequest => ({
  listingId: `lst_${i}_${externalId}`,
  externalId,
  qty,
  known: { qty: null, version: null },
  idempotencyKey: `k-${i}`,
});

const signed = (body: string, headers: Record<string, string> = {}, secret = SECRET): IncomingWebhook => ({
  headers: {
    'x-wc-webhook-topic': 'order.updated',
    'x-wc-webhook-id': '1',
    'x-wc-webhook-delivery-id': 'd1',
    'x-wc-webhook-signature': createHmac('sha256', secret).update(body).digest('base64'),
    ...headers,
  },
  rawBody: Buffer.from(body),
  url: 'http://127.0.0.1/webhooks/woocommerce/ch_woo',
});

beforeAll(async () => {
  receiver = Fastify();
  receiver.removeAllContentTypeParsers();
  receiver.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  receiver.post('/*', async (req, reply) => {
    received.push({ headers: req.headers, rawBody: req.body as Buffer, url: 'http://127.0.0.1/hook' });
    return reply.code(answer).send({ ok: answer < 300 });
  });
  hookUrl = `${await receiver.listen({ port: 0, host: '127.0.0.1' })}/hook`;
  emu = createWoocommerceEmulator() as WoocommerceEmulator;
  await emu.listen();
});
afterAll(async () => {
  await emu?.close();
  await receiver?.close();
});
beforeEach(async () => {
  emu.knobs = { ...DEFAULT_KNOBS };
  answer = 200;
  await emu.drain();
  received = [];
});

async function all(a: WoocommerceAdapter): Promise<{ pages: number; items: RemoteListing[] }> {
  let pages = 0;
  const items: RemoteListing[] = [];
  for await (const p of a.listListings()) {
    pages++;
    items.push(...p);
  }
  return { pages, items };
}

describe('WooCommerce listings and pushes', () => {
  it('imports every simple product and variation across pages (per_page, X-WP-TotalPages), ids exact', async () => {
    openShop('list');
    const first = await api('GET', '/products?per_page=2&page=1', 'list');
    expect(first.headers.get('x-wp-total')).toBe('6');
    expect(first.headers.get('x-wp-totalpages')).toBe('3');
    expect(first.headers.get('link')).toContain('rel="next"');
    const { pages, items } = await all(adapter({ page_size: 2 }, credsFor('list')));
    expect(pages).toBe(3);
    expect(items.map((i) => [i.externalId, i.sku, i.qty]).sort()).toEqual(
      [
        ['10', 'A', 10],
        ['11', 'B', 4],
        ['12', 'C', 2],
        ['13', 'D', 8],
        ['500:501', 'V-S', 5],
        ['500:502', 'V-M', 6],
        ['14', 'OFF', null],
      ].sort(),
    );
    expect(await adapter({}, credsFor('list')).testConnection()).toEqual({ ok: true, account: expect.stringContaining('(6 products)') });
    const read = await adapter({}, credsFor('list')).readListings([
      { externalId: '11' },
      { externalId: '500:502' },
      { externalId: '999' },
      { externalId: 'junk' },
    ]);
    expect(read.map((r) => [r.externalId, r.qty]).sort()).toEqual([
      ['11', 4],
      ['500:502', 6],
    ]);
  });

  it('pushes through /products/batch and /products/{id}/variations/batch; manage_stock off is reported, not dropped', async () => {
    const acc = openShop('push');
    emu.knobs.recordRequests = true;
    emu.requests.length = 0;
    const r = await adapter({}, credsFor('push')).pushLevels([push('10', 3, 0), push('500:501', 7, 1), push('14', 5, 2), push('500:999', 1, 3)]);
    expect(r[0]).toMatchObject({ outcome: 'ok', qty: 3 });
    expect(r[1]).toMatchObject({ outcome: 'ok', qty: 7 });
    expect(r[2]).toMatchObject({ outcome: 'failed', retryable: false, error: expect.stringContaining('manage_stock is off') });
    expect(r[3]).toMatchObject({ outcome: 'failed', retryable: false, error: expect.stringContaining('woocommerce_rest_product_variation_invalid_id') });
    const state = Object.fromEntries(emu.spec.state(acc).map((s) => [s.sku, s.qty]));
    expect(state).toMatchObject({ A: 3, 'V-S': 7, OFF: null });
    expect(emu.requests.map((q) => `${q.method} ${q.url}`)).toEqual([`POST ${API}/products/batch`, `POST ${API}/products/500/variations/batch`]);
    expect(emu.requests[0]!.body).toEqual({
      update: [
        { id: 10, stock_quantity: 3 },
        { id: 14, stock_quantity: 5 },
      ],
    });
  });

  it('sends at most 100 objects per batch (WooCommerce refuses 101 with 413)', async () => {
    const items = Array.from({ length: 150 }, (_, i) => ({ sku: `S${i}`, name: `Item ${i}`, qty: 1 }));
    const acc = openShop('big', items);
    const ids = emu.spec.state(acc).map((s) => s.externalId);
    const a = adapter({}, credsFor('big'));
    expect(a.pushCalls(ids.map((externalId) => ({ externalId })))).toBe(2);
    emu.knobs.recordRequests = true;
    emu.requests.length = 0;
    const r = await a.pushLevels(ids.map((id, i) => push(id, 9, i)));
    expect(r.every((x) => x.outcome === 'ok')).toBe(true);
    expect(emu.requests.map((q) => (q.body as { update: unknown[] }).update.length)).toEqual([100, 50]);
    const tooMany = await api('POST', '/products/batch', 'big', { update: ids.slice(0, 101).map((id) => ({ id: Number(id), stock_quantity: 1 })) });
    expect(tooMany.status).toBe(413);
    expect(tooMany.body).toEqual({
      code: 'woocommerce_rest_request_entity_too_large',
      message: 'Unable to accept more than 100 items for this request.',
      data: { status: 413 },
    });
  });
});

describe('WooCommerce errors and limits', () => {
  it('429 with Retry-After is rate_limited', async () => {
    openShop('limit');
    emu.knobs.throttleRate = 1;
    const e = await caught(adapter({}, credsFor('limit')).testConnection());
    expect(e.kind).toBe('rate_limited');
    expect(e.retryAfterMs).toBe(1000);
  });

  it('maps WooCommerce errors to kinds: bad keys and read-only keys -> auth, 5xx -> transient, bad params -> permanent; plain http refused', async () => {
    openShop('errs');
    openShop('ro', ITEMS, { credentials: { permissions: 'read' } });
    const badSecret = await caught(adapter({}, { ...credsFor('errs'), consumer_secret: 'cs_wrong' }).testConnection());
    expect(badSecret.kind).toBe('auth');
    expect(badSecret.message).toContain('woocommerce_rest_authentication_error');
    const noKey = await fetch(`${emu.url}${API}/products`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toEqual({ code: 'woocommerce_rest_cannot_view', message: 'Sorry, you cannot list resources.', data: { status: 401 } });
    const ro = await caught(adapter({}, credsFor('ro')).pushLevels([push('10', 1)]));
    expect(ro.kind).toBe('auth');
    expect(ro.message).toContain('woocommerce_rest_cannot_batch');
    const bad = await api('GET', '/products?per_page=101', 'errs');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'rest_invalid_param', data: { status: 400 } });
    const notFound = await caught((adapter({}, credsFor('errs')) as unknown as { call(m: string, p: string): Promise<unknown> }).call('GET', '/products/987'));
    expect(notFound).toMatchObject({ kind: 'permanent', status: 404 });
    emu.knobs.errorRate = 1;
    expect((await caught(adapter({}, credsFor('errs')).testConnection())).kind).toBe('transient');
    emu.knobs.errorRate = 0;
    const plain = await caught(adapter({}, credsFor('errs'), 'http://shop.example.com').testConnection());
    expect(plain.kind).toBe('auth');
    expect(plain.message).toContain('https');
  });
});

describe('WooCommerce webhooks', () => {
  const waitFor = async (n: number) => {
    const end = Date.now() + 5000;
    while (received.length < n) {
      if (Date.now() > end) throw new Error(`waited for ${n} webhooks, got ${received.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const verify = (w: IncomingWebhook, creds: Record<string, string> = CREDS) => woocommerceChannel.webhook.verify(w, creds, new Date());

  it('pings on creation (unsigned webhook_id=N): accepted, nothing parsed', async () => {
    openShop('ping');
    await emu.drain();
    expect(received).toHaveLength(2);
    for (const p of received) {
      expect(p.rawBody.toString()).toMatch(/^webhook_id=\d+$/);
      expect(p.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(verify(p)).toEqual({ ok: true });
      expect(woocommerceChannel.webhook.parse(p)).toEqual([]);
    }
    // A ping-looking body with a topic is not a ping: it must be signed.
    expect(verify({ ...received[0]!, headers: { 'x-wc-webhook-topic': 'order.updated' } })).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it('a sale is delivered as order.created and order.updated, signed; both parse to the same order event; forged ones are refused', async () => {
    openShop('hooks');
    await emu.drain();
    received = [];
    const s = await sale('hooks', 'V-S', 2);
    await waitFor(2);
    expect(received.map((r) => r.headers['x-wc-webhook-topic']).sort()).toEqual(['order.created', 'order.updated']);
    const events: InboundEvent[] = [];
    for (const w of received) {
      expect(w.headers['x-wc-webhook-resource']).toBe('order');
      expect(w.headers['x-wc-webhook-delivery-id']).toMatch(/^[0-9a-f]{32}$/);
      expect(verify(w)).toEqual({ ok: true });
      events.push(...woocommerceChannel.webhook.parse(w));
    }
    expect(events).toHaveLength(2);
    for (const e of events)
      expect(e).toMatchObject({
        kind: 'order',
        effect: 'sale',
        externalEventId: `order:${s.order_id}`,
        lines: [{ externalId: '500:501', sku: 'V-S', qty: 2 }],
      });

    const w = received[0]!;
    const tampered = { ...w, rawBody: Buffer.from(w.rawBody.toString().replace('"quantity":2', '"quantity":20')) };
    expect(verify(tampered)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(w, { ...CREDS, webhook_secret: 'another' })).toEqual({ ok: false, reason: 'bad_signature' });
    const { ['x-wc-webhook-signature']: _sig, ...unsigned } = w.headers;
    expect(verify({ ...w, headers: unsigned })).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verify(w, { consumer_key: 'k', consumer_secret: 's' })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('reads 64-bit ids exactly; a cancelled order carries its return; unpaid orders move nothing; old orders are not new sales', () => {
    const at = (agoS: number) => new Date(Date.now() - agoS * 1000).toISOString().slice(0, 19);
    const order = (status: string, paidAgoS: number | null, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        status,
        date_created_gmt: at(paidAgoS ?? 60),
        date_modified_gmt: at(0),
        date_paid_gmt: paidAgoS === null ? null : at(paidAgoS),
        payment_method: 'stripe',
        ...extra,
      }).replace(
        /^\{/,
        '{"id":18446744073709551615,"line_items":[{"id":9007199254740993,"product_id":9007199254740995,"variation_id":9007199254740997,"sku":"X","quantity":1}],',
      );
    const ids = (body: string) => woocommerceChannel.webhook.parse(signed(body)).map((e) => `${e.externalEventId}${e.kind === 'ignored' ? ' (ignored)' : ''}`);
    const events = woocommerceChannel.webhook.parse(signed(order('cancelled', 60)));
    expect(events.map((e) => e.externalEventId)).toEqual(['order:18446744073709551615', 'order:18446744073709551615:cancel']);
    expect(events[1]).toMatchObject({
      effect: 'cancel',
      orderId: '18446744073709551615',
      lines: [{ externalId: '9007199254740995:9007199254740997', qty: 1 }],
    });
    expect(ids(order('processing', 60))).toEqual(['order:18446744073709551615']);
    // Not paid: nothing taken, nothing to give back (an unpaid order lapsing to cancelled).
    expect(ids(order('pending', null))[0]).toMatch(/^delivery:1:d1:.* \(ignored\)$/);
    expect(ids(order('cancelled', null))[0]).toMatch(/ \(ignored\)$/);
    // A bank-transfer order on hold took its stock; cancelled unpaid, it gives it back.
    expect(ids(order('cancelled', null, { payment_method: 'bacs' }))).toEqual(['order:18446744073709551615', 'order:18446744073709551615:cancel']);
    // Paid a day ago (before StockClerk may have been connected) and completed now: not a new sale; its cancellation still is a return.
    expect(ids(order('completed', 86_400))[0]).toMatch(/ \(ignored\)$/);
    expect(ids(order('cancelled', 86_400))).toEqual(['order:18446744073709551615:cancel']);
    expect(() => woocommerceChannel.webhook.parse(signed('{"id":1'))).toThrow(/not JSON/);
  });

  it('a webhook failing 7 times in a row is disabled (failure_count above 5); sales still reach the poll; re-enabled it delivers again', async () => {
    const acc = openShop('dead');
    const a = adapter({}, credsFor('dead'));
    const cursor = (await a.pollEvents(null)).cursor;
    await emu.drain();
    answer = 500;
    for (let i = 0; i < 6; i++) await sale('dead', 'A');
    await emu.drain();
    expect((await api('GET', '/webhooks', 'dead')).body.map((w: { status: string }) => w.status)).toEqual(['active', 'active']);
    await sale('dead', 'A');
    await emu.drain();
    const hooks = (await api('GET', '/webhooks', 'dead')).body as Array<{ id: number; status: string }>;
    expect(hooks.map((w) => w.status)).toEqual(['disabled', 'disabled']);
    answer = 200;
    received = [];
    const last = await sale('dead', 'A', 2);
    await emu.drain();
    expect(received).toHaveLength(0);
    // The poll is the safety net: every sale made while the webhooks failed, and after.
    const polled = await a.pollEvents(cursor);
    const sales = polled.events.filter((e) => e.kind === 'order' && e.effect === 'sale');
    expect(sales).toHaveLength(8);
    expect(sales.at(-1)).toMatchObject({ externalEventId: `order:${last.order_id}`, lines: [{ externalId: '10', sku: 'A', qty: 2 }] });
    expect(emu.spec.state(acc).find((s) => s.sku === 'A')!.qty).toBe(1);
    // Re-enabled (what a merchant does in WooCommerce > Settings > Advanced > Webhooks), it delivers again.
    for (const w of hooks) expect((await api('PUT', `/webhooks/${w.id}`, 'dead', { status: 'active' })).body.status).toBe('active');
    await sale('dead', 'B');
    await emu.drain();
    expect(received.map((r) => r.headers['x-wc-webhook-topic']).sort()).toEqual(['order.created', 'order.updated']);
  });
});

describe('WooCommerce webhooks disabled by failures', () => {
  it("the poll turns this channel's disabled webhooks back on (at most every 10 minutes), and leaves other webhooks alone", async () => {
    const ours = hookUrl.replace(/\/hook$/, '/webhooks/woocommerce/ch_woo');
    openShop('heal', ITEMS, { webhookUrl: ours });
    const other = (await api('POST', '/webhooks', 'heal', { topic: 'order.created', delivery_url: hookUrl.replace(/\/hook$/, '/elsewhere'), secret: 'x' }))
      .body as {
      id: number;
    };
    await emu.drain();
    answer = 500;
    for (let i = 0; i < 7; i++) await sale('heal', 'A');
    await emu.drain();
    const statuses = async () =>
      ((await api('GET', '/webhooks', 'heal')).body as Array<{ id: number; status: string }>)
        .map((w) => [w.id, w.status])
        .sort((x, y) => Number(x[0]) - Number(y[0]));
    expect((await statuses()).map(([, st]) => st)).toEqual(['disabled', 'disabled', 'disabled']);
    answer = 200;
    await new Promise((r) => setTimeout(r, 1100)); // a second later: those sales are before polling began
    const a = adapter({}, credsFor('heal'));
    const start = await a.pollEvents(null);
    const p1 = await a.pollEvents(start.cursor);
    expect(p1.events.filter((e) => e.kind === 'order')).toHaveLength(0);
    expect(await statuses()).toEqual([
      [1, 'active'],
      [2, 'active'],
      [other.id, 'disabled'],
    ]);
    received = [];
    await sale('heal', 'B');
    await emu.drain();
    expect(received.map((r) => r.headers['x-wc-webhook-topic']).sort()).toEqual(['order.created', 'order.updated']);
    // Checked again only after HOOK_CHECK_S: a webhook disabled now stays so until then.
    await api('PUT', '/webhooks/1', 'heal', { status: 'disabled' });
    await a.pollEvents(p1.cursor);
    expect((await statuses())[0]).toEqual([1, 'disabled']);
  });
});

describe('WooCommerce order poll', () => {
  it('reads each order once across polls in the same second; a cancellation is a return; orders before the poll began are not sales', async () => {
    openShop('poll');
    const before = await sale('poll', 'B');
    await new Promise((r) => setTimeout(r, 1100));
    const a = adapter({ page_size: 2 }, credsFor('poll'));
    let cursor = (await a.pollEvents(null)).cursor;
    const s1 = await sale('poll', 'C');
    const p1 = await a.pollEvents(cursor);
    expect(p1.events.map((e) => e.externalEventId)).toEqual([`order:${s1.order_id}`]);
    // Same second, polled again right away: nothing repeated; a second sale in that second is read.
    const s2 = await sale('poll', 'D');
    const p2 = await a.pollEvents(p1.cursor);
    expect(p2.events.map((e) => e.externalEventId)).toEqual([`order:${s2.order_id}`]);
    cursor = p2.cursor;
    expect((await a.pollEvents(cursor)).events).toEqual([]);
    // Cancelled: the stock comes back on WooCommerce, and the poll reports the return.
    await new Promise((r) => setTimeout(r, 1100));
    emu.setOrderStatus('poll', s1.order_id, 'cancelled');
    emu.setOrderStatus('poll', before.order_id, 'cancelled');
    const p3 = await a.pollEvents(cursor);
    const ids = p3.events.map((e) => `${e.externalEventId}:${e.kind === 'order' ? e.effect : ''}`);
    expect(ids).toContain(`order:${s1.order_id}:cancel:cancel`);
    // The order from before polling began: its return is news, its sale is not.
    expect(ids).toContain(`order:${before.order_id}:cancel:cancel`);
    expect(ids).not.toContain(`order:${before.order_id}:sale`);
    expect(emu.spec.state(emu.accounts.get('poll')!).find((s) => s.sku === 'C')!.qty).toBe(2);
  });

  it('keeps the store across a restart: stock, orders, ids and webhook status', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'woo-state-'));
    const file = path.join(dir, 'woocommerce.json');
    try {
      let e = createWoocommerceEmulator({ stateFile: file }) as WoocommerceEmulator;
      await e.listen();
      const acc = e.addAccount({ id: 'keep', credentials: { consumer_key: 'ck_keep', consumer_secret: 'cs_keep' }, items: ITEMS });
      acc.webhooks.push({
        id: 7,
        name: 'x',
        topic: 'order.created',
        status: 'disabled',
        deliveryUrl: 'http://127.0.0.1:1/',
        secret: 's',
        failureCount: 6,
        created: '',
        modified: '',
      });
      const first = (await e.spec.sale(e, acc, { sku: 'A', qty: 3 })) as { order_id: number };
      await e.close();
      e = createWoocommerceEmulator({ stateFile: file }) as WoocommerceEmulator;
      await e.listen();
      try {
        const kept = e.accounts.get('keep')!;
        expect(e.spec.state(kept).find((s) => s.sku === 'A')!.qty).toBe(7);
        expect(kept.webhooks[0]).toMatchObject({ status: 'disabled', failureCount: 6 });
        const next = (await e.spec.sale(e, kept, { sku: 'A', qty: 1 })) as { order_id: number };
        expect(next.order_id).toBeGreaterThan(first.order_id);
        expect(kept.orders).toHaveLength(2);
      } finally {
        await e.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
