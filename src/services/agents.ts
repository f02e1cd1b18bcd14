// The four agents as the dashboard shows them: per agent, the tenant's jobs waiting, running and
// failing and when it last did something; plus the Guardian's run history and "run it now".
// Queue counts come from the caller (the engine samples graphile-worker's queue on its scheduler
// tick, src/engine/queue-stats.ts): a page view never queries the job queue.
import { AGENT_NAMES, guardianJob, TASK_NAMES, TASKS, type AgentName, type TaskName } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export { AGENT_NAMES };

export interface QueueCounts {
  waiting: number;
  running: number;
  failing: number;
}

export interface AgentStatus {
  name: AgentName;
  state: 'idle' | 'active' | 'error';
  queue_depth: number;
  running: number;
  failing: number;
  last_activity_at: Date | null;
}

/** The agents with the scope's tenant's queue counts (`queued`) and its latest activity per agent. */
export async function agentStatus(q: Q, scope: Scope, queued: (task: TaskName) => QueueCounts): Promise<AgentStatus[]> {
  // Each "latest" is an index walk from the newest row, not a scan.
  const { rows } = await q.query<Record<AgentName, Date | null>>(
    `select greatest(
              (select e.applied_at from channel_events e where e.tenant_id = $1 and e.applied_at is not null order by e.id desc limit 1),
              (select s.created_at from sync_events s where s.tenant_id = $1 and s.kind in ('inbound', 'pull') order by s.id desc limit 1)) as watcher,
            (select s.created_at from sync_events s where s.tenant_id = $1 and s.kind = 'push' order by s.id desc limit 1) as sync,
            (select coalesce(g.finished_at, g.created_at) from guardian_runs g where g.tenant_id = $1 order by g.id desc limit 1) as guardian,
            (select a.created_at from alerts a where a.tenant_id = $1 order by a.created_at desc limit 1) as alert`,
    [scope.tenantId],
  );
  const last = rows[0]!;
  return AGENT_NAMES.map((name) => {
    let waiting = 0;
    let running = 0;
    let failing = 0;
    for (const task of TASK_NAMES) {
      if (TASKS[task].agent !== name) continue;
      const c = queued(task);
      waiting += c.waiting;
      running += c.running;
      failing += c.failing;
    }
    const state = failing > 0 ? 'error' : running > 0 || waiting > 0 ? 'active' : 'idle';
    return { name, state, queue_depth: waiting, running, failing, last_activity_at: last[name] ?? null };
  });
}

/** Queues a Guardian run for now; it replaces a pending scheduled run (same job key), one run per tenant at a time. */
export async function runGuardianNow(tx: Q, scope: Scope): Promise<{ queued: true; run_at: Date }> {
  const runAt = new Date();
  await addJobs(tx, [guardianJob(scope.tenantId, runAt)]);
  return { queued: true, run_at: runAt };
}

export interface GuardianRunRow {
  id: number;
  channel_id: string;
  channel_name: string | null;
  checked: number;
  in_sync: number;
  repaired: number;
  alerted: number;
  skipped: number;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

/** The tenant's Guardian runs, newest first, optionally of one channel. */
export async function listGuardianRuns(q: Q, scope: Scope, filter: { channelId?: string }, p: PageRequest<number>) {
  const { rows } = await q.query<GuardianRunRow>(
    `select g.id, g.channel_id, c.name as channel_name, g.checked, g.in_sync, g.repaired, g.alerted, g.skipped, g.error, g.created_at as started_at, g.finished_at
     from guardian_runs g left join channels c on c.tenant_id = g.tenant_id and c.id = g.channel_id
     where g.tenant_id = $1 and ($2::bigint is null or g.id < $2) and ($3::text is null or g.channel_id = $3)
     order by g.id desc limit $4`,
    [scope.tenantId, p.after, filter.channelId ?? null, p.limit + 1],
  );
  return page(rows, p.limit, (r) => r.id);
}
