// Listings: an item as it exists on one channel. List and filter, map / unmap by hand, auto-match
// a channel's unmatched listings by SKU, and push one listing now (rules in src/services/listings.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as listings from '../../services/listings.ts';
import { parse } from '../errors.ts';
import { pageQuery } from '../paging.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { scopeOf } from '../scope.ts';
import { Listing, Queued } from '../schemas.ts';
import { write } from '../tx.ts';
import { idParam, idRef, pathId, stringCursor } from './common.ts';

const TAG = 'listings';
const Params = idParam('lst');

const ListQuery = z.strictObject({
  ...pageQuery,
  channel_id: idRef('ch').optional(),
  item_id: idRef('item').optional(),
  state: z.enum(listings.LISTING_STATES).optional(),
});
const ListingPatch = z.strictObject({ item_id: idRef('item').nullable() });
const AutoMatch = z.strictObject({ channel_id: idRef('ch') });

export async function listingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/listings', doc({ summary: 'List listings', tag: TAG, query: ListQuery, responses: { 200: pageOf(Listing) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    return listings.list(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit, channelId: q.channel_id, itemId: q.item_id, state: q.state });
  });

  app.get('/listings/:id', doc({ summary: 'Read a listing', tag: TAG, params: Params, etag: true, responses: { 200: Listing } }), async (req) =>
    listings.get(ctx.db, scopeOf(req), pathId(req.params, 'lst', 'Listing')),
  );

  // Map by hand (like auto-match, this adopts what the channel holds and pushes nothing: use
  // POST /listings/:id/sync to send the ledger's value) or unmap with item_id: null.
  app.patch(
    '/listings/:id',
    doc({ summary: 'Map a listing to an item (or unmap with null)', tag: TAG, params: Params, body: ListingPatch, etag: true, responses: { 200: Listing } }),
    async (req) => {
      const id = pathId(req.params, 'lst', 'Listing');
      const b = parse(ListingPatch, req.body);
      return write(ctx, req, 200, (tx, scope) => listings.map(tx, scope, id, b.item_id));
    },
  );

  app.post(
    '/listings/auto-match',
    doc({
      summary: 'Match a channel\u2019s unmatched listings by SKU',
      tag: TAG,
      body: AutoMatch,
      responses: { 200: z.strictObject({ matched: z.number().int(), unmatched: z.number().int() }) },
    }),
    async (req) => {
      const b = parse(AutoMatch, req.body);
      return write(ctx, req, 200, (tx, scope) => listings.autoMatch(tx, scope, b.channel_id));
    },
  );

  app.post(
    '/listings/:id/sync',
    doc({ summary: 'Push one listing now', tag: TAG, params: Params, responses: { 202: Queued, 409: ErrorBody } }),
    async (req, reply) => {
      const id = pathId(req.params, 'lst', 'Listing');
      return reply.code(202).send(await write(ctx, req, 202, (tx, scope) => listings.syncNow(tx, scope, id)));
    },
  );
}
