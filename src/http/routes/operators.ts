// The operators' API (super admins only, the `operator` permission of src/domain/permissions.ts):
// the guard the operators' console builds on. Reads across tenants by design.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { PLAN_NAMES } from '../../domain/plans.ts';
import { setPlan } from '../../services/billing.ts';
import { pauseTenant, resumeTenant } from '../../services/operators.ts';
import { deadJobs, FAILURE_RATE_WINDOW, listTenants, retryDeadJobs, syncMonitor, systemHealth, tenantDetail, TENANT_SORTS } from '../../services/console.ts';
import { audit } from '../../services/audit-log.ts';
import { operatorWrite } from '../tx.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { encodeCursor, pageQuery } from '../paging.ts';
import { timestamp } from '../schemas.ts';
import { numberCursor } from './common.ts';

const num = z.number();
const int = z.number().int();
const TenantSummary = named(
  z.strictObject({
    id: z.string(),
    name: z.string(),
    plan: z.string(),
    billing_status: z.string(),
    trial_ends_at: timestamp,
    sync_paused: z.boolean(),
    sync_paused_reason: z.string().nullable(),
    shops_used: int,
    shop_limit: int.nullable(),
    created_at: timestamp,
    users: int,
    items: int,
    pushes_24h: int.meta({ description: 'Last 24 h, estimated from the daily counters (today + the share of yesterday still in the window)' }),
    webhooks_24h: int,
    api_calls_24h: int,
    push_failure_rate: num.nullable().meta({ description: `Failed share of the latest ${FAILURE_RATE_WINDOW} pushes within 24 h; null: none` }),
    last_activity: timestamp.nullable(),
    queue_lag_s: num.meta({ description: 'How long the oldest due job has waited' }),
    jobs_waiting: int,
    jobs_dead: int,
  }),
  'TenantSummary',
);
const TenantDetail = z.strictObject({
  ...TenantSummary.shape,
  channels: z.array(
    z.strictObject({
      id: z.string(),
      type: z.string(),
      name: z.string(),
      status: z.string(),
      created_at: timestamp,
      listings: int,
      last_event_at: timestamp.nullable(),
      last_push_outcome: z.string().nullable(),
    }),
  ),
  users: z.array(z.strictObject({ id: z.string(), email: z.string(), role: z.string(), is_super_admin: z.boolean(), created_at: timestamp })),
  recent_audit: z.array(
    z.strictObject({
      id: num,
      actor_type: z.string(),
      actor_id: z.string(),
      action: z.string(),
      resource_type: z.string(),
      resource_id: z.string(),
      changes: z.unknown(),
      created_at: timestamp,
    }),
  ),
  usage_30d: z.array(z.strictObject({ day: z.string(), api_calls: int, pushes: int, webhooks: int })),
});
const QueueRow = z.strictObject({
  tenant_id: z.string().nullable(),
  tenant_name: z.string().nullable(),
  channel_id: z.string().nullable(),
  task: z.string(),
  waiting: int,
  running: int,
  failing: int,
  dead: int,
  oldest_due_s: num,
});
const DeadJob = z.strictObject({
  id: z.string(),
  task: z.string(),
  tenant_id: z.string().nullable(),
  channel_id: z.string().nullable(),
  attempts: int,
  max_attempts: int,
  last_error: z.string().nullable(),
  run_at: timestamp,
  updated_at: timestamp,
});
const Health = z.strictObject({
  database: z.strictObject({
    size_bytes: num,
    max_connections: int,
    longest_transaction_s: num,
    waiting_on_locks: int,
    connections: z.record(z.string(), int),
  }),
  processes: z.array(
    z.strictObject({
      id: z.string(),
      role: z.string(),
      started_at: timestamp,
      heartbeat_at: timestamp,
      seen_s_ago: num,
      alive: z.boolean(),
      rss_bytes: num,
      heap_bytes: num,
      jobs_total: num,
      jobs_failed: num,
      jobs_last_min: int,
      job_ms_last_min: num.nullable(),
      latency_ms_last_min: num.nullable(),
    }),
  ),
  workers: z.strictObject({ count: int, oldest_heartbeat_s: num.nullable() }),
  jobs: z.strictObject({ waiting: int, running: int, dead: int, oldest_due_s: num, per_minute: int }),
});
const TenantFilter = z.strictObject({ tenant_id: z.string().max(100).optional() });
const Retry = z.union([z.strictObject({ ids: z.array(z.string().max(20)).min(1).max(500) }), z.strictObject({ tenant_id: z.string().max(100) })]);
const ListQuery = z.strictObject({
  ...pageQuery,
  search: z.string().max(200).optional().meta({ description: 'A tenant id, part of its name, or part of a user email' }),
  sort: z.enum(TENANT_SORTS).default('created'),
});
const TenantParams = z.object({ id: z.string().max(100) });
const Pause = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const PlanBody = z.strictObject({ plan: z.enum(PLAN_NAMES), shop_limit: z.number().int().min(0).max(100_000).nullable().default(null) });
const tenantId = (params: unknown) => (params as { id: string }).id;

