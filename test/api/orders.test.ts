// Sales orders and reservations: an order holds its lines (all or nothing), shipping turns the
// holds into sale movements, cancelling releases them, an expired hold releases itself. Under
// concurrency, buyers racing for the last units get exactly what there is: 50 parallel orders for
// the last 10 units -> exactly 10 succeed; a property test with random quantities and random
// interleavings keeps on_hand and reserved exact.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, ghost, snapshot, type Call } from './support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let seq = 0;

async function stocked(qty: number): Promise<string> {
  const id = (await call('POST', '/items', { sku: `SKU-${++seq}`, name: `Item ${seq}` })).body.id as string;
  if (qty > 0) expect((await call('POST', '/adjustments', { item_id: id, location_id: t.locationId, qty_delta: qty, reason: 'receipt' })).status).toBe(201);
  return id;
}

async function level(item: string): Promise<{ on_hand: number; reserved: number; available: number }> {
  return (await call('GET', `/stock-levels/${item}/${t.locationId}`)).body;
}

const order = (lines: Array<{ item_id: string; qty: number }>, extra: Record<string, unknown> = {}) =>
  call('POST', '/sales-orders', { location_id: t.locationId, lines, ...extra });

beforeAll(async () => {
  h = await startHarness();
  t = await registerTenant(h.url, 'Order Co');
  call = client(h.url, t.token);
});

afterAll(async () => {
  await h?.stop();
});

