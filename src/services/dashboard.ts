// Read models the dashboard needs beyond the resource services: channel health and 24 h activity
// for the Overview, the Items grid (levels, listings and sellable per item, searched and sorted in
// SQL), and onboarding's "create items from unmatched listings". Every query is scoped by tenant.
import { channelModule, channelPolicyOf } from '../channels/registry.ts';
import { containsPattern, itemMatches } from '../db/item-search.ts';
import type { Tx } from '../db/pool.ts';
import { createItems } from '../db/tenants.ts';
import { notFound } from '../domain/errors.ts';
import { channelTarget } from '../domain/sync-rules.ts';
import { applyMovements } from '../ledger/ledger.ts';
import { encodeCursor } from './paging.ts';
import { loadRules } from './sync-rules.ts';
import type { Q, Scope } from './scope.ts';

/** Channel health (errors, calls and listings needing attention in the last hour) and counts. */
export async function overview(q: Q, scope: Scope) {
  const { rows } = await q.query(
    `select c.id, c.type, c.name, c.status, c.last_sync_at, c.last_error,
            (select count(*) from sync_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id
               and e.created_at > now() - interval '1 hour' and e.outcome in ('failed', 'error'))::int as errors_last_hour,
            (select count(*) from sync_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id
               and e.created_at > now() - interval '1 hour' and e.kind in ('push', 'pull', 'guardian', 'repair'))::int as calls_last_hour,
            (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id)::int as listings,
            (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id and l.state in ('failed', 'drift'))::int as listings_attention
     from channels c where c.tenant_id = $1 order by c.name, c.id`,
    [scope.tenantId],
  );
  const channels = rows.map((r) => {
    const mod = channelModule(r.type as string);
    // Quota: calls that reached the platform in the last hour (sync events times the calls one
    // usually costs) against the documented hourly budget. An estimate, labelled so in the UI.
    const perHour = mod ? mod.capabilities.rateLimit.perSecond * 3600 : null;
    const calls = r.calls_last_hour * (mod?.capabilities.callsPerPush ?? 1);
    return { ...r, api_quota: perHour ? { calls_last_hour: calls, budget_per_hour: perHour, used: Math.min(1, calls / perHour) } : null };
  });
  const counts = await q.query<{ open_alerts: number; items: number }>(
    `select (select count(*) from alerts where tenant_id = $1 and status = 'open')::int as open_alerts,
            (select count(*) from items where tenant_id = $1)::int as items`,
    [scope.tenantId],
  );
  return { channels, ...counts.rows[0]! };
}

/** Units sold and pushes made per hour over the last `hours` hours, oldest first. */
export async function activity(q: Q, scope: Scope, hours: number) {
  const { rows } = await q.query(
    `with hours as (
       select generate_series(date_trunc('hour', now()) - make_interval(hours => $2 - 1), date_trunc('hour', now()), interval '1 hour') as hour
     )
     select h.hour,
            coalesce((select -sum(m.qty_delta) from stock_movements m where m.tenant_id = $1 and m.reason = 'sale'
                        and m.created_at >= h.hour and m.created_at < h.hour + interval '1 hour'), 0)::int as sales,
            (select count(*) from sync_events e where e.tenant_id = $1 and e.kind = 'push'
               and e.created_at >= h.hour and e.created_at < h.hour + interval '1 hour')::int as syncs
     from hours h order by h.hour`,
    [scope.tenantId, hours],
  );
  return { data: rows };
}

const SORTS = { sku: 'i.sku', name: 'i.name', on_hand: 'on_hand', available: 'available', updated_at: 'i.updated_at' } as const;
export type ItemRowSort = keyof typeof SORTS;
export const ITEM_ROW_SORTS = Object.keys(SORTS) as [ItemRowSort, ...ItemRowSort[]];

interface ChannelRow {
  id: string;
  type: string;
  name: string;
  status: string;
  settings: Record<string, unknown>;
}

