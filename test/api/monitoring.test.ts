// What the dashboard watches: sync events, alerts (list, acknowledge), the agents' status with
// their queues, and Guardian runs (history, run now) over real HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyEmulator } from '../../emulators/shopify/index.ts';
import { addJobs } from '../../src/db/jobs.ts';
import { withTx } from '../../src/db/pool.ts';
import { raiseAlert, resolveAlerts } from '../../src/services/alerts.ts';
import { recordSyncEvents } from '../../src/engine/sync-events.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, ghost, snapshot, type Call } from './support.ts';

let h: Harness;
const emu = createShopifyEmulator();
let tenant: Awaited<ReturnType<typeof registerTenant>>;
let other: Awaited<ReturnType<typeof registerTenant>>;
let call: Call;
let userId: string;
let channelId: string;
let itemId: string;

beforeAll(async () => {
  [h] = await Promise.all([startHarness(), emu.listen(0)]);
  emu.addAccount({ id: 'mon', credentials: { access_token: 'tok-mon' }, items: [{ sku: 'JAM', name: 'Jam', qty: 4 }] });
  [tenant, other] = await Promise.all([registerTenant(h.url, 'Watch Co'), registerTenant(h.url, 'Other Co')]);
  call = client(h.url, tenant.token);
  userId = (await call('GET', '/me')).body.user.id;
  itemId = (await call('POST', '/items', { sku: 'JAM', name: 'Jam' })).body.id;
  const ch = await call('POST', '/channels', {
    type: 'shopify',
    name: 'Shop',
    base_url: emu.url,
    credentials: { access_token: 'tok-mon', webhook_secret: 'w' },
  });
  channelId = ch.body.id;
  expect((await call('POST', `/channels/${channelId}/import`)).body.matched).toBe(1);
});

afterAll(async () => {
  await h?.stop();
  await emu.close();
});

describe('sync events', () => {
  let t0: string;
  beforeAll(async () => {
    const db = h.testDb.db;
    await withTx(db, (tx) =>
      recordSyncEvents(tx, tenant.tenantId, [
        { channelId, itemId, kind: 'push', outcome: 'ok', qty: 4 },
        { channelId, itemId, kind: 'push', outcome: 'failed', detail: { error: 'boom' } },
        { channelId, kind: 'inbound', outcome: 'unmatched' },
        { channelId: null, itemId, kind: 'guardian', outcome: 'drift', qty: 9 },
      ]),
    );
    await withTx(db, (tx) => recordSyncEvents(tx, other.tenantId, [{ channelId: ghost('ch'), kind: 'push', outcome: 'ok' }]));
    t0 = new Date(Date.now() + 60_000).toISOString();
  });

  it('lists newest first with every filter', async () => {
    const all = await call('GET', '/sync-events');
    expect(all.status).toBe(200);
    expect(all.body.data.map((e: { outcome: string }) => e.outcome)).toEqual(['drift', 'unmatched', 'failed', 'ok']);
    expect(all.body.data[2]).toMatchObject({ channel_id: channelId, item_id: itemId, kind: 'push', detail: { error: 'boom' } });
    expect(typeof all.body.data[0].id).toBe('number');
    expect((await call('GET', `/sync-events?channel_id=${channelId}`)).body.data).toHaveLength(3);
    expect((await call('GET', `/sync-events?item_id=${itemId}&kind=push`)).body.data).toHaveLength(2);
    expect((await call('GET', '/sync-events?outcome=failed')).body.data).toHaveLength(1);
    expect((await call('GET', '/sync-events?since=2000-01-01T00:00:00Z')).body.data).toHaveLength(4);
    expect((await call('GET', `/sync-events?since=${encodeURIComponent(t0)}`)).body.data).toHaveLength(0);
    expect((await call('GET', `/sync-events?since=${encodeURIComponent('2000-01-01T00:00:00+02:00')}`)).body.data).toHaveLength(4);
    const p1 = await call('GET', '/sync-events?limit=3');
    const p2 = await call('GET', `/sync-events?limit=3&cursor=${p1.body.next_cursor}`);
    expect([...p1.body.data, ...p2.body.data].map((e: { id: number }) => e.id)).toEqual(all.body.data.map((e: { id: number }) => e.id));
    expect(p2.body.next_cursor).toBeNull();
  });

  it('refuses bad filters', async () => {
    for (const q of [
      'kind=poll',
      'outcome=DROP%20TABLE',
      `outcome=${'a'.repeat(41)}`,
      'since=yesterday',
      'since=2024-13-45T00:00:00Z',
      'channel_id=shop',
      'limit=501',
      'cursor=%00',
      'tenant_id=x',
    ]) {
      expectInvalid(await call('GET', `/sync-events?${q}`));
    }
  });
});

