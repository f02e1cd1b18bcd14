// The opening statements of a transaction travel with its first statement (openWithFirst): the
// statement runs inside the transaction, after the opening; a failing opening runs nothing; and
// the connection's prepared statements stay right either way.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { createPool, named, runTx, type Db } from './pool.ts';

let t: TestDb;
let one: Db;
beforeAll(async () => {
  t = await createTestDb();
  await t.db.query(`create table open_probe (id int primary key, note text)`);
  one = createPool(t.url, 1); // one connection: every call below lands on the same session
});
afterAll(async () => {
  await one?.end();
  await t?.drop();
});

const probe = (id: number, note: string, name = 'open_probe_insert') => named(name, `insert into open_probe values ($1, $2) returning id, note`, [id, note]);
const count = async () => (await t.db.query<{ n: number }>(`select count(*)::int as n from open_probe`)).rows[0]!.n;

describe('openWithFirst', () => {
  it('runs the first statement inside the transaction, after the opening, and rolls back with it', async () => {
    const seen = await runTx(one, ['begin', `set local app.probe = 'opened'`], async (tx) => {
      // Parameters: this statement carries the opening (the extended protocol).
      const r = await tx.query<{ v: string }>(named('open_probe_setting', `select current_setting($1, true) as v`, ['app.probe']));
      const ins = await tx.query(probe(1, 'first'));
      expect(ins.rows).toEqual([{ id: 1, note: 'first' }]);
      return r.rows[0]!;
    });
    expect(seen.v).toBe('opened');
    // The first statement itself rolls back with the transaction: it ran inside it.
    await expect(
      runTx(one, ['begin'], async (tx) => {
        await tx.query(probe(2, 'rolled back'));
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await count()).toBe(1);
    // The setting was LOCAL: the pooled session does not carry it on.
    expect((await one.query(`select current_setting('app.probe', true) as v`)).rows[0].v ?? '').toBe('');
  });

  it('a failing opening runs nothing, and the named statement still works on that connection', async () => {
    await expect(runTx(one, ['begin', 'set local role no_such_role_here'], (tx) => tx.query(probe(3, 'never', 'open_probe_fresh')))).rejects.toThrow(
      /no_such_role_here/,
    );
    expect(await count()).toBe(1);
    // The statement was never parsed on this session: the next use must parse it again, not assume it.
    await runTx(one, ['begin'], (tx) => tx.query(probe(4, 'after the failure', 'open_probe_fresh')));
    await runTx(one, ['begin'], (tx) => tx.query(probe(5, 'and again', 'open_probe_fresh')));
    expect(await count()).toBe(3);
  });

  it('a first statement without parameters gets the opening before it; nothing run means no transaction at all', async () => {
    await runTx(one, ['begin', `set local app.probe = 'plain'`], async (tx) => {
      const r = await tx.query<{ v: string }>(`select current_setting('app.probe', true) as v`);
      expect(r.rows[0]!.v).toBe('plain');
    });
    expect(await runTx(one, ['begin'], async () => 'nothing to do')).toBe('nothing to do');
    // The client is back to its own query: a plain query outside runTx is not in a transaction.
    const r = await one.query<{ v: string | null }>(`select current_setting('app.probe', true) as v`);
    expect(r.rows[0]!.v ?? '').toBe('');
  });
});
