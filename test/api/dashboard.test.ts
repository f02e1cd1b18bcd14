// The dashboard's read models and onboarding action over real HTTP: /overview, /overview/activity,
// /item-rows (search, sort, paging, sellable per channel), /listings/create-items; each scoped to
// the caller's tenant and refusing bad input with a structured 4xx. Plus the app served at / with
// its SPA fallback, never shadowing API, webhook or operations paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEposnowEmulator } from '../../emulators/eposnow/index.ts';
import { newEmulatedAccount, openAccount } from '../../src/demo/emulated.ts';
import { ensureWebBuilt } from '../helpers/browser.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, type Call } from './support.ts';

let h: Harness;
const emu = createEposnowEmulator();
let A: Awaited<ReturnType<typeof registerTenant>> & { call: Call; channelId: string };
let B: Awaited<ReturnType<typeof registerTenant>> & { call: Call };
const bSeen: string[] = [];

const LISTED = [
  { sku: 'BREAD', name: 'Sourdough', qty: 7 },
  { sku: 'JAM', name: 'Strawberry Jam', qty: 3 },
  { sku: 'HONEY', name: 'Honey', qty: 0 },
];

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  await emu.listen(0);
  const a = await registerTenant(h.url, 'Bakery A');
  const call = client(h.url, a.token);
  const acc = newEmulatedAccount('eposnow');
  openAccount(emu, 'eposnow', 'x', h.url, acc, LISTED);
  const ch = await call('POST', '/channels', {
    type: 'eposnow',
    name: 'Till',
    base_url: emu.url,
    credentials: acc.channel,
    settings: { location_ids: [a.locationId], default_buffer: 1 },
  });
  expect(ch.status).toBe(201);
  A = { ...a, call, channelId: ch.body.id };
  const b = await registerTenant(h.url, 'Bakery B');
  B = { ...b, call: client(h.url, b.token, bSeen) };
});
afterAll(async () => {
  await emu.close();
  await h?.stop();
});

describe('create items from unmatched listings', () => {
  it('creates one item per unmatched SKU, maps the listings and books the channel counts as opening stock', async () => {
    expect((await A.call('POST', `/channels/${A.channelId}/import`)).body).toMatchObject({ imported: 3, matched: 0, unmatched: 3 });
    // Another tenant cannot touch A's channel.
    expectError(await B.call('POST', '/listings/create-items', { channel_id: A.channelId }), 404, 'not_found');
    const r = await A.call('POST', '/listings/create-items', { channel_id: A.channelId, opening_stock_location_id: A.locationId });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ created: 3, mapped: 3, opening_stock_movements: 2, unmatched: 0 });
    const items = await A.call('GET', '/items');
    expect(items.body.data.map((i: { sku: string; name: string; on_hand: number }) => [i.sku, i.name, i.on_hand]).sort()).toEqual([
      ['BREAD', 'Sourdough', 7],
      ['HONEY', 'Honey', 0],
      ['JAM', 'Strawberry Jam', 3],
    ]);
    const moves = await A.call('GET', '/movements');
    expect(moves.body.data.every((m: { reason: string; note: string }) => m.reason === 'receipt' && m.note === 'opening stock from channel import')).toBe(true);
    // Nothing left to create: a second call is a no-op.
    expect((await A.call('POST', '/listings/create-items', { channel_id: A.channelId })).body).toEqual({
      created: 0,
      mapped: 0,
      opening_stock_movements: 0,
      unmatched: 0,
    });
  });

  it('refuses bad input with a structured 400 / 404 and changes nothing', async () => {
    expectInvalid(await A.call('POST', '/listings/create-items', {}), 'channel_id');
    expectInvalid(await A.call('POST', '/listings/create-items', { channel_id: 'item_123' }), 'channel_id');
    expectInvalid(await A.call('POST', '/listings/create-items', { channel_id: A.channelId, extra: 1 }));
    expectError(await A.call('POST', '/listings/create-items', { channel_id: A.channelId, opening_stock_location_id: B.locationId }), 404, 'not_found');
    expectError(await A.call('POST', '/listings/create-items', '{"channel_id":'), 400, 'invalid_json');
    expect((await A.call('GET', '/items')).body.data).toHaveLength(3);
  });
});

