// The outbox relay at rest costs (almost) nothing: an empty outbox moves nothing and tells no
// worker anything (graphile's jobs:insert NOTIFY woke a worker in every process on each empty
// look), and an idle relay looks less and less often, while a nudge still moves rows at once.
import { runOnce } from 'graphile-worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { addJobs, relayOutbox } from '../db/jobs.ts';
import { quietLogger } from '../db/migrate.ts';
import type { Db } from '../db/pool.ts';
import { installTraceHooks, traceHooks } from '../obs/trace-hooks.ts';
import type { AppContext } from './context.ts';
import { JobRuntime } from './job-runtime.ts';
import { startRelay } from './relay.ts';

let t: TestDb;
let listener: pg.Client;
const notified: string[] = [];
beforeAll(async () => {
  t = await createTestDb();
  listener = new pg.Client({ connectionString: t.url });
  await listener.connect();
  listener.on('notification', (n) => notified.push(n.channel));
  await listener.query('listen "jobs:insert"');
});
afterAll(async () => {
  await listener?.end();
  await t?.drop();
});

const settle = () => new Promise((r) => setTimeout(r, 150));
const jobCount = async () => (await t.db.query<{ n: number }>(`select count(*)::int as n from graphile_worker.jobs`)).rows[0]!.n;

describe('outbox relay', () => {
  it('an empty outbox: nothing moved and no jobs:insert notification; a row: one job and one notification', async () => {
    notified.length = 0;
    for (let i = 0; i < 10; i++) expect(await relayOutbox(t.db)).toBe(0);
    await settle();
    expect(notified).toEqual([]);
    await addJobs(t.db, [{ task: 'alerts_health', payload: {} }]);
    expect(await relayOutbox(t.db)).toBe(1);
    await settle();
    expect(notified).toEqual(['jobs:insert']);
    expect(await jobCount()).toBe(1);
  });

  it('idle, it looks less and less often; a nudge moves a row at once', async () => {
    let looks = 0;
    const counting = { query: (...args: unknown[]) => (looks++, (t.db.query as (...a: unknown[]) => unknown)(...args)) } as unknown as Db;
    const jobs = new JobRuntime();
    const ctx = { db: counting, jobs, log: { error() {} } } as unknown as AppContext;
    const relay = startRelay(ctx);
    try {
      await new Promise((r) => setTimeout(r, 1500));
      // At a fixed 20 ms it would have looked ~75 times; backing off to 200 ms, about a dozen.
      expect(looks).toBeGreaterThan(3);
      expect(looks).toBeLessThan(20);
      const before = await jobCount();
      await addJobs(t.db, [{ task: 'alerts_health', payload: {} }]);
      const nudgedAt = Date.now();
      jobs.nudgeRelay();
      for (;;) {
        if ((await jobCount()) > before) break;
        await new Promise((r) => setTimeout(r, 5));
      }
      // Well under the idle look's 200 ms.
      expect(Date.now() - nudgedAt).toBeLessThan(100);
    } finally {
      await relay.stop();
    }
  });

  it("tracing: a job that folds several writers' rows keeps every writer's traceparent; without tracing the payload is untouched", async () => {
    const tps = ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'];
    const original = traceHooks.traceparent;
    try {
      // Two writers (two transactions) signal one job key, each from its own sale's trace.
      for (const tp of tps) {
        installTraceHooks({ ...traceHooks, traceparent: () => tp });
        await addJobs(t.db, [{ task: 'sync_push', payload: { tenantId: 'ten_trace', channelId: 'ch_trace' }, key: 'push:ch_trace' }]);
      }
    } finally {
      installTraceHooks({ ...traceHooks, traceparent: original });
    }
    await addJobs(t.db, [{ task: 'sync_push', payload: { tenantId: 'ten_trace', channelId: 'ch_plain' }, key: 'push:ch_plain' }]);
    expect(await relayOutbox(t.db)).toBe(3);
    // The payloads as a worker is handed them (graphile-worker's public runOnce, not its tables).
    const seen = new Map<string, Record<string, unknown>>();
    await runOnce({
      pgPool: t.db,
      noHandleSignals: true,
      logger: quietLogger,
      taskList: {
        sync_push: async (payload, helpers) => {
          seen.set(helpers.job.key!, payload as Record<string, unknown>);
        },
      },
    });
    const folded = seen.get('push:ch_trace')!;
    expect([...(folded.traceparents as string[])].sort()).toEqual([...tps].sort());
    expect(seen.get('push:ch_plain')).toEqual({ tenantId: 'ten_trace', channelId: 'ch_plain' });
  });
});
