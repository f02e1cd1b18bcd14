// Boots a StockClerk process: database (embedded unless DATABASE_URL), migrations, the API with
// its live stream, the workers and scheduler, and on the embedded default the demo tenant.
// The same entry serves the roles `start` (everything), `api` and `worker`.
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.ts';
import { loadKeyring, loadOrCreateSecret, Sealer } from './db/crypto.ts';
import { startEmbedded, type EmbeddedDb } from './db/embedded.ts';
import { migrateDatabase } from './db/migrate.ts';
import { createPool, type Db } from './db/pool.ts';
import { plannerWarning } from './db/pooler.ts';
import { ReplicaReads } from './db/replica.ts';
import { DatabaseWatch } from './db/watch.ts';
import { ChannelRuntime } from './engine/channel-runtime.ts';
import { DEFAULT_TUNING, type AppContext, type EngineTuning } from './engine/context.ts';
import { JobRuntime } from './engine/job-runtime.ts';
import { startWorker, type WorkerHandle } from './engine/worker.ts';
import { startProcessBeat } from './engine/process-beat.ts';
import { DiskImageStore } from './storage/images.ts';
import { startRelay, type Relay } from './engine/relay.ts';
import { buildApp } from './http/app.ts';
import { StreamHub } from './http/stream.ts';
import { createLogger, type Logger } from './log.ts';
import { metrics } from './metrics.ts';
import { Mailer } from './mail/mailer.ts';
import { StripeBilling } from './services/billing-stripe.ts';
import { UsageMeter } from './services/usage.ts';
import { PushBudget } from './engine/push-budget.ts';
import { restartEmbeddedOnExit, superviseWorker, surviveLostJobEnds } from './recovery.ts';
import type { TaskName } from './db/job-specs.ts';

export interface StartOptions {
  api?: boolean;
  worker?: boolean;
  /** The tasks this process's workers run (default: all, or all but the Guardian's with WORKER_GUARDIAN=0). */
  tasks?: readonly TaskName[];
  tuning?: Partial<EngineTuning>;
  /** Runs after the server listens (the demo seeds itself here). */
  afterListen?: (sc: StockClerk) => Promise<void>;
  log?: Logger;
  poolSize?: number;
  /** An API process without workers still relays its own outbox rows at once (webhook intake
   *  nudges it), rather than leaving them to another process's next poll. */
  relay?: boolean;
  /** The embedded PostgreSQL died and could not be started again. Default: stop and exit 1. */
  onFatal?: (err: Error) => void;
}

