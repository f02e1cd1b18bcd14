// Alerts: list (newest first, by status and type) and acknowledge.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notifyTenant } from '../../db/jobs.ts';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { audit } from '../audit.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { Alert } from '../schemas.ts';
import { idParam, pathId, stringCursor } from './common.ts';

const TAG = 'alerts';
const Params = idParam('alr');

export const ALERT_TYPES = ['low_stock', 'out_of_stock', 'channel_auth', 'sync_failure_rate', 'large_drift', 'webhook_endpoint_paused'] as const;
export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;

const ListQuery = z.strictObject({ ...pageQuery, status: z.enum(ALERT_STATUSES).optional(), type: z.enum(ALERT_TYPES).optional() });

const COLUMNS = `a.id, a.type, a.severity, a.subject, a.message, a.data, a.status, a.created_at, a.acknowledged_at, a.acknowledged_by, a.resolved_at`;

export async function alertRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Alert ids are UUIDv7 underneath: id order is creation order.
  app.get('/alerts', doc({ summary: 'List alerts, newest first', tag: TAG, query: ListQuery, responses: { 200: pageOf(Alert) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const before = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${COLUMNS} from alerts a
       where a.tenant_id = $1 and ($2::text is null or a.id < $2) and ($3::text is null or a.status = $3) and ($4::text is null or a.type = $4)
       order by a.id desc limit $5`,
      [req.auth.tenantId, before, q.status ?? null, q.type ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.get('/alerts/:id', doc({ summary: 'Read an alert', tag: TAG, params: Params, etag: true, responses: { 200: Alert } }), async (req) => {
    const id = pathId(req.params, 'alr', 'Alert');
    const { rows } = await ctx.db.query(`select ${COLUMNS} from alerts a where a.tenant_id = $1 and a.id = $2`, [req.auth.tenantId, id]);
    if (!rows[0]) throw notFound('Alert');
    return rows[0];
  });

  // Acknowledging twice is harmless (200, unchanged); a resolved alert has nothing to acknowledge.
  app.post('/alerts/:id/acknowledge', doc({ summary: 'Acknowledge an alert', tag: TAG, params: Params, etag: true, responses: { 200: Alert, 409: ErrorBody } }), async (req) => {
    const id = pathId(req.params, 'alr', 'Alert');
    const tenantId = req.auth.tenantId;
    return withTx(ctx.db, async (tx) => {
      const { rows } = await tx.query(`select ${COLUMNS} from alerts a where a.tenant_id = $1 and a.id = $2 for update`, [tenantId, id]);
      const alert = rows[0];
      if (!alert) throw notFound('Alert');
      if (alert.status === 'acknowledged') return alert;
      if (alert.status === 'resolved') throw new ApiError(409, 'conflict', 'This alert is already resolved');
      const { rows: updated } = await tx.query(
        `update alerts a set status = 'acknowledged', acknowledged_at = now(), acknowledged_by = $3
         where a.tenant_id = $1 and a.id = $2 returning ${COLUMNS}`,
        [tenantId, id, req.auth.actorId],
      );
      await notifyTenant(tx, tenantId, 'alert.acknowledged', updated[0]);
      await audit(tx, req, 'alert.acknowledged', { type: 'alert', id });
      return updated[0];
    });
  });
}
