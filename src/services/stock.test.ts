// Stock rules below HTTP: a count writes the difference to the level as one 'count' movement (none
// when it matches), under locks that hold even for a level that does not exist yet; a batch of
// counts (the CSV import) is the same operation; kits and unknown items are refused; an adjustment
// cannot take out more than is on hand. Real database, one transaction per operation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { withTx } from '../db/pool.ts';
import { createItems, createTenant } from '../db/tenants.ts';
import { recordMovements, verifyLedger } from '../ledger/ledger.ts';
import * as items from './items.ts';
import * as locations from './locations.ts';
import type { Scope } from './scope.ts';
import * as stock from './stock.ts';

let t: TestDb;
let scope: Scope;
let loc: string;
let loc2: string;

beforeAll(async () => {
  t = await createTestDb();
  const ten = await createTenant(t.db, { name: 'Stock Co' });
  scope = { tenantId: ten.tenantId, actor: { type: 'user', id: 'usr_counter' }, requestId: 'req_count' };
  loc = ten.locationId;
  loc2 = (await withTx(t.db, (tx) => locations.create(tx, scope, { name: 'Back room' }))).id;
});
afterAll(() => t.drop());

const newItem = async (sku: string) => (await createItems(t.db, scope.tenantId, [{ sku, name: sku }]))[0]!;
const receive = (itemId: string, qty: number, locationId = loc) =>
  recordMovements(t.db, scope.tenantId, [{ itemId, locationId, qtyDelta: qty, reason: 'receipt' }]);
const movements = async (itemId: string) =>
  (
    await t.db.query<{ location_id: string; qty_delta: number; reason: string; source_user_id: string | null; note: string | null }>(
      `select location_id, qty_delta, reason, source_user_id, note from stock_movements where tenant_id = $1 and item_id = $2 order by id`,
      [scope.tenantId, itemId],
    )
  ).rows;
const onHand = async (itemId: string, locationId = loc) =>
  (
    await t.db.query<{ on_hand: number }>(`select on_hand from stock_levels where tenant_id = $1 and item_id = $2 and location_id = $3`, [
      scope.tenantId,
      itemId,
      locationId,
    ])
  ).rows[0]?.on_hand;

describe('stock.count', () => {
  it('writes the difference to the level as one count movement, by the counting actor, and audits it', async () => {
    const id = await newItem('CNT-1');
    await receive(id, 5);
    const out = await withTx(t.db, (tx) => stock.count(tx, scope, { item_id: id, location_id: loc, counted_qty: 3, note: 'shelf' }));
    expect(out).toEqual({
      item_id: id,
      location_id: loc,
      counted_qty: 3,
      delta: -2,
      level: { item_id: id, location_id: loc, on_hand: 3, reserved: 0, available: 3 },
    });
    expect(await movements(id)).toEqual([
      { location_id: loc, qty_delta: 5, reason: 'receipt', source_user_id: null, note: null },
      { location_id: loc, qty_delta: -2, reason: 'count', source_user_id: 'usr_counter', note: 'shelf' },
    ]);
    expect(await onHand(id)).toBe(3);
    const { rows } = await t.db.query(`select action, changes from audit_log where tenant_id = $1 and resource_id = $2`, [scope.tenantId, id]);
    expect(rows).toEqual([{ action: 'stock.counted', changes: { item_id: id, location_id: loc, counted_qty: 3, note: 'shelf', delta: -2 } }]);
  });

  it('a count that matches writes no movement; a count of a new level writes all of it', async () => {
    const id = await newItem('CNT-2');
    await receive(id, 4);
    expect((await withTx(t.db, (tx) => stock.count(tx, scope, { item_id: id, location_id: loc, counted_qty: 4 }))).delta).toBe(0);
    expect((await withTx(t.db, (tx) => stock.count(tx, scope, { item_id: id, location_id: loc2, counted_qty: 7 }))).delta).toBe(7);
    expect((await movements(id)).map((m) => [m.location_id, m.qty_delta, m.reason])).toEqual([
      [loc, 4, 'receipt'],
      [loc2, 7, 'count'],
    ]);
  });

  it('two counts of a level that does not exist yet are serialised: the second sees the first', async () => {
    const id = await newItem('CNT-RACE');
    const count = () => withTx(t.db, (tx) => stock.count(tx, scope, { item_id: id, location_id: loc, counted_qty: 6 }));
    const deltas = (await Promise.all([count(), count()])).map((r) => r.delta).sort();
    expect(deltas).toEqual([0, 6]);
    expect(await onHand(id)).toBe(6);
    expect(await verifyLedger(t.db)).toEqual([]);
  });

  it('refuses a kit (409), an unknown item or location (404), and changes nothing', async () => {
    const part = await newItem('CNT-PART');
    const kit = (await withTx(t.db, (tx) => items.create(tx, scope, { sku: 'CNT-KIT', name: 'Kit', components: [{ item_id: part, qty: 1 }] }))).id;
    const refused = async (p: Promise<unknown>, status: number, code: string) => {
      const err = await p.then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ status, code });
    };
    await refused(
      withTx(t.db, (tx) => stock.count(tx, scope, { item_id: kit, location_id: loc, counted_qty: 2 })),
      409,
      'conflict',
    );
    await refused(
      withTx(t.db, (tx) => stock.count(tx, scope, { item_id: newId('item'), location_id: loc, counted_qty: 2 })),
      404,
      'not_found',
    );
    await refused(
      withTx(t.db, (tx) => stock.count(tx, scope, { item_id: part, location_id: newId('loc'), counted_qty: 2 })),
      404,
      'not_found',
    );
    expect(await movements(kit)).toEqual([]);
    expect(await movements(part)).toEqual([]);
  });
});

