// Hostile input on every route of the dashboard API: wrong types, NUL bytes, huge strings and
// numbers, injection-looking text, arrays for scalars, odd path ids and query strings. The answer
// is always a structured 4xx (or a success, where the odd value happens to be valid), never a 500.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectInvalid, ghost, type Call } from './support.ts';

let h: Harness;
let call: Call;
const ids: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const t = await registerTenant(h.url, 'Fuzz Co');
  call = client(h.url, t.token);
  ids.loc = t.locationId;
  ids.item = (await call('POST', '/items', { sku: 'F1', name: 'F1' })).body.id;
  const ch = await call('POST', '/channels', { type: 'eposnow', name: 'Till', base_url: 'http://127.0.0.1:9', credentials: { api_key: 'k', api_secret: 's' } });
  ids.ch = ch.body.id;
  const { rows } = await h.testDb.db.query(
    `insert into listings (tenant_id, id, channel_id, external_id, external_sku, state) values ($1, 'lst_0000000000000000000000000000beef', $2, 'x1', 'F1', 'unmatched') returning id`,
    [t.tenantId, ids.ch],
  );
  ids.lst = rows[0].id;
  // Stock to move, a second location, a transfer and a purchase order to act on.
  ids.loc2 = (await call('POST', '/locations', { name: 'Second' })).body.id;
  expect((await call('POST', '/adjustments', { item_id: ids.item, location_id: ids.loc, qty_delta: 100_000, reason: 'receipt' })).status).toBe(201);
  ids.trf = (await call('POST', '/transfers', { from_location_id: ids.loc, to_location_id: ids.loc2, lines: [{ item_id: ids.item, qty: 50_000 }] })).body.id;
  ids.po = (await call('POST', '/purchase-orders', { lines: [{ item_id: ids.item, location_id: ids.loc, qty_ordered: 50_000 }] })).body.id;
  ids.whe = (await call('POST', '/webhook-endpoints', { url: 'https://hooks.example.com/x', event_types: ['*'] })).body.id;
});

afterAll(async () => {
  await h?.stop();
});

const HOSTILE: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 2,
  '',
  ' ',
  'a\u0000b',
  '\u0000',
  'x'.repeat(100_000),
  "'; drop table items; --",
  '😀🧪',
  [],
  ['a'],
  {},
  { $gt: '' },
  'loc_00000000000000000000000000000000',
];

function expectSane(method: string, path: string, status: number, body: unknown): void {
  const what = `${method} ${path} -> ${status} ${JSON.stringify(body).slice(0, 300)}`;
  expect(status, what).toBeLessThan(500);
  if (status >= 400) {
    const e = (body as { error?: { code?: unknown; message?: unknown; request_id?: unknown } })?.error;
    expect(typeof e?.code, what).toBe('string');
    expect(typeof e?.message, what).toBe('string');
    expect(typeof e?.request_id, what).toBe('string');
  }
}

