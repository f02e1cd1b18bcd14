// Sync events: the audit of every push, pull, repair and inbound change, newest first.
// Ids are the table's bigint sequence (JSON numbers), as for movements.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as syncEvents from '../../services/sync-events.ts';
import { parse } from '../errors.ts';
import { pageQuery } from '../paging.ts';
import { doc, pageOf } from '../openapi.ts';
import { scopeOf } from '../scope.ts';
import { SyncEvent } from '../schemas.ts';
import { idRef, numberCursor } from './common.ts';

const ListQuery = z.strictObject({
  ...pageQuery,
  channel_id: idRef('ch').optional(),
  item_id: idRef('item').optional(),
  listing_id: idRef('lst').optional(),
  kind: z.enum(syncEvents.SYNC_EVENT_KINDS).optional(),
  outcome: z
    .string()
    .regex(/^[a-z_]{1,40}$/, 'must be an outcome word')
    .optional(),
  since: z.iso.datetime({ offset: true }).optional(),
});

export async function syncEventRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/sync-events',
    doc({ summary: 'Pushes, pulls, repairs and inbound changes, newest first', tag: 'sync', query: ListQuery, responses: { 200: pageOf(SyncEvent) } }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return syncEvents.list(ctx.db, scopeOf(req), {
        after: numberCursor(q.cursor),
        limit: q.limit,
        channelId: q.channel_id,
        itemId: q.item_id,
        listingId: q.listing_id,
        kind: q.kind,
        outcome: q.outcome,
        since: q.since,
      });
    },
  );
}
