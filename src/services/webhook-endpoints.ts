// Outbound webhook subscriptions (Standard Webhooks): CRUD, secret rotation with an overlap in
// which both secrets sign, pause/resume (the circuit breaker pauses too), the delivery log, the
// dead-letter list (deliveries with status `dead`) and replay of one delivery or of everything since
// a time. Delivery itself is src/engine/outbound-webhooks.ts; events are written by src/db/webhook-events.ts.
import { newStandardWebhookSecret } from '../channels/signing.ts';
import type { Sealer } from '../db/crypto.ts';
import { addJobs } from '../db/jobs.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { webhookUrlProblem } from '../domain/webhook-url.ts';
import { webhookJob } from '../db/job-specs.ts';
import { resolveAlerts } from './alerts.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export const DELIVERY_STATUSES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

const EP_COLUMNS = `e.id, e.url, e.description, e.event_types, e.status, e.paused_reason, e.consecutive_failures,
  case when e.previous_secret_expires_at > now() then e.previous_secret_expires_at end as previous_secret_expires_at, e.created_at, e.updated_at`;
const DL_COLUMNS = `d.id, d.endpoint_id, d.event_id, v.type as event_type, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error, d.delivered_at, d.created_at`;
const AT_COLUMNS = 'a.id, a.delivery_id, a.status_code, a.error, a.duration_ms, a.created_at';

type Endpoint = { id: string; status: string } & Record<string, unknown>;

/** Private and non-http(s) targets are refused (422): the server must not be a proxy into its own network. */
function checkUrl(u: string): void {
  const problem = webhookUrlProblem(u);
  if (problem) throw new AppError(422, 'url_not_allowed', `This URL cannot receive webhooks: ${problem}`, [{ path: 'url', message: problem }]);
}

export async function getEndpoint(q: Q, scope: Scope, id: string, lock = false): Promise<Endpoint> {
  const { rows } = await q.query(`select ${EP_COLUMNS} from webhook_endpoints e where e.tenant_id = $1 and e.id = $2 ${lock ? 'for update' : ''}`, [
    scope.tenantId,
    id,
  ]);
  if (!rows[0]) throw notFound('Webhook endpoint');
  return rows[0] as Endpoint;
}

/** Due deliveries of an active endpoint go out now (same transaction as whatever made them due). */
async function kick(tx: Q, tenantId: string, endpointId: string): Promise<void> {
  const { rows } = await tx.query(`select 1 from webhook_endpoints where tenant_id = $1 and id = $2 and status = 'active'`, [tenantId, endpointId]);
  if (rows[0]) await addJobs(tx, [webhookJob(tenantId, endpointId)]);
}

export async function listEndpoints(q: Q, scope: Scope, p: PageRequest) {
  const { rows } = await q.query(
    `select ${EP_COLUMNS} from webhook_endpoints e where e.tenant_id = $1 and ($2::text is null or e.id > $2) order by e.id limit $3`,
    [scope.tenantId, p.after, p.limit + 1],
  );
  return page(rows, p.limit, (r) => r.id as string);
}

export interface NewEndpoint {
  url: string;
  event_types: string[];
  description?: string;
}

/** Subscribes a URL; the signing secret is stored sealed and returned only here. */
export async function createEndpoint(tx: Q, scope: Scope, sealer: Sealer, input: NewEndpoint): Promise<Endpoint & { secret: string }> {
  checkUrl(input.url);
  const id = newId('whe');
  const secret = newStandardWebhookSecret();
  await tx.query(`insert into webhook_endpoints (tenant_id, id, url, description, event_types, secret_sealed) values ($1, $2, $3, $4, $5, $6)`, [
    scope.tenantId,
    id,
    input.url,
    input.description ?? null,
    [...new Set(input.event_types)],
    sealer.seal({ secret }),
  ]);
  const created = { ...(await getEndpoint(tx, scope, id)), secret };
  await audit(tx, scope, 'webhook_endpoint.created', { type: 'webhook_endpoint', id }, { url: input.url, event_types: input.event_types });
  return created;
}

/** Fields to change; `description: null` clears it, an absent key leaves it. */
export interface EndpointPatch {
  url?: string;
  event_types?: string[];
  description?: string | null;
}

