// Adapter <-> emulator over real HTTP on 127.0.0.1, plus a local webhook receiver that checks
// what the emulator sends with the channel's own WebhookHandler (which re-reads each hint through
// the emulator's API).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { ChannelError, WebhookParseError, type ChannelAdapter, type IncomingWebhook, type InboundEvent } from '../contract.ts';
import { DEFAULT_KNOBS, sleep, type WriteRecord } from '../../../emulators/kit/index.ts';
import { createEposnowEmulator } from '../../../emulators/eposnow/index.ts';
import { eposnowChannel } from './index.ts';
import { openAdapter } from '../registry.ts';
import { transactionToEvents } from './model.ts';

const emu = createEposnowEmulator();
const MAIN = { api_key: 'key-main', api_secret: 'secret-main' };
const handler = eposnowChannel.webhook;

// Test-only hooks (registered before listen): run a till sale just before a stock write is
// applied, or apply a write and then drop the response (the "timed out but landed" case).
let beforeWrite: (() => Promise<unknown>) | null = null;
let loseNextWrite = false;
emu.app.addHook('preHandler', async (req) => {
  if (req.method === 'POST' && req.url.startsWith('/api/v4/ProductStock/') && beforeWrite) {
    const run = beforeWrite;
    beforeWrite = null;
    await run();
  }
});
emu.app.addHook('onSend', async (req, _reply, payload) => {
  if (req.method === 'POST' && req.url.startsWith('/api/v4/ProductStock/') && loseNextWrite) {
    loseNextWrite = false;
    await sleep(400);
    req.raw.socket.destroy();
  }
  return payload;
});

let receiver: FastifyInstance;
const received: IncomingWebhook[] = [];
let writes: WriteRecord[] = [];
emu.events.on('write', (w: WriteRecord) => writes.push(w));

function adapter(credentials: Record<string, string> = MAIN, settings: Record<string, unknown> = {}): ChannelAdapter {
  return openAdapter(eposnowChannel, { channelId: 'ch_epos', baseUrl: emu.url, credentials, settings });
}
async function control(path: string, body: unknown): Promise<Record<string, any>> {
  const res = await fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Record<string, any>;
}
const level = (id: string) => emu.spec.state(emu.accounts.get('main')!).find((s) => s.externalId === id)!.qty ?? NaN;
async function rejection(p: Promise<unknown>): Promise<ChannelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  return err as ChannelError;
}
function posted(body: string): IncomingWebhook {
  return { headers: { 'content-type': 'application/json' }, rawBody: Buffer.from(body), url: 'http://x/webhooks/eposnow/ch_epos/s3cret' };
}
/** What intake does with a post: verify (nothing to check: the URL secret was), then parse. */
async function hinted(hook: IncomingWebhook, credentials: Record<string, string> = MAIN): Promise<InboundEvent[]> {
  expect(await handler.verify(hook, credentials, new Date(), { baseUrl: emu.url })).toEqual({ ok: true });
  return handler.parse(hook);
}

beforeAll(async () => {
  receiver = Fastify();
  receiver.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  receiver.post('/webhooks/eposnow/ch_epos', async (req) => {
    received.push({ headers: req.headers, rawBody: req.body as Buffer, url: req.url });
    return { ok: true };
  });
  const hookUrl = await receiver.listen({ port: 0, host: '127.0.0.1' });
  await emu.listen();
  emu.knobs = { ...DEFAULT_KNOBS, enforceRateLimit: false };
  // 450 products: more than two 200-row pages. Product id 1000 + i holds qty i % 20.
  const items = Array.from({ length: 450 }, (_, i) => ({ externalId: String(1000 + i), sku: `SKU-${i}`, name: `Item ${i}`, qty: i % 20 }));
  emu.addAccount({ id: 'main', credentials: MAIN, webhookUrl: `${hookUrl}/webhooks/eposnow/ch_epos`, items });
  emu.addAccount({ id: 'rl', credentials: { api_key: 'key-rl', api_secret: 'secret-rl' }, items: [{ sku: 'A', name: 'A', qty: 1 }] });
});

afterAll(async () => {
  await emu.close();
  await receiver.close();
});

