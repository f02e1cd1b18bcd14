// The job registry: every task StockClerk runs, declared once with its payload and the agent it
// belongs to, and the builders that give each job its key (coalescing) and queue (ordering).
// Writers in every layer (the ledger's SQL, services, the engine) build their jobs here. The
// engine maps each task to its handler in src/engine/tasks.ts, typed by TaskPayloads: a task
// without a handler, or a handler taking another payload, does not compile ("Go to
// Implementation" on a task below lands on its handler there).
// The Watcher's apply job and the Sync's push job share the channel's queue so they never
// interleave on one channel's listings; the Guardian runs one at a time per tenant.

/** A job about one channel of a tenant. */
export interface ChannelJob {
  tenantId: string;
  channelId: string;
}
/** A job about one tenant. */
export interface TenantJob {
  tenantId: string;
}
/** A job about one outbound webhook endpoint. */
export interface EndpointJob {
  tenantId: string;
  endpointId: string;
}
/** A job running one row of api_jobs (an import or an export the API accepted). */
export interface ApiJobRef {
  tenantId: string;
  jobId: string;
}
/** One mail, sealed (src/db/crypto.ts): it may hold a reset or invitation link, and job rows are not secret. */
export interface MailJob {
  sealed: string;
}
/** An alert just raised, to mail to the users who want each one. */
export interface AlertMailJob {
  tenantId: string;
  alertId: string;
}
/** A job running one publication's action (publish, update, delist, relist) on its channel. */
export interface PublicationJob {
  tenantId: string;
  channelId: string;
  publicationId: string;
}
/** Jobs for the whole installation carry nothing. */
export type NoPayload = Record<string, never>;

/** Task name -> payload, and (in each comment) the handler that runs it. */
export interface TaskPayloads {
  /** Watcher: applies a channel's recorded events to the ledger. Run by watcherApply, src/engine/watcher.ts. */
  watcher_apply: ChannelJob;
  /** Watcher: polls a channel that can be polled (the safety net). Run by watcherPoll, src/engine/watcher.ts. */
  watcher_poll: ChannelJob;
  /** Sync: pushes a channel's changed listings. Run by syncPush, src/engine/sync.ts. */
  sync_push: ChannelJob;
  /** Guardian: reads every channel of a tenant back and repairs drift. Run by guardianRun, src/engine/guardian.ts. */
  guardian_run: TenantJob;
  /** Alert: low / out of stock for the items that moved. Run by alertsStock, src/engine/alerts.ts. */
  alerts_stock: TenantJob;
  /** Alert: channel health across tenants (periodic). Run by alertsHealth, src/engine/alerts.ts. */
  alerts_health: NoPayload;
  /** Prunes history (periodic). Run by retentionTask, src/engine/retention.ts. */
  retention: NoPayload;
  /** Delivers one endpoint's outbound webhooks. Run by webhookDeliver, src/engine/outbound-webhooks.ts. */
  webhook_deliver: EndpointJob;
  /** Runs an import or export. Run by runApiJob, src/engine/api-jobs.ts. */
  api_job: ApiJobRef;
  /** Sends one mail. Run by mailSend, src/engine/mail.ts. */
  mail_send: MailJob;
  /** Mails a raised alert to the users who want each alert. Run by alertMail, src/engine/mail.ts. */
  alert_mail: AlertMailJob;
  /** Mails the daily digests that are due (periodic). Run by alertDigest, src/engine/mail.ts. */
  alert_digest: NoPayload;
  /** Reads a tenant's subscription back from Stripe after one of its events. Run by billingSync, src/engine/billing.ts. */
  billing_sync: TenantJob;
  /** Mails trial and payment notices that are due (periodic). Run by billingNotices, src/engine/billing.ts. */
  billing_notices: NoPayload;
  /** Catalog: runs one publication's action on its marketplace. Run by catalogPublish, src/engine/publishing.ts. */
  catalog_publish: PublicationJob;
  /** Catalog: reads a marketplace's published listings back and records conflicts. Run by catalogCheck, src/engine/conflicts.ts. */
  catalog_check: ChannelJob;
}
export type TaskName = keyof TaskPayloads;

/** The tasks that write to a tenant's channels: what waits while its plan is lapsed past grace (src/engine/pause.ts). */
export const PUSHING_TASKS: readonly TaskName[] = ['sync_push', 'guardian_run', 'catalog_publish'];

/** The four agents of the dashboard, in the order it shows them. */
export const AGENT_NAMES = ['watcher', 'sync', 'guardian', 'alert'] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

