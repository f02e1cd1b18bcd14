// Items: list (search by SKU / name / barcode, cursor paging), create, read (with levels and
// listings), update, delete (only while the item has no ledger history).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { containsPattern, itemMatches } from '../../db/item-search.ts';
import { createItems } from '../../db/tenants.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { ErrorBody } from '../openapi.ts';
import { decodeCursor, page, pageQuery } from '../paging.ts';
import { pushJob } from '../../db/job-specs.ts';
import { checkStockAlerts } from '../../services/alerts.ts';
import { addJobs, type JobSpec } from '../../db/jobs.ts';
import { withTx, type Tx } from '../../db/pool.ts';
import { audit } from '../audit.ts';
import { doc, pageOf } from '../openapi.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { Item, ItemDetail } from '../schemas.ts';
import { idParam, idRef, pathId, text } from './common.ts';
import { kitSellable, sellable } from '../../domain/sellable.ts';

const ItemBody = z.object({
  sku: text(1, 100),
  name: text(1, 300),
  barcode: text(0, 100).nullable().optional(),
  low_stock_threshold: z.number().int().min(0).max(1_000_000).optional(),
  buffer: z.number().int().min(0).max(1_000_000).nullable().optional(),
  components: z
    .array(z.strictObject({ item_id: idRef('item'), qty: z.number().int().min(1).max(10_000) }))
    .max(50)
    .refine((c) => new Set(c.map((x) => x.item_id)).size === c.length, 'one entry per component')
    .optional()
    .meta({ description: 'Makes the item a kit of these components (qty per kit); [] makes it a plain item again' }),
});
const ItemPatch = ItemBody.partial().refine((b) => Object.keys(b).length > 0, 'Send at least one field');
const ListQuery = z.strictObject({ ...pageQuery, q: text(0, 100).optional().meta({ description: 'Search SKU, name or barcode' }) });
const Params = idParam('item');
const TAG = 'items';

type Q = Pick<Tx, 'query'>;

const COLUMNS = `i.id, i.sku, i.name, i.barcode, i.low_stock_threshold, i.buffer, i.version, i.created_at, i.updated_at,
  coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as on_hand,
  coalesce((select sum(s.reserved) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as reserved`;

