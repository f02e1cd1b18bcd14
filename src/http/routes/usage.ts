// Usage (seed 004): a tenant's API calls, pushes and webhooks per day of a month against its
// plan's quota (not enforced yet), with the projected month-end; operators see every tenant's.
// Counting and the projection: src/services/usage.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { allTenantsUsage, currentMonth, tenantUsage } from '../../services/usage.ts';
import { parse } from '../errors.ts';
import { doc, named, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { stringCursor } from './common.ts';

const int = z.number().int();
const Counts = named(z.strictObject({ api_calls: int, pushes: int, webhooks: int }), 'UsageCounts');
const Percents = named(z.strictObject({ api_calls: z.number(), pushes: z.number(), webhooks: z.number() }), 'UsagePercents');
const month = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM')
  .meta({ description: 'Calendar month (UTC), YYYY-MM; default the current one' });

const UsageQuery = z.strictObject({ month: month.optional() });
const Usage = z.strictObject({
  month: z.string(),
  plan: z.string(),
  days: z.array(z.strictObject({ day: z.string(), api_calls: int, pushes: int, webhooks: int })),
  totals: Counts,
  quota: Counts,
  projected: Counts,
  percent_of_quota: Percents,
  days_in_month: int,
  days_elapsed: z.number(),
});

const AdminQuery = z.strictObject({
  month: month.optional(),
  sort: z.enum(['share', 'tenant']).default('share').meta({ description: 'share: highest share of a quota first; tenant: newest tenant first' }),
  ...pageQuery,
});
const TenantUsageRow = z.strictObject({
  tenant_id: z.string(),
  name: z.string(),
  plan: z.string(),
  totals: Counts,
  quota: Counts,
  projected: Counts,
  percent_of_quota: Percents,
  share_percent: z.number().meta({ description: 'The highest of the three percentages of quota' }),
});
const AdminUsage = pageOf(TenantUsageRow).extend({ month: z.string() });

export async function usageRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/usage',
    doc({
      summary: "This tenant's usage per day of a month, its quota and the projected month-end",
      description:
        "API calls, listing updates pushed and channel webhooks accepted per UTC day (counts land within seconds). quota: the plan's, not enforced yet. " +
        'projected: the daily average over the days elapsed (today by its fraction) times the days in the month.',
      tag: 'tenant',
      query: UsageQuery,
      responses: { 200: Usage },
    }),
    async (req) => {
      const q = parse(UsageQuery, req.query);
      const now = Date.now();
      return tenantUsage(ctx.db, req.auth.tenantId, q.month ?? currentMonth(now), now);
    },
  );

  app.get(
    '/admin/usage',
    doc({
      summary: "Every tenant's usage of a month against its quota (operators only)",
      tag: 'operators',
      scope: 'operator',
      query: AdminQuery,
      responses: { 200: AdminUsage },
    }),
    async (req) => {
      const q = parse(AdminQuery, req.query);
      const now = Date.now();
      return allTenantsUsage(ctx.db, q.month ?? currentMonth(now), now, q.sort, { after: stringCursor(q.cursor), limit: q.limit });
    },
  );
}
