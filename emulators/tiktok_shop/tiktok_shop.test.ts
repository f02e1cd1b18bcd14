// The TikTok Shop emulator over real HTTP, the way an adapter meets it: signed calls (accepted,
// refused when the sign is wrong, the body tampered or the timestamp stale), the shop cipher,
// page_token pagination, per-warehouse inventory, orders from the sale control with a signed
// webhook, the token endpoints and the rate limit.
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../kit/index.ts';
import { createTiktokShopEmulator, type TiktokShopAccount } from './index.ts';
import { requestSign, webhookSign } from './sign.ts';

const APP_KEY = 'app6emu';
const APP_SECRET = 'secret-emu-1';
const WH = '7000000000000000042';

let emu: Emulator<TiktokShopAccount>;
let token: string;
let cipher: string;

type Res = { status: number; body: any };

async function signed(
  method: 'GET' | 'POST',
  path: string,
  opts: { query?: Record<string, string>; body?: unknown; ts?: number; tamper?: (s: string) => string; sign?: string; token?: string | null } = {},
): Promise<Res> {
  const query: Record<string, string> = { app_key: APP_KEY, timestamp: String(opts.ts ?? Math.floor(Date.now() / 1000)), ...opts.query };
  const raw = opts.body === undefined ? '' : JSON.stringify(opts.body);
  query.sign = opts.sign ?? requestSign(APP_SECRET, path, query, raw);
  const headers: Record<string, string> = {};
  const t = opts.token === undefined ? token : opts.token;
  if (t) headers['x-tts-access-token'] = t;
  if (raw) headers['content-type'] = 'application/json';
  const res = await fetch(`${emu.url}${path}?${new URLSearchParams(query)}`, { method, headers, body: raw ? (opts.tamper ?? ((s) => s))(raw) : undefined });
  return { status: res.status, body: await res.json() };
}
const control = async (path: string, body: unknown = {}) => {
  const res = await fetch(`${emu.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as any };
};

beforeEach(async () => {
  emu = createTiktokShopEmulator();
  await emu.listen();
  const items = Array.from({ length: 5 }, (_, i) => ({ sku: `SKU-${i}`, name: `Item ${i}`, qty: 10 + i }));
  expect((await control('/_control/accounts', { id: 'shop', credentials: { app_key: APP_KEY, app_secret: APP_SECRET }, warehouses: [WH], items })).status).toBe(
    201,
  );
  token = (await control('/_control/accounts/shop/token')).body.access_token;
  cipher = (await signed('GET', '/authorization/202309/shops')).body.data.shops[0].cipher;
});
afterEach(async () => {
  await emu.close();
});

describe('TikTok Shop emulator: signed calls', () => {
  it('answers a correctly signed call with the shop and its cipher', async () => {
    const r = await signed('GET', '/authorization/202309/shops');
    expect(r.status).toBe(200);
    expect(r.body.code).toBe(0);
    expect(r.body.data.shops).toHaveLength(1);
    expect(r.body.data.shops[0].cipher).toMatch(/^ROW_/);
  });

  it('refuses a wrong sign, a tampered body, a stale or missing timestamp, and a missing token', async () => {
    const bad = await signed('GET', '/authorization/202309/shops', { sign: 'a'.repeat(64) });
    expect([bad.status, bad.body.code]).toEqual([401, 106001]);
    const body = { status: 'ALL' };
    const tampered = await signed('POST', '/product/202309/products/search', {
      query: { shop_cipher: cipher, page_size: '10' },
      body,
      tamper: (s) => s.replace('ALL', 'ACTIVATE'),
    });
    expect([tampered.status, tampered.body.code]).toEqual([401, 106001]);
    const stale = await signed('GET', '/authorization/202309/shops', { ts: Math.floor(Date.now() / 1000) - 3600 });
    expect([stale.status, stale.body.message]).toEqual([401, 'timestamp is invalid or expired']);
    const noToken = await signed('GET', '/authorization/202309/shops', { token: null });
    expect([noToken.status, noToken.body.code]).toEqual([401, 105001]);
    // A shop call without the shop's cipher is refused even when signed.
    const noCipher = await signed('POST', '/product/202309/products/search', { query: { page_size: '10' }, body });
    expect(noCipher.status).toBe(403);
  });

  it('signs over path, sorted params and body: the same call with params in another order is accepted', async () => {
    const r = await signed('POST', '/product/202309/products/search', { query: { shop_cipher: cipher, page_size: '2' }, body: {} });
    const r2 = await signed('POST', '/product/202309/products/search', { query: { page_size: '2', shop_cipher: cipher }, body: {} });
    expect([r.status, r2.status]).toEqual([200, 200]);
  });
});

describe('TikTok Shop emulator: products and inventory', () => {
  it('pages products with page_token until next_page_token is empty', async () => {
    const seen: string[] = [];
    let pageToken = '';
    let pages = 0;
    do {
      const q: Record<string, string> = { shop_cipher: cipher, page_size: '2' };
      if (pageToken) q.page_token = pageToken;
      const r = await signed('POST', '/product/202309/products/search', { query: q, body: { status: 'ALL' } });
      expect(r.body.data.total_count).toBe(5);
      seen.push(...r.body.data.products.map((p: any) => p.skus[0].seller_sku));
      pageToken = r.body.data.next_page_token;
      pages++;
    } while (pageToken);
    expect(pages).toBe(3);
    expect(seen).toEqual(['SKU-0', 'SKU-1', 'SKU-2', 'SKU-3', 'SKU-4']);
    const bad = await signed('POST', '/product/202309/products/search', { query: { shop_cipher: cipher, page_size: '500' }, body: {} });
    expect(bad.status).toBe(400);
  });

  it('sets a SKU quantity per warehouse; an unknown warehouse changes nothing', async () => {
    const list = await signed('POST', '/product/202309/products/search', { query: { shop_cipher: cipher, page_size: '1' }, body: {} });
    const p = list.body.data.products[0];
    const sku = p.skus[0];
    expect(sku.inventory).toEqual([{ warehouse_id: WH, quantity: 10 }]);
    const path = `/product/202309/products/${p.id}/inventory/update`;
    const w = await signed('POST', path, { query: { shop_cipher: cipher }, body: { skus: [{ id: sku.id, inventory: [{ warehouse_id: WH, quantity: 4 }] }] } });
    expect([w.status, w.body.code]).toEqual([200, 0]);
    const refused = await signed('POST', path, {
      query: { shop_cipher: cipher },
      body: { skus: [{ id: sku.id, inventory: [{ warehouse_id: '1', quantity: 9 }] }] },
    });
    expect(refused.status).toBe(400);
    const got = await signed('GET', `/product/202309/products/${p.id}`, { query: { shop_cipher: cipher } });
    expect(got.body.data.skus[0].inventory).toEqual([{ warehouse_id: WH, quantity: 4 }]);
  });
});

describe('TikTok Shop emulator: orders and webhooks', () => {
  let server: Server;
  const received: Array<{ auth: string | undefined; body: string }> = [];
  beforeEach(async () => {
    received.length = 0;
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ auth: req.headers.authorization, body });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  it('a sale takes stock, creates an order (one line item per unit) and posts a signed ORDER_STATUS_CHANGE', async () => {
    const port = (server.address() as { port: number }).port;
    await control('/_control/accounts/shop/webhook', { url: `http://127.0.0.1:${port}/hook` });
    const sale = await control('/_control/accounts/shop/sale', { sku: 'SKU-1', qty: 3 });
    expect(sale.body.qty).toBe(8);
    await emu.drain();
    expect(received).toHaveLength(1);
    const note = JSON.parse(received[0]!.body);
    expect(note).toMatchObject({ type: 1, data: { order_id: sale.body.order_id, order_status: 'AWAITING_SHIPMENT' } });
    expect(received[0]!.auth).toBe(webhookSign(APP_KEY, APP_SECRET, received[0]!.body));

    const search = await signed('POST', '/order/202309/orders/search', {
      query: { shop_cipher: cipher, page_size: '10', sort_field: 'update_time', sort_order: 'ASC' },
      body: { update_time_ge: note.timestamp },
    });
    expect(search.body.data.orders.map((o: any) => o.id)).toEqual([sale.body.order_id]);
    const detail = await signed('GET', '/order/202309/orders', { query: { shop_cipher: cipher, ids: sale.body.order_id } });
    expect(detail.body.data.orders[0].line_items).toHaveLength(3);
    expect(detail.body.data.orders[0].line_items[0].seller_sku).toBe('SKU-1');
    const later = await signed('POST', '/order/202309/orders/search', {
      query: { shop_cipher: cipher, page_size: '10' },
      body: { update_time_ge: note.timestamp + 1 },
    });
    expect(later.body.data.orders).toEqual([]);
  });
});

