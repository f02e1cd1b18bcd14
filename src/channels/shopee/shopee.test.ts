// The Shopee module against the Shopee emulator over real HTTP on 127.0.0.1 (no mocks): signed
// calls, list / read / push, throttling, token renewal stored through saveCredentials, orders
// polled, and pushes verified (unsigned, tampered, stale and foreign ones refused) and re-read.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../emulators/kit/index.ts';
import { createShopeeEmulator, type ShopeeAccount } from '../../../emulators/shopee/index.ts';
import { ChannelError, type ChannelAdapter } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import { authorizeUrl, clearShopeeWebhookCache, exchangeCode, shopeeChannel, type ShopeeAdapter } from './index.ts';

const PARTNER_ID = '2004321';
const PARTNER_KEY = 'shpk-adapter-test-key';
const SHOP_ID = '700555';

const emu: Emulator<ShopeeAccount> = createShopeeEmulator();
let rx: http.Server;
let rxUrl = '';
const pushes: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];

beforeAll(async () => {
  await emu.listen();
  rx = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      pushes.push({ headers: req.headers, body: Buffer.concat(parts) });
      res.end();
    });
  });
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  rxUrl = `http://127.0.0.1:${(rx.address() as AddressInfo).port}/webhooks/shopee/ch_shopee`;
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => rx.close(r));
});

async function control(path: string, body: unknown = {}): Promise<any> {
  const res = await fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBeLessThan(300);
  return res.json();
}

let creds: Record<string, string>;
let saved: Array<Record<string, string>>;

async function openShop(items: Array<{ sku: string; name: string; qty: number; item?: string }>): Promise<void> {
  emu.knobs = { ...emu.knobs, enforceRateLimit: false, recordRequests: false };
  emu.requests.length = 0;
  await control('/accounts', { id: 'shop', credentials: { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: SHOP_ID }, webhookUrl: rxUrl, items });
  const t = await control('/accounts/shop/token');
  creds = {
    partner_id: PARTNER_ID,
    partner_key: PARTNER_KEY,
    shop_id: SHOP_ID,
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    access_expires_at: new Date(Date.now() + t.expire_in * 1000).toISOString(),
  };
  saved = [];
  pushes.length = 0;
  clearShopeeWebhookCache();
}

function adapter(c: Record<string, string> = creds): ShopeeAdapter {
  return openAdapter(shopeeChannel, {
    channelId: 'ch_shopee',
    baseUrl: emu.url,
    credentials: c,
    settings: {},
    saveCredentials: async (x) => {
      saved.push(x);
    },
  }) as ShopeeAdapter;
}

async function all(a: ChannelAdapter) {
  const out = [];
  for await (const page of a.listListings()) out.push(...page);
  return out;
}

const qtyOf = (sku: string) => emu.spec.state(emu.accounts.get('shop')!).find((s) => s.sku === sku)?.qty;