describe('hostile input', () => {
  it('bodies: every field of every write route, with every hostile value', async () => {
    const writes: Array<[string, string, Record<string, unknown>]> = [
      ['POST', '/locations', { name: 'Somewhere' }],
      ['PATCH', `/locations/${ids.loc}`, { name: 'Main' }],
      [
        'POST',
        '/channels',
        {
          type: 'eposnow',
          name: 'T',
          base_url: 'http://127.0.0.1:9',
          credentials: { api_key: 'k', api_secret: 's' },
          settings: { location_ids: [ids.loc], default_buffer: 1, location_id: 3, location_map: { a: ids.loc } },
        },
      ],
      [
        'PATCH',
        `/channels/${ids.ch}`,
        {
          name: 'T',
          base_url: 'http://127.0.0.1:9',
          credentials: { api_key: 'k', api_secret: 's' },
          settings: { percent: 0.5, cap: 3, sales_source: 'orders' },
        },
      ],
      ['PATCH', `/listings/${ids.lst}`, { item_id: ids.item }],
      ['POST', '/listings/auto-match', { channel_id: ids.ch }],
      ['POST', '/adjustments', { item_id: ids.item, location_id: ids.loc, qty_delta: 1, reason: 'adjustment', note: 'n' }],
      ['POST', '/stock-counts', { item_id: ids.item, location_id: ids.loc, counted_qty: 1, note: 'n' }],
      ['PATCH', `/items/${ids.item}`, { sku: 'F1', name: 'F1', barcode: 'b', low_stock_threshold: 1, buffer: 1 }],
      ['POST', '/sales-orders', { location_id: ids.loc, lines: [{ item_id: ids.item, qty: 1 }], reference: 'r', hold_for_s: 60 }],
      ['POST', '/reservations', { item_id: ids.item, location_id: ids.loc, qty: 1, hold_for_s: 60 }],
      ['POST', '/api-keys', { name: 'k', scopes: ['read'] }],
      ['PATCH', '/tenant', { name: 'Fuzz Co', guardian_interval_s: 900, drift_threshold: 5 }],
      ['POST', '/transfers', { from_location_id: ids.loc, to_location_id: ids.loc2, reference: 'r', lines: [{ item_id: ids.item, qty: 1 }] }],
      ['PATCH', `/transfers/${ids.trf}`, { reference: 'r' }],
      ['POST', `/transfers/${ids.trf}/receive`, { lines: [{ item_id: ids.item, qty: 1 }] }],
      ['POST', '/purchase-orders', { supplier: 's', reference: 'r', lines: [{ item_id: ids.item, location_id: ids.loc, qty_ordered: 1, unit_cost: 1.5 }] }],
      ['PATCH', `/purchase-orders/${ids.po}`, { supplier: 's', reference: 'r' }],
      ['POST', `/purchase-orders/${ids.po}/receive`, { lines: [{ item_id: ids.item, location_id: ids.loc, qty: 1 }] }],
      ['POST', '/items', { sku: 'KIT', name: 'Kit', components: [{ item_id: ids.item, qty: 1 }] }],
      ['POST', '/webhook-endpoints', { url: 'https://hooks.example.com/x', event_types: ['stock.changed', 'order.*'], description: 'd' }],
      ['PATCH', `/webhook-endpoints/${ids.whe}`, { url: 'https://hooks.example.com/y', event_types: ['*'], description: 'd' }],
      ['POST', `/webhook-endpoints/${ids.whe}/rotate-secret`, { overlap_s: 60 }],
      ['POST', `/webhook-endpoints/${ids.whe}/replay`, { since: '2020-01-01T00:00:00Z', include_delivered: false }],
      ['POST', '/imports/items', { csv: 'sku,name\nA,B' }],
      ['POST', '/imports/stock-counts', { csv: 'sku,counted_qty\nF1,1', location_id: ids.loc }],
      ['POST', '/exports/items', {}],
      ['POST', '/exports/stock-levels', { location_id: ids.loc }],
      ['POST', '/exports/movements', { item_id: ids.item, location_id: ids.loc, since: '2020-01-01T00:00:00Z', until: '2030-01-01T00:00:00Z' }],
    ];
    for (const [method, path, valid] of writes) {
      for (const body of ['[]', '"text"', '123', 'null', '{"__proto__": {"polluted": 1}}', '[[[[[[[[[[]]]]]]]]]]', '{"a":']) {
        const r = await call(method, path, body);
        expectSane(method, path, r.status, r.body);
      }
      for (const field of Object.keys(valid)) {
        for (const v of HOSTILE) {
          const r = await call(method, path, { ...valid, [field]: v });
          expectSane(method, `${path} ${field}=${JSON.stringify(v).slice(0, 30)}`, r.status, r.body);
        }
        // One level down (credentials, settings).
        const inner = valid[field];
        if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
          for (const k of Object.keys(inner)) {
            for (const v of HOSTILE) {
              const r = await call(method, path, { ...valid, [field]: { ...inner, [k]: v } });
              expectSane(method, `${path} ${field}.${k}=${JSON.stringify(v).slice(0, 30)}`, r.status, r.body);
            }
          }
        }
      }
    }
    const { rows } = await h.testDb.db.query(`select count(*)::int as n from locations where name like '%' || chr(1) || '%'`);
    expect(rows[0].n).toBe(0);
    // Whatever was refused or accepted, transfers and receipts never overdrew a level or the ledger.
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
    const { rows: neg } = await h.testDb.db.query(`select count(*)::int as n from stock_levels where on_hand < 0 or reserved < 0`);
    expect(neg[0].n).toBe(0);
    const { rows: over } = await h.testDb.db.query(
      `select (select count(*) from transfer_lines where received_qty + returned_qty > qty) + (select count(*) from purchase_order_lines where qty_received > qty_ordered) as n`,
    );
    expect(Number(over[0].n)).toBe(0);
  });

  it('queries: every list route and parameter, with odd values', async () => {
    const lists: Record<string, string[]> = {
      '/channels': ['type', 'status'],
      '/listings': ['channel_id', 'item_id', 'state'],
      '/locations': [],
      '/stock-levels': ['item_id', 'location_id', 'include_movements'],
      '/movements': ['item_id', 'location_id', 'reason', 'since', 'until'],
      '/sync-events': ['channel_id', 'item_id', 'listing_id', 'kind', 'outcome', 'since'],
      '/alerts': ['status', 'type'],
      '/guardian/runs': ['channel_id'],
      '/sales-orders': ['status'],
      '/reservations': ['status', 'item_id', 'order_id'],
      '/api-keys': [],
      '/audit-log': ['resource_id', 'actor_id', 'action', 'since', 'until'],
      '/reports/low-stock': ['location_id'],
      '/reports/movement-summary': ['from', 'to', 'item_id', 'location_id'],
      '/reports/stock-on-hand': [],
      '/transfers': ['status', 'from_location_id', 'to_location_id', 'item_id'],
      '/purchase-orders': ['status', 'item_id', 'location_id'],
      '/webhook-endpoints': [],
      [`/webhook-endpoints/${ids.whe}/deliveries`]: ['status'],
      [`/webhook-endpoints/${ids.whe}/attempts`]: [],
      '/jobs': ['status', 'kind'],
      [`/stock-levels/${ids.item}/${ids.loc}`]: ['include_movements'],
    };
    const odd = ['', '%00', "'", 'a'.repeat(5000), 'null', '-1', '1e400', '%F0%9F%98%80', '__proto__', 'x&x=y'];
    const cursors = [
      '',
      'x',
      '%00',
      Buffer.from('"a\\u0000"').toString('base64url'),
      Buffer.from('1e400').toString('base64url'),
      Buffer.from('-5').toString('base64url'),
      Buffer.from('{"a":1}').toString('base64url'),
      'a'.repeat(300),
    ];
    for (const [path, params] of Object.entries(lists)) {
      for (const p of [...params, 'limit', 'cursor', 'unknown']) {
        for (const v of p === 'cursor' ? cursors : odd) {
          const r = await call('GET', `${path}?${p}=${v}`);
          expectSane('GET', `${path}?${p}=${v.slice(0, 30)}`, r.status, r.body);
        }
        const twice = await call('GET', `${path}?${p}=1&${p}=2`);
        expectSane('GET', `${path}?${p} twice`, twice.status, twice.body);
        const nested = await call('GET', `${path}?${p}[a]=1`);
        expectSane('GET', `${path}?${p}[a]`, nested.status, nested.body);
      }
    }
  });

  it('paths: odd ids on every route that takes one', async () => {
    // Up to Fastify's maxParamLength (100): longer params are answered by the router itself (see report).
    const oddIds = [
      '%00',
      "'%20or%201=1",
      'x'.repeat(100),
      '..%2F..%2Fitems',
      '%F0%9F%98%80',
      'ch_',
      'ch_' + 'f'.repeat(33),
      'CH_' + '0'.repeat(32),
      '1',
      '-1',
    ];
    const routes: Array<[string, string, unknown?]> = [
      ['GET', '/channels/:id'],
      ['PATCH', '/channels/:id', { name: 'x' }],
      ['DELETE', '/channels/:id'],
      ['POST', '/channels/:id/test'],
      ['POST', '/channels/:id/pause'],
      ['POST', '/channels/:id/resume'],
      ['POST', '/channels/:id/import'],
      ['POST', '/channels/:id/sync'],
      ['GET', '/listings/:id'],
      ['PATCH', '/listings/:id', { item_id: null }],
      ['POST', '/listings/:id/sync'],
      ['GET', '/locations/:id'],
      ['PATCH', '/locations/:id', { name: 'x' }],
      ['GET', '/alerts/:id'],
      ['POST', '/alerts/:id/acknowledge'],
      ['GET', '/items/:id'],
      ['PATCH', '/items/:id', { name: 'x' }],
      ['DELETE', '/items/:id'],
      ['DELETE', '/locations/:id'],
      ['GET', '/sales-orders/:id'],
      ['POST', '/sales-orders/:id/ship'],
      ['POST', '/sales-orders/:id/cancel'],
      ['GET', '/reservations/:id'],
      ['POST', '/reservations/:id/release'],
      ['GET', '/api-keys/:id'],
      ['DELETE', '/api-keys/:id'],
      ['GET', '/stock-levels/:id/:id'],
      ['GET', '/transfers/:id'],
      ['PATCH', '/transfers/:id', { reference: 'x' }],
      ['POST', '/transfers/:id/receive', {}],
      ['POST', '/transfers/:id/cancel'],
      ['GET', '/purchase-orders/:id'],
      ['PATCH', '/purchase-orders/:id', { supplier: 'x' }],
      ['POST', '/purchase-orders/:id/receive', {}],
      ['POST', '/purchase-orders/:id/cancel'],
      ['POST', '/purchase-orders/:id/close'],
      ['GET', '/webhook-endpoints/:id'],
      ['PATCH', '/webhook-endpoints/:id', { description: 'x' }],
      ['DELETE', '/webhook-endpoints/:id'],
      ['POST', '/webhook-endpoints/:id/rotate-secret', { overlap_s: 1 }],
      ['POST', '/webhook-endpoints/:id/pause'],
      ['POST', '/webhook-endpoints/:id/resume'],
      ['POST', '/webhook-endpoints/:id/replay', { since: '2020-01-01T00:00:00Z' }],
      ['GET', '/webhook-endpoints/:id/deliveries'],
      ['GET', '/webhook-endpoints/:id/attempts'],
      ['GET', '/webhook-deliveries/:id'],
      ['POST', '/webhook-deliveries/:id/replay'],
      ['GET', '/jobs/:id'],
      ['GET', '/jobs/:id/download'],
    ];
    for (const [method, path, body] of routes) {
      for (const id of oddIds) {
        const p = path.replaceAll(':id', id);
        const r = await call(method, p, body);
        expectSane(method, p.slice(0, 60), r.status, r.body);
        expect(r.status, `${method} ${p.slice(0, 60)}`).toBe(404);
      }
    }
  });

  // The idempotency plugin hashed the body by recursion before any validation ran: a few thousand
  // levels (10,000 here) overflowed the stack and answered 500. Bodies nested deeper than any request needs are refused
  // for every route, with or without a key, and leave nothing behind.
  it('refuses deeply nested bodies with a 400, with or without an Idempotency-Key', async () => {
    const t = await registerTenant(h.url, 'Deep Co');
    const deepCall = client(h.url, t.token);
    const before = await h.testDb.db.query(`select count(*)::int as n from idempotency_keys where tenant_id = $1`, [t.tenantId]);
    const deep = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n);
    const inField = (n: number) => `{"sku":"D1","name":${deep(n)}}`;
    for (const path of ['/items', '/webhook-endpoints', '/locations', '/api-keys', `/alerts/${ghost('alr')}/acknowledge`]) {
      for (const body of [deep(2000), deep(10_000), deep(100_000), deepArray(100_000), inField(100_000), deep(100)]) {
        for (const headers of [{}, { 'idempotency-key': `deep-${Math.random()}` }] as Array<Record<string, string>>) {
          const r = await deepCall('POST', path, body, headers);
          expectSane('POST', `${path} ${body.slice(0, 20)}`, r.status, r.body);
          expectInvalid(r);
        }
      }
    }
    const r = await deepCall('PATCH', '/tenant', inField(2000));
    expectInvalid(r);
    // Nothing stored: no idempotency key, no item.
    const after = await h.testDb.db.query(`select count(*)::int as n from idempotency_keys where tenant_id = $1`, [t.tenantId]);
    expect(after.rows[0].n).toBe(before.rows[0].n);
    const items = await h.testDb.db.query(`select count(*)::int as n from items where tenant_id = $1`, [t.tenantId]);
    expect(items.rows[0].n).toBe(0);
    // Up to 64 levels a body reaches validation as before (the fields are named); one more is refused.
    const idem = { 'idempotency-key': 'shallow' };
    const at = await deepCall('POST', '/items', `{"sku":"D2","name":${deep(63)}}`, idem);
    expectInvalid(at, 'name');
    const over = await deepCall('POST', '/items', `{"sku":"D2","name":${deep(64)}}`, idem);
    expectInvalid(over, '');
    expect(over.body.error.message).toMatch(/64 levels/);
    const ok = await deepCall('POST', '/items', '{"sku":"D2","name":"D2"}', idem);
    expect(ok.status).toBe(201);
  });

  it('refuses bodies that are not JSON', async () => {
    const token = (await registerTenant(h.url)).token;
    for (const [type, status] of [
      ['text/plain', 400],
      ['application/xml', 415],
      ['application/x-www-form-urlencoded', 415],
    ] as const) {
      const res = await fetch(`${h.url}/api/v1/locations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body: 'name=x',
      });
      expectSane('POST', `/locations ${type}`, res.status, await res.json());
      expect(res.status, type).toBe(status);
    }
  });
});
