// Idempotency-Key on POST: the first response is stored (in the effect's own transaction) and
// replayed for the same key and body; another body -> 422; the same key while the first request
// runs -> 409; a refused request releases its key; keys expire after 24 h.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, ghost, type Call } from './support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let item: string;

const post = (path: string, body: unknown, key: string) => call('POST', path, body, { 'idempotency-key': key });
const count = async (sql: string, args: unknown[]) => Number((await h.testDb.db.query(sql, args)).rows[0].n);

beforeAll(async () => {
  h = await startHarness({ worker: false });
  t = await registerTenant(h.url, 'Retry Co');
  call = client(h.url, t.token);
  item = (await call('POST', '/items', { sku: 'TEA', name: 'Tea' })).body.id;
});

afterAll(async () => {
  await h?.stop();
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body, byte for byte, and does the work once', async () => {
    const body = { item_id: item, location_id: t.locationId, qty_delta: 5, reason: 'receipt' };
    const first = await post('/adjustments', body, 'adj-1');
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const again = await post('/adjustments', body, 'adj-1');
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // The same fields in another order are the same request.
    const reordered = await post('/adjustments', { reason: 'receipt', qty_delta: 5, location_id: t.locationId, item_id: item }, 'adj-1');
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(await count(`select count(*) as n from stock_movements where tenant_id = $1`, [t.tenantId])).toBe(1);
    // Created resources replay with their ETag.
    const loc1 = await post('/locations', { name: 'Cellar' }, 'loc-1');
    const loc2 = await post('/locations', { name: 'Cellar' }, 'loc-1');
    expect(loc2.body).toEqual(loc1.body);
    expect(loc2.headers.get('etag')).toBe(loc1.headers.get('etag'));
    // Without a key, the same body is a new request.
    expect((await call('POST', '/adjustments', body)).status).toBe(201);
    expect(await count(`select count(*) as n from stock_movements where tenant_id = $1`, [t.tenantId])).toBe(2);
  });

  it('refuses the same key with a different body (422) or path, and a malformed key (400)', async () => {
    const body = { item_id: item, location_id: t.locationId, qty_delta: 1, reason: 'receipt' };
    expect((await post('/adjustments', body, 'adj-2')).status).toBe(201);
    expectError(await post('/adjustments', { ...body, qty_delta: 2 }, 'adj-2'), 422, 'idempotency_key_reused');
    expectError(await post('/stock-counts', { item_id: item, location_id: t.locationId, counted_qty: 1 }, 'adj-2'), 422, 'idempotency_key_reused');
    expectError(await post('/adjustments', body, 'x'.repeat(256)), 400, 'validation_failed');
    expectError(await post('/adjustments', body, 'sp ace'), 400, 'validation_failed');
    expect(await count(`select count(*) as n from stock_movements where tenant_id = $1 and qty_delta = 2`, [t.tenantId])).toBe(0);
  });

  it('20 concurrent retries of one POST create exactly one thing', async () => {
    const tries = await Promise.all(Array.from({ length: 20 }, () => post('/items', { sku: 'RACE', name: 'Raced' }, 'create-race')));
    const statuses = tries.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      JSON.stringify(statuses),
    ).toBe(true);
    const created = tries.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of created) expect(r.body).toEqual(created[0]!.body);
    for (const r of tries.filter((r) => r.status === 409)) expect(r.body.error.code).toBe('idempotency_key_in_use');
    expect(await count(`select count(*) as n from items where tenant_id = $1 and sku = 'RACE'`, [t.tenantId])).toBe(1);
    // And once settled, every retry replays the one answer.
    const later = await post('/items', { sku: 'RACE', name: 'Raced' }, 'create-race');
    expect(later.body).toEqual(created[0]!.body);

    const adj = { item_id: item, location_id: t.locationId, qty_delta: 3, reason: 'receipt', note: 'raced' };
    const adjTries = await Promise.all(Array.from({ length: 20 }, () => post('/adjustments', adj, 'adj-race')));
    expect(adjTries.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    expect(await count(`select count(*) as n from stock_movements where tenant_id = $1 and note = 'raced'`, [t.tenantId])).toBe(1);
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
  });

  it('answers 409 while the first request with the key is still running, then replays its answer', async () => {
    // Hold the tenant row (creating a location locks it) so the first request waits inside its handler.
    const blocker = await h.testDb.db.connect();
    await blocker.query('begin');
    await blocker.query(`select 1 from tenants where id = $1 for update`, [t.tenantId]);
    const first = post('/locations', { name: 'Slow room' }, 'slow-1');
    await new Promise((r) => setTimeout(r, 300));
    const second = await post('/locations', { name: 'Slow room' }, 'slow-1');
    expectError(second, 409, 'idempotency_key_in_use');
    await blocker.query('commit');
    blocker.release();
    const done = await first;
    expect(done.status).toBe(201);
    const third = await post('/locations', { name: 'Slow room' }, 'slow-1');
    expect(third.body).toEqual(done.body);
    expect(await count(`select count(*) as n from locations where tenant_id = $1 and name = 'Slow room'`, [t.tenantId])).toBe(1);
  });

  it('the effect commits only with its stored answer: a request whose key was taken over rolls back', async () => {
    const blocker = await h.testDb.db.connect();
    await blocker.query('begin');
    await blocker.query(`select 1 from tenants where id = $1 for update`, [t.tenantId]);
    const first = post('/locations', { name: 'Lost room' }, 'taken-over');
    await new Promise((r) => setTimeout(r, 300));
    // Another process took the key over (as after a stale reservation) while the first was inside its handler.
    await h.testDb.db.query(`update idempotency_keys set lock_token = 'someone-else' where tenant_id = $1 and key = 'taken-over'`, [t.tenantId]);
    await blocker.query('commit');
    blocker.release();
    expectError(await first, 409, 'idempotency_key_in_use');
    expect(await count(`select count(*) as n from locations where tenant_id = $1 and name = 'Lost room'`, [t.tenantId])).toBe(0);
    expect(
      await count(`select count(*) as n from audit_log where tenant_id = $1 and action = 'location.created' and changes->>'name' = 'Lost room'`, [t.tenantId]),
    ).toBe(0);
  });

  it('connecting a channel twice with one key connects it once', async () => {
    const body = { type: 'eposnow', name: 'Till', base_url: 'http://127.0.0.1:9', credentials: { api_key: 'k', api_secret: 's' } };
    const tries = await Promise.all(Array.from({ length: 5 }, () => post('/channels', body, 'channel-1')));
    expect(tries.every((r) => r.status === 201 || r.status === 409)).toBe(true);
    const again = await post('/channels', body, 'channel-1');
    expect(again.status).toBe(201);
    expect(await count(`select count(*) as n from channels where tenant_id = $1`, [t.tenantId])).toBe(1);
  });

  it('POSTs that write no transaction of their own store their answer after the fact, and replay it', async () => {
    const first = await post('/guardian/runs', undefined, 'guardian-1');
    expect(first.status).toBe(202);
    const again = await post('/guardian/runs', undefined, 'guardian-1');
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('a refused request releases its key; the stored answer commits with the effect', async () => {
    const bad = await post('/adjustments', { item_id: ghost('item'), location_id: t.locationId, qty_delta: 1, reason: 'receipt' }, 'fix-me');
    expectError(bad, 404, 'not_found');
    const fixed = await post('/adjustments', { item_id: item, location_id: t.locationId, qty_delta: 1, reason: 'receipt', note: 'fixed' }, 'fix-me');
    expect(fixed.status).toBe(201);
    const { rows } = await h.testDb.db.query(`select status, response_status, response_body from idempotency_keys where tenant_id = $1 and key = 'fix-me'`, [
      t.tenantId,
    ]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ status: 'done', response_status: 201 });
    expect(JSON.parse(rows[0].response_body)).toEqual(fixed.body);
    // An insufficient-stock refusal changes nothing and keeps nothing.
    const short = await post('/adjustments', { item_id: item, location_id: t.locationId, qty_delta: -1_000, reason: 'adjustment' }, 'too-much');
    expectError(short, 409, 'insufficient_stock');
    expect(await count(`select count(*) as n from idempotency_keys where tenant_id = $1 and key = 'too-much'`, [t.tenantId])).toBe(0);
  });

  it('keys expire after 24 hours (then the same key runs again), and a dead holder is taken over', async () => {
    const body = { item_id: item, location_id: t.locationId, qty_delta: 1, reason: 'receipt', note: 'expiring' };
    expect((await post('/adjustments', body, 'old')).status).toBe(201);
    const { rows } = await h.testDb.db.query(
      `select extract(epoch from expires_at - created_at)::int as ttl from idempotency_keys where tenant_id = $1 and key = 'old'`,
      [t.tenantId],
    );
    expect(rows[0].ttl).toBe(24 * 3600);
    expect((await post('/adjustments', body, 'old')).headers.get('idempotent-replayed')).toBe('true');
    await h.testDb.db.query(`update idempotency_keys set expires_at = now() - interval '1 second' where tenant_id = $1 and key = 'old'`, [t.tenantId]);
    const rerun = await post('/adjustments', body, 'old');
    expect(rerun.headers.get('idempotent-replayed')).toBeNull();
    expect(await count(`select count(*) as n from stock_movements where tenant_id = $1 and note = 'expiring'`, [t.tenantId])).toBe(2);
    // A reservation left 'running' by a crashed process is taken over once stale.
    await h.testDb.db.query(
      `insert into idempotency_keys (tenant_id, actor_id, key, request_hash, status, lock_token, locked_at, expires_at)
       select tenant_id, actor_id, 'crashed', request_hash, 'running', 'dead', now() - interval '2 minutes', now() + interval '1 day'
       from idempotency_keys where tenant_id = $1 and key = 'old'`,
      [t.tenantId],
    );
    const taken = await post('/adjustments', body, 'crashed');
    expect(taken.status).toBe(201);
  });
});
