// eBay at the HTTP edge of a running StockClerk: the endpoint-validation challenge through the real
// GET /webhooks/:type/:id route (404 for a platform without one), and a sale's ORDER_CONFIRMATION
// verified, turned into its order event and applied once.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let shop: EmulatedTenant;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  shop = await emulatedTenant(h, emus, { types: ['ebay', 'eposnow'], items: [{ sku: 'MUG-1', name: 'Mug', qty: 20 }] });
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const endpoint = () => `${h.url}/webhooks/ebay/${shop.channels.ebay!.channelId}`;

describe('eBay endpoint validation', () => {
  it('answers the challenge as eBay computes it, for the endpoint URL eBay was given', async () => {
    const token = shop.channels.ebay!.account.webhookSecret;
    const res = await fetch(`${endpoint()}?challenge_code=abc123`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challengeResponse: createHash('sha256').update('abc123').update(token).update(endpoint()).digest('hex') });
    // eBay's own check (the emulator's destination endpoint runs the challenge against our route).
    const dest = async (verificationToken: string) =>
      (
        await fetch(`${emus.ebay.url}/_control/accounts/${shop.channels.ebay!.accountId}/destination`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ url: endpoint(), verificationToken }),
        })
      ).json();
    expect(await dest(token)).toMatchObject({ ok: true });
    expect(await dest(`${token}x`)).toMatchObject({ ok: false });
  });

  it('is 404 for a platform without a challenge, an unknown channel, and 400 without a challenge code', async () => {
    expect((await fetch(`${h.url}/webhooks/eposnow/${shop.channels.eposnow!.channelId}?challenge_code=x`)).status).toBe(404);
    expect((await fetch(`${h.url}/webhooks/ebay/ch_nope?challenge_code=x`)).status).toBe(404);
    expect((await fetch(`${h.url}/webhooks/no-such-type/ch_nope?challenge_code=x`)).status).toBe(404);
    const bare = await fetch(endpoint());
    expect(bare.status).toBe(400);
    expect(((await bare.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
  });
});

describe('eBay sales', () => {
  it('an ORDER_CONFIRMATION is verified, recorded under order:<id> and moves the ledger once; the other channel follows', async () => {
    const s = await sale(emus, 'ebay', shop.channels.ebay!.accountId, 'MUG-1', 2);
    expect(s.ok).toBe(true);
    const orderId = (s.body as { orderId: string }).orderId;
    await quiescent(h, emus);
    const { rows } = await h.sc.ctx.db.query(`select external_event_id, outcome from channel_events where tenant_id = $1 and channel_id = $2`, [
      shop.tenantId,
      shop.channels.ebay!.channelId,
    ]);
    // The notification was accepted (2xx) and left no row of its own: it was recorded as the order itself.
    expect(emus.ebay.stats).toMatchObject({ webhooksSent: 1, webhooksFailed: 0 });
    expect(rows).toEqual([{ external_event_id: `order:${orderId}`, outcome: 'applied' }]);
    const moved = await h.sc.ctx.db.query(`select qty_delta from stock_movements where tenant_id = $1 and reason = 'sale'`, [shop.tenantId]);
    expect(moved.rows.map((r) => Number(r.qty_delta))).toEqual([-2]);
    expect(held(emus, 'eposnow', shop.channels.eposnow!.accountId, 'MUG-1')?.qty).toBe(18);
    expect(held(emus, 'ebay', shop.channels.ebay!.accountId, 'MUG-1')?.qty).toBe(18);
  });
});
