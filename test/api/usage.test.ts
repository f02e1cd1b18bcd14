// Usage metering (seed 004): API calls, pushes and webhooks counted per tenant per day in memory
// and flushed to usage_daily; GET /usage (a tenant's month, quota, projection) and the operators'
// GET /admin/usage.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/pool.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { PLANS } from '../../src/domain/plans.ts';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { currentMonth, monthSpan, project, tenantUsage, UsageMeter } from '../../src/services/usage.ts';
import { emulatedTenant, held, quiescent, sale } from '../helpers/tenant.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid } from './support.ts';

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  [h, emus] = await Promise.all([startHarness(), startEmulators()]);
});
afterAll(async () => {
  await h?.stop();
  await emus?.close();
});

type Counts = { api_calls: number; pushes: number; webhooks: number };
/** A tenant's counters over all days, after this process wrote what it counted. */
async function stored(tenantId: string, db: Db = h.testDb.db): Promise<Counts> {
  await h.sc.ctx.usage.flush();
  const { rows } = await db.query<Counts>(
    `select coalesce(sum(api_calls), 0)::int as api_calls, coalesce(sum(pushes), 0)::int as pushes, coalesce(sum(webhooks), 0)::int as webhooks
     from usage_daily where tenant_id = $1`,
    [tenantId],
  );
  return rows[0]!;
}
const diff = (a: Counts, b: Counts): Counts => ({ api_calls: b.api_calls - a.api_calls, pushes: b.pushes - a.pushes, webhooks: b.webhooks - a.webhooks });

async function insertDays(tenantId: string, rows: Array<[day: string, api: number, pushes: number, webhooks: number]>): Promise<void> {
  for (const [day, a, p, w] of rows) {
    await h.testDb.db.query(`insert into usage_daily (tenant_id, day, api_calls, pushes, webhooks) values ($1, $2, $3, $4, $5)`, [tenantId, day, a, p, w]);
  }
}

