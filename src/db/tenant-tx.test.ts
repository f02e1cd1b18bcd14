// Row-level security, the second wall (issue 11, point 7): a query that forgets its tenant_id filter,
// run on the tenant-scoped path (`tenantTx`, which every API write goes through: src/http/tx.ts),
// sees none of another tenant's rows in any tenant table, cannot write them, and with the tenant
// setting forgotten sees nothing at all. Fails if the role, the grants or the policies go away.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { newId } from '../domain/ids.ts';
import { recordMovements } from '../ledger/ledger.ts';
import { createPool, runTx, withTx, type Db } from './pool.ts';
import { APP_ROLE, TENANT_SETTING, tenantTx } from './tenant-tx.ts';
import { createItems, createTenant } from './tenants.ts';

let t: TestDb;
let A: { tenantId: string; itemId: string };
let B: { tenantId: string; itemId: string };
let tenantTables: string[];

/** Tables the seed fills for both tenants: each must show the caller its own rows and only those. */
const SEEDED = ['tenants', 'users', 'locations', 'items', 'stock_levels', 'stock_movements', 'channels', 'listings', 'audit_log'];

async function seedTenant(db: Db, name: string) {
  const ten = await withTx(db, (tx) => createTenant(tx, { name, owner: { email: `${randomUUID()}@example.com`, passwordHash: 'x' } }));
  const [itemId] = await createItems(db, ten.tenantId, [{ sku: 'SOUP', name: `${name} soup` }]);
  await recordMovements(db, ten.tenantId, [{ itemId: itemId!, locationId: ten.locationId, qtyDelta: 5, reason: 'receipt' }]);
  const channelId = newId('ch');
  await db.query(
    `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, 'eposnow', 'till', 'http://127.0.0.1:9', 'x', '{}')`,
    [ten.tenantId, channelId],
  );
  await db.query(
    `insert into listings (tenant_id, id, channel_id, item_id, external_id, external_sku, name, state) values ($1, $2, $3, $4, 'ext-1', 'SOUP', 'Soup', 'in_sync')`,
    [ten.tenantId, newId('lst'), channelId, itemId],
  );
  await db.query(
    `insert into audit_log (tenant_id, actor_type, actor_id, action, resource_type, resource_id) values ($1, 'system', 'system', 'item.created', 'item', $2)`,
    [ten.tenantId, itemId],
  );
  return { tenantId: ten.tenantId, itemId: itemId! };
}

beforeAll(async () => {
  t = await createTestDb();
  A = await seedTenant(t.db, 'Alpha');
  B = await seedTenant(t.db, 'Beta');
  const { rows } = await t.db.query<{ relname: string }>(
    `select c.relname from pg_class c
     join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
     join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
     where c.relkind in ('r', 'p') order by 1`,
  );
  tenantTables = rows.map((r) => r.relname);
});
afterAll(() => t.drop());

/** Every row of `table` with no filter at all: (own, other) counts as the caller sees them. */
async function unfiltered(q: { query: Db['query'] }, table: string, tenantId: string) {
  const col = table === 'tenants' ? 'id' : 'tenant_id';
  const { rows } = await q.query<{ own: number; other: number }>(
    `select count(*) filter (where ${col} = $1)::int as own, count(*) filter (where ${col} <> $1)::int as other from ${table}`,
    [tenantId],
  );
  return rows[0]!;
}

