// commitWith: a transaction's last statement carries the writes waiting for the commit and the
// commit itself, in one round trip, only where the transaction's owner said nothing follows; after
// it the transaction takes no more statements; a failure commits nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { commitWith, createPool, deferToCommit, named, nothingFollows, runTx, type Db, type Tx } from './pool.ts';

let t: TestDb;
let one: Db;
let pooled: Db;
beforeAll(async () => {
  t = await createTestDb();
  await t.db.query(`create table commit_probe (id int primary key, note text)`);
  one = createPool(t.url, 1); // one connection: every call below lands on the same session
  pooled = createPool(t.url, 1, { transactionPooler: true }); // unnamed statements, settings per transaction
});
afterAll(async () => {
  await one?.end();
  await pooled?.end();
  await t?.drop();
});

const probe = (id: number, note: string) =>
  named('commit_probe_insert', `insert into commit_probe values ($1, $2) returning id, note, current_setting('app.probe', true) as probe`, [id, note]);
const ids = async () => (await t.db.query<{ id: number }>(`select id from commit_probe order by id`)).rows.map((r) => r.id);
/** Round trips on this connection from now: each ends with one ReadyForQuery. */
function roundTrips(tx: Tx): () => number {
  let n = 0;
  (tx as unknown as { connection: { on(e: string, f: () => void): void } }).connection.on('readyForQuery', () => n++);
  return () => n;
}
const deferNote = (tx: Tx, id: number) => deferToCommit(tx, (lit) => `insert into commit_probe values (${id}, ${lit('deferred')})`);

describe('commitWith', () => {
  it('with the owner saying nothing follows: opening, statement, deferred writes and commit in one round trip', async () => {
    for (const [db, base] of [
      [one, 1],
      [pooled, 11],
    ] as const) {
      let trips = () => 0;
      const seen = await runTx(db, ['begin', `set local app.probe = 'opened'`], async (tx) => {
        trips = roundTrips(tx);
        nothingFollows(tx);
        expect(deferNote(tx, base + 1)).toBe(true);
        const r = await commitWith<{ id: number; probe: string }>(tx, probe(base, 'last'));
        // Committed already: another session sees both rows before the transaction's body returns.
        expect((await t.db.query(`select count(*)::int as n from commit_probe where id in ($1, $2)`, [base, base + 1])).rows[0].n).toBe(2);
        return r.rows[0]!;
      });
      expect(seen).toEqual({ id: base, note: 'last', probe: 'opened' });
      expect(trips()).toBe(1);
    }
    expect(await ids()).toEqual([1, 2, 11, 12]);
  });

  it('after an earlier statement, and after a plain begin, it still carries the commit', async () => {
    let trips = () => 0;
    await runTx(one, ['begin'], async (tx) => {
      trips = roundTrips(tx);
      nothingFollows(tx);
      await tx.query(probe(21, 'first'));
      await commitWith(tx, probe(22, 'last'));
    });
    expect(trips()).toBe(2);
    await runTx(one, 'begin', async (tx) => {
      nothingFollows(tx);
      await commitWith(tx, probe(23, 'after a plain begin'));
      expect((await t.db.query(`select count(*)::int as n from commit_probe where id = 23`)).rows[0].n).toBe(1);
    });
    expect(await ids()).toEqual([1, 2, 11, 12, 21, 22, 23]);
  });

  it('without the owner saying so it is a plain statement: the commit waits, and a later failure rolls it back', async () => {
    await expect(
      runTx(one, ['begin'], async (tx) => {
        await commitWith(tx, probe(31, 'not yet'));
        expect((await t.db.query(`select count(*)::int as n from commit_probe where id = 31`)).rows[0].n).toBe(0);
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    expect(await ids()).not.toContain(31);
  });

  it('a failing statement commits nothing, its deferred writes included, and the connection stays usable', async () => {
    await expect(
      runTx(one, ['begin'], async (tx) => {
        nothingFollows(tx);
        deferNote(tx, 41);
        await commitWith(tx, probe(1, 'duplicate key'));
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await ids()).not.toContain(41);
    await runTx(one, ['begin'], async (tx) => {
      nothingFollows(tx);
      await commitWith(tx, probe(42, 'after the failure'));
    });
    expect(await ids()).toContain(42);
  });

  it('after it the transaction takes no more statements; the client goes back to the pool whole', async () => {
    await expect(
      runTx(one, ['begin'], async (tx) => {
        nothingFollows(tx);
        await commitWith(tx, probe(51, 'committed'));
        expect(() => deferNote(tx, 52)).toThrow(/after the transaction committed/);
        await tx.query(probe(53, 'outside the transaction'));
      }),
    ).rejects.toThrow(/already committed/);
    // The committed statement stays; nothing after it ran.
    expect(await ids()).toContain(51);
    expect(await ids()).not.toContain(52);
    expect(await ids()).not.toContain(53);
    // The same connection runs a real transaction again: a failure rolls its statements back.
    await expect(
      runTx(one, ['begin'], async (tx) => {
        await tx.query(probe(54, 'rolled back'));
        throw new Error('again');
      }),
    ).rejects.toThrow('again');
    expect(await ids()).not.toContain(54);
  });
});
