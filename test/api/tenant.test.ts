// The tenant's own settings, and the Guardian's schedule that they drive.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('tenant settings', () => {
  it('reads and changes the Guardian cadence and drift threshold; refuses bad values', async () => {
    const a = await registerTenant(h.url, 'Settings Co');
    const b = await registerTenant(h.url, 'Other Co');
    const got = await api(h.url, 'GET', '/api/v1/tenant', { token: a.token });
    expect(got.body).toMatchObject({ id: a.tenantId, name: 'Settings Co', guardian_interval_s: 900, drift_threshold: 5 });
    const patched = await api(h.url, 'PATCH', '/api/v1/tenant', { token: a.token, body: { guardian_interval_s: 300, drift_threshold: 2 } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ guardian_interval_s: 300, drift_threshold: 2 });
    for (const bad of [{ guardian_interval_s: 5 }, { drift_threshold: -1 }, { guardian_interval_s: 'soon' }, {}, { tenant_id: b.tenantId }]) {
      const r = await api(h.url, 'PATCH', '/api/v1/tenant', { token: a.token, body: bad });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('validation_failed');
    }
    expect((await api(h.url, 'GET', '/api/v1/tenant', { token: a.token })).body).toMatchObject({ guardian_interval_s: 300, drift_threshold: 2 });
    expect((await api(h.url, 'GET', '/api/v1/tenant', { token: b.token })).body).toMatchObject({ id: b.tenantId, guardian_interval_s: 900 });
  });

  it('the scheduler runs the Guardian for a tenant when it is due, and plans the next run', async () => {
    const t = await emulatedTenant(h, emus, { types: ['wix'], items: [{ sku: 'G-1', name: 'G', qty: 3 }] });
    await h.sc.ctx.db.query(`update tenants set guardian_next_at = now(), guardian_interval_s = 600 where id = $1`, [t.tenantId]);
    await eventually(
      async () =>
        (await h.sc.ctx.db.query(`select count(*)::int as n from guardian_runs where tenant_id = $1 and finished_at is not null`, [t.tenantId])).rows[0].n ===
        1,
      10_000,
      'a scheduled Guardian run',
    );
    const { rows } = await h.sc.ctx.db.query(`select extract(epoch from guardian_next_at - now())::int as s from tenants where id = $1`, [t.tenantId]);
    expect(rows[0].s).toBeGreaterThan(590);
  });
});
