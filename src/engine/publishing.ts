// The publishing job: one handler for every (platform, action) pair, which runs the plan the
// channel's catalog side makes for that action (src/channels/contract.ts). Each request takes
// its call from the channel's shared budget, leaving the stock pushes' reserve (PUBLISH_PRIORITY);
// progress is stored after each answer, so a retry resumes after what already went through
// (a draft listing is never created twice). When the plan finishes, the publication holds the
// platform's ids and what we sent, and the stock side tracks one listing per variant from then on.
// A request that creates without an idempotency key (`recoverable`) is marked as out before it is
// sent; when its answer is lost, the retry asks the catalog side what that attempt made and
// adopts it rather than creating a second one (see `recoverLost`).
import type { JobHelpers } from 'graphile-worker';
import { ChannelError, type CatalogAction, type CatalogPlan, type CatalogSide, type PlannedRequest } from '../channels/contract.ts';
import { AWAITING, awaitingMark, awaitingOf, capturesOf, runPlan } from '../channels/catalog.ts';
import { PUBLISH_PRIORITY, publishJob, pushJob, type PublicationJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { withTx } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { existingRef, loadDraft, type PublicationRow } from '../services/publishing.ts';
import { systemScope } from '../services/scope.ts';
import type { AppContext } from './context.ts';
import { takeWithin } from './rate-gate.ts';

/** Longest a job waits for budget before handing its worker back and coming back later. */
const HOLD_MS = 5_000;
/** The wait before resuming a plan whose last attempt made progress and then met a transient failure. */
const RETRY_AFTER_PROGRESS_MS = 500;

export const mediaUrlOf = (ctx: AppContext) => (key: string) => `${ctx.site.publicUrl ?? ctx.config.publicUrl ?? ''}/media/${key}`;

async function record(ctx: AppContext, tenantId: string, pubId: string, action: string, state: string, requests: number, error: string | null) {
  await ctx.db.query(`insert into publication_events (tenant_id, publication_id, action, state, requests, error) values ($1, $2, $3, $4, $5, $6)`, [
    tenantId,
    pubId,
    action,
    state,
    requests,
    error,
  ]);
}

async function fail(ctx: AppContext, pub: PublicationRow & { tenant_id: string }, message: string, sent: number): Promise<void> {
  await ctx.db.query(
    `update publications set state = 'error', last_error = $3, step = 0, captured = '{}', updated_at = now() where tenant_id = $1 and id = $2`,
    [pub.tenant_id, pub.id, message],
  );
  await record(ctx, pub.tenant_id, pub.id, pub.action ?? 'publish', 'error', sent, message);
  await bumpBulk(ctx, pub, 'failed');
}

/** Counts one finished item of a bulk job; the last one finishes the job, paused or not (nothing is left to resume). */
async function bumpBulk(ctx: AppContext, pub: { tenant_id: string; job_id?: string | null }, outcome: 'done' | 'failed'): Promise<void> {
  if (!pub.job_id) return;
  await ctx.db.query(
    `update publication_jobs set ${outcome} = ${outcome} + 1, updated_at = now(),
       status = case when status in ('running', 'paused') and done + failed + 1 >= total then case when failed + ${outcome === 'failed' ? 1 : 0} > 0 then 'failed' else 'done' end else status end
     where tenant_id = $1 and id = $2`,
    [pub.tenant_id, pub.job_id],
  );
}

/** What we sent, for conflict checks: a price only when every variant has the same one. */
function sentSnapshot(draft: { title: string; description: string; variants: Array<{ priceMinor: number }> }) {
  const prices = new Set(draft.variants.map((v) => v.priceMinor));
  return { title: draft.title, description: draft.description, price_minor: prices.size === 1 ? [...prices][0]! : null };
}

export async function catalogPublish(ctx: AppContext, p: PublicationJob, helpers: JobHelpers): Promise<void> {
  const { rows } = await ctx.db.query<PublicationRow & { tenant_id: string; job_id: string | null }>(
    `select p.*, j.status as job_status from publications p left join publication_jobs j on j.tenant_id = p.tenant_id and j.id = p.job_id
     where p.tenant_id = $1 and p.id = $2`,
    [p.tenantId, p.publicationId],
  );
  const pub = rows[0] as (PublicationRow & { tenant_id: string; job_id: string | null; job_status: string | null }) | undefined;
  if (!pub || pub.state !== 'publishing' || !pub.action) return; // done, or superseded by a newer request's job
  if (pub.job_status === 'paused') return; // resuming the bulk job queues its waiting publications again
  const live = await ctx.channels.load(p.tenantId, p.channelId);
  if (!live?.adapter.catalog || live.row.status !== 'connected') {
    await fail(ctx, pub, live ? `The channel is ${live.row.status}: connect it again to publish` : 'The channel was removed', 0);
    return;
  }
  const catalog = live.adapter.catalog;
  const scope = systemScope(p.tenantId, `job:${helpers.job.id}`);
  let draft;
  let plan: CatalogPlan;
  const action = pub.action as CatalogAction;
  try {
    draft = await loadDraft(ctx.db, scope, pub.product_id, p.channelId, mediaUrlOf(ctx));
    plan = catalog.plan(action, draft, existingRef(pub));
  } catch (err) {
    await fail(ctx, pub, (err as Error).message, 0);
    return;
  }
  const kind = pub.job_id ? 'bulk' : 'single';
  const reserve = Math.floor(live.module.capabilities.rateLimit.burst * PUBLISH_PRIORITY[kind].reserve);
  let sent = pub.step;
  let waitMs = 0;
  const OUT_OF_BUDGET = new Error('budget');
  const { [AWAITING]: _mark, ...progress } = pub.captured ?? {};
  const awaiting = awaitingOf(pub.captured ?? {});
  try {
    const captured = await runPlan(catalog, plan.requests, {
      from: pub.step,
      captured: progress,
      awaiting,
      recover: catalog.recover ? (index, request, since) => recoverLost(ctx, pub, catalog, index, request, since) : undefined,
      beforeStep: async () => {
        waitMs = await takeWithin(live.rate, 1, HOLD_MS, reserve);
        if (waitMs > 0) throw OUT_OF_BUDGET;
      },
      // Stored before the request goes out, so that a lost answer (or a crash) leaves the mark for
      // the retry; the first sending's time is kept, as each one since may have made something.
      beforeSend: async (index) => {
        const since = awaiting?.index === index ? awaiting.since : new Date();
        await ctx.db.query(`update publications set captured = captured || $3::jsonb, updated_at = now() where tenant_id = $1 and id = $2`, [
          p.tenantId,
          p.publicationId,
          { [AWAITING]: awaitingMark({ index, since }) },
        ]);
      },
      onStep: async (step, got) => {
        sent = step.index + 1;
        if (step.recovered) helpers.logger.info(`publication ${p.publicationId}: ${step.request.label}: adopted what an unanswered attempt made`);
        await ctx.db.query(`update publications set step = $3, captured = $4, updated_at = now() where tenant_id = $1 and id = $2`, [
          p.tenantId,
          p.publicationId,
          sent,
          got,
        ]);
      },
    });
    const { ref, listings } = plan.outcome(captured);
    await finish(ctx, pub, action, draft, ref, listings, plan.requests.length);
  } catch (err) {
    if (err === OUT_OF_BUDGET) {
      await addJobs(ctx.db, [publishJob(p.tenantId, p.publicationId, p.channelId, kind, new Date(Date.now() + waitMs))]);
      return;
    }
    if (err instanceof ChannelError && err.kind === 'rate_limited') {
      await live.rate.drain(err.retryAfterMs ?? 1000);
      await addJobs(ctx.db, [publishJob(p.tenantId, p.publicationId, p.channelId, kind, new Date(Date.now() + (err.retryAfterMs ?? 1000)))]);
      return;
    }
    const message = (err as Error).message;
    if (err instanceof ChannelError && err.kind === 'permanent') return fail(ctx, pub, message, sent);
    if (err instanceof ChannelError && err.kind === 'auth')
      return fail(ctx, pub, `The marketplace refused our credentials; reconnect the channel (${message})`, sent);
    // Transient: the job retries with graphile-worker's backoff and resumes at the stored step.
    await ctx.db.query(`update publications set attempts = attempts + 1, last_error = $3, updated_at = now() where tenant_id = $1 and id = $2`, [
      p.tenantId,
      p.publicationId,
      message,
    ]);
    // This attempt got further than the last one: the platform is flaky, not refusing. Come back
    // soon as a fresh job instead of spending an attempt: graphile's backoff grows as e^attempts s,
    // so a few blips spread over a long plan (eBay's variant group is 8 requests) cost a minute or
    // more. Bounded: each such retry starts at a later step of a finite plan.
    if (sent > pub.step) {
      await addJobs(ctx.db, [publishJob(p.tenantId, p.publicationId, p.channelId, kind, new Date(Date.now() + RETRY_AFTER_PROGRESS_MS))]);
      return;
    }
    if (helpers.job.attempts >= helpers.job.max_attempts) return fail(ctx, pub, `Gave up after ${helpers.job.attempts} attempts: ${message}`, sent);
    throw err;
  }
}

/**
 * What an earlier, unanswered sending of a recoverable step made, as its answer, or null when the
 * platform shows nothing (the request is then sent again). A candidate another publication of the
 * channel already holds is theirs (two identical products recovering at once each take their
 * own): the check and the taking run under one lock per channel, and the taking stores the step's
 * progress in the same transaction.
 */
async function recoverLost(
  ctx: AppContext,
  pub: PublicationRow & { tenant_id: string },
  catalog: CatalogSide,
  index: number,
  request: PlannedRequest,
  since: Date,
): Promise<{ answer: unknown } | null> {
  for (const answer of await catalog.recover!(request, since)) {
    let values: Record<string, string>;
    try {
      values = capturesOf(request, answer);
    } catch {
      continue; // not something this request would have answered
    }
    const taken = await withTx(ctx.db, async (tx) => {
      await tx.query(`select pg_advisory_xact_lock(hashtextextended('publish-recover:' || $1 || ':' || $2, 0))`, [pub.tenant_id, pub.channel_id]);
      const { rows } = await tx.query(
        `select 1 from publications p, jsonb_each_text($4::jsonb) w
         where p.tenant_id = $1 and p.channel_id = $2 and p.id <> $3 and (p.captured ->> w.key = w.value or p.external_id = w.value) limit 1`,
        [pub.tenant_id, pub.channel_id, pub.id, values],
      );
      if (rows.length > 0) return false;
      await tx.query(
        `update publications set step = $3, captured = (captured - '${AWAITING}') || $4::jsonb, updated_at = now() where tenant_id = $1 and id = $2`,
        [pub.tenant_id, pub.id, index + 1, values],
      );
      return true;
    });
    if (taken) return { answer };
  }
  return null;
}

async function finish(
  ctx: AppContext,
  pub: PublicationRow & { tenant_id: string; job_id: string | null },
  action: CatalogAction,
  draft: Awaited<ReturnType<typeof loadDraft>>,
  ref: { externalId: string; refs: Record<string, string> },
  listings: Array<{ sku: string; externalId: string; externalLocationId?: string | null }>,
  requests: number,
): Promise<void> {
  const tenantId = pub.tenant_id;
  const state = action === 'delist' ? 'delisted' : 'live';
  await withTx(ctx.db, async (tx) => {
    await tx.query(
      `update publications set state = $3, external_id = $4, refs = $5, sent = $6, step = 0, captured = '{}', attempts = 0, last_error = null,
         version = version + 1, updated_at = now()
       where tenant_id = $1 and id = $2`,
      [tenantId, pub.id, state, ref.externalId, ref.refs, sentSnapshot(draft)],
    );
    await tx.query(`insert into publication_events (tenant_id, publication_id, action, state, requests) values ($1, $2, $3, $4, $5)`, [
      tenantId,
      pub.id,
      action,
      state,
      requests,
    ]);
    const itemBySku = new Map(draft.variants.map((v) => [v.sku, v]));
    if (action === 'delist') {
      // A delisted product sells nothing there: its listings go (a relist makes them again).
      await tx.query(`delete from listings where tenant_id = $1 and channel_id = $2 and item_id = any($3::text[])`, [
        tenantId,
        pub.channel_id,
        draft.variants.map((v) => v.itemId),
      ]);
      return;
    }
    for (const l of listings) {
      const v = itemBySku.get(l.sku);
      if (!v) continue;
      // The platform holds the quantity the plan sent (last_seen_qty); the Sync's push then checks
      // it against the exact sellable figure and writes only if they differ.
      await tx.query(
        `insert into listings (tenant_id, id, channel_id, item_id, external_id, external_location_id, external_sku, name, last_seen_qty, state, dirty_seq, pushed_seq)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 1, 0)
         on conflict (tenant_id, channel_id, external_id, external_location_id) do update
           set item_id = excluded.item_id, external_sku = excluded.external_sku, name = excluded.name,
               last_seen_qty = excluded.last_seen_qty,
               dirty_seq = listings.dirty_seq + 1, state = case when listings.state = 'in_sync' then 'pending' else listings.state end`,
        [tenantId, newId('lst'), pub.channel_id, v.itemId, l.externalId, l.externalLocationId ?? '', l.sku, draft.title, v.qty],
      );
    }
    await addJobs(tx, [pushJob(tenantId, pub.channel_id)]);
  });
  await bumpBulk(ctx, pub, 'done');
}