/**
 * The Items grid: one page of items matching `search`, sorted, each with its levels and its
 * listings (and the sellable each listing's channel would be told). Offset paging behind an opaque
 * cursor: the grid sorts on computed columns (on hand), which have no unique key to seek from.
 */
export async function itemRows(q: Q, scope: Scope, f: { search?: string; sort: ItemRowSort; dir: 'asc' | 'desc'; offset: number; limit: number }) {
  const like = containsPattern(f.search);
  const order = `${SORTS[f.sort]} ${f.dir}${f.sort === 'sku' ? '' : `, i.sku ${f.dir}`}`;
  const [rowsRes, channelsRes, total, rules] = await Promise.all([
    q.query(
      `select i.id, i.sku, i.name, i.barcode, i.low_stock_threshold, i.buffer, i.updated_at, i.product_id,
              (select json_build_object('category', p.category, 'tags', p.tags) from products p
                where p.tenant_id = i.tenant_id and p.id = i.product_id) as product,
              coalesce(s.on_hand, 0)::int as on_hand, coalesce(s.reserved, 0)::int as reserved,
              coalesce(s.on_hand - s.reserved, 0)::int as available, coalesce(s.levels, '[]') as levels,
              coalesce((select json_agg(json_build_object('id', l.id, 'channel_id', l.channel_id, 'state', l.state,
                          'last_pushed_qty', l.last_pushed_qty, 'last_seen_qty', l.last_seen_qty, 'last_synced_at', l.last_synced_at,
                          'push_pending', l.dirty_seq > l.pushed_seq) order by l.channel_id)
                        from listings l where l.tenant_id = i.tenant_id and l.item_id = i.id), '[]') as listings
       from items i
       left join lateral (
         select sum(x.on_hand) as on_hand, sum(x.reserved) as reserved,
                json_agg(json_build_object('location_id', x.location_id, 'on_hand', x.on_hand, 'reserved', x.reserved) order by x.location_id) as levels
         from stock_levels x where x.tenant_id = i.tenant_id and x.item_id = i.id
       ) s on true
       where i.tenant_id = $1 and ${itemMatches('i', '$2')}
       order by ${order} offset $3 limit $4`,
      [scope.tenantId, like, f.offset, f.limit + 1],
    ),
    q.query<ChannelRow>(`select id, type, name, status, settings from channels where tenant_id = $1 order by name, id`, [scope.tenantId]),
    q.query<{ n: number }>(`select count(*)::int as n from items i where i.tenant_id = $1 and ${itemMatches('i', '$2')}`, [scope.tenantId, like]),
    loadRules(q, scope.tenantId),
  ]);
  const policies = new Map(channelsRes.rows.map((c) => [c.id, channelPolicyOf(c.type, c.settings)]));
  const data = rowsRes.rows.slice(0, f.limit).map(({ product, product_id, ...r }) => ({
    ...r,
    listings: (r.listings as Array<Record<string, unknown> & { channel_id: string }>).map((l) => {
      const p = policies.get(l.channel_id);
      if (!p) return l;
      const levels = r.levels as Array<{ location_id: string; on_hand: number; reserved: number }>;
      const available = levels
        .filter((lv) => p.locationIds.length === 0 || p.locationIds.includes(lv.location_id))
        .reduce((sum, lv) => sum + lv.on_hand - lv.reserved, 0);
      // What Sync tells the channel: its sellable, then the sync rules (src/domain/sync-rules.ts).
      const facts = (product as { category: string | null; tags: string[] | null } | null) ?? { category: null, tags: [] };
      const target = channelTarget(p, { available, item_buffer: r.buffer as number | null, components: [] }, rules.rules, {
        channel_id: l.channel_id,
        product_id: product_id as string | null,
        category: facts.category,
        tags: facts.tags ?? [],
      });
      return { ...l, sellable: target.qty };
    }),
  }));
  return {
    data,
    channels: channelsRes.rows.map((c) => ({
      id: c.id,
      type: c.type,
      name: c.name,
      status: c.status,
      quantity_model: channelModule(c.type)?.capabilities.quantityModel ?? 'absolute',
    })),
    total: total.rows[0]!.n,
    next_cursor: rowsRes.rows.length > f.limit ? encodeCursor(f.offset + f.limit) : null,
  };
}

