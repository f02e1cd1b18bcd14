// Webhook intake with group commit. Each accepted webhook must be durable before we answer 2xx
// (the platform will not send it again), and a commit costs a WAL flush. Under load, webhooks
// that arrive while a flush is in flight are recorded together in the next single statement:
// one round trip and one commit for many webhooks; a lone webhook is written at once.
import type { InboundEvent } from '../channels/contract.ts';
import { applyJob } from '../db/job-specs.ts';
import { OUTBOX_ROW_KEY_SQL, outboxRow } from '../db/jobs.ts';
import { named, type Db } from '../db/pool.ts';
import { traceHooks } from '../obs/trace-hooks.ts';

interface Pending {
  tenantId: string;
  channelId: string;
  events: InboundEvent[];
  traceparent?: string;
  resolve: (r: { recorded: number; duplicates: number }) => void;
  reject: (err: unknown) => void;
}

/**
 * Events recorded once each (unique per tenant, channel, external id) with their apply signal, in
 * one statement. A level event that carries exactly the version and quantity our own last push
 * left on the listing is that push's echo: it is recorded as already applied (outcome 'echo') and
 * signals nothing, so the Watcher never runs for it. Anything less certain (no version, another
 * quantity) goes to the Watcher as before.
 */
const INTAKE_SQL = `
with input as (
  select * from jsonb_to_recordset($1::jsonb) as x(tenant_id text, channel_id text, external_event_id text, kind text, event jsonb)
), echo as (
  select i.channel_id, i.external_event_id from input i
  join listings l on l.tenant_id = i.tenant_id and l.channel_id = i.channel_id
   and l.external_id = i.event->'level'->>'externalId'
   and l.external_location_id = coalesce(i.event->'level'->>'externalLocationId', '')
  where i.kind = 'level' and i.event->'level'->>'version' is not null and i.event->'level'->>'qty' is not null
    and l.last_seen_version = i.event->'level'->>'version'
    and l.last_pushed_qty = (i.event->'level'->>'qty')::numeric
), ins as (
  insert into channel_events (tenant_id, channel_id, external_event_id, kind, event, applied_at, outcome)
  select i.tenant_id, i.channel_id, i.external_event_id, i.kind, i.event,
         case when e.external_event_id is not null then now() end, case when e.external_event_id is not null then 'echo' end
  from input i left join echo e on e.channel_id = i.channel_id and e.external_event_id = i.external_event_id
  on conflict (tenant_id, channel_id, external_event_id) do nothing
  returning tenant_id, channel_id, external_event_id, applied_at
), signal as (
  insert into job_outbox (key, job_key, task, payload, queue_name)
  select distinct on (s.job_key) ${OUTBOX_ROW_KEY_SQL('s.job_key')}, s.job_key, s.task, s.payload, s.queue_name
  from (select distinct tenant_id, channel_id from ins where applied_at is null) c,
       lateral jsonb_to_record($2::jsonb -> c.channel_id) as s(job_key text, task text, payload jsonb, queue_name text)
  on conflict (key) do nothing
)
select channel_id, external_event_id from ins`;

export interface EventBatch {
  tenantId: string;
  channelId: string;
  events: InboundEvent[];
  /** The delivering request's trace (tracing on): the apply job continues it (src/obs/tracing.ts). */
  traceparent?: string;
}

/**
 * Records the events of several deliveries once each, with their apply signals, in ONE statement
 * (atomic without an explicit transaction; one round trip). Returns the (channel, event id) pairs
 * that were new. Used by the webhook intake and by the Watcher's poll.
 */
export async function recordEvents(q: Pick<Db, 'query'>, batch: EventBatch[]): Promise<Set<string>> {
  const rows = batch.flatMap((p) =>
    p.events.map((e) => ({ tenant_id: p.tenantId, channel_id: p.channelId, external_event_id: e.externalEventId, kind: e.kind, event: e })),
  );
  if (rows.length === 0) return new Set();
  // A batch is several requests' events (group commit): a channel's one apply signal carries the
  // trace of each request that delivered to it (none given: the active span's, a poll job's).
  const causes = new Map<string, string[]>();
  for (const p of batch) if (p.traceparent) causes.set(p.channelId, [...(causes.get(p.channelId) ?? []), p.traceparent]);
  const jobs = Object.fromEntries(batch.map((p) => [p.channelId, outboxRow(applyJob(p.tenantId, p.channelId), causes.get(p.channelId))]));
  const { rows: recorded } = await q.query<{ channel_id: string; external_event_id: string }>(
    named('intake_record', INTAKE_SQL, [JSON.stringify(rows), JSON.stringify(jobs)]),
  );
  return new Set(recorded.map((r) => eventKey(r.channel_id, r.external_event_id)));
}

const eventKey = (channelId: string, eventId: string) => `${channelId}\u0000${eventId}`;

const MAX_BATCH = 500;
const MAX_IN_FLIGHT = 2;

export class Intake {
  private queue: Pending[] = [];
  /** Flushes in flight: two, so one batch fills while the other commits. */
  private flushing = 0;
  private readonly db: Db;
  private readonly onRecorded: () => void;
  constructor(db: Db, onRecorded: () => void = () => {}) {
    this.db = db;
    this.onRecorded = onRecorded;
  }

  record(tenantId: string, channelId: string, events: InboundEvent[]): Promise<{ recorded: number; duplicates: number }> {
    if (events.length === 0) return Promise.resolve({ recorded: 0, duplicates: 0 });
    return new Promise((resolve, reject) => {
      // Taken here, in the request's context: the flush that records it may run in another request's.
      this.queue.push({ tenantId, channelId, events, traceparent: traceHooks.traceparent(), resolve, reject });
      if (this.flushing < MAX_IN_FLIGHT) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing++;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_BATCH);
      try {
        const fresh = await recordEvents(this.db, batch);
        const any = fresh.size > 0;
        // Credit each recorded event to the first request in the batch that carried it.
        for (const p of batch) {
          let n = 0;
          for (const e of p.events) if (fresh.delete(eventKey(p.channelId, e.externalEventId))) n++;
          p.resolve({ recorded: n, duplicates: p.events.length - n });
        }
        if (any) this.onRecorded();
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.flushing--;
  }
}