describe('item rows', () => {
  it('lists levels, listings and each channel’s sellable (buffer applied), sorted and searched on the server', async () => {
    const r = await A.call('GET', '/item-rows?sort=on_hand&dir=desc');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(3);
    expect(r.body.data.map((i: { sku: string }) => i.sku)).toEqual(['BREAD', 'JAM', 'HONEY']);
    const bread = r.body.data[0];
    expect(bread.levels).toEqual([{ location_id: A.locationId, on_hand: 7, reserved: 0 }]);
    expect(bread.listings).toHaveLength(1);
    expect(bread.listings[0]).toMatchObject({ channel_id: A.channelId, sellable: 6 });
    // The opening stock was pushed to the till as 7 - buffer 1.
    await eventually(async () => (await A.call('GET', '/item-rows?q=BREAD')).body.data[0].listings[0].last_pushed_qty === 6, 10_000, 'push of 6');
    expect(r.body.channels).toEqual([{ id: A.channelId, type: 'eposnow', name: 'Till', status: 'connected', quantity_model: 'delta' }]);
    expect((await A.call('GET', '/item-rows?q=jam')).body.data.map((i: { sku: string }) => i.sku)).toEqual(['JAM']);
    expect((await A.call('GET', '/item-rows?q=%25')).body.data).toEqual([]);
  });

  it('pages with an opaque cursor', async () => {
    const p1 = await A.call('GET', '/item-rows?limit=2');
    expect(p1.body.data.map((i: { sku: string }) => i.sku)).toEqual(['BREAD', 'HONEY']);
    const p2 = await A.call('GET', `/item-rows?limit=2&cursor=${p1.body.next_cursor}`);
    expect(p2.body.data.map((i: { sku: string }) => i.sku)).toEqual(['JAM']);
    expect(p2.body.next_cursor).toBeNull();
  });

  it('refuses bad queries', async () => {
    expectInvalid(await A.call('GET', '/item-rows?sort=tenant_id'), 'sort');
    expectInvalid(await A.call('GET', '/item-rows?dir=sideways'), 'dir');
    expectInvalid(await A.call('GET', '/item-rows?limit=0'), 'limit');
    expectInvalid(await A.call('GET', '/item-rows?cursor=%21%21'));
    expectInvalid(await A.call('GET', '/item-rows?cursor=LTE'));
    expectInvalid(await A.call('GET', '/item-rows?unknown=1'));
    expectError(await A.call('GET', '/overview/activity?hours=0'), 400, 'validation_failed');
  });
});

describe('overview', () => {
  it('reports channel health and 24 hourly buckets of sales and syncs', async () => {
    await A.call('POST', '/adjustments', {
      item_id: (await A.call('GET', '/items?q=BREAD')).body.data[0].id,
      location_id: A.locationId,
      qty_delta: -2,
      reason: 'sale',
    });
    const o = await A.call('GET', '/overview');
    expect(o.body.items).toBe(3);
    expect(o.body.channels).toHaveLength(1);
    expect(o.body.channels[0]).toMatchObject({ id: A.channelId, name: 'Till', status: 'connected', errors_last_hour: 0, listings: 3 });
    expect(o.body.channels[0].api_quota.budget_per_hour).toBeGreaterThan(0);
    const act = await A.call('GET', '/overview/activity');
    expect(act.body.data).toHaveLength(24);
    expect(act.body.data.at(-1).sales).toBe(2);
    expect(act.body.data.slice(0, -1).every((b: { sales: number }) => b.sales === 0)).toBe(true);
  });

  it('shows another tenant nothing of A', async () => {
    const o = await B.call('GET', '/overview');
    expect(o.body).toMatchObject({ channels: [], items: 0, open_alerts: 0 });
    expect((await B.call('GET', '/item-rows')).body).toMatchObject({ data: [], channels: [], total: 0 });
    expect((await B.call('GET', '/overview/activity')).body.data.every((b: { sales: number; syncs: number }) => b.sales === 0 && b.syncs === 0)).toBe(true);
    const seen = bSeen.join('\n');
    for (const s of [A.channelId, 'BREAD', 'Sourdough', 'Till']) expect(seen).not.toContain(s);
  });

  it('needs a token', async () => {
    for (const p of ['/overview', '/overview/activity', '/item-rows']) expectError(await client(h.url, undefined)('GET', p), 401, 'unauthorized');
    expectError(await client(h.url, undefined)('POST', '/listings/create-items', { channel_id: A.channelId }), 401, 'unauthorized');
  });
});

describe('the app at /', () => {
  it('serves index.html at / and for client routes, assets with long caching, and never shadows other paths', async () => {
    const root = await fetch(`${h.url}/`);
    expect(root.status).toBe(200);
    expect(root.headers.get('content-type')).toContain('text/html');
    const html = await root.text();
    expect(html).toMatch(/<script type="module" crossorigin src="\/assets\/index-[\w-]+\.js">/);
    for (const p of ['/items', '/items/item_abc', '/channels/ch_x', '/onboarding?step=2']) {
      const r = await fetch(h.url + p);
      expect(r.status, p).toBe(200);
      expect(await r.text()).toBe(html);
    }
    const asset = html.match(/src="(\/assets\/[^"]+)"/)![1]!;
    const a = await fetch(h.url + asset);
    expect(a.status).toBe(200);
    expect(a.headers.get('cache-control')).toContain('immutable');
    expect(a.headers.get('content-type')).toContain('javascript');
    for (const p of ['/api/v1/nope', '/api/v1', '/webhooks/eposnow/x', '/metricsx/../api/v1/nope']) {
      const r = await fetch(h.url + p);
      expect(r.status, p).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.url}/assets/missing-chunk.js`)).status).toBe(404);
    // /docs is the API reference, not the app.
    const docs = await fetch(`${h.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).not.toBe(html);
  });
});
