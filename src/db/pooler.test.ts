// The pools behind a transaction pooler (src/db/pooler.ts), on a direct connection where what a
// statement leaves on its session can be seen: nothing prepared, no setting beyond its transaction.
// test/e2e/pgbouncer.test.ts runs the whole product through a real PgBouncer.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { createPool, named, withTx, type Db } from './pool.ts';
import { plannerWarning } from './pooler.ts';
import { tenantTx } from './tenant-tx.ts';

let t: TestDb;
/** The database's own value of a setting: what a session without our options sees. */
let defaults: Record<string, string>;
beforeAll(async () => {
  t = await createTestDb();
  const c = new pg.Client({ connectionString: t.url });
  await c.connect();
  const { rows } = await c.query<{ name: string; setting: string }>(
    `select name, setting from pg_settings where name in ('random_page_cost', 'synchronous_commit')`,
  );
  defaults = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
  await c.end();
});
afterAll(async () => {
  await t?.drop();
});

const setting = async (q: Pick<Db, 'query'>, name: string) => (await q.query<{ v: string }>(`select current_setting($1) as v`, [name])).rows[0]!.v;
const prepared = async (q: Pick<Db, 'query'>) => (await q.query<{ n: number }>(`select count(*)::int as n from pg_prepared_statements`)).rows[0]!.n;

describe('createPool behind a transaction pooler', () => {
  it('sends named statements unnamed: nothing stays prepared on the connection', async () => {
    // One connection: every statement meets what the ones before left on it.
    const pool = createPool(t.url, 1, { transactionPooler: true });
    try {
      expect((await pool.query(named('pooler_probe', 'select $1::int as v', [1]))).rows).toEqual([{ v: 1 }]);
      // The same name with another text: a prepared name would refuse it.
      expect((await pool.query(named('pooler_probe', 'select $1::int + 1 as v', [1]))).rows).toEqual([{ v: 2 }]);
      await withTx(pool, (tx) => tx.query(named('pooler_probe_tx', 'select 1', [])));
      expect(await prepared(pool)).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('applies its settings to each transaction (set local), never to the connection', async () => {
    const pool = createPool(t.url, 1, { transactionPooler: true, asyncCommit: true });
    try {
      await withTx(pool, async (tx) => {
        expect(await setting(tx, 'random_page_cost')).toBe('1.1');
        expect(await setting(tx, 'synchronous_commit')).toBe('off');
      });
      // A tenant transaction opens with its own statements: the settings ride along.
      await tenantTx(pool, 'ten_probe', async (tx) => expect(await setting(tx, 'random_page_cost')).toBe('1.1'));
      // Gone with the commit: the next client a pooler lends this connection to sees the database's values.
      expect(await setting(pool, 'random_page_cost')).toBe(defaults.random_page_cost);
      expect(await setting(pool, 'synchronous_commit')).toBe(defaults.synchronous_commit);
    } finally {
      await pool.end();
    }
  });

  it('without it (the default), statements stay prepared and the settings come with the connection', async () => {
    const pool = createPool(t.url, 1, { asyncCommit: true });
    try {
      await pool.query(named('direct_probe', 'select $1::int as v', [1]));
      expect(await prepared(pool)).toBe(1);
      expect(await setting(pool, 'random_page_cost')).toBe('1.1');
      expect(await setting(pool, 'synchronous_commit')).toBe('off');
    } finally {
      await pool.end();
    }
  });
});

describe('plannerWarning', () => {
  it("warns while the database's random_page_cost is not the SSD one, and not once the operator set it", async () => {
    const name = new URL(t.url).pathname.slice(1);
    const fresh = () => createPool(t.url, 1, { transactionPooler: true });
    const before = fresh();
    try {
      if (Number(defaults.random_page_cost) > 1.1) expect(await plannerWarning(before)).toMatch(`ALTER DATABASE "${name}" SET random_page_cost = 1.1`);
    } finally {
      await before.end();
    }
    await t.db.query(`alter database "${name}" set random_page_cost = 1.1`);
    const after = fresh(); // the setting applies to sessions that start after it
    try {
      expect(await plannerWarning(after)).toBeNull();
    } finally {
      await after.end();
    }
  });
});
