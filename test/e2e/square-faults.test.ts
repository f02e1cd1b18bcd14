// Square under faults: random sales at the Square register and the till while a fifth of all
// channel calls fail (5xx, 429, timeouts that may have landed) and a third of Square's
// notifications arrive twice and out of order. Sales reach us as counts (inventory.count.updated,
// and the counts poll); our pushes are physical counts under idempotency keys, so a timed-out push
// sent again is answered from Square's memory. After quiescence nothing is lost, nothing is
// counted twice, the ledger verifies, and both channels hold the ledger's quantity.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedChannelType as ChannelType } from '../../src/channels/registry.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { CHANNEL_FAULTS, emulatedTenant, endCallFaults, held, quiescent, sale } from '../helpers/tenant.ts';

const TYPES: ChannelType[] = ['square', 'eposnow'];

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('Square with faults', () => {
  it('200 random sales, 20% failing calls, 30% duplicated and reordered notifications: exact end state', async () => {
    const catalogue = Array.from({ length: 10 }, (_, i) => ({ sku: `SQ-${i}`, name: `Item ${i}`, qty: 80 }));
    const t = await emulatedTenant(h, emus, {
      types: TYPES,
      items: catalogue,
      settings: { square: { request_timeout_ms: 300 }, eposnow: { request_timeout_ms: 300 } },
    });
    // The counts poll takes its cursor on its first run (counts before it were read by the import).
    await eventually(
      async () => (await h.sc.ctx.db.query(`select poll_cursor from channels where id=$1`, [t.channels.square!.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'first poll',
    );
    for (const type of TYPES) emus[type].knobs = { ...emus[type].knobs, ...CHANNEL_FAULTS };
    const plan = fc.sample(fc.record({ ch: fc.constantFrom(...TYPES), item: fc.nat(9), qty: fc.integer({ min: 1, max: 2 }) }), {
      numRuns: 200,
      seed: 20261206,
    });
    const sold = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < plan.length) {
          const s = plan[next++]!;
          const sku = catalogue[s.item]!.sku;
          const r = await sale(emus, s.ch, t.channels[s.ch]!.accountId, sku, s.qty);
          if (r.ok) sold.set(sku, (sold.get(sku) ?? 0) + s.qty);
          await new Promise((res) => setTimeout(res, 20));
        }
      }),
    );
    await endCallFaults(emus, TYPES, ['square']);
    // A notification given up on is left to the counts poll (every second here): wait for the units
    // sold to be accounted for, then for everything to settle.
    const total = catalogue.reduce((n, it) => n + it.qty, 0) - [...sold.values()].reduce((a, b) => a + b, 0);
    const onHand = async () =>
      (await h.sc.ctx.db.query(`select coalesce(sum(on_hand), 0)::int as n from stock_levels where tenant_id = $1`, [t.tenantId])).rows[0].n as number;
    await eventually(async () => (await onHand()) <= total, 60_000, 'every sale to reach the ledger');
    await quiescent(h, emus, 120_000);
    await new Promise((r) => setTimeout(r, 2000)); // later polls and notification retries see the same counts again
    await quiescent(h, emus, 120_000);
    expect(await verifyLedger(h.sc.ctx.db)).toEqual([]);
    const { rows } = await h.sc.ctx.db.query<{ sku: string; on_hand: number }>(
      `select i.sku, coalesce(sum(s.on_hand), 0)::int as on_hand from items i left join stock_levels s on s.tenant_id = i.tenant_id and s.item_id = i.id
       where i.tenant_id = $1 group by i.tenant_id, i.id`,
      [t.tenantId],
    );
    const ledger = new Map(rows.map((r) => [r.sku, r.on_hand]));
    const wrong: string[] = [];
    for (const it of catalogue) {
      const expected = it.qty - (sold.get(it.sku) ?? 0);
      const got = ledger.get(it.sku)!;
      if (got !== expected) wrong.push(`${it.sku}: ledger ${got}, expected ${expected} (${got > expected ? 'lost' : 'double counted'})`);
      for (const type of TYPES) {
        const q = held(emus, type, t.channels[type]!.accountId, it.sku)?.qty;
        if (q !== Math.max(0, got)) wrong.push(`${it.sku} on ${type}: holds ${q}, should hold ${Math.max(0, got)}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 180_000);
});
