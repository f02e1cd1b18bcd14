// Sync rules over REST: CRUD in priority order with ETags, structured 4xx on what cannot be a rule,
// tenant isolation, and the dry run that says which rules applied to a listing and why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, type EmulatedTenant } from '../helpers/tenant.ts';
import { client, expectError, expectInvalid, type Call } from './support.ts';

let h: Harness;
let emus: EmulatorSet;
let shop: EmulatedTenant;
let call: Call;
let other: Call;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  shop = await emulatedTenant(h, emus, {
    types: ['wix', 'eposnow'],
    items: [
      { sku: 'TEE-1', name: 'Tee', qty: 20 },
      { sku: 'MUG-1', name: 'Mug', qty: 3 },
    ],
  });
  call = client(h.url, shop.token);
  const o = await emulatedTenant(h, emus, { types: ['wix'], items: [{ sku: 'X-1', name: 'Other', qty: 5 }] });
  other = client(h.url, o.token);
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const wix = () => shop.channels.wix!.channelId;
const till = () => shop.channels.eposnow!.channelId;
/** An item created without a product is a single-variant product of its own, prd_<the item's id suffix>. */
const mugProduct = () => `prd_${shop.itemIds.get('MUG-1')!.slice('item_'.length)}`;

describe('sync rules CRUD', () => {
  it('creates, reads, lists in priority order, changes with If-Match and deletes', async () => {
    const a = await call('POST', '/sync-rules', {
      name: 'Cap Wix at 5',
      priority: 20,
      conditions: { channel_ids: [wix()] },
      action: { type: 'cap', value: 5 },
    });
    expect(a.status).toBe(201);
    expect(a.headers.get('etag')).toBe('"v1"');
    expect(a.body).toMatchObject({
      name: 'Cap Wix at 5',
      priority: 20,
      enabled: true,
      conditions: { channel_ids: [wix()] },
      action: { type: 'cap', value: 5 },
    });
    expect(a.body.id).toMatch(/^srl_[0-9a-f]{32}$/);
    const b = await call('POST', '/sync-rules', { name: 'Keep 2 back', priority: 10, conditions: { tags: [] }, action: { type: 'keep_back', value: 2 } });
    expect(b.status).toBe(201);
    expect(b.body.conditions).toEqual({});
    const c = await call('POST', '/sync-rules', { name: 'Later', action: { type: 'percent', value: 50 }, enabled: false });
    expect(c.body.priority).toBe(100);

    const listed = await call('GET', '/sync-rules');
    expect(listed.body.data.map((r: { name: string }) => r.name)).toEqual(['Keep 2 back', 'Cap Wix at 5', 'Later']);
    // Cursor pages keep the priority order.
    const p1 = await call('GET', '/sync-rules?limit=2');
    expect(p1.body.data).toHaveLength(2);
    const p2 = await call('GET', `/sync-rules?limit=2&cursor=${p1.body.next_cursor}`);
    expect(p2.body.data.map((r: { name: string }) => r.name)).toEqual(['Later']);
    expect(p2.body.next_cursor).toBeNull();

    const got = await call('GET', `/sync-rules/${a.body.id}`);
    expect(got.body).toEqual(a.body);
    expectError(await call('PATCH', `/sync-rules/${a.body.id}`, { enabled: true }), 428, 'precondition_required');
    expectError(await call('PATCH', `/sync-rules/${a.body.id}`, { action: { type: 'cap', value: 4 } }, { 'if-match': '"v9"' }), 412, 'precondition_failed');
    const patched = await call('PATCH', `/sync-rules/${a.body.id}`, { action: { type: 'cap', value: 4 }, priority: 5 }, { 'if-match': '"v1"' });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"v2"');
    expect(patched.body).toMatchObject({ priority: 5, action: { type: 'cap', value: 4 }, name: 'Cap Wix at 5' });

    expect((await call('DELETE', `/sync-rules/${c.body.id}`, undefined, { 'if-match': '"v1"' })).status).toBe(204);
    expectError(await call('GET', `/sync-rules/${c.body.id}`), 404, 'not_found');
    expectError(await call('GET', '/sync-rules/srl_nope'), 404, 'not_found');
  });

  it('bumps the tenant rules version on every change (the engine cache keys on it)', async () => {
    const version = async () =>
      Number((await h.sc.ctx.db.query(`select sync_rules_version from tenants where id = $1`, [shop.tenantId])).rows[0].sync_rules_version);
    const before = await version();
    const r = await call('POST', '/sync-rules', { name: 'Temp', action: { type: 'hide_below', value: 1 } });
    expect(await version()).toBe(before + 1);
    await call('PATCH', `/sync-rules/${r.body.id}`, { enabled: false }, { 'if-match': '"v1"' });
    expect(await version()).toBe(before + 2);
    await call('DELETE', `/sync-rules/${r.body.id}`, undefined, { 'if-match': '"v2"' });
    expect(await version()).toBe(before + 3);
  });
});

