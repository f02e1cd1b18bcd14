// The Vendure channel against a REAL Vendure 3.7 server (child process, own database, the
// StockClerk plugin installed), next to emulated Shopify and Wix channels of the same tenant.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { newStandardWebhookSecret, standardWebhookHeaders } from '../../src/channels/signing.ts';
import { openAdapter } from '../../src/channels/registry.ts';
import { vendureChannel } from '../../src/channels/vendure/index.ts';
import {
  adminSession,
  checkout,
  setStockOnHand,
  settleAndFulfil,
  variantsBySku,
  variantStock,
  type PlacedOrder,
  type VendureSession,
} from '../../src/channels/vendure/dev-client.ts';
import { startVendureDev, type VendureDevServer } from '../../src/channels/vendure/dev-server.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { newId } from '../../src/domain/ids.ts';
import { guardianRun } from '../../src/engine/guardian.ts';
import { importListings } from '../../src/services/listings.ts';
import { systemScope } from '../../src/services/scope.ts';
import { watcherPoll } from '../../src/engine/watcher.ts';
import { recordMovements, verifyLedger } from '../../src/ledger/ledger.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

const SKUS = ['SKU-1-1', 'SKU-1-2', 'SKU-1-3', 'SKU-1-4', 'SKU-1-5', 'SKU-1-6'];

let h: Harness;
let emus: EmulatorSet;
let vendure: VendureDevServer;
let admin: VendureSession;
let t: EmulatedTenant;
let channelId: string;
let variants: Map<string, { id: string }>;
let webhookSecret: string;

/** Between Vendure's plugin and StockClerk: forwards deliveries, or drops them (a lost webhook). */
const relay = { drop: false, dropped: 0, failNext: 0, failed: 0, server: null as http.Server | null, target: '' };

function startRelay(): Promise<string> {
  relay.server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (relay.failNext > 0) {
        relay.failNext--;
        relay.failed++;
        res.writeHead(503).end('{}');
        return;
      }
      if (relay.drop) {
        relay.dropped++;
        res.writeHead(200).end('{}');
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      fetch(relay.target + req.url, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (r) => res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text()))
        .catch(() => res.writeHead(502).end());
    });
  });
  return new Promise((resolve) => relay.server!.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(relay.server!.address() as AddressInfo).port}`)));
}

const db = () => h.sc.ctx.db;
const item = (sku: string) => t.itemIds.get(sku)!;
const level = async (sku: string) =>
  (
    await db().query<{ on_hand: number; reserved: number }>(`select on_hand, reserved from stock_levels where tenant_id = $1 and item_id = $2`, [
      t.tenantId,
      item(sku),
    ])
  ).rows[0]!;
const movements = async (sku: string) =>
  (
    await db().query<{ qty_delta: number; reason: string; source_channel_id: string | null }>(
      `select qty_delta, reason, source_channel_id from stock_movements where tenant_id = $1 and item_id = $2 order by id`,
      [t.tenantId, item(sku)],
    )
  ).rows;
const vendureEvents = async () =>
  (
    await db().query<{ external_event_id: string; kind: string; outcome: string | null; event: any }>(
      `select external_event_id, kind, outcome, event from channel_events where tenant_id = $1 and channel_id = $2 order by id`,
      [t.tenantId, channelId],
    )
  ).rows;
const onVendure = async (sku: string) => variantStock(admin, variants.get(sku)!.id);

beforeAll(async () => {
  // Polls only when a test asks for one: the scheduler's poll would race the drift scenario.
  h = await startHarness({ tuning: { pollIntervalS: 3600 } });
  emus = await startEmulators();
  t = await emulatedTenant(h, emus, { types: ['shopify', 'wix'], items: SKUS.map((sku) => ({ sku, name: sku, qty: 100 })) });
  // Four shops by the end (Shopify, Wix and two Vendure stores): a Growth merchant (a trial allows 3).
  await h.sc.ctx.db.query(`update tenants set plan = 'growth' where id = $1`, [t.tenantId]);
  relay.target = h.url;
  const relayUrl = await startRelay();
  channelId = newId('ch');
  const secret = (webhookSecret = newStandardWebhookSecret());
  vendure = await startVendureDev({
    pgServerUrl: inject('pgServerUrl'),
    variants: 50,
    initialStock: 100,
    webhookUrl: `${relayUrl}/webhooks/vendure/${channelId}`,
    webhookSecret: secret,
    retryBaseMs: 100,
  });
  admin = await adminSession(vendure);
  variants = await variantsBySku(admin);
  const ctx = h.sc.ctx;
  await db().query(
    `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, 'vendure', 'Vendure store', $3, $4, $5)`,
    [
      t.tenantId,
      channelId,
      vendure.url,
      ctx.sealer.seal({ username: vendure.superadmin.username, password: vendure.superadmin.password, webhook_secret: secret }),
      { location_ids: [t.locationId] },
    ],
  );
  const imported = await importListings(ctx.db, systemScope(t.tenantId), ctx.channels, channelId);
  expect(imported).toMatchObject({ imported: 50, matched: SKUS.length });
  // The first poll only finds the end of Vendure's movement log.
  await watcherPoll(ctx, { tenantId: t.tenantId, channelId });
}, 180_000);

afterAll(async () => {
  await vendure?.stop();
  relay.server?.close();
  await emus?.close();
  await h?.stop();
});

/** Delivers one adjustment movement as the plugin would, signed; answers what the Watcher made of it. */
async function deliverAdjustment(id: string, m: { quantity: number; variantId: string; stockOnHand: number; stockAllocated: number }): Promise<string | null> {
  const body = JSON.stringify({
    type: 'stock.movements',
    data: { movements: [{ id, type: 'ADJUSTMENT', sku: 'SKU-1-6', stockLocationId: '1', ...m }] },
  });
  const res = await fetch(`${h.url}/webhooks/vendure/${channelId}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...standardWebhookHeaders(webhookSecret, `msg_${id}`, body) },
    body,
  });
  expect(res.status).toBe(200);
  const outcome = async () => (await vendureEvents()).find((e) => e.external_event_id === `movement:${id}`)?.outcome ?? null;
  await eventually(async () => (await outcome()) !== null, 5000, `movement ${id} to be applied`);
  return outcome();
}

