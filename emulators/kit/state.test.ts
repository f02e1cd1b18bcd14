// The platform's memory across a restart: an emulator started on a state file, changed, closed
// and started again on the same file carries on where it stopped (accounts, quantities, ids and
// counters), the way the real platform would after StockClerk's `npm start` is restarted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDeliverooEmulator } from '../deliveroo/index.ts';
import { createEposnowEmulator } from '../eposnow/index.ts';
import { createShopifyEmulator } from '../shopify/index.ts';
import { createWixEmulator, generateWixKeyPair } from '../wix/index.ts';
import type { Emulator } from './index.ts';
import { StateFile } from './state.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-state-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type AnyEmu = Emulator<any>;

async function call(emu: AnyEmu, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.url}${url}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const ITEMS = [
  { sku: 'A', name: 'Apple', qty: 10 },
  { sku: 'B', name: 'Bread', qty: 4 },
];
const basic = (k: string, s: string) => ({ authorization: `Basic ${Buffer.from(`${k}:${s}`).toString('base64')}` });

describe('Epos Now keeps its till across a restart', () => {
  const file = path.join(dir, 'eposnow.json');
  const EPOS = basic('key-1', 'secret-1');

  it('account, quantities and the transaction counter continue; no transaction id is handed out twice', async () => {
    let emu: AnyEmu = createEposnowEmulator({ stateFile: file });
    await emu.listen();
    expect(
      (await call(emu, 'POST', '/_control/accounts', { id: 'till', credentials: { api_key: 'key-1', api_secret: 'secret-1' }, items: ITEMS })).status,
    ).toBe(201);
    const first = await call(emu, 'POST', '/_control/accounts/till/sale', { sku: 'A', qty: 3 });
    expect(first.body.qty).toBe(7);
    const firstId = first.body.transaction.Id as number;
    // A write through the platform API counts too.
    const product = (await call(emu, 'GET', '/api/v4/Product', undefined, EPOS)).body.find((p: { Sku: string }) => p.Sku === 'B');
    expect((await call(emu, 'POST', '/api/v4/ProductStock/Add', { ProductId: product.Id, LocationId: 4501, ChangeInStock: 2 }, EPOS)).status).toBe(200);
    await emu.close();

    emu = createEposnowEmulator({ stateFile: file });
    await emu.listen();
    try {
      const state = await call(emu, 'GET', '/_control/accounts/till/state');
      expect(state.body.items.map((i: { sku: string; qty: number }) => [i.sku, i.qty])).toEqual([
        ['A', 7],
        ['B', 6],
      ]);
      // The same credentials still open the same account.
      expect((await call(emu, 'GET', '/api/v4/Transaction/GetLatest', undefined, EPOS)).body.map((t: { Id: number }) => t.Id)).toEqual([firstId]);
      const next = await call(emu, 'POST', '/_control/accounts/till/sale', { sku: 'A', qty: 1 });
      expect(next.body.transaction.Id).toBeGreaterThan(firstId);
      expect(next.body.qty).toBe(6);
      // Batches kept their ids: a new batch id is not one already used.
      const rows = (await call(emu, 'GET', '/api/v4/ProductStock', undefined, EPOS)).body as Array<{ ProductStockBatches: Array<{ Id: number }> }>;
      const ids = rows.flatMap((r) => r.ProductStockBatches.map((b) => b.Id));
      expect(new Set(ids).size).toBe(ids.length);
      expect((await call(emu, 'GET', '/api/v4/Transaction', undefined, EPOS)).body).toHaveLength(2);
    } finally {
      await emu.close();
    }
  });

  it('a state file of another platform is refused, not overwritten', () => {
    expect(() => createWixEmulator({ stateFile: file })).toThrow(/eposnow/);
  });
});

