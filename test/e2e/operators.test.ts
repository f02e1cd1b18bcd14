// Operators (issue 11, point 2): `stockclerk admin create` makes a super admin (a new account in
// the operators' tenant, or a promoted user), beside a running server; the `operator` permission
// guards the operators' API, which no role and no key holds.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, expectError } from '../api/support.ts';
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

const cli = (...args: string[]) =>
  run(process.execPath, [CLI, 'admin', ...args], { env: { ...process.env, DATABASE_URL: h.testDb.url } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
const login = async (email: string, password: string) =>
  (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password } })).body.access_token as string;

describe('stockclerk admin create', () => {
  it('creates an operator who can list every tenant; owners and keys cannot', async () => {
    const shop = await registerTenant(h.url, 'Shop Co');
    const email = `ops-${Date.now()}@stockclerk.example`;
    const made = await cli('create', '--email', email, '--password', 'operator-pass-1');
    expect(made.code).toBe(0);
    expect(made.stdout).toMatch(/is a new operator \(super admin\): user usr_\w+, tenant ten_\w+/);
    const ops = client(h.url, await login(email, 'operator-pass-1'));
    const tenants = await ops('GET', '/admin/tenants?limit=100');
    expect(tenants.status).toBe(200);
    const names = (tenants.body.data as Array<{ id: string; name: string; users: number }>).map((t) => t.name);
    expect(names).toContain('Shop Co');
    expect(names).toContain('StockClerk operators');
    expect(tenants.body.data.find((t: { id: string }) => t.id === shop.tenantId)).toMatchObject({ users: 1, items: 0, plan: 'trial' });
    expect((await ops('GET', '/me')).body.credential.scopes).toContain('operator');

    // A tenant's owner is not an operator, nor is any key.
    const owner = client(h.url, shop.token);
    expectError(await owner('GET', '/admin/tenants'), 403, 'forbidden');
    const key = (await owner('POST', '/api-keys', { name: 'all', scopes: ['read', 'write', 'admin'] })).body.key as string;
    expectError(await client(h.url, key)('GET', '/admin/tenants'), 403, 'insufficient_scope');
  });

  it('promotes an existing user, who keeps their tenant and role; refuses bad input with exit 2', async () => {
    const shop = await registerTenant(h.url, 'Promoted Co');
    expectError(await client(h.url, shop.token)('GET', '/admin/tenants'), 403, 'forbidden');
    const promoted = await cli('create', '--email', shop.email.toUpperCase());
    expect(promoted.code).toBe(0);
    expect(promoted.stdout).toContain('is now an operator');
    const fresh = client(h.url, await login(shop.email, 'correct-horse-9'));
    expect((await fresh('GET', '/admin/tenants')).status).toBe(200);
    expect((await fresh('GET', '/me')).body).toMatchObject({ user: { role: 'owner' }, tenant: { id: shop.tenantId } });

    expect((await cli('create')).code).toBe(2);
    expect((await cli('create', '--email', 'nobody@example.com')).stderr).toMatch(/give --password/);
    expect((await cli('create', '--email', 'nobody@example.com', '--password', 'short')).code).toBe(2);
    expect((await cli('create', '--email', 'not-an-email', '--password', 'long-enough-1')).code).toBe(2);
    expect((await cli('remove', '--email', shop.email)).code).toBe(2);
  });
});
