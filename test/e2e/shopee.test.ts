// Shopee end to end: a shop connected the way the demo connects one (partner keys + the shop's
// token pair, listings imported and matched by SKU), a Shopee sale heard by its signed push (re-read
// through the API) and by the order poll, counted once, and followed by the till; a till sale pushed
// to Shopee; pushes that are unsigned, tampered or stale refused over HTTP with nothing stored.
import { createHmac } from 'node:crypto';
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

describe('Shopee', () => {
  it('a Shopee sale moves the ledger once and reaches the till; a till sale reaches Shopee; bad pushes store nothing', async () => {
    const t = await emulatedTenant(h, emus, { types: ['shopee', 'eposnow'], items: [{ sku: 'BAG-1', name: 'Bag', qty: 10 }] });
    const shopee = t.channels.shopee!;
    const epos = t.channels.eposnow!;
    expect(shopee.matched).toBe(1);
    const db = h.sc.ctx.db;
    const onHand = async () => (await db.query(`select on_hand from stock_levels where tenant_id=$1`, [t.tenantId])).rows[0].on_hand as number;
    const events = async () =>
      (await db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and channel_id=$2`, [t.tenantId, shopee.channelId])).rows[0]
        .n as number;
    await eventually(
      async () => (await db.query(`select poll_cursor from channels where id=$1`, [shopee.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'first poll',
    );

    // Pushes that are not Shopee's: refused, nothing recorded.
    const url = `${h.url}/webhooks/shopee/${shopee.channelId}`;
    const key = shopee.account.channel.partner_key!;
    const body = JSON.stringify({
      shop_id: Number(shopee.account.channel.shop_id),
      code: 3,
      timestamp: Math.floor(Date.now() / 1000),
      data: { ordersn: 'FORGED1', status: 'READY_TO_SHIP' },
    });
    const post = (b: string, auth?: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: b });
    const sign = (b: string) => createHmac('sha256', key).update(`${url}|${b}`).digest('hex');
    const before = await events();
    expect((await post(body)).status).toBe(401);
    expect((await post(body.replace('FORGED1', 'FORGED2'), sign(body))).status).toBe(401);
    const stale = body.replace(/"timestamp":\d+/, `"timestamp":${Math.floor(Date.now() / 1000) - 600}`);
    const staleRes = await post(stale, sign(stale));
    expect(staleRes.status).toBe(401);
    expect(((await staleRes.json()) as { error: { code: string } }).error.code).toBe('stale_timestamp');
    expect(await events()).toBe(before);

    // A sale on Shopee: one movement, whichever of push and poll sees it first.
    const s = await sale(emus, 'shopee', shopee.accountId, 'BAG-1', 3);
    expect(s.ok).toBe(true);
    await eventually(async () => (await onHand()) === 7, 10_000, 'the Shopee order to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', epos.accountId, 'BAG-1')?.qty === 7, 10_000, 'the till to hold 7');
    const orderSn = (s.body as { order_sn: string }).order_sn;
    const rec = await db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and channel_id=$2 and external_event_id=$3`, [
      t.tenantId,
      shopee.channelId,
      `order:${orderSn}`,
    ]);
    expect(rec.rows[0].n).toBe(1);

    expect((await sale(emus, 'eposnow', epos.accountId, 'BAG-1', 2)).ok).toBe(true);
    await eventually(async () => held(emus, 'shopee', shopee.accountId, 'BAG-1')?.qty === 5, 10_000, 'Shopee to hold 5');
    // Later polls and push retries see the order again: still one sale from Shopee.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await onHand()).toBe(5);
    const { rows } = await db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [t.tenantId]);
    expect(rows[0].n).toBe(2);
  });
});
