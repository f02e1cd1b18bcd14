// Transfer rules below HTTP: the stock leaves the source on create (all lines or nothing; reserved
// stock counts as taken), arrives at the destination as it is received (never more than is in
// transit), goes back on cancel; a page of transfers with their lines is one statement whatever
// its size. Each case runs in a transaction of its own against a real database.
import { describe, expect, it } from 'vitest';
import { countQueries } from '../../test/helpers/count-queries.ts';
import { refusal, ServiceFixture } from '../../test/helpers/service-fixture.ts';
import { withTx } from '../db/pool.ts';
import { createTenant } from '../db/tenants.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { verifyLedger } from '../ledger/ledger.ts';
import { changeReserved } from '../ledger/reservations.ts';
import * as transfers from './transfers.ts';

const f = new ServiceFixture('Transfers Co');

const send = (lines: transfers.TransferLine[]) =>
  withTx(f.t.db, (tx) => transfers.create(tx, f.scope, { from_location_id: f.warehouse, to_location_id: f.shop, lines }));

describe('transfers.create', () => {
  it('refuses the whole transfer when a line wants more than is available (reserved counts as taken), and moves nothing', async () => {
    const a = await f.stocked(5);
    const b = await f.stocked(3);
    await withTx(f.t.db, (tx) => changeReserved(tx, f.scope.tenantId, [{ itemId: b, locationId: f.warehouse, delta: 2 }]));
    const count = async () => (await f.t.db.query(`select count(*)::int as n from transfers where tenant_id = $1`, [f.scope.tenantId])).rows[0].n as number;
    const before = await count();

    const err = await refusal(
      send([
        { item_id: a, qty: 5 },
        { item_id: b, qty: 2 },
      ]),
    );
    expect(err).toMatchObject({
      status: 409,
      code: 'insufficient_stock',
      details: { lines: [{ item_id: b, location_id: f.warehouse, available: 1, wanted: 2 }] },
    });
    expect(err.message).toBe(`Only 1 available of ${b} at ${f.warehouse}; 2 wanted`);

    // A level that never existed is 0 available.
    const never = await f.stocked(0);
    expect(await refusal(send([{ item_id: never, qty: 1 }]))).toMatchObject({ status: 409, code: 'insufficient_stock' });

    expect(await f.level(a, f.warehouse)).toEqual({ on_hand: 5, reserved: 0 });
    expect(await f.level(b, f.warehouse)).toEqual({ on_hand: 3, reserved: 2 });
    expect(await f.movements(a)).toEqual([]);
    expect(await f.movements(b)).toEqual([]);
    expect(await count()).toBe(before);
  });

  it('refuses what the tenant does not own (404) and a kit (409 conflict)', async () => {
    const a = await f.stocked(5);
    expect(await refusal(send([{ item_id: newId('item'), qty: 1 }]))).toMatchObject({ status: 404, code: 'not_found', message: 'Item not found' });
    const other = await createTenant(f.t.db, { name: 'Other Co' });
    expect(
      await refusal(
        withTx(f.t.db, (tx) =>
          transfers.create(tx, f.scope, { from_location_id: f.warehouse, to_location_id: other.locationId, lines: [{ item_id: a, qty: 1 }] }),
        ),
      ),
    ).toMatchObject({ status: 404, code: 'not_found', message: 'Location not found' });
    const kit = await f.stocked(0);
    await f.t.db.query(`insert into item_components (tenant_id, kit_item_id, component_item_id, qty) values ($1, $2, $3, 2)`, [f.scope.tenantId, kit, a]);
    expect(await refusal(send([{ item_id: kit, qty: 1 }]))).toMatchObject({ status: 409, code: 'conflict', details: { kits: [kit] } });
    expect(await f.level(a, f.warehouse)).toEqual({ on_hand: 5, reserved: 0 });
  });
});

