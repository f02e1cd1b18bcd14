// Outbound webhook subscriptions below HTTP: the URL rule, sealed secrets and rotation, what
// resuming an endpoint owes (failures reset, waiting deliveries due, its alert resolved, a delivery
// job queued in the same transaction), replay, and tenant isolation. Real Postgres.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { Sealer } from '../db/crypto.ts';
import { withTx } from '../db/pool.ts';
import { createTenant } from '../db/tenants.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { raiseAlert } from './alerts.ts';
import type { Scope } from './scope.ts';
import {
  createEndpoint,
  deleteEndpoint,
  getDelivery,
  getEndpoint,
  listDeliveries,
  pauseEndpoint,
  replayDelivery,
  replaySince,
  resumeEndpoint,
  rotateSecret,
  updateEndpoint,
} from './webhook-endpoints.ts';

let t: TestDb;
let scope: Scope;
let other: Scope;
const sealer = new Sealer(randomBytes(32));

const asUser = (tenantId: string): Scope => ({ tenantId, actor: { type: 'user', id: newId('usr') }, requestId: 'req-1' });
const tx = <T>(fn: Parameters<typeof withTx<T>>[1]) => withTx(t.db, fn);

beforeAll(async () => {
  t = await createTestDb();
  scope = asUser((await createTenant(t.db, { name: 'Hooks Co' })).tenantId);
  other = asUser((await createTenant(t.db, { name: 'Other Co' })).tenantId);
});
afterAll(() => t?.drop());

async function refusal(p: Promise<unknown>): Promise<{ status: number; code: string }> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return { status: (err as AppError).status, code: (err as AppError).code };
}

const count = async (sql: string, params: unknown[]) => Number((await t.db.query(sql, params)).rows[0].n);

/** An event for the endpoint and its delivery in `status`; returns the delivery id. */
async function delivery(endpointId: string, status: 'pending' | 'delivered' | 'dead', nextAttemptAt: string | null = null): Promise<string> {
  const eventId = newId('evt');
  const id = newId('whd');
  await t.db.query(`insert into webhook_events (tenant_id, id, type, payload) values ($1, $2, 'stock.changed', '{"n": 1}')`, [scope.tenantId, eventId]);
  await t.db.query(`insert into webhook_deliveries (tenant_id, id, endpoint_id, event_id, status, next_attempt_at) values ($1, $2, $3, $4, $5, $6)`, [
    scope.tenantId,
    id,
    endpointId,
    eventId,
    status,
    nextAttemptAt,
  ]);
  return id;
}

