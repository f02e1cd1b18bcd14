// Item rules below HTTP: what an item change sets off (listings marked for a push, one push job per
// channel, stock alerts), the same from PATCH's `update` and the CSV import's `upsertBySku`, and the
// kit rules. Each case runs in a transaction of its own against a real database.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { withTx } from '../db/pool.ts';
import { createItems, createTenant } from '../db/tenants.ts';
import { recordMovements } from '../ledger/ledger.ts';
import * as items from './items.ts';
import type { Scope } from './scope.ts';

let t: TestDb;
let scope: Scope;
let loc: string;

beforeAll(async () => {
  t = await createTestDb();
  const ten = await createTenant(t.db, { name: 'Items Co' });
  scope = { tenantId: ten.tenantId, actor: { type: 'user', id: 'usr_test' }, requestId: 'req_test' };
  loc = ten.locationId;
});
afterAll(() => t.drop());
// No worker runs here: what a case queued stays in the outbox for it to read.
beforeEach(() => t.db.query(`delete from job_outbox`));

async function channel(status: 'connected' | 'paused' = 'connected'): Promise<string> {
  const id = newId('ch');
  await t.db.query(
    `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, status) values ($1, $2, 'test', $2, 'http://127.0.0.1:1', 'x', $3)`,
    [scope.tenantId, id, status],
  );
  return id;
}

async function listing(channelId: string, itemId: string, state = 'in_sync'): Promise<string> {
  const id = newId('lst');
  await t.db.query(
    `insert into listings (tenant_id, id, channel_id, item_id, external_id, state, dirty_seq, pushed_seq) values ($1, $2, $3, $4, $2, $5, 3, 3)`,
    [scope.tenantId, id, channelId, itemId, state],
  );
  return id;
}

const listingRow = async (id: string) =>
  (await t.db.query<{ state: string; dirty_seq: number }>(`select state, dirty_seq::int from listings where tenant_id = $1 and id = $2`, [scope.tenantId, id]))
    .rows[0]!;

/** Push jobs queued, as channel ids (one entry per outbox row). */
const queuedPushes = async () =>
  (await t.db.query<{ channel_id: string }>(`select payload->>'channelId' as channel_id from job_outbox where task = 'sync_push' order by 1`)).rows
    .map((r) => r.channel_id)
    .sort();

const item = async (sku: string, extra: Partial<items.ItemInput> = {}) =>
  (await withTx(t.db, (tx) => items.create(tx, scope, { sku, name: sku, ...extra }))).id;

