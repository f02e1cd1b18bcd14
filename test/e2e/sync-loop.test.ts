// End to end over real HTTP: emulators <-> StockClerk (API + workers) <-> Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import pg from 'pg';
import { recordMovements, verifyLedger } from '../../src/ledger/ledger.ts';
import { guardianRun } from '../../src/engine/guardian.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let deli: EmulatedTenant;

const ITEMS = [
  { sku: 'SW-1', name: 'Sandwich', qty: 10, lowStockThreshold: 8 },
  { sku: 'SW-2', name: 'Wrap', qty: 1 },
  { sku: 'SW-3', name: 'Soup', qty: 30 },
  { sku: 'SW-4', name: 'Salad', qty: 40 },
];

const onHand = async (t: EmulatedTenant, sku: string) =>
  (await h.sc.ctx.db.query(`select coalesce(sum(on_hand),0)::int as q from stock_levels where tenant_id=$1 and item_id=$2`, [t.tenantId, t.itemIds.get(sku)]))
    .rows[0].q as number;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  deli = await emulatedTenant(h, emus, { types: ['eposnow', 'wix', 'deliveroo'], items: ITEMS });
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('the sync loop', () => {
  it('imports and matches every listing by SKU', async () => {
    for (const type of ['eposnow', 'wix', 'deliveroo'] as const) expect(deli.channels[type]!.matched).toBe(ITEMS.length);
  });

  it('a sale on the Epos Now till reaches Wix and Deliveroo within a second', async () => {
    const till = deli.channels.eposnow!;
    const started = Date.now();
    expect((await sale(emus, 'eposnow', till.accountId, 'SW-1')).ok).toBe(true);
    await eventually(() => held(emus, 'wix', deli.channels.wix!.accountId, 'SW-1')?.qty === 9, 1000, 'Wix to hold 9');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await onHand(deli, 'SW-1')).toBe(9);

    // The last wrap: Wix goes to 0 and Deliveroo marks it unavailable.
    const t2 = Date.now();
    expect((await sale(emus, 'eposnow', till.accountId, 'SW-2')).ok).toBe(true);
    await eventually(
      () =>
        held(emus, 'wix', deli.channels.wix!.accountId, 'SW-2')?.qty === 0 &&
        held(emus, 'deliveroo', deli.channels.deliveroo!.accountId, 'SW-2')?.available === false,
      1000,
      'Wix 0 and Deliveroo unavailable',
    );
    expect(Date.now() - t2).toBeLessThan(1000);
  });

  it('a sale on Wix moves the ledger once and reaches the till; the Wix echo moves nothing', async () => {
    const before = await onHand(deli, 'SW-3');
    expect((await sale(emus, 'wix', deli.channels.wix!.accountId, 'SW-3', 2)).ok).toBe(true);
    await eventually(() => held(emus, 'eposnow', deli.channels.eposnow!.accountId, 'SW-3')?.qty === before - 2, 2000, 'till to hold the new level');
    await quiescent(h, emus);
    expect(await onHand(deli, 'SW-3')).toBe(before - 2);
    const { rows } = await h.sc.ctx.db.query(`select outcome from channel_events where tenant_id=$1 and channel_id=$2 and kind='level'`, [
      deli.tenantId,
      deli.channels.wix!.channelId,
    ]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.outcome !== 'applied')).toBe(true);
  });

  it('a Deliveroo order and its cancellation move the ledger out and back', async () => {
    const before = await onHand(deli, 'SW-4');
    const r = await sale(emus, 'deliveroo', deli.channels.deliveroo!.accountId, 'SW-4', 3);
    expect(r.ok).toBe(true);
    await eventually(async () => (await onHand(deli, 'SW-4')) === before - 3, 2000, 'sale applied');
    const orderId = (r.body as { order: { id: string } }).order.id;
    await fetch(`${emus.deliveroo.url}/_control/accounts/${deli.channels.deliveroo!.accountId}/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ orderId }),
    });
    await eventually(async () => (await onHand(deli, 'SW-4')) === before, 2000, 'cancellation applied');
    await eventually(() => held(emus, 'wix', deli.channels.wix!.accountId, 'SW-4')?.qty === before, 2000, 'Wix back to the level');
  });

  it('raises a low-stock alert once, and the ledger verifies', async () => {
    // SW-1: threshold 8, 9 left; one more sale makes it low, the next keeps the same alert open.
    const lowAlert = async () => {
      const r = await api(h.url, 'GET', '/api/v1/alerts?type=low_stock', { token: deli.token });
      return r.status === 200 ? r.body.data.filter((a: { subject: string }) => a.subject === deli.itemIds.get('SW-1')) : [];
    };
    expect(await lowAlert()).toEqual([]);
    await sale(emus, 'eposnow', deli.channels.eposnow!.accountId, 'SW-1');
    await eventually(async () => (await lowAlert()).length === 1, 3000, 'low stock alert');
    await sale(emus, 'eposnow', deli.channels.eposnow!.accountId, 'SW-1');
    await quiescent(h, emus);
    await new Promise((r) => setTimeout(r, 500)); // the alert check is debounced
    expect(await lowAlert()).toHaveLength(1);
    expect(await verifyLedger(h.sc.ctx.db)).toEqual([]);
  });

  it('the Guardian repairs small drift and alerts on large drift', async () => {
    await quiescent(h, emus);
    const wix = deli.channels.wix!;
    const want = held(emus, 'wix', wix.accountId, 'SW-3')!.qty!;
    const want4 = held(emus, 'wix', wix.accountId, 'SW-4')!.qty!;
    // The merchant edits Wix by hand: +3 on one item (within the threshold of 5), -20 on another.
    await fetch(`${emus.wix.url}/_control/accounts/${wix.accountId}/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SW-3', qty: want + 3 }),
    });
    await fetch(`${emus.wix.url}/_control/accounts/${wix.accountId}/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SW-4', qty: want4 - 20 }),
    });
    await quiescent(h, emus);
    const reports = await guardianRun(h.sc.ctx, { tenantId: deli.tenantId });
    const wixReport = reports.find((r) => r.channelId === wix.channelId)!;
    expect(wixReport.repaired).toBe(1);
    expect(wixReport.alerted).toBe(1);
    await eventually(() => held(emus, 'wix', wix.accountId, 'SW-3')?.qty === want, 2000, 'small drift repaired');
    expect(held(emus, 'wix', wix.accountId, 'SW-4')?.qty).toBe(want4 - 20);
    const { rows } = await h.sc.ctx.db.query(`select type, data from alerts where tenant_id=$1 and type='large_drift' and status='open'`, [deli.tenantId]);
    expect(rows).toHaveLength(1);
    expect(rows[0].data).toMatchObject({ held: want4 - 20, want: want4 });
    // The ledger was not touched by either: drift is the channel's, not a movement.
    expect(await onHand(deli, 'SW-3')).toBe(want);
  });

  it("announces a tenant's changes only while somebody watches its stream (no NOTIFY, no commit lock, otherwise)", async () => {
    const t = await emulatedTenant(h, emus, { types: ['wix'], items: [{ sku: 'W-1', name: 'Watched', qty: 50 }] });
    const listener = new pg.Client({ connectionString: h.testDb.url });
    await listener.connect();
    const heard: string[] = [];
    listener.on('notification', (n) => {
      if (n.payload && JSON.parse(n.payload).tenant_id === t.tenantId) heard.push(JSON.parse(n.payload).type);
    });
    await listener.query('listen stockclerk');
    try {
      const move = () =>
        recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId: t.itemIds.get('W-1')!, locationId: t.locationId, qtyDelta: -1, reason: 'adjustment' }]);
      await move();
      await quiescent(h, emus);
      await new Promise((r) => setTimeout(r, 200));
      expect(heard).toEqual([]);
      const ws = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/stream?token=${t.token}`);
      const got: string[] = [];
      ws.onmessage = (m) => got.push(JSON.parse(String(m.data)).type);
      await eventually(() => got.includes('hello'), 3000, 'stream hello');
      await move();
      await eventually(() => got.includes('stock.changed') && heard.includes('stock.changed'), 3000, 'the change announced');
      ws.close();
      await eventually(
        async () => (await h.sc.ctx.db.query(`select 1 from stream_watchers where tenant_id = $1`, [t.tenantId])).rowCount === 0,
        3000,
        'the watch released',
      );
    } finally {
      await listener.end();
    }
  });

  it("the live stream carries this tenant's stock changes and nothing of another tenant", async () => {
    const other = await emulatedTenant(h, emus, { types: ['eposnow'], items: [{ sku: 'OT-1', name: 'Other', qty: 5 }] });
    const received: Array<{ tenant_id: string; type: string }> = [];
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/stream?token=${deli.token}`);
    ws.onmessage = (m) => received.push(JSON.parse(String(m.data)));
    await eventually(() => received.some((m) => m.type === 'hello'), 3000, 'stream hello');
    await sale(emus, 'eposnow', other.channels.eposnow!.accountId, 'OT-1');
    await sale(emus, 'eposnow', deli.channels.eposnow!.accountId, 'SW-4');
    await eventually(() => received.some((m) => m.type === 'stock.changed'), 3000, 'stock change on the stream');
    await quiescent(h, emus);
    ws.close();
    expect(received.every((m) => m.tenant_id === deli.tenantId)).toBe(true);
    const bad = await new Promise<number>((resolve) => {
      const w = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/stream?token=not-a-token`);
      w.onclose = (e) => resolve(e.code);
    });
    expect(bad).toBe(4401);
  });
});
