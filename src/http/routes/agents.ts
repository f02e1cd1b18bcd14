// The four agents as the dashboard shows them: per agent, the caller's jobs waiting, running and
// failing (graphile-worker's queue, filtered to this tenant's payloads) and when it last did
// something; plus the Guardian's run history and a "run the Guardian now" button.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addJobs } from '../../db/jobs.ts';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { guardianJob } from '../../db/job-specs.ts';
import { parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { doc, pageOf } from '../openapi.ts';
import { GuardianRun, timestamp } from '../schemas.ts';
import { idRef, numberCursor } from './common.ts';

const TAG = 'agents';
const Agents = z.strictObject({
  agents: z.array(
    z.strictObject({
      name: z.enum(['watcher', 'sync', 'guardian', 'alert']),
      state: z.enum(['idle', 'active', 'error']),
      queue_depth: z.number().int(),
      running: z.number().int(),
      failing: z.number().int(),
      last_activity_at: timestamp.nullable(),
    }),
  ),
});

const AGENTS = {
  watcher: ['watcher_apply', 'watcher_poll'],
  sync: ['sync_push'],
  guardian: ['guardian_run'],
  alert: ['alerts_stock'],
} as const;
type AgentName = keyof typeof AGENTS;

const RunsQuery = z.strictObject({ ...pageQuery, channel_id: idRef('ch').optional() });

export async function agentRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/agents', doc({ summary: 'The four agents: queue depth and last activity', tag: TAG, responses: { 200: Agents } }), async (req) => {
    const tenantId = req.auth.tenantId;
    const tasks = Object.values(AGENTS).flat();
    const [jobs, activity] = await Promise.all([
      ctx.db.query<{ task: string; waiting: number; running: number; failing: number }>(
        `select t.identifier as task,
                count(*) filter (where j.locked_at is null and j.attempts < j.max_attempts)::int as waiting,
                count(*) filter (where j.locked_at is not null)::int as running,
                count(*) filter (where j.attempts > 0 and j.last_error is not null)::int as failing
         from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
         where j.payload->>'tenantId' = $1 and t.identifier = any($2)
         group by 1`,
        [tenantId, tasks],
      ),
      // Each "latest" is an index walk from the newest row, not a scan.
      ctx.db.query<Record<AgentName, Date | null>>(
        `select greatest(
                  (select e.applied_at from channel_events e where e.tenant_id = $1 and e.applied_at is not null order by e.id desc limit 1),
                  (select s.created_at from sync_events s where s.tenant_id = $1 and s.kind in ('inbound', 'pull') order by s.id desc limit 1)) as watcher,
                (select s.created_at from sync_events s where s.tenant_id = $1 and s.kind = 'push' order by s.id desc limit 1) as sync,
                (select coalesce(g.finished_at, g.created_at) from guardian_runs g where g.tenant_id = $1 order by g.id desc limit 1) as guardian,
                (select a.created_at from alerts a where a.tenant_id = $1 order by a.created_at desc limit 1) as alert`,
        [tenantId],
      ),
    ]);
    const byTask = new Map(jobs.rows.map((r) => [r.task, r]));
    const last = activity.rows[0]!;
    const agents = (Object.keys(AGENTS) as AgentName[]).map((name) => {
      let waiting = 0;
      let running = 0;
      let failing = 0;
      for (const t of AGENTS[name]) {
        const r = byTask.get(t);
        if (!r) continue;
        waiting += r.waiting;
        running += r.running;
        failing += r.failing;
      }
      const state = failing > 0 ? 'error' : running > 0 || waiting > 0 ? 'active' : 'idle';
      return { name, state, queue_depth: waiting, running, failing, last_activity_at: last[name] ?? null };
    });
    return { agents };
  });

  app.post(
    '/guardian/runs',
    doc({ summary: 'Run the Guardian now', tag: TAG, responses: { 202: z.strictObject({ queued: z.literal(true), run_at: timestamp }) } }),
    async (req, reply) => {
    const runAt = new Date();
    // Replaces a pending scheduled run (same job key) with one due now; one run per tenant at a time.
    await withTx(ctx.db, (tx) => addJobs(tx, [{ ...guardianJob(req.auth.tenantId), runAt }]));
    return reply.code(202).send({ queued: true, run_at: runAt });
  });

  app.get('/guardian/runs', doc({ summary: 'Guardian runs, newest first', tag: TAG, query: RunsQuery, responses: { 200: pageOf(GuardianRun) } }), async (req) => {
    const q = parse(RunsQuery, req.query);
    const before = numberCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select g.id, g.channel_id, c.name as channel_name, g.checked, g.in_sync, g.repaired, g.alerted, g.skipped, g.error, g.created_at as started_at, g.finished_at
       from guardian_runs g left join channels c on c.tenant_id = g.tenant_id and c.id = g.channel_id
       where g.tenant_id = $1 and ($2::bigint is null or g.id < $2) and ($3::text is null or g.channel_id = $3)
       order by g.id desc limit $4`,
      [req.auth.tenantId, before, q.channel_id ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as number);
  });
}
