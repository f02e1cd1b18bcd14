// The four agents as graphile-worker task handlers, plus the scheduler that feeds them.
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { run, type Runner, type Task, type TaskList, type WorkerEvents, type WorkerPool } from 'graphile-worker';
import { addJobs } from '../db/jobs.ts';
import { quietLogger } from '../db/migrate.ts';
import { alertsHealth, alertsStock } from './alerts.ts';
import { retentionRun } from './retention.ts';
import { failApiJob, runApiJob } from './api-jobs.ts';
import type { AppContext } from './context.ts';
import { guardianRun } from './guardian.ts';
import { metrics } from '../metrics.ts';
import { startRelay } from './relay.ts';
import { startScheduler } from './scheduler.ts';
import { syncPush } from './sync.ts';
import { watcherApply, watcherPoll } from './watcher.ts';
import { webhookDeliver } from './webhooks.ts';

type Payload = { tenantId: string; channelId: string };

function task(ctx: AppContext, name: string, fn: (payload: never) => Promise<unknown>): Task {
  return async (payload, helpers) => {
    const started = Date.now();
    metrics.jobLatency.observe({ task: name }, Math.max(0, started - new Date(helpers.job.run_at).getTime()) / 1000);
    try {
      await fn(payload as never);
      metrics.jobSeconds.observe({ task: name, outcome: 'ok' }, (Date.now() - started) / 1000);
    } catch (err) {
      metrics.jobSeconds.observe({ task: name, outcome: 'error' }, (Date.now() - started) / 1000);
      ctx.log.warn({ err, task: name, tenant_id: (payload as Partial<Payload>)?.tenantId, attempt: helpers.job.attempts }, 'job failed; it will be retried');
      throw err;
    }
  };
}

export function taskList(ctx: AppContext): TaskList {
  return {
    watcher_apply: task(ctx, 'watcher_apply', (p: Payload) => watcherApply(ctx, p)),
    watcher_poll: task(ctx, 'watcher_poll', (p: Payload) => watcherPoll(ctx, p)),
    sync_push: task(ctx, 'sync_push', (p: Payload) => syncPush(ctx, p)),
    guardian_run: task(ctx, 'guardian_run', (p: { tenantId: string }) => guardianRun(ctx, p)),
    alerts_stock: task(ctx, 'alerts_stock', (p: { tenantId: string }) => alertsStock(ctx, p)),
    alerts_health: task(ctx, 'alerts_health', () => alertsHealth(ctx)),
    retention: task(ctx, 'retention', async () => {
      const { more } = await retentionRun(ctx);
      // More than a slice was due: come back soon rather than in an hour.
      if (more) await addJobs(ctx.db, [{ task: 'retention', payload: {}, key: 'retention', runAt: new Date(Date.now() + 60_000) }]);
    }),
    webhook_deliver: task(ctx, 'webhook_deliver', (p: { tenantId: string; endpointId: string }) => webhookDeliver(ctx, p)),
    api_job: async (payload, helpers) => {
      const p = payload as { tenantId: string; jobId: string };
      try {
        await task(ctx, 'api_job', () => runApiJob(ctx, p))(payload, helpers);
      } catch (err) {
        // Out of attempts: the API shows the job failed instead of running for ever.
        if (helpers.job.attempts >= helpers.job.max_attempts) await failApiJob(ctx, p.tenantId, p.jobId, `The job failed: ${(err as Error).message}`);
        throw err;
      }
    },
  };
}

export interface WorkerHandle {
  runner: Runner;
  stop(): Promise<void>;
}

const HEARTBEAT_MS = 1_000;
/** About one completion round trip: when the next job of a channel's queue becomes available. */
const QUEUE_HANDOFF_MS = 4;

const pools = new Set<WorkerPool>();

/**
 * A job added for later (a push waiting for its rate budget) is noticed by graphile-worker only at
 * its next poll; this process wakes its own workers when it falls due instead.
 */
export function wakeWorkersIn(ms: number): void {
  if (pools.size === 0) return;
  setTimeout(() => {
    for (const p of pools) p.nudge(1);
  }, ms + 2).unref();
}

