// The worker: graphile-worker running the registry's tasks (src/engine/tasks.ts), plus the
// scheduler that feeds them, the outbox relay and the heartbeats that rescue a dead worker's jobs.
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { run, type Runner, type Task, type TaskList, type WorkerEvents, type WorkerPool } from 'graphile-worker';
import { GUARDIAN_TASKS, TASK_NAMES, type TaskName } from '../db/job-specs.ts';
import type { Db } from '../db/pool.ts';
import { listenThrough } from '../db/pooler.ts';
import { quietLogger } from '../db/migrate.ts';
import type { AppContext } from './context.ts';
import { pausedFlags } from './pause.ts';
import { metrics } from '../metrics.ts';
import { payloadTraceparents, traceHooks } from '../obs/trace-hooks.ts';
import { quarantineOnCrashes } from './quarantine.ts';
import { startRelay } from './relay.ts';
import { startScheduler } from './scheduler.ts';
import { TASK_HANDLERS, type TaskHandler } from './tasks.ts';

/** A registered handler as a graphile-worker task: timed, traced, and its failures logged before the retry. */
function task<T extends TaskName>(ctx: AppContext, name: T, handler: TaskHandler<T>): Task {
  return (payload, helpers) => traceHooks.job(name, payloadTraceparents(payload), () => runTask(ctx, name, handler, payload, helpers));
}

async function runTask<T extends TaskName>(ctx: AppContext, name: T, handler: TaskHandler<T>, payload: unknown, helpers: Parameters<Task>[1]): Promise<void> {
  const started = Date.now();
  metrics.jobLatency.observe({ task: name }, Math.max(0, started - new Date(helpers.job.run_at).getTime()) / 1000);
  try {
    await handler(ctx, payload as never, helpers);
    metrics.jobSeconds.observe({ task: name, outcome: 'ok' }, (Date.now() - started) / 1000);
  } catch (err) {
    metrics.jobSeconds.observe({ task: name, outcome: 'error' }, (Date.now() - started) / 1000);
    ctx.log.warn({ err, task: name, tenant_id: (payload as { tenantId?: string })?.tenantId, attempt: helpers.job.attempts }, 'job failed; it will be retried');
    throw err;
  }
}

/**
 * graphile-worker's task list: the tasks of the registry this process runs (all by default), each
 * run by its handler. A worker only ever takes jobs of the tasks in its list: those of the others
 * wait for a process that runs them.
 */
export function taskList(ctx: AppContext, names: readonly TaskName[] = workerTasks(ctx)): TaskList {
  return Object.fromEntries(names.map((name) => [name, task(ctx, name, TASK_HANDLERS[name] as TaskHandler<TaskName>)]));
}

/** A worker's tasks: every task, less the Guardian's where WORKER_GUARDIAN=0 leaves them to `stockclerk guardian`. */
export function workerTasks(ctx: AppContext): readonly TaskName[] {
  return ctx.config.workerGuardian ? TASK_NAMES : TASK_NAMES.filter((t) => !GUARDIAN_TASKS.includes(t));
}

