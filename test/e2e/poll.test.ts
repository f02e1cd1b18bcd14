// The Watcher's safety net: a channel whose webhooks never arrive is still heard, by polling.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, sale } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  h = await startHarness({ tuning: { pollIntervalS: 1, quietAfterS: 60, quietPollIntervalS: 3600 } });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('polling', () => {
  it('applies an Epos Now till sale whose webhook was lost, exactly once', async () => {
    const t = await emulatedTenant(h, emus, { types: ['eposnow'], items: [{ sku: 'P-1', name: 'Pie', qty: 10 }] });
    const ch = t.channels.eposnow!;
    const onHand = async () => (await h.sc.ctx.db.query(`select on_hand from stock_levels where tenant_id=$1`, [t.tenantId])).rows[0].on_hand as number;
    // The first poll sets the cursor at the till's newest transaction.
    await eventually(
      async () => (await h.sc.ctx.db.query(`select poll_cursor from channels where id=$1`, [ch.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'first poll',
    );
    await fetch(`${emus.eposnow.url}/_control/accounts/${ch.accountId}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: null }),
    });
    expect((await sale(emus, 'eposnow', ch.accountId, 'P-1', 3)).ok).toBe(true);
    await eventually(async () => (await onHand()) === 7, 10_000, 'the polled sale to reach the ledger');
    // Later polls see the same transaction again, or none: still applied once.
    await new Promise((r) => setTimeout(r, 2500));
    expect(await onHand()).toBe(7);
    const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [t.tenantId]);
    expect(rows[0].n).toBe(1);
  });

  it('polls a quiet channel (nothing of it moved for quietAfterS) far less often, and at the normal pace again once its tenant sells', async () => {
    const quiet = await emulatedTenant(h, emus, { types: ['eposnow', 'wix'], items: [{ sku: 'Q-1', name: 'Quiet', qty: 10 }] });
    const busy = await emulatedTenant(h, emus, { types: ['eposnow'], items: [{ sku: 'B-1', name: 'Busy', qty: 10 }] });
    const db = h.sc.ctx.db;
    const polledAt = async (channelId: string) =>
      (await db.query<{ at: Date | null }>(`select last_polled_at as at from channels where id = $1`, [channelId])).rows[0]!.at?.getTime() ?? 0;
    // Both tills have been polled once (the poll done, not only claimed: the job stamps
    // last_polled_at again when it saves its cursor); then the quiet tenant's shop sits idle for an hour.
    const firstPollDone = async (channelId: string) =>
      (
        await db.query<{ done: boolean }>(
          `select c.last_polled_at is not null and c.poll_cursor is not null and not exists (select 1 from graphile_worker._private_jobs j where j.key = 'poll:' || c.id)
                  and not exists (select 1 from job_outbox o where o.job_key = 'poll:' || c.id) as done
           from channels c where c.id = $1`,
          [channelId],
        )
      ).rows[0]!.done;
    for (const t of [quiet, busy]) await eventually(() => firstPollDone(t.channels.eposnow!.channelId), 10_000, 'a first poll');
    await db.query(`update channels set created_at = now() - interval '1 day', last_sync_at = now() - interval '1 hour' where tenant_id = $1`, [
      quiet.tenantId,
    ]);
    const quietBefore = await polledAt(quiet.channels.eposnow!.channelId);
    const busyBefore = await polledAt(busy.channels.eposnow!.channelId);
    await new Promise((r) => setTimeout(r, 3000));
    // The busy till (connected a moment ago) was polled again at the 1 s pace; the quiet one was not.
    expect(await polledAt(busy.channels.eposnow!.channelId)).toBeGreaterThan(busyBefore);
    expect(await polledAt(quiet.channels.eposnow!.channelId)).toBe(quietBefore);
    // A sale in its web shop touches the till's listing too (the push signal reaches every channel
    // listing the item): the till is polled at the normal pace again.
    expect((await sale(emus, 'wix', quiet.channels.wix!.accountId, 'Q-1', 1)).ok).toBe(true);
    await eventually(async () => (await polledAt(quiet.channels.eposnow!.channelId)) > quietBefore, 10_000, 'the till to be polled again');
  }, 60_000);
});
