// API keys below HTTP: the secret is shown once and found by its hash, scopes are kept once each,
// revoking is idempotent and final, every change is audited, and tenants never see each other's keys.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { findTenantKey } from '../db/api-keys.ts';
import { withTx } from '../db/pool.ts';
import { createTenant } from '../db/tenants.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from './api-keys.ts';
import type { Scope } from './scope.ts';

let t: TestDb;
let scope: Scope;
let other: Scope;

const asUser = (tenantId: string): Scope => ({ tenantId, actor: { type: 'user', id: newId('usr') }, requestId: 'req-keys' });

beforeAll(async () => {
  t = await createTestDb();
  scope = asUser((await createTenant(t.db, { name: 'Keys Co' })).tenantId);
  other = asUser((await createTenant(t.db, { name: 'Other Co' })).tenantId);
});
afterAll(() => t?.drop());

const notFound = (p: Promise<unknown>) => expect(p).rejects.toSatisfy((e: unknown) => e instanceof AppError && e.status === 404 && e.code === 'not_found');

describe('API keys', () => {
  it('shows the secret once, stores only its hash, and keeps each scope once', async () => {
    const k = await withTx(t.db, (tx) => createApiKey(tx, scope, { name: 'Till sync', scopes: ['write', 'read', 'write'] }));
    expect(k.key).toMatch(/^sck_/);
    expect(k).toMatchObject({ name: 'Till sync', scopes: ['write', 'read'], created_by: scope.actor.id, revoked_at: null, prefix: k.key.slice(0, 10) });
    const { rows } = await t.db.query(`select * from api_keys where tenant_id = $1 and id = $2`, [scope.tenantId, k.id]);
    expect(JSON.stringify(rows)).not.toContain(k.key);
    expect(await getApiKey(t.db, scope, k.id)).not.toHaveProperty('key');
    expect(await findTenantKey(t.db, k.key)).toMatchObject({ id: k.id, tenant_id: scope.tenantId, scopes: ['write', 'read'] });
    const audit = await t.db.query(`select action, actor_id, changes, request_id from audit_log where tenant_id = $1 and resource_id = $2`, [
      scope.tenantId,
      k.id,
    ]);
    expect(audit.rows).toEqual([
      { action: 'api_key.created', actor_id: scope.actor.id, changes: { name: 'Till sync', scopes: ['write', 'read'] }, request_id: 'req-keys' },
    ]);
  });

  it('revoking twice is harmless and the first time stands; a revoked key authenticates nothing', async () => {
    const k = await withTx(t.db, (tx) => createApiKey(tx, scope, { name: 'Old', scopes: ['read'] }));
    await withTx(t.db, (tx) => revokeApiKey(tx, scope, k.id));
    const first = (await getApiKey(t.db, scope, k.id)).revoked_at;
    expect(first).not.toBeNull();
    await withTx(t.db, (tx) => revokeApiKey(tx, scope, k.id));
    expect((await getApiKey(t.db, scope, k.id)).revoked_at).toEqual(first);
    expect(await findTenantKey(t.db, k.key)).toBeNull();
    const actions = await t.db.query(`select action from audit_log where tenant_id = $1 and resource_id = $2 order by id`, [scope.tenantId, k.id]);
    expect(actions.rows.map((r) => r.action)).toEqual(['api_key.created', 'api_key.revoked', 'api_key.revoked']);
  });

  it('never shows or revokes another tenant’s key', async () => {
    const k = await withTx(t.db, (tx) => createApiKey(tx, scope, { name: 'Mine', scopes: ['admin'] }));
    await notFound(getApiKey(t.db, other, k.id));
    await notFound(withTx(t.db, (tx) => revokeApiKey(tx, other, k.id)));
    expect((await getApiKey(t.db, scope, k.id)).revoked_at).toBeNull();
    expect((await listApiKeys(t.db, other, { after: null, limit: 50 })).data).toEqual([]);
    const mine = await listApiKeys(t.db, scope, { after: null, limit: 2 });
    expect(mine.data).toHaveLength(2);
    expect(mine.next_cursor).not.toBeNull();
  });
});
