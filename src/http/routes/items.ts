// Items: list (search by SKU / name / barcode, cursor paging), create, read (with levels and
// listings), update, delete (only while the item has no ledger history). The rules are in
// src/services/items.ts.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as items from '../../services/items.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { decodeCursor, pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { scopeOf } from '../scope.ts';
import { Item, ItemDetail } from '../schemas.ts';
import { write } from '../tx.ts';
import { idParam, idRef, pathId, text } from './common.ts';

const ItemBody = z.object({
  sku: text(1, 100),
  name: text(1, 300),
  barcode: text(0, 100).nullable().optional(),
  low_stock_threshold: z.number().int().min(0).max(1_000_000).optional(),
  buffer: z.number().int().min(0).max(1_000_000).nullable().optional(),
  components: z
    .array(z.strictObject({ item_id: idRef('item'), qty: z.number().int().min(1).max(10_000) }))
    .max(50)
    .refine((c) => new Set(c.map((x) => x.item_id)).size === c.length, 'one entry per component')
    .optional()
    .meta({ description: 'Makes the item a kit of these components (qty per kit); [] makes it a plain item again' }),
});
const ItemPatch = ItemBody.partial().refine((b) => Object.keys(b).length > 0, 'Send at least one field');
const ListQuery = z.strictObject({ ...pageQuery, q: text(0, 100).optional().meta({ description: 'Search SKU, name or barcode' }) });
const Params = idParam('item');
const TAG = 'items';

export async function itemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/items', doc({ summary: 'List items', tag: TAG, query: ListQuery, responses: { 200: pageOf(Item) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    return items.list(ctx.db, scopeOf(req), { after: decodeCursor<string>(q.cursor, 'string'), limit: q.limit, search: q.q });
  });

  app.post('/items', doc({ summary: 'Create an item', tag: TAG, body: ItemBody, etag: true, responses: { 201: ItemDetail } }), async (req, reply) => {
    const b = parse(ItemBody, req.body);
    const item = await write(
      ctx,
      req,
      201,
      (tx, scope) => items.create(tx, scope, b),
      (out) => ({ etag: versionTag(out.version) }),
    );
    return reply.code(201).header('etag', versionTag(item.version)).send(item);
  });

  app.get(
    '/items/:id',
    doc({ summary: 'Read an item with its levels and listings', tag: TAG, params: Params, etag: true, responses: { 200: ItemDetail } }),
    async (req, reply) => {
      const item = await items.get(ctx.db, scopeOf(req), pathId(req.params, 'item', 'Item'));
      return reply.header('etag', versionTag(item.version)).send(item);
    },
  );

  app.patch(
    '/items/:id',
    doc({ summary: 'Update an item', tag: TAG, params: Params, body: ItemPatch, ifMatch: true, etag: true, responses: { 200: ItemDetail, 409: ErrorBody } }),
    async (req, reply) => {
      const id = pathId(req.params, 'item', 'Item');
      const b = parse(ItemPatch, req.body);
      const item = await write(ctx, req, 200, (tx, scope) => items.update(tx, scope, id, b, (v) => checkIfMatch(req, v)));
      return reply.header('etag', versionTag(item.version)).send(item);
    },
  );

  app.delete(
    '/items/:id',
    doc({ summary: 'Delete an item (only while it has no ledger history)', tag: TAG, params: Params, ifMatch: true, responses: { 204: null, 409: ErrorBody } }),
    async (req, reply) => {
      const id = pathId(req.params, 'item', 'Item');
      await write(ctx, req, 204, (tx, scope) => items.remove(tx, scope, id, (v) => checkIfMatch(req, v)));
      return reply.code(204).send();
    },
  );
}
