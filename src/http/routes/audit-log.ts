// The audit log: who changed what, when, from which key or user; newest first.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { parse } from '../errors.ts';
import { doc, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { AuditEntry } from '../schemas.ts';
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
  app.get('/audit-log', doc({ summary: 'Who changed what, when, from which key or user', tag: 'audit', scope: 'admin', query: ListQuery, responses: { 200: pageOf(AuditEntry) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const before = numberCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select a.id, a.actor_type, a.actor_id, a.action, a.resource_type, a.resource_id, a.changes, a.request_id, a.created_at
       from audit_log a
       where a.tenant_id = $1 and ($2::bigint is null or a.id < $2) and ($3::text is null or a.resource_id = $3)
         and ($4::text is null or a.actor_id = $4) and ($5::text is null or a.action = $5)
         and ($6::timestamptz is null or a.created_at >= $6) and ($7::timestamptz is null or a.created_at < $7)
       order by a.id desc limit $8`,
      [req.auth.tenantId, before, q.resource_id ?? null, q.actor_id ?? null, q.action ?? null, q.since ?? null, q.until ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as number);
  });
}
