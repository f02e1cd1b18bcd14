import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createItems, createTenant } from '../db/tenants.ts';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { pushJob } from '../db/job-specs.ts';
import { relayOutbox } from '../db/jobs.ts';
import { newId } from '../domain/ids.ts';
import { withTx } from '../db/pool.ts';
import { applyMovements, LedgerInputError, recordMovements, verifyLedger } from './ledger.ts';

let t: TestDb;
let tenantId: string;
let loc: string;
let items: string[];

beforeAll(async () => {
  t = await createTestDb();
  const ten = await createTenant(t.db, { name: 'Ledger Co' });
  tenantId = ten.tenantId;
  loc = ten.locationId;
  items = await createItems(
    t.db,
    tenantId,
    [1, 2, 3, 4, 5].map((i) => ({ sku: `SKU-${i}`, name: `Item ${i}` })),
  );
});
afterAll(() => t.drop());

const level = async (item: string) =>
  (await t.db.query(`select on_hand from stock_levels where tenant_id=$1 and item_id=$2 and location_id=$3`, [tenantId, item, loc])).rows[0]?.on_hand;

describe('ledger', () => {
  it('writes movements and the level in one statement, and verify agrees', async () => {
    const r = await recordMovements(t.db, tenantId, [
      { itemId: items[0]!, locationId: loc, qtyDelta: 10, reason: 'receipt' },
      { itemId: items[0]!, locationId: loc, qtyDelta: -3, reason: 'sale' },
    ]);
    expect(r.movements).toBe(2);
    expect(await level(items[0]!)).toBe(7);
    expect(await verifyLedger(t.db)).toEqual([]);
  });

  it('refuses bad movements and changes nothing', async () => {
    const before = await level(items[0]!);
    await expect(recordMovements(t.db, tenantId, [{ itemId: items[0]!, locationId: loc, qtyDelta: 0, reason: 'sale' }])).rejects.toBeInstanceOf(
      LedgerInputError,
    );
    await expect(recordMovements(t.db, tenantId, [{ itemId: items[0]!, locationId: loc, qtyDelta: 1, reason: 'gift' as never }])).rejects.toBeInstanceOf(
      LedgerInputError,
    );
    // another tenant's location cannot be referenced: the composite foreign key refuses it
    const other = await createTenant(t.db, { name: 'Other' });
    await expect(recordMovements(t.db, tenantId, [{ itemId: items[0]!, locationId: other.locationId, qtyDelta: 1, reason: 'receipt' }])).rejects.toThrow();
    expect(await level(items[0]!)).toBe(before);
  });

  it('is append-only: update, delete and truncate of movements are refused', async () => {
    await expect(t.db.query(`update stock_movements set qty_delta = 100`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`delete from stock_movements`)).rejects.toThrow(/append-only/);
    await expect(t.db.query(`truncate stock_movements cascade`)).rejects.toThrow(/append-only/);
  });

  it('verify reports a level that drifted from its movements', async () => {
    await t.db.query(`update stock_levels set on_hand = on_hand + 1 where tenant_id=$1 and item_id=$2`, [tenantId, items[0]]);
    const bad = await verifyLedger(t.db);
    expect(bad).toHaveLength(1);
    expect(bad[0]).toMatchObject({ item_id: items[0], on_hand: 8, movements_sum: 7 });
    await t.db.query(`update stock_levels set on_hand = on_hand - 1 where tenant_id=$1 and item_id=$2`, [tenantId, items[0]]);
  });

  it('concurrent batches in random order keep every level equal to its movements (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.array(fc.record({ i: fc.integer({ min: 0, max: 4 }), d: fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0) }), {
            minLength: 1,
            maxLength: 30,
          }),
          {
            minLength: 2,
            maxLength: 6,
          },
        ),
        async (batches) => {
          const before = await Promise.all(items.map(async (i) => (await level(i)) ?? 0));
          await Promise.all(
            batches.map((b) =>
              recordMovements(
                t.db,
                tenantId,
                b.map((m) => ({ itemId: items[m.i]!, locationId: loc, qtyDelta: m.d, reason: 'adjustment' as const })),
              ),
            ),
          );
          const after = await Promise.all(items.map(async (i) => (await level(i)) ?? 0));
          const expected = before.map(
            (v, idx) =>
              v +
              batches
                .flat()
                .filter((m) => m.i === idx)
                .reduce((s, m) => s + m.d, 0),
          );
          expect(after).toEqual(expected);
          expect(await verifyLedger(t.db)).toEqual([]);
        },
      ),
      { numRuns: 15 },
    );
  });

  it('a writer that commits after a job was handed its channel still signals that channel (no stranded change)', async () => {
    const channelId = newId('ch');
    await t.db.query(
      `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, 'wix', 'Wix', 'http://127.0.0.1:9', 'x', '{}')`,
      [tenantId, channelId],
    );
    await t.db.query(
      `insert into listings (tenant_id, id, channel_id, item_id, external_id, name) select $1, 'lst_' || md5(x), $2, x, x, x from unnest($3::text[]) x`,
      [tenantId, channelId, items.slice(0, 2)],
    );
    await relayOutbox(t.db);
    // B commits first; A writes while B's signal is still waiting in the outbox.
    await recordMovements(t.db, tenantId, [{ itemId: items[0]!, locationId: loc, qtyDelta: 1, reason: 'receipt' }]);
    const a = await t.db.connect();
    try {
      await a.query('begin');
      await applyMovements(a, tenantId, [{ itemId: items[1]!, locationId: loc, qtyDelta: 1, reason: 'receipt' }]);
      // The relay hands B's signal to a job now; that job cannot see A's change.
      expect(await relayOutbox(t.db)).toBeGreaterThan(0);
      await a.query('commit');
    } finally {
      a.release();
    }
    // A's own signal is there for the relay after A's commit: the next job sees A's change. It is
    // the registry's push job for the channel (task, key, queue and payload from pushJob).
    const { rows } = await t.db.query(`select task, job_key, queue_name, payload from job_outbox where job_key = $1`, [`push:${channelId}`]);
    const want = pushJob(tenantId, channelId);
    expect(rows).toEqual([{ task: want.task, job_key: want.key, queue_name: want.queue, payload: want.payload }]);
    await relayOutbox(t.db);
    const { rows: jobs } = await t.db.query(`select key from graphile_worker.jobs where key = $1`, [`push:${channelId}`]);
    expect(jobs).toHaveLength(1);
  });

  it("signals the stock alert check only for a change that can cross an item's alert line", async () => {
    // threshold 5 on one location, 3 units at a second: the line is crossed on the item's total.
    const [item] = await createItems(t.db, tenantId, [{ sku: 'ALERT-LINE', name: 'Alert line', lowStockThreshold: 5 }]);
    const other = newId('loc');
    await t.db.query(`insert into locations (tenant_id, id, name) values ($1, $2, 'Back room')`, [tenantId, other]);
    /** Whether a transaction moving `delta` at `at` writes an alerts_stock outbox row (rolled back after: no level changes). */
    const signals = async (delta: number, at = loc) =>
      withTx(t.db, async (tx) => {
        await applyMovements(tx, tenantId, [{ itemId: item!, locationId: at, qtyDelta: delta, reason: delta > 0 ? 'receipt' : 'adjustment' }]);
        const { rows } = await tx.query(`select 1 from job_outbox where task = 'alerts_stock' and key like '%@' || pg_current_xact_id()::text`);
        throw Object.assign(new Error('rollback'), { signalled: rows.length > 0 });
      }).catch((e: { signalled?: boolean }) => e.signalled);
    expect(await signals(20)).toBe(true); // 0 -> 20: it was out of stock
    await recordMovements(t.db, tenantId, [
      { itemId: item!, locationId: loc, qtyDelta: 20, reason: 'receipt' },
      { itemId: item!, locationId: other, qtyDelta: 3, reason: 'receipt' },
    ]);
    expect(await signals(-1)).toBe(false); // 23 -> 22: far above the line
    expect(await signals(5)).toBe(false);
    expect(await signals(-18)).toBe(true); // 23 -> 5: at the line (the other location's 3 count)
    expect(await signals(-17)).toBe(false); // 23 -> 6
    expect(await signals(-3, other)).toBe(false); // 23 -> 20
    await recordMovements(t.db, tenantId, [{ itemId: item!, locationId: loc, qtyDelta: -16, reason: 'adjustment' }]);
    expect(await signals(1)).toBe(false); // 7 -> 8
    expect(await signals(-2)).toBe(true); // 7 -> 5
    await recordMovements(t.db, tenantId, [{ itemId: item!, locationId: loc, qtyDelta: -2, reason: 'adjustment' }]);
    expect(await signals(10)).toBe(true); // 5 -> 15: it was low, its alert may resolve
    expect(await signals(-1, other)).toBe(true); // 5 -> 4
  });
});