describe('counting', () => {
  it("counts a tenant's authenticated API calls (sessions, keys, refused ones) for that tenant only", async () => {
    const A = await registerTenant(h.url, 'Counted A');
    const B = await registerTenant(h.url, 'Counted B');
    const a = client(h.url, A.token);
    const [a0, b0] = [await stored(A.tenantId), await stored(B.tenantId)];
    for (let i = 0; i < 5; i++) expect((await a('GET', '/locations')).status).toBe(200);
    expectError(await a('GET', '/admin/tenants'), 403, 'forbidden'); // a call, refused: still a call
    const key = (await a('POST', '/api-keys', { name: 'reader', scopes: ['read'] })).body.key as string;
    for (let i = 0; i < 3; i++) expect((await client(h.url, key)('GET', '/items')).status).toBe(200);
    // No credential, or a bad one: nobody's call.
    expectError(await client(h.url, undefined)('GET', '/items'), 401, 'unauthorized');
    expectError(await client(h.url, 'sck_nope')('GET', '/items'), 401, 'unauthorized');
    expect(diff(a0, await stored(A.tenantId))).toEqual({ api_calls: 10, pushes: 0, webhooks: 0 });
    expect(diff(b0, await stored(B.tenantId))).toEqual({ api_calls: 0, pushes: 0, webhooks: 0 });
    await client(h.url, B.token)('GET', '/locations');
    expect(diff(b0, await stored(B.tenantId))).toEqual({ api_calls: 1, pushes: 0, webhooks: 0 });
    expect(diff(a0, await stored(A.tenantId)).api_calls).toBe(10);
  });

  it('a till sale counts its webhook, and one push per listing update sent to the other channel', async () => {
    const t = await emulatedTenant(h, emus, {
      types: ['eposnow', 'wix'],
      items: [
        { sku: 'SOUP', name: 'Soup', qty: 10 },
        { sku: 'BREAD', name: 'Bread', qty: 5 },
      ],
    });
    await quiescent(h, emus, 25_000);
    const before = await stored(t.tenantId);
    const sent = { till: emus.eposnow.stats.webhooksSent, wix: emus.wix.stats.webhooksSent };
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, 'SOUP', 2)).ok).toBe(true);
    await eventually(() => held(emus, 'wix', t.channels.wix!.accountId, 'SOUP')?.qty === 8, 15_000, 'Wix told 8 soups');
    await quiescent(h, emus, 25_000);
    const d = diff(before, await stored(t.tenantId));
    // The till sent the sale's webhook; Wix may report our write back (an echo: a webhook accepted too).
    expect(emus.eposnow.stats.webhooksSent - sent.till).toBe(1);
    expect(d.webhooks).toBe(emus.eposnow.stats.webhooksSent - sent.till + (emus.wix.stats.webhooksSent - sent.wix));
    // Wix's soup listing was written once; the till already held 8 (its adapter read and wrote
    // nothing), and bread did not change.
    expect(d.pushes).toBe(1);
    expect(d.api_calls).toBe(0);
  });

  it('a flush writes one row per tenant and day; a failed one keeps its counts for the next', async () => {
    const T = await registerTenant(h.url, 'Meter');
    let clock = Date.parse('2026-03-31T23:59:59.500Z');
    let failNext = true;
    const db = {
      query: (...args: Parameters<Db['query']>) => {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('connection lost'));
        }
        return (h.testDb.db.query as (...a: unknown[]) => Promise<unknown>)(...args);
      },
    } as unknown as Db;
    const meter = new UsageMeter(db, () => clock);
    meter.count(T.tenantId, 'api_calls');
    meter.count(T.tenantId, 'pushes', 3);
    clock += 1_000; // past midnight UTC: a new day's row
    meter.count(T.tenantId, 'webhooks', 2);
    meter.count(T.tenantId, 'api_calls', 0); // nothing
    await expect(meter.flush()).rejects.toThrow('connection lost');
    meter.count(T.tenantId, 'api_calls');
    await meter.stop();
    const { rows } = await h.testDb.db.query(
      `select to_char(day, 'YYYY-MM-DD') as day, api_calls, pushes, webhooks from usage_daily where tenant_id = $1 order by day`,
      [T.tenantId],
    );
    expect(rows).toEqual([
      { day: '2026-03-31', api_calls: 1, pushes: 3, webhooks: 0 },
      { day: '2026-04-01', api_calls: 1, pushes: 0, webhooks: 2 },
    ]);
    // A second flush adds to the stored row (upsert), and a vanished tenant's counts do not poison the batch.
    meter.count(T.tenantId, 'webhooks', 5);
    meter.count('ten_00000000000000000000000000000000', 'webhooks', 5);
    await meter.flush();
    const again = await h.testDb.db.query(`select webhooks from usage_daily where tenant_id = $1 and day = '2026-04-01'`, [T.tenantId]);
    expect(again.rows[0].webhooks).toBe(7);
  });

  it('a clean stop writes what was counted since the last flush', async () => {
    const h2 = await startHarness({ worker: false, tuning: { usageFlushMs: 3_600_000 } });
    try {
      const T = await registerTenant(h2.url, 'Stopped');
      for (let i = 0; i < 4; i++) await api(h2.url, 'GET', '/api/v1/locations', { token: T.token });
      const none = await h2.testDb.db.query(`select 1 from usage_daily where tenant_id = $1`, [T.tenantId]);
      expect(none.rows).toEqual([]); // nothing written yet: no timer flush within the hour
      await h2.sc.stop();
      const { rows } = await h2.testDb.db.query(`select api_calls from usage_daily where tenant_id = $1`, [T.tenantId]);
      expect(rows).toEqual([{ api_calls: 4 }]);
    } finally {
      await h2.testDb.drop();
      fs.rmSync(h2.dataDir, { recursive: true, force: true });
    }
  });
});

