// Outbound webhook events, enqueued in the SAME transaction as their cause (invariant 3): the
// event row, one delivery per live endpoint subscribed to it, and the delivery job's outbox row
// (keyed and queued per endpoint) are written by one statement on the caller's transaction. The
// ledger and the reservations statement embed the same CTEs (webhookEventCtes), so a stock change
// costs one indexed lookup (webhook_endpoints_live_idx) when the tenant has no subscription.
import { webhookJobTemplate } from './job-specs.ts';
import { OUTBOX_ROW_KEY_SQL, outboxRow } from './jobs.ts';
import { named, wroteJobs, type Tx } from './pool.ts';

/** Every event a subscription can name. Other branches add theirs here (transfer.*). */
export const WEBHOOK_EVENT_TYPES = [
  'stock.changed',
  'item.low_stock',
  'item.out_of_stock',
  'order.created',
  'order.shipped',
  'order.cancelled',
  'transfer.created',
  'transfer.shipped',
  'transfer.received',
  'transfer.cancelled',
  'sync.failed',
  'channel.disconnected',
  'drift.detected',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** What a subscription may list: an event name, a family (`order.*`), or everything (`*`). */
export const WEBHOOK_EVENT_FILTERS = [...WEBHOOK_EVENT_TYPES, 'stock.*', 'item.*', 'order.*', 'transfer.*', 'sync.*', 'channel.*', 'drift.*', '*'] as const;

/** An id in the API's format (prefix + 32 hex digits, time-ordered like a UUIDv7), made in SQL. */
export const sqlId = (prefix: string) =>
  `('${prefix}_' || lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') || substr(md5(random()::text || clock_timestamp()::text), 1, 20))`;

/**
 * CTEs (to follow a `with ... ,`) that record one event of type `type` with `payload` (SQL
 * expressions) for tenant `tenant` when a live endpoint subscribes to it, and enqueue delivery for
 * the active ones, if `when` holds. `job` is the parameter holding the delivery job's outbox row
 * (webhookJobRow): each endpoint's job is that one with the endpoint's id appended. The payload
 * expression is only evaluated when someone subscribes. Names used: wh_eps, wh_ev, wh_dl, wh_jobs.
 */
export function webhookEventCtes(tenant: string, type: string, payload: string, job: string, when = 'true'): string {
  return `wh_eps as (
  select e.id, e.status from webhook_endpoints e where ${subscribes('e', tenant, type)}
), wh_ev as (
  insert into webhook_events (tenant_id, id, type, payload)
  select ${tenant}, ${sqlId('evt')}, ${type}, ${payload} where exists (select 1 from wh_eps) and ${when}
  returning id
), wh_dl as (
  insert into webhook_deliveries (tenant_id, id, endpoint_id, event_id, status, next_attempt_at)
  select ${tenant}, ${sqlId('whd')}, e.id, v.id, 'pending', now() from wh_eps e cross join wh_ev v
  returning endpoint_id
), wh_jobs as (
  insert into job_outbox (key, job_key, task, payload, queue_name)
  select ${OUTBOX_ROW_KEY_SQL('(j.job_key || d.endpoint_id)')}, j.job_key || d.endpoint_id, j.task,
         j.payload || jsonb_build_object('endpointId', d.endpoint_id), j.queue_name || d.endpoint_id
  from wh_dl d join wh_eps e on e.id = d.endpoint_id and e.status = 'active'
  cross join jsonb_to_record(${job}::jsonb) as j(job_key text, task text, payload jsonb, queue_name text)
  on conflict (key) do nothing
  returning 1
)`;
}

/** SQL condition: endpoint row `e` is live (active or paused) and subscribes to events of `type`. */
const subscribes = (e: string, tenant: string, type: string) =>
  `${e}.tenant_id = ${tenant} and ${e}.status in ('active', 'paused')
    and ${e}.event_types && array[${type}::text, split_part(${type}::text, '.', 1) || '.*', '*']`;

/** SQL: some live endpoint of `tenant` subscribes to events of `type` (what webhookEventCtes would deliver to). */
export const subscribedSql = (tenant: string, type: string) => `exists (select 1 from webhook_endpoints e where ${subscribes('e', tenant, type)})`;

/** The bound value for webhookEventCtes' `job`: the tenant's delivery job, its endpoint left to append. */
export function webhookJobRow(tenantId: string): string {
  return JSON.stringify(outboxRow(webhookJobTemplate(tenantId)));
}

const EMIT_SQL = `with ${webhookEventCtes('$1', '$2', '$3::jsonb', '$4')}
select (select id from wh_ev) as event_id, (select count(*) from wh_dl)::int as deliveries`;

/**
 * Records an event in the caller's transaction; it is delivered only if that transaction commits.
 * Returns the event id, or null when no endpoint of the tenant subscribes to this type.
 */
export async function emitEvent(tx: Pick<Tx, 'query'>, tenantId: string, type: WebhookEventType, payload: Record<string, unknown>): Promise<string | null> {
  const { rows } = await tx.query<{ event_id: string | null }>(
    named('webhook_emit', EMIT_SQL, [tenantId, type, JSON.stringify(payload), webhookJobRow(tenantId)]),
  );
  if (rows[0]?.event_id) wroteJobs(tx);
  return rows[0]?.event_id ?? null;
}
