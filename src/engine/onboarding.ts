// Bringing a channel's catalogue in: import every listing the platform has, auto-match by SKU.
// Importing never pushes: a new tenant's ledger may still be empty, and telling every channel
// "0" would take the shop offline. Pushes start with the first ledger change of each item, or an
// explicit sync.
import { newId } from '../domain/ids.ts';
import { withTx } from '../db/pool.ts';
import type { RemoteListing } from '../channels/contract.ts';
import type { AppContext } from './context.ts';

export interface ImportResult {
  imported: number;
  matched: number;
  unmatched: number;
}

export async function importListings(ctx: AppContext, tenantId: string, channelId: string): Promise<ImportResult> {
  const live = await ctx.channels.load(tenantId, channelId);
  if (!live) throw new Error('channel not found');
  const remote: RemoteListing[] = [];
  for await (const pageRows of live.adapter.listListings()) remote.push(...pageRows);
  const availability = live.module.capabilities.quantityModel === 'availability';
  return withTx(ctx.db, async (tx) => {
    await tx.query(
      `insert into listings (tenant_id, id, channel_id, external_id, external_location_id, external_sku, name,
                             last_seen_qty, last_seen_version, state, dirty_seq, pushed_seq)
       select $1, x.id, $2, x.external_id, coalesce(x.external_location_id, ''), x.sku, x.name, x.qty, x.version, 'unmatched', 1, 1
       from jsonb_to_recordset($3::jsonb) as x(id text, external_id text, external_location_id text, sku text, name text, qty int, version text)
       on conflict (tenant_id, channel_id, external_id, external_location_id)
       do update set external_sku = excluded.external_sku, name = excluded.name,
                     last_seen_qty = excluded.last_seen_qty, last_seen_version = excluded.last_seen_version`,
      [
        tenantId,
        channelId,
        JSON.stringify(
          remote.map((r) => ({
            id: newId('lst'),
            external_id: r.externalId,
            external_location_id: r.externalLocationId ?? null,
            sku: r.sku,
            name: r.name ?? null,
            qty: r.qty ?? (availability && r.available != null ? (r.available ? 1 : 0) : null),
            version: r.version ?? null,
          })),
        ),
      ],
    );
    const matched = await autoMatch(tx, tenantId, channelId);
    const { rows } = await tx.query<{ unmatched: number }>(
      `select count(*)::int as unmatched from listings where tenant_id = $1 and channel_id = $2 and item_id is null`,
      [tenantId, channelId],
    );
    return { imported: remote.length, matched, unmatched: rows[0]!.unmatched };
  });
}

/** Links unmatched listings to the item with the same SKU. Returns how many were linked. */
export async function autoMatch(tx: Pick<AppContext['db'], 'query'>, tenantId: string, channelId: string): Promise<number> {
  const { rowCount } = await tx.query(
    `update listings l set item_id = i.id, state = 'in_sync', last_pushed_qty = l.last_seen_qty
     from items i
     where l.tenant_id = $1 and l.channel_id = $2 and l.item_id is null
       and i.tenant_id = l.tenant_id and i.sku = l.external_sku`,
    [tenantId, channelId],
  );
  return rowCount ?? 0;
}
