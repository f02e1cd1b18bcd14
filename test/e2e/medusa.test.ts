// The Medusa channel end to end against a REAL Medusa v2 server (peers/medusa, child process, own
// database, the StockClerk subscriber posting signed webhooks), next to an Epos Now till
// (emulator) of the same tenant. Skipped, with the reason, only where peers/medusa is not
// installed outside CI (`npm ci --prefix peers/medusa`); in CI it must run.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ChannelError } from '../../src/channels/contract.ts';
import { medusaChannel } from '../../src/channels/medusa/index.ts';
import { checkout, levelOf, setStocked } from '../../src/channels/medusa/dev-client.ts';
import { MEDUSA_ADMIN, medusaSkipReason, startMedusaDev, type MedusaDevServer } from '../../src/channels/medusa/dev-server.ts';
import { openAdapter } from '../../src/channels/registry.ts';
import { newStandardWebhookSecret, standardWebhookHeaders } from '../../src/channels/signing.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { newId } from '../../src/domain/ids.ts';
import { guardianRun } from '../../src/engine/guardian.ts';
import { watcherPoll } from '../../src/engine/watcher.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { importListings } from '../../src/services/listings.ts';
import { systemScope } from '../../src/services/scope.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

const skip = medusaSkipReason();
if (skip) console.warn(`Medusa e2e skipped: ${skip}`);

const SKUS = ['MED-1', 'MED-2', 'MED-3', 'MED-4', 'MED-5'];

let h: Harness;
let emus: EmulatorSet;
let medusa: MedusaDevServer;
let t: EmulatedTenant;
let channelId: string;
let webhookSecret: string;

/** Between Medusa's subscriber and StockClerk: forwards deliveries, or drops them (a lost webhook). */
const relay = { drop: false, dropped: [] as string[], server: null as http.Server | null, target: '' };

function startRelay(): Promise<string> {
  relay.server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (relay.drop) {
        relay.dropped.push(String((JSON.parse(Buffer.concat(chunks).toString()) as { type?: string }).type));
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
const v = (sku: string) => medusa.fixture.variants.get(sku)!;
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
      `select qty_delta, reason, source_channel_id from stock_movements where tenant_id = $1 and item_id = $2 and reason <> 'receipt' order by id`,
      [t.tenantId, item(sku)],
    )
  ).rows;
const medusaEvents = async () =>
  (
    await db().query<{ external_event_id: string; kind: string; outcome: string | null; event: any }>(
      `select external_event_id, kind, outcome, event from channel_events where tenant_id = $1 and channel_id = $2 order by id`,
      [t.tenantId, channelId],
    )
  ).rows;
const onMedusa = (sku: string) => levelOf(medusa.admin, v(sku).inventoryItemId, medusa.fixture.stockLocationId);
const till = (sku: string) => held(emus, 'eposnow', t.channels.eposnow!.accountId, sku)?.qty;

