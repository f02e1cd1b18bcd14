// The Sync and Alert agents when channels misbehave, and what operators see (metrics, logs).
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { alertsHealth } from '../../src/engine/alerts.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { REDACT } from '../../src/log.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
const logLines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  h = await startHarness({ log: pino({ level: 'info', redact: { paths: REDACT, censor: '[redacted]' } }, sink) });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const items = (n: number, qty = 20) => Array.from({ length: n }, (_, i) => ({ sku: `I-${i}`, name: `Item ${i}`, qty }));
const move = (t: EmulatedTenant, sku: string, qtyDelta: number) =>
  recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId: t.itemIds.get(sku)!, locationId: t.locationId, qtyDelta, reason: 'adjustment' }]);

describe('channels that name no locations', () => {
  it("draw from every location and take their sales from the tenant's first one", async () => {
    const t = await emulatedTenant(h, emus, { types: ['wix', 'eposnow'], items: items(1), settings: { wix: { location_ids: [] } } });
    const r = await sale(emus, 'wix', t.channels.wix!.accountId, 'I-0', 2);
    expect(r.ok).toBe(true);
    await eventually(() => held(emus, 'eposnow', t.channels.eposnow!.accountId, 'I-0')?.qty === 18, 5000, 'the till follows the Wix sale');
    const { rows } = await h.sc.ctx.db.query(`select location_id, qty_delta, reason from stock_movements where tenant_id = $1 and source_channel_id = $2`, [
      t.tenantId,
      t.channels.wix!.channelId,
    ]);
    expect(rows).toEqual([{ location_id: t.locationId, qty_delta: -2, reason: 'sale' }]);
  });
});

describe('agents under failure', () => {
  it('a channel that refuses our credentials is marked disconnected and alerted, once', async () => {
    const t = await emulatedTenant(h, emus, { types: ['wix'], items: items(2) });
    const acc = emus.wix.accounts.get(t.channels.wix!.accountId) as { apiKey: string };
    acc.apiKey = 'rotated-by-the-merchant';
    await move(t, 'I-0', -1);
    await move(t, 'I-1', -1);
    await eventually(
      async () => (await h.sc.ctx.db.query(`select status from channels where tenant_id=$1`, [t.tenantId])).rows[0].status === 'disconnected',
      5000,
      'disconnected',
    );
    await quiescent(h, emus);
    const { rows } = await h.sc.ctx.db.query(`select type, severity, status from alerts where tenant_id=$1 and type='channel_auth'`, [t.tenantId]);
    expect(rows).toEqual([{ type: 'channel_auth', severity: 'critical', status: 'open' }]);
  });

  it('honours Retry-After from a throttling platform, then delivers', async () => {
    const t = await emulatedTenant(h, emus, { types: ['deliveroo'], items: items(1, 1) });
    emus.deliveroo.knobs = { ...emus.deliveroo.knobs, throttleRate: 1 };
    await move(t, 'I-0', -1);
    // The platform stops throttling once it has throttled us (not after a fixed time: on a busy
    // machine the first push can come later than any fixed delay).
    await eventually(
      async () => (await h.sc.ctx.db.query(`select 1 from sync_events where tenant_id=$1 and outcome='throttled'`, [t.tenantId])).rowCount! > 0,
      8000,
      'a throttled push',
    );
    emus.deliveroo.knobs = { ...emus.deliveroo.knobs, throttleRate: 0 };
    await eventually(() => held(emus, 'deliveroo', t.channels.deliveroo!.accountId, 'I-0')?.available === false, 8000, 'unavailable on Deliveroo');
    // The platform holds the change as soon as it answers; our record of the push commits just after.
    await eventually(
      async () => (await h.sc.ctx.db.query(`select 1 from sync_events where tenant_id=$1 and kind='push' and outcome='ok'`, [t.tenantId])).rowCount! > 0,
      8000,
      'the push recorded',
    );
    const { rows } = await h.sc.ctx.db.query<{ outcome: string; at: Date }>(
      `select outcome, created_at as at from sync_events where tenant_id=$1 and kind='push' order by id`,
      [t.tenantId],
    );
    const throttled = rows.find((r) => r.outcome === 'throttled');
    const ok = rows.find((r) => r.outcome === 'ok');
    expect(throttled).toBeDefined();
    expect(ok).toBeDefined();
    // Deliveroo said "Retry-After: 1": the next attempt came no sooner.
    expect(ok!.at.getTime() - throttled!.at.getTime()).toBeGreaterThanOrEqual(900);
  });

  it('raises a sync failure-rate alert when most pushes to a channel fail, and resolves it when they recover', async () => {
    const t = await emulatedTenant(h, emus, { types: ['eposnow'], items: items(12) });
    emus.eposnow.knobs = { ...emus.eposnow.knobs, errorRate: 1 };
    for (let i = 0; i < 12; i++) await move(t, `I-${i}`, -1);
    await eventually(
      async () => (await h.sc.ctx.db.query(`select count(*)::int as n from sync_events where tenant_id=$1 and outcome='failed'`, [t.tenantId])).rows[0].n >= 10,
      8000,
      'failed pushes',
    );
    await alertsHealth(h.sc.ctx);
    const open = async () => (await h.sc.ctx.db.query(`select status from alerts where tenant_id=$1 and type='sync_failure_rate'`, [t.tenantId])).rows;
    expect(await open()).toEqual([{ status: 'open' }]);
    emus.eposnow.knobs = { ...emus.eposnow.knobs, errorRate: 0 };
    await eventually(() => held(emus, 'eposnow', t.channels.eposnow!.accountId, 'I-11')?.qty === 19, 30_000, 'recovery');
  }, 40_000);
});

describe('operations', () => {
  it('exposes the promised Prometheus series', async () => {
    const res = await fetch(`${h.url}/metrics`);
    const text = await res.text();
    expect(res.status).toBe(200);
    for (const name of [
      'stockclerk_webhook_accept_seconds',
      'stockclerk_job_queue_depth',
      'stockclerk_job_latency_seconds',
      'stockclerk_pushes_total',
      'stockclerk_drift_found_total',
      'stockclerk_alerts_raised_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('logs JSON with request_id and tenant_id, and never a secret', async () => {
    const t = await emulatedTenant(h, emus, { types: ['eposnow'], items: items(1) });
    await sale(emus, 'eposnow', t.channels.eposnow!.accountId, 'I-0');
    const r = await api(h.url, 'GET', '/api/v1/items', { token: t.token, headers: { 'x-request-id': 'req-for-the-log-test' } });
    expect(r.headers.get('x-request-id')).toBe('req-for-the-log-test');
    await api(h.url, 'GET', '/api/v1/items?limit=banana', { token: t.token });
    await quiescent(h, emus);
    const parsed = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const mine = parsed.find((l) => l.request_id === 'req-for-the-log-test');
    expect(mine).toMatchObject({ tenant_id: t.tenantId, status: 200 });
    const all = logLines.join('\n');
    // The channel's credentials include its webhook URL secret; Epos Now has no webhook signing secret ('').
    const secrets = [t.token, ...Object.values(t.channels.eposnow!.account.channel), t.channels.eposnow!.account.webhookSecret].filter((s) => s !== '');
    expect(Object.keys(t.channels.eposnow!.account.channel)).toContain('webhook_url_secret');
    for (const s of secrets) expect(all).not.toContain(s);
  });
});
