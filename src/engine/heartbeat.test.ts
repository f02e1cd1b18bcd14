// Worker heartbeats cannot be starved by the worker's own jobs: a worker busy enough to have every
// connection of its pool lent out (and more jobs waiting for one) still beats, because its beats
// go over a connection of their own. Beating over the jobs' pool, the same worker would be taken
// for dead after WORKER_DEAD_AFTER_S and its jobs run a second time elsewhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { createPool } from '../db/pool.ts';
import type { AppContext } from './context.ts';
import { startHeartbeats } from './worker.ts';

let t: TestDb;
beforeAll(async () => {
  t = await createTestDb();
});
afterAll(async () => {
  await t?.drop();
});

const silent = { warn() {}, error() {} } as unknown as AppContext['log'];

/** Seconds since each worker's last beat, as the reaper sees them. */
async function ages(ids: string[]): Promise<Array<number | null>> {
  const { rows } = await t.db.query<{ worker_id: string; age: number }>(
    `select worker_id, extract(epoch from now() - heartbeat_at)::float8 as age from worker_heartbeats where worker_id = any($1)`,
    [ids],
  );
  return ids.map((id) => rows.find((r) => r.worker_id === id)?.age ?? null);
}

describe('worker heartbeats', () => {
  it('keep beating over their own connection while every connection of the jobs pool is busy; over the jobs pool they stop', async () => {
    const jobsPool = createPool(t.url, 2);
    const beatDb = createPool(t.url, 1, { asyncCommit: true, statementTimeoutMs: 2_000 });
    // A second process's reaper, with a short dead-after: what would rescue (steal) the jobs.
    const reaperCtx = { db: t.db, config: { workerDeadAfterS: 2 }, log: silent } as unknown as AppContext;
    const ctx = { db: jobsPool, config: { workerDeadAfterS: 2 }, log: silent } as unknown as AppContext;
    const own = startHeartbeats(ctx, ['own-beats'], beatDb);
    const shared = startHeartbeats(ctx, ['shared-beats'], jobsPool);
    const reaper = startHeartbeats(reaperCtx, []);
    try {
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await ages(['own-beats', 'shared-beats'])).every((a) => a !== null && a < 1.5)).toBe(true);
      // Every connection of the jobs' pool lent out, as to long-running jobs.
      const held = await Promise.all([jobsPool.connect(), jobsPool.connect()]);
      try {
        // Past the dead-after window, with the jobs' pool lent out the whole time.
        await new Promise((r) => setTimeout(r, 4_000));
        const [ownAge, sharedAge] = await ages(['own-beats', 'shared-beats']);
        expect(ownAge).not.toBeNull();
        expect(ownAge!).toBeLessThan(1.5);
        // The worker beating over its jobs' pool was taken for dead: the reaper removed it.
        expect(sharedAge).toBeNull();
      } finally {
        for (const c of held) c.release();
      }
    } finally {
      await reaper.stop();
      await shared.stop().catch(() => {});
      await own.stop();
      await jobsPool.end();
      await beatDb.end();
    }
  }, 30_000);
});
