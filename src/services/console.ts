// What the operators' console reads across tenants (super admins only; src/http/routes/console.ts):
// the tenants with how busy and how healthy each is, one tenant in detail, the job queues per
// tenant and channel with the dead jobs, and the system's health. Reads only, bounded: every
// per-tenant figure comes from an index range or a daily counter, never a scan of a tenant's
// whole history, so the list costs the same for a tenant with ten sales and one with ten million.
import { shopLimit } from '../domain/plans.ts';
import { notFound, AppError } from '../domain/errors.ts';
import type { Q } from './scope.ts';

/** How many of a tenant's latest pushes the failure rate is taken over (within the last 24 h). */
export const FAILURE_RATE_WINDOW = 200;

export const TENANT_SORTS = ['created', 'name', 'last_activity', 'push_failure_rate', 'queue_lag', 'pushes_24h', 'shops_used'] as const;
export type TenantSort = (typeof TENANT_SORTS)[number];

// A job's tenant is in its flags (`t:<tenant>`, set by the relay: src/db/jobs.ts); its channel is
// the subject of its key or queue when that is a channel id (src/db/job-specs.ts).
const JOB_TENANT_SQL = `(select substr(k, 3) from jsonb_object_keys(coalesce(j.flags, '{}'::jsonb)) k where k like 't:%' limit 1)`;
const JOB_CHANNEL_SQL = `(select s from (values (split_part(j.key, ':', 2)), (split_part(j.queue_name, ':', 2))) v(s) where s like 'ch\\_%' limit 1)`;
/** A dead job: out of attempts, never run again unless someone retries it. */
const DEAD_SQL = `j.attempts >= j.max_attempts`;

// Volumes "in the last 24 h" from the daily counters (src/services/usage.ts): today's count plus
// the part of yesterday's still inside the window, assuming yesterday was evenly spread. An
// estimate (said so in the API), exact at midnight UTC and never off by more than yesterday's skew.
const LAST_24H = (col: string) =>
  `coalesce((select sum(case when u.day = (now() at time zone 'utc')::date then u.${col}
       else u.${col} * (1 - extract(epoch from (now() at time zone 'utc') - (now() at time zone 'utc')::date) / 86400) end)
     from usage_daily u where u.tenant_id = t.id and u.day >= (now() at time zone 'utc')::date - 1), 0)::int`;

const TENANT_ROW_SQL = `
  t.id, t.name, t.plan, t.billing_status, t.trial_ends_at, t.shop_limit as shop_limit_override,
  t.sync_paused_at is not null as sync_paused, t.sync_paused_reason, t.created_at,
  (select count(*)::int from channels c where c.tenant_id = t.id and c.status <> 'paused') as shops_used,
  (select count(*)::int from users u where u.tenant_id = t.id) as users,
  (select count(*)::int from items i where i.tenant_id = t.id) as items,
  ${LAST_24H('pushes')} as pushes_24h,
  ${LAST_24H('webhooks')} as webhooks_24h,
  ${LAST_24H('api_calls')} as api_calls_24h,
  f.push_failure_rate,
  (select e.created_at from sync_events e where e.tenant_id = t.id order by e.id desc limit 1) as last_activity,
  coalesce(q.lag_s, 0) as queue_lag_s,
  coalesce(q.waiting, 0) as jobs_waiting,
  coalesce(q.dead, 0) as jobs_dead`;

const TENANT_JOINS_SQL = `
  left join lateral (
    select round(avg(case when p.outcome = 'failed' then 1.0 else 0.0 end), 4)::float8 as push_failure_rate
    from (select e.outcome from sync_events e
          where e.tenant_id = t.id and e.kind = 'push' and e.created_at > now() - interval '24 hours'
          order by e.id desc limit ${FAILURE_RATE_WINDOW}) p
  ) f on true
  left join queues q on q.tenant_id = t.id`;

// One pass over the job table for every tenant's queue figures (the table holds waiting work
// only: finished jobs are deleted).
const QUEUES_CTE = `queues as (
  select tenant_id,
         extract(epoch from now() - min(j.run_at) filter (where j.locked_at is null and j.run_at <= now() and not (${DEAD_SQL})))::float8 as lag_s,
         count(*) filter (where j.locked_at is null and not (${DEAD_SQL}))::int as waiting,
         count(*) filter (where ${DEAD_SQL})::int as dead
  from (select j.*, ${JOB_TENANT_SQL} as tenant_id from graphile_worker.jobs j) j
  where tenant_id is not null group by tenant_id
)`;

