// Outbound webhook delivery (Standard Webhooks). One job per endpoint at a time (the endpoint's own
// queue): it sends the endpoint's due deliveries oldest first, records every attempt (the delivery
// log), and on failure schedules the next attempt from the retry schedule with +-20% jitter; after
// the last one the delivery is dead (the dead-letter list; replayable). The circuit breaker pauses an
// endpoint whose attempts keep failing (tuning.webhookBreakerFailures in a row, the first at least
// tuning.webhookBreakerSpanMs ago) and raises an alert; resuming it through the API sends what waited.
// Order: first attempts leave in creation order per endpoint; a delivery waiting for a retry does
// not hold back newer ones (receivers de-duplicate on webhook-id and order by the payload timestamp).
import { request, type Dispatcher } from 'undici';
import { addJobs } from '../db/jobs.ts';
import { webhookJob, type EndpointJob } from '../db/job-specs.ts';
import { withTx } from '../db/pool.ts';
import { webhookUrlProblem } from '../domain/webhook-url.ts';
import { signStandardWebhook } from '../channels/signing.ts';
import { raiseAlert } from '../services/alerts.ts';
import type { AppContext } from './context.ts';

export interface AttemptResult {
  ok: boolean;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

/**
 * One POST over `dispatcher` (the process's webhook agent, src/engine/webhook-agent.ts); never
 * throws. 2xx is delivered; redirects are not followed (a 3xx is a failure).
 */
export async function sendWebhook(
  dispatcher: Dispatcher,
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<AttemptResult> {
  const started = performance.now();
  const done = (r: Omit<AttemptResult, 'durationMs'>) => ({ ...r, durationMs: Math.round(performance.now() - started) });
  const problem = webhookUrlProblem(url);
  if (problem) return done({ ok: false, statusCode: null, error: `refused: ${problem}` });
  try {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'StockClerk-Webhooks/1', ...headers },
      body,
      dispatcher,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body.dump({ limit: 64 * 1024 }).catch(() => {});
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    return done({ ok, statusCode: res.statusCode, error: ok ? null : `HTTP ${res.statusCode}` });
  } catch (err) {
    const e = err as Error & { cause?: Error };
    const msg = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (e.cause?.message ?? e.message);
    return done({ ok: false, statusCode: null, error: msg.slice(0, 500) });
  }
}

/** The wait before retry number `index` (0-based), with +-20% jitter; null when none is left. */
export function retryDelayMs(schedule: number[], index: number, random = Math.random): number | null {
  const base = schedule[index];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}

interface EndpointRow {
  url: string;
  status: string;
  secret_sealed: string;
  previous_secret_sealed: string | null;
  previous_secret_expires_at: Date | null;
}

interface DueRow {
  id: string;
  event_id: string;
  type: string;
  payload: unknown;
  created_at: Date;
  retry_index: number;
}

const BATCH = 20;
const RELAY_SLACK_MS = 30;
const MAX_ROUNDS = 10;

/** The job: sends the endpoint's due deliveries, then schedules itself for the next retry due. */
export async function webhookDeliver(ctx: AppContext, p: EndpointJob): Promise<void> {
  const { tenantId, endpointId } = p;
  const t = ctx.tuning;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { rows: eps } = await ctx.db.query<EndpointRow>(
      `select url, status, secret_sealed, previous_secret_sealed, previous_secret_expires_at from webhook_endpoints where tenant_id = $1 and id = $2`,
      [tenantId, endpointId],
    );
    const ep = eps[0];
    if (!ep || ep.status !== 'active') return;
    const { rows: due } = await ctx.db.query<DueRow>(
      `select d.id, d.event_id, d.retry_index, e.type, e.payload, e.created_at
       from webhook_deliveries d join webhook_events e on e.tenant_id = d.tenant_id and e.id = d.event_id
       where d.tenant_id = $1 and d.endpoint_id = $2 and d.status = 'pending' and d.next_attempt_at <= now()
       order by d.created_at, d.id limit $3`,
      [tenantId, endpointId, BATCH],
    );
    if (due.length === 0) break;
    const secrets = [ctx.sealer.open<{ secret: string }>(ep.secret_sealed).secret];
    if (ep.previous_secret_sealed && ep.previous_secret_expires_at && ep.previous_secret_expires_at.getTime() > Date.now()) {
      secrets.push(ctx.sealer.open<{ secret: string }>(ep.previous_secret_sealed).secret);
    }
    for (const d of due) {
      // The body is the same on every attempt; webhook-id is the event's id (the receiver's de-duplication key).
      const body = JSON.stringify({ type: d.type, timestamp: new Date(d.created_at).toISOString(), data: d.payload });
      const ts = Math.floor(Date.now() / 1000);
      const signature = secrets.map((s) => signStandardWebhook(s, d.event_id, ts, body)).join(' ');
      const r = await sendWebhook(
        ctx.jobs.webhookAgent,
        ep.url,
        { 'webhook-id': d.event_id, 'webhook-timestamp': String(ts), 'webhook-signature': signature },
        body,
        t.webhookTimeoutMs,
      );
      const paused = await record(ctx, tenantId, endpointId, d, r);
      if (paused) return;
    }
    if (due.length < BATCH) break;
  }
  await scheduleNext(ctx, tenantId, endpointId);
}

