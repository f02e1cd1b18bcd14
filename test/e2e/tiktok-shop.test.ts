// TikTok Shop end to end: a shop connected the way the demo connects one (app key pair + the
// seller's tokens, SKUs imported and matched), a sale on TikTok Shop heard (signed webhook that
// re-reads the order, and the order poll) and recorded as exactly one movement that every other
// channel follows; unsigned, tampered and stale webhooks refused with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tiktokShopWebhookSign } from '../../emulators/tiktok_shop/index.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let t: EmulatedTenant;
beforeAll(async () => {
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  emus = await startEmulators();
  t = await emulatedTenant(h, emus, { types: ['tiktok_shop', 'eposnow', 'etsy'], items: [{ sku: 'CAP-1', name: 'Cap', qty: 10 }] });
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const q = async (sql: string) => (await h.sc.ctx.db.query(sql, [t.tenantId])).rows[0];
const stored = async () => (await q(`select count(*)::int as n from channel_events where tenant_id=$1`)).n as number;
const sales = async () => (await q(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`)).n as number;
const onHand = async () => (await q(`select on_hand from stock_levels where tenant_id=$1`)).on_hand as number;

describe('TikTok Shop', () => {
  it('refuses unsigned, tampered and stale webhooks and stores nothing', async () => {
    const ch = t.channels.tiktok_shop!;
    const url = `${h.url}/webhooks/tiktok_shop/${ch.channelId}`;
    const { app_key, app_secret } = ch.account.account as { app_key: string; app_secret: string };
    const body = (ts: number) =>
      JSON.stringify({ type: 1, tts_notification_id: '7301', shop_id: '1', timestamp: ts, data: { order_id: '1', order_status: 'AWAITING_SHIPMENT' } });
    const post = (b: string, auth?: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) }, body: b }).then((r) => r.status);
    const now = Math.floor(Date.now() / 1000);
    const before = await stored();
    expect(await post(body(now))).toBe(401);
    expect(await post(body(now).replace('7301', '7302'), tiktokShopWebhookSign(app_key, app_secret, body(now)))).toBe(401);
    expect(await post(body(now - 3600), tiktokShopWebhookSign(app_key, app_secret, body(now - 3600)))).toBe(401);
    expect(await stored()).toBe(before);
  });

  it('a TikTok Shop sale becomes exactly one movement and every other channel follows', async () => {
    const tts = t.channels.tiktok_shop!;
    expect(tts.matched).toBe(1);
    await eventually(
      async () => (await q(`select poll_cursor from channels where id='${tts.channelId}' and tenant_id=$1`)).poll_cursor !== null,
      10_000,
      'first poll',
    );
    expect((await sale(emus, 'tiktok_shop', tts.accountId, 'CAP-1', 3)).ok).toBe(true);
    await eventually(async () => (await onHand()) === 7, 10_000, 'the TikTok Shop order to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', t.channels.eposnow!.accountId, 'CAP-1')?.qty === 7, 10_000, 'the till to hold 7');
    await eventually(async () => held(emus, 'etsy', t.channels.etsy!.accountId, 'CAP-1')?.qty === 7, 10_000, 'Etsy to hold 7');
    // A sale elsewhere reaches TikTok Shop.
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, 'CAP-1', 2)).ok).toBe(true);
    await eventually(async () => held(emus, 'tiktok_shop', tts.accountId, 'CAP-1')?.qty === 5, 10_000, 'TikTok Shop to hold 5');
    // The webhook and later polls see the order again: still one sale from TikTok Shop.
    await emus.tiktok_shop.drain();
    await new Promise((r) => setTimeout(r, 2000));
    expect(await onHand()).toBe(5);
    expect(await sales()).toBe(2);
  });
});