const ORDER: Record<TenantSort, string> = {
  created: 't.id desc',
  name: 'lower(t.name), t.id',
  last_activity: 'last_activity desc nulls last, t.id desc',
  push_failure_rate: 'push_failure_rate desc nulls last, t.id desc',
  queue_lag: 'queue_lag_s desc, t.id desc',
  pushes_24h: 'pushes_24h desc, t.id desc',
  shops_used: 'shops_used desc, t.id desc',
};

export interface TenantListRequest {
  search: string | null;
  sort: TenantSort;
  /** Offset into the sorted list (the route's opaque cursor). */
  offset: number;
  limit: number;
}

const tenantOut = (r: Record<string, unknown>) => {
  const { shop_limit_override, ...rest } = r;
  return { ...rest, shop_limit: shopLimit(r.plan as string, shop_limit_override as number | null) };
};

/**
 * Tenants matching `search` (a tenant id, part of its name, or a user's email), sorted, one page.
 * Paged by offset: the sorts on live figures have no stable key to seek on, and the list of
 * tenants an operator pages through is small.
 */
export async function listTenants(q: Q, r: TenantListRequest) {
  const term = r.search?.trim().toLowerCase() || null;
  const { rows } = await q.query(
    `with ${QUEUES_CTE}
     select ${TENANT_ROW_SQL} from tenants t ${TENANT_JOINS_SQL}
     where $1::text is null or t.id = $1 or strpos(lower(t.name), $1) > 0
        or exists (select 1 from users u where u.tenant_id = t.id and strpos(lower(u.email), $1) > 0)
     order by ${ORDER[r.sort]} offset $2 limit $3`,
    [term, r.offset, r.limit + 1],
  );
  const more = rows.length > r.limit;
  return { data: rows.slice(0, r.limit).map(tenantOut), next_offset: more ? r.offset + r.limit : null };
}

/** One tenant for the console: the list's figures plus its channels, queues and recent audit entries. */
export async function tenantDetail(q: Q, tenantId: string) {
  const { rows } = await q.query(`with ${QUEUES_CTE} select ${TENANT_ROW_SQL} from tenants t ${TENANT_JOINS_SQL} where t.id = $1`, [tenantId]);
  if (!rows[0]) throw notFound('Tenant');
  const [channels, users, audit, usage] = await Promise.all([
    q.query(
      `select c.id, c.type, c.name, c.status, c.created_at,
              (select count(*)::int from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id) as listings,
              (select max(e.created_at) from (select e.created_at from sync_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id
                 order by e.id desc limit 1) e) as last_event_at,
              (select e.outcome from sync_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id and e.kind = 'push'
                 order by e.id desc limit 1) as last_push_outcome
       from channels c where c.tenant_id = $1 order by c.created_at`,
      [tenantId],
    ),
    q.query(`select id, email, role, is_super_admin, created_at from users where tenant_id = $1 order by created_at`, [tenantId]),
    q.query(
      `select id::float8 as id, actor_type, actor_id, action, resource_type, resource_id, changes, created_at from audit_log
       where tenant_id = $1 order by id desc limit 20`,
      [tenantId],
    ),
    q.query(
      `select day::text as day, api_calls, pushes, webhooks from usage_daily where tenant_id = $1 and day > (now() at time zone 'utc')::date - 30 order by day`,
      [tenantId],
    ),
  ]);
  return { ...tenantOut(rows[0]), channels: channels.rows, users: users.rows, recent_audit: audit.rows, usage_30d: usage.rows };
}

/**
 * The job queues, grouped by tenant, channel and task: waiting, running, failing (retrying after
 * an error), dead, and how long the oldest due job has waited. Optionally one tenant.
 */
export async function syncMonitor(q: Q, tenantId: string | null) {
  const { rows } = await q.query(
    `select j.tenant_id, t.name as tenant_name, j.channel_id, j.task,
            count(*) filter (where j.locked_at is null and not (${DEAD_SQL}))::int as waiting,
            count(*) filter (where j.locked_at is not null)::int as running,
            count(*) filter (where j.attempts > 0 and j.last_error is not null and not (${DEAD_SQL}))::int as failing,
            count(*) filter (where ${DEAD_SQL})::int as dead,
            coalesce(extract(epoch from now() - min(j.run_at) filter (where j.locked_at is null and j.run_at <= now() and not (${DEAD_SQL}))), 0)::float8 as oldest_due_s
     from (select j.*, j.task_identifier as task, ${JOB_TENANT_SQL} as tenant_id, ${JOB_CHANNEL_SQL} as channel_id from graphile_worker.jobs j) j
     left join tenants t on t.id = j.tenant_id
     where $1::text is null or j.tenant_id = $1
     group by 1, 2, 3, 4
     order by oldest_due_s desc, dead desc, waiting desc, 1, 3, 4
     limit 500`,
    [tenantId],
  );
  return { data: rows };
}

