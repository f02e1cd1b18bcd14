// Transfers between locations (rules in src/services/transfers.ts): stock leaves the source on
// create, arrives at the destination as it is received, and goes back on cancel.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as transfers from '../../services/transfers.ts';
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
const oneLinePerItem = (lines: Array<{ item_id: string }> | undefined) => !lines || new Set(lines.map((l) => l.item_id)).size === lines.length;

const TransferCreate = z
  .strictObject({
    from_location_id: idRef('loc'),
    to_location_id: idRef('loc'),
    reference: text(1, 200).optional(),
    lines: z
      .array(z.strictObject({ item_id: idRef('item'), qty }))
      .min(1)
      .max(100),
  })
  .refine((b) => b.from_location_id !== b.to_location_id, { path: ['to_location_id'], message: 'must differ from from_location_id' })
  .refine((b) => oneLinePerItem(b.lines), { path: ['lines'], message: 'one line per item' });
const TransferReceive = z
  .strictObject({
    lines: z
      .array(z.strictObject({ item_id: idRef('item'), qty }))
      .min(1)
      .max(100)
      .optional()
      .meta({ description: 'What arrived; without lines, everything still in transit arrives' }),
  })
  .refine((b) => oneLinePerItem(b.lines), { path: ['lines'], message: 'one line per item' });
const TransferPatch = z.strictObject({ reference: text(1, 200).nullable() });

const TransfersQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(transfers.STATUSES).optional(),
  from_location_id: idRef('loc').optional(),
  to_location_id: idRef('loc').optional(),
  item_id: idRef('item').optional(),
});

const Transfer = named(
  z.strictObject({
    id: z.string(),
    status: z.enum(transfers.STATUSES),
    from_location_id: z.string(),
    to_location_id: z.string(),
    reference: z.string().nullable(),
    version: z.number().int(),
    lines: z.array(
      z.strictObject({
        item_id: z.string(),
        qty: z.number().int().meta({ description: 'Sent from the source' }),
        received_qty: z.number().int(),
        returned_qty: z.number().int().meta({ description: 'Sent back to the source by a cancel' }),
      }),
    ),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'Transfer',
);

const TAG = 'transfers';
const etag = (t: transfers.Transfer) => ({ etag: versionTag(t.version) });

export async function transferRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('trf');

  app.get(
    '/transfers',
    doc({ summary: 'List transfers, newest first', tag: TAG, query: TransfersQuery, responses: { 200: pageOf(Transfer) } }),
    async (req) => {
      const q = parse(TransfersQuery, req.query);
      return transfers.list(ctx.db, scopeOf(req), {
        after: stringCursor(q.cursor),
        limit: q.limit,
        status: q.status,
        fromLocationId: q.from_location_id,
        toLocationId: q.to_location_id,
        itemId: q.item_id,
      });
    },
  );

  app.post(
    '/transfers',
    doc({
      summary: 'Send stock to another location: it leaves the source now (transfer_out) and is in transit until received',
      tag: TAG,
      body: TransferCreate,
      etag: true,
      responses: { 201: Transfer, 409: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(TransferCreate, req.body);
      const out = await write(ctx, req, 201, (tx, scope) => transfers.create(tx, scope, b), etag);
      return reply.code(201).headers(etag(out)).send(out);
    },
  );

  app.get('/transfers/:id', doc({ summary: 'Read a transfer', tag: TAG, params: Params, etag: true, responses: { 200: Transfer } }), async (req, reply) => {
    const t = await transfers.get(ctx.db, scopeOf(req), pathId(req.params, 'trf', 'Transfer'));
    return reply.headers(etag(t)).send(t);
  });

  app.patch(
    '/transfers/:id',
    doc({
      summary: 'Change a transfer\u2019s reference',
      tag: TAG,
      params: Params,
      body: TransferPatch,
      ifMatch: true,
      etag: true,
      responses: { 200: Transfer },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'trf', 'Transfer');
      const b = parse(TransferPatch, req.body);
      const t = await write(ctx, req, 200, (tx, scope) => transfers.update(tx, scope, id, b, (v) => checkIfMatch(req, v)));
      return reply.headers(etag(t)).send(t);
    },
  );

  app.post(
    '/transfers/:id/receive',
    doc({
      summary: 'Receive a transfer, wholly or in part: transfer_in movements at the destination',
      tag: TAG,
      params: Params,
      body: TransferReceive,
      etag: true,
      responses: { 200: Transfer, 409: ErrorBody, 422: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(TransferReceive, objectBody(req.body));
      const id = pathId(req.params, 'trf', 'Transfer');
      const out = await write(ctx, req, 200, (tx, scope) => transfers.receive(tx, scope, id, b), etag);
      return reply.headers(etag(out)).send(out);
    },
  );

  app.post(
    '/transfers/:id/cancel',
    doc({
      summary: 'Cancel a transfer in transit: what has not arrived goes back to the source (transfer_in there)',
      tag: TAG,
      params: Params,
      etag: true,
      responses: { 200: Transfer, 409: ErrorBody },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'trf', 'Transfer');
      const out = await write(ctx, req, 200, (tx, scope) => transfers.cancel(tx, scope, id), etag);
      return reply.headers(etag(out)).send(out);
    },
  );
}