describe('sync rules validation', () => {
  it('refuses what cannot be a rule with structured 400s naming the field, and creates nothing', async () => {
    const before = (await call('GET', '/sync-rules')).body.data.length;
    expectInvalid(await call('POST', '/sync-rules', { action: { type: 'cap', value: 1 } }), 'name');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', action: { type: 'explode', value: 1 } }), 'action');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', action: { type: 'cap', value: -1 } }), 'action.value');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', action: { type: 'percent', value: 150 } }), 'action.value');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', action: { type: 'price_adjust', value: 10 } }), 'action.unit');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', action: { type: 'price_adjust', value: -150, unit: 'percent' } }), 'action.value');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', priority: -1, action: { type: 'cap', value: 1 } }), 'priority');
    expectInvalid(await call('POST', '/sync-rules', { name: 'x', conditions: { colour: 'red' }, action: { type: 'cap', value: 1 } }), 'conditions');
    expectInvalid(
      await call('POST', '/sync-rules', { name: 'x', conditions: { channel_ids: ['nope'] }, action: { type: 'cap', value: 1 } }),
      'conditions.channel_ids.0',
    );
    // Well-formed but not the tenant's: named at its place.
    const missing = await call('POST', '/sync-rules', {
      name: 'x',
      conditions: { channel_ids: [wix(), 'ch_0123456789abcdef0123456789abcdef'] },
      action: { type: 'cap', value: 1 },
    });
    expectInvalid(missing, 'conditions.channel_ids.1');
    expectInvalid(
      await call('POST', '/sync-rules', {
        name: 'x',
        conditions: { product_ids: ['prd_0123456789abcdef0123456789abcdef'] },
        action: { type: 'cap', value: 1 },
      }),
      'conditions.product_ids.0',
    );
    expectInvalid(
      await call('POST', '/sync-rules', { name: 'x', conditions: { stock_below: 5, stock_at_least: 5 }, action: { type: 'cap', value: 1 } }),
      'conditions.stock_below',
    );
    expectInvalid(await call('PATCH', `/sync-rules/${(await call('GET', '/sync-rules')).body.data[0].id}`, {}, { 'if-match': '"v1"' }));
    expect((await call('GET', '/sync-rules')).body.data.length).toBe(before);
  });
});

describe('sync rules isolation', () => {
  it("another tenant neither sees nor changes a tenant's rules, nor names its channels", async () => {
    const mine = (await call('GET', '/sync-rules')).body.data[0];
    expect((await other('GET', '/sync-rules')).body.data).toEqual([]);
    expectError(await other('GET', `/sync-rules/${mine.id}`), 404, 'not_found');
    expectError(await other('PATCH', `/sync-rules/${mine.id}`, { enabled: false }, { 'if-match': '"v1"' }), 404, 'not_found');
    expectError(await other('DELETE', `/sync-rules/${mine.id}`, undefined, { 'if-match': '"v1"' }), 404, 'not_found');
    expectInvalid(
      await other('POST', '/sync-rules', { name: 'x', conditions: { channel_ids: [wix()] }, action: { type: 'cap', value: 1 } }),
      'conditions.channel_ids.0',
    );
    expectError(await other('POST', '/sync-rules/dry-run', { channel_id: wix(), sku: 'TEE-1' }), 404, 'not_found');
  });
});

