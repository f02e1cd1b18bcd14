// Sync rules (src/services/sync-rules.ts, src/domain/sync-rules.ts): conditions -> actions on what
// channels are told, in priority order, and a dry run that says which rules applied to a listing and
// why. The same conventions as every resource: cursor pages, ETag / If-Match, structured errors.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { pushDryRun, PUSH_DRY_RUN_MAX } from '../../engine/push-dry-run.ts';
import * as syncRules from '../../services/sync-rules.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { decodeCursor, pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, idRef, objectBody, pathId, text } from './common.ts';

const TAG = 'sync-rules';
const qty = z.number().int().min(0).max(10_000_000);
const ids = (prefix: 'ch' | 'prd') => z.array(idRef(prefix)).max(100);

const Conditions = z
  .strictObject({
    channel_ids: ids('ch').optional().meta({ description: 'Any of these channels' }),
    categories: z.array(text(1, 300)).max(50).optional().meta({ description: 'Any of these product categories; "Clothing" also matches "Clothing > Shirts"' }),
    tags: z.array(text(1, 50)).max(50).optional().meta({ description: 'Any of these product tags (case-insensitive)' }),
    product_ids: ids('prd').optional().meta({ description: 'Any of these products (all their variants)' }),
    stock_below: qty.optional().meta({ description: "The channel's sellable before rules is below this" }),
    stock_at_least: qty.optional().meta({ description: "The channel's sellable before rules is at least this" }),
  })
  .meta({ description: 'Every condition set must hold; empty: every listing' });

const Action = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('cap'), value: qty.meta({ description: 'Tell the channel at most this many' }) }),
    z.strictObject({ type: z.literal('keep_back'), value: qty.meta({ description: 'Hold this many back from the channel' }) }),
    z.strictObject({ type: z.literal('percent'), value: z.number().min(0).max(100).meta({ description: 'Offer this share (rounded down)' }) }),
    z.strictObject({ type: z.literal('hide_below'), value: qty.meta({ description: 'Tell the channel 0 when fewer than this remain' }) }),
    z.strictObject({
      type: z.literal('price_adjust'),
      value: z.number().int().min(-100_000_000).max(100_000_000),
      unit: z.enum(['percent', 'minor']).meta({ description: 'percent: +10 = 10% more; minor: a delta in minor units' }),
    }),
  ])
  .meta({ description: 'Quantity actions apply in the order keep_back, percent, hide_below, cap; per type the first matching rule wins' });

const Fields = {
  name: text(1, 200),
  priority: z.number().int().min(0).max(1_000_000).optional().meta({ description: 'Lower runs first (default 100)' }),
  enabled: z.boolean().optional(),
  conditions: Conditions.optional(),
  action: Action,
};
const Create = z.strictObject(Fields);
const Patch = z
  .strictObject({ ...Fields, name: Fields.name.optional(), action: Action.optional() })
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');
const ListQuery = z.strictObject({ ...pageQuery });
const Params = idParam('srl');
const DryRunBody = z
  .strictObject({ channel_id: idRef('ch'), item_id: idRef('item').optional(), sku: text(1, 100).optional() })
  .refine((b) => (b.item_id === undefined) !== (b.sku === undefined), { message: 'Send item_id or sku (one of them)', path: ['item_id'] });

