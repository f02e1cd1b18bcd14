// Impersonation (issue 12): an operator sees a tenant as its users do, read-only by default, for
// 15 minutes at most; the tenant's users see it in /me and can end it; every request made with
// it is in the tenant's audit log and in the operator's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

let h: Harness;
let merchant: Awaited<ReturnType<typeof registerTenant>>;
let other: Awaited<ReturnType<typeof registerTenant>>;
let ops: ReturnType<typeof client>;
let opTenant: string;
let opUser: string;

beforeAll(async () => {
  h = await startHarness();
  merchant = await registerTenant(h.url, 'Looked At');
  other = await registerTenant(h.url, 'Someone Else');
  const email = `ops-${Date.now()}@stockclerk.example`;
  const made = await makeSuperAdmin(h.sc.ctx.db, email, 'operator-pass-1');
  opTenant = made.tenantId;
  opUser = made.userId;
  ops = client(h.url, (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'operator-pass-1' } })).body.access_token);
});
afterAll(async () => h?.stop());

const auditOf = async (tenantId: string, action: string) =>
  (
    await h.sc.ctx.db.query(`select actor_type, actor_id, resource_id, changes from audit_log where tenant_id = $1 and action = $2 order by id`, [
      tenantId,
      action,
    ])
  ).rows;