/**
 * Heartbeats for this process's workers, and the rescue of jobs locked by dead ones. graphile-worker
 * alone would leave a killed worker's jobs locked for 4 hours; "nothing lost" needs seconds.
 */
function startHeartbeats(ctx: AppContext, workerIds: string[]): { stop(): Promise<void> } {
  const proc = `${os.hostname()}:${process.pid}`;
  const beat = async () => {
    if (workerIds.length > 0) {
      await ctx.db.query(
        `insert into worker_heartbeats (worker_id, process, heartbeat_at) select unnest($1::text[]), $2, now()
         on conflict (worker_id) do update set heartbeat_at = now()`,
        [workerIds, proc],
      );
    }
    const { rows } = await ctx.db.query<{ worker_id: string }>(
      `delete from worker_heartbeats where heartbeat_at < now() - make_interval(secs => $1) returning worker_id`,
      [ctx.config.workerDeadAfterS],
    );
    if (rows.length > 0) {
      await ctx.db.query(`select graphile_worker.force_unlock_workers($1::text[])`, [rows.map((r) => r.worker_id)]);
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

export async function startWorker(ctx: AppContext, opts: { concurrency?: number; scheduler?: boolean } = {}): Promise<WorkerHandle> {
  const workerIds: string[] = [];
  const events: WorkerEvents = new EventEmitter();
  // Jobs and queues are locked under the pool's id (and, on some paths, a worker's): beat for both.
  events.on('pool:create', ({ workerPool }) => {
    workerIds.push(workerPool.id);
    pools.add(workerPool);
  });
  events.on('worker:create', ({ worker }) => workerIds.push(worker.workerId));
  // A job in a named queue (a channel's) holds the queue until graphile-worker's completion
  // commits, which it sends without waiting; a job queued behind it meanwhile gets no "new job"
  // notification and would wait for the next poll (up to pollInterval). Wake an idle worker just
  // after the completion has gone through instead.
  events.on('job:complete', ({ job }) => {
    if (job.job_queue_id != null) {
      wakeWorkersIn(QUEUE_HANDOFF_MS);
      wakeWorkersIn(QUEUE_HANDOFF_MS * 5);
    }
  });
  const runner = await run({
    events,
    pgPool: ctx.db,
    taskList: taskList(ctx),
    concurrency: opts.concurrency ?? ctx.config.workerConcurrency,
    noHandleSignals: true,
    // LISTEN/NOTIFY picks up new jobs at once; the poll is for jobs added for later.
    pollInterval: 500,
    logger: quietLogger,
    // Our jobs are short and many: don't wait to batch completions. Batched (with no wait) rather
    // than one by one, a completion that cannot be recorded (the database went away as the job
    // ended) shuts the pool down, which src/recovery.ts restarts; one by one, graphile-worker
    // leaves that rejection unhandled and the process dies.
    preset: { worker: { getQueueNameBatchDelay: 0, completeJobBatchDelay: 0, failJobBatchDelay: 0 } },
  });
  const stopScheduler = opts.scheduler === false ? () => {} : startScheduler(ctx);
  const heartbeats = startHeartbeats(ctx, workerIds);
  const relay = startRelay(ctx);
  return {
    runner,
    async stop() {
      stopScheduler();
      await relay.stop();
      for (const p of pools) pools.delete(p);
      try {
        await runner.stop();
      } finally {
        await heartbeats.stop(); // also when the runner had stopped by itself (and says so)
      }
    },
  };
}

/** Jobs waiting per task (for /metrics and the agents' status). */
export async function queueDepth(ctx: Pick<AppContext, 'db'>): Promise<Record<string, { waiting: number; running: number; failing: number }>> {
  const { rows } = await ctx.db.query<{ task: string; waiting: number; running: number; failing: number }>(
    `select t.identifier as task,
            count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts)::int as waiting,
            count(*) filter (where j.locked_at is not null)::int as running,
            count(*) filter (where j.attempts > 0 and j.last_error is not null)::int as failing
     from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
     group by 1`,
  );
  const out: Record<string, { waiting: number; running: number; failing: number }> = {};
  for (const r of rows) {
    out[r.task] = { waiting: r.waiting, running: r.running, failing: r.failing };
    metrics.queueDepth.set({ task: r.task }, r.waiting);
  }
  return out;
}