describe('alerts', () => {
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    const db = h.testDb.db;
    await raiseAlert(db, tenant.tenantId, { type: 'low_stock', subject: 'item_a', message: 'low' });
    await raiseAlert(db, tenant.tenantId, { type: 'large_drift', subject: 'lst_b', message: 'drift', severity: 'critical' });
    await raiseAlert(db, tenant.tenantId, { type: 'out_of_stock', subject: 'item_c', message: 'gone' });
    await resolveAlerts(db, tenant.tenantId, 'out_of_stock', ['item_c']);
    await raiseAlert(db, other.tenantId, { type: 'low_stock', subject: 'item_z', message: 'theirs' });
    const { rows } = await db.query(`select id, type from alerts where tenant_id = $1`, [tenant.tenantId]);
    for (const r of rows) ids[r.type] = r.id;
  });

  it('lists newest first, filtered by status and type', async () => {
    const all = await call('GET', '/alerts');
    expect(all.body.data.map((a: { type: string }) => a.type)).toEqual(['out_of_stock', 'large_drift', 'low_stock']);
    expect(all.body.data[1]).toMatchObject({ severity: 'critical', status: 'open', subject: 'lst_b', acknowledged_at: null });
    expect((await call('GET', '/alerts?status=open')).body.data).toHaveLength(2);
    expect((await call('GET', '/alerts?status=resolved&type=out_of_stock')).body.data).toHaveLength(1);
    const p1 = await call('GET', '/alerts?limit=2');
    const p2 = await call('GET', `/alerts?limit=2&cursor=${p1.body.next_cursor}`);
    expect([...p1.body.data, ...p2.body.data].map((a: { id: string }) => a.id)).toEqual(all.body.data.map((a: { id: string }) => a.id));
    for (const q of ['status=closed', 'type=fire', 'limit=0', 'severity=critical']) expectInvalid(await call('GET', `/alerts?${q}`));
  });

  it('acknowledges an open alert once, by the caller', async () => {
    const r = await call('POST', `/alerts/${ids.low_stock}/acknowledge`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: ids.low_stock, status: 'acknowledged', acknowledged_by: userId });
    expect(Date.parse(r.body.acknowledged_at)).toBeGreaterThan(Date.now() - 60_000);
    const again = await call('POST', `/alerts/${ids.low_stock}/acknowledge`);
    expect(again.status).toBe(200);
    expect(again.body.acknowledged_at).toBe(r.body.acknowledged_at);
    expect((await call('GET', `/alerts/${ids.low_stock}`)).body.status).toBe('acknowledged');
  });

  it('refuses resolved and unknown alerts, changing nothing', async () => {
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    expectError(await call('POST', `/alerts/${ids.out_of_stock}/acknowledge`), 409, 'conflict');
    for (const id of [ghost('alr'), 'alr_1', itemId]) {
      expectError(await call('POST', `/alerts/${id}/acknowledge`), 404, 'not_found');
      expectError(await call('GET', `/alerts/${id}`), 404, 'not_found');
    }
    expect(await snapshot(h.testDb.db, tenant.tenantId)).toEqual(before);
  });
});

