// The Guardian on a channel whose sales are its level changes (Square): a sale at the register
// whose notification never came (and before the counts poll saw it) is a level that moved from
// what we last saw. The Guardian takes it into the ledger as the Watcher would have, and the other
// channels follow; it must not "repair" the register back up to the ledger's old quantity, which
// would lose the sale (the register sold a unit the ledger would still offer elsewhere). A level
// still at what we last saw but not what it should be (our push lost) is repaired as before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { guardianRun } from '../../src/engine/guardian.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  // One counts poll at connection (it takes the cursor), then none within the test.
  h = await startHarness({ tuning: { pollIntervalS: 3600 } });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('the Guardian on a levels channel', () => {
  it('takes a register sale it alone found into the ledger (the other channels follow) instead of overwriting it', async () => {
    const t = await emulatedTenant(h, emus, { types: ['square', 'wix'], items: [{ sku: 'GL-1', name: 'Register loaf', qty: 10 }] });
    const square = t.channels.square!;
    const db = h.sc.ctx.db;
    const onHand = async () =>
      (await db.query<{ n: number }>(`select coalesce(sum(on_hand), 0)::int as n from stock_levels where tenant_id = $1`, [t.tenantId])).rows[0]!.n;
    await eventually(
      async () => (await db.query(`select poll_cursor from channels where id = $1`, [square.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'the first counts poll',
    );
    // The counts poll has not come round to the sale yet: its cursor is put past it (a connection
    // can bring a second poll right after the first, which would otherwise find the sale).
    await db.query(`update channels set poll_cursor = '2100-01-01T00:00:00.000Z' where id = $1`, [square.channelId]);
    // Square's notifications are lost from here on.
    const off = await fetch(`${emus.square.url}/_control/accounts/${square.accountId}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: null }),
    });
    expect(off.ok).toBe(true);
    expect((await sale(emus, 'square', square.accountId, 'GL-1', 2)).ok).toBe(true);
    expect(held(emus, 'square', square.accountId, 'GL-1')?.qty).toBe(8);
    await new Promise((r) => setTimeout(r, 500));
    expect(await onHand()).toBe(10); // nobody told us

    const reports = await guardianRun(h.sc.ctx, { tenantId: t.tenantId });
    const onSquare = reports.find((r) => r.channelId === square.channelId)!;
    expect(onSquare.repaired).toBe(0);
    // The register's sale is in the ledger, once, and the web shop follows; the register keeps 8.
    expect(await onHand()).toBe(8);
    await eventually(() => held(emus, 'wix', t.channels.wix!.accountId, 'GL-1')?.qty === 8, 10_000, 'the web shop to follow');
    expect(held(emus, 'square', square.accountId, 'GL-1')?.qty).toBe(8);
    const { rows } = await db.query<{ reason: string; qty: number }>(
      `select reason, qty_delta::int as qty from stock_movements where tenant_id = $1 and source_channel_id = $2`,
      [t.tenantId, square.channelId],
    );
    expect(rows).toEqual([{ reason: 'sale', qty: -2 }]);
    // A second run finds nothing more to take.
    await guardianRun(h.sc.ctx, { tenantId: t.tenantId });
    expect(await onHand()).toBe(8);
    expect(await verifyLedger(db)).toEqual([]);
  }, 60_000);
});
