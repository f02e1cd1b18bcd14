// Purchase order rules below HTTP: receipts move stock in at each line's location (partly, then
// wholly), never more than is outstanding; cancel only while nothing was received, close after;
// a page of orders with their lines is one statement.
import { describe, expect, it } from 'vitest';
import { countQueries } from '../../test/helpers/count-queries.ts';
import { refusal, ServiceFixture } from '../../test/helpers/service-fixture.ts';
import { withTx } from '../db/pool.ts';
import { verifyLedger } from '../ledger/ledger.ts';
import * as purchaseOrders from './purchase-orders.ts';

const f = new ServiceFixture('Supplies Co');

const po = (lines: purchaseOrders.PurchaseOrderCreate['lines']) => withTx(f.t.db, (tx) => purchaseOrders.create(tx, f.scope, { supplier: 'Acme', lines }));
const receive = (id: string, lines?: purchaseOrders.ReceiptLine[]) => withTx(f.t.db, (tx) => purchaseOrders.receive(tx, f.scope, id, { lines }));

describe('purchase orders', () => {
  it('receipts move stock in at each line\u2019s location, never more than is outstanding', async () => {
    const a = await f.stocked(0);
    const o = await po([
      { item_id: a, location_id: f.warehouse, qty_ordered: 5, unit_cost: 2.5 },
      { item_id: a, location_id: f.shop, qty_ordered: 3 },
    ]);
    expect(o).toMatchObject({ status: 'open', version: 1, supplier: 'Acme' });
    expect(await f.level(a)).toEqual({ on_hand: 0, reserved: 0 });

    const part = await receive(o.id, [{ item_id: a, location_id: f.shop, qty: 2 }]);
    expect(part).toMatchObject({ status: 'partially_received', version: 2 });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 2, reserved: 0 });

    expect(await refusal(receive(o.id, [{ item_id: a, location_id: f.shop, qty: 2 }]))).toMatchObject({
      status: 422,
      code: 'over_receipt',
      message: `Only 1 of ${a} at ${f.shop} is still outstanding; 2 cannot be received`,
      details: { lines: [{ item_id: a, location_id: f.shop, outstanding: 1, qty: 2, on_order: true }] },
    });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 2, reserved: 0 });

    const done = await receive(o.id);
    expect(done.status).toBe('received');
    expect(done.lines.map((l) => l.qty_received)).toEqual([5, 3]);
    expect(await f.level(a)).toEqual({ on_hand: 5, reserved: 0 });
    expect(await f.level(a, f.shop)).toEqual({ on_hand: 3, reserved: 0 });
    expect((await f.movements(a)).map((m) => [m.location_id, m.qty_delta, m.reason])).toEqual([
      [f.shop, 2, 'receipt'],
      ...[
        [f.warehouse, 5, 'receipt'],
        [f.shop, 1, 'receipt'],
      ].sort((x, y) => (`${x[0]}` < `${y[0]}` ? -1 : 1)),
    ]);
    expect(await f.auditActions(o.id)).toEqual(['purchase_order.created', 'purchase_order.received', 'purchase_order.received']);
    expect(await verifyLedger(f.t.db)).toEqual([]);
  });

  it('cancel only while nothing was received; close after', async () => {
    const a = await f.stocked(0);
    const open = await po([{ item_id: a, location_id: f.warehouse, qty_ordered: 4 }]);
    expect(await withTx(f.t.db, (tx) => purchaseOrders.cancel(tx, f.scope, open.id))).toMatchObject({ status: 'cancelled', version: 2 });

    const part = await po([{ item_id: a, location_id: f.warehouse, qty_ordered: 4 }]);
    await receive(part.id, [{ item_id: a, location_id: f.warehouse, qty: 1 }]);
    expect(await refusal(withTx(f.t.db, (tx) => purchaseOrders.cancel(tx, f.scope, part.id)))).toMatchObject({
      status: 409,
      code: 'conflict',
      message: 'This purchase order is partially_received; it cannot be cancelled (close it instead once stock was received)',
      details: { status: 'partially_received' },
    });
    expect(await withTx(f.t.db, (tx) => purchaseOrders.close(tx, f.scope, part.id))).toMatchObject({ status: 'closed' });
    expect(await refusal(receive(part.id))).toMatchObject({ status: 409, code: 'conflict' });
    expect(await f.level(a)).toEqual({ on_hand: 1, reserved: 0 });
  });

  it('a page of orders with their lines is one statement, whatever the page size', async () => {
    const a = await f.stocked(0);
    const made: string[] = [];
    for (let i = 0; i < 4; i++)
      made.push(
        (
          await po([
            { item_id: a, location_id: f.warehouse, qty_ordered: 1 },
            { item_id: a, location_id: f.shop, qty_ordered: 1 },
          ])
        ).id,
      );
    const counted = countQueries(f.t.db);
    const small = await purchaseOrders.list(counted.q, f.scope, { after: null, limit: 1, itemId: a });
    const big = await purchaseOrders.list(counted.q, f.scope, { after: null, limit: 4, itemId: a, locationId: f.shop });
    expect(counted.count()).toBe(2);
    expect(small.data.map((o) => o.id)).toEqual([made[3]]);
    expect(big.data.map((o) => o.id)).toEqual([...made].reverse());
    for (const o of big.data) expect(o.lines).toHaveLength(2);
    expect(big.data[0]).toEqual(await purchaseOrders.get(f.t.db, f.scope, made[3]!));
  });
});
