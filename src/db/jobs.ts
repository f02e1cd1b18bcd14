// Transactional job enqueue (invariant 3): jobs are rows in graphile-worker's tables, added on the
// caller's client so they commit or roll back with the change that caused them. What a job is
// (its task, payload, key and queue) is declared in the registry, src/db/job-specs.ts.
import { randomUUID } from 'node:crypto';
import { MAX_TRACE_CAUSES, traceHooks } from '../obs/trace-hooks.ts';
import { PUSHING_TASKS, type JobSpec } from './job-specs.ts';
import { notifyIfWatchedSql } from './live.ts';
import { named, wroteJobs, type Tx } from './pool.ts';

export type { JobSpec };

export type Queryable = Pick<Tx, 'query'>;

/**
 * Enqueues jobs in the caller's transaction, through the outbox: one insert, no lock on any job
 * row. The relay moves them on once the transaction has committed.
 */
export async function addJobs(tx: Queryable, specs: JobSpec[]): Promise<void> {
  if (specs.length === 0) return;
  await tx.query(named('outbox_insert', OUTBOX_INSERT, [JSON.stringify(specs.map((s) => outboxRow(s)))]));
  wroteJobs(tx);
}

// A keyed row is unique per (job key, writing transaction), never shared between transactions:
// had two writers shared one row, the relay could hand it to a job while the second writer was
// still in flight, and that job would not see the second writer's change (nor would any later
// job be signalled for it). Each writer's row becomes visible to the relay only once it has
// committed; the relay coalesces rows with one job key into one job.
export const OUTBOX_ROW_KEY_SQL = (jobKey: string) => `${jobKey} || '@' || pg_current_xact_id()::text`;

export const OUTBOX_INSERT = `insert into job_outbox (key, job_key, task, payload, queue_name, run_at, max_attempts, priority)
  select coalesce(${OUTBOX_ROW_KEY_SQL('job_key')}, key), job_key, task, payload, queue_name, run_at, max_attempts, priority
  from jsonb_to_recordset($1::jsonb) as s(key text, job_key text, task text, payload jsonb, queue_name text, run_at timestamptz, max_attempts int, priority int)
  on conflict (key) do nothing`;

/**
 * A job's cause for tracing: the active span's traceparent (the request or job that enqueued it),
 * so the job continues that trace (src/obs/tracing.ts). Tracing off, the payload is unchanged.
 */
function withCause(payload: object, traceparents?: readonly string[]): object {
  const causes = (traceparents ?? [traceHooks.traceparent()].filter((t) => t !== undefined)).slice(0, MAX_TRACE_CAUSES);
  return causes.length > 0 ? { ...payload, traceparents: causes } : payload;
}

export function outboxRow(s: JobSpec, traceparents?: readonly string[]) {
  return {
    key: `${s.task}:${randomUUID()}`,
    job_key: s.key ?? null,
    task: s.task,
    payload: withCause(s.payload, traceparents),
    queue_name: s.queue ?? null,
    run_at: s.runAt?.toISOString() ?? null,
    max_attempts: s.maxAttempts ?? null,
    priority: s.priority ?? null,
  };
}

/**
 * The flags a job carries so workers can skip a paused tenant's jobs (src/engine/pause.ts):
 * `t:<tenant>` on every job about a tenant (an operator's pause skips them all), and `p:<tenant>`
 * on the ones that write to its channels (a lapsed plan's pause skips only those).
 */
export const TENANT_FLAGS_SQL = `case when payload ? 'tenantId' then array['t:' || (payload->>'tenantId')]
  || case when task in (${PUSHING_TASKS.map((t) => `'${t}'`).join(', ')}) then array['p:' || (payload->>'tenantId')] else '{}'::text[] end end`;

/**
 * Moves up to `limit` outbox rows into graphile-worker in one statement (delete + add_jobs commit
 * together: a crash leaves the rows in the outbox, never half-moved). Returns how many rows moved.
 * Rows sharing a job key become one job, due at the earliest of their run times; a key already
 * waiting in graphile keeps its earlier run time (coalescing), and a key whose job is running gets
 * a new job after it. Concurrent relays skip each other's rows.
 */
export async function relayOutbox(q: Queryable, limit = 1000): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    named(
      'outbox_relay',
      `with moved as (
       delete from job_outbox where key in (select key from job_outbox order by created_at limit $1 for update skip locked)
       returning *
     ), causes as (
       -- Tracing: the rows one job folds together keep every cause (traceparent) for the job's
       -- span links, not only the chosen row's (up to a bound). Tracing off, no payload has any.
       select k, to_jsonb((array_agg(tp order by tp))[1:${MAX_TRACE_CAUSES}]) as tps
       from (select distinct coalesce(job_key, key) as k, tp from moved, jsonb_array_elements_text(payload->'traceparents') tp
             where payload ? 'traceparents') d
       group by k
     ), jobs as (
       select distinct on (coalesce(m.job_key, m.key)) task,
              case when c.tps is null then payload else payload || jsonb_build_object('traceparents', c.tps) end as payload,
              queue_name, run_at, max_attempts, job_key, priority, ${TENANT_FLAGS_SQL} as flags
       from moved m left join causes c on c.k = coalesce(m.job_key, m.key)
       order by coalesce(m.job_key, m.key), run_at nulls first
     ), added as (
       -- Only when something moved (a one-time filter: the function is not called otherwise). An
       -- empty add_jobs still sends graphile's jobs:insert NOTIFY, which woke a worker in every
       -- process for nothing: idle relays made ~370 job fetches a second on 2 worker processes.
       select count(*) from graphile_worker.add_jobs(
         array(select row(task, payload::json, queue_name, run_at, max_attempts, job_key, priority, flags)::graphile_worker.job_spec from jobs),
         true)
       where exists (select 1 from jobs)
     )
     select (select count(*) from moved)::int as n, (select count(*) from added) as jobs`,
      [limit],
    ),
  );
  return rows[0]?.n ?? 0;
}

/** Live events for the WebSocket stream: delivered to every API process on commit (LISTEN stockclerk). */
export async function notifyTenant(tx: Queryable, tenantId: string, type: string, data: unknown): Promise<void> {
  let payload = JSON.stringify({ tenant_id: tenantId, type, data });
  // NOTIFY payloads are capped at 8000 bytes: big batches become a "refresh" hint.
  if (payload.length > 7900) payload = JSON.stringify({ tenant_id: tenantId, type, data: { truncated: true } });
  await tx.query(`select ${notifyIfWatchedSql('$1::text', '$2')}`, [tenantId, payload]);
}