describe('items.update', () => {
  it('a new buffer marks the listings on connected channels pending and queues one push per channel', async () => {
    const id = await item('BUF-1');
    const [a, b, paused] = [await channel(), await channel(), await channel('paused')];
    const a1 = await listing(a, id);
    const a2 = await listing(a, id, 'error');
    const b1 = await listing(b, id);
    const p1 = await listing(paused, id);
    const other = await listing(a, await item('BUF-OTHER'));

    const out = await withTx(t.db, (tx) => items.update(tx, scope, id, { buffer: 2 }));
    expect(out).toMatchObject({ id, buffer: 2, version: 2 });

    expect(await listingRow(a1)).toEqual({ state: 'pending', dirty_seq: 4 });
    // A listing a merchant must look at keeps its state until a push settles it.
    expect(await listingRow(a2)).toEqual({ state: 'error', dirty_seq: 4 });
    expect(await listingRow(b1)).toEqual({ state: 'pending', dirty_seq: 4 });
    // A paused channel is not pushed to; another item's listing is untouched.
    expect(await listingRow(p1)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await listingRow(other)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([a, b].sort());
  });

  it('a change that does not touch what channels hold (a rename) marks nothing', async () => {
    const id = await item('REN-1');
    const l = await listing(await channel(), id);
    await withTx(t.db, (tx) => items.update(tx, scope, id, { name: 'Renamed' }));
    expect(await listingRow(l)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([]);
  });

  it('checks the version through the guard under the row lock, and a refusal changes nothing', async () => {
    const id = await item('GUARD-1');
    const l = await listing(await channel(), id);
    const seen: number[] = [];
    await expect(
      withTx(t.db, (tx) =>
        items.update(tx, scope, id, { buffer: 5 }, (v) => {
          seen.push(v);
          throw new AppError(412, 'precondition_failed', 'stale');
        }),
      ),
    ).rejects.toMatchObject({ status: 412 });
    expect(seen).toEqual([1]);
    expect(await listingRow(l)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect((await withTx(t.db, (tx) => items.get(tx, scope, id))).buffer).toBeNull();
  });

  it('a lower threshold raises the low-stock alert in the same transaction', async () => {
    const id = await item('LOW-1');
    await recordMovements(t.db, scope.tenantId, [{ itemId: id, locationId: loc, qtyDelta: 3, reason: 'receipt' }]);
    await withTx(t.db, (tx) => items.update(tx, scope, id, { low_stock_threshold: 5 }));
    const { rows } = await t.db.query(`select type, status from alerts where tenant_id = $1 and subject = $2`, [scope.tenantId, id]);
    expect(rows).toEqual([{ type: 'low_stock', status: 'open' }]);
  });

  it('records the change in the audit log with the caller', async () => {
    const id = await item('AUD-1');
    await withTx(t.db, (tx) => items.update(tx, scope, id, { barcode: '123' }));
    const { rows } = await t.db.query(`select actor_id, action, changes, request_id from audit_log where tenant_id = $1 and resource_id = $2 order by id`, [
      scope.tenantId,
      id,
    ]);
    expect(rows.at(-1)).toEqual({ actor_id: 'usr_test', action: 'item.updated', changes: { barcode: '123' }, request_id: 'req_test' });
  });
});

describe('kit rules', () => {
  const refusal = (p: Promise<unknown>, status: number, code: string) =>
    expect(p).rejects.toSatisfy((e) => e instanceof AppError && e.status === status && e.code === code);

  it('a kit cannot be its own component, nor a component a kit; nothing changes', async () => {
    const part = await item('KIT-PART');
    const kit = await item('KIT-1', { components: [{ item_id: part, qty: 2 }] });
    await refusal(
      withTx(t.db, (tx) => items.update(tx, scope, kit, { components: [{ item_id: kit, qty: 1 }] })),
      409,
      'conflict',
    );
    await refusal(
      withTx(t.db, (tx) => items.create(tx, scope, { sku: 'KIT-NEST', name: 'n', components: [{ item_id: kit, qty: 1 }] })),
      409,
      'conflict',
    );
    // The refused update rolled back whole: the recipe and the version are what they were.
    const after = await withTx(t.db, (tx) => items.get(tx, scope, kit));
    expect(after).toMatchObject({ version: 1, components: [{ item_id: part, qty: 2 }] });
  });

  it('an item with stock cannot become a kit, and a missing component is a 404', async () => {
    const stocked = await item('KIT-STOCKED');
    const part = await item('KIT-PART-2');
    await recordMovements(t.db, scope.tenantId, [{ itemId: stocked, locationId: loc, qtyDelta: 1, reason: 'receipt' }]);
    await refusal(
      withTx(t.db, (tx) => items.update(tx, scope, stocked, { components: [{ item_id: part, qty: 1 }] })),
      409,
      'conflict',
    );
    await refusal(
      withTx(t.db, (tx) => items.update(tx, scope, part, { components: [{ item_id: newId('item'), qty: 1 }] })),
      404,
      'not_found',
    );
  });

  it('a new kit recipe marks the kit listings for a push', async () => {
    const part = await item('KIT-PART-3');
    const kit = await item('KIT-3');
    const ch = await channel();
    const l = await listing(ch, kit);
    await withTx(t.db, (tx) => items.update(tx, scope, kit, { components: [{ item_id: part, qty: 3 }] }));
    expect(await listingRow(l)).toEqual({ state: 'pending', dirty_seq: 4 });
    expect(await queuedPushes()).toEqual([ch]);
  });
});

describe('items.upsertBySku (the CSV import)', () => {
  it('creates new SKUs, updates changed ones, and marks listings the way update does', async () => {
    const [changed, same] = await createItems(t.db, scope.tenantId, [
      { sku: 'UP-1', name: 'One', buffer: 1 },
      { sku: 'UP-2', name: 'Two', buffer: 1 },
    ]);
    const [a, b] = [await channel(), await channel()];
    const la = await listing(a, changed!);
    const lb = await listing(b, changed!, 'drift');
    const lSame = await listing(a, same!);

    const r = await withTx(t.db, (tx) =>
      items.upsertBySku(tx, scope, {
        fields: ['name', 'buffer'],
        rows: [
          { sku: 'UP-1', name: 'One', barcode: null, low_stock_threshold: null, buffer: 4 },
          { sku: 'UP-2', name: 'Two', barcode: null, low_stock_threshold: null, buffer: 1 },
          { sku: 'UP-3', name: 'Three', barcode: null, low_stock_threshold: null, buffer: null },
        ],
      }),
    );
    expect(r).toEqual({ created: 1, updated: 1 });
    expect(await listingRow(la)).toEqual({ state: 'pending', dirty_seq: 4 });
    expect(await listingRow(lb)).toEqual({ state: 'drift', dirty_seq: 4 });
    // An unchanged row is left alone: its listing is not pushed again.
    expect(await listingRow(lSame)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([a, b].sort());
  });

  it('without the buffer column, an update marks nothing; columns it lacks keep their values', async () => {
    const [id] = await createItems(t.db, scope.tenantId, [{ sku: 'UP-4', name: 'Four', barcode: 'B4', buffer: 2 }]);
    const l = await listing(await channel(), id!);
    const r = await withTx(t.db, (tx) =>
      items.upsertBySku(tx, scope, { fields: ['name'], rows: [{ sku: 'UP-4', name: 'Four v2', barcode: null, low_stock_threshold: null, buffer: null }] }),
    );
    expect(r).toEqual({ created: 0, updated: 1 });
    expect(await withTx(t.db, (tx) => items.get(tx, scope, id!))).toMatchObject({ name: 'Four v2', barcode: 'B4', buffer: 2, version: 2 });
    expect(await listingRow(l)).toEqual({ state: 'in_sync', dirty_seq: 3 });
    expect(await queuedPushes()).toEqual([]);
  });
});
