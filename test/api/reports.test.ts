// Reports (low stock, movement summary by reason and day, stock on hand by location), the audit
// log, and the ledger views added for the developers' API: one level with its latest movements,
// one movement, movements by time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, ghost, type Call } from './support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let cellar: string;
const ids: Record<string, string> = {};
const today = new Date().toISOString().slice(0, 10);

beforeAll(async () => {
  h = await startHarness({ worker: false });
  t = await registerTenant(h.url, 'Report Co');
  call = client(h.url, t.token);
  cellar = (await call('POST', '/locations', { name: 'Cellar' })).body.id;
  for (const [sku, threshold] of [
    ['WINE', 5],
    ['BEER', 2],
    ['GIN', 0],
  ] as const) {
    ids[sku] = (await call('POST', '/items', { sku, name: sku, low_stock_threshold: threshold })).body.id;
  }
  const adj = (item: string, location: string, qty_delta: number, reason: string) =>
    call('POST', '/adjustments', { item_id: item, location_id: location, qty_delta, reason });
  await adj(ids.WINE!, t.locationId, 10, 'receipt');
  await adj(ids.WINE!, t.locationId, -7, 'sale');
  await adj(ids.WINE!, cellar, 1, 'receipt');
  await adj(ids.BEER!, cellar, 20, 'receipt');
  await adj(ids.BEER!, cellar, -2, 'sale');
  await adj(ids.BEER!, cellar, 1, 'return');
  await call('POST', '/stock-counts', { item_id: ids.BEER, location_id: cellar, counted_qty: 15 });
});

afterAll(async () => {
  await h?.stop();
});

describe('reports', () => {
  it('low stock: items whose available stock is at or below their threshold', async () => {
    const r = await call('GET', '/reports/low-stock');
    expect(r.body.data).toEqual([
      { item_id: ids.GIN, sku: 'GIN', name: 'GIN', low_stock_threshold: 0, on_hand: 0, reserved: 0, available: 0, out_of_stock: true },
      { item_id: ids.WINE, sku: 'WINE', name: 'WINE', low_stock_threshold: 5, on_hand: 4, reserved: 0, available: 4, out_of_stock: false },
    ]);
    // At one location, the cellar's single bottle of wine is low; beer there is not.
    const atCellar = await call('GET', `/reports/low-stock?location_id=${cellar}`);
    expect(atCellar.body.data.map((x: { sku: string; available: number }) => [x.sku, x.available])).toEqual([
      ['GIN', 0],
      ['WINE', 1],
    ]);
    expectInvalid(await call('GET', '/reports/low-stock?location_id=cellar'), 'location_id');
  });

  it('movement summary by day and reason', async () => {
    const r = await call('GET', `/reports/movement-summary?from=${today}&to=${today}`);
    expect(r.body).toEqual({
      from: today,
      to: today,
      data: [
        { day: today, reason: 'count', movements: 1, qty_in: 0, qty_out: 4, net: -4 },
        { day: today, reason: 'receipt', movements: 3, qty_in: 31, qty_out: 0, net: 31 },
        { day: today, reason: 'return', movements: 1, qty_in: 1, qty_out: 0, net: 1 },
        { day: today, reason: 'sale', movements: 2, qty_in: 0, qty_out: 9, net: -9 },
      ],
    });
    const beer = await call('GET', `/reports/movement-summary?from=${today}&to=${today}&item_id=${ids.BEER}`);
    expect(beer.body.data.map((x: { reason: string; net: number }) => [x.reason, x.net])).toEqual([
      ['count', -4],
      ['receipt', 20],
      ['return', 1],
      ['sale', -2],
    ]);
    expect((await call('GET', '/reports/movement-summary?from=2020-01-01&to=2020-01-31')).body.data).toEqual([]);
    expectInvalid(await call('GET', '/reports/movement-summary?from=2020-02-01&to=2020-01-01'), 'to');
    expectInvalid(await call('GET', '/reports/movement-summary?from=2020-01-01&to=2022-01-01'), 'to');
    expectInvalid(await call('GET', '/reports/movement-summary?from=yesterday&to=2020-01-01'), 'from');
    expectInvalid(await call('GET', '/reports/movement-summary'));
  });

  it('stock on hand by location', async () => {
    const r = await call('GET', '/reports/stock-on-hand');
    expect(r.body.data).toEqual([
      { location_id: cellar, location_name: 'Cellar', items_stocked: 2, on_hand: 16, reserved: 0, available: 16 },
      { location_id: t.locationId, location_name: 'Main', items_stocked: 1, on_hand: 3, reserved: 0, available: 3 },
    ]);
  });
});

