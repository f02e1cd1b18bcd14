// Sync events: the audit of every push, pull, repair and inbound change, newest first.
// Ids are the table's bigint sequence (JSON numbers), as for movements.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { doc, pageOf } from '../openapi.ts';
import { SyncEvent } from '../schemas.ts';
import { idRef, numberCursor } from './common.ts';

export const SYNC_EVENT_KINDS = ['push', 'pull', 'repair', 'guardian', 'inbound'] as const;

const ListQuery = z.strictObject({
  ...pageQuery,
  channel_id: idRef('ch').optional(),
  item_id: idRef('item').optional(),
  listing_id: idRef('lst').optional(),
  kind: z.enum(SYNC_EVENT_KINDS).optional(),
  outcome: z.string().regex(/^[a-z_]{1,40}$/, 'must be an outcome word').optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

export async function syncEventRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/sync-events', doc({ summary: 'Pushes, pulls, repairs and inbound changes, newest first', tag: 'sync', query: ListQuery, responses: { 200: pageOf(SyncEvent) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const before = numberCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select e.id, e.channel_id, e.listing_id, e.item_id, e.kind, e.outcome, e.qty, e.detail, e.created_at
       from sync_events e
       where e.tenant_id = $1 and ($2::bigint is null or e.id < $2)
         and ($3::text is null or e.channel_id = $3) and ($4::text is null or e.item_id = $4) and ($5::text is null or e.listing_id = $5)
         and ($6::text is null or e.kind = $6) and ($7::text is null or e.outcome = $7) and ($8::timestamptz is null or e.created_at >= $8)
       order by e.id desc limit $9`,
      [req.auth.tenantId, before, q.channel_id ?? null, q.item_id ?? null, q.listing_id ?? null, q.kind ?? null, q.outcome ?? null, q.since ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as number);
  });
}