describe('stock', () => {
  beforeEach(() =>
    openShop([
      ...Array.from({ length: 104 }, (_, n) => ({ sku: `P-${n}`, name: `Plain ${n}`, qty: n })),
      { sku: 'TEE-S', name: 'Tee S', qty: 3, item: 'Tee' },
      { sku: 'TEE-M', name: 'Tee M', qty: 4, item: 'Tee' },
    ]),
  );

  it('connects, and lists every model across pages (items without variants as model 0)', async () => {
    const a = adapter();
    expect((await a.testConnection()).account).toContain(SHOP_ID);
    const rows = await all(a);
    expect(rows).toHaveLength(106);
    expect(new Set(rows.map((r) => r.externalId)).size).toBe(106);
    expect(rows.find((r) => r.sku === 'P-7')).toMatchObject({ externalId: expect.stringMatching(/^\d+:0$/), qty: 7, name: 'Plain 7' });
    const tee = rows.filter((r) => r.name === 'Tee');
    expect(tee.map((r) => [r.sku, r.qty])).toEqual([
      ['TEE-S', 3],
      ['TEE-M', 4],
    ]);
    expect(tee[0]!.externalId).toMatch(/^\d+:[1-9]\d*$/);
  });

  it('pushes absolute seller_stock, one update_stock per item carrying its models; reads back; refusals are per model', async () => {
    const a = adapter();
    const rows = await all(a);
    const [s, m] = rows.filter((r) => r.name === 'Tee');
    const p = rows.find((r) => r.sku === 'P-1')!;
    emu.knobs = { ...emu.knobs, recordRequests: true };
    const known = { qty: null, version: null };
    const res = await a.pushLevels([
      { listingId: 'l1', externalId: s!.externalId, qty: 9, known, idempotencyKey: 'k1' },
      { listingId: 'l2', externalId: m!.externalId, qty: 0, known, idempotencyKey: 'k2' },
      { listingId: 'l3', externalId: p.externalId, qty: 50, known, idempotencyKey: 'k3' },
      { listingId: 'l4', externalId: `${s!.externalId.split(':')[0]}:12345`, qty: 1, known, idempotencyKey: 'k4' },
      { listingId: 'l5', externalId: 'nonsense', qty: 1, known, idempotencyKey: 'k5' },
    ]);
    expect(res.map((r) => r.outcome)).toEqual(['ok', 'ok', 'ok', 'failed', 'failed']);
    expect([qtyOf('TEE-S'), qtyOf('TEE-M'), qtyOf('P-1')]).toEqual([9, 0, 50]);
    const writes = emu.requests.filter((r) => r.url.startsWith('/api/v2/product/update_stock'));
    expect(writes).toHaveLength(2);
    expect(writes[0]!.body).toMatchObject({
      item_id: Number(s!.externalId.split(':')[0]),
      stock_list: expect.arrayContaining([{ model_id: Number(s!.externalId.split(':')[1]), seller_stock: [{ stock: 9 }] }]),
    });
    // Every call carried the partner, shop, token and a sign over them (the emulator checked it).
    expect(writes.every((w) => /[?&]sign=[0-9a-f]{64}/.test(w.url) && w.url.includes(`shop_id=${SHOP_ID}`))).toBe(true);
    const back = await a.readListings([{ externalId: s!.externalId }, { externalId: p.externalId }, { externalId: 'x' }]);
    expect(back.map((r) => [r.sku, r.qty]).sort()).toEqual([
      ['P-1', 50],
      ['TEE-S', 9],
    ]);
  });

  it('a 429 is rate_limited with the retry-after; a wrong partner key is auth', async () => {
    const a = adapter();
    emu.knobs = { ...emu.knobs, throttleRate: 1 };
    try {
      const err = await a.testConnection().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).kind).toBe('rate_limited');
      expect((err as ChannelError).retryAfterMs).toBe(1000);
    } finally {
      emu.knobs = { ...emu.knobs, throttleRate: 0 };
    }
    const wrong = await adapter({ ...creds, partner_key: 'not-the-key' })
      .testConnection()
      .catch((e: unknown) => e);
    expect((wrong as ChannelError).kind).toBe('auth');
  });
});

describe('tokens', () => {
  beforeEach(() => openShop([{ sku: 'A', name: 'Apple', qty: 5 }]));

  it('renews a token about to expire before calling, and stores the new pair', async () => {
    const a = adapter({ ...creds, access_expires_at: new Date(Date.now() + 60_000).toISOString() });
    await a.testConnection();
    expect(saved).toHaveLength(1);
    expect(saved[0]!.access_token).not.toBe(creds.access_token);
    expect(saved[0]!.refresh_token).not.toBe(creds.refresh_token);
    expect(Date.parse(saved[0]!.access_expires_at!)).toBeGreaterThan(Date.now() + 3 * 3600_000);
    // The old pair is spent on Shopee; the stored one works.
    await adapter(saved[0]!).testConnection();
  });

  it('a token refused early is renewed once; a refused renewal is auth', async () => {
    await control('/tokens', { expire: true });
    const a = adapter();
    await a.testConnection();
    expect(saved).toHaveLength(1);
    await control('/tokens', { expire: true });
    // The refresh token in `creds` was spent by the renewal above: nothing can renew this one.
    const stale = await adapter()
      .testConnection()
      .catch((e: unknown) => e);
    expect((stale as ChannelError).kind).toBe('auth');
  });
});

