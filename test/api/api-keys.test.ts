// API keys: created by admins and shown once, stored as a SHA-256 only, scopes enforced on every
// route (read < write < admin), revocation immediate; platform keys name their tenant in
// X-Tenant-ID and reach only the tenants granted to them; JWT sessions keep working. Also the
// rate limit per key: 429 with Retry-After and the RateLimit fields, one bucket across API processes.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createPlatformKey } from '../../src/db/api-keys.ts';
import { createLogger } from '../../src/log.ts';
import { startStockClerk } from '../../src/server.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, type Call } from './support.ts';

let h: Harness;
let A: Awaited<ReturnType<typeof registerTenant>> & { call: Call };
let B: Awaited<ReturnType<typeof registerTenant>> & { call: Call };
const keys: Record<'read' | 'write' | 'admin', string> = { read: '', write: '', admin: '' };
const keyIds: Record<string, string> = {};

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const a = await registerTenant(h.url, 'Key Co');
  const b = await registerTenant(h.url, 'Other Co');
  A = { ...a, call: client(h.url, a.token) };
  B = { ...b, call: client(h.url, b.token) };
});

afterAll(async () => {
  await h?.stop();
});

describe('tenant API keys', () => {
  it('admins create keys that are shown once and stored only as a SHA-256', async () => {
    for (const scope of ['read', 'write', 'admin'] as const) {
      const r = await A.call('POST', '/api-keys', { name: `${scope} key`, scopes: [scope] });
      expect(r.status).toBe(201);
      expect(r.body.key).toMatch(/^sck_[A-Za-z0-9_-]{43}$/);
      expect(r.body.key.startsWith(r.body.prefix)).toBe(true);
      expect(r.body).toMatchObject({ name: `${scope} key`, scopes: [scope], revoked_at: null });
      keys[scope] = r.body.key;
      keyIds[scope] = r.body.id;
    }
    const list = await A.call('GET', '/api-keys');
    expect(list.body.data).toHaveLength(3);
    const text = JSON.stringify(list.body) + JSON.stringify((await A.call('GET', `/api-keys/${keyIds.read}`)).body);
    for (const k of Object.values(keys)) expect(text).not.toContain(k);
    const { rows } = await h.testDb.db.query(`select * from api_keys where tenant_id = $1`, [A.tenantId]);
    const stored = JSON.stringify(rows);
    for (const k of Object.values(keys)) {
      expect(stored).not.toContain(k);
      expect(rows.some((r) => r.secret_hash === createHash('sha256').update(k).digest('hex'))).toBe(true);
    }
    expect((await B.call('GET', '/api-keys')).body.data).toEqual([]);
  });

  it('an idempotent retry of a key creation gets the same key back; the stored answer is sealed', async () => {
    const first = await A.call('POST', '/api-keys', { name: 'retried', scopes: ['read'] }, { 'idempotency-key': 'key-1' });
    const again = await A.call('POST', '/api-keys', { name: 'retried', scopes: ['read'] }, { 'idempotency-key': 'key-1' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    const { rows } = await h.testDb.db.query(`select response_body from idempotency_keys where tenant_id = $1 and key = 'key-1'`, [A.tenantId]);
    expect(rows[0].response_body).toMatch(/^sealed:/);
    expect(rows[0].response_body).not.toContain(first.body.key);
    expect((await client(h.url, first.body.key)('GET', '/items')).status).toBe(200);
    expect((await A.call('DELETE', `/api-keys/${first.body.id}`)).status).toBe(204);
  });

  it('enforces scopes on every route: read < write < admin', async () => {
    const as = (k: string) => client(h.url, k);
    const read = as(keys.read);
    const write = as(keys.write);
    const admin = as(keys.admin);
    expect((await read('GET', '/items')).status).toBe(200);
    expect((await read('GET', '/stock-levels')).status).toBe(200);
    expectError(await read('POST', '/items', { sku: 'R1', name: 'R' }), 403, 'insufficient_scope');
    expectError(
      await read('POST', '/adjustments', { item_id: `item_${'0'.repeat(32)}`, location_id: A.locationId, qty_delta: 1, reason: 'receipt' }),
      403,
      'insufficient_scope',
    );
    expectError(await read('GET', '/api-keys'), 403, 'insufficient_scope');
    expectError(await read('GET', '/audit-log'), 403, 'insufficient_scope');
    const made = await write('POST', '/items', { sku: 'W1', name: 'Written by a key' });
    expect(made.status).toBe(201);
    expect((await write('POST', '/adjustments', { item_id: made.body.id, location_id: A.locationId, qty_delta: 4, reason: 'receipt' })).status).toBe(201);
    expectError(await write('POST', '/api-keys', { name: 'escalate', scopes: ['admin'] }), 403, 'insufficient_scope');
    expectError(await write('PATCH', '/tenant', { name: 'Renamed' }), 403, 'insufficient_scope');
    expect((await admin('GET', '/api-keys')).status).toBe(200);
    expect((await admin('POST', '/items', { sku: 'A1', name: 'Admin' })).status).toBe(201);
    const me = await read('GET', '/me');
    expect(me.body).toMatchObject({ user: null, tenant: { id: A.tenantId }, credential: { type: 'api_key', id: keyIds.read, scopes: ['read'] } });
    // The key's writes are attributed to it: the movement and the audit log name it.
    const mv = await A.call('GET', `/movements?item_id=${made.body.id}`);
    expect(mv.body.data[0].source_user_id).toBe(keyIds.write);
    const log = await admin('GET', `/audit-log?resource_id=${made.body.id}`);
    expect(log.body.data.map((e: { action: string; actor_id: string; actor_type: string }) => [e.action, e.actor_type, e.actor_id])).toEqual([
      ['stock.adjusted', 'api_key', keyIds.write],
      ['item.created', 'api_key', keyIds.write],
    ]);
    // A key sees only its own tenant, and cannot name another one.
    expect((await read('GET', `/items/${made.body.id}`)).status).toBe(200);
    const other = await B.call('POST', '/items', { sku: 'B1', name: 'B' });
    expectError(await read('GET', `/items/${other.body.id}`), 404, 'not_found');
    const cross = await fetch(`${h.url}/api/v1/items`, { headers: { authorization: `Bearer ${keys.admin}`, 'x-tenant-id': B.tenantId } });
    expect(cross.status).toBe(403);
  });

  it('refuses unknown, malformed and revoked keys; revoking is immediate and kept in the audit log', async () => {
    for (const bad of ['sck_nope', `sck_${'A'.repeat(43)}`, keys.read.slice(0, -1), 'scp_x', 'Basic abc']) {
      expectError(await client(h.url, bad)('GET', '/items'), 401, 'unauthorized');
    }
    const temp = await A.call('POST', '/api-keys', { name: 'temp', scopes: ['read', 'write'] });
    const tc = client(h.url, temp.body.key);
    expect((await tc('GET', '/items')).status).toBe(200);
    expectError(await client(h.url, keys.write)('DELETE', `/api-keys/${temp.body.id}`), 403, 'insufficient_scope');
    expect((await client(h.url, keys.admin)('DELETE', `/api-keys/${temp.body.id}`)).status).toBe(204);
    expectError(await tc('GET', '/items'), 401, 'unauthorized');
    expect((await A.call('GET', `/api-keys/${temp.body.id}`)).body.revoked_at).not.toBeNull();
    expect((await A.call('DELETE', `/api-keys/${temp.body.id}`)).status).toBe(204);
    expectError(await B.call('DELETE', `/api-keys/${keyIds.read}`), 404, 'not_found');
    expectError(await A.call('POST', '/api-keys', { name: 'x', scopes: ['root'] }), 400, 'validation_failed');
    expectError(await A.call('POST', '/api-keys', { name: 'x', scopes: [] }), 400, 'validation_failed');
    const log = await A.call('GET', `/audit-log?resource_id=${temp.body.id}`);
    expect(log.body.data.map((e: { action: string }) => e.action)).toEqual(['api_key.revoked', 'api_key.revoked', 'api_key.created']);
  });
});

describe('platform keys', () => {
  it('act on the tenants granted to them, named in X-Tenant-ID', async () => {
    const c = await registerTenant(h.url, 'Not granted');
    const pk = await createPlatformKey(h.testDb.db, { name: 'Integrator', scopes: ['read', 'write'], tenantIds: [A.tenantId, B.tenantId] });
    expect(pk.secret).toMatch(/^scp_/);
    const as = (tenant?: string) => (m: string, p: string, body?: unknown) => client(h.url, pk.secret)(m, p, body, tenant ? { 'x-tenant-id': tenant } : {});
    expectError(await as()('GET', '/items'), 400, 'tenant_required');
    const aItems = await as(A.tenantId)('GET', '/items');
    const bItems = await as(B.tenantId)('GET', '/items');
    expect(aItems.body.data.map((i: { sku: string }) => i.sku)).toContain('W1');
    expect(bItems.body.data.map((i: { sku: string }) => i.sku)).toEqual(['B1']);
    expectError(await as(c.tenantId)('GET', '/items'), 403, 'forbidden');
    expectError(await as('ten_nope')('GET', '/items'), 400, 'validation_failed');
    const made = await as(B.tenantId)('POST', '/items', { sku: 'P1', name: 'Via platform' });
    expect(made.status).toBe(201);
    expect((await B.call('GET', `/items/${made.body.id}`)).status).toBe(200);
    expectError(await as(A.tenantId)('GET', `/items/${made.body.id}`), 404, 'not_found');
    expectError(await as(A.tenantId)('GET', '/api-keys'), 403, 'insufficient_scope');
    await h.testDb.db.query(`update platform_keys set revoked_at = now() where id = $1`, [pk.id]);
    expectError(await as(A.tenantId)('GET', '/items'), 401, 'unauthorized');
  });

  it('the live stream takes API keys too', async () => {
    const open = (q: string) =>
      new Promise<{ hello: unknown; code: number | null }>((resolve) => {
        const ws = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/stream?${q}`);
        ws.onmessage = (m) => {
          resolve({ hello: JSON.parse(String(m.data)), code: null });
          ws.close();
        };
        ws.onclose = (e) => resolve({ hello: null, code: e.code });
      });
    expect((await open(`token=${keys.read}`)).hello).toEqual({ type: 'hello', tenant_id: A.tenantId });
    expect((await open(`token=sck_${'x'.repeat(43)}`)).code).toBe(4401);
    expect((await open(`token=${keys.read}&tenant_id=${B.tenantId}`)).code).toBe(4403);
  });

  it("an owner's session holds every permission", async () => {
    expect((await A.call('GET', '/api-keys')).status).toBe(200);
    expect((await A.call('PATCH', '/tenant', { name: 'Key Co Ltd' })).status).toBe(200);
    expect((await A.call('GET', '/me')).body.credential).toMatchObject({ type: 'user', scopes: ['read', 'write', 'admin', 'owner'] });
  });
});

describe('rate limits per key', () => {
  it('answers 429 with Retry-After and the RateLimit fields once the plan\u2019s bucket is empty', async () => {
    const t = await registerTenant(h.url, 'Small plan');
    await h.testDb.db.query(`update tenants set plan = 'trial' where id = $1`, [t.tenantId]);
    const key = (await client(h.url, t.token)('POST', '/api-keys', { name: 'k', scopes: ['read'] })).body.key as string;
    const call = client(h.url, key);
    const seen: Array<{ status: number; policy: string | null; limit: string | null; retry: string | null }> = [];
    for (let i = 0; i < 24; i++) {
      const r = await call('GET', '/items');
      seen.push({ status: r.status, policy: r.headers.get('ratelimit-policy'), limit: r.headers.get('ratelimit'), retry: r.headers.get('retry-after') });
      if (r.status === 429) expectError(r, 429, 'rate_limited');
    }
    // free: a burst of 20 refilled at 2/s; the first answers count down.
    expect(seen[0]).toMatchObject({ status: 200, policy: '"default";q=20;w=10' });
    expect(seen[0]!.limit).toMatch(/^"default";r=19;t=\d+$/);
    const limited = seen.filter((s) => s.status === 429);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(seen.slice(0, 20).every((s) => s.status === 200)).toBe(true);
    expect(Number(limited[0]!.retry)).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.limit).toMatch(/^"default";r=0;t=[1-9]\d*$/);
    await new Promise((r) => setTimeout(r, Number(limited[0]!.retry) * 1000));
    expect((await call('GET', '/items')).status).toBe(200);
    // Sessions are not limited by a key's bucket.
    for (let i = 0; i < 25; i++) expect((await client(h.url, t.token)('GET', '/items')).status).toBe(200);
  });
  it('is one bucket for every API process: two processes together give a key its plan, not twice it', async () => {
    const t = await registerTenant(h.url, 'Two processes');
    await h.testDb.db.query(`update tenants set plan = 'trial' where id = $1`, [t.tenantId]);
    const key = (await client(h.url, t.token)('POST', '/api-keys', { name: 'k', scopes: ['read'] })).body.key as string;
    // A second API process on the same database, as `stockclerk api` would run beside the first.
    const config = { ...loadConfig({}), port: 0, host: '127.0.0.1', dataDir: h.dataDir, databaseUrl: h.testDb.url, demo: false };
    const second = await startStockClerk(config, { worker: false, log: createLogger('silent'), poolSize: 4 });
    try {
      const calls = [client(h.url, key), client(second.url!, key)];
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) statuses.push((await calls[i % 2]!('GET', '/items')).status);
      const ok = statuses.filter((s) => s === 200).length;
      // free: a burst of 20 (+2/s while this runs). Buckets per process would have let all 30 through.
      expect(ok).toBeGreaterThanOrEqual(20);
      expect(ok).toBeLessThanOrEqual(22);
      expect(statuses.filter((s) => s === 429).length).toBe(30 - ok);
    } finally {
      await second.stop();
    }
  });
});
