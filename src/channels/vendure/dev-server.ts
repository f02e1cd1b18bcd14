// A real Vendure 3 server for tests and the benchmark (Vendure's counterpart of the other channels'
// emulators): integrations/vendure-dev/server.js in a CHILD process, on a fresh database of its own
// on the given Postgres server, with the StockClerk plugin when a webhook URL is given.
// Needs the @vendure/core devDependency.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../db/embedded.ts';

const SERVER_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../integrations/vendure-dev/server.js');

export interface VendureDevServer {
  url: string;
  adminUrl: string;
  shopUrl: string;
  databaseUrl: string;
  superadmin: { username: string; password: string };
  child: ChildProcess;
  /** SIGTERM, wait for exit (SIGKILL after 10 s), drop the database. */
  stop(): Promise<void>;
}

export interface VendureDevOptions {
  /** Postgres server URL (any database); a fresh database is created on it. */
  pgServerUrl: string;
  variants?: number;
  initialStock?: number;
  /** Where the plugin posts stock movements (omit: no plugin). */
  webhookUrl?: string;
  webhookSecret?: string;
  searchBuffer?: boolean;
  /** Retry backoff base for the plugin (tests shorten it). */
  retryBaseMs?: number;
  bootTimeoutMs?: number;
}

export async function startVendureDev(opts: VendureDevOptions): Promise<VendureDevServer> {
  const dbName = `vendure_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: opts.pgServerUrl });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const u = new URL(opts.pgServerUrl);
  u.pathname = '/' + dbName;
  const databaseUrl = u.toString();
  const port = await freePort();
  const password = randomBytes(12).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port),
    VENDURE_DATABASE_URL: databaseUrl,
    VARIANTS: String(opts.variants ?? 50),
    INITIAL_STOCK: String(opts.initialStock ?? 100),
    SEARCH_BUFFER: opts.searchBuffer === false ? '0' : '1',
    SUPERADMIN_PASSWORD: password,
    STOCKCLERK_WEBHOOK_URL: opts.webhookUrl ?? '',
    STOCKCLERK_WEBHOOK_SECRET: opts.webhookSecret ?? '',
    STOCKCLERK_RETRY_BASE_MS: String(opts.retryBaseMs ?? 500),
    // pg's "client.query() while already executing" deprecation and friends: noise, not signal.
    NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-deprecation', '--no-warnings'].filter(Boolean).join(' '),
  };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, [SERVER_JS], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

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

  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out = (out + d.toString()).slice(-2000);
      if (/^READY$/m.test(out)) resolve();
    });
    void exited.then((code) => reject(new Error(`Vendure exited (${code}) before READY: ${stderr || out}`)));
  });
  const timeoutMs = opts.bootTimeoutMs ?? 120_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`Vendure not READY in ${timeoutMs} ms: ${stderr}`)), timeoutMs))),
    ]);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  // Drain stdout from here on so a chatty Vendure never blocks on a full pipe.
  child.stdout!.resume();
  const url = `http://127.0.0.1:${port}`;
  return { url, adminUrl: `${url}/admin-api`, shopUrl: `${url}/shop-api`, databaseUrl, superadmin: { username: 'superadmin', password }, child, stop };
}
