// TikTok Shop under faults: random sales on TikTok Shop and a till while a fifth of TikTok Shop's
// API calls fail (5xx, 429, timeouts, answers lost after the write) and a third of its webhooks
// arrive twice or late. Sales are heard through signed webhooks that re-read the order and through
// the order poll, so the same order reaches us several ways: after quiescence each sale counted
// once, the ledger verifies, and both channels hold the ledger's quantity.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { CHANNEL_FAULTS, emulatedTenant, endCallFaults, held, quiescent, sale } from '../helpers/tenant.ts';

const TYPES = ['tiktok_shop', 'eposnow'] as const;
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

describe('TikTok Shop under faults', () => {
  it('200 random sales, failing calls, duplicated and late webhooks: nothing lost or doubled', async () => {
    const catalogue = Array.from({ length: 8 }, (_, i) => ({ sku: `TT-${i}`, name: `Item ${i}`, qty: 200 }));
    const t = await emulatedTenant(h, emus, { types: [...TYPES], items: catalogue, settings: { tiktok_shop: { request_timeout_ms: 500 } } });
    // Timeouts hang 600 ms, past this test's 500 ms client timeout.
    emus.tiktok_shop.knobs = { ...emus.tiktok_shop.knobs, ...CHANNEL_FAULTS, timeoutHangMs: 600 };
    // Orders that exist when polling starts are history (the shop's past): sales begin after the first poll.
    await eventually(
      async () =>
        (await h.sc.ctx.db.query(`select poll_cursor from channels where tenant_id=$1 and id=$2`, [t.tenantId, t.channels.tiktok_shop!.channelId])).rows[0]
          .poll_cursor !== null,
      10_000,
      'first poll',
    );
    const plan = fc.sample(fc.record({ ch: fc.constantFrom(...TYPES), item: fc.nat(7), qty: fc.integer({ min: 1, max: 2 }) }), {
      numRuns: 200,
      seed: 20261206,
    });
    const sold = new Map<string, number>();
    for (const s of plan) {
      const sku = catalogue[s.item]!.sku;
      if ((await sale(emus, s.ch, t.channels[s.ch]!.accountId, sku, s.qty)).ok) sold.set(sku, (sold.get(sku) ?? 0) + s.qty);
      await new Promise((r) => setTimeout(r, 10));
    }
    await endCallFaults(emus, ['tiktok_shop']);
    // Orders are also heard by polling (once a second): give the poll time to see the last ones.
    await new Promise((r) => setTimeout(r, 3000));
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
      if (ledger.get(it.sku) !== expected) wrong.push(`${it.sku}: ledger ${ledger.get(it.sku)}, expected ${expected}`);
      for (const type of TYPES) {
        const q = held(emus, type, t.channels[type]!.accountId, it.sku)?.qty;
        if (q !== expected) wrong.push(`${it.sku} on ${type}: holds ${q}, should hold ${expected}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 180_000);
});
