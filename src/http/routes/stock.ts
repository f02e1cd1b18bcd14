// Stock: levels, the movement ledger (newest first), manual adjustments and stock counts
// (src/services/stock.ts; every write goes through the ledger inside one transaction).
// Movement ids are the ledger's bigint sequence, returned as JSON numbers (unique per tenant,
// increasing with time); they are not prefixed strings like the other resources' ids.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MOVEMENT_REASONS } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import * as stock from '../../services/stock.ts';
import { notFound, parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { scopeOf } from '../scope.ts';
import { LevelRow, LevelView, Movement } from '../schemas.ts';
import { write } from '../tx.ts';
import { idRef, numberCursor, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000_000;
const note = text(0, 500).optional();

const LevelsQuery = z.strictObject({
  ...pageQuery,
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
  include_movements: z.coerce.number().int().min(1).max(50).optional().meta({ description: 'Adds the latest N movements (1-50) of each level, newest first' }),
});
const LevelParams = z.strictObject({ item_id: idRef('item'), location_id: idRef('loc') });
const LevelQuery = z.strictObject({ include_movements: LevelsQuery.shape.include_movements });
const since = z.iso.datetime({ offset: true });
const MovementsQuery = z.strictObject({
  ...pageQuery,
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
  reason: z.enum(MOVEMENT_REASONS).optional(),
  since: since.optional().meta({ description: 'Movements at or after this time' }),
  until: since.optional().meta({ description: 'Movements before this time' }),
});
const MovementParams = z.strictObject({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
const AdjustmentResult = z.strictObject({ item_id: z.string(), location_id: z.string(), qty_delta: z.number().int(), reason: z.string(), level: LevelView });
const CountResult = z.strictObject({ item_id: z.string(), location_id: z.string(), counted_qty: z.number().int(), delta: z.number().int(), level: LevelView });
const TAG = 'stock';

const Adjustment = z
  .strictObject({
    item_id: idRef('item'),
    location_id: idRef('loc'),
    qty_delta: z
      .number()
      .int()
      .min(-MAX_QTY)
      .max(MAX_QTY)
      .refine((n) => n !== 0, 'must not be zero'),
    reason: z.enum(stock.ADJUSTMENT_REASONS),
    note,
  })
  .superRefine((b, c) => {
    // Receipts and returns bring stock in, a sale takes it out; a plain adjustment goes either way.
    if ((b.reason === 'receipt' || b.reason === 'return') && b.qty_delta < 0)
      c.addIssue({ code: 'custom', path: ['qty_delta'], message: `must be positive for a ${b.reason}` });
    if (b.reason === 'sale' && b.qty_delta > 0) c.addIssue({ code: 'custom', path: ['qty_delta'], message: 'must be negative for a sale' });
  });
const StockCount = z.strictObject({
  item_id: idRef('item'),
  location_id: idRef('loc'),
  counted_qty: z.number().int().min(0).max(MAX_QTY),
  note,
});

export async function stockRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/stock-levels', doc({ summary: 'List stock levels', tag: TAG, query: LevelsQuery, responses: { 200: pageOf(LevelRow) } }), async (req) => {
    const q = parse(LevelsQuery, req.query);
    return stock.listLevels(ctx.db, scopeOf(req), {
      after: stringCursor(q.cursor),
      limit: q.limit,
      itemId: q.item_id,
      locationId: q.location_id,
      includeMovements: q.include_movements,
    });
  });

  app.get(
    '/stock-levels/:item_id/:location_id',
    doc({ summary: 'Read one stock level', tag: TAG, params: LevelParams, query: LevelQuery, etag: true, responses: { 200: LevelRow } }),
    async (req) => {
      const p = LevelParams.safeParse(req.params);
      if (!p.success) throw notFound('Stock level');
      const q = parse(LevelQuery, req.query);
      return stock.getLevel(ctx.db, scopeOf(req), { itemId: p.data.item_id, locationId: p.data.location_id, includeMovements: q.include_movements });
    },
  );

  app.get(
    '/movements',
    doc({ summary: 'The ledger: movements, newest first', tag: TAG, query: MovementsQuery, responses: { 200: pageOf(Movement) } }),
    async (req) => {
      const q = parse(MovementsQuery, req.query);
      return stock.listMovements(ctx.db, scopeOf(req), {
        after: numberCursor(q.cursor),
        limit: q.limit,
        itemId: q.item_id,
        locationId: q.location_id,
        reason: q.reason,
        since: q.since,
        until: q.until,
      });
    },
  );

  app.get('/movements/:id', doc({ summary: 'Read one movement', tag: TAG, params: MovementParams, etag: true, responses: { 200: Movement } }), async (req) => {
    const p = MovementParams.safeParse(req.params);
    if (!p.success) throw notFound('Movement');
    return stock.getMovement(ctx.db, scopeOf(req), p.data.id);
  });

  app.post(
    '/adjustments',
    doc({ summary: 'Adjust stock: one movement through the ledger', tag: TAG, body: Adjustment, responses: { 201: AdjustmentResult, 409: ErrorBody } }),
    async (req, reply) => {
      const b = parse(Adjustment, req.body);
      const out = await write(ctx, req, 201, (tx, scope) => stock.adjust(tx, scope, b));
      return reply.code(201).send(out);
    },
  );

  // A count states what is physically there: the difference becomes a 'count' movement (none when it matches).
  app.post(
    '/stock-counts',
    doc({ summary: 'Record a stock count: the difference becomes a count movement', tag: TAG, body: StockCount, responses: { 201: CountResult } }),
    async (req, reply) => {
      const b = parse(StockCount, req.body);
      const out = await write(ctx, req, 201, (tx, scope) => stock.count(tx, scope, b));
      return reply.code(201).send(out);
    },
  );
}