describe('agents and the Guardian', () => {
  it('shows each agent with its queue, for this tenant only', async () => {
    const r = await call('GET', '/agents');
    expect(r.status).toBe(200);
    expect(r.body.agents.map((a: { name: string }) => a.name)).toEqual(['watcher', 'sync', 'guardian', 'alert']);
    for (const a of r.body.agents) {
      expect(a).toEqual({
        name: expect.any(String),
        state: expect.stringMatching(/^(active|idle|error)$/),
        queue_depth: expect.any(Number),
        running: expect.any(Number),
        failing: expect.any(Number),
        last_activity_at: a.last_activity_at === null ? null : expect.any(String),
      });
    }
    // sync_events recorded above: push and inbound activity is visible.
    const byName = Object.fromEntries(r.body.agents.map((a: { name: string }) => [a.name, a]));
    expect(byName.sync.last_activity_at).not.toBeNull();
    expect(byName.alert.last_activity_at).not.toBeNull();

    // Jobs due in an hour: queued for this tenant, invisible to the other one.
    const later = new Date(Date.now() + 3_600_000);
    await withTx(h.testDb.db, (tx) =>
      addJobs(tx, [
        { task: 'sync_push', payload: { tenantId: tenant.tenantId, channelId }, key: `test-push:${channelId}`, runAt: later },
        { task: 'watcher_apply', payload: { tenantId: tenant.tenantId, channelId }, key: `test-apply:${channelId}`, runAt: later },
        { task: 'watcher_poll', payload: { tenantId: tenant.tenantId, channelId }, key: `test-poll:${channelId}`, runAt: later },
      ]),
    );
    await eventually(
      async () => (await h.testDb.db.query(`select count(*)::int as n from graphile_worker._private_jobs where key like 'test-%'`)).rows[0].n === 3,
      5000,
      'the outbox relay to queue the jobs',
    );
    // One of them has failed once (it is in backoff).
    await h.testDb.db.query(`update graphile_worker._private_jobs set attempts = 1, last_error = 'boom' where key = $1`, [`test-apply:${channelId}`]);
    // The counts are the scheduler tick's sample of the queue: the next tick shows the failure.
    const agents = async () => Object.fromEntries((await call('GET', '/agents')).body.agents.map((a: { name: string }) => [a.name, a]));
    await eventually(async () => (await agents()).watcher.failing === 1, 5000, 'the next queue sample');
    const mine = await agents();
    expect(mine.sync).toMatchObject({ state: 'active', queue_depth: 1, failing: 0 });
    expect(mine.watcher).toMatchObject({ state: 'error', queue_depth: 2, failing: 1 });
    const theirs = await client(h.url, other.token)('GET', '/agents');
    for (const a of theirs.body.agents) expect(a).toMatchObject({ queue_depth: 0, running: 0, failing: 0 });
    await h.testDb.db.query(`delete from graphile_worker._private_jobs where key like 'test-%'`);
  });

  it('runs the Guardian now and lists its runs newest first', async () => {
    const r = await call('POST', '/guardian/runs');
    expect(r.status).toBe(202);
    expect(r.body.queued).toBe(true);
    await eventually(
      async () => (await call('GET', '/guardian/runs')).body.data.some((g: { finished_at: string | null }) => g.finished_at),
      10_000,
      'a guardian run',
    );
    const runs = await call('GET', '/guardian/runs');
    expect(runs.body.data[0]).toMatchObject({ channel_id: channelId, channel_name: 'Shop', checked: 1, error: null });
    expect(typeof runs.body.data[0].started_at).toBe('string');
    await call('POST', '/guardian/runs');
    await eventually(
      async () => (await call('GET', '/guardian/runs')).body.data.filter((g: { finished_at: string | null }) => g.finished_at).length === 2,
      10_000,
      'two runs',
    );
    const p1 = await call('GET', '/guardian/runs?limit=1');
    const p2 = await call('GET', `/guardian/runs?limit=1&cursor=${p1.body.next_cursor}`);
    expect(p2.body.data[0].id).toBeLessThan(p1.body.data[0].id);
    expect((await call('GET', `/guardian/runs?channel_id=${channelId}`)).body.data).toHaveLength(2);
    expect((await call('GET', `/guardian/runs?channel_id=${ghost('ch')}`)).body.data).toHaveLength(0);
    for (const q of ['channel_id=x', 'limit=-5', 'status=done']) expectInvalid(await call('GET', `/guardian/runs?${q}`));
    const agents = Object.fromEntries((await call('GET', '/agents')).body.agents.map((a: { name: string }) => [a.name, a]));
    expect(agents.guardian.last_activity_at).not.toBeNull();
    // The other tenant sees none of it.
    expect((await client(h.url, other.token)('GET', '/guardian/runs')).body.data).toEqual([]);
  });
});
