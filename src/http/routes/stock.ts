// Stock: levels, the movement ledger (newest first), manual adjustments and stock counts.
// Every write goes through the ledger module (applyMovements) inside one transaction.
// Movement ids are the ledger's bigint sequence, returned as JSON numbers (unique per tenant,
// increasing with time); they are not prefixed strings like the other resources' ids.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { withTx, type Tx } from '../../db/pool.ts';
import { MOVEMENT_REASONS } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import { applyMovements } from '../../ledger/ledger.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { page, pageQuery } from '../paging.ts';
import { idRef, levelView, numberCursor, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000_000;
const note = text(0, 500).optional();

const LevelsQuery = z.strictObject({ ...pageQuery, item_id: idRef('item').optional(), location_id: idRef('loc').optional() });
const MovementsQuery = z.strictObject({
  ...pageQuery,
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
  reason: z.enum(MOVEMENT_REASONS).optional(),
});

const ADJUSTMENT_REASONS = ['adjustment', 'receipt', 'return', 'sale'] as const;
const Adjustment = z
  .strictObject({
    item_id: idRef('item'),
    location_id: idRef('loc'),
    qty_delta: z.number().int().min(-MAX_QTY).max(MAX_QTY).refine((n) => n !== 0, 'must not be zero'),
    reason: z.enum(ADJUSTMENT_REASONS),
    note,
  })
  .superRefine((b, c) => {
    // Receipts and returns bring stock in, a sale takes it out; a plain adjustment goes either way.
    if ((b.reason === 'receipt' || b.reason === 'return') && b.qty_delta < 0) c.addIssue({ code: 'custom', path: ['qty_delta'], message: `must be positive for a ${b.reason}` });
    if (b.reason === 'sale' && b.qty_delta > 0) c.addIssue({ code: 'custom', path: ['qty_delta'], message: 'must be negative for a sale' });
  });
const StockCount = z.strictObject({
  item_id: idRef('item'),
  location_id: idRef('loc'),
  counted_qty: z.number().int().min(0).max(MAX_QTY),
  note,
});

/** 404 unless both belong to the tenant (checked before any write: a foreign key error is never the answer). */
async function checkItemAndLocation(q: Pick<Tx, 'query'>, tenantId: string, itemId: string, locationId: string): Promise<void> {
  const { rows } = await q.query<{ item: boolean; location: boolean }>(
    `select exists(select 1 from items where tenant_id = $1 and id = $2) as item,
            exists(select 1 from locations where tenant_id = $1 and id = $3) as location`,
    [tenantId, itemId, locationId],
  );
  if (!rows[0]!.item) throw notFound('Item');
  if (!rows[0]!.location) throw notFound('Location');
}

/**
 * Locks one level for a read-then-write: the row lock serialises against every ledger writer;
 * the advisory lock covers the row not existing yet (two counts of a new level). Null = no row (0).
 */
async function lockLevel(tx: Tx, tenantId: string, itemId: string, locationId: string): Promise<{ on_hand: number; reserved: number } | null> {
  await tx.query(`select pg_advisory_xact_lock(hashtextextended($1, 0))`, [`level:${tenantId}:${itemId}:${locationId}`]);
  const { rows } = await tx.query<{ on_hand: number; reserved: number }>(
    `select on_hand, reserved from stock_levels where tenant_id = $1 and item_id = $2 and location_id = $3 for update`,
    [tenantId, itemId, locationId],
  );
  return rows[0] ?? null;
}

export async function stockRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/stock-levels', async (req) => {
    const q = parse(LevelsQuery, req.query);
    const after = stringCursor(q.cursor);
    const [afterItem, afterLocation] = after ? after.split('|') : [null, null];
    const { rows } = await ctx.db.query(
      `select s.item_id, i.sku, i.name as item_name, s.location_id, l.name as location_name, s.on_hand, s.reserved,
              s.on_hand - s.reserved as available, s.updated_at
       from stock_levels s
       join items i on i.tenant_id = s.tenant_id and i.id = s.item_id
       join locations l on l.tenant_id = s.tenant_id and l.id = s.location_id
       where s.tenant_id = $1 and ($2::text is null or (s.item_id, s.location_id) > ($2, coalesce($3, '')))
         and ($4::text is null or s.item_id = $4) and ($5::text is null or s.location_id = $5)
       order by s.item_id, s.location_id limit $6`,
      [req.auth.tenantId, afterItem ?? null, afterLocation ?? null, q.item_id ?? null, q.location_id ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => `${r.item_id}|${r.location_id}`);
  });

  app.get('/movements', async (req) => {
    const q = parse(MovementsQuery, req.query);
    const before = numberCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select m.id, m.item_id, m.location_id, m.qty_delta, m.reason, m.source_channel_id, m.source_event_id, m.source_user_id, m.note, m.created_at
       from stock_movements m
       where m.tenant_id = $1 and ($2::bigint is null or m.id < $2) and ($3::text is null or m.item_id = $3)
         and ($4::text is null or m.location_id = $4) and ($5::text is null or m.reason = $5)
       order by m.id desc limit $6`,
      [req.auth.tenantId, before, q.item_id ?? null, q.location_id ?? null, q.reason ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as number);
  });

  app.post('/adjustments', async (req, reply) => {
    const b = parse(Adjustment, req.body);
    const tenantId = req.auth.tenantId;
    const level = await withTx(ctx.db, async (tx) => {
      await checkItemAndLocation(tx, tenantId, b.item_id, b.location_id);
      if (b.qty_delta < 0) {
        const current = await lockLevel(tx, tenantId, b.item_id, b.location_id);
        const onHand = current?.on_hand ?? 0;
        if (onHand + b.qty_delta < 0) {
          throw new ApiError(409, 'insufficient_stock', `Only ${onHand} on hand; cannot take out ${-b.qty_delta}`, { on_hand: onHand, qty_delta: b.qty_delta });
        }
      }
      const r = await applyMovements(tx, tenantId, [
        { itemId: b.item_id, locationId: b.location_id, qtyDelta: b.qty_delta, reason: b.reason, sourceUserId: req.auth.userId, note: b.note ?? null },
      ]);
      return r.levels[0]!;
    });
    return reply.code(201).send({ item_id: b.item_id, location_id: b.location_id, qty_delta: b.qty_delta, reason: b.reason, level: levelView(level) });
  });

  // A count states what is physically there: one transaction reads the level under lock and
  // writes the difference as a 'count' movement (none when the count matches).
  app.post('/stock-counts', async (req, reply) => {
    const b = parse(StockCount, req.body);
    const tenantId = req.auth.tenantId;
    const out = await withTx(ctx.db, async (tx) => {
      await checkItemAndLocation(tx, tenantId, b.item_id, b.location_id);
      const current = await lockLevel(tx, tenantId, b.item_id, b.location_id);
      const onHand = current?.on_hand ?? 0;
      const delta = b.counted_qty - onHand;
      if (delta === 0) {
        return { delta, level: { item_id: b.item_id, location_id: b.location_id, on_hand: onHand, reserved: current?.reserved ?? 0 } };
      }
      const r = await applyMovements(tx, tenantId, [
        { itemId: b.item_id, locationId: b.location_id, qtyDelta: delta, reason: 'count', sourceUserId: req.auth.userId, note: b.note ?? null },
      ]);
      return { delta, level: r.levels[0]! };
    });
    return reply.code(201).send({ item_id: b.item_id, location_id: b.location_id, counted_qty: b.counted_qty, delta: out.delta, level: levelView(out.level) });
  });
}