describe('GET /usage', () => {
  it('answers every day of a month, totals, quota and projection from the stored rows; never another tenant', async () => {
    const T = await registerTenant(h.url, 'Monthly');
    const other = await registerTenant(h.url, 'Other');
    await insertDays(T.tenantId, [
      ['2025-02-01', 100, 40, 10],
      ['2025-02-14', 50, 0, 5],
      ['2025-02-28', 1, 2, 3],
      ['2025-03-01', 999, 999, 999], // the next month: not counted in February
    ]);
    await insertDays(other.tenantId, [['2025-02-10', 7777, 7777, 7777]]);
    const r = await client(h.url, T.token)('GET', '/usage?month=2025-02');
    expect(r.status).toBe(200);
    expect(r.body.days).toHaveLength(28);
    expect(r.body.days[0]).toEqual({ day: '2025-02-01', api_calls: 100, pushes: 40, webhooks: 10 });
    expect(r.body.days[1]).toEqual({ day: '2025-02-02', api_calls: 0, pushes: 0, webhooks: 0 });
    expect(r.body.days[27]).toEqual({ day: '2025-02-28', api_calls: 1, pushes: 2, webhooks: 3 });
    expect(r.body).toMatchObject({
      month: '2025-02',
      plan: 'trial',
      totals: { api_calls: 151, pushes: 42, webhooks: 18 },
      quota: PLANS.trial.quota,
      projected: { api_calls: 151, pushes: 42, webhooks: 18 }, // a month gone by projects what it used
      days_in_month: 28,
      days_elapsed: 28,
    });
    expect(r.body.percent_of_quota.api_calls).toBe(Math.round((151 / PLANS.trial.quota.api_calls) * 1000) / 10);
    // The other tenant sees its own February only.
    const o = await client(h.url, other.token)('GET', '/usage?month=2025-02');
    expect(o.body.totals).toEqual({ api_calls: 7777, pushes: 7777, webhooks: 7777 });
    expect(JSON.stringify(o.body)).not.toContain('"api_calls":100,');
  });

  it('projects the current month from the days elapsed, today by its fraction', async () => {
    const T = await registerTenant(h.url, 'This month');
    await h.sc.ctx.usage.flush();
    const today = new Date().toISOString().slice(0, 10);
    // Replace whatever the registration counted today with fixed numbers.
    await h.testDb.db.query(`delete from usage_daily where tenant_id = $1`, [T.tenantId]);
    await insertDays(T.tenantId, [[today, 0, 3000, 300]]);
    const before = Date.now();
    const r = await client(h.url, T.token)('GET', '/usage'); // the current month by default
    const after = Date.now();
    expect(r.body.month).toBe(currentMonth(before));
    const lo = project(3000, monthSpan(r.body.month, after));
    const hi = project(3000, monthSpan(r.body.month, before));
    expect(r.body.projected.pushes).toBeGreaterThanOrEqual(lo);
    expect(r.body.projected.pushes).toBeLessThanOrEqual(hi);
    expect(r.body.projected.pushes).toBeGreaterThanOrEqual(3000);
  });

  it('projection: daily average over the elapsed days (at least one) x days in the month; 0 before it, the total after', async () => {
    const T = await registerTenant(h.url, 'Projection');
    await insertDays(T.tenantId, [
      ['2026-04-01', 500, 0, 0],
      ['2026-04-10', 450, 90, 0],
    ]);
    // 10 April 12:00 UTC: 9.5 of 30 days gone.
    const mid = await tenantUsage(h.testDb.db, T.tenantId, '2026-04', Date.parse('2026-04-10T12:00:00Z'));
    expect(mid.totals).toEqual({ api_calls: 950, pushes: 90, webhooks: 0 });
    expect(mid.projected).toEqual({ api_calls: 3000, pushes: Math.round((90 / 9.5) * 30), webhooks: 0 });
    expect(mid.days_elapsed).toBe(9.5);
    // Six hours into the month: averaged over one day, not a quarter of one.
    const early = await tenantUsage(h.testDb.db, T.tenantId, '2026-04', Date.parse('2026-04-01T06:00:00Z'));
    expect(early.projected.api_calls).toBe(950 * 30);
    expect((await tenantUsage(h.testDb.db, T.tenantId, '2026-04', Date.parse('2026-03-20T00:00:00Z'))).projected.api_calls).toBe(0);
    expect((await tenantUsage(h.testDb.db, T.tenantId, '2026-04', Date.parse('2026-05-02T00:00:00Z'))).projected.api_calls).toBe(950);
  });

  it('refuses a malformed month or an unknown parameter with a 400', async () => {
    const call = client(h.url, (await registerTenant(h.url, 'Bad input')).token);
    for (const m of ['2025-13', '2025-1', '25-01', 'May', '2025-00']) expectInvalid(await call('GET', `/usage?month=${m}`), 'month');
    expectInvalid(await call('GET', '/usage?tenant_id=ten_x'));
  });
});

