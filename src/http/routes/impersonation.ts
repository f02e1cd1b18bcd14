// Impersonation (src/services/impersonation.ts): an operator starts one from the console and gets a
// token for the tenant; the operator or the tenant's admins end it. /me lists the live ones, which
// is what the banner on both sides shows.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { endImpersonation, IMPERSONATION_TTL_S, startImpersonation, type Impersonation } from '../../services/impersonation.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody, named } from '../openapi.ts';
import { END_IMPERSONATION_ROUTE, forgetImpersonation, issueImpersonationToken } from '../plugins/auth.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { operatorWrite } from '../tx.ts';

export const ImpersonationView = named(
  z.strictObject({
    id: z.string(),
    operator_email: z.string(),
    reason: z.string(),
    read_only: z.boolean(),
    started_at: timestamp,
    expires_at: timestamp,
  }),
  'Impersonation',
);
export const impersonationView = (i: Impersonation) => ({
  id: i.id,
  operator_email: i.operator_email,
  reason: i.reason,
  read_only: i.read_only,
  started_at: i.started_at,
  expires_at: i.expires_at,
});

const Start = z.strictObject({
  reason: z.string().trim().min(3).max(500),
  read_only: z.boolean().default(true),
});
const Started = z.strictObject({
  token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  tenant_id: z.string(),
  impersonation: ImpersonationView,
});
const TenantParams = z.object({ id: z.string().max(100) });
const Params = z.object({ id: z.string().max(100) });

export async function impersonationRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/admin/tenants/:id/impersonate',
    doc({
      summary: "Look at a tenant's dashboard as its users do (15 minutes, read-only by default)",
      tag: 'operators',
      scope: 'operator',
      params: TenantParams,
      body: Start,
      responses: { 201: Started, 404: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(Start, req.body);
      const tenantId = (req.params as { id: string }).id;
      const out = await operatorWrite(
        ctx,
        req,
        201,
        async (tx, scope) => {
          const imp = await startImpersonation(tx, { ...scope, userId: req.auth.userId ?? '' }, tenantId, { reason: b.reason, readOnly: b.read_only });
          return {
            token: await issueImpersonationToken(ctx, imp),
            token_type: 'Bearer' as const,
            expires_in: IMPERSONATION_TTL_S,
            tenant_id: imp.tenant_id,
            impersonation: impersonationView(imp),
          };
        },
        { sealed: true },
      );
      return reply.code(201).send(out);
    },
  );

  app.delete(
    END_IMPERSONATION_ROUTE.replace('/api/v1', ''),
    doc({
      summary: 'End an impersonation now',
      tag: 'auth',
      scope: 'admin',
      params: Params,
      responses: { 204: null, 404: ErrorBody },
    }),
    async (req, reply) => {
      const id = (req.params as { id: string }).id;
      const a = req.auth;
      let by: 'operator' | 'merchant';
      if (a.impersonation) {
        if (a.impersonation.id !== id) throw new ApiError(403, 'forbidden', 'An impersonation can end only itself');
        by = 'operator';
      } else {
        by = 'merchant'; // an owner or admin of the tenant (the route's permission)
      }
      await endImpersonation(ctx.db, a.tenantId, id, scopeOf(req), by);
      forgetImpersonation(a.tenantId, id);
      return reply.code(204).send();
    },
  );
}
