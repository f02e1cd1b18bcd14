// TikTok Shop's catalog side against the emulator over real HTTP: a product with two variants
// published (image uploaded, product created with a SKU per variant stocked in the channel's
// warehouse), read back, edited (SKUs keep their ids), deactivated and activated again.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../../emulators/kit/index.ts';
import { createTiktokShopEmulator, type TiktokShopAccount } from '../../../emulators/tiktok_shop/index.ts';
import { runPlan } from '../catalog.ts';
import type { ListingDraft } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import type { TiktokShopAdapter } from './adapter.ts';
import { tiktokShopChannel } from './index.ts';

const WH = '7000000000000000999';
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);
const emu: Emulator<TiktokShopAccount> = createTiktokShopEmulator();
let images: http.Server;
let imageBase = '';
let adapter: TiktokShopAdapter;

beforeAll(async () => {
  await emu.listen();
  images = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(PNG));
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  emu.addAccount({ id: 'shop', credentials: { app_key: 'k1', app_secret: 's1' }, warehouses: [WH], items: [] } as never);
  const t = (await (
    await fetch(`${emu.url}/_control/accounts/shop/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  ).json()) as { access_token: string; refresh_token: string };
  adapter = openAdapter(tiktokShopChannel, {
    channelId: 'ch',
    baseUrl: emu.url,
    credentials: { app_key: 'k1', app_secret: 's1', access_token: t.access_token, refresh_token: t.refresh_token },
    settings: { warehouse_id: WH },
  }) as TiktokShopAdapter;
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => images.close(r));
});

const draft = (title: string): ListingDraft => ({
  productId: 'prd_1',
  title,
  description: 'Soft cotton tee',
  brand: null,
  category: 'Tops',
  attributes: {},
  currency: 'GBP',
  options: [{ name: 'Size', values: ['S', 'M'] }],
  images: [{ id: 'img1', url: `${imageBase}/media/tee.png`, contentType: 'image/png' }],
  variants: [
    { itemId: 'i1', sku: 'TEE-S', optionValues: { Size: 'S' }, priceMinor: 1250, qty: 3 },
    { itemId: 'i2', sku: 'TEE-M', optionValues: { Size: 'M' }, priceMinor: 1250, qty: 5 },
  ],
});

describe('TikTok Shop catalog', () => {
  it('publishes, reads back, edits, delists and relists a product', async () => {
    const plan = adapter.catalog.plan('publish', draft('Tee'), null);
    expect(plan.requests.map((r) => r.label)).toEqual(['Upload image 1', 'Create the product']);
    const out = plan.outcome(await runPlan(adapter.catalog, plan.requests));
    expect(out.listings.map((l) => l.sku)).toEqual(['TEE-S', 'TEE-M']);
    const remote = await adapter.readListings(out.listings);
    expect(remote.map((l) => [l.sku, l.qty, l.externalLocationId])).toEqual([
      ['TEE-S', 3, WH],
      ['TEE-M', 5, WH],
    ]);
    expect(await adapter.catalog.readFields([out.ref])).toEqual([
      { externalId: out.ref.externalId, title: 'Tee', description: 'Soft cotton tee', priceMinor: 1250 },
    ]);

    const upd = adapter.catalog.plan('update', draft('Cotton tee'), out.ref);
    const after = upd.outcome(await runPlan(adapter.catalog, upd.requests));
    expect(after.ref.externalId).toBe(out.ref.externalId);
    expect(after.ref.refs).toEqual(out.ref.refs); // the SKUs kept their ids
    expect((await adapter.catalog.readFields([out.ref]))[0]!.title).toBe('Cotton tee');

    const product = () => emu.accounts.get('shop')!.products.find((p) => p.id === out.ref.externalId)!;
    await runPlan(adapter.catalog, adapter.catalog.plan('delist', draft('Cotton tee'), after.ref).requests);
    expect(product().status).toBe('SELLER_DEACTIVATED');
    await runPlan(adapter.catalog, adapter.catalog.plan('relist', draft('Cotton tee'), after.ref).requests);
    expect(product().status).toBe('ACTIVATE');
  });

  it('refuses to plan a publish with no warehouse or no image, saying what to change', () => {
    const noWh = openAdapter(tiktokShopChannel, { channelId: 'c', baseUrl: emu.url, credentials: {}, settings: {} }) as TiktokShopAdapter;
    expect(() => noWh.catalog.plan('publish', draft('Tee'), null)).toThrow(/warehouse id/);
    expect(() => adapter.catalog.plan('publish', { ...draft('Tee'), images: [] }, null)).toThrow(/image/);
  });
});