describe('Wix, Shopify and Deliveroo keep their state across a restart', () => {
  it('Wix: item ids, revisions (int64), the default location and the order counter', async () => {
    const file = path.join(dir, 'wix.json');
    const keys = generateWixKeyPair();
    const auth = { authorization: 'IST.key', 'wix-site-id': 'site-1' };
    let emu: AnyEmu = createWixEmulator({ stateFile: file });
    await emu.listen();
    emu.addAccount({ id: 'site-1', credentials: { api_key: 'IST.key', site_id: 'site-1' }, webhookSecret: keys.privateKey, items: ITEMS });
    await call(emu, 'POST', '/_control/accounts/site-1/sale', { sku: 'A', qty: 2 });
    const before = (await call(emu, 'POST', '/stores/v3/inventory-items/query', { query: {} }, auth)).body.inventoryItems;
    await emu.close();

    emu = createWixEmulator({ stateFile: file });
    await emu.listen();
    try {
      const after = (await call(emu, 'POST', '/stores/v3/inventory-items/query', { query: {} }, auth)).body.inventoryItems;
      expect(after).toEqual(before);
      expect(after[0].revision).toBe('2');
      // Optimistic locking goes on from the kept revision.
      const upd = await call(
        emu,
        'POST',
        '/stores/v3/bulk/inventory-items/update',
        { inventoryItems: [{ inventoryItem: { id: after[0].id, revision: '2', quantity: 5 } }] },
        auth,
      );
      expect(upd.body.bulkActionMetadata.totalSuccesses).toBe(1);
      expect(emu.accounts.get('site-1').webhookSecret).toBe(keys.privateKey);
      expect(emu.accounts.get('site-1').orderSeq).toBe(10001);
    } finally {
      await emu.close();
    }
  });

  it('Shopify: quantities, committed units, order numbers and @idempotent keys', async () => {
    const file = path.join(dir, 'shopify.json');
    const headers = { 'x-shopify-access-token': 'shpat_1' };
    const mutation = (key: string, qty: number, from: number) => ({
      query: `mutation { inventorySetQuantities(input: {name: "available", reason: "correction", quantities: [{inventoryItemId: "gid://shopify/InventoryItem/1001", locationId: "gid://shopify/Location/1", quantity: ${qty}, changeFromQuantity: ${from}}]}) @idempotent(key: "${key}") { userErrors { code } inventoryAdjustmentGroup { id } } }`,
    });
    let emu: AnyEmu = createShopifyEmulator({ stateFile: file });
    await emu.listen();
    emu.addAccount({ id: 'shop', credentials: { access_token: 'shpat_1' }, items: ITEMS });
    const sale = await call(emu, 'POST', '/_control/accounts/shop/sale', { sku: 'A', qty: 1 });
    const set = await call(emu, 'POST', '/admin/api/2026-01/graphql.json', mutation('k-1', 20, 9), headers);
    expect(set.body.data.inventorySetQuantities.userErrors).toEqual([]);
    await emu.close();

    emu = createShopifyEmulator({ stateFile: file });
    await emu.listen();
    try {
      expect(emu.spec.state(emu.accounts.get('shop')).map((s) => s.qty)).toEqual([20, 4]);
      // Same key, same input after the restart: the original answer replayed, nothing applied again.
      const replay = await call(emu, 'POST', '/admin/api/2026-01/graphql.json', mutation('k-1', 20, 9), headers);
      expect(replay.body.data).toEqual(set.body.data);
      const next = await call(emu, 'POST', '/_control/accounts/shop/sale', { sku: 'A', qty: 1 });
      // Shopify order ids are 64-bit: the control answer gives them as decimal strings.
      expect(BigInt(next.body.order_id)).toBeGreaterThan(BigInt(sale.body.order_id));
      expect(Date.parse(next.body.version)).toBeGreaterThan(Date.parse(sale.body.version));
    } finally {
      await emu.close();
    }
  });

  it('Deliveroo: availability, orders and the tokens it issued', async () => {
    const file = path.join(dir, 'deliveroo.json');
    let emu: AnyEmu = createDeliverooEmulator({ stateFile: file });
    await emu.listen();
    emu.addAccount({ id: 'site-9', credentials: { client_id: 'c', client_secret: 's' }, items: ITEMS });
    const tok = await fetch(`${emu.url}/oauth2/token`, {
      method: 'POST',
      headers: { ...basic('c', 's'), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    }).then((r) => r.json() as Promise<{ access_token: string }>);
    const order = (await call(emu, 'POST', '/_control/accounts/site-9/sale', { sku: 'A', qty: 1 })).body.order;
    await call(emu, 'POST', '/_control/accounts/site-9/set', { sku: 'B', qty: 0 });
    await emu.close();

    emu = createDeliverooEmulator({ stateFile: file });
    await emu.listen();
    try {
      const bearer = { authorization: `Bearer ${tok.access_token}` };
      const unav = await call(emu, 'GET', '/menu/v2/brands/brand-1/sites/site-9/menu/item_unavailabilities', undefined, bearer);
      expect(unav.status).toBe(200);
      expect(unav.body.item_unavailabilities).toEqual([{ item_id: 'item-2', status: 'unavailable' }]);
      // The order placed before the restart can still be cancelled.
      const cancelled = await call(emu, 'POST', '/_control/accounts/site-9/cancel', { orderId: order.id });
      expect(cancelled.body.order.status).toBe('canceled');
      const next = (await call(emu, 'POST', '/_control/accounts/site-9/sale', { sku: 'A', qty: 1 })).body.order;
      expect(Number(next.order_number)).toBe(Number(order.order_number) + 1);
    } finally {
      await emu.close();
    }
  });
});

describe('reopening an account', () => {
  it('keeps what the platform holds and takes the new webhook target and credentials', async () => {
    const file = path.join(dir, 'reopen.json');
    let emu: AnyEmu = createEposnowEmulator({ stateFile: file });
    emu.addAccount({ id: 'till', credentials: { api_key: 'k', api_secret: 's' }, webhookUrl: 'http://127.0.0.1:1/old', items: ITEMS });
    await emu.spec.sale(emu, emu.accounts.get('till'), { sku: 'A', qty: 4 });
    await emu.close();
    emu = createEposnowEmulator({ stateFile: file });
    const r = emu.reopenAccount({
      id: 'till',
      credentials: { api_key: 'k2', api_secret: 's2' },
      webhookUrl: 'http://127.0.0.1:1/new',
      items: [{ sku: 'A', name: 'Apple', qty: 99 }],
    });
    expect(r.kept).toBe(true);
    expect(emu.spec.state(r.account).map((s) => s.qty)).toEqual([6, 4]);
    expect(r.account.webhookUrl).toBe('http://127.0.0.1:1/new');
    expect(r.account.credentials).toEqual({ api_key: 'k2', api_secret: 's2' });
    expect(emu.reopenAccount({ id: 'other', credentials: {}, items: ITEMS }).kept).toBe(false);
    await emu.close();
  });
});

describe('the state file', () => {
  it('is written after a quiet period, atomically, owner-only, and once more on close', async () => {
    const file = path.join(dir, 'nested', 'kit.json');
    let n = 0;
    const sf = new StateFile(file, () => ({ n }), 50);
    expect(sf.read()).toBeNull();
    for (let i = 0; i < 20; i++) {
      n = i;
      sf.touch();
    }
    expect(fs.existsSync(file)).toBe(false); // not yet: changes in a burst share one write
    await new Promise((r) => setTimeout(r, 200));
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual({ n: 19 });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    n = 42;
    sf.touch();
    await sf.flush(); // close does not wait for the timer
    expect(sf.read()).toEqual({ n: 42 });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['kit.json']); // no temp file left behind
  });

  it('a file that is not JSON is moved aside and the platform starts empty', async () => {
    const file = path.join(dir, 'corrupt', 'eposnow.json');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{"format": 1, "acc');
    const emu = createEposnowEmulator({ stateFile: file });
    expect(emu.accounts.size).toBe(0);
    expect(fs.readdirSync(path.dirname(file)).some((f) => f.startsWith('eposnow.json.corrupt-'))).toBe(true);
    await emu.close();
  });

  it('without a file nothing is written', async () => {
    const emu = createEposnowEmulator();
    emu.addAccount({ id: 'till', credentials: {}, items: ITEMS });
    expect(emu.stateFile).toBeNull();
    await emu.close();
  });
});
