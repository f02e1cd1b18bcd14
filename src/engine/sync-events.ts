// The audit of every push / pull / repair, written in bulk, and announced on the live stream.
import { notifyTenant } from '../db/jobs.ts';
import type { Tx } from '../db/pool.ts';

export interface SyncEventInput {
  channelId?: string | null;
  listingId?: string | null;
  itemId?: string | null;
  kind: 'push' | 'pull' | 'repair' | 'guardian' | 'inbound';
  outcome: string;
  qty?: number | null;
  detail?: Record<string, unknown> | null;
}

export async function recordSyncEvents(tx: Pick<Tx, 'query'>, tenantId: string, events: SyncEventInput[]): Promise<void> {
  if (events.length === 0) return;
  const rows = events.map((e) => ({
    channel_id: e.channelId ?? null,
    listing_id: e.listingId ?? null,
    item_id: e.itemId ?? null,
    kind: e.kind,
    outcome: e.outcome,
    qty: e.qty ?? null,
    detail: e.detail ?? null,
  }));
  await tx.query(
    `insert into sync_events (tenant_id, channel_id, listing_id, item_id, kind, outcome, qty, detail)
     select $1, channel_id, listing_id, item_id, kind, outcome, qty, detail
     from jsonb_to_recordset($2::jsonb) as x(channel_id text, listing_id text, item_id text, kind text, outcome text, qty int, detail jsonb)`,
    [tenantId, JSON.stringify(rows)],
  );
  await notifyTenant(tx, tenantId, 'sync.events', { events: rows.slice(0, 40), count: rows.length });
}
