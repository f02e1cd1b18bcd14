// Bulk publishing: many products to many marketplace channels as one job (publication_jobs) with
// progress. Each (product, channel) is an ordinary publication action queued at bulk priority
// (PUBLISH_PRIORITY in src/db/job-specs.ts): it runs after single actions, leaves half of each
// channel's budget to stock pushes and single actions, and a paused job's actions wait.
import type { CatalogAction } from '../channels/contract.ts';
import { AppError, conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { publishJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Tx } from '../db/pool.ts';
import { audit } from './audit-log.ts';
import { dryRunAnswer, effectiveAction, planProduct, publicationOf, requestActions, type CatalogChannel } from './publishing.ts';
import type { Q, Scope } from './scope.ts';

/** Most requests a bulk dry run lists (it counts them all). */
const DRY_RUN_LIST = 200;

/** The products a bulk job covers: the list (each must be this tenant's), or every active product. */
export async function resolveProducts(q: Q, scope: Scope, ids: string[] | null): Promise<string[]> {
  if (ids === null) {
    const { rows } = await q.query<{ id: string }>(`select id from products where tenant_id = $1 and status = 'active' order by id`, [scope.tenantId]);
    return rows.map((r) => r.id);
  }
  const unique = [...new Set(ids)];
  const { rows } = await q.query<{ id: string }>(`select id from products where tenant_id = $1 and id = any($2::text[])`, [scope.tenantId, unique]);
  const found = new Set(rows.map((r) => r.id));
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) {
    throw new AppError(
      404,
      'not_found',
      `No product ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`,
      missing.slice(0, 20).map((id) => ({ path: 'product_ids', message: `no product ${id}` })),
    );
  }
  return unique;
}

export async function bulkDryRun(
  q: Q,
  scope: Scope,
  channels: CatalogChannel[],
  productIds: string[],
  action: CatalogAction,
  mediaUrl: (key: string) => string,
) {
  const plans = [];
  for (const id of productIds) plans.push(...(await planProduct(q, scope, channels, id, action, mediaUrl, { skipInapplicable: true })));
  const all = await dryRunAnswer(q, scope, plans);
  return { ...all, requests: all.requests.slice(0, DRY_RUN_LIST), requests_total: all.requests.length };
}

const JOB_COLUMNS = `j.id, j.action, j.status, j.total, j.done, j.failed, j.created_at, j.updated_at,
  (select count(*) from publications p where p.tenant_id = j.tenant_id and p.job_id = j.id and p.state = 'publishing')::int as publishing`;

export async function getBulk(q: Q, scope: Scope, id: string) {
  const { rows } = await q.query(`select ${JOB_COLUMNS} from publication_jobs j where j.tenant_id = $1 and j.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Publishing job');
  return rows[0] as { id: string; status: string; total: number; done: number; failed: number; publishing: number };
}

export async function startBulk(tx: Tx, scope: Scope, channels: CatalogChannel[], productIds: string[], action: CatalogAction) {
  const id = newId('pbj');
  const items: Array<{ productId: string; channelId: string; action: CatalogAction }> = [];
  for (const productId of productIds) {
    for (const ch of channels) {
      const pub = await publicationOf(tx, scope.tenantId, productId, ch.id);
      // What cannot apply (an update of a product never published) is left out, not failed.
      try {
        items.push({ productId, channelId: ch.id, action: effectiveAction(action, pub) });
      } catch {
        continue;
      }
    }
  }
  if (items.length === 0)
    throw conflict(`Nothing to ${action}: none of these products can be ${action === 'update' ? 'updated' : `${action}ed`} on these channels`);
  await tx.query(`insert into publication_jobs (tenant_id, id, action, total, created_by) values ($1, $2, $3, $4, $5)`, [
    scope.tenantId,
    id,
    action,
    items.length,
    `${scope.actor.type}:${scope.actor.id}`,
  ]);
  await requestActions(tx, scope, items, { jobId: id, priority: 'bulk' });
  await audit(
    tx,
    scope,
    'publication_job.start',
    { type: 'publication_job', id },
    { action, products: productIds.length, channels: channels.map((c) => c.id) },
  );
  return getBulk(tx, scope, id);
}

export async function pauseBulk(tx: Tx, scope: Scope, id: string) {
  const job = await getBulk(tx, scope, id);
  if (job.status !== 'running') throw new AppError(409, 'not_running', `The job is ${job.status}; only a running job can be paused`);
  await tx.query(`update publication_jobs set status = 'paused', updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, id]);
  await audit(tx, scope, 'publication_job.pause', { type: 'publication_job', id });
  return getBulk(tx, scope, id);
}

/** Resumes a paused job: its publications still waiting are queued again (their jobs ended when they found it paused). */
export async function resumeBulk(tx: Tx, scope: Scope, id: string) {
  const job = await getBulk(tx, scope, id);
  if (job.status !== 'paused') throw new AppError(409, 'not_paused', `The job is ${job.status}; only a paused job can be resumed`);
  // Items that were running when it paused may all have finished since: then the job is over.
  await tx.query(
    `update publication_jobs set updated_at = now(),
       status = case when done + failed >= total then case when failed > 0 then 'failed' else 'done' end else 'running' end
     where tenant_id = $1 and id = $2`,
    [scope.tenantId, id],
  );
  const { rows } = await tx.query<{ id: string; channel_id: string }>(
    `select id, channel_id from publications where tenant_id = $1 and job_id = $2 and state = 'publishing'`,
    [scope.tenantId, id],
  );
  await addJobs(
    tx,
    rows.map((r) => publishJob(scope.tenantId, r.id, r.channel_id, 'bulk')),
  );
  await audit(tx, scope, 'publication_job.resume', { type: 'publication_job', id });
  return getBulk(tx, scope, id);
}
