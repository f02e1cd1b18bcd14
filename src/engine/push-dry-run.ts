// The dry run of a stock push (issue 13, point 3): for some of a channel's listings, the quantity
// the Sync would push (channelTarget, with the rules that applied) and the exact requests the
// channel's adapter would send for it, found by running the adapter with its writes held
// (src/channels/dry-run.ts). Reads the adapter needs first do go out: they change nothing, and
// they are counted against the channel's budget like any other call.
import { dryRun as holdWrites } from '../channels/dry-run.ts';
import type { PushRequest } from '../channels/contract.ts';
import { AppError, notFound } from '../domain/errors.ts';
import type { AppContext } from './context.ts';
import { takeWithin } from './rate-gate.ts';
import { dryRun as targetOf } from '../services/sync-rules.ts';
import type { Scope } from '../services/scope.ts';

/** Most listings one dry run covers (it reads the platform for them). */
export const PUSH_DRY_RUN_MAX = 50;

export async function pushDryRun(ctx: AppContext, scope: Scope, channelId: string, input: { item_ids?: string[]; skus?: string[] }) {
  const live = await ctx.channels.load(scope.tenantId, channelId);
  if (!live) throw notFound('Channel');
  if (live.row.status !== 'connected') throw new AppError(409, 'channel_not_connected', `The channel is ${live.row.status}: connect it to preview a push`);
  const { rows } = await ctx.db.query<{
    id: string;
    item_id: string;
    sku: string;
    external_id: string;
    external_location_id: string;
    last_seen_qty: number | null;
    last_seen_version: string | null;
    dirty_seq: number;
  }>(
    `select l.id, l.item_id, i.sku, l.external_id, l.external_location_id, l.last_seen_qty, l.last_seen_version, l.dirty_seq
     from listings l join items i on i.tenant_id = l.tenant_id and i.id = l.item_id
     where l.tenant_id = $1 and l.channel_id = $2 and (l.item_id = any($3::text[]) or i.sku = any($4::text[]))
     order by i.sku, l.id limit $5`,
    [scope.tenantId, channelId, input.item_ids ?? [], input.skus ?? [], PUSH_DRY_RUN_MAX],
  );
  if (rows.length === 0) throw notFound('Listing of these items on the channel');
  const listings = [];
  const reqs: PushRequest[] = [];
  for (const l of rows) {
    const t = await targetOf(ctx.db, scope, { channel_id: channelId, item_id: l.item_id });
    listings.push({ listing_id: l.id, item_id: l.item_id, sku: l.sku, qty: t.qty, last_seen_qty: l.last_seen_qty, applied: t.applied });
    reqs.push({
      listingId: l.id,
      externalId: l.external_id,
      externalLocationId: l.external_location_id || null,
      qty: t.qty,
      known: { qty: l.last_seen_qty, version: l.last_seen_version },
      idempotencyKey: `dry:${l.id}:${l.dirty_seq}:${t.qty}`,
    });
  }
  // The reads are real calls: they wait for budget like the Sync's own (briefly, or say so).
  const calls = live.module.capabilities.callsPerPush ?? 1;
  const wait = await takeWithin(live.rate, calls, 5_000);
  if (wait > 0) throw new AppError(429, 'rate_limited', `The channel's request budget is spent for now: try again in ${Math.ceil(wait / 1000)} s`);
  const run = await holdWrites(() => live.adapter.pushLevels(reqs));
  const limit = live.module.capabilities.rateLimit;
  return {
    dry_run: true as const,
    channel_id: channelId,
    listings,
    requests: run.held.map((r) => ({ method: r.method, url: r.url, body: r.body ?? null })),
    reads: run.reads,
    api_calls: run.reads + run.held.length,
    per_second: limit.perSecond,
    burst: limit.burst,
    // The adapter's own failure before it got to write (a read refused, the platform down).
    error: run.error,
  };
}
