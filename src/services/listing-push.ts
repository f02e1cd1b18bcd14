// The one way a listing comes to need a push (issue: it used to be written six times, and the
// copies disagreed on the listing's state). A listing needs a push when its `dirty_seq` moves: Sync
// pushes every listing whose seq is ahead of the last one it pushed, and records the seq it pushed
// so a change during the push is not lost. Marking and queueing the channel's push job happen in
// the caller's transaction (invariant 3).
import { pushJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Q } from './scope.ts';

/**
 * The SET list that marks a listing (alias `l`) as needing a push, for the set-based statements
 * that mark as part of a larger update (Sync's cursor walk, the Guardian's repairs).
 * The one rule for the state: an in-sync listing becomes `pending`; any other state (`error`,
 * `drift`, `unmatched`) stays as it is, so what a merchant must look at stays visible until a
 * push settles it.
 */
export const NEEDS_PUSH_SET = `dirty_seq = l.dirty_seq + 1, state = case when l.state = 'in_sync' then 'pending' else l.state end`;

export type PushTarget =
  /** Every matched listing of one channel (settings changed, "sync now", resumed). */
  | { channelId: string }
  /** Every listing of these items on the tenant's connected channels (buffer or kit recipe changed). */
  | { itemIds: string[] }
  /** These listings (a listing's "sync now"); the caller has checked their channel is connected. */
  | { listingIds: string[] };

/**
 * Marks the target's listings as needing a push and queues one push job per channel they are on.
 * Returns how many listings were marked.
 */
export async function markForPush(tx: Q, tenantId: string, target: PushTarget): Promise<number> {
  const { rows } = await tx.query<{ channel_id: string }>(
    `update listings l set ${NEEDS_PUSH_SET}
     from channels c
     where l.tenant_id = $1 and l.item_id is not null and c.tenant_id = l.tenant_id and c.id = l.channel_id
       and ($2::text is null or l.channel_id = $2)
       and ($3::text[] is null or (l.item_id = any($3) and c.status = 'connected'))
       and ($4::text[] is null or l.id = any($4))
     returning l.channel_id`,
    [tenantId, 'channelId' in target ? target.channelId : null, 'itemIds' in target ? target.itemIds : null, 'listingIds' in target ? target.listingIds : null],
  );
  const channels = new Set(rows.map((r) => r.channel_id));
  // A channel-wide mark queues a push even with no matched listing: the push also settles the
  // channel's cursor and any listing that was waiting.
  if ('channelId' in target) channels.add(target.channelId);
  await addJobs(
    tx,
    [...channels].map((ch) => pushJob(tenantId, ch)),
  );
  return rows.length;
}
