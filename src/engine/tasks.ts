// Every task of the job registry (src/db/job-specs.ts) and the function that runs it. The map is
// typed by the registry: a task without a handler, a handler for an unknown task, or a handler
// taking another payload than the registry declares does not compile. The worker's task list is
// built from this map (src/engine/worker.ts).
import type { JobHelpers } from 'graphile-worker';
import type { TaskName, TaskPayloads } from '../db/job-specs.ts';
import { alertDigest, alertMail, mailSend } from './mail.ts';
import { billingNotices, billingSync } from './billing.ts';
import { alertsHealth, alertsStock } from './alerts.ts';
import { failApiJob, runApiJob } from './api-jobs.ts';
import type { AppContext } from './context.ts';
import { catalogCheck } from './conflicts.ts';
import { guardianRun } from './guardian.ts';
import { catalogPublish } from './publishing.ts';
import { retentionTask } from './retention.ts';
import { syncPush } from './sync.ts';
import { watcherApply, watcherPoll } from './watcher.ts';
import { webhookDeliver } from './outbound-webhooks.ts';

export type TaskHandler<T extends TaskName> = (ctx: AppContext, payload: TaskPayloads[T], helpers: JobHelpers) => Promise<unknown>;

export const TASK_HANDLERS: { readonly [T in keyof TaskPayloads]: TaskHandler<T> } = {
  watcher_apply: watcherApply,
  watcher_poll: watcherPoll,
  sync_push: syncPush,
  guardian_run: guardianRun,
  alerts_stock: alertsStock,
  alerts_health: alertsHealth,
  retention: retentionTask,
  webhook_deliver: webhookDeliver,
  mail_send: mailSend,
  alert_mail: alertMail,
  alert_digest: alertDigest,
  billing_sync: billingSync,
  billing_notices: billingNotices,
  catalog_publish: catalogPublish,
  catalog_check: catalogCheck,
  api_job: async (ctx, p, helpers) => {
    try {
      await runApiJob(ctx, p);
    } catch (err) {
      // Out of attempts: the API shows the job failed instead of running for ever.
      if (helpers.job.attempts >= helpers.job.max_attempts) await failApiJob(ctx, p.tenantId, p.jobId, `The job failed: ${(err as Error).message}`);
      throw err;
    }
  },
};
