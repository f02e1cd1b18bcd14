// Locations, stock levels, the movement ledger, adjustments and stock counts over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { ANY_VERSION, client, expectError, expectInvalid, ghost, snapshot, type Call } from './support.ts';

let h: Harness;
let tenant: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let userId: string;
let main: string;
let backRoom: string;
const items: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness();
  tenant = await registerTenant(h.url, 'Stock Co');
  call = client(h.url, tenant.token);
  main = tenant.locationId;
  userId = (await call('GET', '/me')).body.user.id;
  for (const sku of ['BREAD', 'MILK', 'EGGS']) items[sku] = (await call('POST', '/items', { sku, name: sku })).body.id;
});

afterAll(async () => {
  await h?.stop();
});

/** The tenant's `stock.adjusted` audit rows for an item, oldest first: what each recorded. */
const adjustedAudit = async (itemId: string) =>
  (
    await h.testDb.db.query<{ actor_id: string; changes: { qty_delta: number; reason: string } }>(
      `select actor_id, changes from audit_log where tenant_id = $1 and action = 'stock.adjusted' and resource_id = $2 order by id`,
      [tenant.tenantId, itemId],
    )
  ).rows;

describe('locations', () => {
  it('lists the first location and creates, reads and renames others', async () => {
    const list = await call('GET', '/locations');
    expect(list.body).toEqual({ data: [expect.objectContaining({ id: main, name: 'Main', on_hand: 0, items_stocked: 0 })], next_cursor: null });
    const created = await call('POST', '/locations', { name: '  Back room ' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'Back room', on_hand: 0 });
    expect(created.body.id).toMatch(/^loc_[0-9a-f]{32}$/);
    backRoom = created.body.id;
    const read = await call('GET', `/locations/${backRoom}`);
    expect(read.body.name).toBe('Back room');
    const renamed = await call('PATCH', `/locations/${backRoom}`, { name: 'Store room' }, { 'if-match': read.headers.get('etag')! });
    expect(renamed.body.name).toBe('Store room');
    const page1 = await call('GET', '/locations?limit=1');
    expect(page1.body.data).toHaveLength(1);
    const page2 = await call('GET', `/locations?limit=1&cursor=${page1.body.next_cursor}`);
    expect(page2.body.data).toHaveLength(1);
    expect(page2.body.next_cursor).toBeNull();
    expect(page2.body.data[0].id).not.toBe(page1.body.data[0].id);
  });

  it('refuses bad input, duplicate names and unknown ids, changing nothing', async () => {
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    for (const body of [{}, { name: '' }, { name: '   ' }, { name: 7 }, { name: 'x'.repeat(201) }, { name: 'Ok', id: ghost('loc') }, [], '"name"']) {
      expectInvalid(await call('POST', '/locations', body));
      expectInvalid(await call('PATCH', `/locations/${backRoom}`, body));
    }
    expectError(await call('POST', '/locations', { name: 'main' }), 409, 'conflict');
    expectError(await call('PATCH', `/locations/${backRoom}`, { name: 'MAIN' }, ANY_VERSION), 409, 'conflict');
    for (const id of [ghost('loc'), 'loc_x', items.BREAD]) {
      expectError(await call('GET', `/locations/${id}`), 404, 'not_found');
      expectError(await call('PATCH', `/locations/${id}`, { name: 'Elsewhere' }, ANY_VERSION), 404, 'not_found');
    }
    expectInvalid(await call('GET', '/locations?limit=1000'), 'limit');
    expect(await snapshot(h.testDb.db, tenant.tenantId)).toEqual(before);
  });
});

