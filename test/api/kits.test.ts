// Kits / bundles: an item made of components (qty per kit). The API shows the components and the
// kit's sellable (min over components of floor(component sellable / qty per kit), DESIGN.md);
// a kit holds no stock of its own (stock writes naming one are refused). On a channel, Sync pushes
// a kit listing its sellable from the components' stock, and a sale of the kit on the channel moves
// its components (the Watcher explodes it), after which the kit listing is pushed again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEposnowEmulator } from '../../emulators/eposnow/index.ts';
import { connectEmulatedChannel } from '../../src/demo/emulated.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { ANY_VERSION, client, expectError, ghost, snapshot, type Call } from './support.ts';

let h: Harness;
const emu = createEposnowEmulator();
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;

const create = async (sku: string, extra: Record<string, unknown> = {}) => {
  const r = await call('POST', '/items', { sku, name: sku, ...extra });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
};
const adjust = (item: string, qty: number) =>
  call('POST', '/adjustments', { item_id: item, location_id: t.locationId, qty_delta: qty, reason: qty > 0 ? 'receipt' : 'adjustment' });

beforeAll(async () => {
  [h] = await Promise.all([startHarness(), emu.listen(0)]);
  t = await registerTenant(h.url, 'Kit Co');
  call = client(h.url, t.token);
});

afterAll(async () => {
  await h?.stop();
  await emu.close();
});