export async function updateEndpoint(tx: Q, scope: Scope, id: string, patch: EndpointPatch): Promise<Endpoint> {
  if (patch.url !== undefined) checkUrl(patch.url);
  const { rowCount } = await tx.query(
    `update webhook_endpoints set url = coalesce($3, url), event_types = coalesce($4, event_types),
            description = case when $5 then $6 else description end, updated_at = now()
     where tenant_id = $1 and id = $2`,
    [scope.tenantId, id, patch.url ?? null, patch.event_types ? [...new Set(patch.event_types)] : null, 'description' in patch, patch.description ?? null],
  );
  if (!rowCount) throw notFound('Webhook endpoint');
  await audit(tx, scope, 'webhook_endpoint.updated', { type: 'webhook_endpoint', id }, { ...patch });
  return getEndpoint(tx, scope, id);
}

/** Deletes the endpoint with its delivery log; its "paused" alert, if open, is resolved. */
export async function deleteEndpoint(tx: Q, scope: Scope, id: string): Promise<void> {
  const { rowCount } = await tx.query(`delete from webhook_endpoints where tenant_id = $1 and id = $2`, [scope.tenantId, id]);
  if (!rowCount) throw notFound('Webhook endpoint');
  await resolveAlerts(tx, scope.tenantId, 'webhook_endpoint_paused', [id]);
  await audit(tx, scope, 'webhook_endpoint.deleted', { type: 'webhook_endpoint', id });
}

/** A new signing secret; the previous one keeps signing beside it for `overlapS` seconds. */
export async function rotateSecret(tx: Q, scope: Scope, sealer: Sealer, id: string, overlapS: number): Promise<Endpoint & { secret: string }> {
  const secret = newStandardWebhookSecret();
  const { rowCount } = await tx.query(
    `update webhook_endpoints set previous_secret_sealed = secret_sealed, secret_sealed = $3,
            previous_secret_expires_at = now() + make_interval(secs => $4), updated_at = now()
     where tenant_id = $1 and id = $2`,
    [scope.tenantId, id, sealer.seal({ secret }), overlapS],
  );
  if (!rowCount) throw notFound('Webhook endpoint');
  const rotated = { ...(await getEndpoint(tx, scope, id)), secret };
  await audit(tx, scope, 'webhook_endpoint.secret_rotated', { type: 'webhook_endpoint', id }, { overlap_s: overlapS });
  return rotated;
}

/** Pauses deliveries; events are still recorded for the endpoint and wait. */
export async function pauseEndpoint(tx: Q, scope: Scope, id: string): Promise<Endpoint> {
  const { rowCount } = await tx.query(
    `update webhook_endpoints set status = 'paused', paused_reason = 'api', updated_at = now() where tenant_id = $1 and id = $2`,
    [scope.tenantId, id],
  );
  if (!rowCount) throw notFound('Webhook endpoint');
  const out = await getEndpoint(tx, scope, id);
  await audit(tx, scope, 'webhook_endpoint.paused', { type: 'webhook_endpoint', id });
  return out;
}

/**
 * Resumes deliveries, also after the circuit breaker paused the endpoint: its failure count starts
 * again, what waited is due now (the retry schedule starts again for it) and its alert is resolved.
 */
export async function resumeEndpoint(tx: Q, scope: Scope, id: string): Promise<Endpoint> {
  const { rowCount } = await tx.query(
    `update webhook_endpoints set status = 'active', paused_reason = null, consecutive_failures = 0, failing_since = null, updated_at = now()
     where tenant_id = $1 and id = $2`,
    [scope.tenantId, id],
  );
  if (!rowCount) throw notFound('Webhook endpoint');
  await tx.query(`update webhook_deliveries set next_attempt_at = now() where tenant_id = $1 and endpoint_id = $2 and status = 'pending'`, [
    scope.tenantId,
    id,
  ]);
  await resolveAlerts(tx, scope.tenantId, 'webhook_endpoint_paused', [id]);
  await kick(tx, scope.tenantId, id);
  const out = await getEndpoint(tx, scope, id);
  await audit(tx, scope, 'webhook_endpoint.resumed', { type: 'webhook_endpoint', id });
  return out;
}

