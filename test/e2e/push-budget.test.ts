// The monthly push budget (issue 16, point 3): a tenant past its plan's pushes for the month still
// has every sale reach its other channels (refusing would oversell), but each channel is pushed at
// most once per gap, so a burst of sales costs one push instead of one per sale; it gets a warning
// alert saying so. A tenant within its budget is not slowed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { PLANS, type PlanName } from '../../src/domain/plans.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

const GAP_MS = 4_000;

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  h = await startHarness({ tuning: { overBudgetPushGapMs: GAP_MS } });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('monthly push budget', () => {
  it("past its budget a tenant's sales still reach every channel, coalesced to one push per gap; within budget nothing changes", async () => {
    const items = [{ sku: 'BUD-1', name: 'Budget loaf', qty: 100 }];
    const over: EmulatedTenant = await emulatedTenant(h, emus, { types: ['eposnow', 'wix'], items });
    const within: EmulatedTenant = await emulatedTenant(h, emus, { types: ['eposnow', 'wix'], items });
    const db = h.sc.ctx.db;
    const plan = (await db.query<{ plan: PlanName }>(`select plan from tenants where id = $1`, [over.tenantId])).rows[0]!.plan;
    // The month's pushes are spent (as the usage meter would have recorded them).
    await db.query(`insert into usage_daily (tenant_id, day, pushes) values ($1, (now() at time zone 'utc')::date, $2)`, [
      over.tenantId,
      PLANS[plan].quota.pushes,
    ]);
    const alerts = async (tenantId: string) =>
      (
        await db.query<{ type: string; data: Record<string, unknown> }>(
          `select type, data from alerts where tenant_id = $1 and type = 'push_budget_exceeded'`,
          [tenantId],
        )
      ).rows;
    // The budget is read at most every 10 s: sell until the tenant is told.
    let sold = 0;
    await eventually(
      async () => {
        if ((await alerts(over.tenantId)).length > 0) return true;
        if ((await sale(emus, 'eposnow', over.channels.eposnow!.accountId, 'BUD-1', 1)).ok) sold++;
        await new Promise((r) => setTimeout(r, 1000));
        return false;
      },
      30_000,
      'the over-budget alert',
    );
    expect((await alerts(over.tenantId))[0]!.data).toMatchObject({ quota: PLANS[plan].quota.pushes, push_gap_s: GAP_MS / 1000 });
    expect(await alerts(within.tenantId)).toEqual([]);
    await quiescent(h, emus, 30_000);

    // A burst of 8 till sales on each tenant, 250 ms apart (2 s, inside one gap).
    const pushesSince = async (channelId: string, since: Date) =>
      (
        await db.query<{ n: number }>(
          `select count(*)::int as n from sync_events where channel_id = $1 and kind = 'push' and outcome = 'ok' and created_at >= $2`,
          [channelId, since],
        )
      ).rows[0]!.n;
    const start = new Date();
    for (let i = 0; i < 8; i++) {
      expect((await sale(emus, 'eposnow', over.channels.eposnow!.accountId, 'BUD-1', 1)).ok).toBe(true);
      expect((await sale(emus, 'eposnow', within.channels.eposnow!.accountId, 'BUD-1', 1)).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 250));
    }
    // Nothing is lost: both web shops end at what the tills left.
    await eventually(() => held(emus, 'wix', over.channels.wix!.accountId, 'BUD-1')?.qty === 100 - sold - 8, 30_000, 'the over-budget shop to catch up');
    await eventually(() => held(emus, 'wix', within.channels.wix!.accountId, 'BUD-1')?.qty === 92, 30_000, 'the other shop to catch up');
    await quiescent(h, emus, 30_000);
    const overPushes = await pushesSince(over.channels.wix!.channelId, start);
    const withinPushes = await pushesSince(within.channels.wix!.channelId, start);
    // Over budget: at most one push per gap over the burst and its tail; within: one per sale or close.
    expect(overPushes).toBeLessThanOrEqual(2);
    expect(withinPushes).toBeGreaterThanOrEqual(3);
  }, 90_000);
});
