// The read replica (issue 16, point 8) against a real streaming standby: a primary made with initdb
// and a hot standby made from it with pg_basebackup -R (test/helpers/pg-replica.ts). Dashboard and
// report reads run on the standby while it is fresh, and say so; when its replay stalls past
// REPLICA_MAX_LAG_MS, or it stops, they run on the primary and show what the primary holds; a
// tenant's reads right after its own write stay on the primary; no write ever reaches the standby.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tenantTx } from '../../src/db/tenant-tx.ts';
import { replicaUnavailable, startReplicaPair, type ReplicaPair } from '../helpers/pg-replica.ts';
import { api, eventually, registerTenant, startHarness, type ApiResponse, type Harness } from '../helpers/stockclerk.ts';

const MAX_LAG_MS = 2000;
const why = replicaUnavailable();
if (why) console.warn(`read-replica suite skipped: ${why}`);

/** The stock-on-hand report's statement, as both servers log it (log_statement = all). */
const REPORT_SQL = 'from locations l left join stock_levels s';
const count = (log: string, text: string) => log.split(text).length - 1;

describe.skipIf(!!why)('read replica', () => {
  let pair: ReplicaPair;
  let h: Harness;
  let primary: pg.Pool;
  let standby: pg.Pool;
  let a: Awaited<ReturnType<typeof registerTenant>>;
  let b: Awaited<ReturnType<typeof registerTenant>>;
  let itemId: string;

  const report = (t: { token: string }) => api(h.url, 'GET', '/api/v1/reports/stock-on-hand', { token: t.token });
  const source = (r: ApiResponse) => r.headers.get('x-read-source');
  const onHand = (r: ApiResponse) => r.body.data.reduce((n: number, l: { on_hand: number }) => n + l.on_hand, 0);
  const health = async () => (await api(h.url, 'GET', '/healthz')).body;
  const metric = async (line: string) => {
    const text = (await api(h.url, 'GET', '/metrics')).body as string;
    const found = text.split('\n').find((l) => l.startsWith(line));
    return found === undefined ? null : Number(found.slice(line.length).trim());
  };
  const adjust = (qty: number) =>
    api(h.url, 'POST', '/api/v1/adjustments', { token: a.token, body: { item_id: itemId, location_id: a.locationId, qty_delta: qty, reason: 'receipt' } });

  beforeAll(async () => {
    pair = await startReplicaPair();
    primary = new pg.Pool({ connectionString: pair.primary.url, max: 2 });
    standby = new pg.Pool({ connectionString: pair.standby.url, max: 2 });
    standby.on('error', () => {});
    // StockClerk migrates the primary itself; the standby receives the schema by replication.
    h = await startHarness({ worker: false, config: { databaseUrl: pair.primary.url, replicaUrl: pair.standby.url, replicaMaxLagMs: MAX_LAG_MS } });
    a = await registerTenant(h.url, 'Replica A');
    b = await registerTenant(h.url, 'Replica B');
    const item = await api(h.url, 'POST', '/api/v1/items', { token: a.token, body: { sku: 'LOAF-1', name: 'Loaf' } });
    expect(item.status).toBe(201);
    itemId = item.body.id;
    expect((await adjust(7)).status).toBe(201);
  });

  afterAll(async () => {
    await h?.stop();
    await primary?.end();
    await standby?.end();
    await pair?.destroy();
  });

  it('serves the report from the standby once it holds the write, and says so', async () => {
    let r!: ApiResponse;
    await eventually(async () => source((r = await report(a))) === 'replica', 10_000, 'the report to come from the replica');
    expect(r.status).toBe(200);
    expect(onHand(r)).toBe(7);
    const staleness = Number(r.headers.get('x-data-staleness-ms'));
    expect(staleness).toBeGreaterThanOrEqual(0);
    expect(staleness).toBeLessThanOrEqual(MAX_LAG_MS);

    // The statement ran on the standby, not on the primary.
    const before = { standby: count(pair.standby.log(), REPORT_SQL), primary: count(pair.primary.log(), REPORT_SQL) };
    expect(source(await report(a))).toBe('replica');
    await eventually(() => count(pair.standby.log(), REPORT_SQL) > before.standby, 5000, 'the standby to log the report');
    expect(count(pair.primary.log(), REPORT_SQL)).toBe(before.primary);
    const { rows } = await standby.query(`select count(*)::int as n from pg_stat_activity where application_name = 'stockclerk-replica-reads'`);
    expect(rows[0].n).toBeGreaterThan(0);

    // A tenant transaction (SET LOCAL ROLE and set_config, under row-level security) runs on a hot
    // standby too: a replica read that needs one can have it.
    const seen = await tenantTx(standby, a.tenantId, (tx) => tx.query(`select count(*)::int as n from items`));
    expect(seen.rows[0].n).toBe(1);

    expect(await health()).toMatchObject({ status: 'ok', replica: { state: 'ok', serving: 'replica', max_lag_ms: MAX_LAG_MS } });
    expect(await metric('stockclerk_replica_up')).toBe(1);
    expect(await metric('stockclerk_replica_reads_total{source="replica",reason="replica"}')).toBeGreaterThanOrEqual(2);
  });

  it("keeps a tenant's reads on the primary right after its own write; others stay on the standby", async () => {
    await standby.query('select pg_wal_replay_pause()');
    try {
      expect((await adjust(3)).status).toBe(201);
      const own = await report(a);
      expect(source(own)).toBe('primary');
      expect(own.headers.get('x-read-fallback')).toBe('own_write');
      expect(onHand(own)).toBe(10);
      // The standby lacks the write: had the read gone there, it would have said 7.
      const { rows } = await standby.query(`select coalesce(sum(on_hand), 0)::int as n from stock_levels where tenant_id = $1`, [a.tenantId]);
      expect(rows[0].n).toBe(7);
      // Another tenant's read within the bound still goes to the standby.
      expect(source(await report(b))).toBe('replica');
    } finally {
      await standby.query('select pg_wal_replay_resume()');
    }
  });

  it('falls back to the primary when replay stalls past REPLICA_MAX_LAG_MS, then returns once caught up', async () => {
    await standby.query('select pg_wal_replay_pause()');
    try {
      // A change no API call of this process made (an operator's, another process's): only the lag guards it.
      await primary.query(`insert into locations (tenant_id, id, name) values ($1, 'loc_fresh', 'Fresh shelf')`, [a.tenantId]);
      let r!: ApiResponse;
      await eventually(async () => (r = await report(a)).headers.get('x-read-fallback') === 'lagging', MAX_LAG_MS + 8000, 'the report to fall back');
      expect(source(r)).toBe('primary');
      expect(r.headers.get('x-data-staleness-ms')).toBeNull();
      expect(r.body.data.map((l: { location_name: string }) => l.location_name)).toContain('Fresh shelf');
      const { rows } = await standby.query(`select count(*)::int as n from locations where id = 'loc_fresh'`);
      expect(rows[0].n).toBe(0);

      const hz = await health();
      expect(hz).toMatchObject({ status: 'ok', replica: { state: 'ok', serving: 'primary' } });
      expect(hz.replica.lag_ms).toBeGreaterThan(MAX_LAG_MS);
      expect(await metric('stockclerk_replica_lag_seconds')).toBeGreaterThan(MAX_LAG_MS / 1000);
      expect(await metric('stockclerk_replica_reads_total{source="primary",reason="lagging"}')).toBeGreaterThanOrEqual(1);
    } finally {
      await standby.query('select pg_wal_replay_resume()');
    }
    let r!: ApiResponse;
    await eventually(async () => source((r = await report(a))) === 'replica', 10_000, 'the report to come from the replica again');
    expect(r.body.data.map((l: { location_name: string }) => l.location_name)).toContain('Fresh shelf');
    expect(onHand(r)).toBe(10);
    expect(await metric('stockclerk_replica_lag_seconds')).toBeLessThan(MAX_LAG_MS / 1000);
  });

  it('falls back to the primary while the standby is down, and goes back when it is up', async () => {
    await pair.standby.stop();
    const r = await report(a);
    expect(r.status).toBe(200);
    expect(source(r)).toBe('primary');
    expect(['unreachable', 'replica_error']).toContain(r.headers.get('x-read-fallback'));
    expect(onHand(r)).toBe(10);
    await eventually(async () => (await health()).replica?.state === 'unreachable', 10_000, '/healthz to report the replica unreachable');
    expect((await api(h.url, 'GET', '/healthz')).status).toBe(200);
    expect(await metric('stockclerk_replica_up')).toBe(0);
    // Reads of the other routes fall back too.
    const overview = await api(h.url, 'GET', '/api/v1/overview', { token: a.token });
    expect(overview.status).toBe(200);
    expect(source(overview)).toBe('primary');

    await pair.standby.start();
    await eventually(async () => source(await report(a)) === 'replica', 20_000, 'the report to come from the replica after its restart');
    expect(source(await api(h.url, 'GET', '/api/v1/reports/low-stock', { token: a.token }))).toBe('replica');
  });

  it('never sends a write to the standby', async () => {
    // Writes succeed while the replica serves reads (a standby refuses every write: they would fail)...
    expect((await adjust(1)).status).toBe(201);
    // ...and the standby's log holds reads only: none of our writes, no read-only refusal.
    // Every line, not only a statement's first: a write may start with a CTE.
    const log = pair.standby.log();
    expect(log).toContain(REPORT_SQL);
    expect(log.split('\n').filter((l) => /\b(insert|update|delete|merge|copy)\b/i.test(l))).toEqual([]);
    expect(log).not.toMatch(/read-only transaction|cannot execute/);
  });
});