export interface StockClerk {
  ctx: AppContext;
  app: FastifyInstance | null;
  url: string | null;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** Billing when Stripe is configured; a key without a webhook secret is a mistake worth refusing to start over. */
function stripeBilling(config: Config): StripeBilling | null {
  const s = config.stripe;
  if (!s.secretKey) return null;
  if (!s.webhookSecret) throw new Error('STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: Stripe webhooks could not be verified');
  return new StripeBilling({ secretKey: s.secretKey, webhookSecret: s.webhookSecret, apiBase: s.apiBase, prices: s.prices });
}

/**
 * DATABASE_REPLICA_URL's pool and lag tracker; null without one. Only an API serves the reads a
 * replica may take. A short connect timeout: a standby that does not answer must send those reads
 * to the primary, not hold them.
 */
function replicaReads(config: Config, db: Db, poolSize: number, log: Logger): ReplicaReads | null {
  if (!config.replicaUrl) return null;
  const pool = createPool(config.replicaUrl, Math.min(10, poolSize), { connectTimeoutMs: 2000, applicationName: 'stockclerk-replica-reads' });
  return new ReplicaReads(db, pool, config.replicaMaxLagMs, log, {
    report: (m) => {
      if (m.lagMs !== null) metrics.replicaLag.set(m.lagMs / 1000);
      metrics.replicaUp.set(m.up ? 1 : 0);
    },
  });
}

export async function startStockClerk(config: Config, opts: StartOptions = {}): Promise<StockClerk> {
  let log = opts.log ?? createLogger(config.logLevel);
  // DATABASE_DIRECT_URL says DATABASE_URL is a transaction pooler (src/db/pooler.ts): the pools
  // speak its dialect, and what needs a session of its own connects directly.
  const pooler = config.databaseDirectUrl !== null;
  if (pooler && !config.databaseUrl) throw new Error('DATABASE_DIRECT_URL is set but DATABASE_URL is not: it names the pooler in front of that database');
  let embedded: EmbeddedDb | null = null;
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    embedded = await startEmbedded(config.dataDir, (m) => log.warn({ postgres: m }, 'embedded postgres'));
    databaseUrl = embedded.url;
    if (embedded.owned) log.info({ data_dir: config.dataDir }, 'embedded PostgreSQL started');
    // Another StockClerk server runs on this DATA_DIR: use its PostgreSQL, never stop or restart it.
    else
      log.info(
        { data_dir: config.dataDir, owner_pid: embedded.ownerPid },
        'using the embedded PostgreSQL of the StockClerk server already running on DATA_DIR',
      );
  }
  const directUrl = config.databaseDirectUrl ?? databaseUrl;
  // A session advisory lock around the migrations: a pooler would lend its connection away.
  await migrateDatabase(directUrl);
  const watch = new DatabaseWatch(databaseUrl, log);
  watch.start();
  // Every part logs through this: an outage is logged once, not once per failed query.
  log = watch.quiet(log);
  const db = createPool(databaseUrl, opts.poolSize ?? 30, { transactionPooler: pooler });
  if (pooler) {
    // Told once at start; a failed look (the database away) is the watch's to report.
    const warning = await plannerWarning(db).catch(() => null);
    if (warning) log.warn(warning);
  }
  const replica = opts.api === false ? null : replicaReads(config, db, opts.poolSize ?? 30, log);
  const sealer = new Sealer(loadKeyring(config));
  const jwtKey = loadOrCreateSecret(config.jwtSecret, config.dataDir, 'jwt.key');
  const ctx: AppContext = {
    config,
    db,
    replica,
    sealer,
    jwtKey,
    log,
    channels: new ChannelRuntime(db, sealer),
    tuning: { ...DEFAULT_TUNING, retention: { ...DEFAULT_TUNING.retention, historyDays: config.retentionDays }, ...opts.tuning },
    jobs: new JobRuntime(),
    mailer: new Mailer(config.smtpUrl, config.mailFrom),
    site: { publicUrl: config.publicUrl },
    billing: stripeBilling(config),
    images: new DiskImageStore(path.join(config.dataDir, 'images')),
    usage: new UsageMeter(db),
    pushBudget: new PushBudget(db, () => ctx.tuning.overBudgetPushGapMs, log),
  };
  const beat = startProcessBeat(db, opts.api === false ? 'worker' : opts.worker === false ? 'api' : 'start', (err) =>
    log.warn({ err }, 'process heartbeat failed'),
  );
  let ready = false;
  let stopping = false;
  let worker: WorkerHandle | null = null;
  let unguard = () => {};
  let workerDb: Db | null = null;
  let listenDb: Db | null = null;
  let beatDb: Db | null = null;
  let relay: Relay | null = null;
  let app: FastifyInstance | null = null;
  let hub: StreamHub | null = null;
  let url: string;
  const sc: StockClerk = {
    ctx,
    app: null,
    url: null,
    databaseUrl,
    async stop() {
      ready = false;
      stopping = true;
      await app?.close().catch((err) => log.error({ err }, 'closing http'));
      await hub?.stop();
      await worker?.stop().catch((err) => log.error({ err }, 'stopping worker'));
      unguard();
      await relay?.stop();
      await ctx.jobs.close();
      // After the HTTP server and the workers (nothing counts any more), before the pool closes:
      // a clean stop writes every count.
      await ctx.usage.stop().catch((err) => log.error({ err }, 'writing the last usage counts'));
      await workerDb?.end().catch(() => {});
      await listenDb?.end().catch(() => {});
      await beatDb?.end().catch(() => {});
      await ctx.channels.close();
      ctx.mailer.close();
      await beat.stop();
      await replica?.stop();
      await replica?.pool.end().catch(() => {});
      await db.end().catch(() => {});
      await watch.stop();
      await embedded?.stop().catch((err) => log.error({ err }, 'stopping postgres'));
    },
  };
  if (embedded?.owned) {
    restartEmbeddedOnExit(
      embedded,
      watch,
      log,
      opts.onFatal ??
        ((err: Error) => {
          if (stopping) return;
          log.fatal({ reason: err.message }, 'the embedded PostgreSQL cannot be restarted; exiting');
          void sc.stop().finally(() => process.exit(1));
        }),
    );
  }
  ctx.usage.start(ctx.tuning.usageFlushMs, (err) => log.warn({ err }, 'writing usage counts failed; the next flush retries them'));
  try {
    if (opts.worker !== false) {
      // The agents get a pool of their own: asynchronous commit (see PoolOptions) and no competition
      // with API requests for connections.
      const wdb = (workerDb = createPool(databaseUrl, config.workerConcurrency + 8, { asyncCommit: true, transactionPooler: pooler }));
      // graphile-worker's LISTEN for new jobs, on a session of its own (listenThrough, src/db/pooler.ts).
      const listen = (listenDb = pooler ? createPool(directUrl, 1) : null);
      // The workers' heartbeats, on a connection no job can take (startHeartbeats, src/engine/worker.ts).
      const beats = (beatDb = createPool(directUrl, 1, { asyncCommit: true, statementTimeoutMs: 2_000 }));
      unguard = surviveLostJobEnds(log);
      worker = await superviseWorker(() => startWorker({ ...ctx, db: wdb }, { listenDb: listen, beatDb: beats, tasks: opts.tasks }), watch, log);
    }
    if (opts.relay && !worker) relay = startRelay(ctx);
    // No scheduler here to sample the job queue (/metrics, the agents' view): a clock of its own.
    if (!worker) ctx.jobs.sampleQueuesEvery(db, ctx.tuning.schedulerTickMs, (err) => log.warn({ err }, 'sampling the job queue failed'));
    if (opts.api !== false) {
      replica?.start();
      // LISTEN stockclerk holds a session: directly to Postgres, never through a pooler.
      hub = new StreamHub(directUrl);
      await hub.start();
      app = await buildApp(ctx, { ready: () => ready, hub, database: () => watch.status() });
      const addr = await app.listen({ port: config.port, host: config.host });
      url = addr.replace('0.0.0.0', '127.0.0.1').replace('[::]', '127.0.0.1');
      sc.app = app;
      sc.url = url;
      ctx.site.publicUrl ??= url;
    }
    if (opts.afterListen) await opts.afterListen(sc);
    ready = true;
  } catch (err) {
    await sc.stop();
    throw err;
  }
  return sc;
}
