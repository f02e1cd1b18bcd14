// The operators' API (super admins only, the `operator` permission of src/domain/permissions.ts):
// the guard the operators' console builds on. Reads across tenants by design.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { listAllTenants } from '../../services/operators.ts';
import { parse } from '../errors.ts';
import { doc, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { timestamp } from '../schemas.ts';
import { stringCursor } from './common.ts';

const TenantSummary = z.strictObject({
  id: z.string(),
  name: z.string(),
  plan: z.string(),
  created_at: timestamp,
  users: z.number().int(),
  items: z.number().int(),
});
const ListQuery = z.strictObject({ ...pageQuery });

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
}