describe('impersonation', () => {
  it('gives a read-only token for the tenant that sees its data and changes nothing', async () => {
    const started = await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, { reason: 'merchant asked why a push failed' });
    expect(started.status).toBe(201);
    expect(started.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, tenant_id: merchant.tenantId, impersonation: { read_only: true } });
    const expires = Date.parse(started.body.impersonation.expires_at) - Date.parse(started.body.impersonation.started_at);
    expect(expires).toBe(15 * 60 * 1000);
    const as = client(h.url, started.body.token);

    const me = await as('GET', '/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ user: null, tenant: { id: merchant.tenantId }, credential: { type: 'operator', id: opUser, scopes: ['read'] } });
    const locations = await as('GET', '/locations');
    expect(locations.status).toBe(200);
    expect(locations.body.data.map((l: { id: string }) => l.id)).toContain(merchant.locationId);

    // Writes of every kind are refused, and nothing is created.
    const item = await as('POST', '/items', { sku: 'IMP-1', name: 'Should not exist' });
    expectError(item, 403, 'impersonation_read_only');
    expectError(await as('PATCH', '/tenant', { name: 'Renamed' }), 403, 'impersonation_read_only');
    expect((await h.sc.ctx.db.query(`select count(*)::int as n from items where tenant_id = $1`, [merchant.tenantId])).rows[0].n).toBe(0);
    // The operator's powers do not come along: no console, no other tenant.
    expect((await as('GET', '/admin/tenants')).status).toBe(403);
    expect((await as('GET', '/locations', undefined, { 'x-tenant-id': other.tenantId })).status).toBe(403);

    // The merchant's users see who is looking, and why, until when.
    const owner = client(h.url, merchant.token);
    const seen = await owner('GET', '/me');
    expect(seen.body.impersonations).toEqual([expect.objectContaining({ id: started.body.impersonation.id, reason: 'merchant asked why a push failed' })]);
    expect((await client(h.url, other.token)('GET', '/me')).body.impersonations).toEqual([]);

    // Audited both sides: the start, and each request with its status (refused ones too).
    const impId = started.body.impersonation.id;
    expect(await auditOf(merchant.tenantId, 'impersonation.started')).toMatchObject([{ actor_type: 'user', actor_id: opUser, resource_id: impId }]);
    expect(await auditOf(opTenant, 'impersonation.started')).toMatchObject([{ resource_id: merchant.tenantId }]);
    const there = (await auditOf(merchant.tenantId, 'impersonation.request')).map((r) => `${r.changes.method} ${r.changes.path} ${r.changes.status}`);
    const here = (await auditOf(opTenant, 'impersonation.request')).map((r) => `${r.changes.method} ${r.changes.path} ${r.changes.status}`);
    expect(there).toEqual(
      expect.arrayContaining(['GET /api/v1/me 200', 'GET /api/v1/locations 200', 'POST /api/v1/items 403', 'GET /api/v1/admin/tenants 403']),
    );
    expect(here).toEqual(there);
    expect((await auditOf(merchant.tenantId, 'impersonation.request')).every((r) => r.actor_type === 'operator' && r.actor_id === opUser)).toBe(true);
  });

  it('expires: a token past its 15 minutes is refused', async () => {
    const started = await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, { reason: 'checking the expiry' });
    const as = client(h.url, started.body.token);
    expect((await as('GET', '/items')).status).toBe(200);
    // The row is the authority (the token's own exp is the same instant): move it into the past.
    await h.sc.ctx.db.query(`update impersonations set expires_at = now() - interval '1 second' where id = $1`, [started.body.impersonation.id]);
    await new Promise((r) => setTimeout(r, 5_100)); // the auth cache's few seconds
    expectError(await as('GET', '/items'), 401, 'unauthorized');
    expect((await client(h.url, merchant.token)('GET', '/me')).body.impersonations.map((i: { id: string }) => i.id)).not.toContain(
      started.body.impersonation.id,
    );
  });

  it('ends when the merchant ends it, at once', async () => {
    const started = await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, { reason: 'ended by the merchant' });
    const as = client(h.url, started.body.token);
    expect((await as('GET', '/items')).status).toBe(200);
    expect((await client(h.url, merchant.token)('DELETE', `/impersonations/${started.body.impersonation.id}`)).status).toBe(204);
    expectError(await as('GET', '/items'), 401, 'unauthorized');
    expect(await auditOf(opTenant, 'impersonation.ended')).toEqual(
      expect.arrayContaining([expect.objectContaining({ changes: { impersonation_id: started.body.impersonation.id, ended_by: 'merchant' } })]),
    );
  });

  it('the operator ends their own with its token; it cannot end another', async () => {
    const first = await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, { reason: 'first of two' });
    const second = await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, { reason: 'second of two' });
    const as = client(h.url, first.body.token);
    expectError(await as('DELETE', `/impersonations/${second.body.impersonation.id}`), 403, 'forbidden');
    expect((await as('DELETE', `/impersonations/${first.body.impersonation.id}`)).status).toBe(204);
    expectError(await as('GET', '/items'), 401, 'unauthorized');
    expect((await client(h.url, second.body.token)('GET', '/items')).status).toBe(200);
  });

  it('write mode allows stock work but not admin work', async () => {
    const started = await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, { reason: 'fixing an import', read_only: false });
    const as = client(h.url, started.body.token);
    expect((await as('POST', '/items', { sku: 'IMP-W', name: 'Made by support' })).status).toBe(201);
    expect((await as('POST', '/api-keys', { name: 'nope', scopes: ['read'] })).status).toBe(403);
    const made = await h.sc.ctx.db.query(`select actor_type, actor_id from audit_log where tenant_id = $1 and action = 'item.created'`, [merchant.tenantId]);
    expect(made.rows).toEqual([{ actor_type: 'operator', actor_id: opUser }]);
  });

  it('refuses anyone but an operator, bad input and unknown tenants', async () => {
    expect((await client(h.url, merchant.token)('POST', `/admin/tenants/${other.tenantId}/impersonate`, { reason: 'let me in' })).status).toBe(403);
    expectError(await ops('POST', `/admin/tenants/${merchant.tenantId}/impersonate`, {}), 400, 'validation_failed');
    expectError(await ops('POST', `/admin/tenants/ten_00000000000000000000000000000000/impersonate`, { reason: 'nobody there' }), 404, 'not_found');
    expectError(await ops('POST', `/admin/tenants/${opTenant}/impersonate`, { reason: 'myself' }), 400, 'validation_failed');
    // A viewer of the tenant cannot end one; an unknown id is 404.
    expectError(await client(h.url, merchant.token)('DELETE', '/impersonations/imp_nope'), 404, 'not_found');
  });
});
