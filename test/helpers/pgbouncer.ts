// A real PgBouncer (Debian's, /usr/sbin/pgbouncer; .ci/run installs it) of the test's own, in
// transaction mode in front of the test Postgres server, with its admin console for the counts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface PgBouncer {
  /** `databaseUrl` (a database on the server PgBouncer fronts) as reached through PgBouncer. */
  through(databaseUrl: string): string;
  /** A statement on the admin console (`show pools`, `show stats`, ...): its rows. */
  admin<T = Record<string, unknown>>(sql: string): Promise<T[]>;
  /** Everything it logged. */
  log(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** Starts PgBouncer in front of the server of `serverUrl` (every database on it, same user). */
export async function startPgBouncer(serverUrl: string, opts: { poolSize: number }): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgbouncer-'));
  const password = server.password ? ` password=${decodeURIComponent(server.password)}` : '';
  const ini = [
    '[databases]',
    // Any database name: the suite's own database, cloned under a random name.
    `* = host=${server.hostname} port=${server.port || 5432} user=${user}${password}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    // Clients are the suite's own processes on loopback; PgBouncer logs in to Postgres as `user`.
    'auth_type = trust',
    `auth_file = ${path.join(dir, 'users.txt')}`,
    `admin_users = ${user}`,
    'pool_mode = transaction',
    // Few server connections for many clients: they really are shared between the processes'
    // pools, so a statement that leaves anything on a connection meets another client there.
    `default_pool_size = ${opts.poolSize}`,
    'max_client_conn = 500',
    // No `ignore_startup_parameters`: a pool that still sent `options` must be refused, as it
    // would be in production.
    // PgBouncer refuses to run as root; it drops to this user once it has read its files.
    ...(process.getuid?.() === 0 ? ['user = nobody'] : []),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'pgbouncer.ini'), ini + '\n');
  fs.writeFileSync(path.join(dir, 'users.txt'), `"${user}" ""\n`);
  fs.chmodSync(dir, 0o755);
  const child = spawn(PGBOUNCER, [path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 10_000;
  while (!/process up/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      throw new Error(`pgbouncer did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    through(databaseUrl) {
      const u = new URL(databaseUrl);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      u.password = '';
      return u.toString();
    },
    async admin<T>(sql: string) {
      // The admin console speaks the simple query protocol only: no parameters.
      const c = new pg.Client({ host: '127.0.0.1', port, user, database: 'pgbouncer' });
      await c.connect();
      try {
        return (await c.query(sql)).rows as T[];
      } finally {
        await c.end();
      }
    },
    log: () => out,
    async stop() {
      if (child.exitCode === null) {
        // SIGTERM: at once (SIGINT would wait for every client to leave).
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
