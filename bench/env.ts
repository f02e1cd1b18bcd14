// What every benchmark runs on: a Postgres of its own (embedded in a fresh temp dir, or a fresh
// database on the DATABASE_URL server), a StockClerk booted the way production boots it
// (startStockClerk on 127.0.0.1, port 0, no demo, quiet logs), and one stop() that undoes it all.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig, type Config } from '../src/config.ts';
import { loadOrCreateSecret, Sealer } from '../src/db/crypto.ts';
import { freePort, startEmbedded } from '../src/db/embedded.ts';
import { migrateDatabase } from '../src/db/migrate.ts';
import { createPool } from '../src/db/pool.ts';
import { ChannelRuntime } from '../src/engine/channel-runtime.ts';
import { DEFAULT_TUNING, type AppContext } from '../src/engine/context.ts';
import { JobRuntime } from '../src/engine/job-runtime.ts';
import { Mailer } from '../src/mail/mailer.ts';
import { DiskImageStore } from '../src/storage/images.ts';
import { UsageMeter } from '../src/services/usage.ts';
import { PushBudget } from '../src/engine/push-budget.ts';
import { createLogger } from '../src/log.ts';
import { startStockClerk, type StartOptions, type StockClerk } from '../src/server.ts';

/** Progress goes to stderr (stdout's last line is the result), never starting with '{'. */
export function progress(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
}

/** CPU seconds (user + system) used so far by a process and, with `children`, its live children. */
export function cpuSeconds(pid: number, children = false): number {
  const tick = 100; // USER_HZ on Linux
  const read = (p: number) => {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / tick };
    } catch {
      return { ppid: -1, cpu: 0 };
    }
  };
  let total = read(pid).cpu;
  if (children) {
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const r = read(Number(d));
      if (r.ppid === pid) total += r.cpu;
    }
  }
  return total;
}

export interface BenchDb {
  /** Connection string of the database the run owns. */
  url: string;
  /** The embedded server's postmaster (its backends are its children), for CPU accounting. */
  postmasterPid?: () => number | null;
  kind: 'embedded' | 'external';
  drop(): Promise<void>;
}

