// The conflict queue (issue 13): catalog fields and stock levels a marketplace changed on its side
// that disagree with ours (src/services/conflicts.ts). Resolve one with use_master, use_platform or a manual
// value, or many at once with use_master or use_platform.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as conflicts from '../../services/conflicts.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { decodeCursor, pageQuery } from '../paging.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idRef, pathId } from './common.ts';

const TAG = 'conflicts';
const ListQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(['open', 'resolved']).optional().meta({ description: 'Default: every conflict' }),
  channel_id: idRef('ch').optional(),
  product_id: idRef('prd').optional(),
});
const Resolve = z.strictObject({
  strategy: z.enum(conflicts.CONFLICT_STRATEGIES),
  value: z
    .union([z.string().max(50_000), z.number()])
    .optional()
    .meta({ description: 'manual only: the value to keep (a price in minor units)' }),
});
const ResolveMany = z.strictObject({
  ids: z.array(idRef('cfl')).min(1).max(500),
  strategy: z.enum(['use_master', 'use_platform']),
});
const Conflict = named(
  z.strictObject({
    id: z.string(),
    channel_id: z.string(),
    channel_name: z.string(),
    channel_type: z.string(),
    product_id: z.string(),
    product_title: z.string(),
    publication_id: z.string().nullable(),
    field: z.enum([...conflicts.CONFLICT_FIELDS, 'stock']),
    item_id: z.string().nullable().meta({ description: 'stock only: the variant (item) whose quantity differs' }),
    sku: z.string().nullable(),
    master_value: z.unknown(),
    platform_value: z.unknown(),
    status: z.enum(['open', 'resolved']),
    resolution: z
      .string()
      .nullable()
      .meta({ description: 'use_master | use_platform | manual; agreed when the two sides came to match by themselves (stock)' }),
    resolved_value: z.unknown(),
    resolved_by: z.string().nullable(),
    detected_at: timestamp,
    resolved_at: timestamp.nullable(),
  }),
  'Conflict',
);
const Resolved = named(
  z.strictObject({ conflict: Conflict, updates: z.array(z.strictObject({ publication_id: z.string(), channel_id: z.string() })) }),
  'ConflictResolution',
);

export async function conflictRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/conflicts',
    doc({
      summary: 'Catalog conflicts: fields a marketplace changed that disagree with ours',
      tag: TAG,
      query: ListQuery,
      responses: { 200: pageOf(Conflict) },
    }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return conflicts.listConflicts(ctx.db, scopeOf(req), {
        after: decodeCursor<string>(q.cursor, 'string'),
        limit: q.limit,
        status: q.status,
        channelId: q.channel_id,
        productId: q.product_id,
      });
    },
  );

  app.get('/conflicts/:id', doc({ summary: 'One conflict', tag: TAG, params: z.object({ id: idRef('cfl') }), responses: { 200: Conflict } }), async (req) =>
    conflicts.getConflict(ctx.db, scopeOf(req), pathId(req.params, 'cfl', 'Conflict')),
  );

  app.post(
    '/conflicts/:id/resolve',
    doc({
      summary: 'Resolve a conflict: keep ours (use_master), take the platform value (use_platform) or set one (manual)',
      description:
        'use_master sends our value to the channel again; use_platform and manual make the value ours and update every channel the product is live on.',
      tag: TAG,
      params: z.object({ id: idRef('cfl') }),
      body: Resolve,
      responses: { 200: Resolved, 409: ErrorBody },
    }),
    async (req) => {
      const id = pathId(req.params, 'cfl', 'Conflict');
      const b = parse(Resolve, req.body);
      return write(ctx, req, 200, (tx, s) => conflicts.resolveConflict(tx, s, id, b.strategy, b.value));
    },
  );

  app.post(
    '/conflicts/resolve',
    doc({
      summary: 'Resolve many open conflicts with one strategy',
      tag: TAG,
      body: ResolveMany,
      responses: { 200: z.strictObject({ data: z.array(Resolved) }) },
    }),
    async (req) => {
      const b = parse(ResolveMany, req.body);
      return write(ctx, req, 200, async (tx, s) => {
        const data = [];
        for (const id of b.ids) data.push(await conflicts.resolveConflict(tx, s, id, b.strategy));
        return { data };
      });
    },
  );
}
