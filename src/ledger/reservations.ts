// Reservations: quantity held for an order, moved between available and `stock_levels.reserved`
// (available = on_hand - reserved is what channels sell). They move no stock and write no movement
// (invariant 1 is about on_hand). One statement, beside the ledger's own and in the same style:
// it changes the levels, stamps them with the writer's transaction id (how Sync finds what
// changed), signals the pushes and the stock alert check in the same transaction (invariant 3)
// and announces the change on the live stream. Two ways in:
// - changeReserved (our own sales orders): all or nothing; a hold needs that much available. The
//   row lock serialises concurrent holders and each re-checks the condition on the row as the
//   previous holder left it, so N buyers racing for the last units get exactly what there is.
// - applyReservations (a channel's allocations, e.g. Vendure's): the platform has already taken
//   the order, so the hold is recorded whatever is available; a release never takes `reserved`
//   below zero (a reservation we never heard of, e.g. a lost webhook, cannot be released twice).
import { watchedSql } from '../db/live.ts';
import { named, wroteJobs, type Tx } from '../db/pool.ts';
import { webhookEventCtes, webhookJobRow } from '../db/webhook-events.ts';
import { LedgerInputError, levelChangeJobs, levelChangeSignals, STOCK_CHANGED_PAYLOAD, type LevelSnapshot } from './ledger.ts';

export interface ReservedChange {
  itemId: string;
  locationId: string;
  /** > 0 holds (needs that much available), < 0 releases. */
  delta: number;
}

export class InsufficientStock extends Error {
  readonly short: Array<{ item_id: string; location_id: string; available: number; wanted: number }>;
  constructor(short: InsufficientStock['short']) {
    super('insufficient stock');
    this.short = short;
  }
}

// $6 strict: true = conditional update of existing levels only; false = upsert, clamped at zero.
const CHANGE_SQL = `
with want as (
  select item_id, location_id, sum(delta)::int as delta
  from jsonb_to_recordset($2::jsonb) as x(item_id text, location_id text, delta int) group by 1, 2
), held as (
  update stock_levels s set reserved = s.reserved + w.delta, updated_at = now(), change_txid = pg_current_xact_id()::text::bigint
  from want w
  where $6 and s.tenant_id = $1 and s.item_id = w.item_id and s.location_id = w.location_id
    and s.reserved + w.delta >= 0 and (w.delta <= 0 or s.on_hand - s.reserved >= w.delta)
  returning s.item_id, s.location_id, s.on_hand, s.reserved
), recorded as (
  insert into stock_levels as l (tenant_id, item_id, location_id, on_hand, reserved, updated_at, change_txid)
  select $1, item_id, location_id, 0, greatest(delta, 0), now(), pg_current_xact_id()::text::bigint from want
  where not $6
  order by item_id, location_id  -- the ledger's lock order: no deadlocks with movement batches
  on conflict (tenant_id, item_id, location_id)
  do update set reserved = greatest(0, l.reserved + (select w.delta from want w where w.item_id = excluded.item_id and w.location_id = excluded.location_id)),
                updated_at = excluded.updated_at, change_txid = excluded.change_txid
  returning item_id, location_id, on_hand, reserved
), upd as (
  select * from held union all select * from recorded
), ${levelChangeSignals('select item_id from upd', 'exists (select 1 from upd)')}, ${webhookEventCtes('$1', "'stock.changed'", STOCK_CHANGED_PAYLOAD('upd', null), '$5', 'exists (select 1 from upd)')}, out as (
  select (select count(*) from want)::int as wanted, coalesce((select json_agg(upd) from upd), '[]') as levels,
         coalesce((select array_agg(channel_id) from chans), '{}') as channel_ids
)
select wanted, levels, channel_ids,
       case when json_array_length(levels) > 0 and json_array_length(levels) <= 40 and ${watchedSql('$1::text')} then
         pg_notify('stockclerk', json_build_object('tenant_id', $1::text, 'type', 'stock.changed', 'data', json_build_object('levels', levels))::text)
       end as notified
from out`;

type ChangeOut = { wanted: number; levels: LevelSnapshot[]; channel_ids: string[] };

function runChange(tx: Pick<Tx, 'query'>, tenantId: string, rows: Array<{ item_id: string; location_id: string; delta: number }>, strict: boolean) {
  // Its push, alert and webhook signals are outbox rows (whether any were written is not counted here).
  wroteJobs(tx);
  return tx.query<ChangeOut>(
    named('ledger_reserve', CHANGE_SQL, [tenantId, JSON.stringify(rows), ...levelChangeJobs(tenantId), webhookJobRow(tenantId), strict]),
  );
}

