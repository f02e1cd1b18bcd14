// The caller's own tenant: its name and the Guardian's settings (cadence, drift threshold).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { getTenant, updateTenant } from '../../services/accounts.ts';
import { parse } from '../errors.ts';
import { doc } from '../openapi.ts';
import { Tenant } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { text } from './common.ts';

const TenantPatch = z
  .object({
    name: text(1, 200).optional(),
    guardian_interval_s: z.number().int().min(60).max(86_400).optional(),
    drift_threshold: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');

export async function tenantRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/tenant', doc({ summary: 'Your tenant and its Guardian settings', tag: 'tenant', etag: true, responses: { 200: Tenant } }), async (req) => {
    return getTenant(ctx.db, scopeOf(req));
  });

  app.patch(
    '/tenant',
    doc({ summary: 'Change the name or Guardian settings', tag: 'tenant', scope: 'admin', body: TenantPatch, etag: true, responses: { 200: Tenant } }),
    async (req) => {
      const b = parse(TenantPatch, req.body);
      return write(ctx, req, 200, (tx, scope) => updateTenant(tx, scope, b));
    },
  );
}
