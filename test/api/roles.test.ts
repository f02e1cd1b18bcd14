// Roles (issue 11, point 1): the permission matrix of src/domain/permissions.ts, enforced on every
// operation of the OpenAPI documents (all three: integrators, account, operators) for every role (allowed: anything but 403; denied: 403
// `forbidden` and nothing changed), and the team's rules: who may change or remove whom, the last
// owner, transferring ownership, and a changed role or a removal taking effect at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissionsOf, ROLES, type Role } from '../../src/domain/permissions.ts';
import { DOCUMENT_NAMES, DOCUMENTS, mergeDocuments } from '../../src/http/openapi.ts';
import { systemScope } from '../../src/services/scope.ts';
import { addMember } from '../../src/services/users.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, snapshot, type Call } from './support.ts';

let h: Harness;
let tenantId: string;
const tokens = {} as Record<Role, string>;
const ids = {} as Record<Role, string>;
const PASSWORD = 'correct-horse-9';

/** A member of the tenant with this role, logged in. */
async function member(role: Role, tag: string = role): Promise<{ id: string; token: string; email: string }> {
  const email = `${tag}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@example.com`;
  const m = await addMember(h.sc.ctx.db, systemScope(tenantId), { email, password: PASSWORD, role });
  const login = await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { id: m.id, token: login.body.access_token, email };
}

beforeAll(async () => {
  h = await startHarness();
  const owner = await registerTenant(h.url, 'Team Co');
  tenantId = owner.tenantId;
  tokens.owner = owner.token;
  ids.owner = (await client(h.url, owner.token)('GET', '/me')).body.user.id;
  for (const role of ['admin', 'editor', 'viewer'] as const) {
    const m = await member(role);
    tokens[role] = m.token;
    ids[role] = m.id;
  }
});
afterAll(async () => {
  await h?.stop();
});

interface Operation {
  method: string;
  path: string;
  need: string;
}

async function operations(): Promise<Operation[]> {
  const docs = await Promise.all(DOCUMENT_NAMES.map(async (n) => (await api(h.url, 'GET', DOCUMENTS[n].path)).body as Record<string, unknown>));
  const doc = mergeDocuments(docs) as { paths: Record<string, Record<string, { 'x-required-scope'?: string }>> };
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method) || (op as { security?: unknown[] }).security?.length === 0) continue;
      // Absent, the method's default (the document's info says so): GET read, else write.
      out.push({ method: method.toUpperCase(), path, need: op['x-required-scope'] ?? (method === 'get' ? 'read' : 'write') });
    }
  }
  return out;
}

/** A concrete path: every {param} filled with an id that names nothing (the answer is a 404 or a 400, never a change). */
const concrete = (path: string) => path.replace('/api/v1', '').replace(/\{[^}]+\}/g, 'x_00000000000000000000000000000001');
const send = (call: Call, op: Operation) => call(op.method, concrete(op.path), op.method === 'GET' || op.method === 'DELETE' ? undefined : {});

describe('the permission matrix on every operation', () => {
  it('covers the document: every role on every operation', async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(80);
    // Each operation asks for one of the matrix's permissions.
    for (const op of ops) expect(['read', 'write', 'admin', 'owner', 'operator']).toContain(op.need);
    // The matrix as the issue states it.
    expect(ROLES.map((r) => [...permissionsOf(r)].join(','))).toEqual(['read,write,admin,owner', 'read,write,admin', 'read,write', 'read']);
    const need = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)?.need;
    expect(need('POST', '/api/v1/adjustments')).toBe('write');
    expect(need('POST', '/api/v1/channels')).toBe('admin');
    expect(need('PATCH', '/api/v1/channels/{id}')).toBe('admin');
    expect(need('POST', '/api/v1/api-keys')).toBe('admin');
    expect(need('POST', '/api/v1/webhook-endpoints')).toBe('admin');
    expect(need('GET', '/api/v1/users')).toBe('admin');
    expect(need('POST', '/api/v1/users/{id}/transfer-ownership')).toBe('owner');
    expect(need('GET', '/api/v1/items')).toBe('read');
    expect(need('GET', '/api/v1/admin/tenants')).toBe('operator');
  });

  it('denied: 403 forbidden for every operation a role lacks, and nothing changed', async () => {
    const ops = await operations();
    const before = await snapshot(h.testDb.db, tenantId);
    let denied = 0;
    for (const role of ROLES) {
      const call = client(h.url, tokens[role]);
      for (const op of ops.filter((o) => !permissionsOf(role).has(o.need as never))) {
        const r = await send(call, op);
        expect({ role, op: `${op.method} ${op.path}`, status: r.status, code: r.body?.error?.code }).toEqual({
          role,
          op: `${op.method} ${op.path}`,
          status: 403,
          code: 'forbidden',
        });
        denied++;
      }
    }
    expect(denied).toBeGreaterThan(40);
    expect(await snapshot(h.testDb.db, tenantId)).toEqual(before);
  });

  it('allowed: no operation a role holds answers 403', async () => {
    const ops = (await operations()).filter((o) => o.path !== '/api/v1/auth/logout'); // (it would end the session)
    for (const role of ROLES) {
      const call = client(h.url, tokens[role]);
      for (const op of ops.filter((o) => permissionsOf(role).has(o.need as never))) {
        const r = await send(call, op);
        // 502/503 are allowed answers (an upstream such as Stripe unreachable, billing not set up here); 500 never is.
        expect({ role, op: `${op.method} ${op.path}`, forbidden: r.status === 403, server_error: r.status === 500 }).toEqual({
          role,
          op: `${op.method} ${op.path}`,
          forbidden: false,
          server_error: false,
        });
      }
    }
  });

  it('a viewer reads but cannot write; an editor changes stock but not channels, keys, webhooks or users', async () => {
    const viewer = client(h.url, tokens.viewer);
    const editor = client(h.url, tokens.editor);
    expect((await viewer('GET', '/items')).status).toBe(200);
    expectError(await viewer('POST', '/items', { sku: 'V-1', name: 'v' }), 403, 'forbidden');
    const item = await editor('POST', '/items', { sku: 'E-1', name: 'e' });
    expect(item.status).toBe(201);
    expectError(await editor('POST', '/channels', { type: 'wix', name: 'x', credentials: {} }), 403, 'forbidden');
    expectError(await editor('POST', '/api-keys', { name: 'k', scopes: ['read'] }), 403, 'forbidden');
    expectError(await editor('GET', '/users'), 403, 'forbidden');
    const denied = await viewer('POST', '/items', { sku: 'V-1', name: 'v' });
    expect(denied.body.error.details).toMatchObject({ required: 'write', role: 'viewer' });
  });
});

