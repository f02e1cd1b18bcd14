// What every part of a running StockClerk process shares.
import type { Config } from '../config.ts';
import type { Sealer } from '../db/crypto.ts';
import type { Db } from '../db/pool.ts';
import type { ReplicaReads } from '../db/replica.ts';
import type { Logger } from '../log.ts';
import type { Mailer } from '../mail/mailer.ts';
import type { StripeBilling } from '../services/billing-stripe.ts';
import type { UsageMeter } from '../services/usage.ts';
import type { PushBudget } from './push-budget.ts';
import type { ChannelRuntime } from './channel-runtime.ts';
import type { JobRuntime } from './job-runtime.ts';
import type { ImageStore } from '../storage/images.ts';

const S = 1_000;
const M = 60 * S;
const H = 60 * M;
/** Retries after the first attempt: 11 attempts over about 3 days (71.6 h before jitter of +-20%). */
export const WEBHOOK_RETRY_SCHEDULE_MS = [5 * S, 1 * M, 5 * M, 30 * M, 2 * H, 5 * H, 10 * H, 14 * H, 20 * H, 20 * H];

/** How long history is kept (src/engine/retention.ts). */
export interface RetentionPolicy {
  historyDays: number;
  jobDays: number;
  /** Rows per table per slice. */
  slice: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { historyDays: 30, jobDays: 7, slice: 5_000 };

export interface EngineTuning {
  /** In-job retries of a failing push before handing the job back to the queue's backoff. */
  pushRetries: number;
  pushRetryBaseMs: number;
  /**
   * Before acting on a difference, the Guardian waits this long after its read began and looks at
   * those listings again (src/engine/guardian.ts, step 4): a sale the channel made just before the
   * read has its event on the way, and must be counted before its level is overwritten. 0: no wait.
   */
  guardianSettleMs: number;
  /** Seconds between safety-net polls of channels that can be polled. */
  pollIntervalS: number;
  /**
   * A channel none of whose items moved for `quietAfterS` (no push, settled or sent, since then;
   * a new channel counts from its connection) is polled every `quietPollIntervalS` instead: a
   * thousand idle shops must not cost a thousand polls every interval. Any sale anywhere in its
   * tenant touches it (the push signal reaches every channel listing the item) and brings it back.
   */
  quietAfterS: number;
  quietPollIntervalS: number;
  schedulerTickMs: number;
  /** Outbound webhooks: the wait before each retry (see src/engine/outbound-webhooks.ts), the HTTP timeout,
   *  and the circuit breaker (paused after this many failed attempts in a row spanning this long). */
  webhookRetryScheduleMs: number[];
  webhookTimeoutMs: number;
  webhookBreakerFailures: number;
  webhookBreakerSpanMs: number;
  /** How long history is kept (src/engine/retention.ts). */
  retention: RetentionPolicy;
  /** How often an open /stream socket re-checks its credential (a revoked key or ended session closes it). */
  streamRecheckMs: number;
  /** How often this process writes its usage counters (src/services/usage.ts): at most this much is lost in a crash. */
  usageFlushMs: number;
  /** A tenant past its monthly push budget has each channel pushed at most this often (src/engine/push-budget.ts). */
  overBudgetPushGapMs: number;
}

export const DEFAULT_TUNING: EngineTuning = {
  pushRetries: 4,
  pushRetryBaseMs: 100,
  guardianSettleMs: 3_000,
  pollIntervalS: 30,
  quietAfterS: 600,
  quietPollIntervalS: 300,
  schedulerTickMs: 2_000,
  webhookRetryScheduleMs: WEBHOOK_RETRY_SCHEDULE_MS,
  webhookTimeoutMs: 15_000,
  webhookBreakerFailures: 20,
  webhookBreakerSpanMs: 24 * 3_600_000,
  retention: DEFAULT_RETENTION,
  streamRecheckMs: 5_000,
  usageFlushMs: 5_000,
  overBudgetPushGapMs: 10_000,
};

export interface AppContext {
  config: Config;
  /** Connects as the system role, which row-level security does not restrict: cross-tenant work and
   *  reads filtered by tenant_id. Tenant-scoped writes go through `tenantTx(db, ...)` (src/db/tenant-tx.ts). */
  db: Db;
  /** DATABASE_REPLICA_URL's pool and staleness, for the few reads it may serve (src/http/replica-read.ts); absent: all on `db`. */
  replica?: ReplicaReads | null;
  sealer: Sealer;
  jwtKey: Buffer;
  log: Logger;
  channels: ChannelRuntime;
  tuning: EngineTuning;
  /** This process's relays and workers to wake, its sampled job queue counts (src/engine/job-runtime.ts). */
  jobs: JobRuntime;
  mailer: Mailer;
  /**
   * Where merchants reach this StockClerk, for links in mail: PUBLIC_URL, else the address the API
   * listens on (set once it listens: one object shared by every copy of the context), else null in
   * a worker-only process.
   */
  site: { publicUrl: string | null };
  /** Stripe (or its emulator); null when billing is off (no STRIPE_SECRET_KEY outside `start`). */
  billing: StripeBilling | null;
  /** Where product images' bytes are kept (DATA_DIR/images by default: src/storage/images.ts). */
  images: ImageStore;
  /** This process's usage counters (API calls, pushes, webhooks per tenant per day), flushed every few seconds. */
  usage: UsageMeter;
  /** Which tenants are past their monthly push budget, and when each of their channels may push next. */
  pushBudget: PushBudget;
}
