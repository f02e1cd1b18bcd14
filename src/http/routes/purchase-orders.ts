// Purchase orders: stock ordered from a supplier, incoming until received (rules in
// src/services/purchase-orders.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as purchaseOrders from '../../services/purchase-orders.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, idRef, objectBody, pathId, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000;
const qty = z.number().int().min(1).max(MAX_QTY);
const oneLinePerLevel = (lines: Array<{ item_id: string; location_id: string }> | undefined) =>
  !lines || new Set(lines.map(purchaseOrders.levelKey)).size === lines.length;

const PoCreate = z
  .strictObject({
    supplier: text(1, 200).optional(),
    reference: text(1, 200).optional(),
    lines: z
      .array(
        z.strictObject({
          item_id: idRef('item'),
          location_id: idRef('loc').meta({ description: 'Where the stock is delivered' }),
          qty_ordered: qty,
          unit_cost: z.number().min(0).max(1_000_000_000).optional(),
        }),
      )
      .min(1)
      .max(200),
  })
  .refine((b) => oneLinePerLevel(b.lines), { path: ['lines'], message: 'one line per item and location' });
const PoReceive = z
  .strictObject({
    lines: z
      .array(z.strictObject({ item_id: idRef('item'), location_id: idRef('loc'), qty }))
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'What arrived; without lines, everything outstanding arrives' }),
  })
  .refine((b) => oneLinePerLevel(b.lines), { path: ['lines'], message: 'one line per item and location' });
const PoPatch = z
  .strictObject({ supplier: text(1, 200).nullable().optional(), reference: text(1, 200).nullable().optional() })
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');

const PoQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(purchaseOrders.STATUSES).optional(),
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
});

const PurchaseOrder = named(
  z.strictObject({
    id: z.string(),
    status: z.enum(purchaseOrders.STATUSES),
    supplier: z.string().nullable(),
    reference: z.string().nullable(),
    version: z.number().int(),
    lines: z.array(
      z.strictObject({
        item_id: z.string(),
        location_id: z.string(),
        qty_ordered: z.number().int(),
        qty_received: z.number().int(),
        unit_cost: z.number().nullable(),
      }),
    ),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'PurchaseOrder',
);

const TAG = 'purchase-orders';
const etag = (po: purchaseOrders.PurchaseOrder) => ({ etag: versionTag(po.version) });

export async function purchaseOrderRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('po');

  app.get(
    '/purchase-orders',
    doc({ summary: 'List purchase orders, newest first', tag: TAG, query: PoQuery, responses: { 200: pageOf(PurchaseOrder) } }),
    async (req) => {
      const q = parse(PoQuery, req.query);
      return purchaseOrders.list(ctx.db, scopeOf(req), {
        after: stringCursor(q.cursor),
        limit: q.limit,
        status: q.status,
        itemId: q.item_id,
        locationId: q.location_id,
      });
    },
  );

  app.post(
    '/purchase-orders',
    doc({ summary: 'Create a purchase order (its lines become incoming stock)', tag: TAG, body: PoCreate, etag: true, responses: { 201: PurchaseOrder } }),
    async (req, reply) => {
      const b = parse(PoCreate, req.body);
      const out = await write(ctx, req, 201, (tx, scope) => purchaseOrders.create(tx, scope, b), etag);
      return reply.code(201).headers(etag(out)).send(out);
    },
  );

  app.get(
    '/purchase-orders/:id',
    doc({ summary: 'Read a purchase order', tag: TAG, params: Params, etag: true, responses: { 200: PurchaseOrder } }),
    async (req, reply) => {
      const po = await purchaseOrders.get(ctx.db, scopeOf(req), pathId(req.params, 'po', 'Purchase order'));
      return reply.headers(etag(po)).send(po);
    },
  );

  app.patch(
    '/purchase-orders/:id',
    doc({
      summary: 'Change a purchase order\u2019s supplier or reference',
      tag: TAG,
      params: Params,
      body: PoPatch,
      ifMatch: true,
      etag: true,
      responses: { 200: PurchaseOrder },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'po', 'Purchase order');
      const b = parse(PoPatch, req.body);
      const po = await write(ctx, req, 200, (tx, scope) => purchaseOrders.update(tx, scope, id, b, (v) => checkIfMatch(req, v)));
      return reply.headers(etag(po)).send(po);
    },
  );

  app.post(
    '/purchase-orders/:id/receive',
    doc({
      summary: 'Receive a purchase order, wholly or in part: receipt movements at each line\u2019s location',
      tag: TAG,
      params: Params,
      body: PoReceive,
      etag: true,
      responses: { 200: PurchaseOrder, 409: ErrorBody, 422: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(PoReceive, objectBody(req.body));
      const id = pathId(req.params, 'po', 'Purchase order');
      const out = await write(ctx, req, 200, (tx, scope) => purchaseOrders.receive(tx, scope, id, b), etag);
      return reply.headers(etag(out)).send(out);
    },
  );

  for (const action of ['cancel', 'close'] as const) {
    app.post(
      `/purchase-orders/:id/${action}`,
      doc({
        summary:
          action === 'cancel'
            ? 'Cancel a purchase order nothing was received on'
            : 'Close a purchase order: what was not received is no longer expected (no longer incoming)',
        tag: TAG,
        params: Params,
        etag: true,
        responses: { 200: PurchaseOrder, 409: ErrorBody },
      }),
      async (req, reply) => {
        const id = pathId(req.params, 'po', 'Purchase order');
        const out = await write(ctx, req, 200, (tx, scope) => purchaseOrders[action](tx, scope, id), etag);
        return reply.headers(etag(out)).send(out);
      },
    );
  }
}
