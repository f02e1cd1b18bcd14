// The catalog read-back: a marketplace's live listings are read (their title, description and
// price) and compared with what we last sent and with the master. A field the platform changed
// (not our echo) to something the master does not hold is a conflict (src/services/conflicts.ts);
// one the platform changed to what the master holds is simply agreed. The channel's
// `conflict_policy` setting may resolve each at once instead of queueing it for a person.
import { ChannelError } from '../channels/contract.ts';
import { loadSettings } from '../channels/settings.ts';
import type { ChannelJob } from '../db/job-specs.ts';
import { withTx } from '../db/pool.ts';
import { CONFLICT_FIELDS, recordConflict, resolveConflict, type ConflictField, type ConflictPolicy } from '../services/conflicts.ts';
import { loadDraft } from '../services/publishing.ts';
import { systemScope } from '../services/scope.ts';
import type { AppContext } from './context.ts';
import { mediaUrlOf } from './publishing.ts';
import { takeWithin } from './rate-gate.ts';

const BATCH = 25;

type Sent = { title: string; description: string; price_minor: number | null };

export interface CatalogCheckReport {
  checked: number;
  conflicts: number;
  agreed: number;
  autoResolved: number;
  /** The platform throttled the read-back: the rest waits for the next run. */
  stoppedEarly: boolean;
}

export async function catalogCheck(ctx: AppContext, p: ChannelJob): Promise<CatalogCheckReport> {
  const report: CatalogCheckReport = { checked: 0, conflicts: 0, agreed: 0, autoResolved: 0, stoppedEarly: false };
  const live = await ctx.channels.load(p.tenantId, p.channelId);
  const catalog = live?.adapter.catalog;
  if (!live || !catalog || live.row.status !== 'connected') return report;
  const settings = loadSettings(live.module.settings, live.row.settings) as { conflict_policy?: ConflictPolicy };
  const policy: ConflictPolicy = settings.conflict_policy ?? 'ask';
  const scope = systemScope(p.tenantId, `catalog-check:${p.channelId}`);
  const { rows: pubs } = await ctx.db.query<{ id: string; product_id: string; external_id: string; refs: Record<string, string>; sent: Sent }>(
    `select id, product_id, external_id, refs, sent from publications
     where tenant_id = $1 and channel_id = $2 and state = 'live' and external_id is not null and sent is not null order by id`,
    [p.tenantId, p.channelId],
  );
  for (let i = 0; i < pubs.length; i += BATCH) {
    const batch = pubs.slice(i, i + BATCH);
    // A read-back is the lowest-priority call there is: it leaves half the budget to pushes and publishing.
    if ((await takeWithin(live.rate, batch.length, 10_000, Math.floor(live.module.capabilities.rateLimit.burst / 2))) > 0) break;
    let remote;
    try {
      remote = await catalog.readFields(batch.map((b) => ({ externalId: b.external_id, refs: b.refs })));
    } catch (err) {
      // Over the platform's limit (its budget is shared with the merchant's other apps): stop here
      // and leave the rest to the next Guardian run, which comes soon enough for a read-back.
      if (err instanceof ChannelError && err.kind === 'rate_limited') {
        await live.rate.drain(err.retryAfterMs ?? 1000);
        report.stoppedEarly = true;
        break;
      }
      throw err;
    }
    const byId = new Map(remote.map((r) => [r.externalId, r]));
    for (const pub of batch) {
      const r = byId.get(pub.external_id);
      if (!r) continue;
      report.checked++;
      const draft = await loadDraft(ctx.db, scope, pub.product_id, p.channelId, mediaUrlOf(ctx)).catch(() => null);
      if (!draft) continue;
      const prices = new Set(draft.variants.map((v) => v.priceMinor));
      const master: Sent = { title: draft.title, description: draft.description, price_minor: prices.size === 1 ? [...prices][0]! : null };
      const platform: Sent = { title: r.title ?? pub.sent.title, description: r.description ?? pub.sent.description, price_minor: r.priceMinor };
      for (const field of CONFLICT_FIELDS) {
        const got = platform[field];
        if (got === null || got === pub.sent[field]) continue; // unchanged since we sent it (or not comparable)
        if (got === master[field]) {
          // Changed there to what we hold now: agreed, remember it as sent.
          await ctx.db.query(`update publications set sent = jsonb_set(sent, $3, $4::jsonb) where tenant_id = $1 and id = $2`, [
            p.tenantId,
            pub.id,
            `{${field}}`,
            JSON.stringify(got),
          ]);
          report.agreed++;
          continue;
        }
        await withTx(ctx.db, async (tx) => {
          const id = await recordConflict(tx, p.tenantId, {
            channelId: p.channelId,
            productId: pub.product_id,
            publicationId: pub.id,
            field: field as ConflictField,
            master: master[field],
            platform: got,
          });
          report.conflicts++;
          if (policy !== 'ask') {
            await resolveConflict(tx, scope, id, policy);
            report.autoResolved++;
          }
        });
      }
    }
  }
  return report;
}
