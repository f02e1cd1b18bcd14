// The TikTok Shop adapter against the TikTok Shop emulator over real HTTP: listing and reading SKUs
// per warehouse, pushes through inventory/update, sales polled from orders (each once), the token
// renewed before expiry and stored, throttling as rate_limited, and webhooks verified by TikTok's
// scheme (unsigned, tampered and stale ones refused) and re-read through the API.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../emulators/kit/index.ts';
import { createTiktokShopEmulator, tiktokShopWebhookSign, type TiktokShopAccount } from '../../../emulators/tiktok_shop/index.ts';
import { ChannelError, type ChannelAdapter, type IncomingWebhook } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import { clearTiktokShopWebhookCaches, tiktokShopChannel } from './index.ts';

const APP_KEY = 'appkey77';
const APP_SECRET = 'appsecret77';
const WH = '7000000000000000777';
const emu: Emulator<TiktokShopAccount> = createTiktokShopEmulator();

async function control(path: string, body: unknown = {}): Promise<any> {
  const res = await fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBeLessThan(300);
  return res.json();
}

let creds: Record<string, string>;
let saved: Array<Record<string, string>>;
const adapter = (settings: Record<string, unknown> = {}): ChannelAdapter =>
  openAdapter(tiktokShopChannel, {
    channelId: 'ch_test',
    baseUrl: emu.url,
    credentials: creds,
    settings,
    saveCredentials: async (c) => void saved.push(c),
  });

