// StockClerk behind PgBouncer in transaction mode (issue 16, point 7): a real `stockclerk api` and
// `stockclerk worker` with DATABASE_URL at a PgBouncer of 5 server connections and
// DATABASE_DIRECT_URL at Postgres. A merchant signs up and writes through the API, a till sale
// becomes a ledger movement and reaches the other channel, and the live stream hears of it; all
// the while PgBouncer's admin console shows the traffic going through it, on no more server
// connections than its pool has, and graphile-worker's LISTEN on a direct session. Broken pooler
// mode fails here: named statements meet connections that never prepared them, a startup
// `options` is refused, a LISTEN through the pooler hears nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, onTestFailed } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { loadKeyring, Sealer } from '../../src/db/crypto.ts';
import { connectEmulatedChannel, startEmulators, type ConnectedChannel, type EmulatorSet } from '../../src/demo/emulated.ts';
import { ChannelRuntime } from '../../src/engine/channel-runtime.ts';
import type { AppContext } from '../../src/engine/context.ts';
import { client } from '../api/support.ts';
import { createTestDb, type TestDb } from '../helpers/db.ts';
import { PGBOUNCER, startPgBouncer, type PgBouncer } from '../helpers/pgbouncer.ts';
import { eventually, registerTenant } from '../helpers/stockclerk.ts';
import { held, sale } from '../helpers/tenant.ts';

const CLI = path.resolve('bin/stockclerk.js');
const POOL_SIZE = 5;
const installed = fs.existsSync(PGBOUNCER);
if (!installed) console.warn(`test/e2e/pgbouncer.test.ts skipped: ${PGBOUNCER} is missing (apt-get install pgbouncer; .ci/run does)`);

interface Proc {
  child: ChildProcess;
  url: string;
  lines: string[];
  exited: Promise<number | null>;
}