describe('GET /admin/usage', () => {
  it("lists every tenant's month against its quota, highest share first, for operators only", async () => {
    const X = await registerTenant(h.url, 'Half used');
    const Y = await registerTenant(h.url, 'Mostly used');
    await h.testDb.db.query(`update tenants set plan = 'starter' where id = $1`, [Y.tenantId]);
    await insertDays(X.tenantId, [['2024-03-05', PLANS.trial.quota.api_calls / 2, 0, 0]]);
    await insertDays(Y.tenantId, [['2024-03-06', 10, (PLANS.starter.quota.pushes * 4) / 5, 0]]);
    const email = `ops-usage-${Date.now()}@stockclerk.example`;
    await makeSuperAdmin(h.sc.ctx.db, email, 'operator-pass-1');
    const login = await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'operator-pass-1' } });
    const ops = client(h.url, login.body.access_token);

    const all = await ops('GET', '/admin/usage?month=2024-03&limit=500');
    expect(all.status).toBe(200);
    expect(all.body.month).toBe('2024-03');
    const ids = (all.body.data as Array<{ tenant_id: string }>).map((r) => r.tenant_id);
    expect(ids.slice(0, 2)).toEqual([Y.tenantId, X.tenantId]);
    expect(ids).toContain((await client(h.url, login.body.access_token)('GET', '/me')).body.tenant.id); // tenants with no usage too
    expect(all.body.data[0]).toEqual({
      tenant_id: Y.tenantId,
      name: 'Mostly used',
      plan: 'starter',
      totals: { api_calls: 10, pushes: 200_000, webhooks: 0 },
      quota: PLANS.starter.quota,
      projected: { api_calls: 10, pushes: 200_000, webhooks: 0 },
      percent_of_quota: { api_calls: 0, pushes: 80, webhooks: 0 },
      share_percent: 80,
    });
    expect(all.body.data[1]).toMatchObject({ tenant_id: X.tenantId, plan: 'trial', share_percent: 50, percent_of_quota: { api_calls: 50 } });

    // Pages follow the same order.
    const first = await ops('GET', '/admin/usage?month=2024-03&limit=1');
    expect(first.body.data.map((r: { tenant_id: string }) => r.tenant_id)).toEqual([Y.tenantId]);
    const second = await ops('GET', `/admin/usage?month=2024-03&limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((r: { tenant_id: string }) => r.tenant_id)).toEqual([X.tenantId]);
    let seen: string[] = [];
    for (let cursor: string | null = null; ;) {
      const p = await ops('GET', `/admin/usage?month=2024-03&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      seen = [...seen, ...p.body.data.map((r: { tenant_id: string }) => r.tenant_id)];
      cursor = p.body.next_cursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(ids);
    const byTenant = await ops('GET', '/admin/usage?month=2024-03&sort=tenant&limit=500');
    expect(byTenant.body.data.map((r: { tenant_id: string }) => r.tenant_id)).toEqual([...ids].sort().reverse());
    expectInvalid(await ops('GET', '/admin/usage?month=2024-03&cursor=bm90IGEga2V5'), 'cursor');
    expectInvalid(await ops('GET', '/admin/usage?sort=usage'), 'sort');

    // A merchant (even an owner) and any key: 403.
    expectError(await client(h.url, X.token)('GET', '/admin/usage'), 403, 'forbidden');
    const key = (await client(h.url, X.token)('POST', '/api-keys', { name: 'all', scopes: ['read', 'write', 'admin'] })).body.key as string;
    expectError(await client(h.url, key)('GET', '/admin/usage'), 403, 'insufficient_scope');
  });
});
