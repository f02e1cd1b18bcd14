// The Shopee emulator over real HTTP, as a client meets it: signed calls (and the refusals of a bad
// sign or a stale timestamp), shop authorisation and token refresh, pagination of items and orders,
// update_stock on seller_stock, the rate limit, and signed pushes.
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../kit/index.ts';
import { createShopeeEmulator, type ShopeeAccount } from './index.ts';

const PARTNER_ID = '2001887';
const PARTNER_KEY = 'shpk-test-partner-key';
const SHOP_ID = '600123';

// Written here from Shopee's docs, not imported: the test checks the emulator's sign.ts too.
const hmac = (msg: string) => createHmac('sha256', PARTNER_KEY).update(msg).digest('hex');

let emu: Emulator<ShopeeAccount>;
let token: string;
let refresh: string;

type Res = { status: number; body: any; headers: Headers };

async function signed(
  method: 'GET' | 'POST',
  path: string,
  params: Record<string, string | number> = {},
  opts: { body?: unknown; ts?: number; sign?: string; tok?: string | null } = {},
): Promise<Res> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const tok = opts.tok === undefined ? token : opts.tok;
  const isPublic = tok === null;
  const sign = opts.sign ?? hmac(`${PARTNER_ID}${path}${ts}${isPublic ? '' : `${tok}${SHOP_ID}`}`);
  const u = new URL(emu.url + path);
  u.searchParams.set('partner_id', PARTNER_ID);
  u.searchParams.set('timestamp', String(ts));
  u.searchParams.set('sign', sign);
  if (!isPublic) {
    u.searchParams.set('access_token', tok);
    u.searchParams.set('shop_id', SHOP_ID);
  }
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  const res = await fetch(u, {
    method,
    headers: opts.body === undefined ? {} : { 'content-type': 'application/json' },
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

const control = async (path: string, body: unknown = {}) =>
  (await fetch(emu.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;

beforeEach(async () => {
  emu = createShopeeEmulator();
  await emu.listen();
  const items = [
    ...Array.from({ length: 7 }, (_, n) => ({ sku: `SKU-${n}`, name: `Thing ${n}`, qty: 10 + n })),
    { sku: 'TEE-S', name: 'Tee S', qty: 3, item: 'Tee' },
    { sku: 'TEE-M', name: 'Tee M', qty: 4, item: 'Tee' },
  ];
  await control('/_control/accounts', { id: 'shop', credentials: { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: SHOP_ID }, items });
  const t = await control('/_control/accounts/shop/token');
  token = t.access_token;
  refresh = t.refresh_token;
});
afterEach(async () => {
  await emu.close();
});

describe('signed calls', () => {
  it('a correctly signed shop call is answered in Shopee’s envelope', async () => {
    const r = await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 100, item_status: 'NORMAL' });
    expect(r.status).toBe(200);
    expect(r.body.error).toBe('');
    expect(r.body.response.total_count).toBe(8);
  });

  it('a wrong sign, a sign over another path, a stale or future timestamp and a bad token are refused', async () => {
    const p = { offset: 0, page_size: 10, item_status: 'NORMAL' };
    const bad = await signed('GET', '/api/v2/product/get_item_list', p, { sign: 'ab'.repeat(32) });
    expect([bad.status, bad.body.error]).toEqual([403, 'error_sign']);
    const ts = Math.floor(Date.now() / 1000);
    const otherPath = await signed('GET', '/api/v2/product/get_item_list', p, {
      sign: hmac(`${PARTNER_ID}/api/v2/product/get_model_list${ts}${token}${SHOP_ID}`),
      ts,
    });
    expect(otherPath.body.error).toBe('error_sign');
    // Signed correctly, but 6 minutes old (or ahead): outside Shopee's 5-minute window.
    const stale = await signed('GET', '/api/v2/product/get_item_list', p, { ts: ts - 360 });
    expect([stale.status, stale.body.error]).toEqual([403, 'error_auth']);
    expect(stale.body.message).toMatch(/timestamp/i);
    expect((await signed('GET', '/api/v2/product/get_item_list', p, { ts: ts + 360 })).status).toBe(403);
    // Just inside the window is fine.
    expect((await signed('GET', '/api/v2/product/get_item_list', p, { ts: ts - 240 })).status).toBe(200);
    const badToken = await signed('GET', '/api/v2/product/get_item_list', p, { tok: 'not-a-token' });
    expect(badToken.body).toMatchObject({ error: 'error_auth', message: 'Invalid access_token.' });
  });

  it('auth_partner redirects with a code; token/get exchanges it once; access_token/get renews and retires the old pair', async () => {
    const redirect = 'https://stockclerk.example/oauth/shopee/callback';
    const auth = await signed('GET', '/api/v2/shop/auth_partner', { redirect }, { tok: null });
    expect(auth.status).toBe(302);
    const to = new URL(auth.headers.get('location')!);
    expect(to.origin + to.pathname).toBe(redirect);
    expect(to.searchParams.get('shop_id')).toBe(SHOP_ID);
    const code = to.searchParams.get('code')!;
    const body = { code, shop_id: Number(SHOP_ID), partner_id: Number(PARTNER_ID) };
    const got = await signed('POST', '/api/v2/auth/token/get', {}, { tok: null, body });
    expect(got.status).toBe(200);
    expect(got.body.expire_in).toBe(14_400);
    expect(got.body.access_token).toMatch(/^[0-9a-f]{32}$/);
    // A code works once.
    expect((await signed('POST', '/api/v2/auth/token/get', {}, { tok: null, body })).status).toBe(403);
    // A public call signed as a shop call is refused.
    expect(
      (
        await signed(
          'POST',
          '/api/v2/auth/token/get',
          {},
          { tok: null, body, sign: hmac(`${PARTNER_ID}/api/v2/auth/token/get${Math.floor(Date.now() / 1000)}x${SHOP_ID}`) },
        )
      ).status,
    ).toBe(403);

    const renewed = await signed(
      'POST',
      '/api/v2/auth/access_token/get',
      {},
      { tok: null, body: { refresh_token: refresh, shop_id: Number(SHOP_ID), partner_id: Number(PARTNER_ID) } },
    );
    expect(renewed.status).toBe(200);
    expect(renewed.body.refresh_token).not.toBe(refresh);
    // The old access token and refresh token are gone; the new ones work.
    expect((await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 1, item_status: 'NORMAL' })).status).toBe(403);
    expect(
      (await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 1, item_status: 'NORMAL' }, { tok: renewed.body.access_token })).status,
    ).toBe(200);
    const again = await signed(
      'POST',
      '/api/v2/auth/access_token/get',
      {},
      { tok: null, body: { refresh_token: refresh, shop_id: Number(SHOP_ID), partner_id: Number(PARTNER_ID) } },
    );
    expect(again.status).toBe(403);
  });

  it('an expired access token is refused', async () => {
    await control('/_control/tokens', { expire: true });
    const r = await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 1, item_status: 'NORMAL' });
    expect(r.body.error).toBe('error_auth');
  });
});

