// Listings: an item as it exists on one channel. List and filter, map / unmap by hand, auto-match
// a channel's unmatched listings by SKU, and push one listing now.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addJobs } from '../../db/jobs.ts';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { autoMatch } from '../../engine/onboarding.ts';
import { pushJob } from '../../db/job-specs.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { audit } from '../audit.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { Listing, Queued } from '../schemas.ts';
import { idParam, idRef, pathId, stringCursor } from './common.ts';

const TAG = 'listings';
const Params = idParam('lst');

export const LISTING_STATES = ['in_sync', 'pending', 'failed', 'drift', 'unmatched'] as const;

const ListQuery = z.strictObject({
  ...pageQuery,
  channel_id: idRef('ch').optional(),
  item_id: idRef('item').optional(),
  state: z.enum(LISTING_STATES).optional(),
});
const ListingPatch = z.strictObject({ item_id: idRef('item').nullable() });
const AutoMatch = z.strictObject({ channel_id: idRef('ch') });

const COLUMNS = `l.id, l.channel_id, c.type as channel_type, c.name as channel_name, l.item_id, i.sku as item_sku, i.name as item_name,
  l.external_id, l.external_location_id, l.external_sku, l.name, l.last_pushed_qty, l.last_seen_qty, l.last_synced_at,
  l.state, l.last_error, (l.dirty_seq > l.pushed_seq) as push_pending, l.created_at`;
const FROM = `listings l
  join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
  left join items i on i.tenant_id = l.tenant_id and i.id = l.item_id`;

export async function listingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  async function read(tenantId: string, id: string) {
    const { rows } = await ctx.db.query(`select ${COLUMNS} from ${FROM} where l.tenant_id = $1 and l.id = $2`, [tenantId, id]);
    if (!rows[0]) throw notFound('Listing');
    return rows[0];
  }

  app.get('/listings', doc({ summary: 'List listings', tag: TAG, query: ListQuery, responses: { 200: pageOf(Listing) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const after = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${COLUMNS} from ${FROM}
       where l.tenant_id = $1 and ($2::text is null or l.id > $2) and ($3::text is null or l.channel_id = $3)
         and ($4::text is null or l.item_id = $4) and ($5::text is null or l.state = $5)
       order by l.id limit $6`,
      [req.auth.tenantId, after, q.channel_id ?? null, q.item_id ?? null, q.state ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.get('/listings/:id', doc({ summary: 'Read a listing', tag: TAG, params: Params, etag: true, responses: { 200: Listing } }), async (req) => read(req.auth.tenantId, pathId(req.params, 'lst', 'Listing')));

  // Map by hand (like auto-match, this adopts what the channel holds and pushes nothing: use
  // POST /listings/:id/sync to send the ledger's value) or unmap with item_id: null.
  app.patch('/listings/:id', doc({ summary: 'Map a listing to an item (or unmap with null)', tag: TAG, params: Params, body: ListingPatch, etag: true, responses: { 200: Listing } }), async (req) => {
    const id = pathId(req.params, 'lst', 'Listing');
    const b = parse(ListingPatch, req.body);
    const tenantId = req.auth.tenantId;
    await withTx(ctx.db, async (tx) => {
      const { rows } = await tx.query<{ item_id: string | null }>(`select item_id from listings where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
      if (!rows[0]) throw notFound('Listing');
      if (rows[0].item_id === b.item_id) return;
      await audit(tx, req, b.item_id === null ? 'listing.unmapped' : 'listing.mapped', { type: 'listing', id }, { item_id: b.item_id, was: rows[0].item_id });
      if (b.item_id === null) {
        await tx.query(`update listings set item_id = null, state = 'unmatched', last_error = null where tenant_id = $1 and id = $2`, [tenantId, id]);
        return;
      }
      const item = await tx.query(`select 1 from items where tenant_id = $1 and id = $2 for share`, [tenantId, b.item_id]);
      if (!item.rowCount) throw notFound('Item');
      await tx.query(
        `update listings set item_id = $3, state = 'in_sync', last_pushed_qty = last_seen_qty, last_error = null where tenant_id = $1 and id = $2`,
        [tenantId, id, b.item_id],
      );
    });
    return read(tenantId, id);
  });

  app.post(
    '/listings/auto-match',
    doc({ summary: 'Match a channel\u2019s unmatched listings by SKU', tag: TAG, body: AutoMatch, responses: { 200: z.strictObject({ matched: z.number().int(), unmatched: z.number().int() }) } }),
    async (req) => {
    const b = parse(AutoMatch, req.body);
    const tenantId = req.auth.tenantId;
    return withTx(ctx.db, async (tx) => {
      const ch = await tx.query(`select 1 from channels where tenant_id = $1 and id = $2`, [tenantId, b.channel_id]);
      if (!ch.rowCount) throw notFound('Channel');
      const matched = await autoMatch(tx, tenantId, b.channel_id);
      const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from listings where tenant_id = $1 and channel_id = $2 and item_id is null`, [
        tenantId,
        b.channel_id,
      ]);
      return { matched, unmatched: rows[0]!.n };
    });
  });

  app.post('/listings/:id/sync', doc({ summary: 'Push one listing now', tag: TAG, params: Params, responses: { 202: Queued, 409: ErrorBody } }), async (req, reply) => {
    const id = pathId(req.params, 'lst', 'Listing');
    const tenantId = req.auth.tenantId;
    await withTx(ctx.db, async (tx) => {
      const { rows } = await tx.query<{ item_id: string | null; channel_id: string; status: string }>(
        `select l.item_id, l.channel_id, c.status from listings l join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
         where l.tenant_id = $1 and l.id = $2 for update of l`,
        [tenantId, id],
      );
      const l = rows[0];
      if (!l) throw notFound('Listing');
      if (!l.item_id) throw new ApiError(409, 'conflict', 'This listing is not mapped to an item; map it first');
      if (l.status !== 'connected') throw new ApiError(409, 'conflict', `The channel is ${l.status}; nothing can be pushed to it`);
      await tx.query(
        `update listings set dirty_seq = dirty_seq + 1, state = case when state = 'in_sync' then 'pending' else state end where tenant_id = $1 and id = $2`,
        [tenantId, id],
      );
      await addJobs(tx, [pushJob(tenantId, l.channel_id)]);
    });
    return reply.code(202).send({ queued: true });
  });
}