describe('adjustments', () => {
  it('writes a movement through the ledger and answers with the new level', async () => {
    const r = await call('POST', '/adjustments', { item_id: items.BREAD, location_id: main, qty_delta: 10, reason: 'receipt', note: 'delivery' });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      item_id: items.BREAD,
      location_id: main,
      qty_delta: 10,
      reason: 'receipt',
      level: { item_id: items.BREAD, location_id: main, on_hand: 10, reserved: 0, available: 10 },
    });
    expect((await call('POST', '/adjustments', { item_id: items.BREAD, location_id: main, qty_delta: -3, reason: 'sale' })).body.level.on_hand).toBe(7);
    expect((await call('POST', '/adjustments', { item_id: items.BREAD, location_id: main, qty_delta: 2, reason: 'return' })).body.level.on_hand).toBe(9);
    expect((await call('POST', '/adjustments', { item_id: items.BREAD, location_id: main, qty_delta: -9, reason: 'adjustment' })).body.level.on_hand).toBe(0);
    const mv = await call('GET', `/movements?item_id=${items.BREAD}`);
    expect(mv.body.data.map((m: { qty_delta: number }) => m.qty_delta)).toEqual([-9, 2, -3, 10]);
    expect(mv.body.data[3]).toMatchObject({ reason: 'receipt', note: 'delivery', source_user_id: userId, location_id: main, source_channel_id: null });
    expect(typeof mv.body.data[0].id).toBe('number');
    // One audit row per adjustment, take-outs (whose ledger statement writes its own) included.
    const audited = await adjustedAudit(items.BREAD!);
    expect(audited.map((a) => [a.changes.qty_delta, a.changes.reason, a.actor_id])).toEqual([
      [10, 'receipt', userId],
      [-3, 'sale', userId],
      [2, 'return', userId],
      [-9, 'adjustment', userId],
    ]);
  });

  it('refuses bad input, stock it does not have and unknown items or locations, changing nothing', async () => {
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    const auditedBefore = { BREAD: (await adjustedAudit(items.BREAD!)).length, MILK: (await adjustedAudit(items.MILK!)).length };
    const ok = { item_id: items.MILK, location_id: main, qty_delta: 5, reason: 'receipt' };
    const cases: Array<[unknown, string | undefined]> = [
      [{ ...ok, qty_delta: 0 }, 'qty_delta'],
      [{ ...ok, qty_delta: 1.5 }, 'qty_delta'],
      [{ ...ok, qty_delta: '5' }, 'qty_delta'],
      [{ ...ok, qty_delta: 2e9 }, 'qty_delta'],
      [{ ...ok, qty_delta: -1e300 }, 'qty_delta'],
      [{ ...ok, qty_delta: undefined }, 'qty_delta'],
      [{ ...ok, reason: undefined }, 'reason'],
      [{ ...ok, reason: 'count' }, 'reason'],
      [{ ...ok, reason: 'transfer_in' }, 'reason'],
      [{ ...ok, reason: 'receipt', qty_delta: -1 }, 'qty_delta'],
      [{ ...ok, reason: 'return', qty_delta: -1 }, 'qty_delta'],
      [{ ...ok, reason: 'sale', qty_delta: 1 }, 'qty_delta'],
      [{ ...ok, note: 'n'.repeat(501) }, 'note'],
      [{ ...ok, note: 5 }, 'note'],
      [{ ...ok, item_id: 'MILK' }, 'item_id'],
      [{ ...ok, item_id: undefined }, 'item_id'],
      [{ ...ok, location_id: items.MILK }, 'location_id'],
      [{ ...ok, tenant_id: 'ten_x' }, undefined],
      [{ ...ok, source_user_id: 'usr_x' }, undefined],
    ];
    for (const [body, field] of cases) expectInvalid(await call('POST', '/adjustments', body), field);
    expectError(await call('POST', '/adjustments', { ...ok, item_id: ghost('item') }), 404, 'not_found');
    expectError(await call('POST', '/adjustments', { ...ok, location_id: ghost('loc') }), 404, 'not_found');
    // Taking out more than is there is refused (BREAD holds 0 at Main, MILK nothing anywhere).
    const short = await call('POST', '/adjustments', { item_id: items.BREAD, location_id: main, qty_delta: -1, reason: 'adjustment' });
    expectError(short, 409, 'insufficient_stock');
    expect(short.body.error.details).toEqual({ on_hand: 0, qty_delta: -1 });
    expectError(await call('POST', '/adjustments', { ...ok, qty_delta: -1, reason: 'sale' }), 409, 'insufficient_stock');
    // Overflowing the level's integer is a 400, not a 500.
    await call('POST', '/adjustments', { ...ok, location_id: backRoom, qty_delta: 1_000_000_000 });
    await call('POST', '/adjustments', { ...ok, location_id: backRoom, qty_delta: 1_000_000_000 });
    const overflow = await call('POST', '/adjustments', { ...ok, location_id: backRoom, qty_delta: 1_000_000_000 });
    expectInvalid(overflow);
    await call('POST', '/adjustments', { ...ok, location_id: backRoom, qty_delta: -1_000_000_000, reason: 'adjustment' });
    await call('POST', '/adjustments', { ...ok, location_id: backRoom, qty_delta: -1_000_000_000, reason: 'adjustment' });
    const after = await snapshot(h.testDb.db, tenant.tenantId);
    // The four accepted MILK adjustments at the back room net to zero; nothing else moved.
    expect((after.stock_movements as unknown[]).length).toBe((before.stock_movements as unknown[]).length + 4);
    expect(after.stock_levels).toEqual(expect.arrayContaining([expect.objectContaining({ item_id: items.MILK, location_id: backRoom, on_hand: 0 })]));
    expect((after.stock_levels as Array<{ item_id: string; on_hand: number }>).filter((l) => l.item_id !== items.MILK)).toEqual(
      (before.stock_levels as Array<{ item_id: string }>).filter((l) => l.item_id !== items.MILK),
    );
    // Only the four accepted adjustments are in the audit log: no refused take-out left a row.
    expect((await adjustedAudit(items.BREAD!)).length).toBe(auditedBefore.BREAD);
    expect((await adjustedAudit(items.MILK!)).map((a) => a.changes.qty_delta).slice(auditedBefore.MILK)).toEqual([
      1_000_000_000, 1_000_000_000, -1_000_000_000, -1_000_000_000,
    ]);
  });
});

