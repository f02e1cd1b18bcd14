// Tenant isolation (invariant 6) over every authenticated route: tenant A builds up real data
// (location, items, an Epos Now channel on the emulator with listings, a till sale, movements,
// pushes, an alert, Guardian runs, a queued job); tenant B then calls every route with A's ids and
// lists everything. B sees none of A's ids, every one of A's resources is a 404 to B, and A's rows
// and jobs are byte-for-byte unchanged. Also: no token / bad token -> 401 on every route.
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEposnowEmulator } from '../../emulators/eposnow/index.ts';
import { addJobs } from '../../src/db/jobs.ts';
import { withTx } from '../../src/db/pool.ts';
import { connectEmulatedChannel, type ConnectedChannel } from '../../src/demo/emulated.ts';
import { raiseAlert } from '../../src/services/alerts.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';
import { client, expectError, quiet, snapshot, type Call } from './support.ts';

let h: Harness;
const emu = createEposnowEmulator();
type Tenant = Awaited<ReturnType<typeof registerTenant>> & { call: Call; userId: string; item: string; channel: ConnectedChannel; listing: string };
let A: Tenant;
let B: Tenant;
const a = {
  location2: '',
  alert: '',
  unmatchedListing: '',
  order: '',
  reservation: '',
  apiKey: '',
  movement: 0,
  transfer: '',
  po: '',
  kit: '',
  endpoint: '',
  delivery: '',
  importJob: '',
  exportJob: '',
};
let receiver: Receiver;
const bSeen: string[] = [];

async function setUp(name: string, seen?: string[]): Promise<Tenant> {
  const t = await registerTenant(h.url, name);
  const call = client(h.url, t.token, seen);
  const userId = (await call('GET', '/me')).body.user.id;
  const item = (await call('POST', '/items', { sku: 'SOUP', name: 'Soup' })).body.id;
  const channel = await connectEmulatedChannel(h.sc.ctx, {
    tenantId: t.tenantId,
    type: 'eposnow',
    emulator: emu,
    name: `${name} till`,
    stockclerkUrl: h.url,
    items: [
      { sku: 'SOUP', name: 'Soup', qty: 5 },
      { sku: 'MYSTERY', name: 'Not in the ledger', qty: 1 },
    ],
    locationIds: [t.locationId],
  });
  const listings = await call('GET', `/listings?item_id=${item}`);
  return { ...t, call, userId, item, channel, listing: listings.body.data[0].id };
}