describe('levels and movements', () => {
  it('one level, with its latest movements on request; lists can include them too', async () => {
    const one = await call('GET', `/stock-levels/${ids.BEER}/${cellar}?include_movements=2`);
    expect(one.body).toMatchObject({ item_id: ids.BEER, location_id: cellar, on_hand: 15, available: 15 });
    expect(one.body.movements.map((m: { reason: string; qty_delta: number }) => [m.reason, m.qty_delta])).toEqual([
      ['count', -4],
      ['return', 1],
    ]);
    expect(one.headers.get('etag')).toBeTruthy();
    expect((await call('GET', `/stock-levels/${ids.BEER}/${cellar}`)).body.movements).toBeUndefined();
    expectError(await call('GET', `/stock-levels/${ids.GIN}/${cellar}`), 404, 'not_found');
    expectError(await call('GET', `/stock-levels/${ids.GIN}/nope`), 404, 'not_found');
    const list = await call('GET', `/stock-levels?include_movements=1&location_id=${cellar}`);
    expect(list.body.data.map((l: { item_id: string; movements: unknown[] }) => [l.item_id, l.movements.length])).toEqual(
      [
        [ids.WINE, 1],
        [ids.BEER, 1],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );
    expectInvalid(await call('GET', '/stock-levels?include_movements=51'), 'include_movements');
  });

  it('movements by time, and one movement by id', async () => {
    const all = await call('GET', '/movements');
    const newest = all.body.data[0];
    const one = await call('GET', `/movements/${newest.id}`);
    expect(one.body).toEqual(newest);
    expectError(await call('GET', '/movements/999999999'), 404, 'not_found');
    expectError(await call('GET', '/movements/abc'), 404, 'not_found');
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await call('GET', `/movements?since=${encodeURIComponent(future)}`)).body.data).toEqual([]);
    expect((await call('GET', `/movements?until=${encodeURIComponent(future)}`)).body.data).toHaveLength(all.body.data.length);
    const cut = new Date(Date.parse(newest.created_at)).toISOString();
    const since = await call('GET', `/movements?since=${encodeURIComponent(cut)}`);
    expect(since.body.data.every((m: { created_at: string }) => m.created_at >= cut)).toBe(true);
    expectInvalid(await call('GET', '/movements?until=tomorrow'), 'until');
    // Another tenant's movement id is a 404.
    const other = await registerTenant(h.url, 'Other');
    expectError(await client(h.url, other.token)('GET', `/movements/${newest.id}`), 404, 'not_found');
  });
});

describe('audit log', () => {
  it('records who changed what and when, newest first, filterable', async () => {
    const log = await call('GET', '/audit-log?limit=500');
    const me = (await call('GET', '/me')).body.user.id;
    const actions = log.body.data.map((e: { action: string }) => e.action);
    expect(actions.filter((a: string) => a === 'item.created')).toHaveLength(3);
    expect(actions.filter((a: string) => a === 'stock.adjusted')).toHaveLength(6);
    expect(actions).toContain('stock.counted');
    expect(actions).toContain('location.created');
    expect(
      log.body.data.every((e: { actor_type: string; actor_id: string; request_id: string }) => e.actor_type === 'user' && e.actor_id === me && e.request_id),
    ).toBe(true);
    const wine = await call('GET', `/audit-log?resource_id=${ids.WINE}`);
    expect(wine.body.data.map((e: { action: string }) => e.action)).toEqual(['stock.adjusted', 'stock.adjusted', 'stock.adjusted', 'item.created']);
    expect(wine.body.data[3].changes).toMatchObject({ sku: 'WINE', low_stock_threshold: 5 });
    const page1 = await call('GET', '/audit-log?limit=2&action=stock.adjusted');
    const page2 = await call('GET', `/audit-log?limit=2&action=stock.adjusted&cursor=${page1.body.next_cursor}`);
    expect(page2.body.data[0].id).toBeLessThan(page1.body.data[1].id);
    expectInvalid(await call('GET', '/audit-log?resource_id=WINE'), 'resource_id');
    expect((await call('GET', `/audit-log?resource_id=${ghost('item')}`)).body.data).toEqual([]);
  });

  it('records channel changes without their credential values', async () => {
    const secret = 'very-secret-value-1234';
    const ch = await call('POST', '/channels', {
      type: 'eposnow',
      name: 'Till',
      base_url: 'http://127.0.0.1:9',
      credentials: { api_key: 'k-1', api_secret: secret },
    });
    expect(ch.status).toBe(201);
    await call('PATCH', `/channels/${ch.body.id}`, { name: 'Till 2', credentials: { api_key: 'k-2', api_secret: secret } });
    await call('POST', `/channels/${ch.body.id}/pause`);
    expect((await call('DELETE', `/channels/${ch.body.id}`)).status).toBe(204);
    const log = await call('GET', `/audit-log?resource_id=${ch.body.id}`);
    expect(log.body.data.map((e: { action: string }) => e.action)).toEqual(['channel.deleted', 'channel.paused', 'channel.updated', 'channel.created']);
    expect(log.body.data[3].changes).toMatchObject({ type: 'eposnow', name: 'Till', credentials: ['api_key', 'api_secret'] });
    const { rows } = await h.testDb.db.query(`select changes::text as c from audit_log where tenant_id = $1`, [t.tenantId]);
    for (const r of rows) expect(r.c ?? '').not.toContain(secret);
  });
});
