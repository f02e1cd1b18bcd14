// The operators' console API (issue 12): tenants with their activity, searchable and sortable; one
// tenant in detail; the sync monitor with dead jobs and their retry; system health. Figures are
// checked against rows the test puts in place, so a wrong query shows as a wrong number.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

let h: Harness;
let busy: Awaited<ReturnType<typeof registerTenant>>;
let quiet: Awaited<ReturnType<typeof registerTenant>>;
let ops: ReturnType<typeof client>;
const stamp = Date.now().toString(36);

beforeAll(async () => {
  h = await startHarness();
  busy = await registerTenant(h.url, `Busy Bakery ${stamp}`);
  quiet = await registerTenant(h.url, `Quiet Cafe ${stamp}`);
  const email = `ops-${Date.now()}@stockclerk.example`; // not the stamp: searches for it find the two shops only
  await makeSuperAdmin(h.sc.ctx.db, email, 'operator-pass-1');
  ops = client(h.url, (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'operator-pass-1' } })).body.access_token);
});
afterAll(async () => h?.stop());

const sql = (text: string, params: unknown[] = []) => h.sc.ctx.db.query(text, params);
const row = async (search: string) => (await ops('GET', `/admin/tenants?search=${encodeURIComponent(search)}`)).body.data;

describe('the tenants list', () => {
  it('finds a tenant by name, by id and by a user email, and only that one', async () => {
    expect((await row('busy bakery ' + stamp)).map((t: { id: string }) => t.id)).toEqual([busy.tenantId]);
    expect((await row(busy.tenantId)).map((t: { id: string }) => t.id)).toEqual([busy.tenantId]);
    expect((await row(quiet.email)).map((t: { id: string }) => t.id)).toEqual([quiet.tenantId]);
    expect(await row('no-such-tenant-' + stamp)).toEqual([]);
  });

  it('reports 24 h volumes, the push failure rate, queue lag and last activity from what happened', async () => {
    // Usage: today 100 pushes; yesterday 48, of which the share still inside the 24 h window counts.
    await sql(
      `insert into usage_daily (tenant_id, day, api_calls, pushes, webhooks) values
         ($1, (now() at time zone 'utc')::date, 10, 100, 7), ($1, (now() at time zone 'utc')::date - 1, 0, 48, 0)`,
      [busy.tenantId],
    );
    const { rows } = await sql(`select 48 * (1 - extract(epoch from (now() at time zone 'utc') - (now() at time zone 'utc')::date) / 86400) as y`);
    // Pushes: 3 failed of 4 in the window; one failure older than 24 h does not count. Oldest
    // first, as they would have happened: the latest is the tenant's last activity.
    for (const [outcome, age] of [
      ['failed', '2 days'],
      ['failed', '4 minutes'],
      ['failed', '3 minutes'],
      ['failed', '2 minutes'],
      ['ok', '1 minute'],
    ]) {
      await sql(`insert into sync_events (tenant_id, kind, outcome, created_at) values ($1, 'push', $2, now() - $3::interval)`, [busy.tenantId, outcome, age]);
    }
    // Queue lag: pause the tenant so its job waits, due 30 s ago.
    expect((await ops('POST', `/admin/tenants/${busy.tenantId}/pause`, { reason: 'console test' })).status).toBe(204);
    await new Promise((r) => setTimeout(r, 1_500)); // every worker has read the paused list
    await sql(`select graphile_worker.add_job('guardian_run', $1::json, run_at => now() - interval '30 seconds', flags => array['t:' || $2])`, [
      JSON.stringify({ tenantId: busy.tenantId }),
      busy.tenantId,
    ]);

    const [t] = await row(busy.tenantId);
    expect(t).toMatchObject({ plan: 'trial', shop_limit: 3, shops_used: 0, sync_paused: true, webhooks_24h: 7, push_failure_rate: 0.75 });
    // The tenant's own calls (registration read its location) are metered on top of the 10 put in place.
    expect(t.api_calls_24h).toBeGreaterThanOrEqual(10);
    expect(t.pushes_24h).toBe(Math.round(100 + Number(rows[0].y)));
    expect(t.queue_lag_s).toBeGreaterThanOrEqual(29);
    expect(t.jobs_waiting).toBe(1);
    expect(Date.now() - Date.parse(t.last_activity)).toBeLessThan(2 * 60_000);

    const [q] = await row(quiet.tenantId);
    expect(q).toMatchObject({ pushes_24h: 0, push_failure_rate: null, queue_lag_s: 0, last_activity: null });
  });

  it('sorts by a live figure and pages through the sorted list', async () => {
    const byLag = (await ops('GET', '/admin/tenants?sort=queue_lag&limit=1')).body;
    expect(byLag.data[0].id).toBe(busy.tenantId);
    const next = (await ops('GET', `/admin/tenants?sort=queue_lag&limit=1&cursor=${byLag.next_cursor}`)).body;
    expect(next.data[0].id).not.toBe(busy.tenantId);
    const byName = (await ops('GET', `/admin/tenants?sort=name&search=${stamp}`)).body.data.map((t: { name: string }) => t.name);
    expect(byName).toEqual([`Busy Bakery ${stamp}`, `Quiet Cafe ${stamp}`]);
    expectError(await ops('GET', '/admin/tenants?sort=loudest'), 400, 'validation_failed');
  });

  it("shows one tenant's detail, and 404 for an unknown one", async () => {
    const d = await ops('GET', `/admin/tenants/${busy.tenantId}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ id: busy.tenantId, users: [{ email: busy.email, role: 'owner' }], channels: [] });
    expect(d.body.usage_30d.map((u: { pushes: number }) => u.pushes)).toEqual([48, 100]);
    expect(d.body.recent_audit[0]).toMatchObject({ action: 'tenant.sync_paused' });
    expectError(await ops('GET', '/admin/tenants/ten_00000000000000000000000000000000'), 404, 'not_found');
  });
});

describe('the sync monitor', () => {
  it('shows queues per tenant and task, lists dead jobs and runs them again', async () => {
    const { rows } = await sql(
      `select id from graphile_worker.add_job('watcher_poll', $1::json, max_attempts => 1, flags => array['t:' || $2], job_key => 'poll:ch_console_test')`,
      [JSON.stringify({ tenantId: busy.tenantId, channelId: 'ch_console_test' }), busy.tenantId],
    );
    const jobId = String(rows[0].id);
    await sql(`update graphile_worker._private_jobs set attempts = 1, last_error = 'boom: the channel said 500' where id = $1`, [jobId]);

    const mon = (await ops('GET', `/admin/sync?tenant_id=${busy.tenantId}`)).body.data;
    expect(mon).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tenant_id: busy.tenantId, tenant_name: `Busy Bakery ${stamp}`, task: 'guardian_run', waiting: 1, dead: 0 }),
        expect.objectContaining({ tenant_id: busy.tenantId, channel_id: 'ch_console_test', task: 'watcher_poll', waiting: 0, dead: 1 }),
      ]),
    );
    expect((await ops('GET', `/admin/sync?tenant_id=${quiet.tenantId}`)).body.data).toEqual([]);

    const dead = (await ops('GET', `/admin/jobs/dead?tenant_id=${busy.tenantId}`)).body.data;
    expect(dead).toEqual([
      expect.objectContaining({ id: jobId, task: 'watcher_poll', channel_id: 'ch_console_test', last_error: 'boom: the channel said 500' }),
    ]);

    const retried = await ops('POST', '/admin/jobs/retry', { tenant_id: busy.tenantId });
    expect(retried.body).toEqual({ retried: 1 });
    expect((await ops('GET', `/admin/jobs/dead?tenant_id=${busy.tenantId}`)).body.data).toEqual([]);
    const { rows: after } = await sql(`select attempts from graphile_worker.jobs where id = $1`, [jobId]);
    expect(after[0].attempts).toBe(0);
    const audited = await sql(`select changes from audit_log where tenant_id = $1 and action = 'jobs.retried'`, [busy.tenantId]);
    expect(audited.rows).toEqual([{ changes: { jobs: 1 } }]);
    expect((await ops('POST', '/admin/jobs/retry', { ids: [jobId] })).body).toEqual({ retried: 0 }); // not dead any more
    expectError(await ops('POST', '/admin/jobs/retry', { ids: ['drop table'] }), 400, 'validation_failed');
    expectError(await ops('POST', '/admin/jobs/retry', {}), 400, 'validation_failed');
  });
});

describe('system health', () => {
  it('shows the database and this process, alive, with its memory', async () => {
    const hl = (await ops('GET', '/admin/health')).body;
    expect(hl.database.size_bytes).toBeGreaterThan(1_000_000);
    expect(hl.database.max_connections).toBeGreaterThan(0);
    expect(Object.values(hl.database.connections as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const me = hl.processes.find((p: { id: string }) => p.id.endsWith(`:${process.pid}`));
    expect(me).toMatchObject({ role: 'start', alive: true });
    expect(me.rss_bytes).toBeGreaterThan(10_000_000);
    expect(hl.workers.count).toBeGreaterThan(0);
    expect(hl.jobs.waiting).toBeGreaterThanOrEqual(1); // the paused tenant's job
  });
});

describe('guard', () => {
  it('answers 403 to anyone but an operator on every console route', async () => {
    const owner = client(h.url, busy.token);
    for (const [m, p, b] of [
      ['GET', '/admin/tenants'],
      ['GET', `/admin/tenants/${busy.tenantId}`],
      ['GET', '/admin/sync'],
      ['GET', '/admin/jobs/dead'],
      ['POST', '/admin/jobs/retry', { tenant_id: busy.tenantId }],
      ['GET', '/admin/health'],
    ] as const) {
      expectError(await owner(m, p, b), 403, 'forbidden');
    }
  });
});
