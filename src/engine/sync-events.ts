// The audit of every push / pull / repair, written in bulk, and announced on the live stream.
import { notifyIfWatchedSql } from '../db/live.ts';
import { named, type Tx } from '../db/pool.ts';

export interface SyncEventInput {
  channelId?: string | null;
  listingId?: string | null;
  itemId?: string | null;
  kind: 'push' | 'pull' | 'repair' | 'guardian' | 'inbound';
  outcome: string;
  qty?: number | null;
  detail?: Record<string, unknown> | null;
}

/** The rows as sync_events' insert takes them ($n::jsonb in SYNC_EVENTS_INSERT). */
export function syncEventRows(events: SyncEventInput[]) {
  return events.map((e) => ({
    channel_id: e.channelId ?? null,
    listing_id: e.listingId ?? null,
    item_id: e.itemId ?? null,
    kind: e.kind,
    outcome: e.outcome,
    qty: e.qty ?? null,
    detail: e.detail ?? null,
  }));
}

/** SQL for a data-modifying CTE inserting tenant `$t`'s events from `$rows` (syncEventRows as jsonb). */
export const syncEventsInsert = (t: string, rows: string) => `insert into sync_events (tenant_id, channel_id, listing_id, item_id, kind, outcome, qty, detail)
  select ${t}, channel_id, listing_id, item_id, kind, outcome, qty, detail
  from jsonb_to_recordset(${rows}::jsonb) as x(channel_id text, listing_id text, item_id text, kind text, outcome text, qty int, detail jsonb)`;

/** The live-stream notice for these rows (NOTIFY payloads stop at 8000 bytes: a long list is cut). */
export function syncEventsNotice(tenantId: string, rows: ReturnType<typeof syncEventRows>): string {
  const full = JSON.stringify({ tenant_id: tenantId, type: 'sync.events', data: { events: rows.slice(0, 40), count: rows.length } });
  return full.length <= 7900 ? full : JSON.stringify({ tenant_id: tenantId, type: 'sync.events', data: { truncated: true, count: rows.length } });
}

/** Records the events and announces them, in one statement. */
export async function recordSyncEvents(tx: Pick<Tx, 'query'>, tenantId: string, events: SyncEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const rows = syncEventRows(events);
  await tx.query(
    named('sync_events_insert', `with ins as (${syncEventsInsert('$1', '$2')} returning 1) select ${notifyIfWatchedSql('$1::text', '$3')}`, [
      tenantId,
      JSON.stringify(rows),
      syncEventsNotice(tenantId, rows),
    ]),
  );
}