describe('TikTok Shop emulator: tokens and rate limit', () => {
  it('exchanges an auth code once, refreshes, and refuses an expired access token', async () => {
    const { code } = (await control('/_control/accounts/shop/authorize')).body;
    const get = (q: Record<string, string>) =>
      fetch(`${emu.url}/api/v2/token/get?${new URLSearchParams(q)}`).then(async (r) => ({ status: r.status, body: (await r.json()) as any }));
    const q = { app_key: APP_KEY, app_secret: APP_SECRET, auth_code: code, grant_type: 'authorized_code' };
    const first = await get(q);
    expect(first.body.code).toBe(0);
    expect(first.body.data.access_token_expire_in).toBeGreaterThan(Date.now() / 1000);
    expect((await get(q)).status).toBe(400); // the code is spent
    expect((await get({ ...q, app_secret: 'wrong' })).status).toBe(401);
    token = first.body.data.access_token;
    await control('/_control/tokens', { expire: true });
    expect((await signed('GET', '/authorization/202309/shops')).body.code).toBe(105002);
    const refreshed = await fetch(
      `${emu.url}/api/v2/token/refresh?${new URLSearchParams({ app_key: APP_KEY, app_secret: APP_SECRET, refresh_token: first.body.data.refresh_token, grant_type: 'refresh_token' })}`,
    ).then((r) => r.json() as Promise<any>);
    token = refreshed.data.access_token;
    expect((await signed('GET', '/authorization/202309/shops')).body.code).toBe(0);
  });

  it('answers 429 with code 36009004 past the per-shop budget', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, () => signed('GET', '/authorization/202309/shops')));
    const throttled = results.filter((r) => r.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.body.code).toBe(36009004);
    expect(results.filter((r) => r.status === 200).length).toBeGreaterThan(0);
  });
});