describe('webhook endpoints', () => {
  it('refuses a private or non-http URL (422 url_not_allowed) and stores nothing', async () => {
    for (const url of ['http://10.0.0.1/hook', 'http://169.254.169.254/latest', 'https://192.168.1.20/x']) {
      expect(await refusal(tx((q) => createEndpoint(q, scope, sealer, { url, event_types: ['*'] })))).toEqual({ status: 422, code: 'url_not_allowed' });
    }
    expect(await count(`select count(*) as n from webhook_endpoints where tenant_id = $1`, [scope.tenantId])).toBe(0);
    expect(await count(`select count(*) as n from audit_log where tenant_id = $1`, [scope.tenantId])).toBe(0);
    const ep = await tx((q) => createEndpoint(q, scope, sealer, { url: 'https://hooks.example.com/a', event_types: ['*'] }));
    expect(await refusal(tx((q) => updateEndpoint(q, scope, ep.id, { url: 'http://10.1.2.3/x' })))).toMatchObject({ status: 422 });
  });

  it('keeps the secret sealed, shows it once, and rotation keeps the previous one for the overlap', async () => {
    const ep = await tx((q) =>
      createEndpoint(q, scope, sealer, { url: 'https://hooks.example.com/b', event_types: ['order.*', 'order.*', 'stock.changed'], description: 'd' }),
    );
    expect(ep.secret).toMatch(/^whsec_/);
    expect(ep.event_types).toEqual(['order.*', 'stock.changed']);
    expect(JSON.stringify(await getEndpoint(t.db, scope, ep.id))).not.toContain(ep.secret);
    const row = (await t.db.query(`select secret_sealed from webhook_endpoints where tenant_id = $1 and id = $2`, [scope.tenantId, ep.id])).rows[0];
    expect(row.secret_sealed).not.toContain(ep.secret);
    expect(sealer.open<{ secret: string }>(row.secret_sealed).secret).toBe(ep.secret);

    const rotated = await tx((q) => rotateSecret(q, scope, sealer, ep.id, 3600));
    expect(rotated.secret).not.toBe(ep.secret);
    expect(rotated.previous_secret_expires_at).not.toBeNull();
    const after = (
      await t.db.query(`select secret_sealed, previous_secret_sealed from webhook_endpoints where tenant_id = $1 and id = $2`, [scope.tenantId, ep.id])
    ).rows[0];
    expect(sealer.open<{ secret: string }>(after.secret_sealed).secret).toBe(rotated.secret);
    expect(sealer.open<{ secret: string }>(after.previous_secret_sealed).secret).toBe(ep.secret);
    // No overlap: the previous secret is not shown as signing.
    expect((await tx((q) => rotateSecret(q, scope, sealer, ep.id, 0))).previous_secret_expires_at).toBeNull();
    const actions = (await t.db.query(`select action from audit_log where tenant_id = $1 and resource_id = $2 order by id`, [scope.tenantId, ep.id])).rows.map(
      (r) => r.action,
    );
    expect(actions).toEqual(['webhook_endpoint.created', 'webhook_endpoint.secret_rotated', 'webhook_endpoint.secret_rotated']);
  });

  it('resuming after the circuit breaker resets failures, makes what waited due, resolves the alert and queues delivery', async () => {
    const ep = await tx((q) => createEndpoint(q, scope, sealer, { url: 'https://hooks.example.com/c', event_types: ['*'] }));
    await t.db.query(
      `update webhook_endpoints set status = 'paused', paused_reason = 'circuit_breaker', consecutive_failures = 20, failing_since = now() - interval '2 days'
       where tenant_id = $1 and id = $2`,
      [scope.tenantId, ep.id],
    );
    const waiting = await delivery(ep.id, 'pending', new Date(Date.now() + 3_600_000).toISOString());
    await raiseAlert(t.db, scope.tenantId, { type: 'webhook_endpoint_paused', subject: ep.id, message: 'paused' });
    const jobs = () => count(`select count(*) as n from job_outbox where payload->>'endpointId' = $1`, [ep.id]);
    const before = await jobs();

    const resumed = await tx((q) => resumeEndpoint(q, scope, ep.id));
    expect(resumed).toMatchObject({ status: 'active', paused_reason: null, consecutive_failures: 0 });
    const d = (await t.db.query(`select next_attempt_at <= now() as due from webhook_deliveries where tenant_id = $1 and id = $2`, [scope.tenantId, waiting]))
      .rows[0];
    expect(d.due).toBe(true);
    expect(await count(`select count(*) as n from alerts where tenant_id = $1 and subject = $2 and status <> 'resolved'`, [scope.tenantId, ep.id])).toBe(0);
    expect(await jobs()).toBe(before + 1);

    // Paused by the API: no delivery job is queued by a replay while paused.
    await tx((q) => pauseEndpoint(q, scope, ep.id));
    const paused = await jobs();
    expect(await tx((q) => replaySince(q, scope, ep.id, { since: '2000-01-01T00:00:00Z', includeDelivered: false }))).toEqual({ replayed: 1 });
    expect(await jobs()).toBe(paused);
  });

  it('replays dead and waiting deliveries since a time, delivered ones only when asked', async () => {
    const ep = await tx((q) => createEndpoint(q, scope, sealer, { url: 'https://hooks.example.com/d', event_types: ['*'] }));
    const dead = await delivery(ep.id, 'dead');
    await delivery(ep.id, 'delivered');
    await delivery(ep.id, 'pending');
    const since = { since: '2000-01-01T00:00:00Z' };
    expect(await tx((q) => replaySince(q, scope, ep.id, { ...since, includeDelivered: false }))).toEqual({ replayed: 2 });
    expect(await tx((q) => replaySince(q, scope, ep.id, { ...since, includeDelivered: true }))).toEqual({ replayed: 3 });
    expect(await tx((q) => replaySince(q, scope, ep.id, { since: new Date(Date.now() + 60_000).toISOString(), includeDelivered: true }))).toEqual({
      replayed: 0,
    });
    expect((await listDeliveries(t.db, scope, ep.id, { status: 'dead' }, { after: null, limit: 10 })).data).toEqual([]);

    await t.db.query(`update webhook_deliveries set status = 'dead', retry_index = 9 where tenant_id = $1 and id = $2`, [scope.tenantId, dead]);
    const again = await tx((q) => replayDelivery(q, scope, dead));
    expect(again).toMatchObject({ id: dead, status: 'pending', endpoint_id: ep.id, data: { n: 1 }, attempts_log: [] });
    expect((await t.db.query(`select retry_index from webhook_deliveries where tenant_id = $1 and id = $2`, [scope.tenantId, dead])).rows[0].retry_index).toBe(
      0,
    );
  });

  it('shows one tenant nothing of another: every call on a foreign id is not_found', async () => {
    const ep = await tx((q) => createEndpoint(q, scope, sealer, { url: 'https://hooks.example.com/e', event_types: ['*'] }));
    const d = await delivery(ep.id, 'dead');
    const notFound = { status: 404, code: 'not_found' };
    expect(await refusal(getEndpoint(t.db, other, ep.id))).toEqual(notFound);
    expect(await refusal(tx((q) => updateEndpoint(q, other, ep.id, { description: 'x' })))).toEqual(notFound);
    expect(await refusal(tx((q) => rotateSecret(q, other, sealer, ep.id, 0)))).toEqual(notFound);
    expect(await refusal(tx((q) => resumeEndpoint(q, other, ep.id)))).toEqual(notFound);
    expect(await refusal(tx((q) => replaySince(q, other, ep.id, { since: '2000-01-01T00:00:00Z', includeDelivered: true })))).toEqual(notFound);
    expect(await refusal(listDeliveries(t.db, other, ep.id, {}, { after: null, limit: 10 }))).toEqual(notFound);
    expect(await refusal(getDelivery(t.db, other, d))).toEqual(notFound);
    expect(await refusal(tx((q) => replayDelivery(q, other, d)))).toEqual(notFound);
    expect(await refusal(tx((q) => deleteEndpoint(q, other, ep.id)))).toEqual(notFound);
    // Still there, untouched, for its own tenant; deleting it resolves nothing it did not own.
    expect((await getEndpoint(t.db, scope, ep.id)).description).toBeNull();
    await tx((q) => deleteEndpoint(q, scope, ep.id));
    expect(await refusal(getEndpoint(t.db, scope, ep.id))).toEqual(notFound);
  });
});