/** Per task: the agent whose work it is (null: none of the four). */
export const TASKS: { readonly [T in keyof TaskPayloads]: { readonly agent: AgentName | null } } = {
  watcher_apply: { agent: 'watcher' },
  watcher_poll: { agent: 'watcher' },
  sync_push: { agent: 'sync' },
  guardian_run: { agent: 'guardian' },
  alerts_stock: { agent: 'alert' },
  alerts_health: { agent: 'alert' },
  retention: { agent: null },
  webhook_deliver: { agent: null },
  api_job: { agent: null },
  mail_send: { agent: null },
  alert_mail: { agent: 'alert' },
  alert_digest: { agent: 'alert' },
  billing_sync: { agent: null },
  billing_notices: { agent: null },
  catalog_publish: { agent: null },
  catalog_check: { agent: 'guardian' },
};
export const TASK_NAMES = Object.keys(TASKS) as TaskName[];
/** The Guardian's tasks: what a `stockclerk guardian` process runs (src/cli/main.ts). */
export const GUARDIAN_TASKS: readonly TaskName[] = TASK_NAMES.filter((t) => TASKS[t].agent === 'guardian');

/** One job to add: a registered task with its payload (see addJobs in src/db/jobs.ts). */
export type JobSpec<T extends TaskName = TaskName> = {
  [K in T]: {
    task: K;
    payload: TaskPayloads[K];
    /** Same key = one pending job: later adds replace it (array payloads are appended). */
    key?: string;
    /** Jobs in one queue run one at a time, in order. */
    queue?: string;
    runAt?: Date;
    maxAttempts?: number;
    priority?: number;
  };
}[T];

// Every job key and queue name is `<prefix><subject>[:<more>]`, its subject the channel, tenant or
// endpoint it is about. graphile-worker's public jobs view shows no payload: this is how the
// agents' per-tenant queue counts find a job's tenant (src/engine/queue-stats.ts).
export const CHANNEL_QUEUE_PREFIX = 'ch:';
export const PUSH_KEY_PREFIX = 'push:';
export const WEBHOOK_KEY_PREFIX = 'whk:';
export const channelQueue = (channelId: string) => `${CHANNEL_QUEUE_PREFIX}${channelId}`;

/**
 * The Sync's push for one channel, run by syncPush (src/engine/sync.ts). The ledger's statements
 * signal it for every channel they find (pushJobTemplate below; levelChangeSignals in src/ledger/ledger.ts).
 */
export function pushJob(tenantId: string, channelId: string, runAt?: Date): JobSpec<'sync_push'> {
  return { task: 'sync_push', payload: { tenantId, channelId }, key: `${PUSH_KEY_PREFIX}${channelId}`, queue: channelQueue(channelId), runAt };
}

/** The Watcher's apply run for a channel with recorded events (signalled by src/engine/intake.ts), run by watcherApply (src/engine/watcher.ts). */
export function applyJob(tenantId: string, channelId: string): JobSpec<'watcher_apply'> {
  return { task: 'watcher_apply', payload: { tenantId, channelId }, key: `apply:${channelId}`, queue: channelQueue(channelId) };
}

/** The Watcher's safety-net poll, run by watcherPoll (src/engine/watcher.ts). */
export function pollJob(tenantId: string, channelId: string): JobSpec<'watcher_poll'> {
  return { task: 'watcher_poll', payload: { tenantId, channelId }, key: `poll:${channelId}`, queue: channelQueue(channelId) };
}

/** A Guardian run for a tenant, run by guardianRun (src/engine/guardian.ts). */
export function guardianJob(tenantId: string, runAt?: Date): JobSpec<'guardian_run'> {
  return { task: 'guardian_run', payload: { tenantId }, key: `guardian:${tenantId}`, queue: `guardian:${tenantId}`, runAt };
}

/** The stock alert check, run by alertsStock (src/engine/alerts.ts). Debounced: a burst of stock changes is one check. */
export function alertsStockJob(tenantId: string): JobSpec<'alerts_stock'> {
  return { task: 'alerts_stock', payload: { tenantId }, key: `alerts-stock:${tenantId}`, runAt: new Date(Date.now() + 1000) };
}

/** The delivery job for an endpoint, now (the causes' outbox rows) or at a retry time; run by webhookDeliver (src/engine/outbound-webhooks.ts). */
export function webhookJob(tenantId: string, endpointId: string, runAt?: Date): JobSpec<'webhook_deliver'> {
  return {
    task: 'webhook_deliver',
    payload: { tenantId, endpointId },
    // A retry gets a key of its own time: a waiting job keeps its run time when its key is added again.
    key: runAt ? `${WEBHOOK_KEY_PREFIX}${endpointId}:${runAt.getTime()}` : `${WEBHOOK_KEY_PREFIX}${endpointId}`,
    queue: `${WEBHOOK_KEY_PREFIX}${endpointId}`,
    runAt,
  };
}

/** An import or export the API accepted, run by runApiJob (src/engine/api-jobs.ts); three attempts, then the job shows failed. */
export function apiJobSpec(tenantId: string, jobId: string): JobSpec<'api_job'> {
  return { task: 'api_job', payload: { tenantId, jobId }, maxAttempts: 3 };
}

/** Channel health across tenants, run by alertsHealth (src/engine/alerts.ts). */
export function alertsHealthJob(runAt?: Date): JobSpec<'alerts_health'> {
  return { task: 'alerts_health', payload: {}, key: 'alerts-health', runAt };
}

