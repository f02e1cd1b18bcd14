// WooCommerce end to end: a store connected the way the demo connects one (REST API key pair,
// order webhooks pointed at StockClerk, listings imported and matched by SKU). A WooCommerce sale
// (order.created + order.updated, some delivered twice) is one movement and the till follows; a
// till sale reaches WooCommerce through the batch endpoint; a replayed delivery moves nothing;
// forged deliveries are refused with nothing stored, the creation ping is answered 200 with nothing
// stored; and once WooCommerce has disabled the webhook after failed deliveries, sales still arrive
// through the order poll.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API } from '../../emulators/woocommerce/index.ts';
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

describe('WooCommerce', () => {
  it('a WooCommerce sale moves the ledger once and reaches the till; a till sale reaches WooCommerce; replays and forgeries move nothing; a disabled webhook is covered by the poll', async () => {
    const t = await emulatedTenant(h, emus, {
      types: ['woocommerce', 'eposnow'],
      items: [
        { sku: 'CAKE-1', name: 'Cake', qty: 20 },
        { sku: 'TEE-S', name: 'Tee S', qty: 10, externalId: '700:701' },
      ],
    });
    const woo = t.channels.woocommerce!;
    const epos = t.channels.eposnow!;
    expect(woo.matched).toBe(2);
    const db = h.sc.ctx.db;
    const onHand = async (sku: string) =>
      (
        await db.query(
          `select s.on_hand from stock_levels s join items i on i.tenant_id = s.tenant_id and i.id = s.item_id where s.tenant_id=$1 and i.sku=$2`,
          [t.tenantId, sku],
        )
      ).rows[0].on_hand as number;
    const events = async () =>
      (await db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and channel_id=$2`, [t.tenantId, woo.channelId])).rows[0].n as number;
    const sales = async () =>
      (await db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [t.tenantId])).rows[0].n as number;
    await eventually(
      async () => (await db.query(`select poll_cursor from channels where id=$1`, [woo.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'first poll',
    );

    // Deliveries that are not WooCommerce's: refused, nothing recorded. The creation ping: 200, nothing recorded.
    const url = `${h.url}/webhooks/woocommerce/${woo.channelId}`;
    const secret = woo.account.webhookSecret;
    const order = {
      id: 99001,
      status: 'processing',
      date_created_gmt: '2026-12-06T10:00:00',
      date_modified_gmt: '2026-12-06T10:00:00',
      line_items: [{ id: 1, product_id: 10, variation_id: 0, sku: 'CAKE-1', quantity: 5 }],
    };
    const body = JSON.stringify(order);
    const sign = (b: string, key = secret) => createHmac('sha256', key).update(b).digest('base64');
    const post = (b: string, headers: Record<string, string>) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
    const wc = (sig?: string) => ({
      'x-wc-webhook-topic': 'order.created',
      'x-wc-webhook-resource': 'order',
      'x-wc-webhook-event': 'created',
      'x-wc-webhook-id': '1',
      'x-wc-webhook-delivery-id': 'f'.repeat(32),
      ...(sig ? { 'x-wc-webhook-signature': sig } : {}),
    });
    const before = await events();
    expect((await post(body, wc())).status).toBe(401);
    expect((await post(body.replace('"quantity":5', '"quantity":50'), wc(sign(body)))).status).toBe(401);
    expect((await post(body, wc(sign(body, 'not-the-secret')))).status).toBe(401);
    const ping = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'webhook_id=1' });
    expect(ping.status).toBe(200);
    expect(await events()).toBe(before);
    expect(await onHand('CAKE-1')).toBe(20);

    // A sale on WooCommerce, each delivery sent twice: one movement; the till follows.
    emus.woocommerce.knobs = { ...emus.woocommerce.knobs, duplicateRate: 1 };
    const s = await sale(emus, 'woocommerce', woo.accountId, 'CAKE-1', 3);
    expect(s.ok).toBe(true);
    const orderId = (s.body as { order_id: number }).order_id;
    await eventually(async () => (await onHand('CAKE-1')) === 17, 10_000, 'the WooCommerce order to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', epos.accountId, 'CAKE-1')?.qty === 17, 10_000, 'the till to hold 17');
    emus.woocommerce.knobs = { ...emus.woocommerce.knobs, duplicateRate: 0 };
    const rec = await db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and channel_id=$2 and external_event_id=$3`, [
      t.tenantId,
      woo.channelId,
      `order:${orderId}`,
    ]);
    expect(rec.rows[0].n).toBe(1);

    // The same delivery replayed later (a captured request sent again): a duplicate, nothing moves.
    const auth = `Basic ${Buffer.from(`${woo.account.channel.consumer_key}:${woo.account.channel.consumer_secret}`).toString('base64')}`;
    const replayBody = await (await fetch(`${emus.woocommerce.url}${API}/orders/${orderId}`, { headers: { authorization: auth } })).text();
    const replay = await post(replayBody, { ...wc(sign(replayBody)), 'x-wc-webhook-topic': 'order.updated' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ received: 0, duplicates: 1 });

    // A variation sold: matched by its (product, variation) id.
    expect((await sale(emus, 'woocommerce', woo.accountId, 'TEE-S', 2)).ok).toBe(true);
    await eventually(async () => (await onHand('TEE-S')) === 8, 10_000, 'the variation sale to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', epos.accountId, 'TEE-S')?.qty === 8, 10_000, 'the till to hold 8 tees');

    // A till sale reaches WooCommerce.
    expect((await sale(emus, 'eposnow', epos.accountId, 'CAKE-1', 2)).ok).toBe(true);
    await eventually(async () => held(emus, 'woocommerce', woo.accountId, 'CAKE-1')?.qty === 15, 10_000, 'WooCommerce to hold 15');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await onHand('CAKE-1')).toBe(15);
    expect(await sales()).toBe(3);

    // StockClerk unreachable for WooCommerce: after 7 failed deliveries in a row it disables the
    // webhooks; the sales made meanwhile, and after, arrive through the order poll.
    await fetch(`${emus.woocommerce.url}/_control/accounts/${woo.accountId}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: 'http://127.0.0.1:9/unreachable' }),
    });
    for (let i = 0; i < 7; i++) expect((await sale(emus, 'woocommerce', woo.accountId, 'CAKE-1', 1)).ok).toBe(true);
    await emus.woocommerce.drain();
    const hooks = (await (await fetch(`${emus.woocommerce.url}${API}/webhooks`, { headers: { authorization: auth } })).json()) as Array<{ status: string }>;
    expect(hooks.map((w) => w.status)).toEqual(['disabled', 'disabled']);
    await fetch(`${emus.woocommerce.url}/_control/accounts/${woo.accountId}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url }),
    });
    expect((await sale(emus, 'woocommerce', woo.accountId, 'CAKE-1', 1)).ok).toBe(true);
    await eventually(async () => (await onHand('CAKE-1')) === 7, 15_000, 'the polled sales to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', epos.accountId, 'CAKE-1')?.qty === 7, 10_000, 'the till to hold 7');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await onHand('CAKE-1')).toBe(7);
    expect(await sales()).toBe(11);
  });
});
