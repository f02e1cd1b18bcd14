// The lean take-out (applyCheckedDecrease): for a tenant nobody subscribes to or watches, the checked
// take-out runs without the webhook and live-stream parts; where somebody does, the lean statement
// applies nothing and the full one runs instead (in the same transaction, or in the transaction run
// again when the lean one carried its commit), so no stock.changed event and no live notification
// is ever missed, and nothing is applied twice.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { nothingFollows, withTx, type Tx } from '../db/pool.ts';
import { tenantTx } from '../db/tenant-tx.ts';
import { createItems, createTenant } from '../db/tenants.ts';
import { LIVE_CHANNEL } from '../db/live.ts';
import type { AuditRow } from '../db/audit-row.ts';
import { applyCheckedDecrease, recordMovements } from './ledger.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.drop();
});

async function stocked(): Promise<{ tenantId: string; itemId: string; locationId: string }> {
  const { tenantId, locationId } = await withTx(t.db, (tx) => createTenant(tx, { name: 'Lean' }));
  const [itemId] = await createItems(t.db, tenantId, [{ sku: 'LEAN-1', name: 'Lean item' }]);
  await recordMovements(t.db, tenantId, [{ itemId: itemId!, locationId, qtyDelta: 10, reason: 'receipt' }]);
  return { tenantId, itemId: itemId!, locationId };
}

const audit = (tenantId: string, itemId: string): AuditRow => ({
  tenant_id: tenantId,
  actor_type: 'user',
  actor_id: 'usr_test',
  action: 'stock.adjusted',
  resource_type: 'item',
  resource_id: itemId,
  changes: null,
  request_id: null,
});

/** A take-out as the API makes it: the transaction's only statement, carrying the commit. Counts the body's runs. */
async function apiTakeOut(s: { tenantId: string; itemId: string; locationId: string }) {
  let runs = 0;
  const out = await tenantTx(t.db, s.tenantId, async (tx: Tx) => {
    runs++;
    nothingFollows(tx);
    return applyCheckedDecrease(
      tx,
      s.tenantId,
      { itemId: s.itemId, locationId: s.locationId, qtyDelta: -1, reason: 'adjustment' },
      { audit: audit(s.tenantId, s.itemId), last: true },
    );
  });
  return { ...out, runs };
}

async function counts(tenantId: string) {
  const { rows } = await t.db.query<{ movements: number; audits: number; events: number; deliveries: number; on_hand: number }>(
    `select (select count(*) from stock_movements where tenant_id = $1 and qty_delta < 0)::int as movements,
            (select count(*) from audit_log where tenant_id = $1 and action = 'stock.adjusted')::int as audits,
            (select count(*) from webhook_events where tenant_id = $1 and type = 'stock.changed')::int as events,
            (select count(*) from webhook_deliveries where tenant_id = $1)::int as deliveries,
            (select sum(on_hand) from stock_levels where tenant_id = $1)::int as on_hand`,
    [tenantId],
  );
  return rows[0]!;
}

const subscribe = (tenantId: string, types: string[]) =>
  t.db.query(
    `insert into webhook_endpoints (tenant_id, id, url, event_types, secret_sealed) values ($1, 'wep_' || md5(random()::text), 'https://example.test/hook', $2, 'sealed')`,
    [tenantId, types],
  );

describe('the lean take-out', () => {
  it('nobody subscribes or watches: applied once, with its audit row, and no event', async () => {
    const s = await stocked();
    const r = await apiTakeOut(s);
    expect(r.runs).toBe(1);
    expect(r.check.ok).toBe(true);
    expect(r.check).not.toHaveProperty('heard');
    expect(r.result.levels[0]).toMatchObject({ on_hand: 9 });
    expect(await counts(s.tenantId)).toEqual({ movements: 1, audits: 1, events: 0, deliveries: 0, on_hand: 9 });
  });

  it('a subscriber to stock changes: the transaction runs again with the full statement; applied once, event delivered', async () => {
    const s = await stocked();
    await subscribe(s.tenantId, ['stock.*']);
    const first = await apiTakeOut(s);
    // The lean statement committed having applied nothing, so the body ran a second time.
    expect(first.runs).toBe(2);
    expect(first.check.ok).toBe(true);
    expect(await counts(s.tenantId)).toEqual({ movements: 1, audits: 1, events: 1, deliveries: 1, on_hand: 9 });
    // This process remembers the subscriber: the next take-out goes straight to the full statement.
    const second = await apiTakeOut(s);
    expect(second.runs).toBe(1);
    expect(await counts(s.tenantId)).toEqual({ movements: 2, audits: 2, events: 2, deliveries: 2, on_hand: 8 });
  });

  it('a subscriber to other events only: lean, no event', async () => {
    const s = await stocked();
    await subscribe(s.tenantId, ['order.created']);
    const r = await apiTakeOut(s);
    expect(r.runs).toBe(1);
    expect(await counts(s.tenantId)).toEqual({ movements: 1, audits: 1, events: 0, deliveries: 0, on_hand: 9 });
  });

  it('inside a transaction that goes on after it: the full statement follows in the same transaction', async () => {
    const s = await stocked();
    await subscribe(s.tenantId, ['*']);
    let runs = 0;
    await tenantTx(t.db, s.tenantId, async (tx) => {
      runs++;
      const r = await applyCheckedDecrease(tx, s.tenantId, { itemId: s.itemId, locationId: s.locationId, qtyDelta: -2, reason: 'sale' });
      expect(r.check.ok).toBe(true);
      await tx.query(`select 1`); // still the same, open transaction
    });
    expect(runs).toBe(1);
    expect(await counts(s.tenantId)).toEqual({ movements: 1, audits: 0, events: 1, deliveries: 1, on_hand: 8 });
  });

  it('a watched tenant: the take-out is announced on the live stream', async () => {
    const s = await stocked();
    await t.db.query(`insert into stream_watchers (tenant_id, process) values ($1, 'test-process')`, [s.tenantId]);
    const listener = new pg.Client({ connectionString: t.url });
    await listener.connect();
    try {
      const heard: Array<{ tenant_id: string; type: string }> = [];
      listener.on('notification', (n) => heard.push(JSON.parse(n.payload!)));
      await listener.query(`listen ${LIVE_CHANNEL}`);
      const r = await apiTakeOut(s);
      expect(r.runs).toBe(2);
      await expect.poll(() => heard.filter((h) => h.tenant_id === s.tenantId).map((h) => h.type)).toEqual(['stock.changed']);
      expect(await counts(s.tenantId)).toMatchObject({ movements: 1, audits: 1, on_hand: 9 });
    } finally {
      await listener.end();
    }
  });

  it('a refused take-out under either statement writes nothing', async () => {
    const quiet = await stocked();
    const loud = await stocked();
    await subscribe(loud.tenantId, ['stock.changed']);
    for (const s of [quiet, loud]) {
      const r = await tenantTx(t.db, s.tenantId, async (tx) => {
        nothingFollows(tx);
        return applyCheckedDecrease(
          tx,
          s.tenantId,
          { itemId: s.itemId, locationId: s.locationId, qtyDelta: -11, reason: 'adjustment' },
          { audit: audit(s.tenantId, s.itemId), last: true },
        );
      });
      expect(r.check).toEqual({ item: true, location: true, kit: false, on_hand: 10, ok: false });
      expect(await counts(s.tenantId)).toEqual({ movements: 0, audits: 0, events: 0, deliveries: 0, on_hand: 10 });
    }
  });
});