/** Dead jobs (out of attempts), newest first, with their last error. */
export async function deadJobs(q: Q, tenantId: string | null, limit: number) {
  const { rows } = await q.query(
    `select j.id::text as id, j.task_identifier as task, ${JOB_TENANT_SQL} as tenant_id, ${JOB_CHANNEL_SQL} as channel_id,
            j.attempts::int as attempts, j.max_attempts::int as max_attempts, j.last_error, j.run_at, j.updated_at
     from graphile_worker.jobs j
     where ${DEAD_SQL} and ($1::text is null or j.flags ? ('t:' || $1))
     order by j.updated_at desc limit $2`,
    [tenantId, limit],
  );
  return { data: rows };
}

/**
 * Runs dead jobs again now with fresh attempts: the ones named, or every dead job of a tenant.
 * Returns how many were rescheduled (a job that is running or already gone is left alone).
 */
export async function retryDeadJobs(q: Q, which: { ids: string[] } | { tenantId: string }): Promise<number> {
  if ('ids' in which && which.ids.some((id) => !/^\d{1,18}$/.test(id))) throw new AppError(400, 'validation_failed', 'Job ids are numbers');
  const { rows } = await q.query<{ n: number }>(
    `select count(*)::int as n from graphile_worker.reschedule_jobs(
       (select coalesce(array_agg(j.id), '{}') from graphile_worker.jobs j
        where ${DEAD_SQL} and (case when $1::bigint[] is not null then j.id = any($1) else j.flags ? ('t:' || $2) end)),
       run_at => now(), attempts => 0)`,
    ['ids' in which ? which.ids : null, 'tenantId' in which ? which.tenantId : null],
  );
  return rows[0]!.n;
}

/** The system's health: the database, the processes and their heartbeats, the queue in total. */
export async function systemHealth(q: Q) {
  const [db, conns, procs, workers, queue] = await Promise.all([
    q.query(
      `select pg_database_size(current_database())::float8 as size_bytes,
              current_setting('max_connections')::int as max_connections,
              (select coalesce(max(extract(epoch from now() - xact_start)), 0)::float8 from pg_stat_activity
                where datname = current_database() and xact_start is not null and pid <> pg_backend_pid()) as longest_transaction_s,
              (select count(*)::int from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock') as waiting_on_locks`,
    ),
    q.query(`select coalesce(state, 'background') as state, count(*)::int as n from pg_stat_activity where datname = current_database() group by 1 order by 1`),
    q.query(
      `select id, role, started_at, heartbeat_at, extract(epoch from now() - heartbeat_at)::float8 as seen_s_ago,
              heartbeat_at > now() - interval '30 seconds' as alive, rss_bytes::float8 as rss_bytes, heap_bytes::float8 as heap_bytes, jobs_total::float8 as jobs_total, jobs_failed::float8 as jobs_failed,
              jobs_last_min, job_ms_last_min, latency_ms_last_min
       from process_heartbeats order by role, id`,
    ),
    q.query(`select count(*)::int as n, max(extract(epoch from now() - heartbeat_at))::float8 as oldest_beat_s from worker_heartbeats`),
    q.query(
      `select count(*) filter (where locked_at is null and attempts < max_attempts)::int as waiting,
              count(*) filter (where locked_at is not null)::int as running,
              count(*) filter (where attempts >= max_attempts)::int as dead,
              coalesce(extract(epoch from now() - min(run_at) filter (where locked_at is null and run_at <= now() and attempts < max_attempts)), 0)::float8 as oldest_due_s
       from graphile_worker.jobs`,
    ),
  ]);
  const processes = procs.rows;
  const alive = processes.filter((p) => p.alive);
  return {
    database: { ...db.rows[0], connections: Object.fromEntries(conns.rows.map((r) => [r.state, r.n])) },
    processes,
    workers: { count: workers.rows[0].n, oldest_heartbeat_s: workers.rows[0].oldest_beat_s },
    jobs: {
      ...queue.rows[0],
      per_minute: alive.reduce((s, p) => s + Number(p.jobs_last_min), 0),
    },
  };
}