describe('kits', () => {
  it('an item with components shows them and its kit sellable; editing them needs If-Match', async () => {
    const bread = (await create('K-BREAD', { buffer: 1 })).id;
    const soup = (await create('K-SOUP')).id;
    await adjust(bread, 9);
    await adjust(soup, 5);
    const kit = await create('K-LUNCH', {
      components: [
        { item_id: bread, qty: 2 },
        { item_id: soup, qty: 1 },
      ],
    });
    // bread: (9 - buffer 1) / 2 = 4 kits; soup: 5 / 1 = 5 kits -> 4.
    expect(kit.kit_sellable).toBe(4);
    expect(kit.components).toEqual([
      { item_id: bread, sku: 'K-BREAD', name: 'K-BREAD', qty: 2, available: 9 },
      { item_id: soup, sku: 'K-SOUP', name: 'K-SOUP', qty: 1, available: 5 },
    ]);
    expect((await call('GET', `/items/${bread}`)).body).toMatchObject({ components: [], kit_sellable: null });
    // Reserved stock is not sellable.
    await call('POST', '/reservations', { item_id: soup, location_id: t.locationId, qty: 3 });
    expect((await call('GET', `/items/${kit.id}`)).body.kit_sellable).toBe(2);

    expectError(await call('PATCH', `/items/${kit.id}`, { components: [{ item_id: soup, qty: 2 }] }), 428, 'precondition_required');
    const patched = await call('PATCH', `/items/${kit.id}`, { components: [{ item_id: soup, qty: 2 }] }, { 'if-match': `"v${kit.version}"` });
    expect(patched.body).toMatchObject({ kit_sellable: 1, components: [expect.objectContaining({ item_id: soup, qty: 2 })], version: kit.version + 1 });
    const plain = await call('PATCH', `/items/${kit.id}`, { components: [] }, ANY_VERSION);
    expect(plain.body).toMatchObject({ components: [], kit_sellable: null });
  });

  it('refuses nested kits, self-kits, stocked kits, and stock writes on a kit; nothing changes', async () => {
    const a = (await create('R-A')).id;
    const b = (await create('R-B')).id;
    const stocked = (await create('R-STOCKED')).id;
    await adjust(stocked, 2);
    const kit = (await create('R-KIT', { components: [{ item_id: a, qty: 1 }] })).id;
    const before = await snapshot(h.testDb.db, t.tenantId);
    expectError(await call('POST', '/items', { sku: 'R-NEST', name: 'n', components: [{ item_id: kit, qty: 1 }] }), 409, 'conflict');
    expectError(await call('PATCH', `/items/${kit}`, { components: [{ item_id: kit, qty: 1 }] }, ANY_VERSION), 409, 'conflict');
    expectError(await call('PATCH', `/items/${a}`, { components: [{ item_id: b, qty: 1 }] }, ANY_VERSION), 409, 'conflict');
    expectError(await call('PATCH', `/items/${stocked}`, { components: [{ item_id: b, qty: 1 }] }, ANY_VERSION), 409, 'conflict');
    expectError(await call('POST', '/items', { sku: 'R-GHOST', name: 'g', components: [{ item_id: ghost('item'), qty: 1 }] }), 404, 'not_found');
    expect((await call('POST', '/items', { sku: 'R-ZERO', name: 'z', components: [{ item_id: a, qty: 0 }] })).status).toBe(400);
    expectError(await adjust(kit, 1), 409, 'conflict');
    expectError(await call('POST', '/stock-counts', { item_id: kit, location_id: t.locationId, counted_qty: 3 }), 409, 'conflict');
    expectError(await call('POST', '/purchase-orders', { lines: [{ item_id: kit, location_id: t.locationId, qty_ordered: 1 }] }), 409, 'conflict');
    expectError(await call('POST', '/sales-orders', { location_id: t.locationId, lines: [{ item_id: kit, qty: 1 }] }), 409, 'conflict');
    expectError(await call('DELETE', `/items/${a}`, undefined, ANY_VERSION), 409, 'conflict');
    expect(await snapshot(h.testDb.db, t.tenantId)).toEqual(before);
  });

  it('Sync pushes a kit listing its sellable from the components; a kit sale on the till moves the components', async () => {
    const bread = (await create('C-BREAD')).id;
    const soup = (await create('C-SOUP')).id;
    const lunch = (
      await create('C-LUNCH', {
        components: [
          { item_id: bread, qty: 2 },
          { item_id: soup, qty: 1 },
        ],
      })
    ).id;
    const ch = await connectEmulatedChannel(h.sc.ctx, {
      tenantId: t.tenantId,
      type: 'eposnow',
      emulator: emu,
      name: 'Till',
      stockclerkUrl: h.url,
      items: [
        { sku: 'C-BREAD', name: 'Bread', qty: 0 },
        { sku: 'C-SOUP', name: 'Soup', qty: 0 },
        { sku: 'C-LUNCH', name: 'Lunch deal', qty: 0 },
      ],
      locationIds: [t.locationId],
    });
    expect(ch.matched).toBe(3);
    const tillQty = (sku: string) => emu.spec.state(emu.accounts.get(ch.accountId)!).find((s: { sku: string | null }) => s.sku === sku)?.qty;
    // Stock arrives for the components only: the kit listing follows.
    await adjust(bread, 10);
    await adjust(soup, 3);
    await eventually(async () => tillQty('C-LUNCH') === 3 && tillQty('C-BREAD') === 10 && tillQty('C-SOUP') === 3, 15_000, 'the till to hold 3 lunch deals');
    // A component moving alone re-pushes the kit.
    await adjust(bread, -5);
    await eventually(async () => tillQty('C-LUNCH') === 2, 15_000, 'the kit to follow its scarcest component');

    const res = await fetch(`${emu.url}/_control/accounts/${ch.accountId}/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'C-LUNCH', qty: 1 }),
    });
    expect(res.ok).toBe(true);
    const level = async (item: string) => (await call('GET', `/stock-levels?item_id=${item}`)).body.data[0]?.on_hand;
    await eventually(async () => (await level(bread)) === 3 && (await level(soup)) === 2, 15_000, 'the kit sale to move its components');
    const sales = await call('GET', `/movements?reason=sale`);
    expect(
      sales.body.data
        .filter((m: { item_id: string }) => m.item_id === bread || m.item_id === soup)
        .map((m: { item_id: string; qty_delta: number; source_channel_id: string }) => [m.item_id, m.qty_delta, m.source_channel_id])
        .sort(),
    ).toEqual(
      [
        [bread, -2, ch.channelId],
        [soup, -1, ch.channelId],
      ].sort(),
    );
    // The kit itself never holds stock.
    expect((await call('GET', `/stock-levels?item_id=${lunch}`)).body.data).toEqual([]);
    // bread 3 -> 1 kit: every channel hears it (the kit and both components).
    await eventually(async () => tillQty('C-LUNCH') === 1 && tillQty('C-BREAD') === 3 && tillQty('C-SOUP') === 2, 15_000, 'the till to be told the new levels');
    expect((await call('GET', `/items/${lunch}`)).body.kit_sellable).toBe(1);
    // The Guardian agrees with Sync about a kit: it reads the till back and finds all three in sync
    // (a run that skips a listing still settling proves nothing: run again).
    await eventually(
      async () => {
        expect((await call('POST', '/guardian/runs')).status).toBe(202);
        await eventually(
          async () => (await call('GET', `/guardian/runs?channel_id=${ch.channelId}`)).body.data[0]?.finished_at != null,
          15_000,
          'a guardian run',
        );
        const run = (await call('GET', `/guardian/runs?channel_id=${ch.channelId}`)).body.data[0];
        expect(run).toMatchObject({ repaired: 0, alerted: 0 });
        return run.checked === 3 && run.in_sync === 3;
      },
      20_000,
      'a guardian run that checks all three listings',
    );
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });
});
