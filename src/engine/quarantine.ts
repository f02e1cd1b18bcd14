// Crash isolation (issue 16, point 4): a tenant whose jobs keep crashing (a poison payload: data our
// code cannot process) is quarantined instead of retried for ever. Its sync is paused like an
// operator's pause (src/engine/pause.ts: its jobs stay queued, skipped; webhooks are still recorded),
// a critical alert says why, and an operator releases it by resuming the tenant once it is fixed.
// A platform or the database being away is not a crash: those retry and raise their own alerts.
import type { WorkerEvents } from 'graphile-worker';
import { ChannelError } from '../channels/contract.ts';
import { withTx } from '../db/pool.ts';
import { isConnectionError } from '../db/watch.ts';
import { quarantineTenant } from '../services/operators.ts';
import type { AppContext } from './context.ts';

/**
 * Errors that say our code cannot process this tenant's data (a bug meeting a malformed payload: a
 * TypeError, a bad JSON, a Postgres data exception), as opposed to a platform or the network failing.
 */
export function isCrash(err: unknown): boolean {
  if (err instanceof ChannelError || isConnectionError(err)) return false;
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (cause && isConnectionError(cause)) return false; // fetch's TypeError('fetch failed') wraps a network error
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError) {
    return !(err instanceof TypeError && err.message === 'fetch failed');
  }
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('22'); // Postgres class 22: data exception
}

export function quarantineOnCrashes(ctx: AppContext, events: WorkerEvents): void {
  events.on('job:error', ({ job, error }) => {
    const tenantId = (job.payload as { tenantId?: unknown } | null)?.tenantId;
    if (typeof tenantId !== 'string' || job.attempts < ctx.config.quarantineAfterCrashes || !isCrash(error)) return;
    const why = { task: job.task_identifier, attempts: job.attempts, error: String((error as Error)?.message ?? error) };
    void withTx(ctx.db, (tx) => quarantineTenant(tx, tenantId, why)).then(
      (done) => {
        if (done) ctx.log.error({ tenant_id: tenantId, ...why }, 'tenant quarantined: its jobs keep crashing; sync paused until an operator resumes it');
      },
      (err: unknown) => ctx.log.warn({ err, tenant_id: tenantId }, 'quarantining a tenant failed; the next crash tries again'),
    );
  });
}
