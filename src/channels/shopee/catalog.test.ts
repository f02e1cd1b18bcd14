// Shopee's catalog side: the exact requests each action plans, and the plans run against the
// Shopee emulator over real HTTP: a product with options published (images uploaded, item added,
// tiers and one model per variant), read back through the stock side, updated (models keep their
// ids), unlisted and listed again; refusals a merchant can act on.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../emulators/kit/index.ts';
import { createShopeeEmulator, type ShopeeAccount } from '../../../emulators/shopee/index.ts';
import { runPlan } from '../catalog.ts';
import { ChannelError, type ListingDraft } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import { shopeeChannel, type ShopeeAdapter } from './index.ts';

const PARTNER_ID = '2007001';
const PARTNER_KEY = 'shpk-catalog-test';
const SHOP_ID = '700777';
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
const emu: Emulator<ShopeeAccount> = createShopeeEmulator();
let images: http.Server;
let imageBase = '';
let adapter: ShopeeAdapter;

const open = (settings: Record<string, unknown> = {}, credentials?: Record<string, string>) =>
  openAdapter(shopeeChannel, { channelId: 'ch', baseUrl: emu.url, credentials: credentials ?? {}, settings }) as ShopeeAdapter;

beforeAll(async () => {
  await emu.listen();
  images = http.createServer((req, res) =>
    req.url?.includes('missing') ? res.writeHead(404).end() : res.writeHead(200, { 'content-type': 'image/png' }).end(PNG),
  );
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  emu.knobs = { ...emu.knobs, enforceRateLimit: false };
  emu.addAccount({ id: 'shop', credentials: { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: SHOP_ID }, items: [] } as never);
  const t = (await (await fetch(`${emu.url}/_control/accounts/shop/token`, { method: 'POST' })).json()) as { access_token: string; refresh_token: string };
  adapter = open(
    { category_id: '100017', logistic_id: '80011' },
    { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: SHOP_ID, access_token: t.access_token, refresh_token: t.refresh_token },
  );
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => images.close(r));
});

const draft = (title: string, over: Partial<ListingDraft> = {}): ListingDraft => ({
  productId: 'prd_1',
  title,
  description: 'Washed linen shirt.',
  brand: null,
  category: 'Clothing > Shirts',
  attributes: {},
  currency: 'GBP',
  options: [{ name: 'Size', values: ['S', 'M', 'L'] }],
  images: [{ id: 'img1', url: `${imageBase}/media/shirt.png`, contentType: 'image/png' }],
  variants: [
    { itemId: 'i1', sku: 'LIN-S', optionValues: { Size: 'S' }, priceMinor: 2500, qty: 3 },
    { itemId: 'i2', sku: 'LIN-M', optionValues: { Size: 'M' }, priceMinor: 2500, qty: 5 },
    { itemId: 'i3', sku: 'LIN-L', optionValues: { Size: 'L' }, priceMinor: 2750, qty: 0 },
  ],
  ...over,
});

