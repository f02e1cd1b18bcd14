// Shopify ids are 64-bit (issue 15): its own sample order id, 820982911946154508, is above 2^53,
// where a JS number rounds. End to end against the Shopify emulator, whose order, line item and
// here inventory item ids are all past 2^53: listings import with their exact ids, pushes land on
// the right item, and a checkout moves the ledger once, on the right item, whichever webhook
// counts the sale. The two items' ids round to the same double, so any rounding shows.
import { readFileSync } from 'node:fs';
import { createHmac } from 'node:crypto';
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

const PINK = 'gid://shopify/InventoryItem/9007199254740993'; // 2^53 + 1: a JS number reads ...992
const BLACK = 'gid://shopify/InventoryItem/9007199254740992';
const items = [
  { sku: 'IPOD2008PINK', name: 'IPod Nano - 8GB', qty: 20, externalId: PINK },
  { sku: 'IPOD2008BLACK', name: 'IPod Nano - 8GB black', qty: 20, externalId: BLACK },
];

const sales = async (t: EmulatedTenant, sku: string) =>
  (
    await h.sc.ctx.db.query(
      `select coalesce(sum(qty_delta), 0)::int as q, count(*)::int as n from stock_movements where tenant_id=$1 and item_id=$2 and reason='sale'`,
      [t.tenantId, t.itemIds.get(sku)],
    )
  ).rows[0] as { q: number; n: number };
const onHand = async (t: EmulatedTenant, sku: string) =>
  (await h.sc.ctx.db.query(`select sum(on_hand)::int as n from stock_levels where tenant_id=$1 and item_id=$2`, [t.tenantId, t.itemIds.get(sku)])).rows[0]
    .n as number;

describe.each(['orders', 'levels'] as const)('Shopify with 64-bit ids, sales counted from %s', (source) => {
  let t: EmulatedTenant;
  beforeAll(async () => {
    t = await emulatedTenant(h, emus, { types: ['shopify'], items, settings: { shopify: { sales_source: source } } });
  });

  it('imports both listings under their exact inventory item ids', async () => {
    expect(t.channels.shopify!.matched).toBe(2);
    const { rows } = await h.sc.ctx.db.query(`select external_id, item_id from listings where tenant_id=$1 and channel_id=$2 order by external_id`, [
      t.tenantId,
      t.channels.shopify!.channelId,
    ]);
    expect(rows).toEqual([
      { external_id: BLACK, item_id: t.itemIds.get('IPOD2008BLACK') },
      { external_id: PINK, item_id: t.itemIds.get('IPOD2008PINK') },
    ]);
  });

  it('a push lands on the right item, and its echo (inventory_levels/update) moves nothing', async () => {
    await recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId: t.itemIds.get('IPOD2008PINK')!, locationId: t.locationId, qtyDelta: -5, reason: 'adjustment' }]);
    await eventually(() => held(emus, 'shopify', t.channels.shopify!.accountId, 'IPOD2008PINK')?.qty === 15, 3000, 'Shopify to hold 15 pink');
    await quiescent(h, emus);
    expect(held(emus, 'shopify', t.channels.shopify!.accountId, 'IPOD2008BLACK')?.qty).toBe(20);
    expect(await onHand(t, 'IPOD2008PINK')).toBe(15);
    expect(await onHand(t, 'IPOD2008BLACK')).toBe(20);
  });

  it('a checkout (64-bit order, line item and inventory item ids) moves the right item once', async () => {
    const r = await sale(emus, 'shopify', t.channels.shopify!.accountId, 'IPOD2008PINK', 2);
    expect(r.ok).toBe(true);
    expect(BigInt((r.body as { order_id: string }).order_id)).toBeGreaterThan(2n ** 53n);
    await eventually(async () => (await onHand(t, 'IPOD2008PINK')) === 13, 3000, 'the sale to be applied');
    await quiescent(h, emus);
    expect(await sales(t, 'IPOD2008PINK')).toEqual({ q: -2, n: 1 });
    expect(await sales(t, 'IPOD2008BLACK')).toEqual({ q: 0, n: 0 });
    expect(await onHand(t, 'IPOD2008BLACK')).toBe(20);
    expect(held(emus, 'shopify', t.channels.shopify!.accountId, 'IPOD2008BLACK')?.qty).toBe(20);
    // Nothing refused at the door: every delivery was read.
    const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id=$1`, [t.tenantId]);
    expect(rows[0].n).toBeGreaterThanOrEqual(2);
  });
});

describe("Shopify's documented orders/create sample", () => {
  it('correctly signed, is accepted (200) and becomes one sale movement of IPOD2008PINK', async () => {
    const t = await emulatedTenant(h, emus, { types: ['shopify'], items });
    const body = readFileSync(new URL('../../src/channels/shopify/fixtures/orders-create-sample.json', import.meta.url));
    const post = () =>
      fetch(`${h.url}/webhooks/shopify/${t.channels.shopify!.channelId}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-shop-domain': 'sample.myshopify.com',
          'x-shopify-api-version': '2026-01',
          'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
          'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
          'x-shopify-triggered-at': new Date().toISOString(),
          'x-shopify-hmac-sha256': createHmac('sha256', t.channels.shopify!.account.webhookSecret).update(body).digest('base64'),
        },
        body,
      });
    const res = await post();
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ received: 1, duplicates: 0 });
    await eventually(async () => (await onHand(t, 'IPOD2008PINK')) === 19, 3000, 'the sample sale to be applied');
    await quiescent(h, emus);
    expect(await sales(t, 'IPOD2008PINK')).toEqual({ q: -1, n: 1 });
    expect(await sales(t, 'IPOD2008BLACK')).toEqual({ q: 0, n: 0 });
    const { rows } = await h.sc.ctx.db.query(`select event from channel_events where tenant_id=$1 and kind='order'`, [t.tenantId]);
    expect(JSON.stringify(rows)).toContain('gid://shopify/Order/820982911946154508');
    // Shopify's retry of the same event changes nothing.
    const again = await post();
    expect(await again.json()).toEqual({ received: 0, duplicates: 1 });
  });
});
