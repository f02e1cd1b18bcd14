// Shopee publishing end to end over real HTTP: a product with three variants published through
// the API (POST /api/v1/products/{id}/publish) goes live on the Shopee emulator as one item with
// three models; the dry run lists the requests the real run then sends, and sends nothing;
// unlisting and listing again through the API; a sale on Shopee becomes one ledger movement and
// the other marketplaces (Etsy, TikTok Shop) follow.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShopeeAccount } from '../../emulators/shopee/index.ts';
import { connectEmulatedChannel, startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { client } from '../api/support.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

type Market = 'shopee' | 'etsy' | 'tiktok_shop';
const MARKETS: Market[] = ['shopee', 'etsy', 'tiktok_shop'];

let h: Harness;
let emus: EmulatorSet;
let call: ReturnType<typeof client>;
let tenantId: string;
let productId: string;
const ch = {} as Record<Market, { channelId: string; accountId: string }>;

const state = async (type: Market) => {
  const r = await fetch(`${emus[type].url}/_control/accounts/${ch[type].accountId}/state`);
  return new Map(((await r.json()) as { items: Array<{ sku: string; qty: number }> }).items.map((i) => [i.sku, i.qty]));
};
const publication = async (channelId: string) => {
  const r = await call('GET', `/publications?product_id=${productId}&channel_id=${channelId}`);
  return r.body.data[0] as { id: string; state: string; external_id: string | null; last_error: string | null } | undefined;
};
const settled = async (channelId: string, want = 'live') => {
  await eventually(async () => (await publication(channelId))?.state !== 'publishing', 30_000, `publication on ${channelId} to settle`);
  const p = (await publication(channelId))!;
  expect(p.state, p.last_error ?? '').toBe(want);
  return p;
};
const shopeeItem = async () => {
  const id = Number((await publication(ch.shopee.channelId))!.external_id);
  return (emus.shopee.accounts.get(ch.shopee.accountId) as ShopeeAccount).items.find((i) => i.item_id === id)!;
};
/** What Shopee received beside the plan: the Watcher's order polls and token calls run on their own clock. */
const shopeeCalls = () => emus.shopee.received.filter((r) => !/\/api\/v2\/(order|auth)\//.test(r.url));

/** A planned body matches a sent one: equal, with each `{{name}}` standing for any value. */
function sameBody(planned: unknown, sent: unknown): boolean {
  if (typeof planned === 'string' && /\{\{[^}]+\}\}/.test(planned)) return sent !== undefined && sent !== null && sent !== '';
  if (Array.isArray(planned)) return Array.isArray(sent) && sent.length === planned.length && planned.every((p, i) => sameBody(p, sent[i]));
  if (planned && typeof planned === 'object') {
    if (!sent || typeof sent !== 'object') return false;
    const a = Object.keys(planned).sort();
    const b = Object.keys(sent).sort();
    return a.join() === b.join() && a.every((k) => sameBody((planned as Record<string, unknown>)[k], (sent as Record<string, unknown>)[k]));
  }
  return planned === sent;
}

beforeAll(async () => {
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  emus = await startEmulators();
  const t = await registerTenant(h.url, 'Shopee catalog E2E');
  tenantId = t.tenantId;
  call = client(h.url, t.token);
  for (const type of MARKETS) {
    const c = await connectEmulatedChannel(h.sc.ctx, {
      tenantId,
      type,
      emulator: emus[type],
      name: type,
      stockclerkUrl: h.url,
      items: [],
      locationIds: [t.locationId],
    });
    ch[type] = { channelId: c.channelId, accountId: c.accountId };
  }
  const made = await call('POST', '/products', {
    title: 'Linen shirt',
    description: 'Washed linen shirt with two pockets.',
    category: 'Clothing > Shirts',
    price_minor: 2500,
    options: [{ name: 'Size', values: ['S', 'M', 'L'] }],
    variants: ['S', 'M', 'L'].map((s) => ({ sku: `SHP-${s}`, option_values: { Size: s } })),
  });
  expect(made.status).toBe(201);
  productId = made.body.id;
  const img = await fetch(`${h.url}/api/v1/products/${productId}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${t.token}` },
    body: swatchPng([190, 170, 140], [235, 235, 235]),
  });
  expect(img.status).toBe(201);
  await recordMovements(
    h.sc.ctx.db,
    tenantId,
    (made.body.variants as Array<{ item_id: string }>).map((v) => ({ itemId: v.item_id, locationId: t.locationId, qtyDelta: 6, reason: 'receipt' as const })),
  );
}, 60_000);
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('publishing to Shopee', () => {
  let planned: Array<{ channel_id: string; method: string; url: string; body: unknown; label: string }> = [];

  it('a dry run lists the requests (images, add_item, init_tier_variation) and sends nothing', async () => {
    emus.shopee.received.length = 0;
    emus.shopee.recording = true;
    const dry = await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.shopee.channelId], dry_run: true });
    emus.shopee.recording = false;
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.problems).toEqual([]);
    planned = dry.body.requests;
    expect(planned.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /api/v2/media_space/upload_image',
      'POST /api/v2/product/add_item',
      'POST /api/v2/product/init_tier_variation',
    ]);
    expect(dry.body.api_calls).toBe(3);
    const models = (planned[2]!.body as { model: Array<{ model_sku: string; original_price: number; seller_stock: Array<{ stock: number }> }> }).model;
    expect(models.map((m) => [m.model_sku, m.original_price, m.seller_stock[0]!.stock])).toEqual([
      ['SHP-S', 25, 6],
      ['SHP-M', 25, 6],
      ['SHP-L', 25, 6],
    ]);
    expect(shopeeCalls()).toEqual([]);
    expect((await call('GET', `/publications?product_id=${productId}`)).body.data).toEqual([]);
  });

  it('publishes with the same requests the dry run listed: one item with three models, each a synced listing', async () => {
    emus.shopee.received.length = 0;
    emus.shopee.recording = true;
    const res = await call('POST', `/products/${productId}/publish`, { channel_ids: MARKETS.map((m) => ch[m].channelId) });
    expect(res.status).toBe(202);
    for (const m of MARKETS) await settled(ch[m].channelId);
    emus.shopee.recording = false;
    // The plan comes first; the Sync's pushes (update_stock) follow it.
    const got = shopeeCalls().slice(0, planned.length);
    expect(got.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual(planned.map((r) => `${r.method} ${new URL(r.url).pathname}`));
    planned.forEach((r, i) => {
      if (r.body !== null) expect(sameBody(r.body, got[i]!.body), `${r.label}: ${JSON.stringify(got[i]!.body)}`).toBe(true);
    });
    const item = await shopeeItem();
    expect([item.item_name, item.item_status, item.models.length]).toEqual(['Linen shirt', 'NORMAL', 3]);
    expect(item.tiers).toEqual([{ name: 'Size', options: ['S', 'M', 'L'] }]);
    expect(new Map(item.models.map((m) => [m.model_sku, m.seller_stock]))).toEqual(
      new Map([
        ['SHP-S', 6],
        ['SHP-M', 6],
        ['SHP-L', 6],
      ]),
    );
    const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from listings where tenant_id = $1 and channel_id = $2 and item_id is not null`, [
      tenantId,
      ch.shopee.channelId,
    ]);
    expect(rows[0].n).toBe(3);
    for (const m of MARKETS) await eventually(async () => (await state(m)).get('SHP-M') === 6, 15_000, `${m} to hold 6 of SHP-M`);
  });

  it('a sale on Shopee becomes one ledger movement and the other marketplaces follow', async () => {
    const sold = await fetch(`${emus.shopee.url}/_control/accounts/${ch.shopee.accountId}/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SHP-M', qty: 2 }),
    });
    expect(sold.status).toBeLessThan(300);
    for (const m of ['etsy', 'tiktok_shop'] as const) await eventually(async () => (await state(m)).get('SHP-M') === 4, 20_000, `${m} to hold 4 of SHP-M`);
    // The push and the order poll both hear the order: still one movement.
    await emus.shopee.drain();
    await new Promise((r) => setTimeout(r, 1500));
    const { rows } = await h.sc.ctx.db.query(
      `select count(*)::int as n, coalesce(sum(m.qty_delta), 0)::int as q from stock_movements m join items i on i.tenant_id = m.tenant_id and i.id = m.item_id
       where m.tenant_id = $1 and i.sku = 'SHP-M' and m.reason = 'sale'`,
      [tenantId],
    );
    expect([rows[0].n, rows[0].q]).toEqual([1, -2]);
    expect((await state('shopee')).get('SHP-M')).toBe(4);
  });

  it('unlists and lists the item again through the API', async () => {
    const act = async (action: 'delist' | 'relist') => {
      const r = await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.shopee.channelId], action });
      expect(r.status, JSON.stringify(r.body)).toBe(202);
    };
    const dry = await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.shopee.channelId], action: 'delist', dry_run: true });
    const itemId = Number((await publication(ch.shopee.channelId))!.external_id);
    expect(dry.body.requests.map((r: { url: string; body: unknown }) => [new URL(r.url).pathname, r.body])).toEqual([
      ['/api/v2/product/unlist_item', { item_list: [{ item_id: itemId, unlist: true }] }],
    ]);
    await act('delist');
    await settled(ch.shopee.channelId, 'delisted');
    expect((await shopeeItem()).item_status).toBe('UNLIST');
    await act('relist');
    await settled(ch.shopee.channelId);
    expect((await shopeeItem()).item_status).toBe('NORMAL');
  });

  it('an update renames the item and keeps its models', async () => {
    const before = (await shopeeItem()).models.map((m) => m.model_id);
    const etag = (await call('GET', `/products/${productId}`)).headers.get('etag') ?? '*';
    const edit = await call('PATCH', `/products/${productId}`, { title: 'Washed linen shirt' }, { 'if-match': etag });
    expect(edit.status, JSON.stringify(edit.body)).toBe(200);
    const r = await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.shopee.channelId] });
    expect([r.status, r.body.jobs?.[0]?.action]).toEqual([202, 'update']);
    await settled(ch.shopee.channelId);
    const item = await shopeeItem();
    expect([item.item_name, item.models.map((m) => m.model_id)]).toEqual(['Washed linen shirt', before]);
  });
});
