// Reservations: units held for orders a channel has taken but not yet fulfilled (Vendure's
// allocations). They live in stock_levels.reserved and lower `available = on_hand - reserved`,
// so every other channel's sellable drops the moment an order is placed. They move no stock and
// write no movement (invariant 1 is about on_hand). Same shape as the ledger's APPLY_SQL: one
// statement changes the levels and, in the same transaction, signals the pushes and the stock
// alert check they cause (invariant 3) and notifies the live stream.
import { alertsStockJob, CHANNEL_QUEUE_PREFIX, PUSH_KEY_PREFIX } from '../db/job-specs.ts';
import { outboxRow } from '../db/jobs.ts';
import type { Tx } from '../db/pool.ts';
import { LedgerInputError, type LevelSnapshot } from './ledger.ts';

export interface ReservationInput {
  itemId: string;
  locationId: string;
  /** Positive reserves, negative releases. A release never takes `reserved` below zero (a
   *  reservation we never heard of, e.g. a lost webhook, cannot be released twice). */
  qty: number;
}

const RESERVE_SQL = `
with input as (
  select * from jsonb_to_recordset($2::jsonb) as x(item_id text, location_id text, qty int)
), agg as (
  select item_id, location_id, sum(qty)::int as delta from input group by 1, 2
), lv as (
  insert into stock_levels as l (tenant_id, item_id, location_id, on_hand, reserved, updated_at, change_txid)
  select $1, item_id, location_id, 0, greatest(delta, 0), now(), pg_current_xact_id()::text::bigint from agg
  order by item_id, location_id  -- the ledger's lock order: no deadlocks with movement batches
  on conflict (tenant_id, item_id, location_id)
  do update set reserved = greatest(0, l.reserved + (select a.delta from agg a where a.item_id = excluded.item_id and a.location_id = excluded.location_id)),
                updated_at = excluded.updated_at, change_txid = excluded.change_txid
  returning item_id, location_id, on_hand, reserved
), chans as (
  select distinct l.channel_id from listings l
  join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id and c.status = 'connected'
  where l.tenant_id = $1 and l.item_id in (select item_id from agg)
), signals as (
  insert into job_outbox (key, task, payload, queue_name, run_at)
  select $3 || channel_id, 'sync_push', jsonb_build_object('tenantId', $1::text, 'channelId', channel_id), $4 || channel_id, null from chans
  union all
  select s.key, s.task, s.payload, s.queue_name, s.run_at from jsonb_to_record($5::jsonb) as s(key text, task text, payload jsonb, queue_name text, run_at timestamptz)
  on conflict (key) do nothing
), out as (
  select case when (select count(*) from agg) <= 40 then coalesce((select json_agg(lv) from lv), '[]') end as levels,
         coalesce((select array_agg(channel_id) from chans), '{}') as channel_ids
)
select levels, channel_ids,
       pg_notify('stockclerk', json_build_object('tenant_id', $1::text, 'type', 'stock.changed', 'data',
         case when levels is not null then json_build_object('levels', levels) else json_build_object('truncated', true) end)::text) as notified
from out`;

/** Reserves (qty > 0) and releases (qty < 0) inside the caller's transaction. */
export async function applyReservations(tx: Tx, tenantId: string, inputs: ReservationInput[]): Promise<{ levels: LevelSnapshot[]; channelIds: string[] }> {
  const rows = inputs.filter((r) => r.qty !== 0);
  if (rows.length === 0) return { levels: [], channelIds: [] };
  for (const r of rows) {
    if (!Number.isInteger(r.qty) || Math.abs(r.qty) > 1_000_000_000) throw new LedgerInputError(`reservation qty must be an integer, got ${r.qty}`);
  }
  // Named: planned once per connection (see applyMovements).
  const { rows: out } = await tx.query<{ levels: LevelSnapshot[] | null; channel_ids: string[] }>({
    name: 'ledger_reserve',
    text: RESERVE_SQL,
    values: [
      tenantId,
      JSON.stringify(rows.map((r) => ({ item_id: r.itemId, location_id: r.locationId, qty: r.qty }))),
      PUSH_KEY_PREFIX,
      CHANNEL_QUEUE_PREFIX,
      JSON.stringify(outboxRow(alertsStockJob(tenantId))),
    ],
  });
  return { levels: out[0]!.levels ?? [], channelIds: out[0]!.channel_ids };
}