beforeAll(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver(), emu.listen(0)]);
  A = await setUp('Tenant A');
  // A subscribes to every event first, so everything below is delivered to A's receiver too.
  a.endpoint = (await A.call('POST', '/webhook-endpoints', { url: receiver.url, event_types: ['*'] })).body.id;
  B = await setUp('Tenant B', bSeen);
  const db = h.testDb.db;
  // A: a second location, stock, a push to the till, a till sale, an alert, a Guardian run, a queued job.
  a.location2 = (await A.call('POST', '/locations', { name: 'Kitchen' })).body.id;
  expect((await A.call('POST', '/adjustments', { item_id: A.item, location_id: A.locationId, qty_delta: 8, reason: 'receipt' })).status).toBe(201);
  await eventually(async () => (await A.call('GET', `/sync-events?channel_id=${A.channel.channelId}&kind=push`)).body.data.length > 0, 10_000, "A's push");
  await fetch(`${emu.url}/_control/accounts/${A.channel.accountId}/sale`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'SOUP', qty: 1 }),
  });
  await eventually(async () => (await A.call('GET', '/movements?reason=sale')).body.data.length === 1, 10_000, "A's till sale");
  // A type no agent resolves on its own while the test runs.
  await raiseAlert(db, A.tenantId, { type: 'large_drift', subject: A.listing, message: 'Soup drifted', data: { listing_id: A.listing } });
  expect((await A.call('POST', '/guardian/runs')).status).toBe(202);
  await eventually(async () => (await A.call('GET', '/guardian/runs')).body.data.length > 0, 10_000, "A's guardian run");
  // Keyed like the registry's jobs (`<prefix><channel id>`): how the agents' queue counts find its tenant.
  await withTx(db, (tx) =>
    addJobs(tx, [
      {
        task: 'sync_push',
        payload: { tenantId: A.tenantId, channelId: A.channel.channelId },
        key: `isolation-later:${A.channel.channelId}`,
        runAt: new Date(Date.now() + 3_600_000),
      },
    ]),
  );
  await emu.drain();
  await quiet(db, A.tenantId);
  const alerts = await A.call('GET', '/alerts?type=large_drift');
  a.alert = alerts.body.data[0].id;
  const unmatched = await A.call('GET', '/listings?state=unmatched');
  a.unmatchedListing = unmatched.body.data[0].id;
  // The developers' API: an order and a reservation holding A's stock, an API key, a movement id.
  a.order = (await A.call('POST', '/sales-orders', { location_id: A.locationId, lines: [{ item_id: A.item, qty: 1 }], hold_for_s: 3600 })).body.id;
  a.reservation = (await A.call('POST', '/reservations', { item_id: A.item, location_id: A.locationId, qty: 1, hold_for_s: 3600 })).body.id;
  a.apiKey = (await A.call('POST', '/api-keys', { name: 'A key', scopes: ['read'] })).body.id;
  a.movement = (await A.call('GET', '/movements')).body.data[0].id;
  // Transfers, purchase orders, kits: one of each.
  a.transfer = (
    await A.call('POST', '/transfers', { from_location_id: A.locationId, to_location_id: a.location2, lines: [{ item_id: A.item, qty: 1 }] })
  ).body.id;
  a.po = (
    await A.call('POST', '/purchase-orders', { supplier: 'A supplier', lines: [{ item_id: A.item, location_id: A.locationId, qty_ordered: 5 }] })
  ).body.id;
  a.kit = (await A.call('POST', '/items', { sku: 'SOUP-DEAL', name: 'Soup deal', components: [{ item_id: A.item, qty: 2 }] })).body.id;
  // Jobs: an import with a refused row (it has an error report to download) and an export.
  a.importJob = (await A.call('POST', '/imports/stock-counts', { csv: `sku,counted_qty\nSOUP,7\nNOPE,1`, location_id: a.location2 })).body.id;
  a.exportJob = (await A.call('POST', '/exports/movements', {})).body.id;
  await eventually(async () => (await A.call('GET', '/jobs?status=succeeded')).body.data.length === 2, 10_000, "A's jobs");
  await quiet(db, A.tenantId);
  a.delivery = (await A.call('GET', `/webhook-endpoints/${a.endpoint}/deliveries?status=delivered`)).body.data[0].id;
});

afterAll(async () => {
  await h?.stop();
  await emu.close();
  await receiver?.close();
});

