// Sync events: the record of every push, pull, repair and inbound change, newest first. Ids are the
// table's bigint sequence, so a page continues below the last id it showed.
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export const SYNC_EVENT_KINDS = ['push', 'pull', 'repair', 'guardian', 'inbound'] as const;

export interface SyncEventFilter {
  channelId?: string;
  itemId?: string;
  listingId?: string;
  kind?: (typeof SYNC_EVENT_KINDS)[number];
  outcome?: string;
  /** ISO 8601: events at or after it. */
  since?: string;
}

export async function list(q: Q, scope: Scope, input: PageRequest<number> & SyncEventFilter) {
  const { rows } = await q.query<Record<string, unknown> & { id: number }>(
    `select e.id, e.channel_id, e.listing_id, e.item_id, e.kind, e.outcome, e.qty, e.detail, e.created_at
     from sync_events e
     where e.tenant_id = $1 and ($2::bigint is null or e.id < $2)
       and ($3::text is null or e.channel_id = $3) and ($4::text is null or e.item_id = $4) and ($5::text is null or e.listing_id = $5)
       and ($6::text is null or e.kind = $6) and ($7::text is null or e.outcome = $7) and ($8::timestamptz is null or e.created_at >= $8)
     order by e.id desc limit $9`,
    [
      scope.tenantId,
      input.after,
      input.channelId ?? null,
      input.itemId ?? null,
      input.listingId ?? null,
      input.kind ?? null,
      input.outcome ?? null,
      input.since ?? null,
      input.limit + 1,
    ],
  );
  return page(rows, input.limit, (r) => r.id);
}