/** Records one attempt, moves the delivery on and runs the breaker; true when the endpoint got paused. */
async function record(ctx: AppContext, tenantId: string, endpointId: string, d: DueRow, r: AttemptResult): Promise<boolean> {
  const t = ctx.tuning;
  return withTx(ctx.db, async (tx) => {
    await tx.query(`insert into webhook_attempts (tenant_id, endpoint_id, delivery_id, status_code, error, duration_ms) values ($1, $2, $3, $4, $5, $6)`, [
      tenantId,
      endpointId,
      d.id,
      r.statusCode,
      r.error,
      r.durationMs,
    ]);
    if (r.ok) {
      await tx.query(
        `update webhook_deliveries set status = 'delivered', attempts = attempts + 1, last_status_code = $3, last_error = null,
                delivered_at = now(), next_attempt_at = null, updated_at = now()
         where tenant_id = $1 and id = $2`,
        [tenantId, d.id, r.statusCode],
      );
      await tx.query(
        `update webhook_endpoints set consecutive_failures = 0, failing_since = null where tenant_id = $1 and id = $2 and consecutive_failures > 0`,
        [tenantId, endpointId],
      );
      return false;
    }
    const delay = retryDelayMs(t.webhookRetryScheduleMs, d.retry_index);
    await tx.query(
      `update webhook_deliveries set attempts = attempts + 1, last_status_code = $3, last_error = $4, updated_at = now(),
              status = case when $5::int is null then 'dead' else 'pending' end,
              retry_index = retry_index + 1,
              next_attempt_at = case when $5::int is null then null else now() + make_interval(secs => $5::int / 1000.0) end
       where tenant_id = $1 and id = $2`,
      [tenantId, d.id, r.statusCode, r.error, delay],
    );
    const { rows } = await tx.query<{ consecutive_failures: number; span_ms: number; url: string }>(
      `update webhook_endpoints set consecutive_failures = consecutive_failures + 1, failing_since = coalesce(failing_since, now())
       where tenant_id = $1 and id = $2
       returning consecutive_failures, (extract(epoch from now() - failing_since) * 1000)::float8 as span_ms, url`,
      [tenantId, endpointId],
    );
    const e = rows[0];
    if (!e || e.consecutive_failures < t.webhookBreakerFailures || e.span_ms < t.webhookBreakerSpanMs) return false;
    // A URL's query string may carry a token (Slack-style hooks): the alert names origin and path only.
    const shown = (() => {
      try {
        const u = new URL(e.url);
        return u.origin + u.pathname;
      } catch {
        return '(unreadable URL)';
      }
    })();
    await tx.query(`update webhook_endpoints set status = 'paused', paused_reason = 'circuit_breaker', updated_at = now() where tenant_id = $1 and id = $2`, [
      tenantId,
      endpointId,
    ]);
    await raiseAlert(tx, tenantId, {
      type: 'webhook_endpoint_paused',
      subject: endpointId,
      severity: 'critical',
      message: `Webhook endpoint ${shown} was paused after ${e.consecutive_failures} failed deliveries in a row; fix it, then resume it`,
      data: { endpoint_id: endpointId, url: shown, consecutive_failures: e.consecutive_failures, last_error: r.error, last_status_code: r.statusCode },
    });
    ctx.log.warn({ tenant_id: tenantId, endpoint_id: endpointId, failures: e.consecutive_failures }, 'webhook endpoint paused by the circuit breaker');
    return true;
  });
}

/** Enqueues the endpoint's job for its earliest pending delivery (now if one is due). */
export async function scheduleNext(ctx: Pick<AppContext, 'db' | 'jobs'>, tenantId: string, endpointId: string): Promise<void> {
  const next = await withTx(ctx.db, async (tx) => {
    const { rows } = await tx.query<{ at: Date | null }>(
      `select min(d.next_attempt_at) as at from webhook_deliveries d
       join webhook_endpoints e on e.tenant_id = d.tenant_id and e.id = d.endpoint_id and e.status = 'active'
       where d.tenant_id = $1 and d.endpoint_id = $2 and d.status = 'pending'`,
      [tenantId, endpointId],
    );
    const at = rows[0]?.at;
    if (!at) return null;
    const later = at.getTime() > Date.now();
    await addJobs(tx, [webhookJob(tenantId, endpointId, later ? at : undefined)]);
    return later ? at : null;
  });
  // graphile-worker notices a job added for later only at its next poll: wake this process's workers
  // when it falls due (after the relay has moved it).
  if (next) ctx.jobs.wakeWorkersIn(next.getTime() - Date.now() + RELAY_SLACK_MS);
}