describe('Vendure channel against a real Vendure 3.7', () => {
  it('imports every variant with its stock per location and matches by SKU', async () => {
    const { rows } = await db().query(
      `select external_id, external_location_id, external_sku, last_seen_qty, item_id from listings where tenant_id = $1 and channel_id = $2 order by external_id::int`,
      [t.tenantId, channelId],
    );
    expect(rows).toHaveLength(50);
    expect(rows[0]).toMatchObject({
      external_id: variants.get('SKU-1-1')!.id,
      external_location_id: '1',
      external_sku: 'SKU-1-1',
      last_seen_qty: 100,
      item_id: item('SKU-1-1'),
    });
    expect(rows.filter((r) => r.item_id).length).toBe(SKUS.length);
  });

  it('a Vendure checkout reserves at once, its fulfilment is a sale; the other channels follow within 2 s', async () => {
    const started = Date.now();
    const order = (await checkout(vendure, variants.get('SKU-1-1')!.id, 3)) as PlacedOrder;
    expect(order.state).toBe('PaymentAuthorized');
    // The allocation is a reservation: on hand stays, available (and every other channel) drops.
    await eventually(
      async () =>
        held(emus, 'shopify', t.channels.shopify!.accountId, 'SKU-1-1')?.qty === 97 && held(emus, 'wix', t.channels.wix!.accountId, 'SKU-1-1')?.qty === 97,
      2000,
      'Shopify and Wix to hold 97',
    );
    const reservedIn = Date.now() - started;
    expect(await level('SKU-1-1')).toEqual({ on_hand: 100, reserved: 3 });

    const fulfilled = Date.now();
    await settleAndFulfil(admin, order, 3);
    await eventually(async () => (await level('SKU-1-1')).on_hand === 97, 2000, 'the sale to reach the ledger');
    expect(await level('SKU-1-1')).toEqual({ on_hand: 97, reserved: 0 });
    const saleIn = Date.now() - fulfilled;
    expect((await movements('SKU-1-1')).filter((m) => m.source_channel_id === channelId)).toEqual([
      { qty_delta: -3, reason: 'sale', source_channel_id: channelId },
    ]);
    await quiescent(h, emus);
    expect(held(emus, 'shopify', t.channels.shopify!.accountId, 'SKU-1-1')?.qty).toBe(97);
    expect(await onVendure('SKU-1-1')).toMatchObject({ stockOnHand: 97, stockAllocated: 0 });
    const kinds = (await vendureEvents()).map((e) => e.event.effect ?? e.kind);
    expect(kinds).toEqual(expect.arrayContaining(['reserve', 'sale']));
    console.log(`vendure checkout -> other channels: reserve ${reservedIn} ms, sale in ledger ${saleIn} ms`);
  });

  it('a sale on another channel updates Vendure within 2 s, and Vendure echoing our write back moves nothing', async () => {
    const before = (await vendureEvents()).length;
    const started = Date.now();
    expect((await sale(emus, 'shopify', t.channels.shopify!.accountId, 'SKU-1-2', 2)).ok).toBe(true);
    await eventually(async () => (await onVendure('SKU-1-2')).stockOnHand === 98, 2000, 'Vendure stockOnHand 98');
    const took = Date.now() - started;
    // Vendure records our set as an ADJUSTMENT; the plugin sends it back; it is an echo.
    await eventually(async () => (await vendureEvents()).slice(before).some((e) => e.kind === 'level' && e.outcome !== null), 5000, 'the echo to be applied');
    await quiescent(h, emus);
    const echoes = (await vendureEvents()).slice(before).filter((e) => e.kind === 'level');
    expect(echoes.map((e) => e.outcome)).toEqual(['echo']);
    expect(echoes[0]!.event.change).toEqual({ delta: -2 });
    expect((await movements('SKU-1-2')).filter((m) => m.source_channel_id === channelId)).toEqual([]);
    expect(await level('SKU-1-2')).toEqual({ on_hand: 98, reserved: 0 });
    console.log(`emulator sale -> Vendure stockOnHand: ${took} ms`);
  });

  it('a manual stock edit in Vendure that adds up is an adjustment of the ledger, and reaches the other channels', async () => {
    await setStockOnHand(admin, variants.get('SKU-1-3')!.id, 90);
    await eventually(async () => (await level('SKU-1-3')).on_hand === 90, 2000, 'the adjustment in the ledger');
    await quiescent(h, emus);
    expect((await movements('SKU-1-3')).filter((m) => m.source_channel_id === channelId)).toEqual([
      { qty_delta: -10, reason: 'adjustment', source_channel_id: channelId },
    ]);
    expect(held(emus, 'wix', t.channels.wix!.accountId, 'SKU-1-3')?.qty).toBe(90);
    const last = (await vendureEvents()).at(-1)!;
    expect(last.outcome).toBe('applied');
    // Vendure already holds the ledger's value: nothing pushed back, no second adjustment.
    expect(await onVendure('SKU-1-3')).toMatchObject({ stockOnHand: 90 });
  });

  it('an edit that does not add up (one delivery lost) is drift: nothing moves, the Guardian repairs Vendure', async () => {
    const moves = (await movements('SKU-1-4')).length;
    relay.drop = true;
    await setStockOnHand(admin, variants.get('SKU-1-4')!.id, 98); // this delivery is lost
    await eventually(() => relay.dropped > 0, 5000, 'the delivery to be dropped');
    relay.drop = false;
    await setStockOnHand(admin, variants.get('SKU-1-4')!.id, 97); // delta -1, but 100 - 1 != 97
    await eventually(async () => (await vendureEvents()).at(-1)!.outcome === 'drift', 3000, 'the edit to be classified');
    await quiescent(h, emus);
    expect((await movements('SKU-1-4')).length).toBe(moves);
    expect(await level('SKU-1-4')).toEqual({ on_hand: 100, reserved: 0 });
    const [report] = (await guardianRun(h.sc.ctx, { tenantId: t.tenantId })).filter((r) => r.channelId === channelId);
    expect(report).toMatchObject({ repaired: 1, alerted: 0, error: null });
    await eventually(async () => (await onVendure('SKU-1-4')).stockOnHand === 100, 5000, 'the Guardian to repair Vendure');
    await quiescent(h, emus);
    expect((await movements('SKU-1-4')).length).toBe(moves);
  });

  it('the Watcher poll recovers a checkout whose webhooks were all lost', async () => {
    relay.drop = true;
    const order = (await checkout(vendure, variants.get('SKU-1-6')!.id, 2)) as PlacedOrder;
    await settleAndFulfil(admin, order, 2);
    await new Promise((r) => setTimeout(r, 2500)); // the poll query leaves movements younger than 2 s
    relay.drop = false;
    expect(await level('SKU-1-6')).toEqual({ on_hand: 100, reserved: 0 });
    await watcherPoll(h.sc.ctx, { tenantId: t.tenantId, channelId });
    await eventually(async () => (await level('SKU-1-6')).on_hand === 98, 5000, 'the polled sale');
    await quiescent(h, emus);
    expect(await level('SKU-1-6')).toEqual({ on_hand: 98, reserved: 0 });
    expect(held(emus, 'shopify', t.channels.shopify!.accountId, 'SKU-1-6')?.qty).toBe(98);
  });

  it('12 concurrent Vendure checkouts for the last 5 units: the ledger stays exact and no other channel oversells', async () => {
    // Take SKU-1-5 down to 5 in the ledger; every channel, Vendure included, follows.
    await recordMovements(db(), t.tenantId, [{ itemId: item('SKU-1-5'), locationId: t.locationId, qtyDelta: -95, reason: 'adjustment' }]);
    await eventually(async () => (await onVendure('SKU-1-5')).stockOnHand === 5, 5000, 'Vendure to hold 5');
    await quiescent(h, emus);

    const results = await Promise.all(
      Array.from({ length: 12 }, () => checkout(vendure, variants.get('SKU-1-5')!.id, 1).catch((e: Error) => ({ error: e.message }))),
    );
    const placed = results.filter((r): r is PlacedOrder => 'state' in r && r.state === 'PaymentAuthorized');
    const allocations = (
      await admin.call(`query($id:ID!){ productVariant(id:$id){ stockMovements(options:{type:ALLOCATION}){ totalItems } } }`, {
        id: variants.get('SKU-1-5')!.id,
      })
    ).productVariant.stockMovements.totalItems as number;
    // (Diagnostics for a failure on a loaded machine: what each shopper got.)
    const diag = () => JSON.stringify({ results: results.map((r) => ('state' in r ? r.state : r.error)), allocations });
    expect(allocations, diag()).toBe(placed.length);
    await eventually(async () => (await level('SKU-1-5')).reserved === allocations, 5000, 'every allocation reserved');
    await quiescent(h, emus);
    // StockClerk counts every allocation Vendure wrote, even where Vendure's own counter lost some.
    const level5 = await level('SKU-1-5');
    // (On a failure, every movement and every Vendure event: which one moved on_hand.)
    if (level5.on_hand !== 5) console.error(JSON.stringify({ movements: await movements('SKU-1-5'), events: (await vendureEvents()).slice(-40) }));
    expect(level5, diag()).toEqual({ on_hand: 5, reserved: allocations });
    const wantElsewhere = Math.max(0, 5 - allocations);
    expect(held(emus, 'shopify', t.channels.shopify!.accountId, 'SKU-1-5')?.qty, diag()).toBe(wantElsewhere);
    expect(held(emus, 'wix', t.channels.wix!.accountId, 'SKU-1-5')?.qty, diag()).toBe(wantElsewhere);
    expect(await verifyLedger(db())).toEqual([]);
    const v = await onVendure('SKU-1-5');
    console.log(`12 concurrent checkouts of 5 units: Vendure placed ${placed.length}, stockAllocated ${v.stockAllocated}; StockClerk reserved ${allocations}`);
    // Vendure may have let more than 5 through (its allocation check races); StockClerk never
    // told any channel it had more than the ledger allows.
    const { rows } = await db().query(
      `select max(qty)::int as max from sync_events where tenant_id = $1 and item_id = $2 and kind = 'push' and outcome = 'ok' and created_at > now() - interval '1 minute'`,
      [t.tenantId, item('SKU-1-5')],
    );
    expect(rows[0].max ?? 0, diag()).toBeLessThanOrEqual(5);
  });

  it('our own stockOnHand write coming back after a checkout allocated meanwhile is an echo, not a merchant edit', async () => {
    // The race the concurrent checkouts can hit: our push read allocated 0 and set stockOnHand 60
    // (sellable 60); a checkout allocated 2 in between, so the adjustment's echo says sellable 58.
    // Its delta (-40 from 100) adds up from what we last saw (98), which is what a merchant's edit
    // looks like; the stockOnHand we wrote is what tells it apart.
    const vid = variants.get('SKU-1-6')!.id;
    await quiescent(h, emus);
    await db().query(
      `update listings set last_pushed_qty = 55, last_pushed_raw = 60, last_seen_qty = 98, last_seen_version = null where tenant_id = $1 and channel_id = $2 and external_id = $3`,
      [t.tenantId, channelId, vid],
    );
    const before = await movements('SKU-1-6');
    expect(await deliverAdjustment('9000001', { quantity: -40, variantId: vid, stockOnHand: 60, stockAllocated: 2 })).toBe('echo');
    expect(await movements('SKU-1-6')).toEqual(before);
  });

  it("an earlier write's echo arriving after a later write is ours too, not a merchant edit", async () => {
    // Two pushes in quick succession wrote stockOnHand 61 then 62; the first one's adjustment
    // event is delivered after the second was recorded. Its delta adds up from what we last saw,
    // which is what a merchant's edit looks like: only the values we wrote tell it apart.
    const vid = variants.get('SKU-1-6')!.id;
    await quiescent(h, emus);
    await db().query(
      `update listings set last_pushed_qty = 60, last_pushed_raw = 62, recent_pushed_raw = '{61,62}', last_seen_qty = 58, last_seen_version = null
       where tenant_id = $1 and channel_id = $2 and external_id = $3`,
      [t.tenantId, channelId, vid],
    );
    const before = await movements('SKU-1-6');
    expect(await deliverAdjustment('9000002', { quantity: 1, variantId: vid, stockOnHand: 61, stockAllocated: 2 })).toBe('echo');
    expect(await movements('SKU-1-6')).toEqual(before);
  });

  it('a delivery with a bad signature is refused on the shared inbound path and records nothing', async () => {
    const body = JSON.stringify({
      type: 'stock.movements',
      data: { movements: [{ id: '999999', type: 'SALE', quantity: -1, variantId: variants.get('SKU-1-1')!.id, stockLocationId: '1' }] },
    });
    const before = (await vendureEvents()).length;
    const wrong = standardWebhookHeaders(newStandardWebhookSecret(), 'msg_forged', body);
    const res = await fetch(`${h.url}/webhooks/vendure/${channelId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...wrong }, body });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    const stale = await fetch(`${h.url}/webhooks/vendure/${channelId}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': 'msg_old',
        'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600),
        'webhook-signature': 'v1,AAAA',
      },
      body,
    });
    expect(stale.status).toBe(401);
    expect((await vendureEvents()).length).toBe(before);
  });

  it('the adapter never has two writes in flight on one variant: 8 concurrent pushes leave Vendure consistent', async () => {
    const conn = {
      channelId: 'ch_adapter_test',
      baseUrl: vendure.url,
      credentials: { username: vendure.superadmin.username, password: vendure.superadmin.password },
      settings: {},
    };
    const adapter = openAdapter(vendureChannel, conn);
    const v = variants.get('SKU-2-1')!.id;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        adapter.pushLevels([
          { listingId: `l${i}`, externalId: v, externalLocationId: '1', qty: 50 + i, known: { qty: null, version: null }, idempotencyKey: `k${i}` },
        ]),
      ),
    );
    // Serialised in call order: each read back its own value, and the last one stands.
    // `written`: the stockOnHand each set (nothing allocated on this variant).
    expect(results.map((r) => r[0])).toEqual(
      Array.from({ length: 8 }, (_, i) => ({ listingId: `l${i}`, outcome: 'ok', qty: 50 + i, version: null, written: 50 + i })),
    );
    const after = await variantStock(admin, v);
    expect(after.stockOnHand).toBe(57);
    // Vendure's own ledger agrees with its level: no lost update.
    const r = await admin.call(
      `query($id:ID!){ productVariant(id:$id){ stockMovements(options:{take:1000}){ items{ ... on StockAdjustment{ quantity } } } } }`,
      { id: v },
    );
    const sum = r.productVariant.stockMovements.items.reduce((a: number, m: { quantity?: number }) => a + (m.quantity ?? 0), 0);
    expect(sum).toBe(57);
  });

  it('logs in again when Vendure ends the session', async () => {
    // A recording hop in front of Vendure: counts logins, remembers the bearer token in use.
    let logins = 0;
    let bearer = '';
    const hop = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const body = Buffer.concat(chunks);
        if (body.includes('StockClerkLogin')) logins++;
        if (req.headers.authorization) bearer = req.headers.authorization.slice(7);
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (req.headers.authorization) headers.authorization = req.headers.authorization;
        const r = await fetch(vendure.url + req.url, { method: 'POST', headers, body });
        const out: Record<string, string> = { 'content-type': 'application/json' };
        const tok = r.headers.get('vendure-auth-token');
        if (tok) out['vendure-auth-token'] = tok;
        res.writeHead(r.status, out).end(await r.text());
      });
    });
    await new Promise<void>((r) => hop.listen(0, '127.0.0.1', () => r()));
    try {
      const adapter = openAdapter(vendureChannel, {
        channelId: 'ch_relogin_test',
        baseUrl: `http://127.0.0.1:${(hop.address() as AddressInfo).port}`,
        credentials: { username: vendure.superadmin.username, password: vendure.superadmin.password },
        settings: {},
      });
      expect(await adapter.testConnection()).toEqual({ ok: true, account: 'superadmin' });
      expect(logins).toBe(1);
      // The merchant (or an expiry) ends that session on Vendure's side.
      const ended = await fetch(vendure.adminUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${bearer}` },
        body: JSON.stringify({ query: 'mutation{ logout { success } }' }),
      });
      expect(((await ended.json()) as { data: { logout: { success: boolean } } }).data.logout.success).toBe(true);
      const [l] = await adapter.readListings([{ externalId: variants.get('SKU-1-1')!.id, externalLocationId: '1' }]);
      expect(l).toMatchObject({ sku: 'SKU-1-1' });
      expect(logins).toBe(2);
      // Wrong credentials are an auth failure, not a retry loop.
      const bad = openAdapter(vendureChannel, {
        channelId: 'ch_bad',
        baseUrl: vendure.url,
        credentials: { username: 'superadmin', password: 'wrong' },
        settings: {},
      });
      await expect(bad.testConnection()).rejects.toMatchObject({ name: 'ChannelError', kind: 'auth' });
    } finally {
      hop.close();
    }
  });

  it('a merchant connects a Vendure store through the API: validated, tested, imported, secrets never echoed', async () => {
    const credentials = { username: vendure.superadmin.username, password: vendure.superadmin.password, webhook_secret: newStandardWebhookSecret() };
    const noUrl = await api(h.url, 'POST', '/api/v1/channels', { token: t.token, body: { type: 'vendure', name: 'No URL', credentials } });
    expect(noUrl.status).toBe(400);
    expect(noUrl.body.error.code).toBe('validation_failed');
    const badSetting = await api(h.url, 'POST', '/api/v1/channels', {
      token: t.token,
      body: { type: 'vendure', name: 'Bad', base_url: vendure.url, credentials, settings: { admin_api_path: 'a b' } },
    });
    expect(badSetting.status).toBe(400);
    const created = await api(h.url, 'POST', '/api/v1/channels', {
      token: t.token,
      body: {
        type: 'vendure',
        name: 'Vendure via API',
        base_url: vendure.url,
        credentials,
        settings: { location_ids: [t.locationId], stock_location_id: '1', admin_api_path: 'admin-api' },
      },
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(vendure.superadmin.password);
    expect(JSON.stringify(created.body)).not.toContain(credentials.webhook_secret);
    const id = created.body.id as string;
    try {
      const tested = await api(h.url, 'POST', `/api/v1/channels/${id}/test`, { token: t.token });
      expect(tested.status).toBe(200);
      expect(JSON.stringify(tested.body)).toContain('superadmin');
      const imported = await api(h.url, 'POST', `/api/v1/channels/${id}/import`, { token: t.token });
      expect(imported.status).toBe(200);
      expect(imported.body).toMatchObject({ imported: 50, matched: SKUS.length });
    } finally {
      expect((await api(h.url, 'DELETE', `/api/v1/channels/${id}`, { token: t.token })).status).toBe(204);
    }
  });

  it('the plugin retries a failed delivery with backoff until StockClerk takes it', async () => {
    admin = await adminSession(vendure); // the re-login test's logout ended every superadmin session
    relay.failNext = 2;
    const failedBefore = relay.failed;
    await setStockOnHand(admin, variants.get('SKU-1-3')!.id, 88);
    await eventually(async () => (await level('SKU-1-3')).on_hand === 88, 10_000, 'the retried delivery to be applied');
    expect(relay.failed - failedBefore).toBe(2);
    await quiescent(h, emus);
    expect((await movements('SKU-1-3')).filter((m) => m.source_channel_id === channelId).map((m) => m.qty_delta)).toEqual([-10, -2]);
  });
});
