// Read models the dashboard needs beyond the resource routes: channel health and 24 h activity
// for the Overview, the Items grid (levels, listings and sellable per item, sorted on the server),
// and onboarding's "create items from unmatched listings" (src/services/dashboard.ts).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { activity, createItemsFromListings, itemRows, ITEM_ROW_SORTS, overview } from '../../services/dashboard.ts';
import { ApiError, parse } from '../errors.ts';
import { doc } from '../openapi.ts';
import { decodeCursor } from '../paging.ts';
import { replicaRead } from '../replica-read.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idRef, text } from './common.ts';

const RowsQuery = z.strictObject({
  q: text(0, 100).optional(),
  sort: z.enum(ITEM_ROW_SORTS).default('sku'),
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

export async function dashboardRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/overview',
    doc({ summary: "Channel health and counts for the dashboard's Overview", tag: TAG, replica: true, responses: { 200: Overview } }),
    async (req, reply) => {
      return replicaRead(ctx, req, reply, (q) => overview(q, scopeOf(req)));
    },
  );

  app.get(
    '/overview/activity',
    doc({ summary: 'Sales and syncs per hour', tag: TAG, replica: true, query: ActivityQuery, responses: { 200: Activity } }),
    async (req, reply) => {
      const q = parse(ActivityQuery, req.query);
      return replicaRead(ctx, req, reply, (db) => activity(db, scopeOf(req), q.hours));
    },
  );

  // Offset paging behind an opaque cursor: the grid sorts on computed columns (on hand), which
  // have no unique key to seek from.
  app.get(
    '/item-rows',
    doc({
      summary: "The dashboard's Items grid: levels, listings and sellable per item, searched and sorted on the server",
      tag: TAG,
      replica: true,
      query: RowsQuery,
      responses: { 200: ItemRows },
    }),
    async (req, reply) => {
      const q = parse(RowsQuery, req.query);
      const offset = decodeCursor<number>(q.cursor, 'number') ?? 0;
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new ApiError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
      return replicaRead(ctx, req, reply, (db) => itemRows(db, scopeOf(req), { search: q.q, sort: q.sort, dir: q.dir, offset, limit: q.limit }));
    },
  );

  // Onboarding: listings no item matches become items (SKU and name from the channel), mapped to
  // their listing; optionally the channel's quantity becomes opening stock, one ledger batch.
  app.post(
    '/listings/create-items',
    doc({ summary: "Create items from a channel's unmatched listings (onboarding)", tag: TAG, body: CreateItems, responses: { 200: CreatedItems } }),
    async (req) => {
      const b = parse(CreateItems, req.body);
      return write(ctx, req, 200, (tx, scope) =>
        createItemsFromListings(tx, scope, { channelId: b.channel_id, listingIds: b.listing_ids, openingStockLocationId: b.opening_stock_location_id }),
      );
    },
  );
}
