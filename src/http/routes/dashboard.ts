// Read models the dashboard needs beyond the resource routes: channel health and 24 h activity
// for the Overview, the Items grid (levels, listings and sellable per item, sorted on the server),
// and onboarding's "create items from unmatched listings". Every query is scoped by tenant.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ChannelType } from '../../channels/registry.ts';
import { channelModule, channelPolicyOf } from '../../channels/registry.ts';
import { containsPattern, itemMatches } from '../../db/item-search.ts';
import { createItems } from '../../db/tenants.ts';
import { withTx } from '../../db/pool.ts';
import { sellable } from '../../domain/sellable.ts';
import type { AppContext } from '../../engine/context.ts';
import { applyMovements } from '../../ledger/ledger.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc } from '../openapi.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { decodeCursor, encodeCursor } from '../paging.ts';
import { idRef, text } from './common.ts';

const SORTS = { sku: 'i.sku', name: 'i.name', on_hand: 'on_hand', available: 'available', updated_at: 'i.updated_at' } as const;

const RowsQuery = z.strictObject({
  q: text(0, 100).optional(),
  sort: z.enum(Object.keys(SORTS) as [keyof typeof SORTS]).default('sku'),
  dir: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.string().max(200).optional(),
});
const ActivityQuery = z.strictObject({ hours: z.coerce.number().int().min(1).max(168).default(24) });
const CreateItems = z.strictObject({
  channel_id: idRef('ch'),
  /** Which unmatched listings to turn into items (default: all of the channel's). */
  listing_ids: z.array(idRef('lst')).max(5000).optional(),
  /** Record the channel's current quantity as opening stock at this location. */
  opening_stock_location_id: idRef('loc').nullable().optional(),
});

const TAG = 'dashboard';
const int = z.number().int();
const ts = z.iso.datetime({ offset: true });
const Overview = z.strictObject({
  channels: z.array(
    z.strictObject({
      id: z.string(),
      type: z.string(),
      name: z.string(),
      status: z.string(),
      last_sync_at: ts.nullable(),
      last_error: z.string().nullable(),
      errors_last_hour: int,
      calls_last_hour: int,
      listings: int,
      listings_attention: int,
      api_quota: z
        .strictObject({ calls_last_hour: int, budget_per_hour: z.number(), used: z.number() })
        .nullable()
        .meta({ description: 'An estimate: sync events of the last hour times the calls one costs, against the documented budget' }),
    }),
  ),
  open_alerts: int,
  items: int,
});
const Activity = z.strictObject({ data: z.array(z.strictObject({ hour: ts, sales: int, syncs: int })) });
const ItemRows = z.strictObject({
  data: z.array(
    z.strictObject({
      id: z.string(),
      sku: z.string(),
      name: z.string(),
      barcode: z.string().nullable(),
      low_stock_threshold: int,
      buffer: int.nullable(),
      updated_at: ts,
      on_hand: int,
      reserved: int,
      available: int,
      levels: z.array(z.strictObject({ location_id: z.string(), on_hand: int, reserved: int })),
      listings: z.array(
        z.strictObject({
          id: z.string(),
          channel_id: z.string(),
          state: z.string(),
          last_pushed_qty: int.nullable(),
          last_seen_qty: int.nullable(),
          last_synced_at: z.string().nullable(),
          push_pending: z.boolean(),
          sellable: int.optional(),
        }),
      ),
    }),
  ),
  channels: z.array(z.strictObject({ id: z.string(), type: z.string(), name: z.string(), status: z.string(), quantity_model: z.string() })),
  total: int,
  next_cursor: z.string().nullable(),
});
const CreatedItems = z.strictObject({ created: int, mapped: int, opening_stock_movements: int, unmatched: int });

interface ChannelRow {
  id: string;
  type: string;
  name: string;
  status: string;
  settings: Record<string, unknown>;
}