const ConditionsOut = z.strictObject({
  channel_ids: z.array(z.string()).optional(),
  categories: z.array(z.string()).optional(),
  tags: z.array(z.string()).optional(),
  product_ids: z.array(z.string()).optional(),
  stock_below: z.number().int().optional(),
  stock_at_least: z.number().int().optional(),
});
const ActionOut = z.strictObject({
  type: z.enum(['cap', 'keep_back', 'percent', 'hide_below', 'price_adjust']),
  value: z.number(),
  unit: z.enum(['percent', 'minor']).optional(),
});
const SyncRule = named(
  z.strictObject({
    id: z.string(),
    name: z.string(),
    priority: z.number().int(),
    enabled: z.boolean(),
    conditions: ConditionsOut,
    action: ActionOut,
    version: z.number().int(),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'SyncRule',
);
const DryRun = named(
  z.strictObject({
    channel_id: z.string(),
    channel_name: z.string(),
    item_id: z.string(),
    sku: z.string(),
    listing_id: z.string().nullable().meta({ description: 'null: the item is not listed on the channel (yet)' }),
    last_pushed_qty: z.number().int().nullable(),
    product: z.strictObject({ id: z.string().nullable(), category: z.string().nullable(), tags: z.array(z.string()) }),
    master_qty: z.number().int().meta({ description: "The channel's sellable before rules (its buffer, percent and cap)" }),
    qty: z.number().int().meta({ description: 'What the channel is told after the rules' }),
    price_minor: z.number().nullable().meta({ description: "The catalog's price for the channel (its override applied)" }),
    price_after_minor: z.number().nullable(),
    applied: z.array(z.string()).meta({ description: 'Ids of the rules that applied, in the order they took effect' }),
    rules: z.array(
      z.strictObject({
        rule_id: z.string(),
        name: z.string(),
        priority: z.number().int(),
        action: ActionOut,
        status: z.enum(['applied', 'skipped', 'not_matched', 'disabled']),
        reason: z.string(),
        qty_before: z.number().int().optional(),
        qty_after: z.number().int().optional(),
      }),
    ),
  }),
  'SyncRuleDryRun',
);

const PushDryRunBody = z
  .strictObject({
    item_ids: z.array(idRef('item')).min(1).max(PUSH_DRY_RUN_MAX).optional(),
    skus: z.array(text(1, 100)).min(1).max(PUSH_DRY_RUN_MAX).optional(),
  })
  .refine((b) => b.item_ids !== undefined || b.skus !== undefined, { message: 'Send item_ids or skus', path: ['item_ids'] });
const PushDryRun = named(
  z.strictObject({
    dry_run: z.literal(true),
    channel_id: z.string(),
    listings: z.array(
      z.strictObject({
        listing_id: z.string(),
        item_id: z.string(),
        sku: z.string(),
        qty: z.number().int().meta({ description: 'What the push would set (the rules applied)' }),
        last_seen_qty: z.number().int().nullable(),
        applied: z.array(z.string()),
      }),
    ),
    requests: z.array(z.strictObject({ method: z.string(), url: z.string(), body: z.unknown() })).meta({
      description: "The writes the channel's adapter would send, exactly: held, not sent",
    }),
    reads: z.number().int().meta({ description: 'Reads the adapter made first (they change nothing)' }),
    api_calls: z.number().int(),
    per_second: z.number(),
    burst: z.number(),
    error: z.string().nullable().meta({ description: 'The adapter stopped before writing (a read refused): why' }),
  }),
  'PushDryRun',
);

/** The list's cursor: "priority:id" of the last rule, opaque to clients. */
function ruleCursor(cursor: string | undefined): string | null {
  const key = decodeCursor<string>(cursor, 'string');
  if (key !== null && !/^\d{7}:srl_[0-9a-f]{32}$/.test(key)) {
    throw new ApiError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
  }
  return key;
}

export async function syncRuleRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/sync-rules',
    doc({ summary: 'List sync rules in priority order', tag: TAG, query: ListQuery, responses: { 200: pageOf(SyncRule) } }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return syncRules.list(ctx.db, scopeOf(req), { after: ruleCursor(q.cursor), limit: q.limit });
    },
  );

  app.post(
    '/sync-rules',
    doc({
      summary: 'Create a sync rule',
      description: 'The channels it can touch are pushed again with the rule applied.',
      tag: TAG,
      body: Create,
      etag: true,
      responses: { 201: SyncRule },
    }),
    async (req, reply) => {
      const b = parse(Create, req.body);
      const created = await write(
        ctx,
        req,
        201,
        (tx, scope) => syncRules.create(tx, scope, b),
        (out) => ({ etag: versionTag(out.version) }),
      );
      return reply.code(201).header('etag', versionTag(created.version)).send(created);
    },
  );

  app.post(
    '/sync-rules/dry-run',
    doc({
      summary: "Which rules apply to a listing and why: the channel's quantity (and price) before and after the rules",
      tag: TAG,
      scope: 'read',
      body: DryRunBody,
      responses: { 200: DryRun },
    }),
    async (req) => {
      const b = parse(DryRunBody, req.body);
      return syncRules.dryRun(ctx.db, scopeOf(req), b);
    },
  );

  app.post(
    '/channels/:id/push-dry-run',
    doc({
      summary: 'The exact requests a stock push of these items would send the channel, without sending them',
      description:
        "Runs the channel's own adapter with its writes held: the answer lists each write (method, URL, body) and the reads it made first (reads go out; they change nothing and count against the budget). At most 50 listings.",
      tag: TAG,
      scope: 'read',
      params: z.object({ id: idRef('ch') }),
      body: PushDryRunBody,
      responses: { 200: PushDryRun, 409: ErrorBody, 429: ErrorBody },
    }),
    async (req) => {
      const id = pathId(req.params, 'ch', 'Channel');
      const b = parse(PushDryRunBody, req.body);
      return pushDryRun(ctx, scopeOf(req), id, b);
    },
  );

  app.get('/sync-rules/:id', doc({ summary: 'Read a sync rule', tag: TAG, params: Params, etag: true, responses: { 200: SyncRule } }), async (req, reply) => {
    const rule = await syncRules.get(ctx.db, scopeOf(req), pathId(req.params, 'srl', 'Sync rule'));
    return reply.header('etag', versionTag(rule.version)).send(rule);
  });

  app.patch(
    '/sync-rules/:id',
    doc({ summary: 'Change a sync rule', tag: TAG, params: Params, body: Patch, ifMatch: true, etag: true, responses: { 200: SyncRule } }),
    async (req, reply) => {
      const id = pathId(req.params, 'srl', 'Sync rule');
      const b = parse(Patch, objectBody(req.body));
      const rule = await write(ctx, req, 200, (tx, scope) => syncRules.update(tx, scope, id, b, (v) => checkIfMatch(req, v)));
      return reply.header('etag', versionTag(rule.version)).send(rule);
    },
  );

  app.delete(
    '/sync-rules/:id',
    doc({ summary: 'Delete a sync rule', tag: TAG, params: Params, ifMatch: true, responses: { 204: null, 409: ErrorBody } }),
    async (req, reply) => {
      const id = pathId(req.params, 'srl', 'Sync rule');
      await write(ctx, req, 204, (tx, scope) => syncRules.remove(tx, scope, id, (v) => checkIfMatch(req, v)));
      return reply.code(204).send();
    },
  );
}
