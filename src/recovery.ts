// What a running process does when its database goes away: the embedded PostgreSQL it runs is
// started again; the workers are started again once the database answers (which releases the
// jobs whose end could not be recorded), and also if graphile-worker ever stops its pool by
// itself; the unhandled rejection graphile-worker leaves when a job's end cannot be recorded is
// survived. Without this the process kept serving the API with no PostgreSQL, or with no
// workers, or died of that rejection.
import type { EmbeddedDb } from './db/embedded.ts';
import { isConnectionError, type DatabaseWatch } from './db/watch.ts';
import type { WorkerHandle } from './engine/worker.ts';
import type { Logger } from './log.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Restarts beyond this many in 10 minutes: PostgreSQL keeps dying, which no restart fixes. */
const MAX_RESTARTS = 5;

/**
 * When the embedded PostgreSQL this process runs dies (kill -9, the OOM killer), starts it again
 * on the same port, so every pool (and every process using it) reconnects by itself. If it cannot
 * be started, or keeps dying, calls `fatal`: a supervisor is better placed than a retry loop.
 */
export function restartEmbeddedOnExit(emb: EmbeddedDb, watch: DatabaseWatch, log: Logger, fatal: (err: Error) => void): void {
  const restarts: number[] = [];
  emb.onExit((how) => {
    watch.markDown(`embedded PostgreSQL exited (${how})`);
    const now = Date.now();
    restarts.push(now);
    while (restarts[0]! < now - 10 * 60_000) restarts.shift();
    if (restarts.length > MAX_RESTARTS) return fatal(new Error(`embedded PostgreSQL exited ${restarts.length} times in 10 minutes`));
    log.warn({ how }, 'embedded PostgreSQL exited unexpectedly; restarting it');
    emb.restart().then(
      () => {
        log.info('embedded PostgreSQL restarted');
        void watch.probe();
      },
      (err: Error) => fatal(err),
    );
  });
}

/**
 * The workers, started again whenever graphile-worker stops them by itself, and after every
 * database outage: the jobs' own writes commit asynchronously (src/db/pool.ts), so a PostgreSQL
 * that crashed can come back with a job our workers finished still locked by them, and its queue
 * with it; a live worker's locks are never rescued (only a silent worker's are), so they would
 * hold for graphile-worker's 4 hours. Stopping a generation releases every lock it still holds.
 * The handle's stop() stops whichever generation runs.
 */
export async function superviseWorker(start: () => Promise<WorkerHandle>, watch: DatabaseWatch, log: Logger): Promise<WorkerHandle> {
  let stopped = false;
  let current = await start();
  let currentStopped = false;
  let restarting: Promise<void> | null = null;
  const stopCurrent = async () => {
    if (currentStopped) return;
    currentStopped = true;
    await current.stop();
  };
  const restart = (why: string) => {
    if (stopped || restarting) return;
    restarting = (async () => {
      for (let attempt = 0; !stopped; attempt++) {
        if ((await watch.status()).ok) {
          try {
            // With the database back: stopping releases what the stopped runner still holds.
            await stopCurrent().catch(() => {});
            if (stopped) return;
            const w = await start();
            if (stopped) return await w.stop();
            current = w;
            currentStopped = false;
            follow(w);
            log.info({ why }, 'workers started again');
            return;
          } catch (e) {
            if (attempt === 0) log.warn({ reason: (e as Error).message }, 'starting the workers again failed; retrying');
          }
        }
        await sleep(Math.min(500 * 2 ** attempt, 5_000));
      }
    })().finally(() => (restarting = null));
  };
  const follow = (w: WorkerHandle) => {
    // graphile-worker's runner ends (resolves; rejects on some paths) when its pool shut itself
    // down: it could not record a job's end.
    const ended = (err: unknown) => {
      if (stopped || w !== current || currentStopped) return;
      // Not as `err`: a connection error would be held back as one more of the outage's.
      log.error(
        { reason: (err as Error | null)?.message ?? 'its pool shut down' },
        'graphile-worker stopped the workers; starting them again once the database answers',
      );
      restart('graphile-worker stopped them');
    };
    w.runner.promise.then(() => ended(null), ended);
  };
  follow(current);
  watch.onRecovered(() => restart('after a database outage'));
  return {
    get runner() {
      return current.runner;
    },
    async stop() {
      stopped = true;
      await restarting;
      await stopCurrent();
    },
  };
}

let guards = 0;
let guardLog: Logger | null = null;
const onUnhandledRejection = (reason: unknown) => {
  if (isConnectionError(reason)) {
    guardLog?.warn({ err: reason }, 'a job ended while the database was unreachable; its lock is released when the workers restart');
    return;
  }
  throw reason; // Node's own behaviour for every other unhandled rejection: the process ends.
};

/**
 * graphile-worker records a job's end without awaiting it (dist/worker.js calls `completeJob(job)`
 * and moves on), so when the database is gone at that moment, after graphile-worker's own retries,
 * the rejection is unhandled and Node would end the process. That one case is survivable: the job
 * stays locked by this process until superviseWorker restarts the workers after the outage, which
 * releases it. Only connection errors are absorbed; any other unhandled rejection is thrown on, so
 * the process still dies of it. Returns the undo (the guard is shared by every server in a process).
 */
export function surviveLostJobEnds(log: Logger): () => void {
  guardLog = log;
  if (guards++ === 0) process.on('unhandledRejection', onUnhandledRejection);
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    if (--guards === 0) {
      process.off('unhandledRejection', onUnhandledRejection);
      guardLog = null;
    }
  };
}