/** Every route that names one of A's resources, as B would call it. */
function routesOnA(): Array<[string, string, unknown?]> {
  const ch = A.channel.channelId;
  return [
    ['GET', `/items/${A.item}`],
    ['PATCH', `/items/${A.item}`, { name: 'Stolen' }],
    ['DELETE', `/items/${A.item}`],
    ['GET', `/locations/${A.locationId}`],
    ['PATCH', `/locations/${A.locationId}`, { name: 'Stolen' }],
    ['GET', `/locations/${a.location2}`],
    ['GET', `/channels/${ch}`],
    ['PATCH', `/channels/${ch}`, { name: 'Stolen', settings: { default_buffer: 3 } }],
    ['PATCH', `/channels/${ch}`, { credentials: { api_key: 'k', api_secret: 's' } }],
    ['DELETE', `/channels/${ch}`],
    ['POST', `/channels/${ch}/test`],
    ['POST', `/channels/${ch}/pause`],
    ['POST', `/channels/${ch}/resume`],
    ['POST', `/channels/${ch}/import`],
    ['POST', `/channels/${ch}/sync`],
    ['GET', `/listings/${A.listing}`],
    ['PATCH', `/listings/${A.listing}`, { item_id: null }],
    ['PATCH', `/listings/${a.unmatchedListing}`, { item_id: B.item }],
    ['POST', `/listings/${A.listing}/sync`],
    ['POST', '/listings/auto-match', { channel_id: ch }],
    // B's own resources pointed at A's.
    ['PATCH', `/listings/${B.listing}`, { item_id: A.item }],
    ['POST', '/channels', { type: 'eposnow', name: 'Mine', credentials: { api_key: 'k', api_secret: 's' }, settings: { location_ids: [A.locationId] } }],
    ['PATCH', `/channels/${B.channel.channelId}`, { settings: { location_ids: [a.location2] } }],
    ['POST', '/adjustments', { item_id: A.item, location_id: A.locationId, qty_delta: 1, reason: 'receipt' }],
    ['POST', '/adjustments', { item_id: A.item, location_id: B.locationId, qty_delta: 1, reason: 'receipt' }],
    ['POST', '/adjustments', { item_id: B.item, location_id: A.locationId, qty_delta: 1, reason: 'receipt' }],
    ['POST', '/stock-counts', { item_id: A.item, location_id: A.locationId, counted_qty: 0 }],
    ['POST', '/stock-counts', { item_id: A.item, location_id: B.locationId, counted_qty: 0 }],
    ['POST', '/stock-counts', { item_id: B.item, location_id: a.location2, counted_qty: 0 }],
    ['GET', `/alerts/${a.alert}`],
    ['POST', `/alerts/${a.alert}/acknowledge`],
    ['DELETE', `/locations/${a.location2}`],
    ['GET', `/stock-levels/${A.item}/${A.locationId}`],
    ['GET', `/movements/${a.movement}`],
    ['GET', `/sales-orders/${a.order}`],
    ['POST', `/sales-orders/${a.order}/ship`],
    ['POST', `/sales-orders/${a.order}/cancel`],
    ['POST', '/sales-orders', { location_id: A.locationId, lines: [{ item_id: A.item, qty: 1 }] }],
    ['POST', '/sales-orders', { location_id: B.locationId, lines: [{ item_id: A.item, qty: 1 }] }],
    ['GET', `/reservations/${a.reservation}`],
    ['POST', `/reservations/${a.reservation}/release`],
    ['POST', '/reservations', { item_id: A.item, location_id: A.locationId, qty: 1 }],
    ['GET', `/api-keys/${a.apiKey}`],
    ['DELETE', `/api-keys/${a.apiKey}`],
    ['GET', `/reports/low-stock?location_id=${A.locationId}`],
    ['GET', `/transfers/${a.transfer}`],
    ['PATCH', `/transfers/${a.transfer}`, { reference: 'Stolen' }],
    ['POST', `/transfers/${a.transfer}/receive`, {}],
    ['POST', `/transfers/${a.transfer}/cancel`],
    ['POST', '/transfers', { from_location_id: A.locationId, to_location_id: a.location2, lines: [{ item_id: A.item, qty: 1 }] }],
    ['POST', '/transfers', { from_location_id: B.locationId, to_location_id: A.locationId, lines: [{ item_id: B.item, qty: 1 }] }],
    ['POST', '/transfers', { from_location_id: A.locationId, to_location_id: B.locationId, lines: [{ item_id: B.item, qty: 1 }] }],
    ['GET', `/purchase-orders/${a.po}`],
    ['PATCH', `/purchase-orders/${a.po}`, { supplier: 'Stolen' }],
    ['POST', `/purchase-orders/${a.po}/receive`, {}],
    ['POST', `/purchase-orders/${a.po}/cancel`],
    ['POST', `/purchase-orders/${a.po}/close`],
    ['POST', '/purchase-orders', { lines: [{ item_id: A.item, location_id: B.locationId, qty_ordered: 1 }] }],
    ['POST', '/purchase-orders', { lines: [{ item_id: B.item, location_id: A.locationId, qty_ordered: 1 }] }],
    ['GET', `/items/${a.kit}`],
    ['POST', '/items', { sku: 'B-DEAL', name: 'B deal', components: [{ item_id: A.item, qty: 1 }] }],
    ['GET', `/webhook-endpoints/${a.endpoint}`],
    ['PATCH', `/webhook-endpoints/${a.endpoint}`, { url: 'https://hooks.example.com/stolen' }],
    ['DELETE', `/webhook-endpoints/${a.endpoint}`],
    ['POST', `/webhook-endpoints/${a.endpoint}/rotate-secret`, { overlap_s: 0 }],
    ['POST', `/webhook-endpoints/${a.endpoint}/pause`],
    ['POST', `/webhook-endpoints/${a.endpoint}/resume`],
    ['POST', `/webhook-endpoints/${a.endpoint}/replay`, { since: '2020-01-01T00:00:00Z', include_delivered: true }],
    ['GET', `/webhook-endpoints/${a.endpoint}/deliveries`],
    ['GET', `/webhook-endpoints/${a.endpoint}/attempts`],
    ['GET', `/webhook-deliveries/${a.delivery}`],
    ['POST', `/webhook-deliveries/${a.delivery}/replay`],
    ['GET', `/jobs/${a.importJob}`],
    ['GET', `/jobs/${a.importJob}/download`],
    ['GET', `/jobs/${a.exportJob}`],
    ['GET', `/jobs/${a.exportJob}/download`],
    ['POST', '/imports/stock-counts', { csv: 'sku,counted_qty\nSOUP,0', location_id: A.locationId }],
    ['POST', '/exports/stock-levels', { location_id: A.locationId }],
    ['POST', '/exports/movements', { item_id: A.item }],
  ];
}