/** History pruning, run by retentionTask (src/engine/retention.ts). */
export function retentionJob(runAt?: Date): JobSpec<'retention'> {
  return { task: 'retention', payload: {}, key: 'retention', runAt };
}

/** One mail; ten attempts over about an hour and a half (graphile-worker's exponential backoff). */
export function mailJob(sealed: string): JobSpec<'mail_send'> {
  return { task: 'mail_send', payload: { sealed }, maxAttempts: 10 };
}

/** The mails of a raised alert, run by alertMail (src/engine/mail.ts). */
export function alertMailJob(tenantId: string, alertId: string): JobSpec<'alert_mail'> {
  return { task: 'alert_mail', payload: { tenantId, alertId }, key: `alert-mail:${alertId}`, maxAttempts: 5 };
}

/** The daily digests that are due, run by alertDigest (src/engine/mail.ts). */
export function alertDigestJob(runAt?: Date): JobSpec<'alert_digest'> {
  return { task: 'alert_digest', payload: {}, key: 'alert-digest', runAt };
}

/**
 * Inside one channel budget, stock pushes come first, then single catalog actions, then bulk
 * publishing: the job's priority orders the queue, and the reserve (share of the bucket's burst a
 * take must leave behind, src/engine/rate-gate.ts) keeps room in the budget for the work above.
 */
export const PUBLISH_PRIORITY = { single: { priority: 5, reserve: 0.25 }, bulk: { priority: 10, reserve: 0.5 } } as const;
export type PublishPriority = keyof typeof PUBLISH_PRIORITY;

/** One publication's action, run by catalogPublish (src/engine/publishing.ts); a channel's catalog actions run one at a time. */
export function publishJob(
  tenantId: string,
  publicationId: string,
  channelId: string,
  kind: PublishPriority = 'single',
  runAt?: Date,
): JobSpec<'catalog_publish'> {
  return {
    task: 'catalog_publish',
    payload: { tenantId, channelId, publicationId },
    // The channel first: queue stats find a job's tenant from the subject after the prefix (src/engine/queue-stats.ts).
    key: `pub:${channelId}:${publicationId}`,
    queue: `cat:${channelId}`,
    priority: PUBLISH_PRIORITY[kind].priority,
    maxAttempts: 8,
    runAt,
  };
}

/** A marketplace's catalog read-back (conflicts), run by catalogCheck (src/engine/conflicts.ts). */
export function catalogCheckJob(tenantId: string, channelId: string, runAt?: Date): JobSpec<'catalog_check'> {
  return { task: 'catalog_check', payload: { tenantId, channelId }, key: `catcheck:${channelId}`, queue: `cat:${channelId}`, runAt };
}

/** A tenant's subscription read back from Stripe, run by billingSync (src/engine/billing.ts); a burst of events is one read. */
export function billingSyncJob(tenantId: string): JobSpec<'billing_sync'> {
  return { task: 'billing_sync', payload: { tenantId }, key: `billing:${tenantId}`, maxAttempts: 8 };
}

/**
 * Jobs that run on their own clock, one at a time for the whole installation: the scheduler enqueues
 * each again (after `everyMs`) whenever none is waiting or running.
 */
/** The trial and payment mails that are due, run by billingNotices (src/engine/billing.ts). */
export function billingNoticesJob(runAt?: Date): JobSpec<'billing_notices'> {
  return { task: 'billing_notices', payload: {}, key: 'billing-notices', runAt };
}

export const PERIODIC_JOBS: Array<JobSpec<'alerts_health' | 'retention' | 'alert_digest' | 'billing_notices'> & { everyMs: number }> = [
  { ...alertsHealthJob(), everyMs: 60_000 },
  { ...retentionJob(), everyMs: 3_600_000 },
  // Digests are due a day after the last one; checking every 10 minutes sends each within 10.
  { ...alertDigestJob(), everyMs: 600_000 },
  // Trial reminders and payment notices are about days: every 10 minutes is prompt enough.
  { ...billingNoticesJob(), everyMs: 600_000 },
];

// Set-based statements signal a job for every row they find (a push per channel, a delivery per
// endpoint). They take the builder's own job as a bound parameter, built with an empty subject,
// and append each row's id to its key and queue and set it in its payload: the task, key and
// queue stay the builder's, not copies written into SQL.

/** pushJob for the channels a statement finds: append the channel id (levelChangeSignals). */
export function pushJobTemplate(tenantId: string): JobSpec<'sync_push'> {
  return pushJob(tenantId, '');
}

/** alertMailJob for the alert a statement raises: append the alert id (raiseAlert, src/services/alerts.ts). */
export function alertMailJobTemplate(tenantId: string): JobSpec<'alert_mail'> {
  return alertMailJob(tenantId, '');
}

/** webhookJob for the endpoints a statement finds: append the endpoint id (webhookEventCtes). */
export function webhookJobTemplate(tenantId: string): JobSpec<'webhook_deliver'> {
  return webhookJob(tenantId, '');
}