describe('row-level security', () => {
  it('covers every table that has a tenant_id column, and the tenants table', async () => {
    expect(tenantTables.length).toBeGreaterThan(30);
    const { rows } = await t.db.query<{ relname: string; rls: boolean; policies: number; granted: boolean }>(
      `select c.relname, c.relrowsecurity as rls,
              (select count(*)::int from pg_policy p where p.polrelid = c.oid) as policies,
              has_table_privilege($2, c.oid, 'select') as granted
       from pg_class c join pg_namespace n on n.oid = c.relnamespace and n.nspname = 'public'
       where c.relname = any($1::text[])`,
      [[...tenantTables, 'tenants'], APP_ROLE],
    );
    const unprotected = rows.filter((r) => !r.rls || r.policies === 0 || !r.granted).map((r) => r.relname);
    // A new tenant table needs: ENABLE ROW LEVEL SECURITY, a tenant_isolation policy and grants (see drizzle/0023_rls.sql).
    expect(unprotected).toEqual([]);
    expect(rows).toHaveLength(tenantTables.length + 1);
  });

  it('the app role can bypass nothing: not a superuser, no BYPASSRLS, owns no table', async () => {
    const { rows } = await t.db.query(
      `select rolsuper, rolbypassrls, rolcanlogin,
              (select count(*)::int from pg_class c where c.relowner = r.oid) as owned
       from pg_roles r where rolname = $1`,
      [APP_ROLE],
    );
    expect(rows).toEqual([{ rolsuper: false, rolbypassrls: false, rolcanlogin: false, owned: 0 }]);
    const who = await tenantTx(
      t.db,
      A.tenantId,
      async (tx) => (await tx.query(`select current_user as u, current_setting($1) as s`, [TENANT_SETTING])).rows[0],
    );
    expect(who).toEqual({ u: APP_ROLE, s: A.tenantId });
  });

  it('a query without a tenant_id filter sees only its own tenant, in every tenant table', async () => {
    // The system path sees both tenants: the rows are there to be leaked.
    for (const table of SEEDED) expect((await unfiltered(t.db, table, A.tenantId)).other, `system path, ${table}`).toBeGreaterThan(0);

    for (const [me, other] of [
      [A, B],
      [B, A],
    ] as const) {
      await tenantTx(t.db, me.tenantId, async (tx) => {
        for (const table of tenantTables) expect((await unfiltered(tx, table, me.tenantId)).other, table).toBe(0);
        for (const table of SEEDED) expect((await unfiltered(tx, table, me.tenantId)).own, table).toBeGreaterThan(0);
        // Asking for the other tenant by id finds nothing either.
        const { rowCount } = await tx.query(`select 1 from items where tenant_id = $1 and id = $2`, [other.tenantId, other.itemId]);
        expect(rowCount).toBe(0);
      });
    }
  });

  it("cannot change or create another tenant's rows", async () => {
    await tenantTx(t.db, A.tenantId, async (tx) => {
      // Unfiltered update and delete reach only A's rows.
      const upd = await tx.query(`update items set name = name`);
      expect(upd.rowCount).toBe(1);
      const del = await tx.query(`delete from listings where tenant_id = $1`, [B.tenantId]);
      expect(del.rowCount).toBe(0);
    });
    const err = await tenantTx(t.db, A.tenantId, (tx) =>
      tx.query(`insert into items (tenant_id, id, sku, name) values ($1, $2, 'X', 'smuggled')`, [B.tenantId, newId('item')]),
    ).catch((e: { code?: string }) => e);
    expect(err).toMatchObject({ code: '42501' }); // new row violates row-level security policy
    expect((await unfiltered(t.db, 'items', B.tenantId)).own).toBe(1);
  });

  it('the ledger and the audit log are append-only for the app role', async () => {
    for (const sql of [`update stock_movements set qty_delta = 0`, `delete from audit_log`]) {
      const err = await tenantTx(t.db, A.tenantId, (tx) => tx.query(sql)).catch((e: { code?: string }) => e);
      expect(err, sql).toMatchObject({ code: '42501' }); // permission denied
    }
  });

  it('fails closed: the app role with no tenant setting, or an empty one, sees nothing', async () => {
    for (const begin of [`begin; set local role ${APP_ROLE}`, `begin; set local role ${APP_ROLE}; select set_config('${TENANT_SETTING}', '', true)`]) {
      await runTx(t.db, begin, async (tx) => {
        for (const table of [...tenantTables, 'tenants']) {
          const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from ${table}`);
          expect(rows[0]!.n, `${begin}: ${table}`).toBe(0);
        }
      });
    }
  });

  it('leaves nothing on the pooled connection: after commit or rollback the next caller is the system path, with no tenant', async () => {
    const one = createPool(t.url, 1);
    try {
      const state = async () =>
        (await one.query<{ u: string; s: string | null }>(`select current_user as u, nullif(current_setting($1, true), '') as s`, [TENANT_SETTING])).rows[0];
      const system = await state();
      expect(system!.u).not.toBe(APP_ROLE);
      await tenantTx(one, A.tenantId, async () => {});
      expect(await state()).toEqual({ u: system!.u, s: null });
      await tenantTx(one, A.tenantId, async () => {
        throw new Error('boom');
      }).catch(() => {});
      expect(await state()).toEqual({ u: system!.u, s: null });
      // A statement error inside the transaction (the rollback path) too.
      await tenantTx(one, A.tenantId, (tx) => tx.query('select 1/0')).catch(() => {});
      expect(await state()).toEqual({ u: system!.u, s: null });
    } finally {
      await one.end();
    }
  });

  it('a tenant id cannot smuggle SQL into the opening statement', async () => {
    const evil = `x', true); reset role; select set_config('${TENANT_SETTING}', 'y`;
    const seen = await tenantTx(t.db, evil, async (tx) => (await tx.query(`select current_user as u, current_setting($1) as s`, [TENANT_SETTING])).rows[0]);
    expect(seen).toEqual({ u: APP_ROLE, s: evil });
  });
});
