// Kits in the engine: a kit listing's target comes from its components' stock, and a change to a
// component's level must reach the listings of every kit it belongs to. SQL fragments shared by
// Sync, Guardian and the ledger's push signal, so the three agree on what a kit is.

/**
 * For a listing `l` (with the channel's location ids in $3): its item's components as
 * [{available, buffer, qty}], available summed over the channel's locations; [] for a plain item.
 */
export const KIT_COMPONENTS_SQL = `(select coalesce(json_agg(json_build_object('qty', k.qty, 'buffer', ci.buffer,
      'available', coalesce((select sum(cs.on_hand - cs.reserved) from stock_levels cs
                             where cs.tenant_id = k.tenant_id and cs.item_id = k.component_item_id
                               and (cardinality($3::text[]) = 0 or cs.location_id = any($3))), 0))), '[]')
   from item_components k join items ci on ci.tenant_id = k.tenant_id and ci.id = k.component_item_id
   where k.tenant_id = l.tenant_id and k.kit_item_id = l.item_id)`;

/** The kits (item ids) that any of the items selected by `itemsSql` belong to, for tenant `tenant`. */
export const KITS_OF = (tenant: string, itemsSql: string) =>
  `select kc.kit_item_id from item_components kc where kc.tenant_id = ${tenant} and kc.component_item_id in (${itemsSql})`;
