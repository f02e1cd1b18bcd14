// Reports: low stock, movement summary by reason and day, stock on hand by location. Each is one
// aggregate query over the ledger's snapshot (levels) or the ledger itself.
import { AppError, notFound } from '../domain/errors.ts';
import type { Q, Scope } from './scope.ts';

/** Items at or below their low-stock threshold, by what is available over all or one location. */
export async function lowStock(q: Q, scope: Scope, f: { locationId?: string; limit: number }) {
  if (f.locationId) {
    const found = await q.query(`select 1 from locations where tenant_id = $1 and id = $2`, [scope.tenantId, f.locationId]);
    if (!found.rowCount) throw notFound('Location');
  }
  const { rows } = await q.query(
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
    [scope.tenantId, f.locationId ?? null, f.limit],
  );
  return { data: rows };
}

/** The longest span one summary covers, in days (a year, leap or not). */
export const MAX_SUMMARY_DAYS = 366;

/** Movements by UTC day and reason between two days (YYYY-MM-DD, both inclusive). */
export async function movementSummary(q: Q, scope: Scope, f: { from: string; to: string; itemId?: string; locationId?: string }) {
  const days = (Date.parse(f.to) - Date.parse(f.from)) / 86_400_000;
  if (days < 0 || days > MAX_SUMMARY_DAYS) {
    throw new AppError(400, 'validation_failed', `to must be on or after from, at most ${MAX_SUMMARY_DAYS} days later`, [
      { path: 'to', message: 'out of range' },
    ]);
  }
  const { rows } = await q.query(
    `select to_char(date_trunc('day', m.created_at at time zone 'UTC'), 'YYYY-MM-DD') as day, m.reason,
            count(*)::int as movements,
            coalesce(sum(m.qty_delta) filter (where m.qty_delta > 0), 0)::int as qty_in,
            coalesce(-sum(m.qty_delta) filter (where m.qty_delta < 0), 0)::int as qty_out,
            sum(m.qty_delta)::int as net
     from stock_movements m
     where m.tenant_id = $1 and m.created_at >= ($2::date at time zone 'UTC') and m.created_at < (($3::date + 1) at time zone 'UTC')
       and ($4::text is null or m.item_id = $4) and ($5::text is null or m.location_id = $5)
     group by 1, 2 order by 1, 2`,
    [scope.tenantId, f.from, f.to, f.itemId ?? null, f.locationId ?? null],
  );
  return { from: f.from, to: f.to, data: rows };
}

/** Stock on hand, reserved and available per location (every location, stocked or not). */
export async function stockOnHand(q: Q, scope: Scope) {
  const { rows } = await q.query(
    `select l.id as location_id, l.name as location_name,
            count(s.item_id) filter (where s.on_hand <> 0)::int as items_stocked,
            coalesce(sum(s.on_hand), 0)::int as on_hand, coalesce(sum(s.reserved), 0)::int as reserved,
            coalesce(sum(s.on_hand - s.reserved), 0)::int as available
     from locations l left join stock_levels s on s.tenant_id = l.tenant_id and s.location_id = l.id
     where l.tenant_id = $1 group by l.tenant_id, l.id order by l.name, l.id`,
    [scope.tenantId],
  );
  return { data: rows };
}