describe('the team', () => {
  it('lists the users with their roles (admins only)', async () => {
    const r = await client(h.url, tokens.admin)('GET', '/users?limit=100');
    expect(r.status).toBe(200);
    const roles = Object.fromEntries((r.body.data as Array<{ id: string; role: string }>).map((u) => [u.id, u.role]));
    for (const role of ROLES) expect(roles[ids[role]]).toBe(role);
  });

  it('a changed role takes effect on the next request', async () => {
    const m = await member('viewer', 'promoted');
    const as = client(h.url, m.token);
    expectError(await as('POST', '/items', { sku: 'P-1', name: 'p' }), 403, 'forbidden');
    const r = await client(h.url, tokens.admin)('PATCH', `/users/${m.id}`, { role: 'editor' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: m.id, role: 'editor' });
    expect((await as('POST', '/items', { sku: 'P-1', name: 'p' })).status).toBe(201);
    expect((await client(h.url, tokens.admin)('PATCH', `/users/${m.id}`, { role: 'viewer' })).status).toBe(200);
    expectError(await as('POST', '/items', { sku: 'P-2', name: 'p' }), 403, 'forbidden');
    const audit = await client(h.url, tokens.owner)('GET', `/audit-log?action=user.role_changed&resource_id=${m.id}`);
    expect(audit.body.data.map((a: { changes: unknown }) => a.changes)).toEqual([
      { from: 'editor', to: 'viewer' },
      { from: 'viewer', to: 'editor' },
    ]);
  });

  it('admins cannot make owners or touch an owner; nobody demotes or removes the last owner', async () => {
    const admin = client(h.url, tokens.admin);
    const owner = client(h.url, tokens.owner);
    expectError(await admin('PATCH', `/users/${ids.editor}`, { role: 'owner' }), 403, 'forbidden');
    expectError(await admin('PATCH', `/users/${ids.owner}`, { role: 'viewer' }), 403, 'forbidden');
    expectError(await admin('DELETE', `/users/${ids.owner}`), 403, 'forbidden');
    expectError(await owner('PATCH', `/users/${ids.owner}`, { role: 'admin' }), 409, 'last_owner');
    expectError(await owner('DELETE', `/users/${ids.owner}`), 409, 'last_owner');
    expectError(await owner('PATCH', `/users/${ids.editor}`, { role: 'boss' }), 400, 'validation_failed');
    expectError(await owner('PATCH', `/users/usr_${'0'.repeat(31)}1`, { role: 'viewer' }), 404, 'not_found');
    const me = await owner('GET', '/me');
    expect(me.body.user.role).toBe('owner');
  });

  it('a removed user is logged out at once', async () => {
    const m = await member('editor', 'leaver');
    expect((await client(h.url, m.token)('GET', '/items')).status).toBe(200);
    expect((await client(h.url, tokens.admin)('DELETE', `/users/${m.id}`)).status).toBe(204);
    expectError(await client(h.url, m.token)('GET', '/items'), 401, 'unauthorized');
    expect((await api(h.url, 'POST', '/api/v1/auth/login', { body: { email: m.email, password: PASSWORD } })).status).toBe(401);
  });

  it('ownership moves to another member; the old owner becomes an admin', async () => {
    const next = await member('admin', 'heir');
    expectError(await client(h.url, tokens.admin)('POST', `/users/${next.id}/transfer-ownership`), 403, 'forbidden');
    const r = await client(h.url, tokens.owner)('POST', `/users/${next.id}/transfer-ownership`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: next.id, role: 'owner' });
    expect((await client(h.url, tokens.owner)('GET', '/me')).body.user.role).toBe('admin');
    expectError(await client(h.url, tokens.owner)('POST', `/users/${ids.owner}/transfer-ownership`), 403, 'forbidden');
    // The new owner can hand it back.
    expect((await client(h.url, next.token)('POST', `/users/${ids.owner}/transfer-ownership`)).status).toBe(200);
    expect((await client(h.url, tokens.owner)('GET', '/me')).body.user.role).toBe('owner');
  });
});
