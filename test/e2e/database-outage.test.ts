// The database of a running server, as an operator meets it (issue 10, item 10): a CLI command run
// beside `npm start` uses the server's embedded PostgreSQL and leaves it running; when that
// PostgreSQL dies, /healthz says so at once (503), the server starts it again and everything (API,
// workers, outbound webhooks) works again, with the outage logged once rather than per query; and
// on an external DATABASE_URL that stops answering, /healthz answers 503 until it is back.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { client } from '../api/support.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { eventually, registerTenant } from '../helpers/stockclerk.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';

const run = promisify(execFile);
const CLI = path.resolve('bin/stockclerk.js');

interface Server {
  child: ChildProcess;
  url: string;
  /** Everything it printed, one entry per line. */
  lines: string[];
  exited: Promise<number | null>;
}

function spawnServer(role: 'start' | 'api' | 'worker', env: NodeJS.ProcessEnv): Server {
  // Below Linux's ephemeral range (32768-60999): a port the kernel handed another socket (any
  // listen(0), any outbound connection) cannot be the one we pick (48030 once was, in CI).
  const port = 25000 + Math.floor(Math.random() * 4000);
  const child = spawn(process.execPath, [CLI, role], {
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', DEMO: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, url: `http://127.0.0.1:${port}`, lines, exited };
}

/** A live stream, open once its hello came: what it received, and how it closed. */
async function openStream(url: string, token: string): Promise<{ ws: WebSocket; frames: string[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/stream?token=${encodeURIComponent(token)}`);
  const frames: string[] = [];
  const closed = new Promise<number>((r) => (ws.onclose = (e) => r(e.code)));
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (m) => {
      frames.push(String(m.data));
      if (String(m.data).includes('"hello"')) resolve();
    };
    void closed.then((code) => reject(new Error(`the stream closed (${code}) before its hello`)));
  });
  return { ws, frames, closed };
}

const health = async (url: string) => {
  const res = await fetch(`${url}/healthz`).catch(() => null);
  return res ? { status: res.status, body: (await res.json()) as Record<string, unknown> } : { status: 0, body: {} };
};

async function up(s: Server, timeoutMs: number): Promise<void> {
  await eventually(async () => (await health(s.url)).status === 200, timeoutMs, `${s.url}/healthz to answer 200`).catch((err) => {
    console.error(s.lines.slice(-40).join('\n'));
    throw err;
  });
}

/** Lines logged at warn or above since `from` (pino: level 40 and up). */
const complaints = (s: Server, from: number) => s.lines.slice(from).filter((l) => /"level":(4|5|6)0/.test(l));

describe('a server on the embedded PostgreSQL of its DATA_DIR', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-outage-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  delete env.DATABASE_URL; // the product's default: the embedded PostgreSQL
  const pidFile = path.join(dataDir, 'pg', 'postmaster.pid');
  const postmaster = () => fs.readFileSync(pidFile, 'utf8').split('\n');
  let server: Server;
  let rx: Receiver;
  let call: ReturnType<typeof client>;
  let item: string;
  let token: string;
  let locationId: string;

  beforeAll(async () => {
    rx = await startReceiver();
  });
  beforeEach(() =>
    onTestFailed(() =>
      console.error(
        server?.lines
          .filter((l) => !l.includes('"msg":"request"'))
          .slice(-60)
          .join('\n'),
      ),
    ),
  );
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    await rx?.close();
    // A SIGKILLed server leaves its PostgreSQL running: stop it before removing its directory.
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(Number(postmaster()[0]), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('with no server running, a CLI command starts PostgreSQL for itself and stops it after', async () => {
    const out = await run(process.execPath, [CLI, 'migrate'], { env });
    expect(out.stdout).toMatch(/migrations applied/);
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'postgres.owner'))).toBe(false);
  }, 90_000);

  it('`stockclerk verify` beside a running server uses its PostgreSQL and leaves it serving', async () => {
    server = spawnServer('start', env);
    await up(server, 60_000);
    const [pid, , , port] = postmaster();
    const t = await registerTenant(server.url, 'Outage Co');
    token = t.token;
    call = client(server.url, t.token);
    locationId = t.locationId;
    item = (await call('POST', '/items', { sku: 'TEA', name: 'Tea' })).body.id;
    expect((await call('POST', '/webhook-endpoints', { url: rx.url, event_types: ['stock.changed'], description: 'outage test' })).status).toBe(201);

    const from = server.lines.length;
    const out = await run(process.execPath, [CLI, 'verify'], { env });
    expect(out.stdout).toMatch(/ledger verified: \d+ levels/);
    expect(out.stderr).toMatch(/using the PostgreSQL of the StockClerk server running on/);
    // Same postmaster, never stopped; the server noticed nothing.
    expect(postmaster()[0]).toBe(pid);
    expect(postmaster()[3]).toBe(port);
    expect(await health(server.url)).toEqual({ status: 200, body: { status: 'ok' } });
    expect((await call('POST', '/adjustments', { item_id: item, location_id: locationId, qty_delta: 5, reason: 'receipt' })).status).toBe(201);
    await eventually(() => rx.got.length >= 1, 10_000, 'the outbound webhook');
    expect(complaints(server, from)).toEqual([]);
  }, 150_000);

  it('kill -9 of its PostgreSQL: /healthz answers 503 at once, then the server restarts it and all works again', async () => {
    const [pid, , , port] = postmaster();
    const from = server.lines.length;
    // A dashboard watching live: its stream must not go quiet for good when PostgreSQL restarts.
    const watching = await openStream(server.url, token);
    // Busy at the moment of the kill: requests in flight fail, and must not flood the log. (Plain
    // http: the 500s they get meanwhile are not the API contract's business.)
    const auth = { authorization: `Bearer ${token}` };
    const traffic = setInterval(() => http.get(`${server.url}/api/v1/items`, { headers: auth }, (res) => res.resume()).on('error', () => {}), 20);
    try {
      process.kill(Number(pid), 'SIGKILL');
      const killedAt = Date.now();
      await eventually(async () => (await health(server.url)).status !== 200, 2_000, '/healthz to stop answering ok');
      expect(Date.now() - killedAt).toBeLessThan(2_000);
      const down = await health(server.url);
      // Either caught while still down, or PostgreSQL is already back (a restart takes ~50 ms).
      if (down.status !== 200) {
        expect(down.status).toBe(503);
        expect(down.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
        expect(typeof down.body.since).toBe('string');
      }
      await eventually(async () => (await health(server.url)).status === 200, 30_000, '/healthz to answer ok again');
    } finally {
      clearInterval(traffic);
    }
    const [newPid, , , newPort] = postmaster();
    expect(newPid).not.toBe(pid);
    expect(newPort).toBe(port); // the same port: every pool's URL stays right
    expect(server.child.exitCode).toBeNull();

    // The live feed reconnected: the stream open before the outage is closed as a service restart
    // (its dashboard reconnects and reloads), and a stream opened now gets the write's frame.
    expect(await Promise.race([watching.closed, new Promise((r) => setTimeout(() => r('still open'), 10_000))])).toBe(1012);
    const live = await openStream(server.url, token);

    // The API writes, and the workers deliver the outbound webhook the write causes.
    const before = rx.got.length;
    await eventually(
      async () => (await call('POST', '/adjustments', { item_id: item, location_id: locationId, qty_delta: 1, reason: 'receipt' })).status === 201,
      10_000,
      'an API write',
    );
    await eventually(() => rx.got.length > before, 15_000, 'the outbound webhook after the restart');
    await eventually(() => live.frames.some((f) => f.includes('"stock.changed"')), 10_000, 'a live frame after the restart');
    live.ws.close();

    // The outage is told once (and its end once), not once per failed query.
    const said = complaints(server, from);
    expect(said.length, said.join('\n')).toBeLessThan(15);
    expect(server.lines.slice(from).some((l) => l.includes('database unreachable'))).toBe(true);
    await eventually(() => server.lines.slice(from).some((l) => l.includes('database reachable again')), 5_000, 'the recovery to be logged');
  }, 90_000);

  it('Ctrl-C still stops the server and its PostgreSQL', async () => {
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'postgres.owner'))).toBe(false);
  }, 30_000);
});

describe('/healthz on an external DATABASE_URL', () => {
  let t: TestDb;
  let server: Server | null = null;
  let proxy: net.Server | null = null;
  const sockets = new Set<net.Socket>();
  let proxyPort = 0;

  /** A TCP relay to the test database: closing it makes the database unreachable. */
  async function openProxy(): Promise<void> {
    const target = new URL(t.url);
    proxy = net.createServer((inbound) => {
      const outbound = net.connect(Number(target.port || 5432), target.hostname);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => {});
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => proxy!.listen(proxyPort, '127.0.0.1', resolve));
    proxyPort = (proxy.address() as net.AddressInfo).port;
  }
  async function closeProxy(): Promise<void> {
    const closed = new Promise((r) => proxy!.close(r));
    for (const s of sockets) s.destroy();
    await closed;
    proxy = null;
  }

  beforeAll(async () => {
    t = await createTestDb();
    await openProxy();
  });
  afterAll(async () => {
    server?.child.kill('SIGKILL');
    if (proxy) await closeProxy();
    await t?.drop();
  });

  it('answers 503 saying the database is unreachable while it is, and ok once it is back', async () => {
    const u = new URL(t.url);
    u.port = String(proxyPort);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-external-'));
    try {
      server = spawnServer('api', { ...process.env, DATABASE_URL: u.toString(), DATA_DIR: dataDir });
      await up(server, 60_000);
      const shop = await registerTenant(server.url, 'Outage Shop');
      const items = client(server.url, shop.token);
      const item = (await items('POST', '/items', { sku: 'OUT-1', name: 'Outage item' })).body.id as string;
      const adjust = () => items('POST', '/adjustments', { item_id: item, location_id: shop.locationId, qty_delta: 3, reason: 'receipt' });
      expect((await adjust()).status).toBe(201);
      const from = server.lines.length;
      await closeProxy();
      const cutAt = Date.now();
      await eventually(async () => (await health(server!.url)).status === 503, 5_000, '/healthz to answer 503');
      expect(Date.now() - cutAt).toBeLessThan(5_000);
      const down = await health(server.url);
      expect(down.status).toBe(503);
      expect(down.body).toMatchObject({ status: 'unavailable', database: 'unreachable' });
      // An API write and a platform's webhook while it is away: 503 with Retry-After (a platform
      // retries), a structured error, never a 500, and no hang.
      const refusedAt = Date.now();
      const write = await fetch(`${server.url}/api/v1/adjustments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${shop.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ item_id: item, location_id: shop.locationId, qty_delta: 2, reason: 'receipt' }),
      });
      expect(write.status).toBe(503);
      expect(write.headers.get('retry-after')).toBe('5');
      expect(((await write.json()) as { error: { code: string } }).error.code).toBe('database_unavailable');
      const hook = await fetch(`${server.url}/webhooks/deliveroo/ch_${'0'.repeat(32)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event: 'order.new', body: { order: { id: 'o-1' } } }),
      });
      expect(hook.status).toBe(503);
      expect(hook.headers.get('retry-after')).toBe('5');
      expect(Date.now() - refusedAt).toBeLessThan(10_000);
      await new Promise((r) => setTimeout(r, 3_000)); // the relay and the probes keep failing meanwhile
      expect(complaints(server, from).length, complaints(server, from).join('\n')).toBeLessThan(10);

      await openProxy(); // the same port
      await eventually(async () => (await health(server!.url)).status === 200, 15_000, '/healthz to answer ok again');
      expect((await health(server.url)).body).toEqual({ status: 'ok' });
      // The refused write changed nothing; the same write now lands.
      expect((await adjust()).status).toBe(201);
      const level = await items('GET', `/stock-levels?item_id=${item}`);
      expect(level.body.data[0]).toMatchObject({ on_hand: 6 });
      server.child.kill('SIGINT');
      expect(await server.exited).toBe(0);
      server = null;
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('an api and a worker process ride out a 3 s outage with deliveries in flight: both stay up, every event arrives', async () => {
    const u = new URL(t.url);
    u.port = String(proxyPort);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-external-'));
    // A receiver that takes 1.5 s to answer: deliveries are mid-flight when the database goes.
    const seen = new Set<string>();
    let requests = 0;
    const slow = http.createServer((req, res) => {
      requests++;
      const id = String(req.headers['webhook-id'] ?? '');
      req.resume();
      req.on('end', () =>
        setTimeout(() => {
          seen.add(id);
          res.writeHead(200).end();
        }, 1_500),
      );
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const hookUrl = `http://127.0.0.1:${(slow.address() as net.AddressInfo).port}/hook`;
    let worker: Server | null = null;
    try {
      const env = { ...process.env, DATABASE_URL: u.toString(), DATA_DIR: dataDir };
      server = spawnServer('api', env);
      await up(server, 60_000);
      worker = spawnServer('worker', env);
      const w = worker;
      await eventually(
        async () => (await t.db.query(`select 1 from process_heartbeats where id like $1`, [`%:${w.child.pid}`])).rowCount === 1,
        30_000,
        'the worker to beat',
      );
      const shop = await registerTenant(server.url, 'Ride Out Shop');
      const call = client(server.url, shop.token);
      const item = (await call('POST', '/items', { sku: 'RIDE-1', name: 'Ride out' })).body.id as string;
      expect((await call('POST', '/webhook-endpoints', { url: hookUrl, event_types: ['stock.changed'], description: 'ride out' })).status).toBe(201);
      for (let i = 0; i < 6; i++) {
        expect((await call('POST', '/adjustments', { item_id: item, location_id: shop.locationId, qty_delta: 1, reason: 'receipt' })).status).toBe(201);
      }
      const { rows } = await t.db.query<{ id: string }>(`select id from webhook_events where tenant_id = $1 and type = 'stock.changed'`, [shop.tenantId]);
      expect(rows).toHaveLength(6);
      await eventually(() => requests >= 1, 15_000, 'a delivery in flight');
      await closeProxy();
      await new Promise((r) => setTimeout(r, 3_000));
      await openProxy(); // the same port
      await eventually(() => rows.every((r) => seen.has(r.id)), 60_000, 'every stock.changed event delivered').catch((err) => {
        console.error(
          [...server!.lines, ...w.lines]
            .filter((l) => !l.includes('"msg":"request"'))
            .slice(-60)
            .join('\n'),
        );
        throw err;
      });
      expect(server.child.exitCode).toBeNull();
      expect(w.child.exitCode).toBeNull();
      expect((await health(server.url)).status).toBe(200);
      // The worker did meet the outage (not a run that missed it): it saw it and came back.
      expect(w.lines.some((l) => l.includes('database unreachable'))).toBe(true);
      expect(w.lines.some((l) => l.includes('workers started again'))).toBe(true);
      w.child.kill('SIGINT');
      expect(await w.exited).toBe(0);
      server.child.kill('SIGINT');
      expect(await server.exited).toBe(0);
      server = null;
      worker = null;
    } finally {
      worker?.child.kill('SIGKILL');
      await new Promise((r) => slow.close(r));
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 150_000);
});