describe('sync rules dry run', () => {
  it('says which rules applied to a listing and why, with the quantity before and after', async () => {
    for (const r of (await call('GET', '/sync-rules')).body.data) await call('DELETE', `/sync-rules/${r.id}`, undefined, { 'if-match': `"v${r.version}"` });
    const cap = await call('POST', '/sync-rules', { name: 'Cap Wix', priority: 1, conditions: { channel_ids: [wix()] }, action: { type: 'cap', value: 5 } });
    const looser = await call('POST', '/sync-rules', { name: 'Cap everyone', priority: 2, action: { type: 'cap', value: 12 } });
    const keep = await call('POST', '/sync-rules', {
      name: 'Keep 3 of mugs',
      priority: 3,
      conditions: { tags: ['fragile'] },
      action: { type: 'keep_back', value: 3 },
    });
    const off = await call('POST', '/sync-rules', { name: 'Off', priority: 4, enabled: false, action: { type: 'cap', value: 0 } });

    const dry = await call('POST', '/sync-rules/dry-run', { channel_id: wix(), sku: 'TEE-1' });
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ channel_id: wix(), sku: 'TEE-1', item_id: shop.itemIds.get('TEE-1'), master_qty: 20, qty: 5, applied: [cap.body.id] });
    expect(dry.body.listing_id).toMatch(/^lst_/);
    expect(dry.body.rules.map((r: { name: string; status: string }) => [r.name, r.status])).toEqual([
      ['Cap Wix', 'applied'],
      ['Cap everyone', 'skipped'],
      ['Keep 3 of mugs', 'not_matched'],
      ['Off', 'disabled'],
    ]);
    expect(dry.body.rules[0]).toMatchObject({ qty_before: 20, qty_after: 5 });
    expect(dry.body.rules[0].reason).toContain(`matched on channel ${wix()}`);
    expect(dry.body.rules[1].reason).toContain('"Cap Wix" (priority 1) already sets the cap action');
    expect(dry.body.rules[2].reason).toContain('include none of fragile');

    // The till: the Wix rule does not match, the looser cap does; by item id too.
    const onTill = await call('POST', '/sync-rules/dry-run', { channel_id: till(), item_id: shop.itemIds.get('TEE-1') });
    expect(onTill.body).toMatchObject({ master_qty: 20, qty: 12, applied: [looser.body.id] });
    expect(onTill.body.rules[0].reason).toContain(`channel ${till()} is not one of ${wix()}`);

    // Tag the mug's product: the keep-back rule now matches it (and stock conditions see 3).
    const product = (await call('GET', `/products/${mugProduct()}`)).body;
    expect((await call('PATCH', `/products/${product.id}`, { tags: ['Fragile'] }, { 'if-match': `"v${product.version}"` })).status).toBe(200);
    const mugDry = await call('POST', '/sync-rules/dry-run', { channel_id: till(), sku: 'MUG-1' });
    expect(mugDry.body).toMatchObject({ master_qty: 3, qty: 0, applied: [keep.body.id, looser.body.id], product: { tags: ['Fragile'] } });
    expect(off.status).toBe(201);

    expectInvalid(await call('POST', '/sync-rules/dry-run', { channel_id: wix() }), 'item_id');
    expectError(await call('POST', '/sync-rules/dry-run', { channel_id: wix(), sku: 'NOPE' }), 404, 'not_found');
    expectError(await call('POST', '/sync-rules/dry-run', { channel_id: 'ch_0123456789abcdef0123456789abcdef', sku: 'TEE-1' }), 404, 'not_found');
  });

  it('reports the price after a price_adjust rule', async () => {
    const product = (await call('GET', `/products/${mugProduct()}`)).body;
    expect((await call('PATCH', `/products/${product.id}`, { price_minor: 1000 }, { 'if-match': `"v${product.version}"` })).status).toBe(200);
    await call('POST', '/sync-rules', {
      name: 'Wix +10%',
      priority: 1,
      conditions: { channel_ids: [wix()] },
      action: { type: 'price_adjust', value: 10, unit: 'percent' },
    });
    const dry = await call('POST', '/sync-rules/dry-run', { channel_id: wix(), sku: 'MUG-1' });
    expect(dry.body).toMatchObject({ price_minor: 1000, price_after_minor: 1100 });
    expect(dry.body.rules.find((r: { name: string }) => r.name === 'Wix +10%').reason).toContain('1000 -> 1100');
  });
});