export async function dashboardRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/overview', doc({ summary: "Channel health and counts for the dashboard's Overview", tag: TAG, responses: { 200: Overview } }), async (req) => {
    const tenantId = req.auth.tenantId;
    const { rows } = await ctx.db.query(
      `select c.id, c.type, c.name, c.status, c.last_sync_at, c.last_error,
              (select count(*) from sync_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id
                 and e.created_at > now() - interval '1 hour' and e.outcome in ('failed', 'error'))::int as errors_last_hour,
              (select count(*) from sync_events e where e.tenant_id = c.tenant_id and e.channel_id = c.id
                 and e.created_at > now() - interval '1 hour' and e.kind in ('push', 'pull', 'guardian', 'repair'))::int as calls_last_hour,
              (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id)::int as listings,
              (select count(*) from listings l where l.tenant_id = c.tenant_id and l.channel_id = c.id and l.state in ('failed', 'drift'))::int as listings_attention
       from channels c where c.tenant_id = $1 order by c.name, c.id`,
      [tenantId],
    );
    const channels = rows.map((r) => {
      const mod = channelModule(r.type as string);
      // Quota: calls that reached the platform in the last hour (sync events times the calls one
      // usually costs) against the documented hourly budget. An estimate, labelled so in the UI.
      const perHour = mod ? mod.capabilities.rateLimit.perSecond * 3600 : null;
      const calls = r.calls_last_hour * (mod?.capabilities.callsPerPush ?? 1);
      return { ...r, api_quota: perHour ? { calls_last_hour: calls, budget_per_hour: perHour, used: Math.min(1, calls / perHour) } : null };
    });
    const counts = await ctx.db.query<{ open_alerts: number; items: number }>(
      `select (select count(*) from alerts where tenant_id = $1 and status = 'open')::int as open_alerts,
              (select count(*) from items where tenant_id = $1)::int as items`,
      [tenantId],
    );
    return { channels, ...counts.rows[0] };
  });

  app.get(
    '/overview/activity',
    doc({ summary: 'Sales and syncs per hour', tag: TAG, query: ActivityQuery, responses: { 200: Activity } }),
    async (req) => {
    const q = parse(ActivityQuery, req.query);
    const { rows } = await ctx.db.query(
      `with hours as (
         select generate_series(date_trunc('hour', now()) - make_interval(hours => $2 - 1), date_trunc('hour', now()), interval '1 hour') as hour
       )
       select h.hour,
              coalesce((select -sum(m.qty_delta) from stock_movements m where m.tenant_id = $1 and m.reason = 'sale'
                          and m.created_at >= h.hour and m.created_at < h.hour + interval '1 hour'), 0)::int as sales,
              (select count(*) from sync_events e where e.tenant_id = $1 and e.kind = 'push'
                 and e.created_at >= h.hour and e.created_at < h.hour + interval '1 hour')::int as syncs
       from hours h order by h.hour`,
      [req.auth.tenantId, q.hours],
    );
    return { data: rows };
  });

  // Offset paging behind an opaque cursor: the grid sorts on computed columns (on hand), which
  // have no unique key to seek from.
  app.get(
    '/item-rows',
    doc({ summary: "The dashboard's Items grid: levels, listings and sellable per item, searched and sorted on the server", tag: TAG, query: RowsQuery, responses: { 200: ItemRows } }),
    async (req) => {
    const q = parse(RowsQuery, req.query);
    const tenantId = req.auth.tenantId;
    const offset = decodeCursor<number>(q.cursor, 'number') ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new ApiError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
    const like = containsPattern(q.q);
    const order = `${SORTS[q.sort]} ${q.dir}${q.sort === 'sku' ? '' : `, i.sku ${q.dir}`}`;
    const [rowsRes, channelsRes, total] = await Promise.all([
      ctx.db.query(
        `select i.id, i.sku, i.name, i.barcode, i.low_stock_threshold, i.buffer, i.updated_at,
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
        [tenantId, like, offset, q.limit + 1],
      ),
      ctx.db.query<ChannelRow>(`select id, type, name, status, settings from channels where tenant_id = $1 order by name, id`, [tenantId]),
      ctx.db.query<{ n: number }>(
        `select count(*)::int as n from items i where i.tenant_id = $1 and ${itemMatches('i', '$2')}`,
        [tenantId, like],
      ),
    ]);
    const policies = new Map(channelsRes.rows.map((c) => [c.id, channelPolicyOf(c.type, c.settings)]));
    const data = rowsRes.rows.slice(0, q.limit).map((r) => ({
      ...r,
      listings: (r.listings as Array<Record<string, unknown> & { channel_id: string }>).map((l) => {
        const p = policies.get(l.channel_id);
        if (!p) return l;
        const levels = r.levels as Array<{ location_id: string; on_hand: number; reserved: number }>;
        const available = levels
          .filter((lv) => p.locationIds.length === 0 || p.locationIds.includes(lv.location_id))
          .reduce((sum, lv) => sum + lv.on_hand - lv.reserved, 0);
        return { ...l, sellable: sellable({ available, buffer: (r.buffer as number | null) ?? p.defaultBuffer, percent: p.percent, cap: p.cap }) };
      }),
    }));
    return {
      data,
      channels: channelsRes.rows.map((c) => ({
        id: c.id,
        type: c.type as ChannelType,
        name: c.name,
        status: c.status,
        quantity_model: channelModule(c.type)?.capabilities.quantityModel ?? 'absolute',
      })),
      total: total.rows[0]!.n,
      next_cursor: rowsRes.rows.length > q.limit ? encodeCursor(offset + q.limit) : null,
    };
  });

  // Onboarding: listings no item matches become items (SKU and name from the channel), mapped to
  // their listing; optionally the channel's quantity becomes opening stock, one ledger batch.
  app.post(
    '/listings/create-items',
    doc({ summary: "Create items from a channel's unmatched listings (onboarding)", tag: TAG, body: CreateItems, responses: { 200: CreatedItems } }),
    async (req) => {
    const b = parse(CreateItems, req.body);
    const tenantId = req.auth.tenantId;
    return withTx(ctx.db, async (tx) => {
      const ch = await tx.query(`select 1 from channels where tenant_id = $1 and id = $2`, [tenantId, b.channel_id]);
      if (!ch.rowCount) throw notFound('Channel');
      if (b.opening_stock_location_id) {
        const loc = await tx.query(`select 1 from locations where tenant_id = $1 and id = $2`, [tenantId, b.opening_stock_location_id]);
        if (!loc.rowCount) throw notFound('Location');
      }
      const { rows } = await tx.query<{ id: string; sku: string; name: string | null; qty: number | null }>(
        `select l.id, coalesce(nullif(l.external_sku, ''), l.external_id) as sku, l.name, l.last_seen_qty as qty
         from listings l
         where l.tenant_id = $1 and l.channel_id = $2 and l.item_id is null and ($3::text[] is null or l.id = any($3))
           and not exists (select 1 from items i where i.tenant_id = l.tenant_id and i.sku = coalesce(nullif(l.external_sku, ''), l.external_id))
         order by l.id for update of l`,
        [tenantId, b.channel_id, b.listing_ids ?? null],
      );
      // One item per SKU even when a channel lists it twice (several platform locations).
      const bySku = new Map<string, typeof rows>();
      for (const r of rows) bySku.set(r.sku, [...(bySku.get(r.sku) ?? []), r]);
      const skus = [...bySku.keys()];
      const ids = skus.length
        ? await createItems(tx, tenantId, skus.map((sku) => ({ sku: sku.slice(0, 100), name: (bySku.get(sku)![0]!.name ?? sku).slice(0, 300) })))
        : [];
      const itemBySku = new Map(skus.map((s, i) => [s, ids[i]!]));
      await tx.query(
        `update listings l set item_id = x.item_id, state = 'in_sync', last_pushed_qty = l.last_seen_qty, last_error = null
         from jsonb_to_recordset($2::jsonb) as x(id text, item_id text) where l.tenant_id = $1 and l.id = x.id`,
        [tenantId, JSON.stringify(rows.map((r) => ({ id: r.id, item_id: itemBySku.get(r.sku) })))],
      );
      let stocked = 0;
      if (b.opening_stock_location_id) {
        const moves = skus
          .map((sku) => ({ itemId: itemBySku.get(sku)!, qty: bySku.get(sku)![0]!.qty ?? 0 }))
          .filter((m) => m.qty > 0)
          .map((m) => ({ itemId: m.itemId, locationId: b.opening_stock_location_id!, qtyDelta: m.qty, reason: 'receipt' as const, sourceUserId: req.auth.actorId, note: 'opening stock from channel import' }));
        if (moves.length) stocked = (await applyMovements(tx, tenantId, moves)).movements;
      }
      const left = await tx.query<{ n: number }>(`select count(*)::int as n from listings where tenant_id = $1 and channel_id = $2 and item_id is null`, [
        tenantId,
        b.channel_id,
      ]);
      const out = { created: ids.length, mapped: rows.length, opening_stock_movements: stocked, unmatched: left.rows[0]!.n };
      await finishInTx(tx, req, 200, out);
      return out;
    });
  });
}