describe('Shopee catalog plans', () => {
  it('publish: upload each image, add the item, then its tiers with one model per variant', () => {
    const base = 'https://partner.example';
    const side = openAdapter(shopeeChannel, { channelId: 'c', baseUrl: base, credentials: {}, settings: { weight_kg: 0.3 } }).catalog!;
    const plan = side.plan('publish', { ...draft('Linen shirt'), brand: 'Threads', attributes: { weight_kg: '0.4' } }, null);
    expect(plan.requests).toEqual([
      {
        method: 'POST',
        url: `${base}/api/v2/media_space/upload_image`,
        upload: { field: 'image', imageUrl: `${imageBase}/media/shirt.png`, contentType: 'image/png' },
        capture: { image_0: 'image_info.image_id' },
        label: 'Upload image 1',
      },
      {
        method: 'POST',
        url: `${base}/api/v2/product/add_item`,
        body: {
          item_name: 'Linen shirt',
          description: 'Washed linen shirt.',
          original_price: 25,
          category_id: 14695,
          image: { image_id_list: ['{{image_0}}'] },
          weight: 0.4,
          logistic_info: [{ logistic_id: 80101, enabled: true }],
          brand: { brand_id: 0, original_brand_name: 'Threads' },
          condition: 'NEW',
          item_status: 'NORMAL',
          seller_stock: [{ stock: 0 }],
        },
        capture: { item_id: 'item_id' },
        label: 'Add the item',
      },
      {
        method: 'POST',
        url: `${base}/api/v2/product/init_tier_variation`,
        body: {
          item_id: '{{item_id}}',
          standardise_tier_variation: [
            {
              variation_id: 0,
              variation_name: 'Size',
              variation_option_list: ['S', 'M', 'L'].map((v) => ({ variation_option_id: 0, variation_option_name: v })),
            },
          ],
          model: [
            { tier_index: [0], model_sku: 'LIN-S', original_price: 25, seller_stock: [{ stock: 3 }] },
            { tier_index: [1], model_sku: 'LIN-M', original_price: 25, seller_stock: [{ stock: 5 }] },
            { tier_index: [2], model_sku: 'LIN-L', original_price: 27.5, seller_stock: [{ stock: 0 }] },
          ],
        },
        capture: { model_0: 'model.0.model_id', model_1: 'model.1.model_id', model_2: 'model.2.model_id' },
        label: 'Create the 3 variants',
      },
    ]);
    const out = plan.outcome({ image_0: 'x', item_id: '9001', model_0: '11', model_1: '12', model_2: '13' });
    expect(out.ref).toEqual({ externalId: '9001', refs: { 'LIN-S': '11', 'LIN-M': '12', 'LIN-L': '13' } });
    expect(out.listings).toEqual([
      { sku: 'LIN-S', externalId: '9001:11' },
      { sku: 'LIN-M', externalId: '9001:12' },
      { sku: 'LIN-L', externalId: '9001:13' },
    ]);
  });

  it('a product without options is the item itself (model 0); update, delist and relist name the ids publishing captured', () => {
    const side = openAdapter(shopeeChannel, { channelId: 'c', baseUrl: 'https://p.example', credentials: {}, settings: {} }).catalog!;
    const single = draft('Scarf', { options: [], variants: [{ itemId: 'i', sku: 'SCF', optionValues: {}, priceMinor: 1999, qty: 4 }] });
    const plan = side.plan('publish', single, null);
    expect(plan.requests.map((r) => r.label)).toEqual(['Upload image 1', 'Add the item']);
    expect(plan.requests[1]!.body).toMatchObject({ item_sku: 'SCF', original_price: 19.99, seller_stock: [{ stock: 4 }], weight: 0.5 });
    expect(plan.outcome({ item_id: '77' }).listings).toEqual([{ sku: 'SCF', externalId: '77:0' }]);

    const ref = { externalId: '9001', refs: { 'LIN-S': '11', 'LIN-M': '12', 'LIN-L': '13' } };
    const upd = side.plan('update', draft('Linen shirt, washed'), ref);
    expect(upd.requests.slice(1)).toEqual([
      {
        method: 'POST',
        url: 'https://p.example/api/v2/product/update_item',
        body: {
          item_id: 9001,
          item_name: 'Linen shirt, washed',
          description: 'Washed linen shirt.',
          category_id: 14695,
          image: { image_id_list: ['{{image_0}}'] },
          weight: 0.5,
        },
        label: 'Update the item',
      },
      {
        method: 'POST',
        url: 'https://p.example/api/v2/product/update_price',
        body: {
          item_id: 9001,
          price_list: [
            { model_id: 11, original_price: 25 },
            { model_id: 12, original_price: 25 },
            { model_id: 13, original_price: 27.5 },
          ],
        },
        label: 'Update the prices',
      },
    ]);
    expect(upd.outcome({ image_0: 'x' }).ref).toEqual(ref);
    for (const [action, unlist] of [
      ['delist', true],
      ['relist', false],
    ] as const) {
      const p = side.plan(action, draft('x'), ref);
      expect(p.requests).toEqual([
        { method: 'POST', url: 'https://p.example/api/v2/product/unlist_item', body: { item_list: [{ item_id: 9001, unlist }] }, label: expect.any(String) },
      ]);
      expect(p.outcome({}).ref).toEqual(ref);
    }
  });

  it('refuses, saying what to change: no image, three options, an update that changes the variants', () => {
    const side = open().catalog;
    expect(() => side.plan('publish', draft('x', { images: [] }), null)).toThrow(/at least one image/);
    const three = draft('x', {
      options: [
        { name: 'A', values: ['1'] },
        { name: 'B', values: ['1'] },
        { name: 'C', values: ['1'] },
      ],
    });
    expect(() => side.plan('publish', three, null)).toThrow(/at most 2 options/);
    expect(() => side.plan('update', draft('x'), { externalId: '1', refs: { 'LIN-S': '1', 'LIN-M': '2' } })).toThrow(/new LIN-L.*delist it/);
    expect(() => side.plan('delist', draft('x'), null)).toThrow(/not published/);
  });
});

