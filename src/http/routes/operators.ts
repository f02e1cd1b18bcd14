// The operators' API (super admins only, the `operator` permission of src/domain/permissions.ts):
// the guard the operators' console builds on. Reads across tenants by design.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { PLAN_NAMES } from '../../domain/plans.ts';
import { setPlan } from '../../services/billing.ts';
import { listAllTenants, pauseTenant, resumeTenant } from '../../services/operators.ts';
import { operatorWrite } from '../tx.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { timestamp } from '../schemas.ts';
import { stringCursor } from './common.ts';

const TenantSummary = z.strictObject({
  id: z.string(),
  name: z.string(),
  plan: z.string(),
  billing_status: z.string(),
  trial_ends_at: timestamp,
  sync_paused: z.boolean(),
  sync_paused_reason: z.string().nullable(),
  shops_used: z.number().int(),
  created_at: timestamp,
  users: z.number().int(),
  items: z.number().int(),
});
const ListQuery = z.strictObject({ ...pageQuery });
const TenantParams = z.object({ id: z.string().max(100) });
const Pause = z.strictObject({ reason: z.string().trim().min(1).max(500) });
const PlanBody = z.strictObject({ plan: z.enum(PLAN_NAMES), shop_limit: z.number().int().min(0).max(100_000).nullable().default(null) });
const tenantId = (params: unknown) => (params as { id: string }).id;

export async function operatorRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/admin/tenants',
    doc({
      summary: 'Every tenant, newest first (operators only)',
      tag: 'operators',
      scope: 'operator',
      query: ListQuery,
      responses: { 200: pageOf(TenantSummary) },
    }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return listAllTenants(ctx.db, { after: stringCursor(q.cursor), limit: q.limit });
    },
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
