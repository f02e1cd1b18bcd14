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

const movementCount = async (t: EmulatedTenant) => (await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where tenant_id=$1`, [t.tenantId])).rows[0].n as number;
const onHand = async (t: EmulatedTenant) => (await h.sc.ctx.db.query(`select sum(on_hand)::int as n from stock_levels where tenant_id=$1`, [t.tenantId])).rows[0].n as number;

describe.each(['orders', 'levels'] as const)('Shopify with sales counted from %s', (source) => {
  let t: EmulatedTenant;
  beforeAll(async () => {
    t = await emulatedTenant(h, emus, { types: ['shopify'], items: [{ sku: 'TEE-1', name: 'T-shirt', qty: 20 }], settings: { shopify: { sales_source: source } } });
  });

  it('pushing N and receiving inventory_levels/update with N moves nothing', async () => {
    const shopify = t.channels.shopify!;
    const echoesBefore = (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and kind='level'`, [t.tenantId])).rows[0].n;
    await recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId: t.itemIds.get('TEE-1')!, locationId: t.locationId, qtyDelta: -5, reason: 'adjustment' }]);
    const moves = await movementCount(t);
    await eventually(() => held(emus, 'shopify', shopify.accountId, 'TEE-1')?.qty === 15, 2000, 'Shopify to hold 15');
    await eventually(
      async () => (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and kind='level' and applied_at is not null`, [t.tenantId])).rows[0].n > echoesBefore,
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
