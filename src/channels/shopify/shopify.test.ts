// Shopify adapter <-> emulator over real HTTP, plus the webhook handler against signed deliveries.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import { ChannelError, WebhookParseError, type ChannelAdapter, type IncomingWebhook, type InboundEvent, type PushRequest } from '../contract.ts';
import { DEFAULT_KNOBS, type Emulator, type WriteRecord } from '../../../emulators/kit/index.ts';
import { hmacSha256 } from '../signing.ts';
import { createShopifyEmulator, LOCATION_GID, type ShopifyAccount } from '../../../emulators/shopify/index.ts';
import { shopifyChannel } from './index.ts';
import { openAdapter } from '../registry.ts';

const SECRET = 'shpss_test_secret';
const creds = { webhook_secret: SECRET };

interface Captured {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
}

let emu: Emulator<ShopifyAccount>;
let plus: Emulator<ShopifyAccount>; // Plus-plan restore rate: keeps the paging test fast
let receiver: FastifyInstance;
let hookUrl = '';
const received: Captured[] = [];

beforeAll(async () => {
  emu = createShopifyEmulator();
  plus = createShopifyEmulator({ restoreRate: 1000 });
  await emu.listen();
  await plus.listen();
  receiver = Fastify();
  receiver.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  receiver.post('/hook', async (req) => {
    received.push({ headers: req.headers, rawBody: req.body as Buffer });
    return { ok: true };
  });
  hookUrl = (await receiver.listen({ port: 0, host: '127.0.0.1' })) + '/hook';
});

afterAll(async () => {
  await emu.close();
  await plus.close();
  await receiver.close();
});

afterEach(() => {
  emu.knobs = { ...DEFAULT_KNOBS };
});

let n = 0;
function account(items = 3, on: Emulator<ShopifyAccount> = emu): ShopifyAccount {
  const id = `shop${++n}`;
  return on.addAccount({
    id,
    credentials: { access_token: `shpat_${id}` },
    webhookUrl: hookUrl,
    webhookSecret: SECRET,
    items: Array.from({ length: items }, (_, i) => ({ sku: `SKU-${i + 1}`, name: `Item ${i + 1}`, qty: 10 })),
  });
}

function adapter(acc: ShopifyAccount, settings: Record<string, unknown> = {}, on: Emulator<ShopifyAccount> = emu): ChannelAdapter {
  return openAdapter(shopifyChannel, { channelId: 'ch_test', baseUrl: on.url, credentials: { access_token: acc.credentials.access_token ?? '' }, settings });
}

