// Reports: low stock, movement summary by reason and day, stock on hand by location.
// Each is one aggregate query over the ledger's snapshot (levels) or the ledger itself.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MOVEMENT_REASONS } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { ErrorBody } from '../openapi.ts';
import { doc } from '../openapi.ts';
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
    doc({ summary: 'Items at or below their low-stock threshold (available over all or one location)', tag: TAG, query: LowStockQuery, responses: { 200: LowStock, 404: ErrorBody } }),
    async (req) => {
      const q = parse(LowStockQuery, req.query);
      if (q.location_id) {
        const found = await ctx.db.query(`select 1 from locations where tenant_id = $1 and id = $2`, [req.auth.tenantId, q.location_id]);
        if (!found.rowCount) throw notFound('Location');
      }
      const { rows } = await ctx.db.query(
        `select i.id as item_id, i.sku, i.name, i.low_stock_threshold,
                coalesce(sum(s.on_hand), 0)::int as on_hand, coalesce(sum(s.reserved), 0)::int as reserved,
                coalesce(sum(s.on_hand - s.reserved), 0)::int as available,
                coalesce(sum(s.on_hand - s.reserved), 0) <= 0 as out_of_stock
         from items i
         left join stock_levels s on s.tenant_id = i.tenant_id and s.item_id = i.id and ($2::text is null or s.location_id = $2)
         where i.tenant_id = $1
         group by i.tenant_id, i.id
         having coalesce(sum(s.on_hand - s.reserved), 0) <= i.low_stock_threshold
         order by available, i.sku limit $3`,
        [req.auth.tenantId, q.location_id ?? null, q.limit],
      );
      return { data: rows };
    },
  );

  app.get(
    '/reports/movement-summary',
    doc({ summary: 'Movements by day (UTC) and reason: count, in, out, net', tag: TAG, query: SummaryQuery, responses: { 200: Summary } }),
    async (req) => {
      const q = parse(SummaryQuery, req.query);
      const days = (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000;
      if (days < 0 || days > 366) {
        throw new ApiError(400, 'validation_failed', 'to must be on or after from, at most 366 days later', [{ path: 'to', message: 'out of range' }]);
      }
      const { rows } = await ctx.db.query(
        `select to_char(date_trunc('day', m.created_at at time zone 'UTC'), 'YYYY-MM-DD') as day, m.reason,
                count(*)::int as movements,
                coalesce(sum(m.qty_delta) filter (where m.qty_delta > 0), 0)::int as qty_in,
                coalesce(-sum(m.qty_delta) filter (where m.qty_delta < 0), 0)::int as qty_out,
                sum(m.qty_delta)::int as net
         from stock_movements m
         where m.tenant_id = $1 and m.created_at >= ($2::date at time zone 'UTC') and m.created_at < (($3::date + 1) at time zone 'UTC')
           and ($4::text is null or m.item_id = $4) and ($5::text is null or m.location_id = $5)
         group by 1, 2 order by 1, 2`,
        [req.auth.tenantId, q.from, q.to, q.item_id ?? null, q.location_id ?? null],
      );
      return { from: q.from, to: q.to, data: rows };
    },
  );

  app.get('/reports/stock-on-hand', doc({ summary: 'Stock on hand by location', tag: TAG, responses: { 200: OnHand } }), async (req) => {
    const { rows } = await ctx.db.query(
      `select l.id as location_id, l.name as location_name,
              count(s.item_id) filter (where s.on_hand <> 0)::int as items_stocked,
              coalesce(sum(s.on_hand), 0)::int as on_hand, coalesce(sum(s.reserved), 0)::int as reserved,
              coalesce(sum(s.on_hand - s.reserved), 0)::int as available
       from locations l left join stock_levels s on s.tenant_id = l.tenant_id and s.location_id = l.id
       where l.tenant_id = $1 group by l.tenant_id, l.id order by l.name, l.id`,
      [req.auth.tenantId],
    );
    return { data: rows };
  });
}