beforeAll(async () => {
  await emu.listen();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(async () => {
  emu.knobs = { ...emu.knobs, throttleRate: 0 };
  await control('/accounts', {
    id: 'shop',
    credentials: { app_key: APP_KEY, app_secret: APP_SECRET },
    warehouses: [WH],
    items: Array.from({ length: 60 }, (_, i) => ({ sku: `S-${i}`, name: `Item ${i}`, qty: i })),
  });
  const t = await control('/accounts/shop/token');
  creds = {
    app_key: APP_KEY,
    app_secret: APP_SECRET,
    access_token: t.access_token,
    refresh_token: t.refresh_token,
    access_expires_at: new Date(Date.now() + t.expires_in * 1000).toISOString(),
  };
  saved = [];
  clearTiktokShopWebhookCaches();
});

const all = async (a: ChannelAdapter) => {
  const out = [];
  for await (const page of a.listListings()) out.push(...page);
  return out;
};

describe('TikTok Shop adapter: stock', () => {
  it('lists every SKU across pages with its warehouse quantity, and pushes absolute levels per warehouse', async () => {
    const a = adapter();
    expect(await a.testConnection()).toEqual({ ok: true, account: 'Shop shop' });
    const listings = await all(a);
    expect(listings).toHaveLength(60); // two pages of 50
    const s5 = listings.find((l) => l.sku === 'S-5')!;
    expect(s5).toMatchObject({ qty: 5, externalLocationId: WH });
    const s6 = listings.find((l) => l.sku === 'S-6')!;
    const res = await a.pushLevels([
      { listingId: 'l5', externalId: s5.externalId, externalLocationId: WH, qty: 2, known: { qty: 5, version: null }, idempotencyKey: 'k5' },
      { listingId: 'l6', externalId: s6.externalId, externalLocationId: WH, qty: 0, known: { qty: 6, version: null }, idempotencyKey: 'k6' },
      { listingId: 'bad', externalId: 'nope', qty: 1, known: { qty: null, version: null }, idempotencyKey: 'kb' },
    ]);
    expect(res.map((r) => [r.listingId, r.outcome])).toEqual([
      ['bad', 'failed'],
      ['l5', 'ok'],
      ['l6', 'ok'],
    ]);
    const state = emu.spec.state(emu.accounts.get('shop')!);
    expect(state.find((s) => s.sku === 'S-5')!.qty).toBe(2);
    expect(state.find((s) => s.sku === 'S-6')!.qty).toBe(0);
    expect((await a.readListings([{ externalId: s5.externalId }])).map((l) => l.qty)).toEqual([2]);
  });

  it('counts one call per product, and a batch throttled part-way keeps what it wrote and retries the rest', async () => {
    const a = adapter();
    expect(a.pushCalls!([{ externalId: '11:1' }, { externalId: '11:2' }, { externalId: '12:3' }, { externalId: 'junk' }])).toBe(2);
    const listings = (await all(a)).slice(0, 45);
    expect(a.pushCalls!(listings)).toBe(45); // one product per SKU here
    // 45 inventory/update calls back to back: more than the emulator's burst of 20 (its GUESS of TikTok's limit).
    const res = await a.pushLevels(
      listings.map((l, i) => ({
        listingId: `l${i}`,
        externalId: l.externalId,
        externalLocationId: WH,
        qty: 7,
        known: { qty: l.qty, version: null },
        idempotencyKey: `k${i}`,
      })),
    );
    expect(res).toHaveLength(45);
    const ok = res.filter((r) => r.outcome === 'ok');
    const later = res.filter((r) => r.outcome === 'failed');
    expect(ok.length).toBeGreaterThan(5);
    expect(later.length).toBeGreaterThan(0);
    expect(later.every((r) => r.outcome === 'failed' && r.retryable && /429/.test(r.error))).toBe(true);
    const state = emu.spec.state(emu.accounts.get('shop')!);
    for (const r of ok) expect(state.find((s) => s.sku === listings[Number(r.listingId.slice(1))]!.sku)!.qty).toBe(7);
  });

  it('a push to a warehouse the shop does not have fails that listing, retryable false', async () => {
    const a = adapter({ warehouse_id: '123' });
    const s1 = (await all(adapter())).find((l) => l.sku === 'S-1')!;
    const [r] = await a.pushLevels([{ listingId: 'l1', externalId: s1.externalId, qty: 3, known: { qty: 1, version: null }, idempotencyKey: 'k' }]);
    expect(r).toMatchObject({ outcome: 'failed', retryable: false });
  });

  it('renews the token before it expires and stores the new pair', async () => {
    creds.access_expires_at = new Date(Date.now() + 60_000).toISOString();
    const a = adapter();
    await a.testConnection();
    expect(saved).toHaveLength(1);
    expect(saved[0]!.access_token).not.toBe(creds.access_token);
    expect(Date.parse(saved[0]!.access_expires_at!)).toBeGreaterThan(Date.now() + 86_400_000);
  });

  it('an expired token is renewed once on the "expired" answer; a refused renewal is auth', async () => {
    await control('/tokens', { expire: true });
    await adapter().testConnection();
    expect(saved).toHaveLength(1);
    creds.refresh_token = 'not-a-token';
    await control('/tokens', { expire: true });
    await expect(adapter().testConnection()).rejects.toMatchObject({ kind: 'auth' });
  });

  it('a throttled answer is ChannelError rate_limited', async () => {
    emu.knobs = { ...emu.knobs, throttleRate: 1 };
    const err = await adapter()
      .testConnection()
      .catch((e: unknown) => e);
    emu.knobs = { ...emu.knobs, throttleRate: 0 };
    expect(err).toBeInstanceOf(ChannelError);
    expect((err as ChannelError).kind).toBe('rate_limited');
  });

  it('polls a sale once: the first poll starts after existing orders, a sale becomes one event under its order id', async () => {
    await control('/accounts/shop/sale', { sku: 'S-9', qty: 1 }); // history before polling began
    const a = adapter();
    const first = await a.pollEvents!(null);
    expect(first.events).toEqual([]);
    const sale = await control('/accounts/shop/sale', { sku: 'S-9', qty: 2 });
    const next = await a.pollEvents!(first.cursor);
    expect(next.events).toHaveLength(1);
    expect(next.events[0]).toMatchObject({ kind: 'order', effect: 'sale', externalEventId: `order:${sale.order_id}`, lines: [{ sku: 'S-9', qty: 2 }] });
    const again = await a.pollEvents!(next.cursor);
    expect(again.events).toEqual([]);
  });
});

describe('TikTok Shop webhooks', () => {
  const wh = tiktokShopChannel.webhook;
  const hook = (body: string, auth?: string): IncomingWebhook => ({
    headers: auth === undefined ? {} : { authorization: auth },
    rawBody: Buffer.from(body),
    url: 'http://127.0.0.1/webhooks/tiktok_shop/ch',
  });
  const note = (orderId: string, ts = Math.floor(Date.now() / 1000)) =>
    JSON.stringify({
      type: 1,
      tts_notification_id: '7300000000000000001',
      shop_id: '1',
      timestamp: ts,
      data: { order_id: orderId, order_status: 'AWAITING_SHIPMENT' },
    });

  it('accepts the emulator-signed notification and re-reads its order through the API', async () => {
    const sale = await control('/accounts/shop/sale', { sku: 'S-3', qty: 1 });
    const body = note(sale.order_id);
    const req = hook(body, tiktokShopWebhookSign(APP_KEY, APP_SECRET, body));
    expect(await wh.verify(req, creds, new Date(), { baseUrl: emu.url })).toEqual({ ok: true });
    expect(wh.parse(req)).toMatchObject([{ kind: 'order', externalEventId: `order:${sale.order_id}`, lines: [{ sku: 'S-3', qty: 1 }] }]);
  });

  it('refuses unsigned, tampered, wrongly keyed and stale notifications', async () => {
    const body = note('1');
    const sig = tiktokShopWebhookSign(APP_KEY, APP_SECRET, body);
    const now = new Date();
    expect(await wh.verify(hook(body), creds, now)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(await wh.verify(hook(body.replace('"1"', '"2"'), sig), creds, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await wh.verify(hook(body, tiktokShopWebhookSign(APP_KEY, 'other-secret', body)), creds, now)).toEqual({ ok: false, reason: 'bad_signature' });
    const old = note('1', Math.floor(Date.now() / 1000) - 3600);
    expect(await wh.verify(hook(old, tiktokShopWebhookSign(APP_KEY, APP_SECRET, old)), creds, now)).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('an order it cannot read is recorded as ignored under the notification id (the poll applies it)', async () => {
    const body = note('999');
    const req = hook(body, tiktokShopWebhookSign(APP_KEY, APP_SECRET, body));
    expect(await wh.verify(req, creds, new Date(), { baseUrl: emu.url })).toEqual({ ok: true });
    expect(wh.parse(req)).toMatchObject([{ kind: 'ignored', externalEventId: 'notification:7300000000000000001' }]);
  });
});
