// Square end to end: a seller connected the way the demo connects one (a personal access token and
// the webhook subscription's signature key, listings imported and matched by SKU), a sale at the
// Square register heard by its signed inventory.count.updated notification (delivered twice) and
// by the counts poll, counted once, and followed by the till; a till sale pushed to Square as a
// physical count whose own notification moves nothing; notifications that are unsigned, tampered
// or signed with another key refused over HTTP with nothing stored.
import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countJson, countKey, type SquareAccount } from '../../emulators/square/store.ts';
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

describe('Square', () => {
  it('a Square sale moves the ledger once and reaches the till; a till sale reaches Square; duplicates and bad notifications move nothing', async () => {
    const t = await emulatedTenant(h, emus, { types: ['square', 'eposnow'], items: [{ sku: 'LOAF-1', name: 'Sourdough', qty: 10 }] });
    const square = t.channels.square!;
    const epos = t.channels.eposnow!;
    expect(square.matched).toBe(1);
    const db = h.sc.ctx.db;
    const onHand = async () => (await db.query(`select on_hand from stock_levels where tenant_id=$1`, [t.tenantId])).rows[0].on_hand as number;
    const events = async () =>
      (await db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and channel_id=$2`, [t.tenantId, square.channelId])).rows[0]
        .n as number;
    const sales = async () =>
      (await db.query(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='sale'`, [t.tenantId])).rows[0].n as number;
    await eventually(
      async () => (await db.query(`select poll_cursor from channels where id=$1`, [square.channelId])).rows[0].poll_cursor !== null,
      10_000,
      'first poll',
    );

    // Notifications that are not Square's: refused, nothing recorded.
    const url = `${h.url}/webhooks/square/${square.channelId}`;
    const key = square.account.channel.webhook_signature_key!;
    const acc = emus.square.accounts.get(square.accountId) as SquareAccount;
    const variation = acc.variations[0]!;
    const forged = JSON.stringify({
      merchant_id: acc.merchantId,
      type: 'inventory.count.updated',
      event_id: randomUUID(),
      created_at: new Date().toISOString(),
      data: {
        type: 'inventory_counts',
        id: randomUUID(),
        object: {
          inventory_counts: [
            {
              catalog_object_id: variation.id,
              catalog_object_type: 'ITEM_VARIATION',
              state: 'IN_STOCK',
              location_id: acc.locations[0]!.id,
              quantity: '1',
              calculated_at: new Date(Date.now() + 60_000).toISOString(),
            },
          ],
        },
      },
    });
    const post = (b: string, sig?: string) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(sig ? { 'x-square-hmacsha256-signature': sig } : {}) }, body: b });
    const sign = (b: string, k = key, u = url) =>
      createHmac('sha256', k)
        .update(u + b)
        .digest('base64');
    const before = await events();
    expect((await post(forged)).status).toBe(401);
    expect((await post(forged.replace('"quantity":"1"', '"quantity":"2"'), sign(forged))).status).toBe(401);
    expect((await post(forged, sign(forged, 'not-the-key'))).status).toBe(401);
    expect((await post(forged, sign(forged, key, `${h.url}/webhooks/square/ch_other`))).status).toBe(401);
    expect(await events()).toBe(before);
    expect(await onHand()).toBe(10);

    // A sale at the Square register, its notification delivered twice: one movement.
    await fetch(`${emus.square.url}/_control/knobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicateRate: 1 }),
    });
    const s = await sale(emus, 'square', square.accountId, 'LOAF-1', 3);
    expect(s.ok).toBe(true);
    await eventually(async () => (await onHand()) === 7, 10_000, 'the Square sale to reach the ledger');
    await eventually(async () => held(emus, 'eposnow', epos.accountId, 'LOAF-1')?.qty === 7, 10_000, 'the till to hold 7');
    await emus.square.drain();
    await fetch(`${emus.square.url}/_control/knobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ duplicateRate: 0 }),
    });

    // The same count delivered again later, correctly signed (a replay: Square sends no timestamp):
    // recorded under the id it already has, nothing moves.
    const count = acc.counts[countKey(variation.id, acc.locations[0]!.id)]!;
    const replay = JSON.stringify({
      merchant_id: acc.merchantId,
      type: 'inventory.count.updated',
      event_id: randomUUID(),
      created_at: new Date().toISOString(),
      data: { type: 'inventory_counts', id: randomUUID(), object: { inventory_counts: [countJson(count)] } },
    });
    expect((await post(replay, sign(replay))).status).toBeLessThan(300);
    const recorded = await db.query(`select count(*)::int as n from channel_events where tenant_id=$1 and channel_id=$2 and external_event_id=$3`, [
      t.tenantId,
      square.channelId,
      `count:${variation.id}:${acc.locations[0]!.id}:${count.calculatedAt}`,
    ]);
    expect(recorded.rows[0].n).toBe(1);
    expect(await onHand()).toBe(7);

    // A till sale: Square is told the new count; the notification of our own count is an echo.
    expect((await sale(emus, 'eposnow', epos.accountId, 'LOAF-1', 2)).ok).toBe(true);
    await eventually(async () => held(emus, 'square', square.accountId, 'LOAF-1')?.qty === 5, 10_000, 'Square to hold 5');
    await emus.square.drain();
    // Later polls and notification retries see the counts again: still one sale from Square.
    await new Promise((r) => setTimeout(r, 2000));
    expect(await onHand()).toBe(5);
    expect(await sales()).toBe(2);
    expect(held(emus, 'eposnow', epos.accountId, 'LOAF-1')?.qty).toBe(5);
  });
});