/** Every list and read-only route, with and without filters on A's ids. */
function lists(): string[] {
  const ch = A.channel.channelId;
  return [
    '/items',
    '/items?q=SOUP',
    '/locations',
    '/channels',
    '/channel-types',
    '/listings',
    `/listings?channel_id=${ch}`,
    `/listings?item_id=${A.item}`,
    '/stock-levels',
    `/stock-levels?item_id=${A.item}`,
    `/stock-levels?location_id=${A.locationId}`,
    '/movements',
    `/movements?item_id=${A.item}`,
    `/movements?location_id=${A.locationId}`,
    '/sync-events',
    `/sync-events?channel_id=${ch}`,
    `/sync-events?item_id=${A.item}`,
    '/alerts',
    '/guardian/runs',
    `/guardian/runs?channel_id=${ch}`,
    '/agents',
    '/me',
    '/sales-orders',
    '/reservations',
    `/reservations?item_id=${A.item}`,
    `/reservations?order_id=${a.order}`,
    '/api-keys',
    '/audit-log',
    `/audit-log?resource_id=${A.item}`,
    '/reports/low-stock',
    '/reports/stock-on-hand',
    `/reports/movement-summary?from=2020-01-01&to=2020-12-31&item_id=${A.item}`,
    '/transfers',
    `/transfers?item_id=${A.item}`,
    `/transfers?from_location_id=${A.locationId}`,
    `/transfers?to_location_id=${a.location2}`,
    '/purchase-orders',
    `/purchase-orders?item_id=${A.item}`,
    `/purchase-orders?location_id=${A.locationId}`,
    '/webhook-endpoints',
    '/jobs',
    '/jobs?kind=import_stock_counts',
  ];
}

