// Stock: levels (on hand, reserved, incoming per item and location), the movement ledger, manual
// adjustments and stock counts. Every write goes through the ledger (applyMovements, the only
// writer of movements and levels) in the caller's transaction. POST /stock-counts and the CSV
// import of counts (src/engine/api-jobs.ts) both count through `countMany`.
// Movement ids are the ledger's bigint sequence (unique per tenant, increasing with time).
import { AppError, notFound } from '../domain/errors.ts';
import { named, type Tx } from '../db/pool.ts';
import type { MovementReason } from '../db/schema.ts';
import { applyCheckedDecrease, applyMovements, type LevelSnapshot } from '../ledger/ledger.ts';
import { audit, auditRow } from './audit-log.ts';
import { kitHoldsNoStock } from './kits.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

type Row = Record<string, unknown>;

const MOVEMENT_COLUMNS = `m.id, m.item_id, m.location_id, m.qty_delta, m.reason, m.source_channel_id, m.source_event_id, m.source_user_id, m.note, m.created_at`;
const LEVEL_COLUMNS = `s.item_id, i.sku, i.name as item_name, s.location_id, l.name as location_name, s.on_hand, s.reserved,
              s.on_hand - s.reserved as available, s.updated_at,
              coalesce((select sum(pl.qty_ordered - pl.qty_received) from purchase_order_lines pl
                        join purchase_orders po on po.tenant_id = pl.tenant_id and po.id = pl.purchase_order_id and po.status in ('open', 'partially_received')
                        where pl.tenant_id = s.tenant_id and pl.item_id = s.item_id and pl.location_id = s.location_id), 0)::int as incoming`;
const LEVEL_FROM = `stock_levels s
       join items i on i.tenant_id = s.tenant_id and i.id = s.item_id
       join locations l on l.tenant_id = s.tenant_id and l.id = s.location_id`;

/** A level as the API shows it. */
export function levelView(l: { item_id: string; location_id: string; on_hand: number; reserved: number }) {
  return { item_id: l.item_id, location_id: l.location_id, on_hand: l.on_hand, reserved: l.reserved, available: l.on_hand - l.reserved };
}

/** Adds each level's latest `n` movements, newest first (one query for the whole page). */
async function withMovements(q: Q, tenantId: string, rows: Row[], n: number | undefined): Promise<void> {
  if (!n || rows.length === 0) return;
  const { rows: mv } = await q.query(
    `select ${MOVEMENT_COLUMNS} from jsonb_to_recordset($2::jsonb) as k(item_id text, location_id text)
     cross join lateral (select * from stock_movements m where m.tenant_id = $1 and m.item_id = k.item_id and m.location_id = k.location_id
                         order by m.id desc limit $3) m
     order by m.id desc`,
    [tenantId, JSON.stringify(rows.map((r) => ({ item_id: r.item_id, location_id: r.location_id }))), n],
  );
  for (const r of rows) r.movements = mv.filter((m) => m.item_id === r.item_id && m.location_id === r.location_id);
}

/** Levels by (item, location), optionally of one item or location; the cursor is `item|location`. */
export async function listLevels(q: Q, scope: Scope, input: PageRequest & { itemId?: string | null; locationId?: string | null; includeMovements?: number }) {
  const [afterItem, afterLocation] = input.after ? input.after.split('|') : [null, null];
  const { rows } = await q.query<Row>(
    `select ${LEVEL_COLUMNS}
     from ${LEVEL_FROM}
     where s.tenant_id = $1 and ($2::text is null or (s.item_id, s.location_id) > ($2, coalesce($3, '')))
       and ($4::text is null or s.item_id = $4) and ($5::text is null or s.location_id = $5)
     order by s.item_id, s.location_id limit $6`,
    [scope.tenantId, afterItem ?? null, afterLocation ?? null, input.itemId ?? null, input.locationId ?? null, input.limit + 1],
  );
  const out = page(rows, input.limit, (r) => `${r.item_id}|${r.location_id}`);
  await withMovements(q, scope.tenantId, out.data, input.includeMovements);
  return out;
}

export async function getLevel(q: Q, scope: Scope, input: { itemId: string; locationId: string; includeMovements?: number }): Promise<Row> {
  const { rows } = await q.query<Row>(`select ${LEVEL_COLUMNS} from ${LEVEL_FROM} where s.tenant_id = $1 and s.item_id = $2 and s.location_id = $3`, [
    scope.tenantId,
    input.itemId,
    input.locationId,
  ]);
  if (!rows[0]) throw notFound('Stock level');
  await withMovements(q, scope.tenantId, rows, input.includeMovements);
  return rows[0];
}