describe('transfers.receive and cancel', () => {
  it('takes the stock out on create and puts it in at the destination as it is received', async () => {
    const a = await f.stocked(10);
    const b = await f.stocked(4);
    const trf = await send([
      { item_id: b, qty: 4 },
      { item_id: a, qty: 6 },
    ]);
    expect(trf).toMatchObject({ status: 'in_transit', version: 1, from_location_id: f.warehouse, to_location_id: f.shop, reference: null });
    // Lines are shown by item.
    expect(trf.lines.map((l) => l.item_id)).toEqual([a, b].sort());
    expect(await f.level(a, f.warehouse)).toEqual({ on_hand: 4, reserved: 0 });
    expect(await f.level(b, f.warehouse)).toEqual({ on_hand: 0, reserved: 0 });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 0, reserved: 0 });

    const part = await withTx(f.t.db, (tx) => transfers.receive(tx, f.scope, trf.id, { lines: [{ item_id: a, qty: 2 }] }));
    expect(part).toMatchObject({ status: 'partially_received', version: 2 });
    expect(part.lines.find((l) => l.item_id === a)).toEqual({ item_id: a, qty: 6, received_qty: 2, returned_qty: 0 });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 2, reserved: 0 });

    // More than is still in transit, or an item not on the transfer: 422 over_receipt, nothing moves.
    expect(await refusal(withTx(f.t.db, (tx) => transfers.receive(tx, f.scope, trf.id, { lines: [{ item_id: a, qty: 5 }] })))).toMatchObject({
      status: 422,
      code: 'over_receipt',
      details: { lines: [{ item_id: a, outstanding: 4, qty: 5, on_transfer: true }] },
    });
    const stranger = await f.stocked(0);
    expect(await refusal(withTx(f.t.db, (tx) => transfers.receive(tx, f.scope, trf.id, { lines: [{ item_id: stranger, qty: 1 }] })))).toMatchObject({
      status: 422,
      code: 'over_receipt',
      message: `${stranger} is not on this transfer`,
    });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 2, reserved: 0 });

    // Without lines, everything still in transit arrives.
    const done = await withTx(f.t.db, (tx) => transfers.receive(tx, f.scope, trf.id, {}));
    expect(done).toMatchObject({ status: 'received', version: 3 });
    expect(done.lines).toEqual(
      [
        { item_id: a, qty: 6, received_qty: 6, returned_qty: 0 },
        { item_id: b, qty: 4, received_qty: 4, returned_qty: 0 },
      ].sort((x, y) => (x.item_id < y.item_id ? -1 : 1)),
    );
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 6, reserved: 0 });
    expect(await f.level(b, f.shop)).toEqual({ on_hand: 4, reserved: 0 });
    expect(await f.movements(a)).toEqual([
      { location_id: f.warehouse, qty_delta: -6, reason: 'transfer_out', note: `transfer ${trf.id}` },
      { location_id: f.shop, qty_delta: 2, reason: 'transfer_in', note: `transfer ${trf.id}` },
      { location_id: f.shop, qty_delta: 4, reason: 'transfer_in', note: `transfer ${trf.id}` },
    ]);

    // A received transfer takes no more receipts and cannot be cancelled.
    expect(await refusal(withTx(f.t.db, (tx) => transfers.cancel(tx, f.scope, trf.id)))).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'This transfer is received; it cannot be cancelled',
      details: { status: 'received' },
    });
    expect(await f.auditActions(trf.id)).toEqual(['transfer.created', 'transfer.received', 'transfer.received']);
    expect(await verifyLedger(f.t.db)).toEqual([]);
  });

  it('cancel returns what is still in transit to the source', async () => {
    const a = await f.stocked(9);
    const trf = await send([{ item_id: a, qty: 7 }]);
    await withTx(f.t.db, (tx) => transfers.receive(tx, f.scope, trf.id, { lines: [{ item_id: a, qty: 3 }] }));
    const c = await withTx(f.t.db, (tx) => transfers.cancel(tx, f.scope, trf.id));
    expect(c).toMatchObject({ status: 'cancelled', lines: [{ item_id: a, qty: 7, received_qty: 3, returned_qty: 4 }] });
    expect(await f.level(a, f.warehouse)).toEqual({ on_hand: 6, reserved: 0 });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 3, reserved: 0 });
    expect((await f.movements(a)).at(-1)).toEqual({ location_id: f.warehouse, qty_delta: 4, reason: 'transfer_in', note: `transfer ${trf.id} cancelled` });
    expect(await refusal(withTx(f.t.db, (tx) => transfers.receive(tx, f.scope, trf.id, {})))).toMatchObject({ status: 409, code: 'conflict' });
    expect(await refusal(withTx(f.t.db, (tx) => transfers.cancel(tx, f.scope, newId('trf'))))).toMatchObject({
      status: 404,
      code: 'not_found',
      message: 'Transfer not found',
    });
  });

  it('update changes the reference after the guard has seen the current version', async () => {
    const trf = await send([{ item_id: await f.stocked(1), qty: 1 }]);
    const seen: number[] = [];
    const out = await withTx(f.t.db, (tx) => transfers.update(tx, f.scope, trf.id, { reference: 'REF-1' }, (v) => seen.push(v)));
    expect(seen).toEqual([1]);
    expect(out).toMatchObject({ reference: 'REF-1', version: 2 });
    const refused = new AppError(412, 'precondition_failed', 'stale');
    await expect(
      withTx(f.t.db, (tx) =>
        transfers.update(tx, f.scope, trf.id, { reference: 'REF-2' }, () => {
          throw refused;
        }),
      ),
    ).rejects.toBe(refused);
    expect((await transfers.get(f.t.db, f.scope, trf.id)).reference).toBe('REF-1');
  });
});