export interface WorkerHandle {
  runner: Runner;
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 1_000;
/** How long stop() waits for running jobs before it fails them (longer than any channel call's timeout). */
const STOP_GRACE_MS = 15_000;
const FORCEFUL_STOP_MS = 6_000;

/** True when `p` settled (either way) within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([
      p.then(
        () => true,
        () => true,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** About one completion round trip: when the next job of a channel's queue becomes available. */
const QUEUE_HANDOFF_MS = 4;

/**
 * Heartbeats for this process's workers, and the rescue of jobs locked by dead ones. graphile-worker
 * alone would leave a killed worker's jobs locked for 4 hours; "nothing lost" needs seconds.
 *
 * A live worker taken for dead runs its jobs twice (an Epos Now delta push twice is a double
 * adjustment), so a short WORKER_DEAD_AFTER_S needs beats nothing in the process can hold up. They
 * go over `beatDb`, a connection of their own (startStockClerk gives one: direct, asynchronous
 * commit, a 2 s statement timeout), never the jobs' pool, which a busy worker keeps fully lent out
 * for as long as its jobs run. What can still delay a beat is a blocked event loop or a stalled
 * database, and a stalled database stalls the reaper's own look too.
 */
export function startHeartbeats(ctx: AppContext, workerIds: string[], beatDb: Db = ctx.db): { stop(): Promise<void> } {
  const proc = `${os.hostname()}:${process.pid}`;
  const beat = async () => {
    if (workerIds.length > 0) {
      await beatDb.query(
        `insert into worker_heartbeats (worker_id, process, heartbeat_at) select unnest($1::text[]), $2, now()
         on conflict (worker_id) do update set heartbeat_at = now()`,
        [workerIds, proc],
      );
    }
    const { rows } = await beatDb.query<{ worker_id: string }>(
      `delete from worker_heartbeats where heartbeat_at < now() - make_interval(secs => $1) returning worker_id`,
      [ctx.config.workerDeadAfterS],
    );
    if (rows.length > 0) {
      await beatDb.query(`select graphile_worker.force_unlock_workers($1::text[])`, [rows.map((r) => r.worker_id)]);
      ctx.log.warn({ workers: rows.length }, 'unlocked jobs of workers that stopped heart-beating');
    }
  };
  const timer = setInterval(() => void beat().catch((err) => ctx.log.error({ err }, 'heartbeat failed')), HEARTBEAT_MS);
  timer.unref();
  void beat().catch(() => {});
  return {
    async stop() {
      clearInterval(timer);
      // Called once the runner stopped, so nothing of ours runs: a lock still held under our ids
      // is one whose release was lost (the database went away as a job ended, or came back from
      // a crash without our asynchronous commit of it). Unreleased, it would hold the job, and
      // its queue, for graphile-worker's 4 hours.
      await ctx.db.query(`select graphile_worker.force_unlock_workers($1::text[])`, [workerIds]).catch(() => {});
      await ctx.db.query(`delete from worker_heartbeats where worker_id = any($1)`, [workerIds]).catch(() => {});
    },
  };
}

export async function startWorker(
  ctx: AppContext,
  opts: {
    concurrency?: number;
    scheduler?: boolean;
    /** The tasks this worker runs (default workerTasks: all, or all but the Guardian's). */
    tasks?: readonly TaskName[];
    /** Behind a transaction pooler: a direct pool for graphile-worker's LISTEN (listenThrough). */
    listenDb?: Db | null;
    /** The heartbeats' own connection (startHeartbeats); without one they share the jobs' pool. */
    beatDb?: Db | null;
  } = {},
): Promise<WorkerHandle> {
  const workerIds: string[] = [];
  const events: WorkerEvents = new EventEmitter();
  const pools: WorkerPool[] = [];
  // Jobs and queues are locked under the pool's id (and, on some paths, a worker's): beat for both.
  events.on('pool:create', ({ workerPool }) => {
    workerIds.push(workerPool.id);
    pools.push(workerPool);
    ctx.jobs.addPool(workerPool);
  });
  events.on('worker:create', ({ worker }) => workerIds.push(worker.workerId));
  // A job in a named queue (a channel's) holds the queue until graphile-worker's completion
  // commits, which it sends without waiting; a job queued behind it meanwhile gets no "new job"
  // notification and would wait for the next poll (up to pollInterval). Wake an idle worker just
  // after the completion has gone through instead.
  events.on('job:complete', ({ job }) => {
    if (job.job_queue_id != null) {
      ctx.jobs.wakeWorkersIn(QUEUE_HANDOFF_MS);
      ctx.jobs.wakeWorkersIn(QUEUE_HANDOFF_MS * 5);
    }
  });
  quarantineOnCrashes(ctx, events);
  const runner = await run({
    events,
    pgPool: opts.listenDb ? listenThrough(ctx.db, opts.listenDb) : ctx.db,
    // Behind a transaction pooler its statements would go unnamed anyway (UnpreparedClient);
    // saying so spares graphile-worker naming them.
    noPreparedStatements: !!opts.listenDb,
    taskList: taskList(ctx, opts.tasks),
    concurrency: opts.concurrency ?? ctx.config.workerConcurrency,
    noHandleSignals: true,
    // LISTEN/NOTIFY picks up new jobs at once; the poll is for jobs added for later.
    pollInterval: 500,
    logger: quietLogger,
    forbiddenFlags: pausedFlags(ctx),
    // Our jobs are short and many: don't wait to batch queue lookups. Completions are recorded one
    // by one (graphile-worker's default), which retries a deadlock or serialization failure. The
    // batched mode does not retry at all (graphile-worker 0.18 `batch()` breaks out of its retry
    // loop on the first error) and shuts the whole pool down instead; under load a deadlock with a
    // concurrent add_job was enough, and that shutdown could hang, leaving every queue unserved
    // (the CI chaos run of 2026-12-04). A completion lost to an outage is src/recovery.ts's.
    preset: { worker: { getQueueNameBatchDelay: 0 } },
  });
  // graphile-worker stopping its pool by itself is rare and always worth a line in the log.
  events.on('pool:fatalError', ({ error, action }) => ctx.log.error({ reason: (error as Error)?.message, action }, 'graphile-worker stopped its pool'));
  const stopScheduler = opts.scheduler === false ? () => {} : startScheduler(ctx);
  const heartbeats = startHeartbeats(ctx, workerIds, opts.beatDb ?? ctx.db);
  const relay = startRelay(ctx);
  return {
    runner,
    async stop() {
      stopScheduler();
      await relay.stop();
      for (const p of pools) ctx.jobs.removePool(p);
      try {
        // Graceful first (running jobs finish); a stop that hangs (a job that never settles, a
        // shutdown graphile-worker cannot finish) must not hold the process or a restart forever.
        if (!(await settlesWithin(runner.stop(), STOP_GRACE_MS))) {
          ctx.log.warn({ grace_ms: STOP_GRACE_MS }, 'workers did not stop in time; stopping them forcefully');
          await Promise.all(pools.map((p) => settlesWithin(Promise.resolve(p.forcefulShutdown('stop timed out')), FORCEFUL_STOP_MS)));
        }
      } finally {
        await heartbeats.stop(); // also when the runner had stopped by itself (and says so)
      }
    },
  };
}