/** The ledger, newest first; the cursor is the last movement id seen. */
export async function listMovements(
  q: Q,
  scope: Scope,
  input: PageRequest<number> & {
    itemId?: string | null;
    locationId?: string | null;
    reason?: MovementReason | null;
    since?: string | null;
    until?: string | null;
  },
) {
  const { rows } = await q.query<Row>(
    `select ${MOVEMENT_COLUMNS}
     from stock_movements m
     where m.tenant_id = $1 and ($2::bigint is null or m.id < $2) and ($3::text is null or m.item_id = $3)
       and ($4::text is null or m.location_id = $4) and ($5::text is null or m.reason = $5)
       and ($7::timestamptz is null or m.created_at >= $7) and ($8::timestamptz is null or m.created_at < $8)
     order by m.id desc limit $6`,
    [
      scope.tenantId,
      input.after,
      input.itemId ?? null,
      input.locationId ?? null,
      input.reason ?? null,
      input.limit + 1,
      input.since ?? null,
      input.until ?? null,
    ],
  );
  return page(rows, input.limit, (r) => r.id as number);
}

export async function getMovement(q: Q, scope: Scope, id: number): Promise<Row> {
  const { rows } = await q.query<Row>(`select ${MOVEMENT_COLUMNS} from stock_movements m where m.tenant_id = $1 and m.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Movement');
  return rows[0];
}

type LevelKey = { itemId: string; locationId: string };
type Level = { on_hand: number; reserved: number };
const keyOf = (k: LevelKey) => `${k.itemId}|${k.locationId}`;

/**
 * Checks the items and locations belong to the tenant (404 otherwise; a kit holds no stock: 409)
 * and, with `lock`, locks the levels for a read-then-write: the advisory locks cover a level row
 * that does not exist yet (two counts of a new level), the row locks serialise against every
 * ledger writer. Locks are taken in one order (item, location), the ledger's: no deadlock with
 * other writers. The read is a statement of its own, after the locks: its snapshot must be taken
 * once they are held, or a level another count just created would be invisible to it.
 * Returns the current levels by `item|location` (absent: no row, 0 on hand).
 */
async function checkAndLock(tx: Q, tenantId: string, keys: LevelKey[], lock: boolean): Promise<Map<string, Level>> {
  const sorted = [...new Map(keys.map((k) => [keyOf(k), k])).values()].sort((a, b) =>
    a.itemId === b.itemId ? (a.locationId < b.locationId ? -1 : 1) : a.itemId < b.itemId ? -1 : 1,
  );
  const itemIds = sorted.map((k) => k.itemId);
  const locationIds = sorted.map((k) => k.locationId);
  // One level (an adjustment, a count: the API's hot path) has a statement of its own: three
  // index probes and at most one lock cost ~0.15 ms less than the general form over arrays
  // (bench/api.ts writes/s). Both answer the same shape.
  const { rows } = await tx.query<{ missing_items: string[]; missing_locations: string[]; kits: string[] }>(
    sorted.length === 1
      ? named(
          'stock_check_lock_one',
          `with chk as (
             select exists(select 1 from items where tenant_id = $1 and id = $2) as item,
                    exists(select 1 from locations where tenant_id = $1 and id = $3) as location,
                    exists(select 1 from item_components where tenant_id = $1 and kit_item_id = $2) as kit
           )
           select case when item then '{}'::text[] else array[$2::text] end as missing_items,
                  case when location then '{}'::text[] else array[$3::text] end as missing_locations,
                  case when kit then array[$2::text] else '{}'::text[] end as kits,
                  case when $4 and item and location and not kit
                       then pg_advisory_xact_lock(hashtextextended('level:' || $1 || ':' || $2 || ':' || $3, 0)) end as locked
           from chk`,
          [tenantId, itemIds[0], locationIds[0], lock],
        )
      : named(
          'stock_check_lock',
          `with k as (
             select * from unnest($2::text[], $3::text[]) with ordinality as k(item_id, location_id, n)
           ), chk as (
             select array(select distinct k.item_id from k where not exists (select 1 from items i where i.tenant_id = $1 and i.id = k.item_id)) as missing_items,
                    array(select distinct k.location_id from k where not exists (select 1 from locations l where l.tenant_id = $1 and l.id = k.location_id)) as missing_locations,
                    array(select distinct c.kit_item_id from item_components c where c.tenant_id = $1 and c.kit_item_id = any($2::text[])) as kits
           )
           select missing_items, missing_locations, kits,
                  case when $4 and cardinality(missing_items) = 0 and cardinality(missing_locations) = 0 and cardinality(kits) = 0 then
                    (select count(*) from (select pg_advisory_xact_lock(hashtextextended('level:' || $1 || ':' || o.item_id || ':' || o.location_id, 0))
                                           from (select item_id, location_id from k order by n) o) x) end as locked
           from chk`,
          [tenantId, itemIds, locationIds, lock],
        ),
  );
  const r = rows[0]!;
  if (r.missing_items.length) throw notFound('Item');
  if (r.missing_locations.length) throw notFound('Location');
  if (r.kits.length) throw kitHoldsNoStock(r.kits);
  const levels = new Map<string, Level>();
  if (!lock) return levels;
  const { rows: held } = await tx.query<{ item_id: string; location_id: string } & Level>(
    named(
      'stock_lock_levels',
      `select s.item_id, s.location_id, s.on_hand, s.reserved from stock_levels s
       join unnest($2::text[], $3::text[]) as k(item_id, location_id) on k.item_id = s.item_id and k.location_id = s.location_id
       where s.tenant_id = $1 order by s.item_id, s.location_id for update of s`,
      [tenantId, itemIds, locationIds],
    ),
  );
  for (const l of held) levels.set(`${l.item_id}|${l.location_id}`, { on_hand: l.on_hand, reserved: l.reserved });
  return levels;
}

export const ADJUSTMENT_REASONS = ['adjustment', 'receipt', 'return', 'sale'] as const;

export type AdjustmentInput = {
  item_id: string;
  location_id: string;
  /** Signed, not zero: receipts and returns positive, a sale negative, an adjustment either. */
  qty_delta: number;
  reason: (typeof ADJUSTMENT_REASONS)[number];
  note?: string | null;
};

/** One movement through the ledger; taking out more than is on hand is refused (409 insufficient_stock). */
export async function adjust(tx: Tx, scope: Scope, input: AdjustmentInput) {
  const key = { itemId: input.item_id, locationId: input.location_id };
  const movement = {
    itemId: input.item_id,
    locationId: input.location_id,
    qtyDelta: input.qty_delta,
    reason: input.reason,
    sourceUserId: scope.actor.id,
    note: input.note ?? null,
  };
  const answer = (r: { levels: LevelSnapshot[] }) => ({
    item_id: input.item_id,
    location_id: input.location_id,
    qty_delta: input.qty_delta,
    reason: input.reason,
    level: levelView(r.levels[0]!),
  });
  const resource = { type: 'item', id: input.item_id };
  if (input.qty_delta >= 0) {
    // Only a decrease reads the level, so only a decrease needs it locked.
    await checkAndLock(tx, scope.tenantId, [key], false);
    const r = await applyMovements(tx, scope.tenantId, [movement]);
    await audit(tx, scope, 'stock.adjusted', resource, input);
    return answer(r);
  }
  // The check, the lock, the ledger and the audit row in one statement, the transaction's last: the
  // API's most common write is one round trip in all where the caller lets the commit go with it
  // (commitWith). It applies nothing unless every check passed, so a refusal after it is safe.
  const { check, result } = await applyCheckedDecrease(tx, scope.tenantId, movement, { audit: auditRow(scope, 'stock.adjusted', resource, input), last: true });
  if (!check.item) throw notFound('Item');
  if (!check.location) throw notFound('Location');
  if (check.kit) throw kitHoldsNoStock([key.itemId]);
  if (!check.ok) {
    throw new AppError(409, 'insufficient_stock', `Only ${check.on_hand} on hand; cannot take out ${-input.qty_delta}`, {
      on_hand: check.on_hand,
      qty_delta: input.qty_delta,
    });
  }
  return answer(result);
}

export type CountInput = { item_id: string; location_id: string; counted_qty: number; note?: string | null };
export type CountResult = { item_id: string; location_id: string; counted_qty: number; delta: number; level: ReturnType<typeof levelView> };

/**
 * Counts state what is physically there: under lock, each level's difference to its count becomes
 * a 'count' movement (none when they match), all in one ledger statement. One count per level.
 * The counting actor is the scope's.
 */
export async function countMany(tx: Tx, scope: Scope, counts: CountInput[]): Promise<{ results: CountResult[]; movements: number }> {
  if (counts.length === 0) return { results: [], movements: 0 };
  // Two counts of one level would both be measured against the same level and both applied.
  if (new Set(counts.map((c) => `${c.item_id}|${c.location_id}`)).size !== counts.length) {
    throw new AppError(400, 'validation_failed', 'Count each item at a location once');
  }
  const current = await checkAndLock(
    tx,
    scope.tenantId,
    counts.map((c) => ({ itemId: c.item_id, locationId: c.location_id })),
    true,
  );
  const results = counts.map((c): CountResult => {
    const was = current.get(`${c.item_id}|${c.location_id}`);
    const onHand = was?.on_hand ?? 0;
    // After the count on hand is what was counted; the ledger changes nothing else of the level.
    const level = { item_id: c.item_id, location_id: c.location_id, on_hand: c.counted_qty, reserved: was?.reserved ?? 0 };
    return { item_id: c.item_id, location_id: c.location_id, counted_qty: c.counted_qty, delta: c.counted_qty - onHand, level: levelView(level) };
  });
  const r = await applyMovements(
    tx,
    scope.tenantId,
    counts.flatMap((c, i) =>
      results[i]!.delta === 0
        ? []
        : [
            {
              itemId: c.item_id,
              locationId: c.location_id,
              qtyDelta: results[i]!.delta,
              reason: 'count' as const,
              sourceUserId: scope.actor.id,
              note: c.note ?? null,
            },
          ],
    ),
  );
  return { results, movements: r.movements };
}

/** One count (POST /stock-counts), audited. */
export async function count(tx: Tx, scope: Scope, input: CountInput): Promise<CountResult> {
  const { results } = await countMany(tx, scope, [input]);
  const out = results[0]!;
  await audit(tx, scope, 'stock.counted', { type: 'item', id: input.item_id }, { ...input, delta: out.delta });
  return out;
}
