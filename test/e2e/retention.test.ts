// Retention: history older than the window goes, in bounded slices; what is recent, pending or a
// record (the ledger) stays. Rows are written straight into a real database with old timestamps.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { DEFAULT_TUNING } from '../../src/engine/context.ts';
import { pruneHistory } from '../../src/engine/retention.ts';
import { PERIODIC_JOBS } from '../../src/db/job-specs.ts';
import { schedulerTick } from '../../src/engine/scheduler.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from '../api/support.ts';

let h: Harness;
let t: Awaited<ReturnType<typeof registerTenant>>;
const OLD = "now() - interval '40 days'";
const NEW = "now() - interval '1 day'";

const count = async (sql: string) => (await h.testDb.db.query(sql, [t.tenantId])).rows[0].n as number;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  t = await registerTenant(h.url, 'Old Co');
  const call = client(h.url, t.token);
  const ep = await call('POST', '/webhook-endpoints', { url: 'https://example.com/hook', event_types: ['stock.changed'] });
  expect(ep.status).toBe(201);
  const q = (sql: string, params: unknown[] = [t.tenantId]) => h.testDb.db.query(sql, params);
  for (const [age, n] of [
    [OLD, 5],
    [NEW, 2],
  ] as const) {
    await q(`insert into sync_events (tenant_id, kind, outcome, created_at) select $1, 'push', 'ok', ${age} from generate_series(1, ${n})`);
  }
  // Inbound events: old and applied go; old but not applied yet (still owed to the ledger) stays.
  await q(`insert into channel_events (tenant_id, channel_id, external_event_id, kind, event, created_at, applied_at, outcome)
           select $1, 'ch_x', 'old-' || g, 'order', '{}', ${OLD}, ${OLD}, 'applied' from generate_series(1, 5) g`);
  await q(
    `insert into channel_events (tenant_id, channel_id, external_event_id, kind, event, created_at) values ($1, 'ch_x', 'old-pending', 'order', '{}', ${OLD})`,
  );
  // Webhooks: old delivered (with its attempt and event), old dead, old pending, new delivered.
  const delivery = async (id: string, age: string, status: string) => {
    await q(`insert into webhook_events (tenant_id, id, type, payload, created_at) values ($1, 'evt_${id}', 'stock.changed', '{}', ${age})`);
    const both = [t.tenantId, ep.body.id];
    await q(
      `insert into webhook_deliveries (tenant_id, id, endpoint_id, event_id, status, created_at) values ($1, 'whd_${id}', $2, 'evt_${id}', '${status}', ${age})`,
      both,
    );
    await q(
      `insert into webhook_attempts (tenant_id, endpoint_id, delivery_id, status_code, duration_ms, created_at) values ($1, $2, 'whd_${id}', 200, 5, ${age})`,
      both,
    );
  };
  await delivery('old_ok', OLD, 'delivered');
  await delivery('old_dead', OLD, 'dead');
  await delivery('old_pending', OLD, 'pending');
  await delivery('new_ok', NEW, 'delivered');
  // API jobs: finished 10 days ago goes; finished yesterday, and still running, stay.
  await q(`insert into api_jobs (tenant_id, id, kind, status, created_by, finished_at) values
           ($1, 'job_old', 'export_items', 'succeeded', 'u', now() - interval '10 days'),
           ($1, 'job_new', 'export_items', 'succeeded', 'u', ${NEW}),
           ($1, 'job_running', 'import_items', 'running', 'u', null)`);
  await q(
    `insert into api_key_buckets (key_id, tokens, taken_at, granted) values ('key_idle', 3, now() - interval '2 hours', true), ('key_busy', 3, now(), true)`,
    [],
  );
});

afterAll(async () => {
  await h?.stop();
});

describe('retention', () => {
  it('prunes old settled history in bounded slices and keeps what is recent, pending or a record', async () => {
    const policy = { historyDays: 30, jobDays: 7, slice: 2 };
    const first = await pruneHistory(h.sc.ctx, policy);
    expect(first.sync_events).toBe(2); // a slice at a time
    for (let i = 0; i < 10; i++) await pruneHistory(h.sc.ctx, policy);
    const again = await pruneHistory(h.sc.ctx, policy);
    expect(Object.values(again).every((n) => n === 0)).toBe(true);

    expect(await count(`select count(*)::int as n from sync_events where tenant_id = $1`)).toBe(2);
    expect(await count(`select count(*)::int as n from channel_events where tenant_id = $1`)).toBe(1);
    expect(await count(`select count(*)::int as n from channel_events where tenant_id = $1 and applied_at is null`)).toBe(1);
    const left = (await h.testDb.db.query(`select id from webhook_deliveries where tenant_id = $1 order by id`, [t.tenantId])).rows.map((r) => r.id);
    expect(left).toEqual(['whd_new_ok', 'whd_old_pending']);
    const events = (await h.testDb.db.query(`select id from webhook_events where tenant_id = $1 order by id`, [t.tenantId])).rows.map((r) => r.id);
    expect(events).toEqual(['evt_new_ok', 'evt_old_pending']);
    const attempts = (await h.testDb.db.query(`select delivery_id from webhook_attempts where tenant_id = $1 order by delivery_id`, [t.tenantId])).rows.map(
      (r) => r.delivery_id,
    );
    expect(attempts).toEqual(['whd_new_ok', 'whd_old_pending']);
    const jobs = (await h.testDb.db.query(`select id from api_jobs where tenant_id = $1 order by id`, [t.tenantId])).rows.map((r) => r.id);
    expect(jobs).toEqual(['job_new', 'job_running']);
    const buckets = (await h.testDb.db.query(`select key_id from api_key_buckets where key_id like 'key_%'`)).rows.map((r) => r.key_id);
    expect(buckets).toEqual(['key_busy']);
  });

  it('runs hourly on its own clock, with the window from RETENTION_DAYS (default 30)', async () => {
    expect(PERIODIC_JOBS.find((j) => j.task === 'retention')).toMatchObject({ key: 'retention', everyMs: 3_600_000 });
    await schedulerTick(h.sc.ctx);
    const due = await h.testDb.db.query(`select job_key, run_at from job_outbox where task = 'retention'`);
    expect(due.rows).toHaveLength(1);
    expect(due.rows[0].job_key).toBe('retention');
    expect(new Date(due.rows[0].run_at).getTime()).toBeGreaterThan(Date.now() + 3_500_000);
    expect(DEFAULT_TUNING.retention.historyDays).toBe(30);
    expect(h.sc.ctx.tuning.retention.historyDays).toBe(30);
    expect(loadConfig({ RETENTION_DAYS: '90' }).retentionDays).toBe(90);
    expect(loadConfig({ RETENTION_DAYS: '0' }).retentionDays).toBe(1);
  });
});
