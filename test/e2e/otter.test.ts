// Otter end to end: a store connected the way the demo connects one (client credentials, the
// store id, menu items imported and matched by SKU), an Otter order heard by its signed webhook
// (delivered twice) and recorded as exactly one movement that the till follows; a till sale that
// takes stock to 0 suspends the item on Otter; a cancelled Otter order gives the stock back once
// and the item comes back; a lost webhook recovered by the order feed; unsigned, tampered and
// wrongly keyed webhooks refused with nothing stored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { otterSignature, type OtterOrder, type OtterStore } from '../../emulators/otter/index.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { watcherPoll } from '../../src/engine/watcher.ts';
import { eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let t: EmulatedTenant;
beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  t = await emulatedTenant(h, emus, { types: ['otter', 'eposnow'], items: [{ sku: 'BUN-1', name: 'Cinnamon bun', qty: 3 }] });
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const q = async (sql: string) => (await h.sc.ctx.db.query(sql, [t.tenantId])).rows[0];
const stored = async () => (await q(`select count(*)::int as n from channel_events where tenant_id=$1`)).n as number;
const movements = async (reason: string) => (await q(`select count(*)::int as n from stock_movements where tenant_id=$1 and reason='${reason}'`)).n as number;
const onHand = async () => (await q(`select on_hand from stock_levels where tenant_id=$1`)).on_hand as number;
const otterHolds = () => held(emus, 'otter', t.channels.otter!.accountId, 'BUN-1');
const tillHolds = () => held(emus, 'eposnow', t.channels.eposnow!.accountId, 'BUN-1')?.qty;

describe('Otter', () => {
  it('refuses unsigned, tampered and wrongly keyed webhooks and stores nothing', async () => {
    const ch = t.channels.otter!;
    const url = `${h.url}/webhooks/otter/${ch.channelId}`;
    const body = JSON.stringify({
      eventId: 'evt-forged',
      eventTime: new Date().toISOString(),
      eventType: 'orders.new_order',
      metadata: {
        storeId: ch.accountId,
        payload: {
          externalIdentifiers: { id: 'forged-1', friendlyId: 'F' },
          status: 'NEW_ORDER',
          items: [{ id: 'x', quantity: 3 }],
          orderedAt: new Date().toISOString(),
        },
      },
    });
    const post = (b: string, headers: Record<string, string> = {}) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b }).then((r) => r.status);
    const secret = ch.account.webhookSecret;
    const before = await stored();
    expect(await post(body)).toBe(401);
    expect(await post(body.replace('"quantity":3', '"quantity":30'), { 'x-hmac-sha256': otterSignature(secret, body) })).toBe(401);
    expect(await post(body, { 'x-hmac-sha256': otterSignature('not-the-secret', body) })).toBe(401);
    expect(await post(body, { authorization: `MAC ${otterSignature('not-the-secret', body, 'sha1')}` })).toBe(401);
    expect(await stored()).toBe(before);
    expect(await onHand()).toBe(3);
  });

  it('an Otter order is one movement (delivered twice), the till follows; a till sale to 0 suspends the item; a cancellation gives it back once', async () => {
    const otter = t.channels.otter!;
    expect(otter.matched).toBe(1);
    expect(otterHolds()).toMatchObject({ qty: null, available: true });
    // Every webhook is delivered twice.
    emus.otter.knobs = { ...emus.otter.knobs, duplicateRate: 1 };
    let order: OtterOrder;
    try {
      const r = await sale(emus, 'otter', otter.accountId, 'BUN-1', 2);
      expect(r.ok).toBe(true);
      order = (r.body as { order: OtterOrder }).order;
      await eventually(async () => (await onHand()) === 1, 10_000, 'the Otter order to reach the ledger');
      await eventually(() => tillHolds() === 1, 10_000, 'the till to hold 1');
      await emus.otter.drain();
    } finally {
      emus.otter.knobs = { ...emus.otter.knobs, duplicateRate: 0 };
    }
    expect(emus.otter.stats.webhooksSent).toBeGreaterThanOrEqual(2);
    await new Promise((r) => setTimeout(r, 500));
    expect(await onHand()).toBe(1);
    expect(await movements('sale')).toBe(1);
    // Still sellable (1 left): Otter keeps the item on sale.
    expect(otterHolds()?.available).toBe(true);

    // The last one sells on the till: Otter suspends the item.
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, 'BUN-1', 1)).ok).toBe(true);
    await eventually(async () => (await onHand()) === 0, 10_000, 'the till sale to reach the ledger');
    await eventually(() => otterHolds()?.available === false, 15_000, 'the item suspended on Otter');
    const item = [...(emus.otter.accounts.get(otter.accountId) as OtterStore).items.values()].find((i) => i.skuSlug === 'BUN-1');
    expect(item?.saleStatus).toBe('INDEFINITELY_NOT_FOR_SALE');
    // Customers can no longer order it.
    expect((await sale(emus, 'otter', otter.accountId, 'BUN-1', 1)).status).toBe(409);

    // The Otter order is cancelled: its 2 come back once (the update is also delivered twice), the item is back on sale.
    emus.otter.knobs = { ...emus.otter.knobs, duplicateRate: 1 };
    try {
      const c = await fetch(`${emus.otter.url}/_control/accounts/${otter.accountId}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ orderId: order.externalIdentifiers.id }),
      });
      expect(c.status).toBe(200);
      await eventually(async () => (await onHand()) === 2, 10_000, 'the cancellation to reach the ledger');
      await emus.otter.drain();
    } finally {
      emus.otter.knobs = { ...emus.otter.knobs, duplicateRate: 0 };
    }
    await eventually(() => otterHolds()?.available === true, 15_000, 'the item back on sale on Otter');
    await eventually(() => tillHolds() === 2, 10_000, 'the till to hold 2');
    await new Promise((r) => setTimeout(r, 500));
    expect(await onHand()).toBe(2);
    expect(await movements('sale')).toBe(2);
    expect(await movements('return')).toBe(1);
  });

  it('an order whose webhook is lost is recovered from the order feed, counted once', async () => {
    const otter = t.channels.otter!;
    const ids = { tenantId: t.tenantId, channelId: otter.channelId };
    const cursor = async () =>
      (await h.sc.ctx.db.query(`select poll_cursor from channels where tenant_id=$1 and id=$2`, [t.tenantId, otter.channelId])).rows[0].poll_cursor;
    await eventually(
      async () => {
        if ((await cursor()) === null) await watcherPoll(h.sc.ctx, ids);
        return (await cursor()) !== null;
      },
      20_000,
      'the first poll',
    );
    const acc = emus.otter.accounts.get(otter.accountId) as OtterStore;
    const hook = acc.webhookUrl;
    acc.webhookUrl = null; // the webhook never arrives
    try {
      expect((await sale(emus, 'otter', otter.accountId, 'BUN-1', 1)).ok).toBe(true);
    } finally {
      acc.webhookUrl = hook;
    }
    const before = await onHand();
    expect(before).toBe(2);
    // A poll spends the account's budget (which the pushes above used): it polls once a token is there.
    await eventually(
      async () => {
        await watcherPoll(h.sc.ctx, ids);
        return (await onHand()) === 1;
      },
      20_000,
      'the polled order to reach the ledger',
    );
    await eventually(() => tillHolds() === 1, 10_000, 'the till to hold 1');
    // Polled again: nothing moves twice.
    await watcherPoll(h.sc.ctx, ids);
    await new Promise((r) => setTimeout(r, 500));
    expect(await onHand()).toBe(1);
    expect(await movements('sale')).toBe(3);
  });

  it('a cancellation of an order whose sale was never heard moves nothing in total', async () => {
    const otter = t.channels.otter!;
    const acc = emus.otter.accounts.get(otter.accountId) as OtterStore;
    const hook = acc.webhookUrl;
    acc.webhookUrl = null;
    let order: OtterOrder;
    try {
      order = ((await sale(emus, 'otter', otter.accountId, 'BUN-1', 1)).body as { order: OtterOrder }).order;
    } finally {
      acc.webhookUrl = hook;
    }
    const returns = await movements('return');
    const c = await fetch(`${emus.otter.url}/_control/accounts/${otter.accountId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId: order.externalIdentifiers.id }),
    });
    expect(c.status).toBe(200);
    // The CANCELED update stands for the sale and its cancellation: one of each, nothing net.
    await eventually(async () => (await movements('return')) === returns + 1, 10_000, 'the cancellation to be applied');
    await emus.otter.drain();
    expect(await onHand()).toBe(1);
    expect(await movements('sale')).toBe(4);
  });
});