describe('products and stock', () => {
  it('get_item_list pages by offset; base info and model list carry stock_info_v2', async () => {
    const seen: number[] = [];
    let offset = 0;
    for (let n = 0; n < 10; n++) {
      const r = await signed('GET', '/api/v2/product/get_item_list', { offset, page_size: 3, item_status: 'NORMAL' });
      seen.push(...r.body.response.item.map((i: { item_id: number }) => i.item_id));
      if (!r.body.response.has_next_page) break;
      offset = r.body.response.next_offset;
    }
    expect(seen).toHaveLength(8);
    expect(new Set(seen).size).toBe(8);
    expect((await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 101, item_status: 'NORMAL' })).body.error).toBe('error_param');

    const base = await signed('GET', '/api/v2/product/get_item_base_info', { item_id_list: seen.join(',') });
    const list = base.body.response.item_list as Array<{ item_id: number; has_model: boolean; stock_info_v2?: any; item_sku: string }>;
    const plain = list.find((i) => i.item_sku === 'SKU-2')!;
    expect(plain.has_model).toBe(false);
    expect(plain.stock_info_v2.seller_stock).toEqual([{ stock: 12 }]);
    const tee = list.find((i) => i.has_model)!;
    expect(tee.stock_info_v2).toBeUndefined();
    const models = await signed('GET', '/api/v2/product/get_model_list', { item_id: tee.item_id });
    expect(models.body.response.model.map((m: any) => [m.model_sku, m.stock_info_v2.seller_stock[0].stock])).toEqual([
      ['TEE-S', 3],
      ['TEE-M', 4],
    ]);

    const modelM = models.body.response.model[1].model_id;
    const upd = await signed(
      'POST',
      '/api/v2/product/update_stock',
      {},
      {
        body: {
          item_id: tee.item_id,
          stock_list: [
            { model_id: modelM, seller_stock: [{ stock: 40 }] },
            { model_id: 1, seller_stock: [{ stock: 1 }] },
          ],
        },
      },
    );
    expect(upd.body.response.success_list).toEqual([{ model_id: modelM, stock: 40 }]);
    expect(upd.body.response.failure_list).toHaveLength(1);
    const plainUpd = await signed(
      'POST',
      '/api/v2/product/update_stock',
      {},
      { body: { item_id: plain.item_id, stock_list: [{ model_id: 0, seller_stock: [{ stock: 0 }] }] } },
    );
    expect(plainUpd.body.response.success_list).toEqual([{ model_id: 0, stock: 0 }]);
    const state = emu.spec.state(emu.accounts.get('shop')!);
    expect(state.find((s) => s.sku === 'TEE-M')!.qty).toBe(40);
    expect(state.find((s) => s.sku === 'SKU-2')!.qty).toBe(0);
  });

  it('past the rate limit the call is answered 429 with retry-after and counted', async () => {
    const calls = await Promise.all(
      Array.from({ length: 30 }, () => signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 1, item_status: 'NORMAL' })),
    );
    const throttled = calls.filter((c) => c.status === 429);
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(throttled[0]!.body.error).toBe('error_too_many_request');
    expect(emu.stats.throttled).toBe(throttled.length);
  });
});

