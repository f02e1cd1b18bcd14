// Purchase orders: open lines show as `incoming` on their stock levels; receiving (partly or
// wholly) writes receipt movements and moves the quantity from incoming to on hand; more than is
// outstanding is refused (422 over_receipt) and changes nothing; two concurrent receipts of one
// line never receive more than was ordered; cancel (nothing received) and close (the rest is no
// longer expected) take the remainder out of incoming.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { ANY_VERSION, client, expectError, expectInvalid, ghost, snapshot, type Call } from './support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let seq = 0;

async function item(onHand = 1): Promise<string> {
  const id = (await call('POST', '/items', { sku: `P-${++seq}`, name: `Part ${seq}` })).body.id as string;
  if (onHand > 0)
    expect((await call('POST', '/adjustments', { item_id: id, location_id: t.locationId, qty_delta: onHand, reason: 'receipt' })).status).toBe(201);
  return id;
}

async function level(itemId: string): Promise<{ on_hand: number; incoming: number; available: number }> {
  return (await call('GET', `/stock-levels/${itemId}/${t.locationId}`)).body;
}

const create = (lines: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => call('POST', '/purchase-orders', { lines, ...extra });

beforeAll(async () => {
  h = await startHarness();
  t = await registerTenant(h.url, 'Buyer Co');
  call = client(h.url, t.token);
});

afterAll(async () => {
  await h?.stop();
});

describe('purchase orders', () => {
  it('open lines are incoming; receipts move them to on hand with receipt movements', async () => {
    const flour = await item(2);
    const sugar = await item(1);
    const po = await create(
      [
        { item_id: flour, location_id: t.locationId, qty_ordered: 10, unit_cost: 1.25 },
        { item_id: sugar, location_id: t.locationId, qty_ordered: 5 },
      ],
      { supplier: 'Mill & Co', reference: 'PO-1' },
    );
    expect(po.status).toBe(201);
    expect(po.headers.get('etag')).toBe('"v1"');
    expect(po.body).toMatchObject({ status: 'open', supplier: 'Mill & Co', reference: 'PO-1', version: 1 });
    expect(po.body.lines).toContainEqual({ item_id: flour, location_id: t.locationId, qty_ordered: 10, qty_received: 0, unit_cost: 1.25 });
    expect(await level(flour)).toMatchObject({ on_hand: 2, incoming: 10 });
    const listed = await call('GET', `/stock-levels?item_id=${flour}`);
    expect(listed.body.data[0]).toMatchObject({ incoming: 10 });

    const part = await call('POST', `/purchase-orders/${po.body.id}/receive`, { lines: [{ item_id: flour, location_id: t.locationId, qty: 4 }] });
    expect(part.status).toBe(200);
    expect(part.body).toMatchObject({ status: 'partially_received', version: 2 });
    expect(await level(flour)).toMatchObject({ on_hand: 6, incoming: 6 });
    const mv = await call('GET', `/movements?item_id=${flour}&reason=receipt`);
    expect(mv.body.data[0]).toMatchObject({ qty_delta: 4, location_id: t.locationId, note: `purchase order ${po.body.id}` });

    // Over-receipt: refused, nothing changed.
    const before = await snapshot(h.testDb.db, t.tenantId);
    const over = await call('POST', `/purchase-orders/${po.body.id}/receive`, { lines: [{ item_id: flour, location_id: t.locationId, qty: 7 }] });
    expectError(over, 422, 'over_receipt');
    expect(over.body.error.message).toContain('Only 6');
    expect(over.body.error.details.lines).toEqual([{ item_id: flour, location_id: t.locationId, outstanding: 6, qty: 7, on_order: true }]);
    const stranger = await call('POST', `/purchase-orders/${po.body.id}/receive`, { lines: [{ item_id: ghost('item'), location_id: t.locationId, qty: 1 }] });
    expectError(stranger, 422, 'over_receipt');
    expect(await snapshot(h.testDb.db, t.tenantId)).toEqual(before);

    const rest = await call('POST', `/purchase-orders/${po.body.id}/receive`, {});
    expect(rest.body).toMatchObject({ status: 'received', version: 3 });
    expect(await level(flour)).toMatchObject({ on_hand: 12, incoming: 0 });
    expect(await level(sugar)).toMatchObject({ on_hand: 6, incoming: 0 });
    expectError(await call('POST', `/purchase-orders/${po.body.id}/receive`, {}), 409, 'conflict');
    expectError(await call('POST', `/purchase-orders/${po.body.id}/close`), 409, 'conflict');
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('two concurrent receipts of the same line never receive more than ordered', async () => {
    for (let round = 0; round < 5; round++) {
      const it = await item(0 + 1);
      const po = await create([{ item_id: it, location_id: t.locationId, qty_ordered: 10 }]);
      const results = await Promise.all(
        [6, 6].map((qty) => call('POST', `/purchase-orders/${po.body.id}/receive`, { lines: [{ item_id: it, location_id: t.locationId, qty }] })),
      );
      expect(results.map((r) => r.status).sort()).toEqual([200, 422]);
      expectError(
        results.find((r) => r.status === 422)!,
        422,
        'over_receipt',
      );
      const got = await call('GET', `/purchase-orders/${po.body.id}`);
      expect(got.body.lines[0]).toMatchObject({ qty_ordered: 10, qty_received: 6 });
      expect(await level(it)).toMatchObject({ on_hand: 7, incoming: 4 });
    }
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('cancel (nothing received) and close (part received) stop the rest counting as incoming', async () => {
    const it = await item(1);
    const a = await create([{ item_id: it, location_id: t.locationId, qty_ordered: 3 }]);
    const b = await create([{ item_id: it, location_id: t.locationId, qty_ordered: 5 }]);
    expect(await level(it)).toMatchObject({ incoming: 8 });
    const cancelled = await call('POST', `/purchase-orders/${a.body.id}/cancel`);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', version: 2 });
    expect(await level(it)).toMatchObject({ incoming: 5 });
    await call('POST', `/purchase-orders/${b.body.id}/receive`, { lines: [{ item_id: it, location_id: t.locationId, qty: 2 }] });
    expectError(await call('POST', `/purchase-orders/${b.body.id}/cancel`), 409, 'conflict');
    const closed = await call('POST', `/purchase-orders/${b.body.id}/close`);
    expect(closed.body).toMatchObject({ status: 'closed' });
    expect(await level(it)).toMatchObject({ on_hand: 3, incoming: 0 });
    expectError(await call('POST', `/purchase-orders/${b.body.id}/receive`, {}), 409, 'conflict');
    expect((await call('GET', '/purchase-orders?status=closed')).body.data.map((x: { id: string }) => x.id)).toEqual([b.body.id]);
    const audit = await call('GET', `/audit-log?resource_id=${b.body.id}`);
    expect(audit.body.data.map((x: { action: string }) => x.action).sort()).toEqual([
      'purchase_order.closed',
      'purchase_order.created',
      'purchase_order.received',
    ]);
  });

  it('bad input: 4xx, nothing changed', async () => {
    const it = await item(1);
    const before = await snapshot(h.testDb.db, t.tenantId);
    expectError(await create([{ item_id: ghost('item'), location_id: t.locationId, qty_ordered: 1 }]), 404, 'not_found');
    expectError(await create([{ item_id: it, location_id: ghost('loc'), qty_ordered: 1 }]), 404, 'not_found');
    expectInvalid(await create([{ item_id: it, location_id: t.locationId, qty_ordered: 0 }]), 'lines.0.qty_ordered');
    expectInvalid(await create([{ item_id: it, location_id: t.locationId, qty_ordered: 1, unit_cost: -1 }]), 'lines.0.unit_cost');
    expectInvalid(
      await create([
        { item_id: it, location_id: t.locationId, qty_ordered: 1 },
        { item_id: it, location_id: t.locationId, qty_ordered: 2 },
      ]),
      'lines',
    );
    expectInvalid(await create([]), 'lines');
    expectInvalid(await create([{ item_id: it, location_id: t.locationId, qty_ordered: 1 }], { status: 'received' }));
    expectError(await call('POST', `/purchase-orders/${ghost('po')}/receive`, {}), 404, 'not_found');
    expectError(await call('POST', `/purchase-orders/${ghost('po')}/close`), 404, 'not_found');
    expect(await snapshot(h.testDb.db, t.tenantId)).toEqual(before);
  });

  it('list with filters and cursor paging; get with ETag; PATCH needs If-Match; Idempotency-Key creates one', async () => {
    const it = await item(1);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create([{ item_id: it, location_id: t.locationId, qty_ordered: 1 }], { reference: `r${i}` })).body.id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Array<{ id: string }>; next_cursor: string | null } } = await call(
        'GET',
        `/purchase-orders?item_id=${it}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...r.body.data.map((x) => x.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await call('GET', `/purchase-orders?item_id=${it}&location_id=${t.locationId}&status=open`)).body.data).toHaveLength(5);
    expect((await call('GET', `/purchase-orders?item_id=${ghost('item')}`)).body.data).toEqual([]);

    expect((await call('GET', `/purchase-orders/${ids[0]}`)).headers.get('etag')).toBe('"v1"');
    expectError(await call('PATCH', `/purchase-orders/${ids[0]}`, { supplier: 'x' }), 428, 'precondition_required');
    const [w1, w2] = await Promise.all(['A', 'B'].map((s) => call('PATCH', `/purchase-orders/${ids[0]}`, { supplier: s }, { 'if-match': '"v1"' })));
    expect([w1!.status, w2!.status].sort()).toEqual([200, 412]);
    expectError(await call('PATCH', `/purchase-orders/${ghost('po')}`, { supplier: 'x' }, ANY_VERSION), 404, 'not_found');
    expectInvalid(await call('PATCH', `/purchase-orders/${ids[0]}`, {}, ANY_VERSION));

    const key = `po-${Date.now()}`;
    const body = [{ item_id: it, location_id: t.locationId, qty_ordered: 9 }];
    const results = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/purchase-orders', { lines: body }, { 'idempotency-key': key })));
    const created = results.filter((r) => r.status === 201);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'idempotency_key_in_use');
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    const { rows } = await h.testDb.db.query(`select count(*)::int as n from purchase_order_lines where tenant_id = $1 and qty_ordered = 9`, [t.tenantId]);
    expect(rows[0].n).toBe(1);
  });
});
