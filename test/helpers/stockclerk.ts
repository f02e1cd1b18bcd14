// Boots a real StockClerk (API + workers) on a fresh database of its own, on a free port, with
// no demo; plus helpers to call its API over HTTP. The engine runs with short timers so suites
// converge quickly.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config.ts';
import type { EngineTuning } from '../../src/engine/context.ts';
import { createLogger, type Logger } from '../../src/log.ts';
import { startMailCatcher } from '../../src/mail/catcher.ts';
import { startStockClerk, type StockClerk } from '../../src/server.ts';
import { createTestDb, type TestDb } from './db.ts';

export interface Harness {
  sc: StockClerk;
  url: string;
  testDb: TestDb;
  dataDir: string;
  /** With `mail: true`: the catcher's JSON list of received messages (test/helpers/mail.ts reads it). */
  mailApi: string | null;
  stop(): Promise<void>;
}

export async function startHarness(
  opts: { tuning?: Partial<EngineTuning>; worker?: boolean; relay?: boolean; log?: Logger; config?: Partial<Config>; mail?: boolean } = {},
): Promise<Harness> {
  const testDb = await createTestDb();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-test-'));
  // The same catcher `npm start` runs: mail goes over real SMTP and is read back over its API.
  const catcher = opts.mail ? await startMailCatcher(path.join(dataDir, 'mail')) : null;
  const defaults = loadConfig({});
  const config: Config = {
    ...defaults,
    port: 0,
    host: '127.0.0.1',
    dataDir,
    databaseUrl: testDb.url,
    demo: false,
    workerConcurrency: 4,
    workerDeadAfterS: 3,
    // Suites sign up and log in from one address far more than a person would; the throttle's own
    // suite (test/api/edges.test.ts) sets its limits.
    authThrottle: { ...defaults.authThrottle, attemptsPerIp: 100_000 },
    smtpUrl: catcher?.smtpUrl ?? null,
    ...opts.config,
  };
  const sc = await startStockClerk(config, {
    worker: opts.worker,
    relay: opts.relay,
    log: opts.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    poolSize: 10,
    tuning: { schedulerTickMs: 250, pushRetryBaseMs: 20, guardianSettleMs: 0, ...opts.tuning },
  });
  return {
    sc,
    url: sc.url!,
    testDb,
    dataDir,
    mailApi: catcher?.mailApi ?? null,
    async stop() {
      await sc.stop();
      await catcher?.stop();
      await testDb.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** JSON over real HTTP. */
export async function api<T = any>(
  base: string,
  method: string,
  p: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(base + p, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

let seq = 0;
/** Registers a new tenant through the API; returns its token and ids. */
export async function registerTenant(base: string, name = 'Shop'): Promise<{ token: string; tenantId: string; locationId: string; email: string }> {
  const email = `owner${Date.now()}${++seq}@example.com`;
  const r = await api(base, 'POST', '/api/v1/auth/register', { body: { business_name: name, email, password: 'correct-horse-9' } });
  if (r.status !== 201) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return { token: r.body.token, tenantId: r.body.tenant.id, locationId: r.body.location.id, email };
}

/** Polls until `check` returns true (or throws after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
