// Outbound webhooks (issue 4, point 7) against a real HTTP receiver on 127.0.0.1: signed Standard
// Webhooks deliveries (verified by our verifier and by the independent `standardwebhooks` package),
// exactly one delivery per event, retries with growing delays (a short schedule injected through
// tuning), the dead-letter list and replay, secret rotation with both signatures, the circuit
// breaker (pause + alert + resume), events whose cause rolled back never sent, and event filters.
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyStandardWebhook } from '../../src/channels/signing.ts';
import { withTx } from '../../src/db/pool.ts';
import { emitEvent } from '../../src/db/webhook-events.ts';
import { raiseAlert } from '../../src/services/alerts.ts';
import { applyMovements } from '../../src/ledger/ledger.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.ts';
import { client, expectError, type Call } from './support.ts';

const SCHEDULE = [150, 600, 2400];
let h: Harness;
const receivers: Receiver[] = [];

beforeAll(async () => {
  h = await startHarness({ tuning: { webhookRetryScheduleMs: SCHEDULE, webhookTimeoutMs: 3000, webhookBreakerFailures: 5, webhookBreakerSpanMs: 0 } });
});

afterAll(async () => {
  await h?.stop();
  for (const r of receivers) await r.close();
});

interface Shop {
  tenantId: string;
  locationId: string;
  call: Call;
  item: string;
}

async function shop(name: string): Promise<Shop> {
  const t = await registerTenant(h.url, name);
  const call = client(h.url, t.token);
  const item = (await call('POST', '/items', { sku: 'TEA', name: 'Tea' })).body.id as string;
  return { tenantId: t.tenantId, locationId: t.locationId, call, item };
}

async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