describe('stock.countMany (the CSV import)', () => {
  it('counts many levels in one go: one movement per level that differs', async () => {
    const [a, b, c] = await Promise.all(['MANY-A', 'MANY-B', 'MANY-C'].map(newItem));
    await receive(a!, 10);
    await receive(b!, 2);
    const r = await withTx(t.db, (tx) =>
      stock.countMany(tx, scope, [
        { item_id: c!, location_id: loc, counted_qty: 1, note: 'line 4' },
        { item_id: a!, location_id: loc, counted_qty: 8, note: 'line 2' },
        { item_id: b!, location_id: loc, counted_qty: 2, note: 'line 3' },
      ]),
    );
    expect(r.movements).toBe(2);
    expect(r.results.map((x) => x.delta)).toEqual([1, -2, 0]);
    expect(await movements(a!)).toContainEqual({ location_id: loc, qty_delta: -2, reason: 'count', source_user_id: 'usr_counter', note: 'line 2' });
    expect([await onHand(a!), await onHand(b!), await onHand(c!)]).toEqual([8, 2, 1]);
    expect(await verifyLedger(t.db)).toEqual([]);
  });

  it('refuses two counts of one level in a batch', async () => {
    const id = await newItem('MANY-DUP');
    await expect(
      withTx(t.db, (tx) =>
        stock.countMany(tx, scope, [
          { item_id: id, location_id: loc, counted_qty: 1 },
          { item_id: id, location_id: loc, counted_qty: 2 },
        ]),
      ),
    ).rejects.toMatchObject({ status: 400 });
    expect(await movements(id)).toEqual([]);
  });
});

describe('stock.adjust', () => {
  it('cannot take out more than is on hand (409 insufficient_stock); a receipt goes through the ledger', async () => {
    const id = await newItem('ADJ-1');
    await expect(withTx(t.db, (tx) => stock.adjust(tx, scope, { item_id: id, location_id: loc, qty_delta: -1, reason: 'adjustment' }))).rejects.toMatchObject({
      status: 409,
      code: 'insufficient_stock',
    });
    const out = await withTx(t.db, (tx) => stock.adjust(tx, scope, { item_id: id, location_id: loc, qty_delta: 3, reason: 'receipt' }));
    expect(out.level).toEqual({ item_id: id, location_id: loc, on_hand: 3, reserved: 0, available: 3 });
    expect(await movements(id)).toEqual([{ location_id: loc, qty_delta: 3, reason: 'receipt', source_user_id: 'usr_counter', note: null }]);
  });
});
