// Items: a tenant's stock-keeping units (SKU unique per tenant), plain items or kits of components.
// Reads (a searched list, one item with its levels, listings and kit recipe) and writes, each with
// its consequences in the same transaction: a new buffer or kit recipe changes what every channel
// should hold (its listings are marked for a push), a new low-stock threshold may raise or resolve
// a stock alert. PATCH /items and the CSV import (src/engine/api-jobs.ts) both come through here,
// so the two cannot disagree on what an item change sets off.
import { conflict, notFound } from '../domain/errors.ts';
import { kitSellable, sellable } from '../domain/sellable.ts';
import { newId } from '../domain/ids.ts';
import { containsPattern, itemMatches } from '../db/item-search.ts';
import type { Tx } from '../db/pool.ts';
import { createItems } from '../db/tenants.ts';
import { checkStockAlerts } from './alerts.ts';
import { audit } from './audit-log.ts';
import { setComponents, type Component } from './kits.ts';
import { markForPush } from './listing-push.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export type ItemInput = {
  sku: string;
  name: string;
  barcode?: string | null;
  low_stock_threshold?: number;
  buffer?: number | null;
  /** Makes the item a kit of these components; [] makes it a plain item again. */
  components?: Component[];
};
/** The fields to change; a field that is absent keeps its value (`null` clears barcode and buffer). */
export type ItemPatch = Partial<ItemInput>;

/** An If-Match check against the item's current version (throws to refuse). */
export type Guard = (currentVersion: number) => void;

export type ItemRow = {
  id: string;
  sku: string;
  name: string;
  barcode: string | null;
  low_stock_threshold: number;
  buffer: number | null;
  version: number;
  created_at: Date;
  updated_at: Date;
  /** Summed over locations. */
  on_hand: number;
  reserved: number;
};

const COLUMNS = `i.id, i.sku, i.name, i.barcode, i.low_stock_threshold, i.buffer, i.version, i.created_at, i.updated_at,
  coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as on_hand,
  coalesce((select sum(s.reserved) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as reserved`;

const skuTaken = (sku: string | undefined) => (err: { code?: string }) => {
  if (err.code === '23505') throw conflict(`An item with SKU ${sku} already exists`);
  throw err;
};

/** Items by id, optionally those whose SKU, name or barcode contains `search`. */
export async function list(q: Q, scope: Scope, input: PageRequest & { search?: string | null }) {
  const { rows } = await q.query<ItemRow>(
    `select ${COLUMNS} from items i
     where i.tenant_id = $1 and ($2::text is null or i.id > $2)
       and ${itemMatches('i', '$3')}
     order by i.id limit $4`,
    [scope.tenantId, input.after, containsPattern(input.search), input.limit + 1],
  );
  return page(rows, input.limit, (r) => r.id);
}

/** One item with its levels per location, its listings, and (a kit) its components and kit sellable. */
export async function get(q: Q, scope: Scope, id: string) {
  const tenantId = scope.tenantId;
  const { rows } = await q.query<ItemRow>(`select ${COLUMNS} from items i where i.tenant_id = $1 and i.id = $2`, [tenantId, id]);
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
    ...rows[0],
    levels: levels.rows,
    listings: listings.rows,
    components: components.rows.map((c) => ({ item_id: c.item_id, sku: c.sku, name: c.name, qty: c.qty, available: c.available })),
    kit_sellable: kit,
  };
}

export type ItemDetail = Awaited<ReturnType<typeof get>>;

export async function create(tx: Tx, scope: Scope, input: ItemInput): Promise<ItemDetail> {
  const [id] = await createItems(tx, scope.tenantId, [
    { sku: input.sku, name: input.name, barcode: input.barcode ?? null, lowStockThreshold: input.low_stock_threshold, buffer: input.buffer ?? null },
  ]).catch(skuTaken(input.sku));
  if (input.components) await setComponents(tx, scope.tenantId, id!, input.components);
  const out = await get(tx, scope, id!);
  await audit(tx, scope, 'item.created', { type: 'item', id: id! }, input);
  return out;
}