function spawnRole(role: 'api' | 'worker', env: NodeJS.ProcessEnv): Proc {
  // Below Linux's ephemeral range, as in database-outage.test.ts.
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

/** A live stream, open once its hello came, and the frames it received. */
async function openStream(url: string, token: string): Promise<{ ws: WebSocket; frames: string[] }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/v1/stream?token=${encodeURIComponent(token)}`);
  const frames: string[] = [];
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (m) => {
      frames.push(String(m.data));
      if (String(m.data).includes('"hello"')) resolve();
    };
    ws.onclose = (e) => reject(new Error(`the stream closed (${e.code}) before its hello`));
  });
  return { ws, frames };
}

type PoolRow = Record<string, string | number>;
const n = (v: unknown) => Number(v ?? 0);
/** Server connections PgBouncer holds for a pool row, in whatever state. */
const servers = (r: PoolRow) => n(r.sv_active) + n(r.sv_idle) + n(r.sv_used) + n(r.sv_tested) + n(r.sv_login);

describe.skipIf(!installed)('StockClerk behind PgBouncer (pool_mode = transaction)', () => {
  let t: TestDb;
  let bouncer: PgBouncer;
  let emus: EmulatorSet;
  let apiProc: Proc | null = null;
  let workerProc: Proc | null = null;
  let dbName: string;
  let dataDir: string | null = null;
  const encryptionKey = randomBytes(32).toString('base64');
  // PgBouncer's pool for the suite's database, sampled all along: its server connections at most.
  let sampler: NodeJS.Timeout | null = null;
  let maxServers = 0;
  let maxClients = 0;
  let samples = 0;

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-pgbouncer-'));
    t = await createTestDb();
    dbName = new URL(t.url).pathname.slice(1);
    // As README "Behind PgBouncer" asks: the planner setting for statements outside a transaction.
    await t.db.query(`alter database "${dbName}" set random_page_cost = 1.1`);
    bouncer = await startPgBouncer(t.url, { poolSize: POOL_SIZE });
    emus = await startEmulators();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: bouncer.through(t.url),
      DATABASE_DIRECT_URL: t.url,
      DATA_DIR: dataDir,
      ENCRYPTION_KEY: encryptionKey,
      JWT_SECRET: randomBytes(32).toString('base64'),
      WORKER_CONCURRENCY: '4',
      WORKER_DEAD_AFTER_S: '3',
    };
    sampler = setInterval(() => {
      bouncer
        .admin<PoolRow>('show pools')
        .then((rows) => {
          for (const r of rows.filter((r) => r.database === dbName)) {
            maxServers = Math.max(maxServers, servers(r));
            maxClients = Math.max(maxClients, n(r.cl_active) + n(r.cl_waiting));
            samples++;
          }
        })
        .catch(() => {});
    }, 50);
    apiProc = spawnRole('api', env);
    workerProc = spawnRole('worker', env);
    const api = apiProc;
    const w = workerProc;
    await eventually(async () => (await fetch(`${api.url}/healthz`).catch(() => null))?.status === 200, 60_000, 'the api to answer /healthz').catch((err) => {
      console.error([bouncer.log(), ...api.lines.slice(-40)].join('\n'));
      throw err;
    });
    await eventually(
      async () => (await t.db.query(`select 1 from process_heartbeats where id like $1`, [`%:${w.child.pid}`])).rowCount === 1,
      60_000,
      'the worker to beat',
    ).catch((err) => {
      console.error([bouncer.log(), ...w.lines.slice(-40)].join('\n'));
      throw err;
    });
  });
  beforeEach(() =>
    onTestFailed(() =>
      console.error(
        [...(apiProc?.lines ?? []), ...(workerProc?.lines ?? [])]
          .filter((l) => !l.includes('"msg":"request"'))
          .slice(-60)
          .join('\n'),
      ),
    ),
  );
  afterAll(async () => {
    if (sampler) clearInterval(sampler);
    for (const p of [apiProc, workerProc]) {
      if (p && p.child.exitCode === null) {
        p.child.kill('SIGINT');
        await Promise.race([p.exited, new Promise((r) => setTimeout(r, 20_000))]);
        p.child.kill('SIGKILL');
      }
    }
    await emus?.close();
    await bouncer?.stop();
    await t?.drop();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs up, writes through the API, and a till sale reaches the ledger, the other channel and the live stream', async () => {
    const api = apiProc!.url;
    const shop = await registerTenant(api, 'Pooled Shop');
    const call = client(api, shop.token);
    const items = [
      { sku: 'PB-1', name: 'Pooled bread', qty: 12 },
      { sku: 'PB-2', name: 'Pooled butter', qty: 5 },
    ];
    for (const it of items) {
      const created = await call('POST', '/items', { sku: it.sku, name: it.name });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const moved = await call('POST', '/adjustments', { item_id: created.body.id, location_id: shop.locationId, qty_delta: it.qty, reason: 'receipt' });
      expect(moved.status, JSON.stringify(moved.body)).toBe(201);
    }
    // Reads under row-level security (set local role, set_config(..., true)) on a shared connection.
    const levels = await call('GET', '/stock-levels');
    expect(levels.status).toBe(200);
    expect(levels.body.data.map((l: { on_hand: number }) => l.on_hand).sort((a: number, b: number) => a - b)).toEqual([5, 12]);
    const search = await call('GET', '/items?q=butter');
    expect(search.body.data.map((i: { sku: string }) => i.sku)).toEqual(['PB-2']);

    // The channels are connected as emulatedTenant does (test/helpers/tenant.ts), from here and
    // over the direct URL: the same key seals their credentials for the two processes.
    const sealer = new Sealer(loadKeyring({ ...loadConfig({ ENCRYPTION_KEY: encryptionKey }), dataDir: dataDir! }));
    const ctx = { db: t.db, sealer, channels: new ChannelRuntime(t.db, sealer) } as unknown as AppContext;
    const channels: Record<'eposnow' | 'wix', ConnectedChannel> = {} as never;
    for (const type of ['eposnow', 'wix'] as const) {
      channels[type] = await connectEmulatedChannel(ctx, {
        tenantId: shop.tenantId,
        type,
        emulator: emus[type],
        name: `${type} channel`,
        stockclerkUrl: api,
        items,
        locationIds: [shop.locationId],
      });
      expect(channels[type].matched).toBe(items.length);
    }
    await ctx.channels.close();

    const live = await openStream(api, shop.token);
    try {
      expect((await sale(emus, 'eposnow', channels.eposnow.accountId, 'PB-1', 2)).ok).toBe(true);
      // The worker applied the sale: a ledger movement, through PgBouncer.
      await eventually(
        async () =>
          (
            await t.db.query(
              `select 1 from stock_movements m join items i on i.tenant_id = m.tenant_id and i.id = m.item_id
               where m.tenant_id = $1 and i.sku = 'PB-1' and m.qty_delta = -2`,
              [shop.tenantId],
            )
          ).rowCount === 1,
        15_000,
        'the sale as a ledger movement',
      );
      // ... and pushed it to the other channel.
      await eventually(() => held(emus, 'wix', channels.wix.accountId, 'PB-1')?.qty === 10, 15_000, 'Wix to hold 10 PB-1');
      const after = await call('GET', '/stock-levels');
      expect(after.body.data.find((l: { on_hand: number }) => l.on_hand === 10)).toBeTruthy();
      // The live stream heard of it: its LISTEN is on the direct URL (a LISTEN through the pooler
      // would stay behind on a server connection other clients are lent).
      await eventually(() => live.frames.some((f) => f.includes('"stock.changed"')), 10_000, 'a live stock.changed frame');
    } finally {
      live.ws.close();
    }
  }, 120_000);

  it('the traffic went through PgBouncer, on at most its pool of server connections, shared by more clients', async () => {
    const stats = (await bouncer.admin<PoolRow>('show stats')).find((r) => r.database === dbName);
    expect(stats, 'PgBouncer saw the suite database').toBeTruthy();
    // Sign-up, writes, reads, heartbeats, the scheduler, graphile-worker's jobs: hundreds.
    expect(n(stats!.total_xact_count)).toBeGreaterThan(50);
    const seen = JSON.stringify({ samples, maxServers, maxClients, xacts: stats!.total_xact_count });
    expect(samples, seen).toBeGreaterThan(5);
    expect(maxServers, seen).toBeGreaterThan(0);
    expect(maxServers, seen).toBeLessThanOrEqual(POOL_SIZE);
    // More client connections than server ones at some moment: the servers really were shared.
    expect(maxClients, seen).toBeGreaterThan(POOL_SIZE);
    const now = (await bouncer.admin<PoolRow>('show pools')).filter((r) => r.database === dbName);
    for (const r of now) expect(servers(r)).toBeLessThanOrEqual(POOL_SIZE);
    // Nothing a pooler would choke on was sent (PgBouncer and Postgres would have answered with these).
    const logs = [...apiProc!.lines, ...workerProc!.lines, bouncer.log()].join('\n');
    expect(logs).not.toMatch(/prepared statement|unsupported startup parameter/i);
    // The database's random_page_cost reached the pooled sessions (no warning at start).
    expect(logs).not.toMatch(/random_page_cost is/);
  });

  it("graphile-worker's LISTEN for new jobs is on a direct session, not one of PgBouncer's", async () => {
    const pooled = new Set((await bouncer.admin<PoolRow>('show servers')).map((r) => n(r.remote_pid)));
    const { rows } = await t.db.query<{ pid: number }>(
      `select pid from pg_stat_activity where datname = current_database() and query like 'LISTEN "jobs:insert"%'`,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(pooled.has(r.pid)).toBe(false);
  });
});
