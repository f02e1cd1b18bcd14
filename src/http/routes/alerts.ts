// Alerts: list (newest first, by status and type) and acknowledge.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { acknowledgeAlert, ALERT_STATUSES, ALERT_TYPES, getAlert, listAlerts } from '../../services/alerts.ts';
import { parse } from '../errors.ts';
import { pageQuery } from '../paging.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { Alert } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, pathId, stringCursor } from './common.ts';

const TAG = 'alerts';
const Params = idParam('alr');

const ListQuery = z.strictObject({ ...pageQuery, status: z.enum(ALERT_STATUSES).optional(), type: z.enum(ALERT_TYPES).optional() });

export async function alertRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/alerts', doc({ summary: 'List alerts, newest first', tag: TAG, query: ListQuery, responses: { 200: pageOf(Alert) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    return listAlerts(ctx.db, scopeOf(req), { status: q.status, type: q.type }, { after: stringCursor(q.cursor), limit: q.limit });
  });

  app.get('/alerts/:id', doc({ summary: 'Read an alert', tag: TAG, params: Params, etag: true, responses: { 200: Alert } }), async (req) => {
    return getAlert(ctx.db, scopeOf(req), pathId(req.params, 'alr', 'Alert'));
  });

  // Acknowledging twice is harmless (200, unchanged); a resolved alert has nothing to acknowledge.
  app.post(
    '/alerts/:id/acknowledge',
    doc({ summary: 'Acknowledge an alert', tag: TAG, params: Params, etag: true, responses: { 200: Alert, 409: ErrorBody } }),
    async (req) => {
      const id = pathId(req.params, 'alr', 'Alert');
      return write(ctx, req, 200, (tx, scope) => acknowledgeAlert(tx, scope, id));
    },
  );
}