/** A database nobody else uses: embedded Postgres in a temp dir, or a fresh database on DATABASE_URL's server. */
export async function benchDatabase(): Promise<BenchDb> {
  const external = process.env.DATABASE_URL;
  if (external) {
    const name = `sc_bench_${randomBytes(5).toString('hex')}`;
    const admin = new pg.Client({ connectionString: external });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const u = new URL(external);
    u.pathname = '/' + name;
    progress(`database ${name} created on the DATABASE_URL server`);
    return {
      url: u.toString(),
      kind: 'external',
      async drop() {
        const a = new pg.Client({ connectionString: external });
        await a.connect();
        await a.query(`drop database if exists ${name} with (force)`).catch(() => {});
        await a.end();
      },
    };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-bench-pg-'));
  const started = Date.now();
  // BENCH_PG_STATEMENTS=N: pg_stat_statements loaded, and its top N statements by time printed at the end.
  const top = Number(process.env.BENCH_PG_STATEMENTS) || 0;
  const emb = await startEmbedded(dir, (m) => progress(`postgres: ${m}`), top ? { settings: { shared_preload_libraries: 'pg_stat_statements' } } : {});
  progress(`embedded PostgreSQL up in ${Date.now() - started} ms (${dir})`);
  if (top) await onDb(emb.url, (c) => c.query('create extension if not exists pg_stat_statements'));
  return {
    url: emb.url,
    kind: 'embedded',
    postmasterPid: () => {
      try {
        return Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      } catch {
        return null;
      }
    },
    async drop() {
      if (top) await onDb(emb.url, (c) => printTopStatements(c, top)).catch((err: unknown) => progress(`pg_stat_statements: ${String(err)}`));
      await emb.stop().catch((err: unknown) => progress(`stopping postgres: ${String(err)}`));
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function onDb<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Where Postgres's time went: the top statements by total execution time, with calls and time per call. */
async function printTopStatements(c: pg.Client, n: number): Promise<void> {
  const { rows } = await c.query(
    `select calls, total_exec_time as total, total_exec_time / calls as per_call, rows, regexp_replace(query, '\\s+', ' ', 'g') as query
     from pg_stat_statements order by total_exec_time desc limit $1`,
    [n],
  );
  progress(`pg_stat_statements, top ${n} by total time (calls, total ms, ms per call, rows):`);
  for (const r of rows) progress(`  ${r.calls} ${Math.round(r.total)} ${r.per_call.toFixed(3)} ${r.rows} ${String(r.query).slice(0, 220)}`);
}

export interface BenchEnv {
  /** The StockClerk under test, or (productProcess) a bench-side context on its database with its URL. */
  sc: Pick<StockClerk, 'ctx' | 'url'>;
  db: BenchDb;
  config: Config;
  /** The product's own process, when it runs as one (productProcess): the first of `processes`. */
  productPid?: number;
  /** Every product process (productProcess): its role, pid and, for api/start, its URL. */
  processes?: Array<Omit<ProductProcess, 'child'>>;
  stop(): Promise<void>;
}

/** Database + StockClerk. `opts` go to startStockClerk (worker/api on or off, tuning, pool size). */
export async function startBenchEnv(
  opts: Omit<StartOptions, 'log'> & {
    workerConcurrency?: number;
    workerProcess?: boolean;
    productProcess?: boolean;
    /** With productProcess: N `stockclerk api` and M `stockclerk worker` processes instead of one `stockclerk start`. */
    processes?: { api: number; workers: number };
  } = {},
): Promise<BenchEnv> {
  if (opts.productProcess) return startProductProcess(opts.workerConcurrency, opts.processes);
  const db = await benchDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-bench-data-'));
  const base = loadConfig({});
  const config: Config = {
    ...base,
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: db.url,
    demo: false,
    logLevel: process.env.BENCH_LOG_LEVEL ?? 'silent',
    workerConcurrency: opts.workerConcurrency ?? (Number(process.env.WORKER_CONCURRENCY) || base.workerConcurrency),
  };
  let sc: StockClerk;
  let worker: ChildProcess | null = null;
  try {
    // pino writes to stdout: keep it silent unless asked, the result must stay stdout's last line.
    // workerProcess: the production scale-out shape, `stockclerk api` here and `stockclerk worker`
    // in a process of its own, so the two roles use both cores instead of sharing one event loop.
    sc = await startStockClerk(config, { ...opts, worker: opts.workerProcess ? false : opts.worker, log: createLogger(config.logLevel) });
    if (opts.workerProcess) {
      worker = spawn(process.execPath, [path.resolve('bin/stockclerk.js'), 'worker'], {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          DATA_DIR: dataDir,
          LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
          WORKER_CONCURRENCY: String(config.workerConcurrency),
          PORT: '0',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    }
  } catch (err) {
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const workers = opts.workerProcess ? `in a separate process x${config.workerConcurrency}` : opts.worker === false ? 'off' : `on x${config.workerConcurrency}`;
  progress(`StockClerk up (${sc.url ?? 'no API'}, workers ${workers})`);
  return {
    sc,
    db,
    config,
    async stop() {
      if (worker && worker.exitCode === null) {
        const exited = new Promise((r) => worker!.once('exit', r));
        worker.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        worker.kill('SIGKILL');
      }
      await sc.stop().catch((err: unknown) => progress(`stopping StockClerk: ${String(err)}`));
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface ProductProcess {
  role: 'start' | 'api' | 'worker';
  pid: number;
  url: string | null;
  child: ChildProcess;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A process's resident memory in MB (NaN once it is gone). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * StockClerk as it is deployed: `stockclerk start` in a process of its own (API + workers, demo
 * off), driven from outside. The emulators, the load generator and the measurements stay in the
 * bench process, like the remote platforms and shoppers they stand for, so they do not share the
 * product's event loop. The bench keeps its own context on the same database (same DATA_DIR, so the
 * same credentials key) to set tenants and channels up and to check the ledger.
 */
async function startProductProcess(workerConcurrency?: number, processes?: { api: number; workers: number }): Promise<BenchEnv> {
  const db = await benchDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-bench-data-'));
  const config: Config = { ...loadConfig({}), host: '127.0.0.1', dataDir, databaseUrl: db.url, demo: false, logLevel: 'silent' };
  await migrateDatabase(db.url);
  const pool = createPool(db.url, 10);
  const sealer = new Sealer(loadOrCreateSecret(null, dataDir, 'credentials.key'));
  const ctx: AppContext = {
    config,
    db: pool,
    sealer,
    jwtKey: loadOrCreateSecret(null, dataDir, 'jwt.key'),
    log: createLogger('silent'),
    channels: new ChannelRuntime(pool, sealer),
    tuning: DEFAULT_TUNING,
    jobs: new JobRuntime(),
    mailer: new Mailer(null, config.mailFrom),
    site: { publicUrl: null },
    billing: null,
    // Never started: this context serves no request and pushes nothing (the product process counts).
    usage: new UsageMeter(pool),
    pushBudget: new PushBudget(pool, () => DEFAULT_TUNING.overBudgetPushGapMs, createLogger('silent')),
    images: new DiskImageStore(path.join(dataDir, 'images')),
  };
  const concurrency = String(workerConcurrency ?? (Number(process.env.WORKER_CONCURRENCY) || config.workerConcurrency));
  // BENCH_PRODUCT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the product under load.
  const nodeArgs = (process.env.BENCH_PRODUCT_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // One `stockclerk start`, or (processes) N `stockclerk api` and M `stockclerk worker`: the
  // scale-out shape, every process on the same database and DATA_DIR (same keys).
  const roles: Array<'start' | 'api' | 'worker'> = processes
    ? [...Array<'worker'>(processes.workers).fill('worker'), ...Array<'api'>(processes.api).fill('api')]
    : ['start'];
  const procs: ProductProcess[] = [];
  const stop = async () => {
    await Promise.all(
      procs.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(10_000)]);
        child.kill('SIGKILL');
      }),
    );
    await ctx.channels.close();
    await pool.end().catch(() => {});
    await db.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  for (const role of roles) {
    const port = role === 'worker' ? 0 : await freePort();
    const child = spawn(process.execPath, [...nodeArgs, path.resolve('bin/stockclerk.js'), role], {
      env: {
        ...process.env,
        DATABASE_URL: db.url,
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        DEMO: '0',
        LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
        WORKER_CONCURRENCY: concurrency,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    procs.push({ role, pid: child.pid!, url: role === 'worker' ? null : `http://127.0.0.1:${port}`, child });
  }
  const deadline = Date.now() + 60_000;
  for (const p of procs) {
    for (;;) {
      // A worker serves no HTTP: it is up once it has beaten its heart in the database.
      const ok = p.url
        ? await fetch(`${p.url}/healthz`).then(
            (r) => r.ok,
            () => false,
          )
        : await pool.query(`select 1 from process_heartbeats where id like $1`, [`%:${p.pid}`]).then(
            (r) => (r.rowCount ?? 0) > 0,
            () => false,
          );
      if (ok) break;
      if (Date.now() > deadline || p.child.exitCode !== null) {
        await stop();
        throw new Error(`stockclerk ${p.role} did not come up within 60 s`);
      }
      await sleep(100);
    }
  }
  const urls = procs.filter((p) => p.url).map((p) => p.url!);
  progress(`StockClerk up in ${procs.length} process(es): ${roles.join(', ')} (${urls.join(', ')}; workers x${concurrency})`);
  return { sc: { ctx, url: urls[0]! }, db, config, productPid: procs[0]!.pid, processes: procs.map(({ child: _c, ...p }) => p), stop };
}