export async function itemRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/items', doc({ summary: 'List items', tag: TAG, query: ListQuery, responses: { 200: pageOf(Item) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const after = decodeCursor<string>(q.cursor, 'string');
    const like = containsPattern(q.q);
    const { rows } = await ctx.db.query(
      `select ${COLUMNS} from items i
       where i.tenant_id = $1 and ($2::text is null or i.id > $2)
         and ${itemMatches('i', '$3')}
       order by i.id limit $4`,
      [req.auth.tenantId, after, like, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.post('/items', doc({ summary: 'Create an item', tag: TAG, body: ItemBody, etag: true, responses: { 201: ItemDetail } }), async (req, reply) => {
    const b = parse(ItemBody, req.body);
    const item = await withTx(ctx.db, async (tx) => {
      const [id] = await createItems(tx, req.auth.tenantId, [{ sku: b.sku, name: b.name, barcode: b.barcode ?? null, lowStockThreshold: b.low_stock_threshold, buffer: b.buffer ?? null }]);
      if (b.components) await setComponents(tx, req.auth.tenantId, id!, b.components);
      const out = await readItem(tx, req.auth.tenantId, id!);
      await audit(tx, req, 'item.created', { type: 'item', id: id! }, b);
      await finishInTx(tx, req, 201, out, { etag: versionTag(out.version) });
      return out;
    }).catch((err: { code?: string }) => {
      if (err.code === '23505') throw new ApiError(409, 'conflict', `An item with SKU ${b.sku} already exists`);
      throw err;
    });
    return reply.code(201).header('etag', versionTag(item.version)).send(item);
  });

  app.get('/items/:id', doc({ summary: 'Read an item with its levels and listings', tag: TAG, params: Params, etag: true, responses: { 200: ItemDetail } }), async (req, reply) => {
    const id = pathId(req.params, 'item', 'Item');
    const item = await readItem(ctx.db, req.auth.tenantId, id);
    return reply.header('etag', versionTag(item.version)).send(item);
  });

  app.patch(
    '/items/:id',
    doc({ summary: 'Update an item', tag: TAG, params: Params, body: ItemPatch, ifMatch: true, etag: true, responses: { 200: ItemDetail, 409: ErrorBody } }),
    async (req, reply) => {
    const id = pathId(req.params, 'item', 'Item');
    const b = parse(ItemPatch, req.body);
    const tenantId = req.auth.tenantId;
    await withTx(ctx.db, async (tx) => {
      await lockVersion(tx, req, tenantId, id);
      const { rowCount } = await tx
        .query(
          `update items set sku = coalesce($3, sku), name = coalesce($4, name),
             barcode = case when $5::boolean then $6 else barcode end,
             low_stock_threshold = coalesce($7, low_stock_threshold),
             buffer = case when $8::boolean then $9::int else buffer end, updated_at = now(), version = version + 1
           where tenant_id = $1 and id = $2`,
          [tenantId, id, b.sku ?? null, b.name ?? null, 'barcode' in b, b.barcode ?? null, b.low_stock_threshold ?? null, 'buffer' in b, b.buffer ?? null],
        )
        .catch((err: { code?: string }) => {
          if (err.code === '23505') throw new ApiError(409, 'conflict', `An item with SKU ${b.sku} already exists`);
          throw err;
        });
      if (!rowCount) throw notFound('Item');
      if (b.components) await setComponents(tx, tenantId, id, b.components);
      const jobs: JobSpec[] = [];
      if ('buffer' in b || b.components) {
        // A new buffer or kit recipe changes what every channel should hold: push it, in this same transaction.
        const { rows } = await tx.query<{ channel_id: string }>(
          `update listings l set dirty_seq = dirty_seq + 1 from channels c
           where l.tenant_id = $1 and l.item_id = $2 and c.tenant_id = l.tenant_id and c.id = l.channel_id and c.status = 'connected'
           returning l.channel_id`,
          [tenantId, id],
        );
        for (const ch of new Set(rows.map((r) => r.channel_id))) jobs.push(pushJob(tenantId, ch));
      }
      await addJobs(tx, jobs);
      if (b.low_stock_threshold !== undefined) await checkStockAlerts(tx, tenantId, [id]);
      await audit(tx, req, 'item.updated', { type: 'item', id }, b);
    });
    const item = await readItem(ctx.db, tenantId, id);
    return reply.header('etag', versionTag(item.version)).send(item);
  });

  app.delete(
    '/items/:id',
    doc({ summary: 'Delete an item (only while it has no ledger history)', tag: TAG, params: Params, ifMatch: true, responses: { 204: null, 409: ErrorBody } }),
    async (req, reply) => {
      const id = pathId(req.params, 'item', 'Item');
      const tenantId = req.auth.tenantId;
      await withTx(ctx.db, async (tx) => {
        await lockVersion(tx, req, tenantId, id);
        const used = await tx.query(`select 1 from stock_levels where tenant_id = $1 and item_id = $2 limit 1`, [tenantId, id]);
        if (used.rowCount) throw new ApiError(409, 'conflict', 'This item has stock history in the ledger and cannot be deleted');
        const named = await tx.query(
          `select 1 from item_components where tenant_id = $1 and component_item_id = $2
           union all select 1 from purchase_order_lines where tenant_id = $1 and item_id = $2
           union all select 1 from transfer_lines where tenant_id = $1 and item_id = $2 limit 1`,
          [tenantId, id],
        );
        if (named.rowCount) throw new ApiError(409, 'conflict', 'A kit, purchase order or transfer names this item; it cannot be deleted');
        await tx.query(`delete from items where tenant_id = $1 and id = $2`, [tenantId, id]);
        await audit(tx, req, 'item.deleted', { type: 'item', id });
      });
      return reply.code(204).send();
    },
  );
}

/** Locks the item row and checks If-Match against its version (404, then 428 / 412). */
async function lockVersion(tx: Tx, req: FastifyRequest, tenantId: string, id: string): Promise<void> {
  const { rows } = await tx.query<{ version: number }>(`select version from items where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  if (!rows[0]) throw notFound('Item');
  checkIfMatch(req, rows[0].version);
}

export async function readItem(q: Q, tenantId: string, id: string) {
  const { rows } = await q.query(`select ${COLUMNS} from items i where i.tenant_id = $1 and i.id = $2`, [tenantId, id]);
  if (!rows[0]) throw notFound('Item');
  // One after the other: q may be a transaction's single connection.
  const levels = await q.query(
      `select s.location_id, l.name as location_name, s.on_hand, s.reserved, s.updated_at
       from stock_levels s join locations l on l.tenant_id = s.tenant_id and l.id = s.location_id
       where s.tenant_id = $1 and s.item_id = $2 order by l.name`,
      [tenantId, id],
    );
  const listings = await q.query(
      `select l.id, l.channel_id, c.name as channel_name, c.type as channel_type, l.external_id, l.external_sku,
              l.last_pushed_qty, l.last_seen_qty, l.last_synced_at, l.state, l.last_error
       from listings l join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
       where l.tenant_id = $1 and l.item_id = $2 order by c.name`,
      [tenantId, id],
    );
  const components = await q.query<{ item_id: string; sku: string; name: string; qty: number; available: number; buffer: number | null }>(
    `select c.component_item_id as item_id, i.sku, i.name, c.qty, i.buffer,
            coalesce((select sum(s.on_hand - s.reserved) from stock_levels s where s.tenant_id = c.tenant_id and s.item_id = c.component_item_id), 0)::int as available
     from item_components c join items i on i.tenant_id = c.tenant_id and i.id = c.component_item_id
     where c.tenant_id = $1 and c.kit_item_id = $2 order by i.sku`,
    [tenantId, id],
  );
  // DESIGN.md: a kit can be sold as often as its scarcest component allows.
  const kit = components.rows.length
    ? kitSellable(components.rows.map((c) => ({ sellable: sellable({ available: c.available, buffer: c.buffer ?? 0 }), qtyPerKit: c.qty })))
    : null;
  return {
    ...(rows[0] as { version: number } & Record<string, unknown>),
    levels: levels.rows,
    listings: listings.rows,
    components: components.rows.map((c) => ({ item_id: c.item_id, sku: c.sku, name: c.name, qty: c.qty, available: c.available })),
    kit_sellable: kit,
  };
}

/**
 * Replaces a kit's components. One level only (a component is not itself a kit, a kit is no
 * component), and a kit holds no stock of its own: an item with ledger history cannot become one.
 */
async function setComponents(tx: Tx, tenantId: string, id: string, components: Array<{ item_id: string; qty: number }>): Promise<void> {
  await tx.query(`delete from item_components where tenant_id = $1 and kit_item_id = $2`, [tenantId, id]);
  if (components.length === 0) return;
  const ids = components.map((c) => c.item_id);
  if (ids.includes(id)) throw new ApiError(409, 'conflict', 'A kit cannot be its own component', { item_id: id });
  const { rows } = await tx.query<{ found: number; kits: string[]; in_kit: boolean; stocked: boolean }>(
    `select (select count(*) from items where tenant_id = $1 and id = any($2))::int as found,
            array(select distinct kit_item_id from item_components where tenant_id = $1 and kit_item_id = any($2)) as kits,
            exists(select 1 from item_components where tenant_id = $1 and component_item_id = $3) as in_kit,
            exists(select 1 from stock_levels where tenant_id = $1 and item_id = $3) as stocked`,
    [tenantId, ids, id],
  );
  const r = rows[0]!;
  if (r.found !== ids.length) throw notFound('Item');
  if (r.kits.length) throw new ApiError(409, 'conflict', 'A component cannot itself be a kit', { kits: r.kits });
  if (r.in_kit) throw new ApiError(409, 'conflict', 'This item is a component of another kit; it cannot be a kit itself');
  if (r.stocked) throw new ApiError(409, 'conflict', 'This item has stock in the ledger; a kit holds no stock of its own');
  await tx.query(
    `insert into item_components (tenant_id, kit_item_id, component_item_id, qty) select $1, $2, x.item_id, x.qty from jsonb_to_recordset($3::jsonb) as x(item_id text, qty int)`,
    [tenantId, id, JSON.stringify(components)],
  );
}