describe('sales orders', () => {
  it('hold stock on create, ship it as sale movements, release it on cancel', async () => {
    const tea = await stocked(10);
    const jam = await stocked(5);
    const o = await order(
      [
        { item_id: tea, qty: 3 },
        { item_id: jam, qty: 2 },
      ],
      { reference: 'web-1001' },
    );
    expect(o.status).toBe(201);
    expect(o.body).toMatchObject({ status: 'reserved', reference: 'web-1001', location_id: t.locationId, version: 1 });
    expect(o.body.lines.map((l: { item_id: string; qty: number; reservation_status: string }) => [l.item_id, l.qty, l.reservation_status]).sort()).toEqual(
      [
        [tea, 3, 'active'],
        [jam, 2, 'active'],
      ].sort(),
    );
    expect(await level(tea)).toMatchObject({ on_hand: 10, reserved: 3, available: 7 });
    const shipped = await call('POST', `/sales-orders/${o.body.id}/ship`);
    expect(shipped.body).toMatchObject({ status: 'shipped', version: 2 });
    expect(await level(tea)).toMatchObject({ on_hand: 7, reserved: 0, available: 7 });
    expect(await level(jam)).toMatchObject({ on_hand: 3, reserved: 0 });
    const mv = await call('GET', `/movements?item_id=${tea}&reason=sale`);
    expect(mv.body.data).toEqual([expect.objectContaining({ qty_delta: -3, note: `sales order ${o.body.id}` })]);
    expectError(await call('POST', `/sales-orders/${o.body.id}/ship`), 409, 'conflict');
    expectError(await call('POST', `/sales-orders/${o.body.id}/cancel`), 409, 'conflict');

    const o2 = await order([{ item_id: tea, qty: 7 }]);
    expect(await level(tea)).toMatchObject({ available: 0, reserved: 7 });
    const cancelled = await call('POST', `/sales-orders/${o2.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', lines: [expect.objectContaining({ reservation_status: 'released' })] });
    expect(await level(tea)).toMatchObject({ on_hand: 7, reserved: 0, available: 7 });
    const list = await call('GET', '/sales-orders?status=cancelled');
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([o2.body.id]);
    expect((await call('GET', `/sales-orders/${o.body.id}`)).headers.get('etag')).toBe('"v2"');
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('all lines or none: a short line refuses the order with insufficient_stock and holds nothing', async () => {
    const a = await stocked(5);
    const b = await stocked(1);
    const never = await stocked(0);
    const before = await snapshot(h.testDb.db, t.tenantId);
    const r = await order([
      { item_id: a, qty: 2 },
      { item_id: b, qty: 2 },
    ]);
    expectError(r, 409, 'insufficient_stock');
    expect(r.body.error.details.lines).toEqual([{ item_id: b, location_id: t.locationId, available: 1, wanted: 2 }]);
    expectError(await order([{ item_id: never, qty: 1 }]), 409, 'insufficient_stock');
    expectError(await order([{ item_id: ghost('item'), qty: 1 }]), 404, 'not_found');
    expectError(await call('POST', '/sales-orders', { location_id: ghost('loc'), lines: [{ item_id: a, qty: 1 }] }), 404, 'not_found');
    expectInvalid(await order([{ item_id: a, qty: 0 }]), 'lines.0.qty');
    expectInvalid(await order([{ item_id: a, qty: 1.5 }]), 'lines.0.qty');
    expectInvalid(await order([]), 'lines');
    expectInvalid(
      await order([
        { item_id: a, qty: 1 },
        { item_id: a, qty: 1 },
      ]),
      'lines',
    );
    expectInvalid(await order([{ item_id: a, qty: 1 }], { hold_for_s: 0 }), 'hold_for_s');
    expectInvalid(await order([{ item_id: a, qty: 1 }], { status: 'shipped' }));
    expectError(await call('POST', `/sales-orders/${ghost('so')}/ship`), 404, 'not_found');
    expect(await snapshot(h.testDb.db, t.tenantId)).toEqual(before);
  });

  it('50 parallel orders for the last 10 units: exactly 10 succeed, the rest get insufficient_stock', async () => {
    const item = await stocked(10);
    const results = await Promise.all(Array.from({ length: 50 }, () => order([{ item_id: item, qty: 1 }])));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(10);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'insufficient_stock');
    expect(await level(item)).toMatchObject({ on_hand: 10, reserved: 10, available: 0 });
    await Promise.all(ok.map((r) => call('POST', `/sales-orders/${r.body.id}/ship`)));
    expect(await level(item)).toMatchObject({ on_hand: 0, reserved: 0, available: 0 });
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('property: random quantities in random interleavings never oversell, and on_hand and reserved stay exact', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.record({ qty: fc.integer({ min: 1, max: 4 }), delayMs: fc.integer({ min: 0, max: 15 }), cancel: fc.boolean() }), {
          minLength: 5,
          maxLength: 25,
        }),
        async (stock, buyers) => {
          const item = await stocked(stock);
          const results = await Promise.all(
            buyers.map(async (b) => {
              await new Promise((r) => setTimeout(r, b.delayMs));
              const r = await order([{ item_id: item, qty: b.qty }]);
              // Some buyers give up at once: their hold comes back while others still race.
              if (r.status === 201 && b.cancel) expect((await call('POST', `/sales-orders/${r.body.id}/cancel`)).status).toBe(200);
              return { ...b, status: r.status, code: r.body?.error?.code };
            }),
          );
          for (const r of results) expect(r.status === 201 || (r.status === 409 && r.code === 'insufficient_stock')).toBe(true);
          const held = results.filter((r) => r.status === 201 && !r.cancel).reduce((n, r) => n + r.qty, 0);
          const l = await level(item).catch(() => ({ on_hand: 0, reserved: 0, available: 0 }));
          expect(l.on_hand ?? 0).toBe(stock);
          expect(l.reserved ?? 0).toBe(held);
          expect(held).toBeLessThanOrEqual(stock);
          // Nobody was refused while enough was free for the whole run (holds only ever came back).
          const { rows } = await h.testDb.db.query(`select coalesce(sum(qty), 0)::int as n from reservations where tenant_id = $1 and item_id = $2`, [
            t.tenantId,
            item,
          ]);
          const everHeld = rows[0].n as number;
          for (const r of results.filter((r) => r.status === 409)) expect(r.qty).toBeGreaterThan(stock - everHeld);
        },
      ),
      { numRuns: 8 },
    );
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('an expired hold releases itself; the order becomes expired', async () => {
    const item = await stocked(4);
    const o = await order([{ item_id: item, qty: 3 }], { hold_for_s: 1 });
    expect(await level(item)).toMatchObject({ reserved: 3 });
    await eventually(async () => (await call('GET', `/sales-orders/${o.body.id}`)).body.status === 'expired', 10_000, 'the order to expire');
    expect(await level(item)).toMatchObject({ on_hand: 4, reserved: 0, available: 4 });
    expect((await call('GET', `/reservations?order_id=${o.body.id}`)).body.data).toEqual([expect.objectContaining({ status: 'expired', qty: 3 })]);
    expectError(await call('POST', `/sales-orders/${o.body.id}/ship`), 409, 'conflict');
  });
});

describe('reservations', () => {
  it('hold stock without an order, release it, and refuse what is not there', async () => {
    const item = await stocked(2);
    const r = await call('POST', '/reservations', { item_id: item, location_id: t.locationId, qty: 2, hold_for_s: 600 });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'active', qty: 2, order_id: null });
    expectError(await call('POST', '/reservations', { item_id: item, location_id: t.locationId, qty: 1 }), 409, 'insufficient_stock');
    expectError(await order([{ item_id: item, qty: 1 }]), 409, 'insufficient_stock');
    const released = await call('POST', `/reservations/${r.body.id}/release`);
    expect(released.body).toMatchObject({ status: 'released' });
    expect(await level(item)).toMatchObject({ reserved: 0, available: 2 });
    expectError(await call('POST', `/reservations/${r.body.id}/release`), 409, 'conflict');
    const o = await order([{ item_id: item, qty: 1 }]);
    expectError(await call('POST', `/reservations/${o.body.lines[0].reservation_id}/release`), 409, 'conflict');
    expect((await call('GET', `/reservations/${r.body.id}`)).body.status).toBe('released');
    // Another tenant sees none of it.
    const other = client(h.url, (await registerTenant(h.url, 'Other')).token);
    expectError(await other('GET', `/reservations/${r.body.id}`), 404, 'not_found');
    expectError(await other('GET', `/sales-orders/${o.body.id}`), 404, 'not_found');
    expectError(await other('POST', `/sales-orders/${o.body.id}/cancel`), 404, 'not_found');
    expect((await other('GET', '/reservations')).body.data).toEqual([]);
  });
});
