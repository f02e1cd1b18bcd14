// `stockclerk api` (an API process without workers) relays its own outbox rows into the job queue
// at once, so the worker processes are told of new work without waiting for their own relay's poll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, sale } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;

beforeAll(async () => {
  h = await startHarness({ worker: false, relay: true });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('an API-only process', () => {
  it('moves the apply job a webhook caused into the job queue itself', async () => {
    const t = await emulatedTenant(h, emus, { types: ['wix'], items: [{ sku: 'A', name: 'A', qty: 5 }] });
    expect((await sale(emus, 'wix', t.channels.wix!.accountId, 'A')).ok).toBe(true);
    const channelId = t.channels.wix!.channelId;
    await eventually(
      async () => (await h.sc.ctx.db.query(`select 1 from graphile_worker.jobs where key = $1`, [`apply:${channelId}`])).rowCount === 1,
      5000,
      'the apply job in the queue',
    );
    // Empty soon after, not at once: the sale's second webhook (Wix sends more than one) can add a
    // row just after the first was moved, and that row is moved the same way (CI met exactly that).
    const outbox = async () =>
      (await h.sc.ctx.db.query<{ n: number }>(`select count(*)::int as n from job_outbox where job_key = $1`, [`apply:${channelId}`])).rows[0]!.n;
    await eventually(async () => (await outbox()) === 0, 2000, 'the outbox to be empty');
    expect(await outbox()).toBe(0);
  });
});
