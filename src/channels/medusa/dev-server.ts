// A real Medusa v2 server for tests and the benchmark (Medusa's counterpart of the other channels'
// emulators): the project in peers/medusa (installed by `npm ci --prefix peers/medusa`), started
// as a CHILD process (`medusa start`) on a database of its own on the given Postgres server, with
// the StockClerk subscriber posting to a webhook URL when one is given.
// The database is a clone (`CREATE DATABASE ... TEMPLATE`) of one migrated once per lockfile
// (`medusa db:migrate` + `medusa user`, ~15 s the first time); a clone boots in ~4 s.
// Every medusa command runs with MEDUSA_DISABLE_TELEMETRY=true and XDG_CONFIG_HOME inside the
// project (the CLI would otherwise write ~/.config/medusa).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../db/embedded.ts';
import { adminLogin, createFixture, type MedusaAdmin, type MedusaFixture } from './dev-client.ts';

export const MEDUSA_PROJECT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../peers/medusa');
const CLI = path.join(MEDUSA_PROJECT, 'node_modules/@medusajs/cli/cli.js');

/** The admin user every Medusa database made here has (a local test peer, not a secret). */
export const MEDUSA_ADMIN = { email: 'admin@stockclerk.test', password: 'stockclerk-medusa-admin' };

/** Whether peers/medusa is installed (`npm ci --prefix peers/medusa`). */
export const medusaInstalled = (): boolean => existsSync(CLI);

/** Tests and the bench skip without it outside CI; in CI they must run. */
export function medusaSkipReason(): string | null {
  if (medusaInstalled()) return null;
  if (process.env.CI) throw new Error('peers/medusa is not installed (run `npm ci --prefix peers/medusa`); CI must run the Medusa tests');
  return 'peers/medusa is not installed: run `npm ci --prefix peers/medusa` to test against a real Medusa';
}

/**
 * Installs peers/medusa from its lockfile when it is missing or older than the lockfile
 * (`npm ci --prefix peers/medusa`, about 1-1.5 min with npm's cache): the benchmark needs a real
 * Medusa to have anything to report. Tests do not install; they skip outside CI (medusaSkipReason).
 */
export async function ensureMedusaInstalled(log: (msg: string) => void = () => {}): Promise<void> {
  const marker = path.join(MEDUSA_PROJECT, 'node_modules/.package-lock.json');
  const lock = path.join(MEDUSA_PROJECT, 'package-lock.json');
  if (medusaInstalled() && existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing peers/medusa (npm ci --prefix peers/medusa)');
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['ci', '--prefix', MEDUSA_PROJECT, '--no-audit', '--no-fund'], {
      env: { ...process.env, MEDUSA_DISABLE_TELEMETRY: 'true', XDG_CONFIG_HOME: path.join(MEDUSA_PROJECT, '.config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`npm ci --prefix peers/medusa failed (${code}): ${out}`))));
  });
  log(`peers/medusa installed in ${Date.now() - started} ms`);
}

export interface MedusaDevServer {
  url: string;
  databaseUrl: string;
  admin: MedusaAdmin;
  fixture: MedusaFixture;
  child: ChildProcess;
  /** Milliseconds from the call to a healthy server with its fixture. */
  bootMs: number;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), drop the database. */
  stop(): Promise<void>;
}

export interface MedusaDevOptions {
  /** Postgres server URL (any database); a fresh database is created on it. */
  pgServerUrl: string;
  skus?: string[];
  initialStock?: number;
  /** Where the subscriber posts (omit: it posts nothing). */
  webhookUrl?: string;
  webhookSecret?: string;
  /** Retry backoff base for the subscriber (tests shorten it). */
  retryBaseMs?: number;
  bootTimeoutMs?: number;
}

function medusaEnv(databaseUrl: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    MEDUSA_DISABLE_TELEMETRY: 'true',
    XDG_CONFIG_HOME: path.join(MEDUSA_PROJECT, '.config'),
    // pg's "client.query() while already executing" deprecation and friends: noise, not signal.
    NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-deprecation', '--no-warnings'].filter(Boolean).join(' '),
    ...extra,
  };
  // Ours, not Medusa's: Medusa reads its own variables (PORT would move it).
  delete env.PORT;
  delete env.NODE_ENV;
  return env;
}