export async function operatorRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/admin/tenants',
    doc({
      summary: 'Tenants with their activity and health: search and sort (operators only)',
      tag: 'operators',
      scope: 'operator',
      query: ListQuery,
      responses: { 200: pageOf(TenantSummary) },
    }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      const offset = numberCursor(q.cursor) ?? 0;
      const out = await listTenants(ctx.db, { search: q.search ?? null, sort: q.sort, offset, limit: q.limit });
      return { data: out.data, next_cursor: out.next_offset === null ? null : encodeCursor(out.next_offset) };
    },
  );

  app.get(
    '/admin/tenants/:id',
    doc({
      summary: 'One tenant: figures, channels, users, recent audit, 30 days of usage',
      tag: 'operators',
      scope: 'operator',
      params: TenantParams,
      responses: { 200: TenantDetail },
    }),
    async (req) => tenantDetail(ctx.db, tenantId(req.params)),
  );

  app.get(
    '/admin/sync',
    doc({
      summary: 'Sync monitor: job queues by tenant, channel and task, with the oldest due job',
      tag: 'operators',
      scope: 'operator',
      query: TenantFilter,
      responses: { 200: z.strictObject({ data: z.array(QueueRow) }) },
    }),
    async (req) => syncMonitor(ctx.db, parse(TenantFilter, req.query).tenant_id ?? null),
  );

  app.get(
    '/admin/jobs/dead',
    doc({
      summary: 'Dead jobs (out of attempts), newest first',
      tag: 'operators',
      scope: 'operator',
      query: TenantFilter,
      responses: { 200: z.strictObject({ data: z.array(DeadJob) }) },
    }),
    async (req) => deadJobs(ctx.db, parse(TenantFilter, req.query).tenant_id ?? null, 200),
  );

  app.post(
    '/admin/jobs/retry',
    doc({
      summary: "Run dead jobs again with fresh attempts: the ones named, or all of a tenant's",
      tag: 'operators',
      scope: 'operator',
      body: Retry,
      responses: { 200: z.strictObject({ retried: int }) },
    }),
    async (req) => {
      const b = parse(Retry, req.body);
      const retried = await operatorWrite(ctx, req, 200, async (tx, scope) => {
        const n = await retryDeadJobs(tx, 'ids' in b ? { ids: b.ids } : { tenantId: b.tenant_id });
        if ('tenant_id' in b && n > 0) await audit(tx, { ...scope, tenantId: b.tenant_id }, 'jobs.retried', { type: 'tenant', id: b.tenant_id }, { jobs: n });
        return { retried: n };
      });
      return retried;
    },
  );

  app.get(
    '/admin/health',
    doc({
      summary: 'System health: database, processes and their heartbeats, job throughput',
      tag: 'operators',
      scope: 'operator',
      responses: { 200: Health },
    }),
    async () => systemHealth(ctx.db),
  );

  app.post(
    '/admin/tenants/:id/pause',
    doc({
      summary: "Pause all of a tenant's sync (its jobs wait; webhooks are still recorded)",
      description: "Takes hold within about a second on every worker. Audited in the tenant's log with the reason.",
      tag: 'operators',
      scope: 'operator',
      params: TenantParams,
      body: Pause,
      responses: { 204: null, 404: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(Pause, req.body);
      await operatorWrite(ctx, req, 204, (tx, scope) => pauseTenant(tx, scope, tenantId(req.params), b.reason));
      return reply.code(204).send();
    },
  );

  app.post(
    '/admin/tenants/:id/resume',
    doc({
      summary: "Resume a tenant's sync: the waiting jobs run and a Guardian run reconciles",
      tag: 'operators',
      scope: 'operator',
      params: TenantParams,
      bodyOptional: true,
      body: z.strictObject({}),
      responses: { 204: null, 404: ErrorBody },
    }),
    async (req, reply) => {
      await operatorWrite(ctx, req, 204, (tx, scope) => resumeTenant(tx, scope, tenantId(req.params)));
      return reply.code(204).send();
    },
  );

  app.post(
    '/admin/tenants/:id/plan',
    doc({
      summary: "Set a tenant's plan (Enterprise, with its shop limit; or a correction)",
      tag: 'operators',
      scope: 'operator',
      params: TenantParams,
      body: PlanBody,
      responses: { 204: null, 404: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(PlanBody, req.body);
      await operatorWrite(ctx, req, 204, (tx, scope) => setPlan(tx, { ...scope, tenantId: tenantId(req.params) }, b.plan, b.shop_limit));
      return reply.code(204).send();
    },
  );
}