describe.skipIf(skip !== null)('Medusa channel against a real Medusa v2', () => {
  beforeAll(async () => {
    // Polls only when a test asks for one.
    h = await startHarness({ tuning: { pollIntervalS: 3600 } });
    emus = await startEmulators();
    t = await emulatedTenant(h, emus, { types: ['eposnow'], items: SKUS.map((sku) => ({ sku, name: sku, qty: 100 })) });
    relay.target = h.url;
    const relayUrl = await startRelay();
    channelId = newId('ch');
    webhookSecret = newStandardWebhookSecret();
    medusa = await startMedusaDev({
      pgServerUrl: inject('pgServerUrl'),
      skus: [...SKUS, 'MED-ONLY-ON-MEDUSA'],
      initialStock: 100,
      webhookUrl: `${relayUrl}/webhooks/medusa/${channelId}`,
      webhookSecret,
      retryBaseMs: 100,
    });
    console.log(`Medusa up in ${medusa.bootMs} ms`);
    const ctx = h.sc.ctx;
    await db().query(
      `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, 'medusa', 'Medusa store', $3, $4, $5)`,
      [
        t.tenantId,
        channelId,
        medusa.url,
        ctx.sealer.seal({ email: MEDUSA_ADMIN.email, password: MEDUSA_ADMIN.password, webhook_secret: webhookSecret }),
        { location_ids: [t.locationId], stock_location_id: medusa.fixture.stockLocationId },
      ],
    );
    const imported = await importListings(ctx.db, systemScope(t.tenantId), ctx.channels, channelId);
    expect(imported).toMatchObject({ imported: SKUS.length + 1, matched: SKUS.length });
    // The first poll only finds the end of Medusa's order list.
    await watcherPoll(ctx, { tenantId: t.tenantId, channelId });
  }, 240_000);

  afterAll(async () => {
    await medusa?.stop();
    relay.server?.close();
    await emus?.close();
    await h?.stop();
  });

  it('imports every inventory item with its sellable quantity and matches by SKU', async () => {
    const { rows } = await db().query(
      `select external_id, external_location_id, external_sku, last_seen_qty, item_id from listings where tenant_id = $1 and channel_id = $2 order by external_sku`,
      [t.tenantId, channelId],
    );
    expect(rows).toHaveLength(SKUS.length + 1);
    expect(rows.find((r) => r.external_sku === 'MED-1')).toMatchObject({
      external_id: v('MED-1').inventoryItemId,
      external_location_id: medusa.fixture.stockLocationId,
      last_seen_qty: 100,
      item_id: item('MED-1'),
    });
    expect(rows.filter((r) => r.item_id).length).toBe(SKUS.length);
  });

  it('a Medusa store checkout becomes exactly one sale movement, and the till follows', async () => {
    const started = Date.now();
    const order = await checkout(medusa.url, medusa.fixture, v('MED-1').variantId, 3);
    expect(order).not.toBeNull();
    await eventually(async () => (await level('MED-1')).on_hand === 97, 10_000, 'the sale in the ledger');
    await eventually(() => till('MED-1') === 97, 10_000, 'the till to hold 97');
    console.log(`medusa checkout -> till: ${Date.now() - started} ms`);
    await quiescent(h, emus);
    expect(await movements('MED-1')).toEqual([{ qty_delta: -3, reason: 'sale', source_channel_id: channelId }]);
    // Medusa reserved 3 of its 100: it already sells 97, so nothing had to be pushed back.
    expect(await onMedusa('MED-1')).toEqual({ stocked_quantity: 100, reserved_quantity: 3, available_quantity: 97 });
    const sales = (await medusaEvents()).filter((e) => e.kind === 'order');
    expect(sales.map((e) => [e.external_event_id, e.outcome])).toEqual([[`order:${order!.id}:placed`, 'applied']]);
    // A later poll finds the same order under the same id: nothing moves twice.
    await watcherPoll(h.sc.ctx, { tenantId: t.tenantId, channelId });
    await quiescent(h, emus);
    expect(await movements('MED-1')).toHaveLength(1);
    expect(await verifyLedger(db())).toEqual([]);
  });

  it('fulfilling that order on Medusa moves nothing; cancelling another gives its units back once', async () => {
    // The order from the checkout above: Medusa takes the 3 out of stocked and out of reserved.
    const { orders } = await medusa.admin.call('GET', '/admin/orders?fields=id,items.id,items.quantity&order=created_at&limit=1');
    const placed = orders[0];
    await medusa.admin.call('POST', `/admin/orders/${placed.id}/fulfillments`, {
      location_id: medusa.fixture.stockLocationId,
      items: placed.items.map((i: { id: string; quantity: number }) => ({ id: i.id, quantity: i.quantity })),
    });
    await eventually(async () => (await onMedusa('MED-1')).stocked_quantity === 97, 10_000, 'Medusa to ship the 3');
    await quiescent(h, emus);
    expect(await onMedusa('MED-1')).toEqual({ stocked_quantity: 97, reserved_quantity: 0, available_quantity: 97 });
    expect(await movements('MED-1')).toEqual([{ qty_delta: -3, reason: 'sale', source_channel_id: channelId }]);
    expect(till('MED-1')).toBe(97);

    // A second order, cancelled before it ships: the ledger gets its 2 back, the till follows.
    const order = await checkout(medusa.url, medusa.fixture, v('MED-1').variantId, 2);
    await eventually(async () => (await level('MED-1')).on_hand === 95, 10_000, 'the second sale');
    await medusa.admin.call('POST', `/admin/orders/${order!.id}/cancel`);
    await eventually(async () => (await level('MED-1')).on_hand === 97, 10_000, 'the cancellation in the ledger');
    await eventually(() => till('MED-1') === 97, 10_000, 'the till back at 97');
    await quiescent(h, emus);
    expect(await onMedusa('MED-1')).toEqual({ stocked_quantity: 97, reserved_quantity: 0, available_quantity: 97 });
    expect(await movements('MED-1')).toEqual([
      { qty_delta: -3, reason: 'sale', source_channel_id: channelId },
      { qty_delta: -2, reason: 'sale', source_channel_id: channelId },
      { qty_delta: 2, reason: 'return', source_channel_id: channelId },
    ]);
  });

  it("a till sale reaches Medusa's level, and our own write echoing back moves nothing", async () => {
    const before = (await medusaEvents()).length;
    const started = Date.now();
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, 'MED-2', 4)).ok).toBe(true);
    await eventually(async () => (await onMedusa('MED-2')).stocked_quantity === 96, 10_000, 'Medusa stocked 96');
    console.log(`till sale -> Medusa level: ${Date.now() - started} ms`);
    // Medusa emits inventory-level.updated for our write; the subscriber sends it back: an echo.
    await eventually(async () => (await medusaEvents()).slice(before).some((e) => e.kind === 'level' && e.outcome !== null), 10_000, 'the echo to be applied');
    await quiescent(h, emus);
    const echoes = (await medusaEvents()).slice(before).filter((e) => e.kind === 'level');
    expect(echoes.map((e) => e.outcome)).toEqual(['echo']);
    expect((await movements('MED-2')).filter((m) => m.source_channel_id === channelId)).toEqual([]);
    expect(await level('MED-2')).toEqual({ on_hand: 96, reserved: 0 });
  });

  it('a sale on Medusa beside a reservation there: pushes keep the reserved units out of the sellable', async () => {
    // 2 reserved by a checkout, then a till sale: Medusa must sell ledger - nothing more.
    await checkout(medusa.url, medusa.fixture, v('MED-3').variantId, 2);
    await eventually(async () => (await level('MED-3')).on_hand === 98, 10_000, 'the checkout in the ledger');
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, 'MED-3', 5)).ok).toBe(true);
    await eventually(async () => (await onMedusa('MED-3')).available_quantity === 93, 10_000, 'Medusa to sell 93');
    await quiescent(h, emus);
    expect(await onMedusa('MED-3')).toEqual({ stocked_quantity: 95, reserved_quantity: 2, available_quantity: 93 });
    expect(await level('MED-3')).toEqual({ on_hand: 93, reserved: 0 });
  });

  it("a stock edit in Medusa's admin moves nothing; the Guardian puts Medusa back to the ledger", async () => {
    const before = await movements('MED-2');
    // 2 short of the ledger's 96: within the tenant's drift threshold (5), so the Guardian repairs it.
    await setStocked(medusa.admin, v('MED-2').inventoryItemId, medusa.fixture.stockLocationId, 94);
    await eventually(
      async () => (await medusaEvents()).at(-1)?.event.level?.qty === 94 && (await medusaEvents()).at(-1)?.outcome != null,
      10_000,
      'the edit seen',
    );
    expect((await medusaEvents()).at(-1)!.outcome).toBe('confirmed');
    await quiescent(h, emus);
    expect(await movements('MED-2')).toEqual(before);
    const [report] = (await guardianRun(h.sc.ctx, { tenantId: t.tenantId })).filter((r) => r.channelId === channelId);
    expect(report).toMatchObject({ repaired: 1, alerted: 0, error: null });
    await eventually(async () => (await onMedusa('MED-2')).available_quantity === 96, 10_000, 'the Guardian to repair Medusa');
    await quiescent(h, emus);
    expect(await movements('MED-2')).toEqual(before);
  });

  it('the poll recovers a checkout whose webhooks were all lost, once', async () => {
    relay.drop = true;
    const order = await checkout(medusa.url, medusa.fixture, v('MED-4').variantId, 2);
    expect(order).not.toBeNull();
    await eventually(() => relay.dropped.includes('order.placed'), 10_000, 'the order.placed delivery to be dropped');
    await new Promise((r) => setTimeout(r, 300));
    relay.drop = false;
    expect(await level('MED-4')).toEqual({ on_hand: 100, reserved: 0 });
    await watcherPoll(h.sc.ctx, { tenantId: t.tenantId, channelId });
    await eventually(async () => (await level('MED-4')).on_hand === 98, 10_000, 'the polled sale');
    await quiescent(h, emus);
    expect(till('MED-4')).toBe(98);
    await watcherPoll(h.sc.ctx, { tenantId: t.tenantId, channelId });
    await quiescent(h, emus);
    expect(await movements('MED-4')).toEqual([{ qty_delta: -2, reason: 'sale', source_channel_id: channelId }]);
  });

  it('a duplicate delivery moves nothing twice', async () => {
    const body = JSON.stringify({
      type: 'order.placed',
      data: { id: 'order_dup_1' },
      state: {
        created_at: new Date().toISOString(),
        status: 'pending',
        items: [{ id: 'ordli_dup_1', variant_id: v('MED-5').variantId, sku: 'MED-5', quantity: 1 }],
        reservations: [
          {
            id: 'res_dup_1',
            line_item_id: 'ordli_dup_1',
            inventory_item_id: v('MED-5').inventoryItemId,
            location_id: medusa.fixture.stockLocationId,
            quantity: 1,
          },
        ],
      },
    });
    const post = (id: string) =>
      fetch(`${h.url}/webhooks/medusa/${channelId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...standardWebhookHeaders(webhookSecret, id, body) },
        body,
      });
    expect((await post('msg_dup_a')).status).toBe(200);
    // The same event again (a retry with a new message id, as a subscriber retry would send).
    const again = await post('msg_dup_b');
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ received: 0, duplicates: 1 });
    await quiescent(h, emus);
    expect(await movements('MED-5')).toEqual([{ qty_delta: -1, reason: 'sale', source_channel_id: channelId }]);
  });

  it('forged, tampered, stale and unsigned deliveries are refused and record nothing', async () => {
    const body = JSON.stringify({
      type: 'order.placed',
      data: { id: 'order_forged' },
      state: { items: [{ id: 'l1', sku: 'MED-5', quantity: 50 }], reservations: [] },
    });
    const before = (await medusaEvents()).length;
    const url = `${h.url}/webhooks/medusa/${channelId}`;
    const send = (headers: Record<string, string>, b = body) =>
      fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: b });
    const wrong = await send(standardWebhookHeaders(newStandardWebhookSecret(), 'msg_forged', body));
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    const signed = standardWebhookHeaders(webhookSecret, 'msg_t', body);
    expect((await send(signed, body.replace('"quantity":50', '"quantity":51'))).status).toBe(401);
    const stale = standardWebhookHeaders(webhookSecret, 'msg_old', body, new Date(Date.now() - 10 * 60_000));
    const staleRes = await send(stale);
    expect(staleRes.status).toBe(401);
    expect(((await staleRes.json()) as { error: { code: string } }).error.code).toBe('stale_timestamp');
    expect((await send({})).status).toBe(401);
    expect((await medusaEvents()).length).toBe(before);
  });

  it('a merchant connects a Medusa store through the API: validated, tested, imported, secrets never echoed', async () => {
    const credentials = { email: MEDUSA_ADMIN.email, password: MEDUSA_ADMIN.password, webhook_secret: newStandardWebhookSecret() };
    const body = (extra: Record<string, unknown>) => ({ type: 'medusa', name: 'Medusa via API', base_url: medusa.url, credentials, ...extra });
    const noUrl = await api(h.url, 'POST', '/api/v1/channels', { token: t.token, body: { ...body({}), base_url: undefined } });
    expect(noUrl.status).toBe(400);
    const noLogin = await api(h.url, 'POST', '/api/v1/channels', {
      token: t.token,
      body: body({ credentials: { webhook_secret: credentials.webhook_secret } }),
    });
    expect(noLogin.status).toBe(400);
    // Two Medusa stores and a till: a Growth merchant (a trial allows 3 shops).
    await db().query(`update tenants set plan = 'growth' where id = $1`, [t.tenantId]);
    const created = await api(h.url, 'POST', '/api/v1/channels', {
      token: t.token,
      body: body({ settings: { location_ids: [t.locationId], stock_location_id: medusa.fixture.stockLocationId } }),
    });
    expect(created.status).toBe(201);
    expect(JSON.stringify(created.body)).not.toContain(MEDUSA_ADMIN.password);
    expect(JSON.stringify(created.body)).not.toContain(credentials.webhook_secret);
    const id = created.body.id as string;
    try {
      const tested = await api(h.url, 'POST', `/api/v1/channels/${id}/test`, { token: t.token });
      expect(tested.status).toBe(200);
      expect(JSON.stringify(tested.body)).toContain(MEDUSA_ADMIN.email);
      const imported = await api(h.url, 'POST', `/api/v1/channels/${id}/import`, { token: t.token });
      expect(imported.status).toBe(200);
      expect(imported.body).toMatchObject({ imported: SKUS.length + 1, matched: SKUS.length });
    } finally {
      expect((await api(h.url, 'DELETE', `/api/v1/channels/${id}`, { token: t.token })).status).toBe(204);
    }
  });

  it('the adapter: pages through inventory items, logs in again after a 401, maps errors to ChannelError kinds', async () => {
    // A hop in front of Medusa: answers 401 / 429 / 500 when told to, else forwards.
    const next: number[] = [];
    const hop = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const fail = next.shift();
        if (fail) {
          res.writeHead(fail, { 'content-type': 'application/json', ...(fail === 429 ? { 'retry-after': '2' } : {}) }).end('{"type":"x","message":"injected"}');
          return;
        }
        const headers: Record<string, string> = {};
        for (const k of ['authorization', 'content-type']) if (typeof req.headers[k] === 'string') headers[k] = req.headers[k];
        const r = await fetch(medusa.url + req.url, { method: req.method, headers, body: req.method === 'GET' ? undefined : Buffer.concat(chunks) });
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
      });
    });
    await new Promise<void>((r) => hop.listen(0, '127.0.0.1', () => r()));
    try {
      const conn = (credentials: Record<string, string>) => ({
        channelId: 'ch_adapter_test',
        baseUrl: `http://127.0.0.1:${(hop.address() as AddressInfo).port}`,
        credentials: { webhook_secret: webhookSecret, ...credentials },
        settings: { stock_location_id: medusa.fixture.stockLocationId },
      });
      const adapter = openAdapter(medusaChannel, conn({ email: MEDUSA_ADMIN.email, password: MEDUSA_ADMIN.password }));
      expect(await adapter.testConnection()).toMatchObject({ ok: true });
      // 401 once: a fresh login, then the call goes through.
      next.push(401);
      const [l] = await adapter.readListings([{ externalId: v('MED-5').inventoryItemId }]);
      expect(l).toMatchObject({ sku: 'MED-5', externalLocationId: medusa.fixture.stockLocationId });
      next.push(429);
      await expect(adapter.readListings([{ externalId: v('MED-5').inventoryItemId }])).rejects.toMatchObject({ kind: 'rate_limited', retryAfterMs: 2000 });
      next.push(500);
      await expect(adapter.readListings([{ externalId: v('MED-5').inventoryItemId }])).rejects.toMatchObject({ kind: 'transient' });
      const bad = openAdapter(medusaChannel, conn({ email: MEDUSA_ADMIN.email, password: 'wrong' }));
      await expect(bad.testConnection()).rejects.toBeInstanceOf(ChannelError);
      await expect(bad.testConnection()).rejects.toMatchObject({ kind: 'auth' });
      // A secret API key works the same (HTTP Basic).
      const { api_key } = await medusa.admin.call('POST', '/admin/api-keys', { title: 'StockClerk', type: 'secret' });
      const keyed = openAdapter(medusaChannel, {
        ...conn({ api_key: api_key.token }),
        settings: { stock_location_id: medusa.fixture.stockLocationId, page_size: 2 },
      });
      const pages: number[] = [];
      const skus = new Set<string | null>();
      for await (const page of keyed.listListings()) {
        pages.push(page.length);
        for (const l of page) skus.add(l.sku);
      }
      // Six inventory items, two a page.
      expect(pages).toEqual([2, 2, 2]);
      expect(skus).toEqual(new Set([...SKUS, 'MED-ONLY-ON-MEDUSA']));
      // A push with a reservation in place: stocked = sellable + reserved.
      const [pushed] = await keyed.pushLevels([
        { listingId: 'l1', externalId: v('MED-3').inventoryItemId, qty: 90, known: { qty: null, version: null }, idempotencyKey: 'k1' },
      ]);
      expect(pushed).toEqual({ listingId: 'l1', outcome: 'ok', qty: 90, version: null, written: 92 });
      expect(await onMedusa('MED-3')).toEqual({ stocked_quantity: 92, reserved_quantity: 2, available_quantity: 90 });
      // Put it back where the ledger has it (93 sellable).
      await setStocked(medusa.admin, v('MED-3').inventoryItemId, medusa.fixture.stockLocationId, 95);
    } finally {
      hop.close();
    }
  });
});