function runCli(args: string[], databaseUrl: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: MEDUSA_PROJECT, env: medusaEnv(databaseUrl), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => (out = (out + d.toString()).slice(-6000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(t);
      if (code === 0) resolve();
      else reject(new Error(`medusa ${args[0]} failed (${code ?? signal}): ${out}`));
    });
  });
}

const withDb = (serverUrl: string, name: string) => {
  const u = new URL(serverUrl);
  u.pathname = '/' + name;
  return u.toString();
};

/** The migrated template database for this lockfile: made once (under an advisory lock), reused after. */
async function templateDb(admin: pg.Client, pgServerUrl: string): Promise<string> {
  const hash = createHash('sha256')
    .update(readFileSync(path.join(MEDUSA_PROJECT, 'package-lock.json')))
    .update(readFileSync(path.join(MEDUSA_PROJECT, 'medusa-config.ts')))
    .update(JSON.stringify(MEDUSA_ADMIN))
    .digest('hex')
    .slice(0, 12);
  const name = `medusa_tpl_${hash}`;
  const exists = async (db: string) => (await admin.query(`select 1 from pg_database where datname = $1`, [db])).rowCount === 1;
  if (await exists(name)) return name;
  // Templates of earlier lockfiles or configs are not used again.
  const { rows: old } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like 'medusa\\_tpl\\_%' and datname <> $1`, [
    name,
  ]);
  for (const r of old) await admin.query(`drop database if exists ${r.datname} with (force)`);
  const building = `${name}_building`;
  await admin.query(`drop database if exists ${building} with (force)`);
  await admin.query(`create database ${building}`);
  const url = withDb(pgServerUrl, building);
  await runCli(['db:migrate'], url, 180_000);
  await runCli(['user', '-e', MEDUSA_ADMIN.email, '-p', MEDUSA_ADMIN.password], url, 60_000);
  await admin.query(`alter database ${building} rename to ${name}`);
  return name;
}

export async function startMedusaDev(opts: MedusaDevOptions): Promise<MedusaDevServer> {
  const started = Date.now();
  const dbName = `medusa_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: opts.pgServerUrl });
  await admin.connect();
  try {
    // One builder of the template at a time (test files and the bench share the server).
    await admin.query(`select pg_advisory_lock(hashtext('stockclerk_medusa_template'))`);
    const tpl = await templateDb(admin, opts.pgServerUrl);
    await admin.query(`create database ${dbName} template ${tpl}`);
  } finally {
    await admin.end();
  }
  const databaseUrl = withDb(opts.pgServerUrl, dbName);
  const port = await freePort();
  const env = medusaEnv(databaseUrl, {
    STOCKCLERK_WEBHOOK_URL: opts.webhookUrl ?? '',
    STOCKCLERK_WEBHOOK_SECRET: opts.webhookSecret ?? '',
    STOCKCLERK_RETRY_BASE_MS: String(opts.retryBaseMs ?? 500),
  });
  const child = spawn(process.execPath, [CLI, 'start', '-p', String(port), '-H', '127.0.0.1'], { cwd: MEDUSA_PROJECT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  async function dropDb(): Promise<void> {
    const a = new pg.Client({ connectionString: opts.pgServerUrl });
    await a.connect();
    await a.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await a.end();
  }

  async function stop(): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    }
    await dropDb();
  }

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.bootTimeoutMs ?? 120_000);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Medusa exited before it was healthy: ${log}`);
      if (Date.now() > deadline) throw new Error(`Medusa not healthy in time: ${log}`);
      const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const adminApi = await adminLogin(url, MEDUSA_ADMIN.email, MEDUSA_ADMIN.password);
    const fixture = await createFixture(adminApi, {
      skus: opts.skus ?? Array.from({ length: 10 }, (_, i) => `SKU-${i + 1}`),
      initialStock: opts.initialStock ?? 100,
    });
    return { url, databaseUrl, admin: adminApi, fixture, child, bootMs: Date.now() - started, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
