// Listings: an item as it exists on one channel. Bringing a channel's catalogue in (import and
// auto-match by SKU), mapping by hand, and pushing one listing now.
// Importing and matching never push: a new tenant's ledger may still be empty, and telling every
// channel "0" would take the shop offline. Pushes start with the first ledger change of each item,
// or an explicit sync.
import { ChannelError, type RemoteListing } from '../channels/contract.ts';
import type { Db, Tx } from '../db/pool.ts';
import { tenantTx } from '../db/tenant-tx.ts';
import { AppError, conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { audit } from './audit-log.ts';
import type { LiveChannels } from './channels.ts';
import { markForPush } from './listing-push.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export const LISTING_STATES = ['in_sync', 'pending', 'failed', 'drift', 'unmatched'] as const;

const COLUMNS = `l.id, l.channel_id, c.type as channel_type, c.name as channel_name, l.item_id, i.sku as item_sku, i.name as item_name,
  l.external_id, l.external_location_id, l.external_sku, l.name, l.last_pushed_qty, l.last_seen_qty, l.last_synced_at,
  l.state, l.last_error, (l.dirty_seq > l.pushed_seq) as push_pending, l.created_at`;
const FROM = `listings l
  join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
  left join items i on i.tenant_id = l.tenant_id and i.id = l.item_id`;

export type ListingRow = Record<string, unknown> & { id: string };

export interface ListingFilter {
  channelId?: string;
  itemId?: string;
  state?: (typeof LISTING_STATES)[number];
}

export async function list(q: Q, scope: Scope, input: PageRequest & ListingFilter) {
  const { rows } = await q.query<ListingRow>(
    `select ${COLUMNS} from ${FROM}
     where l.tenant_id = $1 and ($2::text is null or l.id > $2) and ($3::text is null or l.channel_id = $3)
       and ($4::text is null or l.item_id = $4) and ($5::text is null or l.state = $5)
     order by l.id limit $6`,
    [scope.tenantId, input.after, input.channelId ?? null, input.itemId ?? null, input.state ?? null, input.limit + 1],
  );
  return page(rows, input.limit, (r) => r.id);
}

export async function get(q: Q, scope: Scope, id: string): Promise<ListingRow> {
  const { rows } = await q.query<ListingRow>(`select ${COLUMNS} from ${FROM} where l.tenant_id = $1 and l.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Listing');
  return rows[0];
}

/**
 * Maps a listing to an item by hand, or unmaps it with null. Like auto-match, mapping adopts what
 * the channel holds and pushes nothing (a listing's "sync now" sends the ledger's value).
 */
export async function map(tx: Tx, scope: Scope, id: string, itemId: string | null): Promise<ListingRow> {
  const tenantId = scope.tenantId;
  const { rows } = await tx.query<{ item_id: string | null }>(`select item_id from listings where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  if (!rows[0]) throw notFound('Listing');
  if (rows[0].item_id !== itemId) {
    await audit(tx, scope, itemId === null ? 'listing.unmapped' : 'listing.mapped', { type: 'listing', id }, { item_id: itemId, was: rows[0].item_id });
    if (itemId === null) {
      await tx.query(`update listings set item_id = null, state = 'unmatched', last_error = null where tenant_id = $1 and id = $2`, [tenantId, id]);
    } else {
      const item = await tx.query(`select 1 from items where tenant_id = $1 and id = $2 for share`, [tenantId, itemId]);
      if (!item.rowCount) throw notFound('Item');
      await tx.query(
        `update listings set item_id = $3, state = 'in_sync', last_pushed_qty = last_seen_qty, last_error = null where tenant_id = $1 and id = $2`,
        [tenantId, id, itemId],
      );
    }
  }
  return get(tx, scope, id);
}

/** "Sync now" for one listing: it must be mapped and its channel connected. */
export async function syncNow(tx: Tx, scope: Scope, id: string): Promise<{ queued: true }> {
  const { rows } = await tx.query<{ item_id: string | null; status: string }>(
    `select l.item_id, c.status from listings l join channels c on c.tenant_id = l.tenant_id and c.id = l.channel_id
     where l.tenant_id = $1 and l.id = $2 for update of l`,
    [scope.tenantId, id],
  );
  const l = rows[0];
  if (!l) throw notFound('Listing');
  if (!l.item_id) throw conflict('This listing is not mapped to an item; map it first');
  if (l.status !== 'connected') throw conflict(`The channel is ${l.status}; nothing can be pushed to it`);
  await markForPush(tx, scope.tenantId, { listingIds: [id] });
  return { queued: true };
}

/** Links unmatched listings to the item with the same SKU. Returns how many were linked. */
async function linkBySku(tx: Q, tenantId: string, channelId: string): Promise<number> {
  const { rowCount } = await tx.query(
    `update listings l set item_id = i.id, state = 'in_sync', last_pushed_qty = l.last_seen_qty
     from items i
     where l.tenant_id = $1 and l.channel_id = $2 and l.item_id is null
       and i.tenant_id = l.tenant_id and i.sku = l.external_sku`,
    [tenantId, channelId],
  );
  return rowCount ?? 0;
}

async function unmatchedCount(tx: Q, tenantId: string, channelId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(`select count(*)::int as n from listings where tenant_id = $1 and channel_id = $2 and item_id is null`, [
    tenantId,
    channelId,
  ]);
  return rows[0]!.n;
}

/** Matches a channel's unmatched listings to items by SKU. */
export async function autoMatch(tx: Tx, scope: Scope, channelId: string): Promise<{ matched: number; unmatched: number }> {
  const ch = await tx.query(`select 1 from channels where tenant_id = $1 and id = $2`, [scope.tenantId, channelId]);
  if (!ch.rowCount) throw notFound('Channel');
  const matched = await linkBySku(tx, scope.tenantId, channelId);
  return { matched, unmatched: await unmatchedCount(tx, scope.tenantId, channelId) };
}

export interface ImportResult {
  imported: number;
  matched: number;
  unmatched: number;
}

/**
 * Reads every listing the platform has (no transaction is held while it does) and stores them,
 * new ones unmatched, then auto-matches by SKU. A platform that refuses or cannot be reached is a
 * 502 with a stable code, and nothing is stored.
 */
export async function importListings(db: Db, scope: Scope, live: LiveChannels, channelId: string): Promise<ImportResult> {
  const tenantId = scope.tenantId;
  const ch = await live.load(tenantId, channelId);
  if (!ch) throw notFound('Channel');
  const remote: RemoteListing[] = [];
  try {
    for await (const pageRows of ch.adapter.listListings()) remote.push(...pageRows);
  } catch (err) {
    if (!(err instanceof ChannelError)) throw err;
    if (err.kind === 'auth') throw new AppError(502, 'channel_auth_failed', `The channel refused our credentials: ${err.message}`, { kind: err.kind });
    throw new AppError(502, 'channel_unreachable', `The channel could not be read: ${err.message}`, { kind: err.kind });
  }
  // A channel the Watcher polls for orders starts its watch here, at what the platform holds now:
  // orders from now on are polled (a sale right after connecting is not taken for history by a
  // first poll that runs later). If the platform cannot say, the first poll starts it as before.
  let pollCursor: string | null = null;
  if (ch.adapter.pollEvents)
    pollCursor = await ch.adapter.pollEvents(null).then(
      (p) => p.cursor,
      () => null,
    );
  const availability = ch.module.capabilities.quantityModel === 'availability';
  return tenantTx(db, tenantId, async (tx) => {
    if (pollCursor !== null)
      await tx.query(`update channels set poll_cursor = $3 where tenant_id = $1 and id = $2 and poll_cursor is null`, [tenantId, channelId, pollCursor]);
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
    const matched = await linkBySku(tx, tenantId, channelId);
    return { imported: remote.length, matched, unmatched: await unmatchedCount(tx, tenantId, channelId) };
  });
}