describe('orders and pushes', () => {
  it('a sale is an order listed by time range in pages, with its items on request, and a signed code-3 push', async () => {
    const got: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
    const server = http.createServer((req, res) => {
      let b = '';
      req.on('data', (c) => (b += c));
      req.on('end', () => {
        got.push({ headers: req.headers, body: b });
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/shopee/ch_1`;
    try {
      await control('/_control/accounts/shop/webhook', { url });
      for (let n = 0; n < 5; n++) await control('/_control/accounts/shop/sale', { sku: 'SKU-1', qty: 1 });
      const now = Math.floor(Date.now() / 1000);
      const sns: string[] = [];
      let cursor = '';
      for (let n = 0; n < 10; n++) {
        const r = await signed('GET', '/api/v2/order/get_order_list', {
          time_range_field: 'update_time',
          time_from: now - 60,
          time_to: now + 5,
          page_size: 2,
          cursor,
        });
        sns.push(...r.body.response.order_list.map((o: { order_sn: string }) => o.order_sn));
        if (!r.body.response.more) break;
        cursor = r.body.response.next_cursor;
      }
      expect(new Set(sns).size).toBe(5);
      const tooWide = await signed('GET', '/api/v2/order/get_order_list', {
        time_range_field: 'create_time',
        time_from: now - 16 * 86400,
        time_to: now,
        page_size: 10,
      });
      expect(tooWide.body.error).toBe('error_param');
      const detail = await signed('GET', '/api/v2/order/get_order_detail', { order_sn_list: sns.slice(0, 2).join(','), response_optional_fields: 'item_list' });
      expect(detail.body.response.order_list[0]).toMatchObject({
        order_status: 'READY_TO_SHIP',
        item_list: [{ model_id: 0, model_sku: 'SKU-1', model_quantity_purchased: 1 }],
      });
      expect(emu.spec.state(emu.accounts.get('shop')!).find((s) => s.sku === 'SKU-1')!.qty).toBe(6);

      await emu.drain();
      expect(got).toHaveLength(5);
      for (const g of got) {
        expect(g.headers.authorization).toBe(hmac(`${url}|${g.body}`));
        expect(JSON.parse(g.body)).toMatchObject({ shop_id: Number(SHOP_ID), code: 3, data: { status: 'READY_TO_SHIP' } });
      }
    } finally {
      server.close();
    }
  });
});

describe('the platform’s memory', () => {
  it('a restart on the same state file keeps stock, orders, tokens and the id counter', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shopee-emu-'));
    const file = path.join(dir, 'shopee.json');
    try {
      await emu.close();
      emu = createShopeeEmulator({ stateFile: file });
      await emu.listen();
      await control('/_control/accounts', {
        id: 'shop',
        credentials: { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: SHOP_ID },
        items: [{ sku: 'K', name: 'Kept', qty: 9 }],
      });
      token = (await control('/_control/accounts/shop/token')).access_token;
      const sold = await control('/_control/accounts/shop/sale', { sku: 'K', qty: 2 });
      await emu.close();
      emu = createShopeeEmulator({ stateFile: file });
      await emu.listen();
      // The token issued before the restart still opens the shop, which still holds 7 and the order.
      const list = await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 10, item_status: 'NORMAL' });
      expect(list.status).toBe(200);
      const itemId = list.body.response.item[0].item_id;
      const base = await signed('GET', '/api/v2/product/get_item_base_info', { item_id_list: itemId });
      expect(base.body.response.item_list[0].stock_info_v2.seller_stock).toEqual([{ stock: 7 }]);
      const detail = await signed('GET', '/api/v2/order/get_order_detail', { order_sn_list: sold.order_sn });
      expect(detail.body.response.order_list).toHaveLength(1);
      await control('/_control/accounts', {
        id: 'other',
        credentials: { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: '1' },
        items: [{ sku: 'N', name: 'New', qty: 1 }],
      });
      expect(emu.accounts.get('other')!.items[0]!.item_id).toBeGreaterThan(itemId);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('publishing (add_item, init_tier_variation, update_item, update_price, unlist_item)', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
  // upload_image is a public API: signed over partner_id + path + timestamp only.
  const upload = async (field = 'image', bytes: Buffer = PNG) => {
    const ts = Math.floor(Date.now() / 1000);
    const path = '/api/v2/media_space/upload_image';
    const u = `${emu.url}${path}?partner_id=${PARTNER_ID}&timestamp=${ts}&sign=${hmac(`${PARTNER_ID}${path}${ts}`)}`;
    const form = new FormData();
    form.set(field, new Blob([bytes], { type: 'image/png' }), 'a.png');
    const res = await fetch(u, { method: 'POST', body: form });
    return { status: res.status, body: (await res.json()) as any };
  };
  const item = (imageId: string, over: Record<string, unknown> = {}) => ({
    item_name: 'Linen shirt',
    description: 'Washed linen.',
    original_price: 25,
    weight: 0.4,
    category_id: 100017,
    image: { image_id_list: [imageId] },
    logistic_info: [{ logistic_id: 80101, enabled: true }],
    seller_stock: [{ stock: 0 }],
    ...over,
  });
  const tiers = (itemId: number, models: unknown[], options = ['S', 'M']) => ({
    item_id: itemId,
    standardise_tier_variation: [
      { variation_id: 0, variation_name: 'Size', variation_option_list: options.map((o) => ({ variation_option_id: 0, variation_option_name: o })) },
    ],
    model: models,
  });
  const model = (i: number, sku: string, stock = 2) => ({ tier_index: [i], model_sku: sku, original_price: 25, seller_stock: [{ stock }] });

  it('uploads images, adds an item, gives it tiers, and what it set reads back and sells', async () => {
    expect((await upload('file')).body.error).toBe('error_param');
    expect((await upload('image', Buffer.from('not an image'))).body.error).toBe('error_param');
    const img = await upload();
    expect(img.status).toBe(200);
    const imageId = img.body.response.image_info.image_id as string;

    // Required fields, and images this partner uploaded.
    expect((await signed('POST', '/api/v2/product/add_item', {}, { body: item(imageId, { weight: undefined }) })).body.message).toBe('Invalid Weight.');
    expect((await signed('POST', '/api/v2/product/add_item', {}, { body: item('sg-nope') })).body.message).toBe('Image not exist.');
    expect((await signed('POST', '/api/v2/product/add_item', {}, { body: item(imageId, { logistic_info: [] }) })).body.error).toBe('error_param');
    const added = await signed('POST', '/api/v2/product/add_item', {}, { body: item(imageId) });
    expect([added.status, added.body.response.item_status]).toEqual([200, 'NORMAL']);
    const itemId = added.body.response.item_id as number;

    // Tier / model consistency.
    const init = (b: unknown) => signed('POST', '/api/v2/product/init_tier_variation', {}, { body: b });
    expect((await init(tiers(itemId, [model(2, 'X')]))).body.message).toBe('Model tier_index error.');
    expect((await init(tiers(itemId, [model(0, 'A'), model(0, 'B')]))).body.message).toBe('Item have duplicate tier_index.');
    const three = {
      ...tiers(itemId, [model(0, 'A')]),
      standardise_tier_variation: [1, 2, 3].map((n) => ({
        variation_id: 0,
        variation_name: `T${n}`,
        variation_option_list: [{ variation_option_id: 0, variation_option_name: 'x' }],
      })),
    };
    expect((await init(three)).body.message).toBe('The level of tier-variation over 2.');
    const ok = await init(tiers(itemId, [model(0, 'SH-S', 3), model(1, 'SH-M', 4)]));
    expect(ok.status).toBe(200);
    expect(ok.body.response.tier_variation).toEqual([{ name: 'Size', option_list: [{ option: 'S' }, { option: 'M' }] }]);
    const [s, m] = ok.body.response.model as Array<{ model_id: number; model_sku: string }>;
    expect([s!.model_sku, m!.model_sku]).toEqual(['SH-S', 'SH-M']);

    const base = await signed('GET', '/api/v2/product/get_item_base_info', { item_id_list: itemId });
    expect(base.body.response.item_list[0]).toMatchObject({ item_name: 'Linen shirt', description: 'Washed linen.', has_model: true, category_id: 100017 });
    const models = await signed('GET', '/api/v2/product/get_model_list', { item_id: itemId });
    expect(
      models.body.response.model.map((x: any) => [x.model_sku, x.tier_index, x.stock_info_v2.seller_stock[0].stock, x.price_info[0].original_price]),
    ).toEqual([
      ['SH-S', [0], 3, 25],
      ['SH-M', [1], 4, 25],
    ]);
    expect((await control('/_control/accounts/shop/sale', { sku: 'SH-M', qty: 1 })).qty).toBe(3);

    // update_item, update_price (per model), unlist_item (per item).
    expect((await signed('POST', '/api/v2/product/update_item', {}, { body: { item_id: itemId, item_name: 'Shirt' } })).body.response.item_name).toBe('Shirt');
    const price = await signed(
      'POST',
      '/api/v2/product/update_price',
      {},
      {
        body: {
          item_id: itemId,
          price_list: [
            { model_id: s!.model_id, original_price: 30 },
            { model_id: 0, original_price: 30 },
          ],
        },
      },
    );
    expect(price.body.response.success_list).toEqual([{ model_id: s!.model_id, original_price: 30 }]);
    expect(price.body.response.failure_list).toHaveLength(1);
    const unlist = await signed(
      'POST',
      '/api/v2/product/unlist_item',
      {},
      {
        body: {
          item_list: [
            { item_id: itemId, unlist: true },
            { item_id: 1, unlist: true },
          ],
        },
      },
    );
    expect(unlist.body.response.success_list).toEqual([{ item_id: itemId, unlist: true }]);
    expect(unlist.body.response.failure_list).toEqual([{ item_id: 1, failed_reason: 'Product not found' }]);
    const listed = await signed('GET', '/api/v2/product/get_item_list', { offset: 0, page_size: 100, item_status: 'UNLIST' });
    expect(listed.body.response.item.map((i: any) => i.item_id)).toEqual([itemId]);
    const r = await fetch(`${emu.url}/_control/accounts/shop/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SH-M', qty: 1 }),
    });
    expect(r.status).toBe(404);
  });
});
