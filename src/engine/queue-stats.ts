// How many jobs wait, run and fail, per task and per tenant: sampled from graphile-worker's public
// `jobs` view once per scheduler tick and kept here, so a /metrics scrape or a dashboard view reads
// memory, never the queue. The view shows no payload: a job's tenant is found from the subject of
// its key or, failing that, its queue name (a channel or a tenant id after the prefix, see
// src/db/job-specs.ts). A job whose key was cleared while it ran and that has no queue (a running
// stock-alert check that got re-signalled) is counted for its task only.
import { TASK_NAMES } from '../db/job-specs.ts';
import type { Db } from '../db/pool.ts';
import { metrics } from '../metrics.ts';
import type { QueueCounts } from '../services/agents.ts';

const SAMPLE_SQL = `select j.task_identifier as task, coalesce(c.tenant_id, t.id) as tenant_id,
       count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts)::int as waiting,
       count(*) filter (where j.locked_at is not null)::int as running,
       count(*) filter (where j.attempts > 0 and j.last_error is not null)::int as failing
from graphile_worker.jobs j
cross join lateral (select coalesce(nullif(split_part(j.key, ':', 2), ''), nullif(split_part(j.queue_name, ':', 2), '')) as subject) s
left join channels c on c.id = s.subject
left join tenants t on t.id = s.subject
group by 1, 2`;

const NONE: QueueCounts = Object.freeze({ waiting: 0, running: 0, failing: 0 });

function add(into: Map<string, QueueCounts>, task: string, c: QueueCounts): void {
  const was = into.get(task) ?? NONE;
  into.set(task, { waiting: was.waiting + c.waiting, running: was.running + c.running, failing: was.failing + c.failing });
}

export class QueueStats {
  private byTask = new Map<string, QueueCounts>();
  private byTenant = new Map<string, Map<string, QueueCounts>>();

  /** Takes a new sample (one statement, outside any transaction) and sets the queue-depth gauge. */
  async sample(db: Pick<Db, 'query'>): Promise<void> {
    const { rows } = await db.query<QueueCounts & { task: string; tenant_id: string | null }>(SAMPLE_SQL);
    const byTask = new Map<string, QueueCounts>();
    const byTenant = new Map<string, Map<string, QueueCounts>>();
    for (const r of rows) {
      const c = { waiting: r.waiting, running: r.running, failing: r.failing };
      add(byTask, r.task, c);
      if (r.tenant_id === null) continue;
      let mine = byTenant.get(r.tenant_id);
      if (!mine) byTenant.set(r.tenant_id, (mine = new Map()));
      add(mine, r.task, c);
    }
    this.byTask = byTask;
    this.byTenant = byTenant;
    // Every task, so a drained queue reads 0 rather than its last non-zero depth.
    for (const task of new Set([...TASK_NAMES, ...byTask.keys()])) metrics.queueDepth.set({ task }, byTask.get(task)?.waiting ?? 0);
  }

  /** The installation's counts for a task. */
  task(task: string): QueueCounts {
    return this.byTask.get(task) ?? NONE;
  }

  /** True when a job of the task is waiting or running (by the last sample). */
  busy(task: string): boolean {
    const c = this.task(task);
    return c.waiting + c.running > 0;
  }

  /** One tenant's counts, by task. */
  forTenant(tenantId: string): (task: string) => QueueCounts {
    const mine = this.byTenant.get(tenantId);
    return (task) => mine?.get(task) ?? NONE;
  }

  /**
   * Samples every `everyMs` on a clock of its own, for a process that runs no scheduler (an API
   * without workers). Returns the stop function.
   */
  sampleEvery(db: Pick<Db, 'query'>, everyMs: number, onError: (err: unknown) => void): () => void {
    let running = false;
    let stopped = false;
    const tick = () => {
      if (running) return;
      running = true;
      this.sample(db)
        .catch((err) => stopped || onError(err))
        .finally(() => (running = false));
    };
    const timer = setInterval(tick, everyMs);
    timer.unref();
    tick();
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }
}