describe('tenant isolation', () => {
  it('A has data on every resource', async () => {
    for (const p of lists()) {
      if (p.includes('?') || p === '/channel-types' || p === '/me' || p === '/agents' || p.startsWith('/reports/')) continue;
      const r = await A.call('GET', p);
      expect(r.body.data.length, p).toBeGreaterThan(0);
    }
    const agents = Object.fromEntries((await A.call('GET', '/agents')).body.agents.map((x: { name: string }) => [x.name, x]));
    expect(agents.sync.queue_depth).toBe(1);
    expect(agents.watcher.last_activity_at).not.toBeNull();
  });

  it("B can neither see nor change anything of A's", async () => {
    const db = h.testDb.db;
    const before = await snapshot(db, A.tenantId);
    for (const [method, path, body] of routesOnA()) {
      expectError(await B.call(method, path, body), 404, 'not_found');
    }
    for (const path of lists()) {
      const r = await B.call('GET', path);
      expect(r.status, path).toBe(200);
      if (path.includes(A.channel.channelId) || path.includes(A.item) || path.includes(A.locationId)) expect(r.body.data, path).toEqual([]);
    }
    const agents = await B.call('GET', '/agents');
    for (const x of agents.body.agents) expect(x).toMatchObject({ queue_depth: 0, running: 0, failing: 0 });
    // B's own actions act on B alone.
    expect((await B.call('POST', '/guardian/runs')).status).toBe(202);
    expect((await B.call('POST', '/listings/auto-match', { channel_id: B.channel.channelId })).status).toBe(200);
    expect((await B.call('POST', `/channels/${B.channel.channelId}/sync`)).status).toBe(202);
    // B's jobs naming A's ids in the CSV refuse those rows (the row errors echo B's own CSV, so this
    // caller keeps no transcript); B's exports hold B's rows only (their files are checked below).
    const bJobs = client(h.url, B.token);
    const imp = (
      await bJobs('POST', '/imports/stock-counts', {
        csv: `item_id,location_id,counted_qty\n${A.item},${A.locationId},0\n${B.item},${a.location2},0\nSOUP,${A.locationId},0`,
      })
    ).body.id;
    const exps = await Promise.all(
      ['/exports/items', '/exports/stock-levels', '/exports/movements'].map(async (p) => (await bJobs('POST', p, {})).body.id as string),
    );
    let jobs: Array<{ id: string; status: string; result: Record<string, number>; download_url: string | null }> = [];
    await eventually(
      async () => (jobs = (await bJobs('GET', '/jobs')).body.data).every((j: { status: string }) => j.status === 'succeeded'),
      10_000,
      "B's jobs",
    );
    expect(jobs.find((j) => j.id === imp)!.result).toMatchObject({ applied: 0, failed: 3 });
    expect((await bJobs('GET', `/jobs/${imp}/download`)).status).toBe(200);
    for (const id of exps) expect((await B.call('GET', `/jobs/${id}/download`)).status).toBe(200);
    await quiet(db, B.tenantId);
    // A's webhook receiver heard of A's changes only.
    expect(receiver.got.length).toBeGreaterThan(0);
    for (const g of receiver.got)
      for (const id of [B.tenantId, B.item, B.locationId, B.channel.channelId]) expect(g.body.toString().includes(id), `A's webhook named ${id}`).toBe(false);

    const aIds = [
      A.tenantId,
      A.userId,
      A.item,
      A.locationId,
      a.location2,
      A.channel.channelId,
      A.listing,
      a.unmatchedListing,
      a.alert,
      A.channel.accountId,
      a.order,
      a.reservation,
      a.apiKey,
      a.transfer,
      a.po,
      a.kit,
      a.endpoint,
      a.delivery,
      a.importJob,
      a.exportJob,
    ];
    expect(bSeen.length).toBeGreaterThan(routesOnA().length + lists().length);
    for (const text of bSeen) for (const id of aIds) expect(text.includes(id), `B saw ${id} in ${text.slice(0, 200)}`).toBe(false);
    // B's lists hold B's own rows only.
    const bMovements = await B.call('GET', '/movements');
    expect(bMovements.body.data.every((m: { item_id: string }) => m.item_id === B.item)).toBe(true);

    expect(await snapshot(db, A.tenantId)).toEqual(before);
    const ch = await A.call('GET', `/channels/${A.channel.channelId}`);
    expect(ch.body).toMatchObject({ name: 'Tenant A till', status: 'connected' });
    expect((await A.call('GET', `/alerts/${a.alert}`)).body.status).toBe('open');
  });
});

describe('authentication', () => {
  it('every route answers 401 with a structured error without a valid token, and changes nothing', async () => {
    const db = h.testDb.db;
    const before = await snapshot(db, A.tenantId);
    const wrongKey = await new SignJWT({ tid: A.tenantId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(A.userId)
      .setIssuer('stockclerk')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(randomBytes(32));
    const expired = await new SignJWT({ tid: A.tenantId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(A.userId)
      .setIssuer('stockclerk')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(h.sc.ctx.jwtKey);
    const noTenant = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(A.userId)
      .setIssuer('stockclerk')
      .setExpirationTime('1h')
      .sign(h.sc.ctx.jwtKey);
    const headers: Array<Record<string, string>> = [
      {},
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-jwt' },
      { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      { authorization: `Bearer ${wrongKey}` },
      { authorization: `Bearer ${expired}` },
      { authorization: `Bearer ${noTenant}` },
      { authorization: A.token }, // no scheme
    ];
    const routes: Array<[string, string, unknown?]> = [
      ...routesOnA(),
      ...lists().map((p): [string, string] => ['GET', p]),
      ['POST', '/items', { sku: 'X', name: 'X' }],
      ['POST', '/locations', { name: 'X' }],
      ['POST', '/guardian/runs'],
    ];
    for (const [method, path, body] of routes) {
      for (const hd of headers) {
        const res = await fetch(`${h.url}/api/v1${path}`, {
          method,
          headers: { ...hd, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const parsed = { status: res.status, body: (await res.json()) as { error: { request_id: string } }, headers: res.headers };
        expectError(parsed, 401, 'unauthorized');
        expect(res.headers.get('x-request-id')).toBe(parsed.body.error.request_id);
      }
    }
    expect(await snapshot(db, A.tenantId)).toEqual(before);
  });
});
