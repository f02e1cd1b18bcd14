// Echoes are not sales (invariant 5): Shopify reports back every level we push as an
// inventory_levels/update; receiving it must move nothing, whichever source of sales the channel uses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const movementCount = async (t: EmulatedTenant) =>
  (await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where tenant_id=$1`, [t.tenantId])).rows[0].n as number;
const onHand = async (t: EmulatedTenant) =>
  (await h.sc.ctx.db.query(`select sum(on_hand)::int as n from stock_levels where tenant_id=$1`, [t.tenantId])).rows[0].n as number;

describe.each(['orders', 'levels'] as const)('Shopify with sales counted from %s', (source) => {
  let t: EmulatedTenant;
  beforeAll(async () => {
    t = await emulatedTenant(h, emus, {
      types: ['shopify'],
      items: [{ sku: 'TEE-1', name: 'T-shirt', qty: 20 }],
      settings: { shopify: { sales_source: source } },
    });
  });

  it('pushing N and receiving inventory_levels/update with N moves nothing', async () => {
    const shopify = t.channels.shopify!;
    const echoesBefore = (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and kind='level'`, [t.tenantId])).rows[0].n;
    await recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId: t.itemIds.get('TEE-1')!, locationId: t.locationId, qtyDelta: -5, reason: 'adjustment' }]);
    const moves = await movementCount(t);
    await eventually(() => held(emus, 'shopify', shopify.accountId, 'TEE-1')?.qty === 15, 2000, 'Shopify to hold 15');
    await eventually(
      async () =>
        (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and kind='level' and applied_at is not null`, [t.tenantId]))
          .rows[0].n > echoesBefore,
      2000,
      'the echo to arrive',
    );
    await quiescent(h, emus);
    expect(await movementCount(t)).toBe(moves);
    expect(await onHand(t)).toBe(15);
    const { rows } = await h.sc.ctx.db.query(`select outcome from channel_events where tenant_id=$1 and kind='level' order by id desc limit 1`, [t.tenantId]);
    expect(['echo', 'stale']).toContain(rows[0].outcome);
  });

  it('a Shopify checkout (orders/create AND inventory_levels/update) moves the ledger exactly once', async () => {
    const moves = await movementCount(t);
    expect((await sale(emus, 'shopify', t.channels.shopify!.accountId, 'TEE-1', 2)).ok).toBe(true);
    await eventually(async () => (await onHand(t)) === 13, 2000, 'the sale to be applied');
    await quiescent(h, emus);
    expect(await onHand(t)).toBe(13);
    expect(await movementCount(t)).toBe(moves + 1);
    expect(held(emus, 'shopify', t.channels.shopify!.accountId, 'TEE-1')?.qty).toBe(13);
  });
});

describe('Wix echoes', () => {
  it('an echo carrying the revision our push left is recorded as applied at intake, and the Watcher never runs for it', async () => {
    const t = await emulatedTenant(h, emus, { types: ['wix'], items: [{ sku: 'MUG-1', name: 'Mug', qty: 20 }] });
    const wix = t.channels.wix!;
    // Wix dispatches webhooks from a queue, after the call that caused them has answered: an echo
    // sent inline could overtake our own record of the push it echoes (recognised later instead).
    emus.wix.knobs = { ...emus.wix.knobs, webhookDelayMs: 200 };
    await quiescent(h, emus);
    const moves = await movementCount(t);
    for (const delta of [-3, -2, 4]) {
      const before = (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and kind='level'`, [t.tenantId])).rows[0].n;
      await recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId: t.itemIds.get('MUG-1')!, locationId: t.locationId, qtyDelta: delta, reason: 'adjustment' }]);
      await eventually(
        async () =>
          (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and kind='level'`, [t.tenantId])).rows[0].n > before,
        3000,
        'the echo to arrive',
      );
      await quiescent(h, emus);
    }
    expect(held(emus, 'wix', wix.accountId, 'MUG-1')?.qty).toBe(19);
    expect(await movementCount(t)).toBe(moves + 3);
    const { rows } = await h.sc.ctx.db.query<{ outcome: string; at_intake: boolean }>(
      `select outcome, applied_at = created_at as at_intake from channel_events where tenant_id=$1 and kind='level' order by id`,
      [t.tenantId],
    );
    expect(rows.every((r) => r.outcome === 'echo' || r.outcome === 'stale')).toBe(true);
    // Our push's answer (with the new revision) is recorded before its echo arrives, so the door knows it.
    expect(rows.filter((r) => r.at_intake).length).toBeGreaterThanOrEqual(2);
    emus.wix.knobs = { ...emus.wix.knobs, webhookDelayMs: 0 };
  });
});