/** Locks the item row and runs the caller's If-Match check on its version (404 first). */
async function lockVersion(tx: Tx, tenantId: string, id: string, guard?: Guard): Promise<void> {
  const { rows } = await tx.query<{ version: number }>(`select version from items where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  if (!rows[0]) throw notFound('Item');
  guard?.(rows[0].version);
}

/**
 * What a change of these items' own fields sets off, in the writer's transaction (invariant 3):
 * a new buffer or kit recipe changes what every channel should hold, so their listings on
 * connected channels need a push; a new threshold may raise or resolve a stock alert now.
 */
async function afterItemsChanged(tx: Tx, tenantId: string, itemIds: string[], changed: { sellable: boolean; threshold: boolean }): Promise<void> {
  if (itemIds.length === 0) return;
  if (changed.sellable) await markForPush(tx, tenantId, { itemIds });
  if (changed.threshold) await checkStockAlerts(tx, tenantId, itemIds);
}

export async function update(tx: Tx, scope: Scope, id: string, patch: ItemPatch, guard?: Guard): Promise<ItemDetail> {
  const tenantId = scope.tenantId;
  await lockVersion(tx, tenantId, id, guard);
  const { rowCount } = await tx
    .query(
      `update items set sku = coalesce($3, sku), name = coalesce($4, name),
         barcode = case when $5::boolean then $6 else barcode end,
         low_stock_threshold = coalesce($7, low_stock_threshold),
         buffer = case when $8::boolean then $9::int else buffer end, updated_at = now(), version = version + 1
       where tenant_id = $1 and id = $2`,
      [
        tenantId,
        id,
        patch.sku ?? null,
        patch.name ?? null,
        'barcode' in patch,
        patch.barcode ?? null,
        patch.low_stock_threshold ?? null,
        'buffer' in patch,
        patch.buffer ?? null,
      ],
    )
    .catch(skuTaken(patch.sku));
  if (!rowCount) throw notFound('Item');
  if (patch.components) await setComponents(tx, tenantId, id, patch.components);
  await afterItemsChanged(tx, tenantId, [id], { sellable: 'buffer' in patch || !!patch.components, threshold: patch.low_stock_threshold !== undefined });
  await audit(tx, scope, 'item.updated', { type: 'item', id }, patch);
  return get(tx, scope, id);
}

/** Deletes an item while nothing refers to it: no ledger history, no kit, purchase order or transfer. */
export async function remove(tx: Tx, scope: Scope, id: string, guard?: Guard): Promise<void> {
  const tenantId = scope.tenantId;
  await lockVersion(tx, tenantId, id, guard);
  const used = await tx.query(`select 1 from stock_levels where tenant_id = $1 and item_id = $2 limit 1`, [tenantId, id]);
  if (used.rowCount) throw conflict('This item has stock history in the ledger and cannot be deleted');
  const named = await tx.query(
    `select 1 from item_components where tenant_id = $1 and component_item_id = $2
     union all select 1 from purchase_order_lines where tenant_id = $1 and item_id = $2
     union all select 1 from transfer_lines where tenant_id = $1 and item_id = $2 limit 1`,
    [tenantId, id],
  );
  if (named.rowCount) throw conflict('A kit, purchase order or transfer names this item; it cannot be deleted');
  const { rows } = await tx.query<{ product_id: string | null }>(`delete from items where tenant_id = $1 and id = $2 returning product_id`, [tenantId, id]);
  // Its product goes with it when nothing else is left of it (the single-variant product an item
  // gets of its own); a product with other variants, images or channel overrides stays.
  await tx.query(
    `delete from products p where p.tenant_id = $1 and p.id = $2
       and not exists (select 1 from items i where i.tenant_id = p.tenant_id and i.product_id = p.id)
       and not exists (select 1 from product_images m where m.tenant_id = p.tenant_id and m.product_id = p.id)
       and not exists (select 1 from product_overrides o where o.tenant_id = p.tenant_id and o.product_id = p.id)`,
    [tenantId, rows[0]?.product_id ?? null],
  );
  await audit(tx, scope, 'item.deleted', { type: 'item', id });
}

/** The fields an upsert may set on an existing item (the SKU is its key). */
export const UPSERT_FIELDS = ['name', 'barcode', 'low_stock_threshold', 'buffer'] as const;
export type UpsertField = (typeof UPSERT_FIELDS)[number];

export type ItemUpsert = { sku: string; name: string; barcode: string | null; low_stock_threshold: number | null; buffer: number | null };

/**
 * Creates the items whose SKU is new and updates the others, in one statement (a CSV import's
 * batch). An existing item takes only the `fields` the caller has (a CSV's columns) and keeps the
 * rest; an item whose fields do not change is left alone (its version stays). Updated items set
 * off what PATCH sets off (afterItemsChanged).
 */
export async function upsertBySku(tx: Tx, scope: Scope, input: { fields: UpsertField[]; rows: ItemUpsert[] }): Promise<{ created: number; updated: number }> {
  const tenantId = scope.tenantId;
  const set = UPSERT_FIELDS.filter((c) => input.fields.includes(c));
  const onConflict = set.length
    ? `do update set ${set.map((c) => (c === 'low_stock_threshold' ? `${c} = coalesce(excluded.${c}, 0)` : `${c} = excluded.${c}`)).join(', ')},
       version = i.version + 1, updated_at = now()
     where (${set.map((c) => `i.${c}`).join(', ')}) is distinct from (${set.map((c) => `excluded.${c}`).join(', ')})`
    : 'do nothing';
  const { rows } = await tx.query<{ id: string; created: boolean }>(
    `insert into items as i (tenant_id, id, sku, name, barcode, low_stock_threshold, buffer)
     select $1, x.id, x.sku, x.name, x.barcode, coalesce(x.low_stock_threshold, 0), x.buffer
     from jsonb_to_recordset($2::jsonb) as x(id text, sku text, name text, barcode text, low_stock_threshold int, buffer int)
     on conflict (tenant_id, sku) ${onConflict}
     returning i.id, (xmax = 0) as created`,
    [
      tenantId,
      JSON.stringify(
        input.rows.map((r) => ({
          id: newId('item'),
          sku: r.sku,
          name: r.name,
          barcode: r.barcode,
          low_stock_threshold: r.low_stock_threshold,
          buffer: r.buffer,
        })),
      ),
    ],
  );
  const updated = rows.filter((r) => !r.created).map((r) => r.id);
  await afterItemsChanged(tx, tenantId, updated, { sellable: set.includes('buffer'), threshold: set.includes('low_stock_threshold') });
  return { created: rows.length - updated.length, updated: updated.length };
}

/** The tenant's items named by SKU or by id, and whether each is a kit (an import resolves its rows). */
export async function findBySkuOrId(q: Q, scope: Scope, input: { skus: string[]; ids: string[] }): Promise<Array<{ id: string; sku: string; kit: boolean }>> {
  const { rows } = await q.query<{ id: string; sku: string; kit: boolean }>(
    `select i.id, i.sku, exists (select 1 from item_components c where c.tenant_id = i.tenant_id and c.kit_item_id = i.id) as kit
     from items i where i.tenant_id = $1 and (i.sku = any($2) or i.id = any($3))`,
    [scope.tenantId, input.skus, input.ids],
  );
  return rows;
}