describe('transfers.list', () => {
  it('reads a page of transfers with their lines in one statement, whatever the page size', async () => {
    const item = await f.stocked(100);
    const other = await f.stocked(100);
    const made: string[] = [];
    for (let i = 0; i < 6; i++)
      made.push(
        (
          await send([
            { item_id: item, qty: 1 },
            { item_id: other, qty: 2 },
          ])
        ).id,
      );
    const counted = countQueries(f.t.db);
    const small = await transfers.list(counted.q, f.scope, { after: null, limit: 2, itemId: item });
    expect(counted.count()).toBe(1);
    counted.reset();
    const big = await transfers.list(counted.q, f.scope, { after: null, limit: 6, itemId: item });
    expect(counted.count()).toBe(1);

    expect(big.data.map((r) => r.id)).toEqual([...made].reverse());
    expect(big.next_cursor).toBeNull();
    for (const r of big.data) expect(r.lines).toHaveLength(2);
    // The page is the same as reading each transfer on its own.
    expect(big.data[0]).toEqual(await transfers.get(f.t.db, f.scope, made[5]!));

    // Cursor paging and filters.
    expect(small.data.map((r) => r.id)).toEqual([made[5], made[4]]);
    const next = await transfers.list(f.t.db, f.scope, { after: made[4]!, limit: 2, itemId: item });
    expect(next.data.map((r) => r.id)).toEqual([made[3], made[2]]);
    expect((await transfers.list(f.t.db, f.scope, { after: null, limit: 50, itemId: item, status: 'received' })).data).toEqual([]);
    expect((await transfers.list(f.t.db, f.scope, { after: null, limit: 50, itemId: item, toLocationId: f.warehouse })).data).toEqual([]);
    expect((await transfers.list(f.t.db, f.scope, { after: null, limit: 50, itemId: item, fromLocationId: f.warehouse })).data).toHaveLength(6);
    // Another tenant sees none of them.
    const stranger = await createTenant(f.t.db, { name: 'Stranger Co' });
    expect((await transfers.list(f.t.db, { ...f.scope, tenantId: stranger.tenantId }, { after: null, limit: 50 })).data).toEqual([]);
  });
});
