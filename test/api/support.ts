// Shared by the REST suites: raw calls (to search response text), error assertions, and a
// snapshot of everything a tenant owns (to prove a refused request changed nothing).
import { expect } from 'vitest';
import type { Db } from '../../src/db/pool.ts';
import { api, type ApiResponse } from '../helpers/stockclerk.ts';

export type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse>;

/** A caller bound to one server and token; every response's raw text is kept in `seen`. */
export function client(base: string, token: string | undefined, seen?: string[]): Call {
  return async (method, path, body, extra) => {
    const headers: Record<string, string> = { ...extra };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${base}/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    seen?.push(text);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // keep text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
}

export { api };

/** A structured error (invariant 7) with this status and code. */
export function expectError(res: ApiResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.error?.code }, JSON.stringify(res.body)).toEqual({ status, code });
  expect(typeof res.body.error.message).toBe('string');
  expect(res.body.error).toHaveProperty('details');
  expect(typeof res.body.error.request_id).toBe('string');
}

/** A 400 validation_failed whose details name `field`. */
export function expectInvalid(res: ApiResponse, field?: string): void {
  expectError(res, 400, 'validation_failed');
  if (field !== undefined) {
    const paths = (res.body.error.details as Array<{ path: string }>).map((d) => d.path);
    expect(
      paths.some((p) => p === field || p.startsWith(field + '.')),
      `details ${JSON.stringify(paths)} name ${field}`,
    ).toBe(true);
  }
}

const TABLES: Record<string, { order: string; skip?: string[] }> = {
  locations: { order: 'id' },
  items: { order: 'id' },
  stock_levels: { order: 'item_id, location_id' },
  stock_movements: { order: 'id' },
  // Timers the scheduler and workers move on their own.
  channels: {
    order: 'id',
    skip: ['last_polled_at', 'poll_cursor', 'last_sync_at', 'push_cursor', 'push_cursor_xmax', 'push_cursor_xip', 'rate_tokens', 'rate_at'],
  },
  listings: { order: 'id' },
  channel_events: { order: 'id' },
  sync_events: { order: 'id' },
  alerts: { order: 'id' },
  guardian_runs: { order: 'id' },
  // The developers' API: a refused request leaves no audit entry, no key, no hold behind.
  audit_log: { order: 'id' },
  api_keys: { order: 'id', skip: ['last_used_at'] },
  users: { order: 'id' },
  idempotency_keys: { order: 'actor_id, key' },
  sales_orders: { order: 'id' },
  reservations: { order: 'id' },
  transfers: { order: 'id' },
  transfer_lines: { order: 'transfer_id, item_id' },
  purchase_orders: { order: 'id' },
  purchase_order_lines: { order: 'purchase_order_id, item_id, location_id' },
  item_components: { order: 'kit_item_id, component_item_id' },
  // Outbound webhooks: subscriptions, events, deliveries and their log.
  webhook_endpoints: { order: 'id' },
  webhook_events: { order: 'id' },
  webhook_deliveries: { order: 'id' },
  webhook_attempts: { order: 'id' },
  api_jobs: { order: 'id' },
  api_job_chunks: { order: 'job_id, seq' },
};

/** Every row the tenant owns, as JSON text, plus its queued jobs (taken once the workers settled). */
export async function snapshot(db: Db, tenantId: string): Promise<Record<string, unknown>> {
  await quiet(db, tenantId);
  const out: Record<string, unknown> = {};
  for (const [table, t] of Object.entries(TABLES)) {
    const { rows } = await db.query(`select * from ${table} where tenant_id = $1 order by ${t.order}`, [tenantId]);
    out[table] = rows.map((r) => {
      for (const k of t.skip ?? []) delete r[k];
      return r;
    });
  }
  const { rows: jobs } = await db.query(
    `select t.identifier, j.payload, j.key from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
     where j.payload->>'tenantId' = $1 and t.identifier <> 'watcher_poll' order by j.id`,
    [tenantId],
  );
  out.jobs = jobs;
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** Waits until the tenant has no job due or running (the workers have settled). */
export async function quiet(db: Db, tenantId: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await db.query(
      `select (select count(*) from graphile_worker._private_jobs
               where payload->>'tenantId' = $1 and attempts < max_attempts and (locked_at is not null or run_at <= now() + interval '1 second'))
            + (select count(*) from job_outbox where payload->>'tenantId' = $1) as n`,
      [tenantId],
    );
    rows[0].n = Number(rows[0].n);
    if (rows[0].n === 0) return;
    if (Date.now() > deadline) throw new Error(`tenant ${tenantId} never settled`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** If-Match for any current version (`*`): for tests about something other than lost updates. */
export const ANY_VERSION = { 'if-match': '*' };

/** A well-formed id of some kind that names nothing. */
export const ghost = (prefix: string) => `${prefix}_${'0'.repeat(31)}1`;
