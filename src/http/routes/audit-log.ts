// The audit log: who changed what, when, from which key or user; newest first.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { parse } from '../errors.ts';
import { doc, pageOf } from '../openapi.ts';
import { listAuditLog } from '../../services/audit-log.ts';
import { pageQuery } from '../paging.ts';
import { AuditEntry } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { numberCursor } from './common.ts';

const word = z.string().regex(/^[a-z_.]{1,60}$/, 'must be an action word');
const anyId = z.string().regex(/^[a-z]{2,5}_[0-9a-f]{32}$/, 'must be an id');
const ListQuery = z.strictObject({
  ...pageQuery,
  resource_id: anyId.optional(),
  actor_id: anyId.optional(),
  action: word.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export async function auditLogRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/audit-log',
    doc({ summary: 'Who changed what, when, from which key or user', tag: 'audit', scope: 'admin', query: ListQuery, responses: { 200: pageOf(AuditEntry) } }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return listAuditLog(
        ctx.db,
        scopeOf(req),
        { resourceId: q.resource_id, actorId: q.actor_id, action: q.action, since: q.since, until: q.until },
        { after: numberCursor(q.cursor), limit: q.limit },
      );
    },
  );
}