describe('adjustments, concurrent', () => {
  it('twelve concurrent takes of one unit from five: five accepted, seven refused, none below zero', async () => {
    const fresh = (await call('POST', '/items', { sku: 'RACE', name: 'The last five' })).body.id;
    expect((await call('POST', '/adjustments', { item_id: fresh, location_id: main, qty_delta: 5, reason: 'receipt' })).status).toBe(201);
    const takes = await Promise.all(
      Array.from({ length: 12 }, () => call('POST', '/adjustments', { item_id: fresh, location_id: main, qty_delta: -1, reason: 'sale' })),
    );
    expect(takes.filter((t) => t.status === 201)).toHaveLength(5);
    for (const t of takes.filter((x) => x.status !== 201)) expectError(t, 409, 'insufficient_stock');
    // Each accepted take saw the level its predecessors left: on hand after them 4, 3, 2, 1, 0.
    expect(
      takes
        .filter((t) => t.status === 201)
        .map((t) => t.body.level.on_hand)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
    const level = await call('GET', `/stock-levels?item_id=${fresh}`);
    expect(level.body.data[0]).toMatchObject({ on_hand: 0 });
    // The receipt and the five accepted takes are audited; the seven refused are not.
    expect((await adjustedAudit(fresh)).map((a) => a.changes.qty_delta)).toEqual([5, -1, -1, -1, -1, -1]);
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });
});

describe('stock counts', () => {
  it('writes the difference as a count movement, none when the count matches', async () => {
    const first = await call('POST', '/stock-counts', { item_id: items.EGGS, location_id: backRoom, counted_qty: 12, note: 'opening count' });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ delta: 12, counted_qty: 12, level: { on_hand: 12, reserved: 0, available: 12 } });
    const same = await call('POST', '/stock-counts', { item_id: items.EGGS, location_id: backRoom, counted_qty: 12 });
    expect(same.body).toMatchObject({ delta: 0, level: { on_hand: 12 } });
    const fewer = await call('POST', '/stock-counts', { item_id: items.EGGS, location_id: backRoom, counted_qty: 5 });
    expect(fewer.body).toMatchObject({ delta: -7, level: { on_hand: 5 } });
    const zero = await call('POST', '/stock-counts', { item_id: items.MILK, location_id: main, counted_qty: 0 });
    expect(zero.body).toMatchObject({ delta: 0, level: { on_hand: 0, available: 0 } });
    const mv = await call('GET', `/movements?item_id=${items.EGGS}&reason=count`);
    expect(mv.body.data.map((m: { qty_delta: number }) => m.qty_delta)).toEqual([-7, 12]);
    expect(mv.body.data[1]).toMatchObject({ note: 'opening count', source_user_id: userId });
  });

  it('concurrent counts of one level agree: exactly the counted quantity, counted once', async () => {
    const fresh = (await call('POST', '/items', { sku: 'FLOUR', name: 'Flour' })).body.id;
    const counts = await Promise.all(Array.from({ length: 8 }, () => call('POST', '/stock-counts', { item_id: fresh, location_id: main, counted_qty: 20 })));
    expect(counts.map((c) => c.status)).toEqual(Array(8).fill(201));
    expect(counts.map((c) => c.body.delta).sort((a, b) => b - a)).toEqual([20, 0, 0, 0, 0, 0, 0, 0]);
    const level = await call('GET', `/stock-levels?item_id=${fresh}`);
    expect(level.body.data[0]).toMatchObject({ on_hand: 20 });
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('refuses bad counts and unknown items or locations, changing nothing', async () => {
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    const ok = { item_id: items.EGGS, location_id: backRoom, counted_qty: 3 };
    for (const [body, field] of [
      [{ ...ok, counted_qty: -1 }, 'counted_qty'],
      [{ ...ok, counted_qty: 2.5 }, 'counted_qty'],
      [{ ...ok, counted_qty: '3' }, 'counted_qty'],
      [{ ...ok, counted_qty: 1e10 }, 'counted_qty'],
      [{ ...ok, counted_qty: undefined }, 'counted_qty'],
      [{ ...ok, qty_delta: 3 }, undefined],
      [{ ...ok, note: 'x'.repeat(10_000) }, 'note'],
      [{ ...ok, location_id: 'back room' }, 'location_id'],
    ] as Array<[unknown, string | undefined]>) {
      expectInvalid(await call('POST', '/stock-counts', body), field);
    }
    expectError(await call('POST', '/stock-counts', { ...ok, item_id: ghost('item') }), 404, 'not_found');
    expectError(await call('POST', '/stock-counts', { ...ok, location_id: ghost('loc') }), 404, 'not_found');
    expect(await snapshot(h.testDb.db, tenant.tenantId)).toEqual(before);
  });
});

describe('levels and movements', () => {
  it('lists levels with filters and a cursor over (item, location)', async () => {
    const all = await call('GET', '/stock-levels');
    expect(all.status).toBe(200);
    const keys = all.body.data.map((l: { item_id: string; location_id: string }) => `${l.item_id}|${l.location_id}`);
    expect(keys.length).toBeGreaterThanOrEqual(4);
    expect([...keys].sort()).toEqual(keys);
    const eggs = await call('GET', `/stock-levels?item_id=${items.EGGS}&location_id=${backRoom}`);
    expect(eggs.body.data).toEqual([
      expect.objectContaining({
        item_id: items.EGGS,
        sku: 'EGGS',
        item_name: 'EGGS',
        location_id: backRoom,
        location_name: 'Store room',
        on_hand: 5,
        reserved: 0,
        available: 5,
      }),
    ]);
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Array<{ item_id: string; location_id: string }>; next_cursor: string | null } } = await call(
        'GET',
        `/stock-levels?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...r.body.data.map((l) => `${l.item_id}|${l.location_id}`));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(walked).toEqual(keys);
    expect((await call('GET', `/stock-levels?item_id=${ghost('item')}`)).body.data).toEqual([]);
    for (const q of ['item_id=BREAD', 'location_id=1', 'limit=0', 'cursor=abc', 'sku=BREAD']) expectInvalid(await call('GET', `/stock-levels?${q}`));
  });

  it('lists movements newest first with filters and a numeric cursor', async () => {
    const all = await call('GET', '/movements?limit=500');
    const ids = all.body.data.map((m: { id: number }) => m.id);
    expect([...ids].sort((a: number, b: number) => b - a)).toEqual(ids);
    const walked: number[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Array<{ id: number }>; next_cursor: string | null } } = await call(
        'GET',
        `/movements?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      );
      walked.push(...r.body.data.map((m) => m.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(walked).toEqual(ids);
    const counts = await call('GET', `/movements?reason=count&location_id=${backRoom}`);
    expect(counts.body.data.every((m: { reason: string; location_id: string }) => m.reason === 'count' && m.location_id === backRoom)).toBe(true);
    expect(counts.body.data.length).toBe(2);
    const stringCursor = Buffer.from(JSON.stringify('abc')).toString('base64url');
    const floatCursor = Buffer.from(JSON.stringify(1.5)).toString('base64url');
    for (const q of ['reason=theft', 'item_id=x', 'limit=abc', `cursor=${stringCursor}`, `cursor=${floatCursor}`, 'since=2020']) {
      expectInvalid(await call('GET', `/movements?${q}`));
    }
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });
});
