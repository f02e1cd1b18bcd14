// Transfers between locations: stock leaves the source on create (transfer_out), arrives at the
// destination as it is received (transfer_in, partial receipts allowed, never more than was sent),
// and what is still in transit goes back to the source on cancel. A source without enough
// available stock refuses the whole transfer and nothing changes; concurrent transfers never take
// more than is there; a retried POST with one Idempotency-Key moves the stock once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { ANY_VERSION, client, expectError, expectInvalid, ghost, snapshot, type Call } from './support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let shop: string;
let seq = 0;

async function stocked(qty: number): Promise<string> {
  const id = (await call('POST', '/items', { sku: `T-${++seq}`, name: `Thing ${seq}` })).body.id as string;
  if (qty > 0) expect((await call('POST', '/adjustments', { item_id: id, location_id: t.locationId, qty_delta: qty, reason: 'receipt' })).status).toBe(201);
  return id;
}

async function onHand(item: string, location: string): Promise<number> {
  const r = await call('GET', `/stock-levels?item_id=${item}&location_id=${location}`);
  return r.body.data[0]?.on_hand ?? 0;
}

const send = (lines: Array<{ item_id: string; qty: number }>, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  call('POST', '/transfers', { from_location_id: t.locationId, to_location_id: shop, lines, ...extra }, headers);

beforeAll(async () => {
  h = await startHarness();
  t = await registerTenant(h.url, 'Transfer Co');
  call = client(h.url, t.token);
  shop = (await call('POST', '/locations', { name: 'Shop' })).body.id;
});

afterAll(async () => {
  await h?.stop();
});

describe('transfers', () => {
  it('out of the source at once, in at the destination as received (partially), with movements for each step', async () => {
    const tea = await stocked(10);
    const jam = await stocked(4);
    const r = await send(
      [
        { item_id: tea, qty: 6 },
        { item_id: jam, qty: 4 },
      ],
      { reference: 'van 7' },
    );
    expect(r.status).toBe(201);
    expect(r.headers.get('etag')).toBe('"v1"');
    expect(r.body).toMatchObject({ status: 'in_transit', from_location_id: t.locationId, to_location_id: shop, reference: 'van 7', version: 1 });
    expect(await onHand(tea, t.locationId)).toBe(4);
    expect(await onHand(jam, t.locationId)).toBe(0);
    expect(await onHand(tea, shop)).toBe(0);
    const out = await call('GET', `/movements?reason=transfer_out&item_id=${tea}`);
    expect(out.body.data).toEqual([expect.objectContaining({ location_id: t.locationId, qty_delta: -6, note: `transfer ${r.body.id}` })]);

    const part = await call('POST', `/transfers/${r.body.id}/receive`, { lines: [{ item_id: tea, qty: 2 }] });
    expect(part.status).toBe(200);
    expect(part.body.status).toBe('partially_received');
    expect(part.body.lines.find((l: { item_id: string }) => l.item_id === tea)).toEqual({ item_id: tea, qty: 6, received_qty: 2, returned_qty: 0 });
    expect(await onHand(tea, shop)).toBe(2);
    // Over-receipt: more than is still in transit, or an item not on the transfer.
    const other = await stocked(1);
    const before = await snapshot(h.testDb.db, t.tenantId);
    const over = await call('POST', `/transfers/${r.body.id}/receive`, { lines: [{ item_id: tea, qty: 5 }] });
    expectError(over, 422, 'over_receipt');
    expect(over.body.error.details.lines).toEqual([{ item_id: tea, outstanding: 4, qty: 5, on_transfer: true }]);
    expectError(await call('POST', `/transfers/${r.body.id}/receive`, { lines: [{ item_id: other, qty: 1 }] }), 422, 'over_receipt');
    expect(await snapshot(h.testDb.db, t.tenantId)).toEqual(before);

    // No lines: everything still in transit arrives.
    const rest = await call('POST', `/transfers/${r.body.id}/receive`, {});
    expect(rest.body).toMatchObject({ status: 'received', version: 3 });
    expect(rest.headers.get('etag')).toBe('"v3"');
    expect(await onHand(tea, shop)).toBe(6);
    expect(await onHand(jam, shop)).toBe(4);
    const ins = await call('GET', `/movements?reason=transfer_in&item_id=${tea}`);
    expect(ins.body.data.map((m: { qty_delta: number; location_id: string }) => [m.location_id, m.qty_delta])).toEqual([
      [shop, 4],
      [shop, 2],
    ]);
    expectError(await call('POST', `/transfers/${r.body.id}/receive`, {}), 409, 'conflict');
    expectError(await call('POST', `/transfers/${r.body.id}/cancel`), 409, 'conflict');
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('cancel returns what is still in transit to the source with a movement', async () => {
    const item = await stocked(9);
    const r = await send([{ item_id: item, qty: 7 }]);
    await call('POST', `/transfers/${r.body.id}/receive`, { lines: [{ item_id: item, qty: 3 }] });
    const c = await call('POST', `/transfers/${r.body.id}/cancel`);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ status: 'cancelled', lines: [{ item_id: item, qty: 7, received_qty: 3, returned_qty: 4 }] });
    expect(await onHand(item, t.locationId)).toBe(6);
    expect(await onHand(item, shop)).toBe(3);
    const back = await call('GET', `/movements?reason=transfer_in&item_id=${item}&location_id=${t.locationId}`);
    expect(back.body.data).toEqual([expect.objectContaining({ qty_delta: 4, note: `transfer ${r.body.id} cancelled` })]);
    expectError(await call('POST', `/transfers/${r.body.id}/receive`, {}), 409, 'conflict');
    const audit = await call('GET', `/audit-log?resource_id=${r.body.id}`);
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual(['transfer.cancelled', 'transfer.created', 'transfer.received']);
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('not enough available at the source (reserved stock counts as taken): 409 insufficient_stock, nothing changed', async () => {
    const a = await stocked(5);
    const b = await stocked(3);
    expect((await call('POST', '/reservations', { item_id: b, location_id: t.locationId, qty: 2 })).status).toBe(201);
    const before = await snapshot(h.testDb.db, t.tenantId);
    const r = await send([
      { item_id: a, qty: 5 },
      { item_id: b, qty: 2 },
    ]);
    expectError(r, 409, 'insufficient_stock');
    expect(r.body.error.details.lines).toEqual([{ item_id: b, location_id: t.locationId, available: 1, wanted: 2 }]);
    const never = await stocked(0);
    const before2 = await snapshot(h.testDb.db, t.tenantId);
    expectError(await send([{ item_id: never, qty: 1 }]), 409, 'insufficient_stock');
    expectError(await send([{ item_id: ghost('item'), qty: 1 }]), 404, 'not_found');
    expectError(await send([{ item_id: a, qty: 1 }], { to_location_id: ghost('loc') }), 404, 'not_found');
    expectInvalid(await send([{ item_id: a, qty: 1 }], { to_location_id: t.locationId }), 'to_location_id');
    expectInvalid(await send([{ item_id: a, qty: 0 }]), 'lines.0.qty');
    expectInvalid(
      await send([
        { item_id: a, qty: 1 },
        { item_id: a, qty: 1 },
      ]),
      'lines',
    );
    expectInvalid(await send([]), 'lines');
    expectInvalid(await send([{ item_id: a, qty: 1 }], { status: 'received' }));
    expectError(await call('POST', `/transfers/${ghost('trf')}/receive`, {}), 404, 'not_found');
    expectError(await call('POST', `/transfers/${ghost('trf')}/cancel`), 404, 'not_found');
    expect(await snapshot(h.testDb.db, t.tenantId)).toEqual(before2);
    expect(before2.stock_levels).toEqual(before.stock_levels);
  });

  it('concurrent transfers for the last units never take more than is there', async () => {
    const item = await stocked(10);
    const results = await Promise.all(Array.from({ length: 12 }, () => send([{ item_id: item, qty: 3 }])));
    const ok = results.filter((r) => r.status === 201);
    expect(ok).toHaveLength(3);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'insufficient_stock');
    expect(await onHand(item, t.locationId)).toBe(1);
    // Concurrent receipts of one transfer never receive more than was sent.
    const recv = await Promise.all(
      Array.from({ length: 4 }, () => call('POST', `/transfers/${ok[0]!.body.id}/receive`, { lines: [{ item_id: item, qty: 2 }] })),
    );
    expect(recv.filter((r) => r.status === 200)).toHaveLength(1);
    expect(await onHand(item, shop)).toBe(2);
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('one Idempotency-Key retried 20 times concurrently moves the stock once', async () => {
    const item = await stocked(50);
    const key = `trf-${Date.now()}`;
    const results = await Promise.all(Array.from({ length: 20 }, () => send([{ item_id: item, qty: 5 }], {}, { 'idempotency-key': key })));
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThan(0);
    for (const r of results.filter((r) => r.status !== 201)) expectError(r, 409, 'idempotency_key_in_use');
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    expect(await onHand(item, t.locationId)).toBe(45);
    const replay = await send([{ item_id: item, qty: 5 }], {}, { 'idempotency-key': key });
    expect(replay.body.id).toBe(created[0]!.body.id);
    expectError(await send([{ item_id: item, qty: 6 }], {}, { 'idempotency-key': key }), 422, 'idempotency_key_reused');
    expect(await onHand(item, t.locationId)).toBe(45);
  });

  it('list with filters and cursor paging; get with ETag; PATCH needs If-Match', async () => {
    const item = await stocked(20);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await send([{ item_id: item, qty: 1 }], { reference: `r${i}` })).body.id);
    await call('POST', `/transfers/${ids[0]}/cancel`);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Array<{ id: string }>; next_cursor: string | null } } = await call(
        'GET',
        `/transfers?item_id=${item}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...r.body.data.map((x) => x.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect((await call('GET', `/transfers?item_id=${item}&status=cancelled`)).body.data.map((x: { id: string }) => x.id)).toEqual([ids[0]]);
    expect((await call('GET', `/transfers?item_id=${item}&status=in_transit&to_location_id=${shop}`)).body.data).toHaveLength(4);
    expect((await call('GET', `/transfers?item_id=${item}&from_location_id=${shop}`)).body.data).toEqual([]);

    const got = await call('GET', `/transfers/${ids[1]}`);
    expect(got.headers.get('etag')).toBe('"v1"');
    expectError(await call('PATCH', `/transfers/${ids[1]}`, { reference: 'x' }), 428, 'precondition_required');
    const ok = await call('PATCH', `/transfers/${ids[1]}`, { reference: 'renamed' }, { 'if-match': '"v1"' });
    expect(ok.body).toMatchObject({ reference: 'renamed', version: 2 });
    expect(ok.headers.get('etag')).toBe('"v2"');
    expectError(await call('PATCH', `/transfers/${ids[1]}`, { reference: 'lost' }, { 'if-match': '"v1"' }), 412, 'precondition_failed');
    expectError(await call('PATCH', `/transfers/${ghost('trf')}`, { reference: 'x' }, ANY_VERSION), 404, 'not_found');
    expect((await call('GET', `/transfers/${ids[1]}`)).body.reference).toBe('renamed');
  });

  it('a location named by a transfer cannot be deleted', async () => {
    const depot = (await call('POST', '/locations', { name: 'Depot' })).body.id;
    const item = await stocked(2);
    await call('POST', '/transfers', { from_location_id: t.locationId, to_location_id: depot, lines: [{ item_id: item, qty: 1 }] });
    expectError(await call('DELETE', `/locations/${depot}`, undefined, ANY_VERSION), 409, 'conflict');
  });
});