async function subscribe(s: Shop, url: string, eventTypes: string[]): Promise<{ id: string; secret: string }> {
  const r = await s.call('POST', '/webhook-endpoints', { url, event_types: eventTypes, description: 'test' });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  expect(r.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  return { id: r.body.id, secret: r.body.secret };
}

const adjust = (s: Shop, qty: number) => s.call('POST', '/adjustments', { item_id: s.item, location_id: s.locationId, qty_delta: qty, reason: 'receipt' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const plainHeaders = (hd: Record<string, string | string[] | undefined>) => Object.fromEntries(Object.entries(hd).map(([k, v]) => [k, String(v)]));

describe('outbound webhooks', () => {
  it('a stock change is delivered once, signed (verified independently), and logged', async () => {
    const s = await shop('Signed Co');
    const rx = await receiver();
    const ep = await subscribe(s, rx.url, ['stock.changed']);
    expect((await adjust(s, 7)).status).toBe(201);
    await eventually(() => rx.got.length >= 1, 10_000, 'the delivery');
    await sleep(700); // anything extra would have arrived by now
    expect(rx.got).toHaveLength(1);
    const got = rx.got[0]!;
    expect(verifyStandardWebhook(got.headers, got.body, ep.secret, new Date())).toEqual({ ok: true });
    const independent = new Webhook(ep.secret).verify(got.body, plainHeaders(got.headers)) as { type: string; data: { levels: unknown[] } };
    expect(independent.type).toBe('stock.changed');
    expect(got.json.data.levels).toEqual([{ item_id: s.item, location_id: s.locationId, on_hand: 7, reserved: 0, available: 7 }]);
    expect(got.json.data.reasons).toEqual(['receipt']);
    expect(String(got.headers['webhook-signature'])).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(verifyStandardWebhook(got.headers, got.body, 'whsec_' + Buffer.alloc(24, 1).toString('base64'), new Date()).ok).toBe(false);

    const deliveries = await s.call('GET', `/webhook-endpoints/${ep.id}/deliveries`);
    expect(deliveries.body.data).toHaveLength(1);
    const d = deliveries.body.data[0];
    expect(d).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200, event_type: 'stock.changed', event_id: got.headers['webhook-id'] });
    const detail = await s.call('GET', `/webhook-deliveries/${d.id}`);
    expect(detail.body.attempts_log).toHaveLength(1);
    expect(detail.body.attempts_log[0]).toMatchObject({ status_code: 200, error: null });
    expect(detail.body.attempts_log[0].duration_ms).toBeGreaterThanOrEqual(0);
    const log = await s.call('GET', `/webhook-endpoints/${ep.id}/attempts`);
    expect(log.body.data.map((a: { delivery_id: string }) => a.delivery_id)).toEqual([d.id]);
    // The secret is shown once: never again in a read.
    const read = await s.call('GET', `/webhook-endpoints/${ep.id}`);
    expect(JSON.stringify(read.body)).not.toContain('whsec_');
    expect(read.headers.get('etag')).toBeTruthy();
    const { rows } = await h.testDb.db.query(`select secret_sealed from webhook_endpoints where tenant_id = $1`, [s.tenantId]);
    expect(rows[0].secret_sealed).not.toContain(ep.secret.slice(6));
  });

  it('writes no event at all for a tenant without a subscription (the ledger stays cheap)', async () => {
    const s = await shop('Quiet Co');
    expect((await adjust(s, 3)).status).toBe(201);
    const { rows } = await h.testDb.db.query(`select count(*)::int as n from webhook_events where tenant_id = $1`, [s.tenantId]);
    expect(rows[0].n).toBe(0);
  });

  it('a receiver that fails 3 times then succeeds gets the event exactly once more, same webhook-id, after growing delays', async () => {
    const s = await shop('Retry Co');
    const rx = await receiver();
    rx.respond = (_r, n) => (n <= 3 ? 500 : 200);
    const ep = await subscribe(s, rx.url, ['stock.*']);
    expect((await adjust(s, 2)).status).toBe(201);
    await eventually(() => rx.got.length >= 4, 15_000, 'four attempts');
    await sleep(1000);
    expect(rx.got).toHaveLength(4);
    expect(new Set(rx.got.map((g) => g.headers['webhook-id'])).size).toBe(1);
    for (const g of rx.got) expect(verifyStandardWebhook(g.headers, g.body, ep.secret, new Date()).ok).toBe(true);
    const gaps = rx.got.slice(1).map((g, i) => g.at - rx.got[i]!.at);
    // Schedule 150 / 600 / 2400 ms with +-20% jitter: each wait is longer than the one before.
    expect(gaps[0]).toBeGreaterThanOrEqual(100);
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]).toBeGreaterThan(gaps[1]!);
    expect(gaps[2]).toBeGreaterThanOrEqual(1800);
    const d = (await s.call('GET', `/webhook-endpoints/${ep.id}/deliveries`)).body.data[0];
    expect(d).toMatchObject({ status: 'delivered', attempts: 4, last_status_code: 200, last_error: null });
    const log = (await s.call('GET', `/webhook-deliveries/${d.id}`)).body.attempts_log.map((a: { status_code: number }) => a.status_code);
    expect(log).toEqual([500, 500, 500, 200]);
    expect((await s.call('GET', `/webhook-endpoints/${ep.id}`)).body).toMatchObject({ status: 'active', consecutive_failures: 0 });
  });

  it('a receiver that always fails ends in the dead-letter list; replaying one or everything since a time delivers again', async () => {
    const s = await shop('Dead Co');
    const rx = await receiver();
    rx.respond = () => 503;
    const ep = await subscribe(s, rx.url, ['stock.changed']);
    const since = new Date(Date.now() - 1000).toISOString();
    expect((await adjust(s, 4)).status).toBe(201);
    await eventually(async () => (await s.call('GET', `/webhook-endpoints/${ep.id}/deliveries?status=dead`)).body.data.length === 1, 20_000, 'the dead letter');
    expect(rx.got).toHaveLength(SCHEDULE.length + 1);
    const dead = (await s.call('GET', `/webhook-endpoints/${ep.id}/deliveries?status=dead`)).body.data[0];
    expect(dead).toMatchObject({ status: 'dead', attempts: 4, last_status_code: 503, next_attempt_at: null });
    expect((await s.call('GET', `/webhook-endpoints/${ep.id}/deliveries?status=pending`)).body.data).toEqual([]);
    // The endpoint is not paused by one dead delivery (4 failures < the breaker's 5).
    expect((await s.call('GET', `/webhook-endpoints/${ep.id}`)).body.status).toBe('active');

    rx.respond = () => 204;
    const replay = await s.call('POST', `/webhook-deliveries/${dead.id}/replay`, {});
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ id: dead.id, status: 'pending' });
    await eventually(() => rx.got.length === SCHEDULE.length + 2, 10_000, 'the replayed delivery');
    const last = rx.got.at(-1)!;
    expect(last.headers['webhook-id']).toBe(dead.event_id);
    expect(new Webhook(ep.secret).verify(last.body, plainHeaders(last.headers))).toBeTruthy();
    await eventually(async () => (await s.call('GET', `/webhook-deliveries/${dead.id}`)).body.status === 'delivered', 5_000, 'delivered');

    // Everything since a time: a second event, then both sent again.
    expect((await adjust(s, 1)).status).toBe(201);
    await eventually(() => rx.got.length === SCHEDULE.length + 3, 10_000, 'the second event');
    const none = await s.call('POST', `/webhook-endpoints/${ep.id}/replay`, { since: new Date(Date.now() + 60_000).toISOString() });
    expect(none.body).toEqual({ replayed: 0 });
    const onlyFailed = await s.call('POST', `/webhook-endpoints/${ep.id}/replay`, { since });
    expect(onlyFailed.body).toEqual({ replayed: 0 }); // nothing failed any more
    const all = await s.call('POST', `/webhook-endpoints/${ep.id}/replay`, { since, include_delivered: true });
    expect(all.status).toBe(202);
    expect(all.body).toEqual({ replayed: 2 });
    await eventually(() => rx.got.length === SCHEDULE.length + 5, 10_000, 'the replays');
    expect(new Set(rx.got.map((g) => g.headers['webhook-id'])).size).toBe(2);
  });

  it('secret rotation: both signatures during the overlap, only the new one after', async () => {
    const s = await shop('Rotate Co');
    const rx = await receiver();
    const ep = await subscribe(s, rx.url, ['*']);
    const rot = await s.call('POST', `/webhook-endpoints/${ep.id}/rotate-secret`, { overlap_s: 3600 });
    expect(rot.status).toBe(200);
    expect(rot.body.secret).not.toBe(ep.secret);
    expect(rot.body.previous_secret_expires_at).not.toBeNull();
    expect((await adjust(s, 1)).status).toBe(201);
    await eventually(() => rx.got.length === 1, 10_000, 'a delivery');
    const g = rx.got[0]!;
    const sigs = String(g.headers['webhook-signature']).split(' ');
    expect(sigs).toHaveLength(2);
    expect(sigs.every((x) => x.startsWith('v1,'))).toBe(true);
    // A receiver still on the old secret and one already on the new both verify.
    expect(new Webhook(ep.secret).verify(g.body, plainHeaders(g.headers))).toBeTruthy();
    expect(new Webhook(rot.body.secret).verify(g.body, plainHeaders(g.headers))).toBeTruthy();
    expect(verifyStandardWebhook(g.headers, g.body, ep.secret, new Date()).ok).toBe(true);

    const rot2 = await s.call('POST', `/webhook-endpoints/${ep.id}/rotate-secret`, { overlap_s: 0 });
    expect(rot2.body.previous_secret_expires_at).toBeNull();
    expect((await adjust(s, 1)).status).toBe(201);
    await eventually(() => rx.got.length === 2, 10_000, 'a second delivery');
    const g2 = rx.got[1]!;
    expect(String(g2.headers['webhook-signature']).split(' ')).toHaveLength(1);
    expect(new Webhook(rot2.body.secret).verify(g2.body, plainHeaders(g2.headers))).toBeTruthy();
    expect(() => new Webhook(rot.body.secret).verify(g2.body, plainHeaders(g2.headers))).toThrow();
  });

  it('the circuit breaker pauses an endpoint that keeps failing, alerts the tenant, and resume sends what waited', async () => {
    const s = await shop('Breaker Co');
    const rx = await receiver();
    rx.respond = () => 500;
    const ep = await subscribe(s, rx.url, ['stock.changed']);
    for (let i = 0; i < 3; i++) expect((await adjust(s, 1)).status).toBe(201);
    await eventually(async () => (await s.call('GET', `/webhook-endpoints/${ep.id}`)).body.status === 'paused', 15_000, 'the pause');
    const paused = (await s.call('GET', `/webhook-endpoints/${ep.id}`)).body;
    expect(paused).toMatchObject({ status: 'paused', paused_reason: 'circuit_breaker', consecutive_failures: 5 });
    const alerts = await s.call('GET', '/alerts?type=webhook_endpoint_paused');
    expect(alerts.body.data).toHaveLength(1);
    expect(alerts.body.data[0]).toMatchObject({ subject: ep.id, severity: 'critical', status: 'open' });
    const n = rx.got.length;
    expect(n).toBe(5);
    // Paused: events are still recorded for it, nothing is sent.
    expect((await adjust(s, 1)).status).toBe(201);
    await sleep(SCHEDULE[1]! * 2);
    expect(rx.got.length).toBe(n);

    rx.respond = () => 200;
    const resumed = await s.call('POST', `/webhook-endpoints/${ep.id}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ status: 'active', paused_reason: null, consecutive_failures: 0 });
    await eventually(
      async () => (await s.call('GET', `/webhook-endpoints/${ep.id}/deliveries?status=delivered`)).body.data.length === 4,
      10_000,
      'all four delivered',
    );
    expect((await s.call('GET', `/alerts/${alerts.body.data[0].id}`)).body.status).toBe('resolved');
    // Pause by hand works the same way.
    expect((await s.call('POST', `/webhook-endpoints/${ep.id}/pause`)).body).toMatchObject({ status: 'paused', paused_reason: 'api' });
  });

  it('an event whose cause rolls back is never delivered (same transaction)', async () => {
    const s = await shop('Rollback Co');
    const rx = await receiver();
    await subscribe(s, rx.url, ['*']);
    const db = h.testDb.db;
    await expect(
      withTx(db, async (tx) => {
        await applyMovements(tx, s.tenantId, [{ itemId: s.item, locationId: s.locationId, qtyDelta: 50, reason: 'receipt' }]);
        await emitEvent(tx, s.tenantId, 'transfer.created', { transfer_id: 'never' });
        await raiseAlert(tx, s.tenantId, { type: 'large_drift', subject: 'lst_x', message: 'never' });
        throw new Error('the cause fails');
      }),
    ).rejects.toThrow('the cause fails');
    // An order that cannot be held rolls back its reservation change and its order.created.
    const refused = await s.call('POST', '/sales-orders', { location_id: s.locationId, lines: [{ item_id: s.item, qty: 5 }] });
    expectError(refused, 409, 'insufficient_stock');
    // Then a change that commits: the only thing the receiver ever sees.
    expect((await adjust(s, 1)).status).toBe(201);
    await eventually(() => rx.got.length >= 1, 10_000, 'the committed change');
    await sleep(700);
    expect(rx.got.map((g) => [g.json.type, g.json.data.levels?.[0]?.on_hand])).toEqual([['stock.changed', 1]]);
    const { rows } = await db.query(`select type from webhook_events where tenant_id = $1`, [s.tenantId]);
    expect(rows.map((r) => r.type)).toEqual(['stock.changed']);
    // emitEvent commits with its transaction too (the call other features make, e.g. transfers).
    await withTx(db, (tx) => emitEvent(tx, s.tenantId, 'transfer.created', { transfer_id: 'tr_1' }));
    await eventually(() => rx.got.some((g) => g.json.type === 'transfer.created'), 10_000, 'transfer.created');
  });

  it('orders and alerts raise their events; filters choose which an endpoint gets', async () => {
    const s = await shop('Events Co');
    const orders = await receiver();
    const items = await receiver();
    await subscribe(s, orders.url, ['order.*']);
    await subscribe(s, items.url, ['item.low_stock', 'drift.detected']);
    expect((await s.call('PATCH', `/items/${s.item}`, { low_stock_threshold: 5 }, { 'if-match': '*' })).status).toBe(200);
    expect((await adjust(s, 4)).status).toBe(201);
    const o = await s.call('POST', '/sales-orders', { location_id: s.locationId, lines: [{ item_id: s.item, qty: 1 }] });
    expect(o.status).toBe(201);
    expect((await s.call('POST', `/sales-orders/${o.body.id}/ship`)).status).toBe(200);
    const o2 = await s.call('POST', '/sales-orders', { location_id: s.locationId, lines: [{ item_id: s.item, qty: 1 }] });
    expect((await s.call('POST', `/sales-orders/${o2.body.id}/cancel`)).status).toBe(200);
    await raiseAlert(h.testDb.db, s.tenantId, {
      type: 'large_drift',
      subject: 'lst_drifted',
      message: 'Tea drifted by 9',
      data: { listing_id: 'lst_drifted' },
    });
    await eventually(() => orders.got.length >= 4, 10_000, 'order events');
    expect(orders.got.map((g) => g.json.type)).toEqual(['order.created', 'order.shipped', 'order.created', 'order.cancelled']);
    expect(orders.got[1]!.json.data).toMatchObject({ id: o.body.id, status: 'shipped' });
    await eventually(() => items.got.length >= 2, 10_000, 'alert events');
    expect(items.got.map((g) => g.json.type).sort()).toEqual(['drift.detected', 'item.low_stock']);
    const low = items.got.find((g) => g.json.type === 'item.low_stock')!;
    expect(low.json.data).toMatchObject({ alert_type: 'low_stock', subject: s.item, data: { item_id: s.item, sku: 'TEA' } });
  });

  it('validates subscriptions: SSRF targets refused with 422, admin scope, unknown events, CRUD', async () => {
    const s = await shop('Admin Co');
    for (const url of [
      'https://10.0.0.5/hook',
      'https://169.254.169.254/latest/meta-data',
      'http://hooks.example.com/x',
      'https://192.168.1.10/',
      'https://[fd00::1]/',
    ]) {
      const r = await s.call('POST', '/webhook-endpoints', { url, event_types: ['stock.changed'] });
      expectError(r, 422, 'url_not_allowed');
    }
    const bad = await s.call('POST', '/webhook-endpoints', { url: 'https://hooks.example.com/x', event_types: ['stock.exploded'] });
    expectError(bad, 400, 'validation_failed');
    const writeKey = (await s.call('POST', '/api-keys', { name: 'w', scopes: ['write'] })).body.key as string;
    const asWriter = client(h.url, writeKey);
    expectError(await asWriter('POST', '/webhook-endpoints', { url: 'https://hooks.example.com/x', event_types: ['*'] }), 403, 'insufficient_scope');
    const ep = await subscribe(s, 'https://hooks.example.com/x', ['order.*']);
    expectError(await asWriter('POST', `/webhook-endpoints/${ep.id}/rotate-secret`, { overlap_s: 10 }), 403, 'insufficient_scope');
    expectError(await asWriter('DELETE', `/webhook-endpoints/${ep.id}`), 403, 'insufficient_scope');
    expect((await asWriter('GET', `/webhook-endpoints/${ep.id}`)).status).toBe(200);
    expectError(await s.call('PATCH', `/webhook-endpoints/${ep.id}`, { url: 'https://127.0.0.2/x' }), 422, 'url_not_allowed');
    const patched = await s.call('PATCH', `/webhook-endpoints/${ep.id}`, { event_types: ['stock.changed', 'transfer.*'], description: null });
    expect(patched.body).toMatchObject({ event_types: ['stock.changed', 'transfer.*'], description: null });
    expect((await s.call('GET', '/webhook-endpoints')).body.data.map((e: { id: string }) => e.id)).toEqual([ep.id]);
    expect((await s.call('DELETE', `/webhook-endpoints/${ep.id}`)).status).toBe(204);
    expectError(await s.call('GET', `/webhook-endpoints/${ep.id}`), 404, 'not_found');
    const audit = await s.call('GET', `/audit-log?resource_id=${ep.id}`);
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual([
      'webhook_endpoint.created',
      'webhook_endpoint.deleted',
      'webhook_endpoint.updated',
    ]);
  });
});
