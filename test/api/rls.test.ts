// The API's write transaction (`write()`, src/http/tx.ts) runs under row-level security: a service
// query inside it that forgets its tenant_id filter sees only the caller's tenant, and a rule that
// must hold across tenants (one account per email) still holds through its unique constraint.
// The table-by-table proof of the policies is src/db/tenant-tx.test.ts.
import { randomUUID } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withTx } from '../../src/db/pool.ts';
import { APP_ROLE } from '../../src/db/tenant-tx.ts';
import { createItems, createTenant } from '../../src/db/tenants.ts';
import { JobRuntime } from '../../src/engine/job-runtime.ts';
import type { AppContext } from '../../src/engine/context.ts';
import { write } from '../../src/http/tx.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { emailInUse } from '../../src/services/accounts.ts';
import { addMember } from '../../src/services/users.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';

let t: TestDb;
let ctx: AppContext;
const tenants: Array<{ tenantId: string; email: string }> = [];

beforeAll(async () => {
  t = await createTestDb();
  ctx = { db: t.db, jobs: new JobRuntime() } as AppContext;
  for (const name of ['Alpha', 'Beta']) {
    const email = `${randomUUID()}@example.com`;
    const ten = await withTx(t.db, (tx) => createTenant(tx, { name, owner: { email, passwordHash: 'x' } }));
    const [item] = await createItems(t.db, ten.tenantId, [{ sku: 'SOUP', name: 'Soup' }]);
    await recordMovements(t.db, ten.tenantId, [{ itemId: item!, locationId: ten.locationId, qtyDelta: 5, reason: 'receipt' }]);
    tenants.push({ tenantId: ten.tenantId, email });
  }
});
afterAll(() => t.drop());

/** What a route hands write(): an authenticated request of `tenantId`, without an Idempotency-Key. */
const requestOf = (tenantId: string) => ({ id: 'req_rls', auth: { tenantId, actorType: 'user', actorId: 'usr_rls' } }) as unknown as FastifyRequest;

const TABLES = ['items', 'stock_levels', 'stock_movements', 'locations', 'users', 'tenants'];

it("a write's query without a tenant_id filter sees only the caller's tenant", async () => {
  const [A, B] = tenants as [(typeof tenants)[0], (typeof tenants)[0]];
  // The system path (reads, workers) sees both tenants: there is something to leak.
  for (const table of TABLES) {
    const { rows } = await t.db.query<{ n: number }>(`select count(distinct ${table === 'tenants' ? 'id' : 'tenant_id'})::int as n from ${table}`);
    expect(rows[0]!.n, table).toBe(2);
  }
  const seen = await write(ctx, requestOf(A.tenantId), 200, async (tx, scope) => {
    expect(scope.tenantId).toBe(A.tenantId);
    const out: Record<string, string[]> = { role: [(await tx.query<{ u: string }>('select current_user as u')).rows[0]!.u] };
    for (const table of TABLES) {
      const { rows } = await tx.query<{ t: string }>(`select distinct ${table === 'tenants' ? 'id' : 'tenant_id'} as t from ${table}`);
      out[table] = rows.map((r) => r.t);
    }
    return out;
  });
  expect(seen).toEqual(Object.fromEntries([['role', [APP_ROLE]], ...TABLES.map((table) => [table, [A.tenantId]])]));
  expect(B.tenantId).not.toBe(A.tenantId);
});

it('one account per email still holds across tenants inside a write (a SECURITY DEFINER check, backed by the unique index)', async () => {
  const [A, B] = tenants as [(typeof tenants)[0], (typeof tenants)[0]];
  const seen = await write(ctx, requestOf(A.tenantId), 200, async (tx) => ({
    direct: (await tx.query(`select 1 from users where lower(email) = $1`, [B.email])).rowCount,
    checked: await emailInUse(tx, B.email),
  }));
  expect(seen).toEqual({ direct: 0, checked: true });
  const err = await write(ctx, requestOf(A.tenantId), 201, (tx, scope) =>
    addMember(tx, scope, { email: B.email, password: 'correct-horse-9', role: 'viewer' }),
  ).catch((e: unknown) => e);
  expect(err).toMatchObject({ status: 409, code: 'email_taken' });
});