/** Deliveries to an endpoint, newest first; `status: 'dead'` is the dead-letter list. */
export async function listDeliveries(q: Q, scope: Scope, endpointId: string, f: { status?: DeliveryStatus }, p: PageRequest) {
  await getEndpoint(q, scope, endpointId);
  const { rows } = await q.query(
    `select ${DL_COLUMNS} from webhook_deliveries d join webhook_events v on v.tenant_id = d.tenant_id and v.id = d.event_id
     where d.tenant_id = $1 and d.endpoint_id = $2 and ($3::text is null or d.id < $3) and ($4::text is null or d.status = $4)
     order by d.id desc limit $5`,
    [scope.tenantId, endpointId, p.after, f.status ?? null, p.limit + 1],
  );
  return page(rows, p.limit, (r) => r.id as string);
}

/** The delivery log: every attempt to an endpoint, newest first. */
export async function listAttempts(q: Q, scope: Scope, endpointId: string, p: PageRequest<number>) {
  await getEndpoint(q, scope, endpointId);
  const { rows } = await q.query(
    `select ${AT_COLUMNS} from webhook_attempts a where a.tenant_id = $1 and a.endpoint_id = $2 and ($3::bigint is null or a.id < $3)
     order by a.id desc limit $4`,
    [scope.tenantId, endpointId, p.after, p.limit + 1],
  );
  return page(
    rows.map((r) => ({ ...r, id: Number(r.id) })),
    p.limit,
    (r) => r.id,
  );
}

/**
 * Sends again every delivery of events created since `since`: dead and waiting ones, and delivered
 * ones too when asked. Each keeps its webhook-id (receivers de-duplicate on it).
 */
export async function replaySince(tx: Q, scope: Scope, endpointId: string, input: { since: string; includeDelivered: boolean }): Promise<{ replayed: number }> {
  await getEndpoint(tx, scope, endpointId, true);
  const { rowCount } = await tx.query(
    `update webhook_deliveries d set status = 'pending', retry_index = 0, next_attempt_at = now(), updated_at = now()
     from webhook_events v
     where d.tenant_id = $1 and d.endpoint_id = $2 and v.tenant_id = d.tenant_id and v.id = d.event_id and v.created_at >= $3
       and (d.status <> 'delivered' or $4)`,
    [scope.tenantId, endpointId, input.since, input.includeDelivered],
  );
  await kick(tx, scope.tenantId, endpointId);
  const out = { replayed: rowCount ?? 0 };
  await audit(
    tx,
    scope,
    'webhook_endpoint.replayed',
    { type: 'webhook_endpoint', id: endpointId },
    { since: input.since, include_delivered: input.includeDelivered, replayed: out.replayed },
  );
  return out;
}

/** A delivery with its event payload and every attempt, oldest first. */
export async function getDelivery(q: Q, scope: Scope, id: string) {
  const { rows } = await q.query(
    `select ${DL_COLUMNS}, v.payload as data from webhook_deliveries d join webhook_events v on v.tenant_id = d.tenant_id and v.id = d.event_id
     where d.tenant_id = $1 and d.id = $2`,
    [scope.tenantId, id],
  );
  if (!rows[0]) throw notFound('Webhook delivery');
  const { rows: log } = await q.query(`select ${AT_COLUMNS} from webhook_attempts a where a.tenant_id = $1 and a.delivery_id = $2 order by a.id`, [
    scope.tenantId,
    id,
  ]);
  return { ...rows[0], attempts_log: log.map((r) => ({ ...r, id: Number(r.id) })) } as { endpoint_id: string } & Record<string, unknown>;
}

/** Sends one delivery again (same webhook-id), e.g. from the dead-letter list. */
export async function replayDelivery(tx: Q, scope: Scope, id: string) {
  const { rows } = await tx.query<{ endpoint_id: string }>(
    `update webhook_deliveries set status = 'pending', retry_index = 0, next_attempt_at = now(), updated_at = now()
     where tenant_id = $1 and id = $2 returning endpoint_id`,
    [scope.tenantId, id],
  );
  if (!rows[0]) throw notFound('Webhook delivery');
  await kick(tx, scope.tenantId, rows[0].endpoint_id);
  const out = await getDelivery(tx, scope, id);
  await audit(tx, scope, 'webhook_delivery.replayed', { type: 'webhook_delivery', id });
  return out;
}
