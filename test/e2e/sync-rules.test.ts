// Sync rules end to end over real HTTP: emulators <-> StockClerk (API + workers) <-> Postgres. A cap
// rule on one channel changes what that channel holds while another gets the full quantity, changing
// or deleting the rule pushes again, and the Guardian compares against the same ruled target.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { guardianRun } from '../../src/engine/guardian.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let shop: EmulatedTenant;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  shop = await emulatedTenant(h, emus, {
    types: ['eposnow', 'wix'],
    items: [
      { sku: 'R-1', name: 'Ruled', qty: 30 },
      { sku: 'R-2', name: 'Plenty', qty: 40 },
    ],
  });
  await quiescent(h, emus);
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
  api(h.url, method, `/api/v1${path}`, { token: shop.token, body, headers });
const wixHolds = (sku: string) => held(emus, 'wix', shop.channels.wix!.accountId, sku)?.qty;
const tillHolds = (sku: string) => held(emus, 'eposnow', shop.channels.eposnow!.accountId, sku)?.qty;

describe('sync rules end to end', () => {
  it('a cap rule on Wix caps what Wix holds; the till still gets the full quantity', async () => {
    expect(wixHolds('R-1')).toBe(30);
    expect(tillHolds('R-1')).toBe(30);
    const created = await call('POST', '/sync-rules', {
      name: 'Cap Wix at 5',
      conditions: { channel_ids: [shop.channels.wix!.channelId] },
      action: { type: 'cap', value: 5 },
    });
    expect(created.status).toBe(201);
    // Creating the rule pushes again: no stock moved.
    await eventually(() => wixHolds('R-1') === 5 && wixHolds('R-2') === 5, 5000, 'Wix capped at 5');
    await quiescent(h, emus);
    expect(tillHolds('R-1')).toBe(30);
    expect(tillHolds('R-2')).toBe(40);

    // A sale on the till: the till hears 29, Wix stays at its cap.
    expect((await sale(emus, 'eposnow', shop.channels.eposnow!.accountId, 'R-1')).ok).toBe(true);
    await quiescent(h, emus);
    expect(wixHolds('R-1')).toBe(5);
    expect(tillHolds('R-1')).toBe(29);

    // The Guardian compares against the ruled target: a capped Wix is in sync, not drift.
    const reports = await guardianRun(h.sc.ctx, { tenantId: shop.tenantId });
    const wixReport = reports.find((r) => r.channelId === shop.channels.wix!.channelId)!;
    expect(wixReport).toMatchObject({ repaired: 0, alerted: 0 });
    expect(wixReport.inSync).toBe(2);

    // The dashboard's Items grid shows what Wix is told.
    const grid = await call('GET', '/item-rows?q=R-1');
    const listing = grid.body.data[0].listings.find((l: { channel_id: string }) => l.channel_id === shop.channels.wix!.channelId);
    expect(listing.sellable).toBe(5);

    // Changing the rule re-pushes with the new cap; a stock condition narrows it to R-1 (29 < 35).
    const changed = await call(
      'PATCH',
      `/sync-rules/${created.body.id}`,
      { action: { type: 'cap', value: 2 }, conditions: { channel_ids: [shop.channels.wix!.channelId], stock_below: 35 } },
      { 'if-match': '"v1"' },
    );
    expect(changed.status).toBe(200);
    await eventually(() => wixHolds('R-1') === 2 && wixHolds('R-2') === 40, 5000, 'Wix re-pushed with the changed rule');

    // Deleting it gives Wix the full quantity again.
    expect((await call('DELETE', `/sync-rules/${created.body.id}`, undefined, { 'if-match': '"v2"' })).status).toBe(204);
    await eventually(() => wixHolds('R-1') === 29, 5000, 'Wix back to the full quantity');
    await quiescent(h, emus);
    expect(tillHolds('R-1')).toBe(29);
  });

  it("a rule on a tag: tagging a product re-pushes its listings, only on the rule's channel", async () => {
    await quiescent(h, emus);
    const rule = await call('POST', '/sync-rules', {
      name: 'Clearance: keep 10 back on Wix',
      conditions: { channel_ids: [shop.channels.wix!.channelId], tags: ['clearance'] },
      action: { type: 'keep_back', value: 10 },
    });
    expect(rule.status).toBe(201);
    await quiescent(h, emus);
    expect(wixHolds('R-2')).toBe(40);
    // An item made without a product is a single-variant product of its own: prd_<its id suffix>.
    const productId = `prd_${shop.itemIds.get('R-2')!.slice('item_'.length)}`;
    const product = (await call('GET', `/products/${productId}`)).body;
    expect((await call('PATCH', `/products/${productId}`, { tags: ['Clearance'] }, { 'if-match': `"v${product.version}"` })).status).toBe(200);
    await eventually(() => wixHolds('R-2') === 30, 5000, 'Wix told 10 fewer of the tagged product');
    await quiescent(h, emus);
    expect(tillHolds('R-2')).toBe(40);
    expect(wixHolds('R-1')).toBe(29);
  });
});