describe('eposnow adapter', () => {
  it('testConnection succeeds with Basic key:secret and maps bad credentials to auth', async () => {
    expect((await adapter().testConnection()).account).toContain('4501');
    const err = await rejection(adapter({ api_key: 'key-main', api_secret: 'wrong' }).testConnection());
    expect(err.kind).toBe('auth');
    expect(err.status).toBe(401);
    expect((await rejection(adapter(MAIN, { location_id: 777 }).testConnection())).kind).toBe('permanent');
  });

  it('listListings pages products and sums batches at the chosen location', async () => {
    const pages: number[] = [];
    const all = [];
    for await (const page of adapter().listListings()) {
      pages.push(page.length);
      all.push(...page);
    }
    expect(pages).toEqual([200, 200, 50]);
    expect(all).toHaveLength(450);
    // Item 7 was seeded as batches 3 + 4 at location 4501.
    expect(all.find((l) => l.externalId === '1007')).toEqual({
      externalId: '1007',
      externalLocationId: '4501',
      sku: 'SKU-7',
      name: 'Item 7',
      qty: 7,
      version: null,
    });
    const other = [];
    for await (const page of adapter(MAIN, { location_id: '4502' }).listListings()) other.push(...page);
    expect(other.find((l) => l.externalId === '1007')?.qty).toBe(0);
  });

  it('readListings picks per-product reads for few ids and location paging for many', async () => {
    const a = adapter(MAIN, { location_id: 4501 });
    let before = emu.stats.calls;
    expect(await a.readListings([{ externalId: '1013' }])).toEqual([expect.objectContaining({ externalId: '1013', externalLocationId: '4501', qty: 13 })]);
    expect(emu.stats.calls - before).toBe(1);
    before = emu.stats.calls;
    const ids = ['1001', '1002', '1003', '1004', '1005'].map((externalId) => ({ externalId }));
    const got = await a.readListings(ids);
    expect(got.map((l) => l.qty).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(emu.stats.calls - before).toBe(1); // all five were on the first page of the location
  });

  it('pushLevels posts the differences to Add and Remove and skips zero deltas', async () => {
    writes = [];
    const a = adapter();
    const res = await a.pushLevels([
      { listingId: 'l1', externalId: '1010', qty: 25, known: { qty: 10, version: null }, idempotencyKey: 'k1' },
      { listingId: 'l2', externalId: '1011', qty: 4, known: { qty: 11, version: null }, idempotencyKey: 'k2' },
      { listingId: 'l3', externalId: '1012', qty: 12, known: { qty: 12, version: null }, idempotencyKey: 'k3' },
      { listingId: 'l4', externalId: '999999', qty: 1, known: { qty: null, version: null }, idempotencyKey: 'k4' },
    ]);
    expect(res.slice(0, 3)).toEqual([
      { listingId: 'l1', outcome: 'ok', qty: 25, version: null },
      { listingId: 'l2', outcome: 'ok', qty: 4, version: null },
      { listingId: 'l3', outcome: 'ok', qty: 12, version: null, unchanged: true },
    ]);
    expect(res[3]).toMatchObject({ listingId: 'l4', outcome: 'failed', retryable: false });
    expect([level('1010'), level('1011'), level('1012')]).toEqual([25, 4, 12]);
    expect(writes.map((w) => [w.externalId, w.qty]).sort()).toEqual([
      ['1010', 25],
      ['1011', 4],
    ]);
  });

  it('a till sale between our read and our write is kept (relative write, no lost sale)', async () => {
    await control('/accounts/main/set', { externalId: '1020', qty: 10 });
    received.length = 0;
    const a = adapter();
    const start = await a.pollEvents!(null);
    beforeWrite = () => control('/accounts/main/sale', { externalId: '1020', qty: 1 });
    const [r] = await a.pushLevels([{ listingId: 'l', externalId: '1020', qty: 8, known: { qty: 10, version: null }, idempotencyKey: 'k' }]);
    expect(r).toMatchObject({ outcome: 'ok', qty: 8 });
    // An absolute set would have written 8 over the sale; the delta keeps it: 10 - 1 - 2 = 7.
    expect(level('1020')).toBe(7);
    await emu.drain();
    expect(received).toHaveLength(1); // the hint; the poll it asks for reads the sale
    const { events } = await a.pollEvents!(start.cursor);
    expect(events).toEqual([expect.objectContaining({ kind: 'order', effect: 'sale', lines: [{ externalId: '1020', qty: 1 }] })]);
    // The ledger applies the sale (8 - 1) and pushes 7: nothing left to write.
    writes = [];
    await a.pushLevels([{ listingId: 'l', externalId: '1020', qty: 7, known: { qty: 8, version: null }, idempotencyKey: 'k2' }]);
    expect(writes).toEqual([]);
  });

  it('two concurrent pushes on one adapter do not double-apply', async () => {
    await control('/accounts/main/set', { externalId: '1021', qty: 10 });
    const a = adapter();
    const push = (qty: number) => a.pushLevels([{ listingId: 'l', externalId: '1021', qty, known: { qty: 10, version: null }, idempotencyKey: `k${qty}` }]);
    await Promise.all([push(5), push(9)]);
    // Unserialised, both would read 10 and post -5 and -1, leaving 4.
    expect(level('1021')).toBe(9);
  });

  it('retrying a push whose response was lost is safe (re-read before write)', async () => {
    await control('/accounts/main/set', { externalId: '1022', qty: 10 });
    const a = adapter(MAIN, { request_timeout_ms: 150 });
    const req = { listingId: 'l', externalId: '1022', qty: 3, known: { qty: 10, version: null }, idempotencyKey: 'k' };
    loseNextWrite = true;
    expect((await rejection(a.pushLevels([req]))).kind).toBe('transient');
    expect(level('1022')).toBe(3); // it landed
    writes = [];
    expect(await a.pushLevels([req])).toEqual([{ listingId: 'l', outcome: 'ok', qty: 3, version: null, unchanged: true }]);
    expect(level('1022')).toBe(3);
    expect(writes).toEqual([]);
  });

  it('the account limit answers 429 "maximum API limit" with no Retry-After -> rate_limited', async () => {
    emu.knobs.enforceRateLimit = true;
    try {
      const a = adapter({ api_key: 'key-rl', api_secret: 'secret-rl' });
      const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => a.testConnection()));
      const errs = outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason as ChannelError);
      expect(errs.length).toBeGreaterThanOrEqual(10); // burst 40
      for (const e of errs) expect([e.kind, e.retryAfterMs, e.status]).toEqual(['rate_limited', null, 429]);
      const raw = await fetch(`${emu.url}/api/v4/Location`, { headers: { authorization: 'Basic ' + Buffer.from('key-rl:secret-rl').toString('base64') } });
      expect(raw.status).toBe(429);
      expect(raw.headers.get('retry-after')).toBeNull();
      expect(await raw.text()).toContain('maximum API limit');
    } finally {
      emu.knobs.enforceRateLimit = false;
    }
  });

  it('fault knobs: throttle -> rate_limited, 5xx -> transient, hang -> transient', async () => {
    const a = adapter(MAIN, { request_timeout_ms: 100 });
    try {
      emu.knobs.throttleRate = 1;
      expect((await rejection(a.testConnection())).kind).toBe('rate_limited');
      emu.knobs = { ...emu.knobs, throttleRate: 0, errorRate: 1 };
      const e5 = await rejection(a.testConnection());
      expect([e5.kind, e5.status]).toEqual(['transient', 500]);
      emu.knobs = { ...emu.knobs, errorRate: 0, timeoutRate: 1, timeoutHangMs: 250 };
      expect((await rejection(a.testConnection())).kind).toBe('transient');
    } finally {
      emu.knobs = { ...emu.knobs, throttleRate: 0, errorRate: 0, timeoutRate: 0 };
    }
  });
});