describe('Shopee catalog against the emulator', () => {
  it('publishes, reads back, updates, unlists and lists again', async () => {
    const plan = adapter.catalog.plan('publish', draft('Linen shirt'), null);
    const out = plan.outcome(await runPlan(adapter.catalog, plan.requests));
    expect(out.listings.map((l) => l.sku)).toEqual(['LIN-S', 'LIN-M', 'LIN-L']);
    // The stock side reads the models publishing made.
    const remote = await adapter.readListings(out.listings);
    expect(remote.map((l) => [l.sku, l.qty])).toEqual([
      ['LIN-S', 3],
      ['LIN-M', 5],
      ['LIN-L', 0],
    ]);
    const item = () => emu.accounts.get('shop')!.items.find((i) => String(i.item_id) === out.ref.externalId)!;
    expect(item()).toMatchObject({ item_name: 'Linen shirt', category_id: 100017, logistic_info: [{ logistic_id: 80011, enabled: true }] });
    expect(item().tiers).toEqual([{ name: 'Size', options: ['S', 'M', 'L'] }]);
    // Prices differ between models: no single price to compare.
    expect(await adapter.catalog.readFields([out.ref])).toEqual([
      { externalId: out.ref.externalId, title: 'Linen shirt', description: 'Washed linen shirt.', priceMinor: null },
    ]);

    const same = draft('Linen shirt, washed', { variants: draft('x').variants.map((v) => ({ ...v, priceMinor: 2600 })) });
    const upd = adapter.catalog.plan('update', same, out.ref);
    const after = upd.outcome(await runPlan(adapter.catalog, upd.requests));
    expect(after.ref).toEqual(out.ref); // the models kept their ids
    expect(await adapter.catalog.readFields([out.ref])).toEqual([
      { externalId: out.ref.externalId, title: 'Linen shirt, washed', description: 'Washed linen shirt.', priceMinor: 2600 },
    ]);

    await runPlan(adapter.catalog, adapter.catalog.plan('delist', same, after.ref).requests);
    expect(item().item_status).toBe('UNLIST');
    const sale = () =>
      fetch(`${emu.url}/_control/accounts/shop/sale`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'LIN-M', qty: 1 }),
      });
    expect((await sale()).status).toBe(404); // an unlisted item sells nothing
    await runPlan(adapter.catalog, adapter.catalog.plan('relist', same, after.ref).requests);
    expect(item().item_status).toBe('NORMAL');
    expect((await sale()).status).toBeLessThan(300);
    expect((await adapter.readListings([{ externalId: out.listings[1]!.externalId }]))[0]!.qty).toBe(4);
  });

  it('a product without options publishes as one model-0 listing', async () => {
    const single = draft('Silk scarf', { options: [], variants: [{ itemId: 'i', sku: 'SCF-1', optionValues: {}, priceMinor: 2900, qty: 7 }] });
    const plan = adapter.catalog.plan('publish', single, null);
    const out = plan.outcome(await runPlan(adapter.catalog, plan.requests));
    expect(out.listings).toEqual([{ sku: 'SCF-1', externalId: `${out.ref.externalId}:0` }]);
    expect((await adapter.readListings(out.listings)).map((l) => [l.sku, l.qty])).toEqual([['SCF-1', 7]]);
    expect((await adapter.catalog.readFields([out.ref]))[0]!.priceMinor).toBe(2900);
  });

  it("Shopee's refusals become permanent errors that say what to change", async () => {
    // Unknown item: unlist_item answers it in failure_list.
    const gone = adapter.catalog.plan('delist', draft('x'), { externalId: '123', refs: {} });
    const e1 = await runPlan(adapter.catalog, gone.requests).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ChannelError);
    expect([(e1 as ChannelError).kind, (e1 as ChannelError).message]).toEqual([
      'permanent',
      expect.stringMatching(/Unlist the item: Shopee refused it \(Product not found\)/),
    ]);
    // A category the shop refuses (here: not a positive id once sent) names the setting to change.
    const bad = adapter.catalog.plan('publish', draft('x', { attributes: { category_id: '0' } }), null);
    const e2 = (await runPlan(adapter.catalog, bad.requests).catch((e: unknown) => e)) as ChannelError;
    expect([e2.kind, e2.message]).toEqual([
      'permanent',
      expect.stringMatching(/Add the item: Shopee refused it \(error_param: Invalid category\.\): set the channel's default category id/),
    ]);
    // An image StockClerk cannot serve is permanent before anything is sent for it.
    const noImg = adapter.catalog.plan('publish', draft('x', { images: [{ id: 'm', url: `${imageBase}/missing.png`, contentType: 'image/png' }] }), null);
    const e3 = (await runPlan(adapter.catalog, noImg.requests).catch((e: unknown) => e)) as ChannelError;
    expect([e3.kind, e3.message]).toEqual(['permanent', expect.stringMatching(/could not be read \(404\)/)]);
  });
});
