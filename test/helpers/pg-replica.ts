// A PostgreSQL primary and a hot standby streaming from it, made for one suite in temp dirs: initdb,
// pg_ctl, pg_basebackup -R. Never the machine's own PostgreSQL. initdb refuses to run as root, so
// as root every binary runs as the `postgres` OS user (runuser), which owns the temp dirs.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Where the server binaries are: PostgreSQL 15's Debian directory, or beside `initdb` on PATH. */
function findBin(): string | null {
  const dirs = ['/usr/lib/postgresql/15/bin'];
  for (const d of (process.env.PATH ?? '').split(':')) {
    const f = path.join(d, 'initdb');
    if (fs.existsSync(f)) dirs.push(path.dirname(fs.realpathSync(f)));
  }
  return dirs.find((d) => ['initdb', 'pg_ctl', 'postgres', 'pg_basebackup'].every((b) => fs.existsSync(path.join(d, b)))) ?? null;
}

const BIN = findBin();
const asRoot = process.getuid?.() === 0;

/** Why the suite cannot run here, or null when it can. */
export function replicaUnavailable(): string | null {
  if (!BIN) return 'no PostgreSQL server binaries (initdb, pg_ctl, postgres, pg_basebackup) in /usr/lib/postgresql/15/bin or beside initdb on PATH';
  if (asRoot && !fs.existsSync('/usr/sbin/runuser') && !fs.existsSync('/sbin/runuser'))
    return 'running as root (initdb refuses) and no runuser to run it as postgres';
  return null;
}

/** Runs a server binary with a bound on its time, as `postgres` when we are root. */
async function pg(bin: string, args: string[], timeoutMs: number): Promise<string> {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', path.join(BIN!, bin), ...args]] : [path.join(BIN!, bin), args];
  try {
    const { stdout } = await run(file, argv, { timeout: timeoutMs, killSignal: 'SIGKILL' });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')}: ${e.message}\n${e.stderr ?? ''}`, { cause: err });
  }
}

/** A port below Linux's ephemeral range (see test/e2e/database-outage.test.ts) that nothing listens on. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 5000);
    const free = await new Promise<boolean>((resolve) => {
      const s = net.createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface Cluster {
  dir: string;
  port: number;
  url: string;
  /** The server's log: every statement (log_statement = all). */
  logFile: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

function cluster(root: string, name: string, port: number): Cluster {
  const dir = path.join(root, name);
  const logFile = path.join(root, `${name}.log`);
  return {
    dir,
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    logFile,
    start: async () => void (await pg('pg_ctl', ['-D', dir, '-l', logFile, '-w', '-t', '30', 'start'], 40_000)),
    stop: async () => void (await pg('pg_ctl', ['-D', dir, '-m', 'fast', '-w', '-t', '30', 'stop'], 40_000)),
    log: () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : ''),
  };
}

export interface ReplicaPair {
  primary: Cluster;
  standby: Cluster;
  /** Stops both (whatever state they are in) and removes their directories. */
  destroy(): Promise<void>;
}

export async function startReplicaPair(): Promise<ReplicaPair> {
  // As root, /tmp itself: `postgres` must be able to reach the dirs, and a TMPDIR under a private
  // home would not let it.
  const root = fs.mkdtempSync(path.join(asRoot ? '/tmp' : os.tmpdir(), 'stockclerk-replica-'));
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    fs.chownSync(root, Number(stdout.trim()), Number(gid.trim()));
  }
  const primary = cluster(root, 'primary', await freePort());
  const standby = cluster(root, 'standby', await freePort());
  const destroy = async () => {
    for (const c of [standby, primary]) {
      if (fs.existsSync(path.join(c.dir, 'postmaster.pid')))
        await c.stop().catch(() => pg('pg_ctl', ['-D', c.dir, '-m', 'immediate', 'stop'], 20_000).catch(() => {}));
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  try {
    await pg('initdb', ['-D', primary.dir, '-U', 'postgres', '-A', 'trust', '--no-sync'], 120_000);
    const settings = (c: Cluster) =>
      [
        `port = ${c.port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${root}'`,
        `logging_collector = off`,
        `log_statement = 'all'`,
        `fsync = off`,
      ].join('\n') + '\n';
    fs.appendFileSync(
      path.join(primary.dir, 'postgresql.conf'),
      settings(primary) + `wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nmax_connections = 100\n`,
    );
    fs.appendFileSync(path.join(primary.dir, 'pg_hba.conf'), 'host replication all 127.0.0.1/32 trust\n');
    await primary.start();
    // -R writes primary_conninfo and standby.signal: the copy starts as a streaming hot standby.
    await pg(
      'pg_basebackup',
      ['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', standby.dir, '-R', '-X', 'stream', '--checkpoint=fast'],
      120_000,
    );
    // The copy carries the primary's settings; the last line of a setting wins.
    fs.appendFileSync(path.join(standby.dir, 'postgresql.conf'), settings(standby));
    await standby.start();
    return { primary, standby, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}