describe('eposnow webhooks and polling', () => {
  it('a till sale posts the unsigned V4 Transaction; the body is a hint (no events): the poll reads the sale under txn:<Id>', async () => {
    const a = adapter();
    const start = await a.pollEvents!(null);
    received.length = 0;
    const before = level('1005');
    const sale = await control('/accounts/main/sale', { externalId: '1005', qty: 2 });
    expect(level('1005')).toBe(before - 2);
    await emu.drain();
    expect(received).toHaveLength(1);
    const hook = received[0]!;
    // As the docs describe: the V4 model JSON and no signature of any kind.
    expect(JSON.parse(hook.rawBody.toString())).toEqual(sale.transaction);
    expect(Object.keys(hook.headers).filter((h) => /sign|epos|timestamp|hmac/i.test(h))).toEqual([]);
    expect(handler.pollOnHint).toBe(true);
    expect(await hinted(hook)).toEqual([]);
    // Edited lines, a stock body, a transaction the till does not have: shapes accepted, nothing taken from them.
    expect(await hinted(posted(hook.rawBody.toString().replace('"Quantity":2', '"Quantity":9')))).toEqual([]);
    expect(await hinted(posted(JSON.stringify({ ProductId: 1009, LocationId: 4501, ProductStockBatches: [{ CurrentStock: 500 }] })))).toEqual([]);
    expect(await hinted(posted(JSON.stringify({ Id: 990001, LocationId: 4501, TransactionItems: [{ ProductId: 1001, Quantity: 5 }] })))).toEqual([]);
    // The poll the hint asks for reads the API's transaction, under the key any other poll uses.
    expect((await a.pollEvents!(start.cursor)).events).toEqual([
      {
        kind: 'order',
        externalEventId: `txn:${sale.transaction.Id}`,
        occurredAt: sale.transaction.DateTime,
        effect: 'sale',
        orderId: String(sale.transaction.Id),
        lines: [{ externalId: '1005', qty: 2 }],
        externalLocationId: '4501',
      },
    ]);
  });

  it('only an AppUninstalled notification (GUESS, install.ts) is an uninstall: sales, stock bodies and junk are not', () => {
    expect(handler.isUninstall!(posted(JSON.stringify({ EventType: 'AppUninstalled', AppId: 'app', MerchantId: 'm' })))).toBe(true);
    expect(handler.isUninstall!(posted(JSON.stringify({ Id: 5, TransactionItems: [] })))).toBe(false);
    expect(handler.isUninstall!(posted(JSON.stringify([{ EventType: 'AppUninstalled' }])))).toBe(false);
    expect(handler.isUninstall!(posted(JSON.stringify({ EventType: 'AppInstalled' })))).toBe(false);
    expect(handler.isUninstall!(posted('{not json'))).toBe(false);
  });

  it('malformed bodies throw WebhookParseError; refunds become cancel events', async () => {
    expect(() => handler.parse(posted('{not json'))).toThrow(WebhookParseError);
    expect(() => handler.parse(posted('{"Id":"x"}'))).toThrow(WebhookParseError);
    expect(() => handler.parse(posted('{"hello":"world"}'))).toThrow(WebhookParseError);
    const refund = {
      Id: 5,
      DateTime: '2026-01-02T10:00:00',
      LocationId: 4501,
      TransactionItems: [
        { ProductId: 1001, Quantity: -1 },
        { ProductId: null, Quantity: 1 },
      ],
    };
    expect(transactionToEvents(refund)).toEqual([
      {
        kind: 'order',
        externalEventId: 'txn:5:return',
        occurredAt: '2026-01-02T10:00:00.000Z',
        effect: 'cancel',
        orderId: '5',
        lines: [{ externalId: '1001', qty: 1 }],
        externalLocationId: '4501',
      },
    ]);
  });

  it('duplicateRate=1 delivers the same transaction twice', async () => {
    received.length = 0;
    emu.knobs.duplicateRate = 1;
    try {
      await control('/accounts/main/sale', { externalId: '1006', qty: 1 });
      await emu.drain();
    } finally {
      emu.knobs.duplicateRate = 0;
    }
    expect(received).toHaveLength(2);
    expect(received[1]!.rawBody.toString()).toBe(received[0]!.rawBody.toString());
  });

  it('setLevel (back-office edit) changes stock and sends no webhook', async () => {
    received.length = 0;
    await control('/accounts/main/set', { externalId: '1008', qty: 33 });
    await emu.drain();
    expect(received).toHaveLength(0);
    expect(await adapter().readListings([{ externalId: '1008' }])).toEqual([expect.objectContaining({ qty: 33 })]);
  });

  it('pollEvents yields the sales the webhooks hinted at, then resumes from its cursor', async () => {
    const a = adapter();
    const start = await a.pollEvents!(null);
    expect(start.events).toEqual([]);
    expect(Number(start.cursor)).toBeGreaterThan(90000); // baseline at the newest transaction, history not replayed
    received.length = 0;
    for (const id of ['1002', '1003', '1004']) await control('/accounts/main/sale', { externalId: id, qty: 1 });
    await emu.drain();
    const hintedIds = received.map((w) => `txn:${(JSON.parse(w.rawBody.toString()) as { Id: number }).Id}`);
    expect(hintedIds).toHaveLength(3);
    const polled = await a.pollEvents!(start.cursor);
    expect(polled.events.map((e) => e.externalEventId)).toEqual(hintedIds);
    expect(polled.cursor).toBe(hintedIds.at(-1)!.slice('txn:'.length));
    expect(await a.pollEvents!(polled.cursor)).toEqual({ events: [], cursor: polled.cursor, done: true });
  });

  it('pollEvents reads page after page and stops at the first short one: 450 sales are three calls, not four', async () => {
    const a = adapter();
    const start = await a.pollEvents!(null);
    for (let i = 0; i < 450; i++) await control('/accounts/main/sale', { externalId: '1005', qty: 1 });
    const before = emu.stats.calls;
    const polled = await a.pollEvents!(start.cursor);
    expect(polled.events.filter((e) => e.kind === 'order')).toHaveLength(450);
    expect(polled.done).toBe(true);
    expect(emu.stats.calls - before).toBe(3);
    expect(await a.pollEvents!(polled.cursor)).toMatchObject({ events: [], done: true });
  });

  it('isNewer compares numbers and treats any version as newer than none', () => {
    const a = adapter();
    expect(a.isNewer('2', null)).toBe(true);
    expect(a.isNewer(null, '1')).toBe(false);
    expect(a.isNewer('10', '9')).toBe(true);
    expect(a.isNewer('9', '10')).toBe(false);
  });
});
