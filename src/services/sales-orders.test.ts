// Sales order rules below HTTP: an order holds every line or none (insufficient_stock holds
// nothing), shipping turns the holds into sale movements, cancelling releases them, a reservation
// made on its own is released on its own; a page of orders with their lines is one statement.
import { describe, expect, it } from 'vitest';
import { countQueries } from '../../test/helpers/count-queries.ts';
import { refusal, ServiceFixture } from '../../test/helpers/service-fixture.ts';
import { withTx } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { verifyLedger } from '../ledger/ledger.ts';
import * as salesOrders from './sales-orders.ts';

const f = new ServiceFixture('Orders Co');

const order = (lines: Array<{ item_id: string; qty: number }>) =>
  withTx(f.t.db, (tx) => salesOrders.create(tx, f.scope, { location_id: f.warehouse, lines, hold_for_s: 3600 }));

describe('sales orders', () => {
  it('a short line refuses the whole order with insufficient_stock and holds nothing', async () => {
    const a = await f.stocked(5);
    const b = await f.stocked(1);
    const err = await refusal(
      order([
        { item_id: a, qty: 2 },
        { item_id: b, qty: 3 },
      ]),
    );
    expect(err).toMatchObject({
      status: 409,
      code: 'insufficient_stock',
      details: { lines: [{ item_id: b, location_id: f.warehouse, available: 1, wanted: 3 }] },
    });
    expect(err.message).toBe(`Only 1 available of ${b} at ${f.warehouse}; 3 wanted`);
    expect(await f.level(a)).toEqual({ on_hand: 5, reserved: 0 });
    expect(await f.level(b)).toEqual({ on_hand: 1, reserved: 0 });
    const { rows } = await f.t.db.query(`select id from reservations where tenant_id = $1 and item_id = any($2)`, [f.scope.tenantId, [a, b]]);
    expect(rows).toEqual([]);
    expect(await refusal(order([{ item_id: newId('item'), qty: 1 }]))).toMatchObject({ status: 404, code: 'not_found', message: 'Item not found' });
  });

  it('create holds, ship turns the holds into sale movements; a shipped order cannot be cancelled', async () => {
    const a = await f.stocked(5);
    const o = await order([{ item_id: a, qty: 2 }]);
    expect(o).toMatchObject({ status: 'reserved', version: 1, location_id: f.warehouse, lines: [{ item_id: a, qty: 2, reservation_status: 'active' }] });
    expect(await f.level(a)).toEqual({ on_hand: 5, reserved: 2 });
    expect(await f.movements(a)).toEqual([]);

    const shipped = await withTx(f.t.db, (tx) => salesOrders.ship(tx, f.scope, o.id));
    expect(shipped).toMatchObject({ status: 'shipped', version: 2, lines: [{ item_id: a, qty: 2, reservation_status: 'consumed' }] });
    expect(await f.level(a)).toEqual({ on_hand: 3, reserved: 0 });
    expect(await f.movements(a)).toEqual([{ location_id: f.warehouse, qty_delta: -2, reason: 'sale', note: `sales order ${o.id}` }]);

    expect(await refusal(withTx(f.t.db, (tx) => salesOrders.cancel(tx, f.scope, o.id)))).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'This order is shipped; it cannot be cancelled',
    });
    expect(await f.auditActions(o.id)).toEqual(['sales_order.created', 'sales_order.shipped']);
    expect(await verifyLedger(f.t.db)).toEqual([]);
  });

  it('cancel releases the holds and moves nothing', async () => {
    const a = await f.stocked(4);
    const o = await order([{ item_id: a, qty: 4 }]);
    expect(await refusal(order([{ item_id: a, qty: 1 }]))).toMatchObject({ code: 'insufficient_stock' });
    const c = await withTx(f.t.db, (tx) => salesOrders.cancel(tx, f.scope, o.id));
    expect(c).toMatchObject({ status: 'cancelled', lines: [{ reservation_status: 'released' }] });
    expect(await f.level(a)).toEqual({ on_hand: 4, reserved: 0 });
    expect(await f.movements(a)).toEqual([]);
    expect(await refusal(withTx(f.t.db, (tx) => salesOrders.ship(tx, f.scope, o.id)))).toMatchObject({ status: 409, code: 'conflict' });
  });

  it('a reservation without an order holds and is released; one of an order is released by cancelling the order', async () => {
    const a = await f.stocked(3);
    const r = await withTx(f.t.db, (tx) => salesOrders.createReservation(tx, f.scope, { item_id: a, location_id: f.warehouse, qty: 2, hold_for_s: 60 }));
    expect(r).toMatchObject({ item_id: a, qty: 2, status: 'active', order_id: null });
    expect(await f.level(a)).toEqual({ on_hand: 3, reserved: 2 });
    const released = await withTx(f.t.db, (tx) => salesOrders.releaseReservation(tx, f.scope, r.id));
    expect(released).toMatchObject({ id: r.id, status: 'released' });
    expect(await f.level(a)).toEqual({ on_hand: 3, reserved: 0 });
    expect(await refusal(withTx(f.t.db, (tx) => salesOrders.releaseReservation(tx, f.scope, r.id)))).toMatchObject({
      status: 409,
      message: 'This reservation is already released',
    });

    const o = await order([{ item_id: a, qty: 1 }]);
    const own = o.lines[0]!.reservation_id;
    expect(await refusal(withTx(f.t.db, (tx) => salesOrders.releaseReservation(tx, f.scope, own)))).toMatchObject({ status: 409, details: { order_id: o.id } });
    expect(await f.level(a)).toEqual({ on_hand: 3, reserved: 1 });
  });

  it('a page of orders with their lines is one statement, whatever the page size', async () => {
    const a = await f.stocked(50);
    const b = await f.stocked(50);
    const made: string[] = [];
    for (let i = 0; i < 5; i++)
      made.push(
        (
          await order([
            { item_id: a, qty: 1 },
            { item_id: b, qty: 1 },
          ])
        ).id,
      );
    const counted = countQueries(f.t.db);
    const small = await salesOrders.list(counted.q, f.scope, { after: null, limit: 2, status: 'reserved' });
    const big = await salesOrders.list(counted.q, f.scope, { after: null, limit: 5, status: 'reserved' });
    expect(counted.count()).toBe(2);
    expect(small.data.map((o) => o.id)).toEqual([made[4], made[3]]);
    expect(small.next_cursor).not.toBeNull();
    expect(big.data.map((o) => o.id)).toEqual([...made].reverse());
    for (const o of big.data) expect(o.lines).toHaveLength(2);
    expect(big.data[0]).toEqual(await salesOrders.get(f.t.db, f.scope, made[4]!));
  });
});
