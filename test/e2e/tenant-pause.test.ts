// Pausing a tenant's sync without losing anything (issue 12): an operator's kill switch stops
// all of its jobs within seconds while another tenant goes on; a plan lapsed past its grace
// period stops its pushes while sales arriving by webhook still move the ledger. Either way,
// resuming lets the waiting work run and the channels converge to the ledger.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { client } from '../api/support.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let a: EmulatedTenant;
let b: EmulatedTenant;
let ops: ReturnType<typeof client>;
const ITEMS = [{ sku: 'P-1', name: 'Pie', qty: 50 }];

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  a = await emulatedTenant(h, emus, { types: ['wix'], items: ITEMS });
  b = await emulatedTenant(h, emus, { types: ['wix'], items: ITEMS });
  const email = `ops-${Date.now()}@stockclerk.example`;
  await makeSuperAdmin(h.sc.ctx.db, email, 'operator-pass-1');
  ops = client(h.url, (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'operator-pass-1' } })).body.access_token);
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const onWix = (t: EmulatedTenant) => held(emus, 'wix', t.channels.wix!.accountId, 'P-1')!.qty;
const onHand = async (t: EmulatedTenant) =>
  (await h.sc.ctx.db.query(`select on_hand from stock_levels where tenant_id = $1 and item_id = $2`, [t.tenantId, t.itemIds.get('P-1')])).rows[0]
    .on_hand as number;
const adjust = (t: EmulatedTenant, qty: number) =>
  client(h.url, t.token)('POST', '/adjustments', { item_id: t.itemIds.get('P-1'), location_id: t.locationId, qty_delta: qty, reason: 'adjustment' });
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("an operator's pause", () => {
  it('stops every job of the tenant within seconds while others go on; resume catches up', async () => {
    await eventually(() => onWix(a) === 50 && onWix(b) === 50, 10_000, 'first pushes');
    const paused = await ops('POST', `/admin/tenants/${a.tenantId}/pause`, { reason: 'runaway integration' });
    expect(paused.status).toBe(204);
    await settle(1_500); // every worker has read the paused list

    expect((await adjust(a, -5)).status).toBe(201);
    expect((await adjust(b, -5)).status).toBe(201);
    expect((await sale(emus, 'wix', a.channels.wix!.accountId, 'P-1', 2)).ok).toBe(true);
    await eventually(() => onWix(b) === 45, 5_000, "the other tenant's push");
    await settle(2_000);
    expect(onWix(a)).toBe(48); // the sale on Wix itself; our -5 not pushed
    expect(await onHand(a)).toBe(45); // the Wix sale waits as a recorded event
    const events = await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where tenant_id = $1 and applied_at is null`, [a.tenantId]);
    expect(events.rows[0].n).toBeGreaterThan(0);
    const listed = (await ops('GET', '/admin/tenants?limit=100')).body.data.find((t: { id: string }) => t.id === a.tenantId);
    expect(listed).toMatchObject({ sync_paused: true, sync_paused_reason: 'runaway integration' });

    expect((await ops('POST', `/admin/tenants/${a.tenantId}/resume`, {})).status).toBe(204);
    await eventually(async () => (await onHand(a)) === 43 && onWix(a) === 43, 10_000, 'the paused tenant to converge');
    const audit = await h.sc.ctx.db.query(`select action, changes from audit_log where tenant_id = $1 and action like 'tenant.sync_%' order by id`, [
      a.tenantId,
    ]);
    expect(audit.rows).toMatchObject([{ action: 'tenant.sync_paused', changes: { reason: 'runaway integration' } }, { action: 'tenant.sync_resumed' }]);
  });

  it('refuses anyone but an operator, and an unknown tenant is 404', async () => {
    const owner = client(h.url, a.token);
    expect((await owner('POST', `/admin/tenants/${a.tenantId}/pause`, { reason: 'x' })).status).toBe(403);
    expect((await ops('POST', '/admin/tenants/ten_nope/pause', { reason: 'x' })).status).toBe(404);
    expect((await ops('POST', `/admin/tenants/${a.tenantId}/pause`, {})).status).toBe(400);
  });
});

describe('a plan lapsed past its grace period', () => {
  it('stops pushes but keeps recording sales; paying lets the pushes run and the channel converge', async () => {
    await eventually(async () => onWix(b) === (await onHand(b)), 10_000, 'b settled');
    await h.sc.ctx.db.query(`update tenants set trial_ends_at = now() - interval '8 days' where id = $1`, [b.tenantId]);
    await settle(1_500);
    const start = await onHand(b);
    expect((await adjust(b, -4)).status).toBe(201);
    expect((await sale(emus, 'wix', b.channels.wix!.accountId, 'P-1', 1)).ok).toBe(true);
    // The sale moves the ledger (the Watcher runs); the -4 is not pushed.
    await eventually(async () => (await onHand(b)) === start - 5, 10_000, 'the sale in the ledger');
    await settle(2_000);
    expect(onWix(b)).toBe(start - 1);
    expect((await api(h.url, 'GET', '/api/v1/billing', { token: b.token })).body.pushes_paused).toBe(true);

    await h.sc.ctx.db.query(`update tenants set plan = 'starter', billing_status = 'active', lapsed_at = null where id = $1`, [b.tenantId]);
    await eventually(async () => onWix(b) === (await onHand(b)), 10_000, 'the channel to converge once paid');
    expect(onWix(b)).toBe(start - 5);
  });
});
