// The caller's own tenant: its name and the Guardian's settings (cadence, drift threshold).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { notFound, parse } from '../errors.ts';
import { audit } from '../audit.ts';
import { doc } from '../openapi.ts';
import { Tenant } from '../schemas.ts';
import { text } from './common.ts';

const TenantPatch = z
  .object({
    name: text(1, 200).optional(),
    guardian_interval_s: z.number().int().min(60).max(86_400).optional(),
    drift_threshold: z.number().int().min(0).max(1_000_000).optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');

const COLUMNS = 'id, name, plan, guardian_interval_s, drift_threshold, guardian_next_at, created_at';

export async function tenantRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/tenant', doc({ summary: 'Your tenant and its Guardian settings', tag: 'tenant', etag: true, responses: { 200: Tenant } }), async (req) => {
    const { rows } = await ctx.db.query(`select ${COLUMNS} from tenants where id = $1`, [req.auth.tenantId]);
    if (!rows[0]) throw notFound('Tenant');
    return rows[0];
  });

  app.patch('/tenant', doc({ summary: 'Change the name or Guardian settings', tag: 'tenant', scope: 'admin', body: TenantPatch, etag: true, responses: { 200: Tenant } }), async (req) => {
    const b = parse(TenantPatch, req.body);
    const rows = await withTx(ctx.db, async (tx) => {
      const { rows } = await tx.query(
      `update tenants set name = coalesce($2, name), drift_threshold = coalesce($4, drift_threshold),
              guardian_interval_s = coalesce($3, guardian_interval_s),
              guardian_next_at = case when $3::int is null then guardian_next_at
                                      else least(guardian_next_at, now() + make_interval(secs => $3::int)) end
       where id = $1 returning ${COLUMNS}`,
      [req.auth.tenantId, b.name ?? null, b.guardian_interval_s ?? null, b.drift_threshold ?? null],
      );
      if (rows[0]) await audit(tx, req, 'tenant.updated', { type: 'tenant', id: req.auth.tenantId }, b);
      return rows;
    });
    if (!rows[0]) throw notFound('Tenant');
    return rows[0];
  });
}
