// Etsy end to end: a shop connected the way the demo connects one (app key + the seller's token
// pair, listings imported and matched by SKU), its sales heard by polling receipts (Etsy sends no
// webhooks), and a sale elsewhere pushed to it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale } from '../helpers/tenant.ts';

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

describe('Etsy', () => {
  it('a receipt on Etsy moves the ledger once and reaches the till; a till sale reaches Etsy', async () => {
    const t = await emulatedTenant(h, emus, { types: ['etsy', 'eposnow'], items: [{ sku: 'MUG-1', name: 'Mug', qty: 10 }] });
    const etsy = t.channels.etsy!;
    const epos = t.channels.eposnow!;
    expect(etsy.matched).toBe(1);
    const onHand = async () => (await h.sc.ctx.db.query(`select on_hand from stock_levels where tenant_id=$1`, [t.tenantId])).rows[0].on_hand as number;
    await eventually(
      async () => (await h.sc.ctx.db.query(`select poll_cursor from channels where id=$1`, [etsy.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'first poll',
    );
    expect((await sale(emus, 'etsy', etsy.accountId, 'MUG-1', 3)).ok).toBe(true);
    await eventually(async () => (await onHand()) === 7, 10_000, 'the Etsy receipt to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', epos.accountId, 'MUG-1')?.qty === 7, 10_000, 'the till to hold 7');
    expect((await sale(emus, 'eposnow', epos.accountId, 'MUG-1', 2)).ok).toBe(true);
    await eventually(async () => held(emus, 'etsy', etsy.accountId, 'MUG-1')?.qty === 5, 10_000, 'Etsy to hold 5');
    // Later polls see the receipt again or not at all: still one sale from Etsy.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await onHand()).toBe(5);
    const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [t.tenantId]);
    expect(rows[0].n).toBe(2);
  });
});
