// Statements deferred to the commit (deferToCommit, how audit rows travel): they commit with the
// transaction, never without it, and one that fails takes the transaction down with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { deferToCommit, withTx } from './pool.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
  await t.db.query(`create table deferred_probe (id int primary key, note text)`);
});
afterAll(async () => {
  await t?.drop();
});

const rows = async () => (await t.db.query<{ id: number; note: string }>(`select id, note from deferred_probe order by id`)).rows;

describe('deferToCommit', () => {
  it('sends the statement with the commit: it lands with the transaction, quoted as given', async () => {
    const note = `it's a \\ back'slash "quote"`;
    await withTx(t.db, async (tx) => {
      await tx.query(`insert into deferred_probe values (1, 'direct')`);
      expect(deferToCommit(tx, (lit) => `insert into deferred_probe values (2, ${lit(note)})`)).toBe(true);
      expect(deferToCommit(tx, (lit) => `insert into deferred_probe values (3, ${lit(null)})`)).toBe(true);
      // Not yet written: it waits for the commit.
      expect((await tx.query(`select count(*)::int as n from deferred_probe`)).rows[0].n).toBe(1);
    });
    expect(await rows()).toEqual([
      { id: 1, note: 'direct' },
      { id: 2, note },
      { id: 3, note: null },
    ]);
  });

  it('is dropped when the transaction fails, and a failing one rolls the whole transaction back', async () => {
    await expect(
      withTx(t.db, async (tx) => {
        deferToCommit(tx, () => `insert into deferred_probe values (10, 'never')`);
        throw new Error('the work failed');
      }),
    ).rejects.toThrow('the work failed');
    await expect(
      withTx(t.db, async (tx) => {
        await tx.query(`insert into deferred_probe values (11, 'rolled back')`);
        deferToCommit(tx, () => `insert into deferred_probe values (1, 'duplicate key')`);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 3]);
    // The connection went back clean: the next transaction works.
    await withTx(t.db, async (tx) => void deferToCommit(tx, () => `insert into deferred_probe values (12, 'after')`));
    expect((await rows()).map((r) => r.id)).toEqual([1, 2, 3, 12]);
  });

  it('outside a transaction it declines, and the caller runs the statement itself', async () => {
    expect(deferToCommit(t.db, () => `select 1`)).toBe(false);
    const client = await t.db.connect();
    try {
      expect(deferToCommit(client, () => `select 1`)).toBe(false);
    } finally {
      client.release();
    }
  });
});