function req(acc: ShopifyAccount, i: number, qty: number, knownQty: number | null): PushRequest {
  const item = acc.items[i]!;
  return {
    listingId: `lst_${item.num}`,
    externalId: item.gid,
    externalLocationId: LOCATION_GID,
    qty,
    known: { qty: knownQty, version: null },
    idempotencyKey: `k_${item.num}_${qty}`,
  };
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

async function deliveries(acc: ShopifyAccount, count: number, topic?: string): Promise<Captured[]> {
  const mine = () => received.filter((r) => r.headers['x-shopify-shop-domain'] === acc.domain && (!topic || r.headers['x-shopify-topic'] === topic));
  for (let i = 0; i < 100 && mine().length < count; i++) await new Promise((r) => setTimeout(r, 20));
  return mine();
}

function incoming(c: Captured): IncomingWebhook {
  return { headers: c.headers, rawBody: c.rawBody, url: hookUrl };
}

async function graphql(acc: ShopifyAccount, query: string, variables: Record<string, unknown>): Promise<Record<string, any>> {
  const res = await fetch(`${emu.url}/admin/api/2026-01/graphql.json`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shopify-access-token': acc.credentials.access_token ?? '' },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as Record<string, any>;
}

const SET_DOC = `mutation($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) @idempotent(key: "fixed-key-1") { inventoryAdjustmentGroup { id changes { name delta } } userErrors { code field } }
}`;

describe('shopify adapter over HTTP', () => {
  it('testConnection answers the shop name; a bad token is an auth error', async () => {
    const acc = account();
    expect(await adapter(acc).testConnection()).toEqual({ ok: true, account: acc.id });
    const bad = openAdapter(shopifyChannel, { channelId: 'x', baseUrl: emu.url, credentials: { access_token: 'nope' }, settings: {} });
    const err = await expectChannelError(bad.testConnection(), 'auth');
    expect(err.status).toBe(401);
  });

  it('listListings pages through 250-level pages, pacing to the cost bucket instead of being throttled', async () => {
    const acc = account(300, plus);
    const throttledBefore = plus.stats.throttled;
    const pages = [];
    for await (const page of adapter(acc, {}, plus).listListings()) pages.push(page);
    expect(pages.map((p) => p.length)).toEqual([250, 50]);
    const all = pages.flat();
    expect(new Set(all.map((l) => l.externalId)).size).toBe(300);
    expect(all[299]).toMatchObject({ sku: 'SKU-300', qty: 10, externalLocationId: LOCATION_GID });
    expect(all[0]!.version).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    expect(plus.stats.throttled).toBe(throttledBefore);
  });

  it('pushLevels changes the emulator state and returns the level updatedAt as version', async () => {
    const acc = account();
    const writes: WriteRecord[] = [];
    const onWrite = (w: WriteRecord) => w.accountId === acc.id && writes.push(w);
    emu.events.on('write', onWrite);
    const a = adapter(acc);
    const res = await a.pushLevels([req(acc, 0, 4, 10), req(acc, 1, 0, 10)]);
    emu.events.off('write', onWrite);
    expect(res.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(
      emu.spec
        .state(acc)
        .slice(0, 2)
        .map((s) => s.qty),
    ).toEqual([4, 0]);
    expect(writes.map((w) => w.qty)).toEqual([4, 0]);
    const read = await a.readListings([{ externalId: acc.items[0]!.gid }, { externalId: acc.items[1]!.gid }]);
    expect(res[0]).toMatchObject({ outcome: 'ok', qty: 4, version: read[0]!.version });
    expect(res[1]).toMatchObject({ outcome: 'ok', qty: 0, version: read[1]!.version });
    expect(a.isNewer(read[0]!.version, acc.items[2]!.updatedAt)).toBe(true);
    expect(a.isNewer(acc.items[2]!.updatedAt, read[0]!.version)).toBe(false);
  });

  it('pushing the value Shopify already holds is ok with the unchanged version and sends no webhook', async () => {
    const acc = account();
    const before = acc.items[0]!.updatedAt;
    const [res] = await adapter(acc).pushLevels([req(acc, 0, 10, 10)]);
    expect(res).toEqual({ listingId: `lst_${acc.items[0]!.num}`, outcome: 'ok', qty: 10, version: before });
    await new Promise((r) => setTimeout(r, 100));
    expect(received.filter((r) => r.headers['x-shopify-shop-domain'] === acc.domain)).toHaveLength(0);
  });

  it('a stale changeFromQuantity leaves the sale in place and returns the fresh remote; the rest of the batch still lands', async () => {
    const acc = account();
    await emu.spec.sale(emu, acc, { sku: 'SKU-1', qty: 3 }); // Shopify now holds 7, we still think 10
    const res = await adapter(acc).pushLevels([req(acc, 0, 9, 10), req(acc, 1, 8, 10)]);
    expect(res[0]).toMatchObject({ outcome: 'stale', remote: { externalId: acc.items[0]!.gid, qty: 7 } });
    expect(res[1]).toMatchObject({ outcome: 'ok', qty: 8 });
    expect(
      emu.spec
        .state(acc)
        .slice(0, 2)
        .map((s) => s.qty),
    ).toEqual([7, 8]);
  });

  it('an unknown compare value (null) overwrites; an unknown item fails alone', async () => {
    const acc = account();
    await emu.spec.setLevel(emu, acc, { sku: 'SKU-1', qty: 55 });
    const ghost: PushRequest = { ...req(acc, 1, 1, null), listingId: 'lst_ghost', externalId: 'gid://shopify/InventoryItem/999999' };
    const res = await adapter(acc).pushLevels([req(acc, 0, 6, null), ghost]);
    expect(res[0]).toMatchObject({ outcome: 'ok', qty: 6 });
    expect(res[1]).toMatchObject({ outcome: 'failed', retryable: false });
    expect((res[1] as { error: string }).error).toContain('INVALID_INVENTORY_ITEM');
    expect(emu.spec.state(acc)[0]!.qty).toBe(6);
  });

  it('a retried batch (same idempotency key, same input) replays the original result instead of going stale', async () => {
    const acc = account();
    const a = adapter(acc);
    const batch = [req(acc, 0, 3, 10)];
    const first = await a.pushLevels(batch);
    const second = await a.pushLevels(batch); // e.g. the first answer was lost to a timeout
    expect(first[0]).toMatchObject({ outcome: 'ok', qty: 3 });
    expect(second).toEqual(first);
    expect(emu.spec.state(acc)[0]!.qty).toBe(3);
  });

  it('the emulator enforces the idempotency key, the reason list and the 250-entry input limit', async () => {
    const acc = account();
    const q = (qty: number) => ({ inventoryItemId: acc.items[0]!.gid, locationId: LOCATION_GID, quantity: qty, changeFromQuantity: null });
    const once = await graphql(acc, SET_DOC, { input: { name: 'available', reason: 'correction', quantities: [q(5)] } });
    expect(once.data.inventorySetQuantities.inventoryAdjustmentGroup.changes[0]).toEqual({ name: 'available', delta: -5 });
    const again = await graphql(acc, SET_DOC, { input: { name: 'available', reason: 'correction', quantities: [q(5)] } });
    expect(again.data).toEqual(once.data);
    const other = await graphql(acc, SET_DOC, { input: { name: 'available', reason: 'correction', quantities: [q(6)] } });
    expect(other.data.inventorySetQuantities.userErrors[0].code).toBe('IDEMPOTENCY_KEY_PARAMETER_MISMATCH');
    const noKey = SET_DOC.replace(' @idempotent(key: "fixed-key-1")', '');
    const badReason = await graphql(acc, noKey, { input: { name: 'available', reason: 'because', quantities: [q(7)] } });
    expect(badReason.data.inventorySetQuantities).toMatchObject({
      inventoryAdjustmentGroup: null,
      userErrors: [{ code: 'INVALID_REASON', field: ['input', 'reason'] }],
    });
    const tooMany = await graphql(acc, noKey, { input: { name: 'available', reason: 'correction', quantities: Array.from({ length: 251 }, () => q(1)) } });
    expect(tooMany.errors[0].extensions.code).toBe('MAX_INPUT_SIZE_EXCEEDED');
    expect(emu.spec.state(acc)[0]!.qty).toBe(5);
  });

  it('an empty cost bucket answers 200 + THROTTLED and the adapter maps it to rate_limited with the bucket wait', async () => {
    const acc = account(250);
    const a = adapter(acc);
    const refs = acc.items.map((i) => ({ externalId: i.gid }));
    // Two 750-point reads at once: the second finds ~250 points left in the 1000-point bucket.
    const results = await Promise.allSettled([a.readListings(refs), a.readListings(refs)]);
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const err = (rejected[0] as PromiseRejectedResult).reason as ChannelError;
    expect(err).toBeInstanceOf(ChannelError);
    expect(err.kind).toBe('rate_limited');
    // (750 requested - ~250 available) / 100 points per second = ~5 s.
    expect(err.retryAfterMs).toBeGreaterThan(4000);
    expect(err.retryAfterMs).toBeLessThanOrEqual(5100);
    const raw = await graphql(acc, 'query { nodes(ids: ["gid://shopify/InventoryItem/1"]) { id } }', {});
    expect(raw.extensions.cost.throttleStatus).toMatchObject({ maximumAvailable: 1000, restoreRate: 100 });
  });

  it('the throttle knob gives the same THROTTLED body (HTTP 200) -> rate_limited', async () => {
    const acc = account();
    emu.knobs.throttleRate = 1;
    const res = await fetch(`${emu.url}/admin/api/2026-01/graphql.json`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shopify-access-token': acc.credentials.access_token ?? '' },
      body: JSON.stringify({ query: '{ shop { name } }' }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe('THROTTLED');
    const err = await expectChannelError(adapter(acc).testConnection(), 'rate_limited');
    expect(err.retryAfterMs).toBe(1000);
  });

  it('an HTTP 429 with Retry-After is also rate_limited', async () => {
    const app = Fastify();
    app.post('/admin/api/2026-01/graphql.json', async (_req, reply) =>
      reply.code(429).header('retry-after', '2').send({ errors: 'Exceeded 2 calls per second for api client.' }),
    );
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const a = openAdapter(shopifyChannel, { channelId: 'x', baseUrl: url, credentials: { access_token: 't' }, settings: {} });
      const err = await expectChannelError(a.testConnection(), 'rate_limited');
      expect(err.retryAfterMs).toBe(2000);
    } finally {
      await app.close();
    }
  });

  it('5xx knob -> transient', async () => {
    const acc = account();
    emu.knobs.errorRate = 1;
    const err = await expectChannelError(adapter(acc).pushLevels([req(acc, 0, 1, 10)]), 'transient');
    expect(err.status).toBe(503);
    expect(emu.spec.state(acc)[0]!.qty).toBe(10);
  });

  it('timeout knob -> transient within request_timeout_ms', async () => {
    const acc = account();
    emu.knobs.timeoutRate = 1;
    emu.knobs.timeoutHangMs = 400;
    const started = Date.now();
    await expectChannelError(adapter(acc, { request_timeout_ms: 150 }).testConnection(), 'transient');
    expect(Date.now() - started).toBeLessThan(400);
  });
});

describe('shopify webhooks', () => {
  const handler = shopifyChannel.webhook;

  it('a sale sends signed orders/create and inventory_levels/update that verify and parse', async () => {
    const acc = account();
    const sale = await emu.spec.sale(emu, acc, { sku: 'SKU-2', qty: 2 });
    const got = await deliveries(acc, 2);
    expect(got.map((g) => g.headers['x-shopify-topic']).sort()).toEqual(['inventory_levels/update', 'orders/create']);
    for (const g of got) expect(handler.verify(incoming(g), creds, new Date())).toEqual({ ok: true });
    const order = handler.parse(incoming(got.find((g) => g.headers['x-shopify-topic'] === 'orders/create')!));
    expect(order).toEqual([
      expect.objectContaining({
        kind: 'order',
        effect: 'sale',
        orderId: `gid://shopify/Order/${sale.order_id}`,
        lines: [{ externalId: null, sku: 'SKU-2', qty: 2 }],
      }),
    ]);
    const level = handler.parse(incoming(got.find((g) => g.headers['x-shopify-topic'] === 'inventory_levels/update')!));
    expect(level).toEqual([
      expect.objectContaining({
        kind: 'level',
        level: expect.objectContaining({ externalId: acc.items[1]!.gid, externalLocationId: LOCATION_GID, qty: 8, version: sale.version }),
      }),
    ]);
    expect(order[0]!.externalEventId).not.toBe(level[0]!.externalEventId);
  });

  it("echo: pushing N sends inventory_levels/update with N and the push's version", async () => {
    const acc = account();
    const [res] = await adapter(acc).pushLevels([req(acc, 2, 17, 10)]);
    expect(res).toMatchObject({ outcome: 'ok', qty: 17 });
    const [hook] = await deliveries(acc, 1, 'inventory_levels/update');
    expect(handler.verify(incoming(hook!), creds, new Date())).toEqual({ ok: true });
    const [ev] = handler.parse(incoming(hook!)) as Array<Extract<InboundEvent, { kind: 'level' }>>;
    expect(ev!.level).toMatchObject({ externalId: acc.items[2]!.gid, qty: 17, version: (res as { version: string }).version });
  });

  it('a merchant edit (setLevel) sends inventory_levels/update with the new quantity', async () => {
    const acc = account();
    await emu.spec.setLevel(emu, acc, { externalId: acc.items[0]!.gid, qty: 42 });
    const [hook] = await deliveries(acc, 1, 'inventory_levels/update');
    const [ev] = handler.parse(incoming(hook!)) as Array<Extract<InboundEvent, { kind: 'level' }>>;
    expect(ev!.level.qty).toBe(42);
  });

  it('rejects tampered, unsigned and stale deliveries; malformed JSON is a WebhookParseError', async () => {
    const acc = account();
    await emu.spec.setLevel(emu, acc, { sku: 'SKU-1', qty: 1 });
    const [hook] = await deliveries(acc, 1);
    const good = incoming(hook!);
    const now = new Date();
    expect(handler.verify(good, creds, now)).toEqual({ ok: true });
    const tampered = { ...good, rawBody: Buffer.from(good.rawBody.toString().replace('"available":1', '"available":100')) };
    expect(handler.verify(tampered, creds, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(handler.verify(good, { webhook_secret: 'other' }, now)).toEqual({ ok: false, reason: 'bad_signature' });
    const { ['x-shopify-hmac-sha256']: _sig, ...unsigned } = good.headers;
    expect(handler.verify({ ...good, headers: unsigned }, creds, now)).toEqual({ ok: false, reason: 'missing_signature' });
    const at = (ms: number) => ({ ...good, headers: { ...good.headers, 'x-shopify-triggered-at': new Date(now.getTime() + ms).toISOString() } });
    expect(handler.verify(at(-4 * 3600_000), creds, now)).toEqual({ ok: true }); // inside Shopify's 4 h retry window
    expect(handler.verify(at(-6 * 3600_000), creds, now)).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(handler.verify(at(10 * 60_000), creds, now)).toEqual({ ok: false, reason: 'stale_timestamp' });
    const bad = Buffer.from('{"inventory_item_id": 1,');
    const malformed = { ...good, rawBody: bad, headers: { ...good.headers, 'x-shopify-hmac-sha256': hmacSha256(SECRET, bad, 'base64') } };
    expect(handler.verify(malformed, creds, now)).toEqual({ ok: true });
    expect(() => handler.parse(malformed)).toThrow(WebhookParseError);
    const wrongShape = Buffer.from('{"inventory_item_id": "abc"}');
    expect(() => handler.parse({ ...good, rawBody: wrongShape })).toThrow(WebhookParseError);
  });

  it("Shopify's documented orders/create sample (64-bit order and line item ids) verifies and parses, ids exact", () => {
    // Raw bytes, as Shopify sends them: JSON.parse would round 820982911946154508 (above 2^53).
    const rawBody = readFileSync(new URL('./fixtures/orders-create-sample.json', import.meta.url));
    const headers = {
      'x-shopify-topic': 'orders/create',
      'x-shopify-event-id': 'ev-sample',
      'x-shopify-triggered-at': new Date().toISOString(),
      'x-shopify-hmac-sha256': hmacSha256(SECRET, rawBody, 'base64'),
    };
    const delivery = { headers, rawBody, url: hookUrl };
    expect(handler.verify(delivery, creds, new Date())).toEqual({ ok: true });
    expect(handler.parse(delivery)).toEqual([
      {
        kind: 'order',
        externalEventId: 'ev-sample',
        occurredAt: '2021-12-31T19:00:00-05:00',
        effect: 'sale',
        orderId: 'gid://shopify/Order/820982911946154508',
        lines: [{ externalId: null, sku: 'IPOD2008PINK', qty: 1 }],
        externalLocationId: null,
      },
    ]);
    // Without admin_graphql_api_id the order GID is built from the numeric id: still exact.
    const bare = Buffer.from(rawBody.toString('utf8').replace(/"admin_graphql_api_id": "gid:\/\/shopify\/Order\/\d+",/, ''));
    expect(bare.toString('utf8')).not.toContain('gid://shopify/Order/');
    const [ev] = handler.parse({ ...delivery, rawBody: bare }) as Array<Extract<InboundEvent, { kind: 'order' }>>;
    expect(ev!.orderId).toBe('gid://shopify/Order/820982911946154508');
  });

  it('64-bit ids stay exact in inventory_levels/update and in orders/cancelled refund lines', () => {
    const level = Buffer.from('{"inventory_item_id":9007199254740993,"location_id":9007199254740995,"available":4,"updated_at":"2026-01-02T03:04:05Z"}');
    const [ev] = handler.parse({
      headers: { 'x-shopify-topic': 'inventory_levels/update', 'x-shopify-event-id': 'ev-l' },
      rawBody: level,
      url: hookUrl,
    }) as Array<Extract<InboundEvent, { kind: 'level' }>>;
    expect(ev!.level).toMatchObject({
      externalId: 'gid://shopify/InventoryItem/9007199254740993',
      externalLocationId: 'gid://shopify/Location/9007199254740995',
      qty: 4,
    });
    // Two line items whose ids round to the same double: each refund line must find its own.
    const cancelled = Buffer.from(
      '{"id":820982911946154508,"cancelled_at":"2026-01-02T03:04:05Z","line_items":[{"id":9007199254740992,"sku":"A","quantity":1},{"id":9007199254740993,"sku":"B","quantity":1}],' +
        '"refunds":[{"restock":true,"refund_line_items":[{"line_item_id":9007199254740993,"quantity":1,"restock_type":"cancel","location_id":9007199254740995}]}]}',
    );
    const [c] = handler.parse({ headers: { 'x-shopify-topic': 'orders/cancelled', 'x-shopify-event-id': 'ev-c' }, rawBody: cancelled, url: hookUrl }) as Array<
      Extract<InboundEvent, { kind: 'order' }>
    >;
    expect(c).toMatchObject({
      effect: 'cancel',
      orderId: 'gid://shopify/Order/820982911946154508',
      lines: [{ sku: 'B', qty: 1 }],
      externalLocationId: 'gid://shopify/Location/9007199254740995',
    });
  });

  it('orders/cancelled gives back restocked lines only; unknown topics are ignored', () => {
    const body = Buffer.from(
      JSON.stringify({
        id: 77,
        cancelled_at: '2026-01-02T03:04:05Z',
        line_items: [
          { id: 1, sku: 'A', quantity: 2 },
          { id: 2, sku: 'B', quantity: 1 },
        ],
        refunds: [
          {
            restock: true,
            refund_line_items: [
              { line_item_id: 1, quantity: 2, restock_type: 'cancel', location_id: 5 },
              { line_item_id: 2, quantity: 1, restock_type: 'no_restock', location_id: 5 },
            ],
          },
        ],
      }),
    );
    const headers = { 'x-shopify-topic': 'orders/cancelled', 'x-shopify-event-id': 'ev-1' };
    expect(handler.parse({ headers, rawBody: body, url: hookUrl })).toEqual([
      {
        kind: 'order',
        externalEventId: 'ev-1',
        occurredAt: '2026-01-02T03:04:05Z',
        effect: 'cancel',
        orderId: 'gid://shopify/Order/77',
        lines: [{ externalId: null, sku: 'A', qty: 2 }],
        externalLocationId: 'gid://shopify/Location/5',
      },
    ]);
    const other = handler.parse({
      headers: { 'x-shopify-topic': 'products/update', 'x-shopify-webhook-id': 'wh-9' },
      rawBody: Buffer.from('{}'),
      url: hookUrl,
    });
    expect(other).toEqual([expect.objectContaining({ kind: 'ignored', externalEventId: 'wh-9' })]);
  });

  it('duplicateRate=1 delivers the same event twice with the same externalEventId', async () => {
    const acc = account();
    emu.knobs.duplicateRate = 1;
    await emu.spec.setLevel(emu, acc, { sku: 'SKU-3', qty: 3 });
    const got = await deliveries(acc, 2);
    expect(got).toHaveLength(2);
    const ids = got.map((g) => handler.parse(incoming(g))[0]!.externalEventId);
    expect(ids[0]).toBe(ids[1]);
    const verdicts = await Promise.all(got.map((g) => handler.verify(incoming(g), creds, new Date())));
    expect(verdicts.every((v) => v.ok)).toBe(true);
  });
});
