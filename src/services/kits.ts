// Kit rules: what may be a kit, what may be its component, and that a kit holds no stock of its
// own (its components do). Items set a kit's recipe here; every stock write that names items
// (adjustments, counts, purchase orders, sales orders, transfers) refuses kits with the same answer.
import { AppError, notFound } from '../domain/errors.ts';
import type { Q } from './scope.ts';

export interface Component {
  item_id: string;
  qty: number;
}

/** The refusal of a stock write that names kits. */
export const kitHoldsNoStock = (kits: string[]) =>
  new AppError(409, 'conflict', `${kits[0]} is a kit: it holds no stock of its own; move its components instead`, { kits });

/** A kit holds no stock of its own (its components do): stock writes naming one are refused. */
export async function refuseKits(q: Q, tenantId: string, itemIds: string[]): Promise<void> {
  const { rows } = await q.query<{ kit_item_id: string }>(`select distinct kit_item_id from item_components where tenant_id = $1 and kit_item_id = any($2)`, [
    tenantId,
    itemIds,
  ]);
  if (rows.length) throw kitHoldsNoStock(rows.map((r) => r.kit_item_id));
}

/**
 * Replaces a kit's components. One level only (a component is not itself a kit, a kit is no
 * component), and a kit holds no stock of its own: an item with ledger history cannot become one.
 */
export async function setComponents(tx: Q, tenantId: string, id: string, components: Component[]): Promise<void> {
  await tx.query(`delete from item_components where tenant_id = $1 and kit_item_id = $2`, [tenantId, id]);
  if (components.length === 0) return;
  const ids = components.map((c) => c.item_id);
  if (ids.includes(id)) throw new AppError(409, 'conflict', 'A kit cannot be its own component', { item_id: id });
  const { rows } = await tx.query<{ found: number; kits: string[]; in_kit: boolean; stocked: boolean }>(
    `select (select count(*) from items where tenant_id = $1 and id = any($2))::int as found,
            array(select distinct kit_item_id from item_components where tenant_id = $1 and kit_item_id = any($2)) as kits,
            exists(select 1 from item_components where tenant_id = $1 and component_item_id = $3) as in_kit,
            exists(select 1 from stock_levels where tenant_id = $1 and item_id = $3) as stocked`,
    [tenantId, ids, id],
  );
  const r = rows[0]!;
  if (r.found !== ids.length) throw notFound('Item');
  if (r.kits.length) throw new AppError(409, 'conflict', 'A component cannot itself be a kit', { kits: r.kits });
  if (r.in_kit) throw new AppError(409, 'conflict', 'This item is a component of another kit; it cannot be a kit itself');
  if (r.stocked) throw new AppError(409, 'conflict', 'This item has stock in the ledger; a kit holds no stock of its own');
  await tx.query(
    `insert into item_components (tenant_id, kit_item_id, component_item_id, qty) select $1, $2, x.item_id, x.qty from jsonb_to_recordset($3::jsonb) as x(item_id text, qty int)`,
    [tenantId, id, JSON.stringify(components)],
  );
}