describe('shop authorisation', () => {
  beforeEach(() => openShop([{ sku: 'A', name: 'Apple', qty: 5 }]));

  it('the signed link redirects with a code and the shop; the code becomes a working token pair, once', async () => {
    const app = { partnerId: PARTNER_ID, partnerKey: PARTNER_KEY };
    const redirect = 'https://stockclerk.example/oauth/callback/shopee';
    const res = await fetch(authorizeUrl({ ...app, baseUrl: emu.url, redirect }), { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(redirect);
    const code = back.searchParams.get('code')!;
    const shopId = back.searchParams.get('shop_id')!;
    expect(shopId).toBe(SHOP_ID);
    const got = await exchangeCode({ ...app, baseUrl: emu.url, code, shopId });
    expect(got).toMatchObject({ partner_id: PARTNER_ID, shop_id: SHOP_ID, access_token: expect.any(String), refresh_token: expect.any(String) });
    await adapter(got).testConnection();
    const again = await exchangeCode({ ...app, baseUrl: emu.url, code, shopId }).catch((e: unknown) => e);
    expect((again as ChannelError).kind).toBe('auth');
    // A link signed with another key, or older than five minutes, is refused by Shopee.
    expect((await fetch(authorizeUrl({ ...app, partnerKey: 'wrong', baseUrl: emu.url, redirect }), { redirect: 'manual' })).status).toBe(403);
    expect((await fetch(authorizeUrl({ ...app, baseUrl: emu.url, redirect, now: Date.now() - 6 * 60_000 }), { redirect: 'manual' })).status).toBe(403);
  });
});

describe('orders and pushes', () => {
  beforeEach(() => openShop([{ sku: 'A', name: 'Apple', qty: 5 }]));

  it('polls orders since the cursor: each event once per change, under the order id', async () => {
    const a = adapter();
    const first = await a.pollEvents!(null);
    expect(first.events).toEqual([]);
    const sale = await control('/accounts/shop/sale', { sku: 'A', qty: 2 });
    const p1 = await a.pollEvents!(first.cursor);
    expect(p1.events).toEqual([
      expect.objectContaining({
        kind: 'order',
        effect: 'sale',
        externalEventId: `order:${sale.order_sn}`,
        orderId: sale.order_sn,
        lines: [expect.objectContaining({ sku: 'A', qty: 2 })],
      }),
    ]);
    expect((await a.pollEvents!(p1.cursor)).events).toEqual([]);
    await new Promise((r) => setTimeout(r, 1100));
    await control('/accounts/shop/cancel', { order_sn: sale.order_sn });
    const p2 = await a.pollEvents!(p1.cursor);
    // The order changed, so it is read again: its sale comes under the id already recorded (the
    // Watcher's exactly-once key drops it), and the cancellation is new.
    expect(p2.events.map((e) => e.externalEventId).sort()).toEqual([`order:${sale.order_sn}`, `order:${sale.order_sn}:cancel`]);
    expect((await a.pollEvents!(p2.cursor)).events).toEqual([]);
  });

  it('a signed push is verified and re-read into the same order event the poll gives; unsigned, tampered, stale and foreign pushes are refused', async () => {
    const sale = await control('/accounts/shop/sale', { sku: 'A', qty: 1 });
    await emu.drain();
    expect(pushes).toHaveLength(1);
    const push = pushes[0]!;
    const wh = shopeeChannel.webhook;
    const channel = { baseUrl: emu.url };
    const incoming = (body: Buffer, headers: http.IncomingHttpHeaders = push.headers, url = rxUrl) => ({ headers, rawBody: body, url });
    expect(await wh.verify(incoming(push.body), creds, new Date(), channel)).toEqual({ ok: true });
    const events = wh.parse(incoming(push.body));
    expect(events).toEqual([
      expect.objectContaining({
        kind: 'order',
        effect: 'sale',
        externalEventId: `order:${sale.order_sn}`,
        lines: [expect.objectContaining({ sku: 'A', qty: 1 })],
      }),
    ]);

    const { authorization: _drop, ...unsigned } = push.headers;
    expect(await wh.verify(incoming(push.body, unsigned), creds, new Date(), channel)).toEqual({ ok: false, reason: 'missing_signature' });
    const tampered = Buffer.from(push.body.toString().replace('"code":3', '"code":4'));
    expect(await wh.verify(incoming(tampered), creds, new Date(), channel)).toEqual({ ok: false, reason: 'bad_signature' });
    // Signed for another URL (the signature covers the callback URL).
    expect(await wh.verify(incoming(push.body, push.headers, `${rxUrl}x`), creds, new Date(), channel)).toEqual({ ok: false, reason: 'bad_signature' });
    // Correctly signed, but 6 minutes old.
    const old = JSON.parse(push.body.toString());
    old.timestamp -= 360;
    const oldBody = Buffer.from(JSON.stringify(old));
    const oldSig = createHmac('sha256', PARTNER_KEY).update(`${rxUrl}|${oldBody.toString()}`).digest('hex');
    expect(await wh.verify(incoming(oldBody, { authorization: oldSig }), creds, new Date(), channel)).toEqual({ ok: false, reason: 'stale_timestamp' });
    // Another shop of the same partner app: not this channel's push.
    expect(await wh.verify(incoming(push.body), { ...creds, shop_id: '1' }, new Date(), channel)).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('a push whose order cannot be read now is recorded as ignored, leaving the sale to the poll', async () => {
    await control('/accounts/shop/sale', { sku: 'A', qty: 1 });
    await emu.drain();
    const push = pushes[0]!;
    const req = { headers: push.headers, rawBody: push.body, url: rxUrl };
    emu.knobs = { ...emu.knobs, errorRate: 1 };
    try {
      expect(await shopeeChannel.webhook.verify(req, creds, new Date(), { baseUrl: emu.url })).toEqual({ ok: true });
    } finally {
      emu.knobs = { ...emu.knobs, errorRate: 0 };
    }
    expect(shopeeChannel.webhook.parse(req)).toEqual([expect.objectContaining({ kind: 'ignored' })]);
  });
});
