// Stock: levels, the movement ledger (newest first), manual adjustments and stock counts.
// Every write goes through the ledger module (applyMovements) inside one transaction.
// Movement ids are the ledger's bigint sequence, returned as JSON numbers (unique per tenant,
// increasing with time); they are not prefixed strings like the other resources' ids.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { named, withTx, type Tx } from '../../db/pool.ts';
import { MOVEMENT_REASONS } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import { applyMovements } from '../../ledger/ledger.ts';
import { audit } from '../audit.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc, ErrorBody, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { LevelRow, LevelView, Movement } from '../schemas.ts';
import { idRef, levelView, numberCursor, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000_000;
const note = text(0, 500).optional();

const LevelsQuery = z.strictObject({
  ...pageQuery,
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
  include_movements: z.coerce
    .number()
    .int()
    .min(1)
    .max(50)
    .optional()
    .meta({ description: 'Adds the latest N movements (1-50) of each level, newest first' }),
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

const MOVEMENT_COLUMNS = `m.id, m.item_id, m.location_id, m.qty_delta, m.reason, m.source_channel_id, m.source_event_id, m.source_user_id, m.note, m.created_at`;
const LEVEL_COLUMNS = `s.item_id, i.sku, i.name as item_name, s.location_id, l.name as location_name, s.on_hand, s.reserved,
              s.on_hand - s.reserved as available, s.updated_at,
              coalesce((select sum(pl.qty_ordered - pl.qty_received) from purchase_order_lines pl
                        join purchase_orders po on po.tenant_id = pl.tenant_id and po.id = pl.purchase_order_id and po.status in ('open', 'partially_received')
                        where pl.tenant_id = s.tenant_id and pl.item_id = s.item_id and pl.location_id = s.location_id), 0)::int as incoming`;
const LEVEL_FROM = `stock_levels s
       join items i on i.tenant_id = s.tenant_id and i.id = s.item_id
       join locations l on l.tenant_id = s.tenant_id and l.id = s.location_id`;

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
/**
 * Checks the item and location belong to the tenant (404 otherwise; a kit holds no stock: 409)
 * and, with `lock`, locks the level for a read-then-write: the advisory lock covers a level row
 * that does not exist yet (two counts of a new level), the row lock serialises against every
 * ledger writer. The read is a statement of its own, after the lock: its snapshot must be taken
 * once the lock is held, or a level another count just created would be invisible to it.
 * The level is null when there is no row (0 on hand).
 */
async function checkAndLock(
  tx: Pick<Tx, 'query'>,
  tenantId: string,
  itemId: string,
  locationId: string,
  lock: boolean,
): Promise<{ on_hand: number; reserved: number } | null> {
  const { rows } = await tx.query<{ item: boolean; location: boolean; kit: boolean }>(
    named(
      'stock_check',
      `with chk as (
         select exists(select 1 from items where tenant_id = $1 and id = $2) as item,
                exists(select 1 from locations where tenant_id = $1 and id = $3) as location,
                exists(select 1 from item_components where tenant_id = $1 and kit_item_id = $2) as kit
       )
       select item, location, kit, case when $5 and item and location and not kit then pg_advisory_xact_lock(hashtextextended($4, 0)) end as locked
       from chk`,
      [tenantId, itemId, locationId, `level:${tenantId}:${itemId}:${locationId}`, lock],
    ),
  );
  const r = rows[0]!;
  if (!r.item) throw notFound('Item');
  if (!r.location) throw notFound('Location');
  if (r.kit) throw new ApiError(409, 'conflict', `${itemId} is a kit: it holds no stock of its own; move its components instead`, { kits: [itemId] });
  if (!lock) return null;
  const { rows: level } = await tx.query<{ on_hand: number; reserved: number }>(
    named('stock_lock_level', `select on_hand, reserved from stock_levels where tenant_id = $1 and item_id = $2 and location_id = $3 for update`, [tenantId, itemId, locationId]),
  );
  return level[0] ?? null;
}

export async function stockRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  /** Adds each level's latest `n` movements (one query for the whole page). */
  async function withMovements(tenantId: string, rows: Array<Record<string, unknown>>, n: number | undefined): Promise<void> {
    if (!n || rows.length === 0) return;
    const { rows: mv } = await ctx.db.query(
      `select ${MOVEMENT_COLUMNS} from jsonb_to_recordset($2::jsonb) as k(item_id text, location_id text)
       cross join lateral (select * from stock_movements m where m.tenant_id = $1 and m.item_id = k.item_id and m.location_id = k.location_id
                           order by m.id desc limit $3) m
       order by m.id desc`,
      [tenantId, JSON.stringify(rows.map((r) => ({ item_id: r.item_id, location_id: r.location_id }))), n],
    );
    for (const r of rows) r.movements = mv.filter((m) => m.item_id === r.item_id && m.location_id === r.location_id);
  }

  app.get('/stock-levels', doc({ summary: 'List stock levels', tag: TAG, query: LevelsQuery, responses: { 200: pageOf(LevelRow) } }), async (req) => {
    const q = parse(LevelsQuery, req.query);
    const after = stringCursor(q.cursor);
    const [afterItem, afterLocation] = after ? after.split('|') : [null, null];
    const { rows } = await ctx.db.query(
      `select ${LEVEL_COLUMNS}
       from ${LEVEL_FROM}
       where s.tenant_id = $1 and ($2::text is null or (s.item_id, s.location_id) > ($2, coalesce($3, '')))
         and ($4::text is null or s.item_id = $4) and ($5::text is null or s.location_id = $5)
       order by s.item_id, s.location_id limit $6`,
      [req.auth.tenantId, afterItem ?? null, afterLocation ?? null, q.item_id ?? null, q.location_id ?? null, q.limit + 1],
    );
    const out = page(rows, q.limit, (r) => `${r.item_id}|${r.location_id}`);
    await withMovements(req.auth.tenantId, out.data, q.include_movements);
    return out;
  });

  app.get(
    '/stock-levels/:item_id/:location_id',
    doc({ summary: 'Read one stock level', tag: TAG, params: LevelParams, query: LevelQuery, etag: true, responses: { 200: LevelRow } }),
    async (req) => {
      const p = req.params as { item_id?: string; location_id?: string };
      const ok = LevelParams.safeParse(p);
      if (!ok.success) throw notFound('Stock level');
      const q = parse(LevelQuery, req.query);
      const { rows } = await ctx.db.query(`select ${LEVEL_COLUMNS} from ${LEVEL_FROM} where s.tenant_id = $1 and s.item_id = $2 and s.location_id = $3`, [
        req.auth.tenantId,
        ok.data.item_id,
        ok.data.location_id,
      ]);
      if (!rows[0]) throw notFound('Stock level');
      await withMovements(req.auth.tenantId, rows, q.include_movements);
      return rows[0];
    },
  );

  app.get('/movements', doc({ summary: 'The ledger: movements, newest first', tag: TAG, query: MovementsQuery, responses: { 200: pageOf(Movement) } }), async (req) => {
    const q = parse(MovementsQuery, req.query);
    const before = numberCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${MOVEMENT_COLUMNS}
       from stock_movements m
       where m.tenant_id = $1 and ($2::bigint is null or m.id < $2) and ($3::text is null or m.item_id = $3)
         and ($4::text is null or m.location_id = $4) and ($5::text is null or m.reason = $5)
         and ($7::timestamptz is null or m.created_at >= $7) and ($8::timestamptz is null or m.created_at < $8)
       order by m.id desc limit $6`,
      [req.auth.tenantId, before, q.item_id ?? null, q.location_id ?? null, q.reason ?? null, q.limit + 1, q.since ?? null, q.until ?? null],
    );
    return page(rows, q.limit, (r) => r.id as number);
  });

  app.get('/movements/:id', doc({ summary: 'Read one movement', tag: TAG, params: MovementParams, etag: true, responses: { 200: Movement } }), async (req) => {
    const p = MovementParams.safeParse(req.params);
    if (!p.success) throw notFound('Movement');
    const { rows } = await ctx.db.query(`select ${MOVEMENT_COLUMNS} from stock_movements m where m.tenant_id = $1 and m.id = $2`, [req.auth.tenantId, p.data.id]);
    if (!rows[0]) throw notFound('Movement');
    return rows[0];
  });

  app.post(
    '/adjustments',
    doc({ summary: 'Adjust stock: one movement through the ledger', tag: TAG, body: Adjustment, responses: { 201: AdjustmentResult, 409: ErrorBody } }),
    async (req, reply) => {
    const b = parse(Adjustment, req.body);
    const tenantId = req.auth.tenantId;
    const level = await withTx(ctx.db, async (tx) => {
      const current = await checkAndLock(tx, tenantId, b.item_id, b.location_id, b.qty_delta < 0);
      if (b.qty_delta < 0) {
        const onHand = current?.on_hand ?? 0;
        if (onHand + b.qty_delta < 0) {
          throw new ApiError(409, 'insufficient_stock', `Only ${onHand} on hand; cannot take out ${-b.qty_delta}`, { on_hand: onHand, qty_delta: b.qty_delta });
        }
      }
      const r = await applyMovements(tx, tenantId, [
        { itemId: b.item_id, locationId: b.location_id, qtyDelta: b.qty_delta, reason: b.reason, sourceUserId: req.auth.actorId, note: b.note ?? null },
      ]);
      const out = { item_id: b.item_id, location_id: b.location_id, qty_delta: b.qty_delta, reason: b.reason, level: levelView(r.levels[0]!) };
      await audit(tx, req, 'stock.adjusted', { type: 'item', id: b.item_id }, b);
      await finishInTx(tx, req, 201, out);
      return out;
    });
    return reply.code(201).send(level);
  });

  // A count states what is physically there: one transaction reads the level under lock and
  // writes the difference as a 'count' movement (none when the count matches).
  app.post(
    '/stock-counts',
    doc({ summary: 'Record a stock count: the difference becomes a count movement', tag: TAG, body: StockCount, responses: { 201: CountResult } }),
    async (req, reply) => {
    const b = parse(StockCount, req.body);
    const tenantId = req.auth.tenantId;
    const out = await withTx(ctx.db, async (tx) => {
      const current = await checkAndLock(tx, tenantId, b.item_id, b.location_id, true);
      const onHand = current?.on_hand ?? 0;
      const delta = b.counted_qty - onHand;
      let level: { item_id: string; location_id: string; on_hand: number; reserved: number } = { item_id: b.item_id, location_id: b.location_id, on_hand: onHand, reserved: current?.reserved ?? 0 };
      if (delta !== 0) {
        const r = await applyMovements(tx, tenantId, [
          { itemId: b.item_id, locationId: b.location_id, qtyDelta: delta, reason: 'count', sourceUserId: req.auth.actorId, note: b.note ?? null },
        ]);
        level = r.levels[0]!;
      }
      const res = { item_id: b.item_id, location_id: b.location_id, counted_qty: b.counted_qty, delta, level: levelView(level) };
      await audit(tx, req, 'stock.counted', { type: 'item', id: b.item_id }, { ...b, delta });
      await finishInTx(tx, req, 201, res);
      return res;
    });
    return reply.code(201).send(out);
  });
}
