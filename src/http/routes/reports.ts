// Reports: low stock, movement summary by reason and day, stock on hand by location.
// Each is one aggregate query over the ledger's snapshot (levels) or the ledger itself.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MOVEMENT_REASONS } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import { lowStock, movementSummary, stockOnHand } from '../../services/reports.ts';
import { parse } from '../errors.ts';
import { ErrorBody } from '../openapi.ts';
import { doc } from '../openapi.ts';
import { replicaRead } from '../replica-read.ts';
import { scopeOf } from '../scope.ts';
import { idRef } from './common.ts';

const TAG = 'reports';
const int = z.number().int();
const LowStockQuery = z.strictObject({ location_id: idRef('loc').optional(), limit: z.coerce.number().int().min(1).max(500).default(100) });
const LowStock = z.strictObject({
  data: z.array(
    z.strictObject({
      item_id: z.string(),
      sku: z.string(),
      name: z.string(),
      low_stock_threshold: int,
      on_hand: int,
      reserved: int,
      available: int,
      out_of_stock: z.boolean(),
    }),
  ),
});
const day = z.iso.date();
const SummaryQuery = z.strictObject({
  from: day.meta({ description: 'First day (UTC), inclusive' }),
  to: day.meta({ description: 'Last day (UTC), inclusive; at most 366 days after from' }),
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
});
const Summary = z.strictObject({
  from: z.string(),
  to: z.string(),
  data: z.array(z.strictObject({ day: z.string(), reason: z.enum(MOVEMENT_REASONS), movements: int, qty_in: int, qty_out: int, net: int })),
});
const OnHand = z.strictObject({
  data: z.array(z.strictObject({ location_id: z.string(), location_name: z.string(), items_stocked: int, on_hand: int, reserved: int, available: int })),
});

export async function reportRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/reports/low-stock',
    doc({
      summary: 'Items at or below their low-stock threshold (available over all or one location)',
      tag: TAG,
      replica: true,
      query: LowStockQuery,
      responses: { 200: LowStock, 404: ErrorBody },
    }),
    async (req, reply) => {
      const q = parse(LowStockQuery, req.query);
      return replicaRead(ctx, req, reply, (db) => lowStock(db, scopeOf(req), { locationId: q.location_id, limit: q.limit }));
    },
  );

  app.get(
    '/reports/movement-summary',
    doc({ summary: 'Movements by day (UTC) and reason: count, in, out, net', tag: TAG, replica: true, query: SummaryQuery, responses: { 200: Summary } }),
    async (req, reply) => {
      const q = parse(SummaryQuery, req.query);
      return replicaRead(ctx, req, reply, (db) => movementSummary(db, scopeOf(req), { from: q.from, to: q.to, itemId: q.item_id, locationId: q.location_id }));
    },
  );

  app.get('/reports/stock-on-hand', doc({ summary: 'Stock on hand by location', tag: TAG, replica: true, responses: { 200: OnHand } }), async (req, reply) => {
    return replicaRead(ctx, req, reply, (db) => stockOnHand(db, scopeOf(req)));
  });
}