export interface ReservationInput {
  itemId: string;
  locationId: string;
  /** Positive holds, negative releases. */
  qty: number;
}

/** Records a channel's holds (qty > 0) and releases (qty < 0) inside the caller's transaction. */
export async function applyReservations(
  tx: Pick<Tx, 'query'>,
  tenantId: string,
  inputs: ReservationInput[],
): Promise<{ levels: LevelSnapshot[]; channelIds: string[] }> {
  const rows = inputs.filter((r) => r.qty !== 0);
  if (rows.length === 0) return { levels: [], channelIds: [] };
  for (const r of rows) {
    if (!Number.isInteger(r.qty) || Math.abs(r.qty) > 1_000_000_000) throw new LedgerInputError(`reservation qty must be an integer, got ${r.qty}`);
  }
  const { rows: out } = await runChange(
    tx,
    tenantId,
    rows.map((r) => ({ item_id: r.itemId, location_id: r.locationId, delta: r.qty })),
    false,
  );
  return { levels: out[0]!.levels, channelIds: out[0]!.channel_ids };
}

/** Changes reserved quantities inside the caller's transaction; all or nothing (InsufficientStock). */
export async function changeReserved(tx: Pick<Tx, 'query'>, tenantId: string, changes: ReservedChange[]): Promise<LevelSnapshot[]> {
  if (changes.length === 0) return [];
  const rows = changes.map((c) => ({ item_id: c.itemId, location_id: c.locationId, delta: c.delta }));
  const { rows: out } = await runChange(tx, tenantId, rows, true);
  const r = out[0]!;
  if (r.levels.length === r.wanted) return r.levels;
  // Say what was short (read after the failed update: the rows this transaction could not change).
  const done = new Set(r.levels.map((l) => `${l.item_id}|${l.location_id}`));
  const missing = rows.filter((c) => !done.has(`${c.item_id}|${c.location_id}`));
  const { rows: now } = await tx.query<{ item_id: string; location_id: string; available: number }>(
    `select x.item_id, x.location_id, coalesce(s.on_hand - s.reserved, 0)::int as available
     from jsonb_to_recordset($2::jsonb) as x(item_id text, location_id text)
     left join stock_levels s on s.tenant_id = $1 and s.item_id = x.item_id and s.location_id = x.location_id`,
    [tenantId, JSON.stringify(missing)],
  );
  throw new InsufficientStock(now.map((n) => ({ ...n, wanted: missing.find((m) => m.item_id === n.item_id && m.location_id === n.location_id)!.delta })));
}

/** Releases every active reservation past its expiry (and expires orders left with none); returns how many. */
export async function releaseExpired(tx: Tx, limit = 500): Promise<number> {
  const { rows } = await tx.query<{ tenant_id: string; item_id: string; location_id: string; qty: number; order_id: string | null }>(
    `update reservations r set status = 'expired', released_at = now()
     where (r.tenant_id, r.id) in (select tenant_id, id from reservations where status = 'active' and expires_at <= now()
                                   order by expires_at limit $1 for update skip locked)
     returning r.tenant_id, r.item_id, r.location_id, r.qty, r.order_id`,
    [limit],
  );
  const byTenant = new Map<string, ReservedChange[]>();
  for (const r of rows) {
    const list = byTenant.get(r.tenant_id) ?? [];
    list.push({ itemId: r.item_id, locationId: r.location_id, delta: -r.qty });
    byTenant.set(r.tenant_id, list);
  }
  for (const [tenantId, changes] of byTenant) await changeReserved(tx, tenantId, changes);
  const orders = rows.filter((r) => r.order_id).map((r) => [r.tenant_id, r.order_id!]);
  if (orders.length) {
    await tx.query(
      `update sales_orders o set status = 'expired', updated_at = now(), version = version + 1
       from jsonb_to_recordset($1::jsonb) as x(tenant_id text, order_id text)
       where o.tenant_id = x.tenant_id and o.id = x.order_id and o.status = 'reserved'
         and not exists (select 1 from reservations r where r.tenant_id = o.tenant_id and r.order_id = o.id and r.status = 'active')`,
      [JSON.stringify(orders.map(([tenant_id, order_id]) => ({ tenant_id, order_id })))],
    );
  }
  return rows.length;
}