export interface CreateItemsFromListings {
  channelId: string;
  /** Which unmatched listings to turn into items (default: all of the channel's). */
  listingIds?: string[];
  /** Record the channel's current quantity as opening stock at this location. */
  openingStockLocationId?: string | null;
}

/**
 * Onboarding: listings no item matches become items (SKU and name from the channel), mapped to
 * their listing; optionally the channel's quantity becomes opening stock, one ledger batch.
 */
export async function createItemsFromListings(tx: Tx, scope: Scope, input: CreateItemsFromListings) {
  const tenantId = scope.tenantId;
  const ch = await tx.query(`select 1 from channels where tenant_id = $1 and id = $2`, [tenantId, input.channelId]);
  if (!ch.rowCount) throw notFound('Channel');
  const locationId = input.openingStockLocationId;
  if (locationId) {
    const loc = await tx.query(`select 1 from locations where tenant_id = $1 and id = $2`, [tenantId, locationId]);
    if (!loc.rowCount) throw notFound('Location');
  }
  const { rows } = await tx.query<{ id: string; sku: string; name: string | null; qty: number | null }>(
    `select l.id, coalesce(nullif(l.external_sku, ''), l.external_id) as sku, l.name, l.last_seen_qty as qty
     from listings l
     where l.tenant_id = $1 and l.channel_id = $2 and l.item_id is null and ($3::text[] is null or l.id = any($3))
       and not exists (select 1 from items i where i.tenant_id = l.tenant_id and i.sku = coalesce(nullif(l.external_sku, ''), l.external_id))
     order by l.id for update of l`,
    [tenantId, input.channelId, input.listingIds ?? null],
  );
  // One item per SKU even when a channel lists it twice (several platform locations).
  const bySku = new Map<string, typeof rows>();
  for (const r of rows) bySku.set(r.sku, [...(bySku.get(r.sku) ?? []), r]);
  const skus = [...bySku.keys()];
  const ids = skus.length
    ? await createItems(
        tx,
        tenantId,
        skus.map((sku) => ({ sku: sku.slice(0, 100), name: (bySku.get(sku)![0]!.name ?? sku).slice(0, 300) })),
      )
    : [];
  const itemBySku = new Map(skus.map((s, i) => [s, ids[i]!]));
  await tx.query(
    `update listings l set item_id = x.item_id, state = 'in_sync', last_pushed_qty = l.last_seen_qty, last_error = null
     from jsonb_to_recordset($2::jsonb) as x(id text, item_id text) where l.tenant_id = $1 and l.id = x.id`,
    [tenantId, JSON.stringify(rows.map((r) => ({ id: r.id, item_id: itemBySku.get(r.sku) })))],
  );
  let stocked = 0;
  if (locationId) {
    const moves = skus
      .map((sku) => ({ itemId: itemBySku.get(sku)!, qty: bySku.get(sku)![0]!.qty ?? 0 }))
      .filter((m) => m.qty > 0)
      .map((m) => ({
        itemId: m.itemId,
        locationId,
        qtyDelta: m.qty,
        reason: 'receipt' as const,
        sourceUserId: scope.actor.id,
        note: 'opening stock from channel import',
      }));
    if (moves.length) stocked = (await applyMovements(tx, tenantId, moves)).movements;
  }
  const left = await tx.query<{ n: number }>(`select count(*)::int as n from listings where tenant_id = $1 and channel_id = $2 and item_id is null`, [
    tenantId,
    input.channelId,
  ]);
  return { created: ids.length, mapped: rows.length, opening_stock_movements: stocked, unmatched: left.rows[0]!.n };
}
