// Time-driven work, as jobs: Guardian runs for tenants that are due, safety-net polls for
// channels that can be polled (less often for quiet ones: EngineTuning.quietAfterS), and the periodic jobs (channel health check, retention). Every process may run a scheduler;
// the UPDATE ... RETURNING claims each due row once, and job keys de-duplicate the rest.
// Each tick also samples the job queue (src/engine/queue-stats.ts) for /metrics, the agents' view
// and its own "is a periodic job waiting or running" check.
import { addJobs, type JobSpec } from '../db/jobs.ts';
import { withTx } from '../db/pool.ts';
import { CHANNELS } from '../channels/registry.ts';
import type { AppContext } from './context.ts';
import { guardianJob, PERIODIC_JOBS, pollJob } from '../db/job-specs.ts';
import { releaseExpired } from '../ledger/reservations.ts';

export async function schedulerTick(ctx: AppContext): Promise<number> {
  // Outside the transaction below: a failed sample leaves the previous one in place.
  await ctx.jobs.queues.sample(ctx.db).catch((err) => ctx.log.warn({ err }, 'sampling the job queue failed'));
  return withTx(ctx.db, async (tx) => {
    const jobs: JobSpec[] = [];
    const { rows: due } = await tx.query<{ id: string }>(
      `update tenants set guardian_next_at = now() + make_interval(secs => guardian_interval_s)
       where guardian_next_at <= now() returning id`,
    );
    for (const t of due) jobs.push(guardianJob(t.id));
    const pollable = Object.values(CHANNELS)
      .filter((m) => m.capabilities.pollable)
      .map((m) => m.type);
    if (pollable.length > 0) {
      const { rows: polls } = await tx.query<{ tenant_id: string; id: string }>(
        `update channels set last_polled_at = now()
         where status = 'connected' and type = any($1)
           and (last_polled_at is null or last_polled_at < now() - make_interval(secs =>
                 case when coalesce(last_sync_at, created_at) > now() - make_interval(secs => $3::int) then $2::int else greatest($2::int, $4::int) end))
         returning tenant_id, id`,
        [pollable, ctx.tuning.pollIntervalS, ctx.tuning.quietAfterS, ctx.tuning.quietPollIntervalS],
      );
      for (const c of polls) {
        jobs.push(pollJob(c.tenant_id, c.id));
      }
    }
    // A periodic job added twice (one tick's job still in the outbox) is one job: same key.
    for (const { everyMs, ...job } of PERIODIC_JOBS) if (!ctx.jobs.queues.busy(job.task)) jobs.push({ ...job, runAt: new Date(Date.now() + everyMs) });
    await addJobs(tx, jobs);
    return jobs.length;
  }).finally(() =>
    // Holds past their expiry release themselves (a bounded slice per tick), in a transaction of
    // their own: a failure there never holds back the Guardian's schedule.
    withTx(ctx.db, (tx) => releaseExpired(tx)).catch((err) => ctx.log.error({ err }, 'releasing expired reservations failed')),
  );
}

export function startScheduler(ctx: AppContext): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    schedulerTick(ctx)
      .catch((err) => ctx.log.error({ err }, 'scheduler tick failed'))
      .finally(() => (running = false));
  }, ctx.tuning.schedulerTickMs);
  timer.unref();
  return () => clearInterval(timer);
}
