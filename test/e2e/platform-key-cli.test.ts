// `stockclerk platform-key`: the operator makes a key for an integrator acting on several tenants;
// it is printed once and works over the API with X-Tenant-ID.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/stockclerk.js');
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ worker: false });
});

afterAll(async () => {
  await h?.stop();
});

describe('stockclerk platform-key', () => {
  it('prints a key that acts on the named tenants only', async () => {
    const a = await registerTenant(h.url, 'Granted A');
    const b = await registerTenant(h.url, 'Granted B');
    const c = await registerTenant(h.url, 'Not granted');
    const env = { ...process.env, DATABASE_URL: h.testDb.url };
    const out = await run(process.execPath, [CLI, 'platform-key', '--name', 'Integrator', '--tenants', `${a.tenantId},${b.tenantId}`, '--scopes', 'read'], {
      env,
    });
    const key = out.stdout.match(/scp_[A-Za-z0-9_-]{43}/)?.[0];
    expect(key).toBeTruthy();
    const { rows } = await h.testDb.db.query(`select secret_hash, scopes from platform_keys`);
    expect(JSON.stringify(rows)).not.toContain(key!);
    expect(rows[0].scopes).toEqual(['read']);
    const as = (tenant: string) => ({ token: key!, headers: { 'x-tenant-id': tenant } });
    expect((await api(h.url, 'GET', '/api/v1/items', as(a.tenantId))).status).toBe(200);
    expect((await api(h.url, 'GET', '/api/v1/items', as(b.tenantId))).status).toBe(200);
    expect((await api(h.url, 'GET', '/api/v1/items', as(c.tenantId))).status).toBe(403);
    expect((await api(h.url, 'POST', '/api/v1/items', { ...as(a.tenantId), body: { sku: 'X', name: 'X' } })).status).toBe(403);
    const bad = await run(process.execPath, [CLI, 'platform-key', '--name', 'x', '--tenants', a.tenantId, '--scopes', 'root'], { env }).then(
      () => null,
      (err: { code: number }) => err,
    );
    expect(bad?.code).toBe(2);
  });
});
