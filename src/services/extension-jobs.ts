// The durable job queue behind browser-extension channels (docs/extension-protocol.md). A job is
// queued (idempotent on its key while unconsumed), sent to the channel's extension when one is
// connected, and ends done or failed with what the extension reported. Failures that pass
// (throttled, network, session) put it back in the queue with a delay; one a merchant must act on
// (rejected, not_found) ends it. A job sent to a socket that died is sent again to the next one.
import { newId } from '../domain/ids.ts';
import type { Q } from './scope.ts';

export interface ExtensionJobRow {
  id: string;
  kind: string;
  key: string;
  payload: unknown;
  status: 'queued' | 'sent' | 'done' | 'failed';
  attempts: number;
  result: unknown;
  error: { kind: string; message: string } | null;
}

/** Queues the job, or finds the unconsumed one with the same key. */
export async function enqueueExtensionJob(
  q: Q,
  tenantId: string,
  channelId: string,
  job: { kind: string; key: string; payload: unknown; awaited: boolean },
): Promise<ExtensionJobRow> {
  const { rows } = await q.query<ExtensionJobRow>(
    `with ins as (
       insert into extension_jobs (tenant_id, id, channel_id, kind, key, payload, awaited) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (tenant_id, channel_id, key) where consumed_at is null do nothing
       returning id, kind, key, payload, status, attempts, result, error)
     select * from ins
     union all
     select id, kind, key, payload, status, attempts, result, error from extension_jobs
      where tenant_id = $1 and channel_id = $3 and key = $5 and consumed_at is null and not exists (select 1 from ins)`,
    [tenantId, newId('xj'), channelId, job.kind, job.key, JSON.stringify(job.payload), job.awaited],
  );
  return rows[0]!;
}

export async function extensionJob(q: Q, tenantId: string, id: string): Promise<ExtensionJobRow | null> {
  const { rows } = await q.query<ExtensionJobRow>(
    `select id, kind, key, payload, status, attempts, result, error from extension_jobs where tenant_id = $1 and id = $2`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/** The awaited result was read: the key is free for a new job. */
export async function consumeExtensionJob(q: Q, tenantId: string, id: string): Promise<void> {
  await q.query(`update extension_jobs set consumed_at = now() where tenant_id = $1 and id = $2 and consumed_at is null`, [tenantId, id]);
}

/** Takes up to `limit` due jobs of the channel, oldest first, and marks them sent. */
export async function claimExtensionJobs(q: Q, tenantId: string, channelId: string, limit: number): Promise<ExtensionJobRow[]> {
  const { rows } = await q.query<ExtensionJobRow>(
    `update extension_jobs j set status = 'sent', sent_at = now(), attempts = j.attempts + 1
       from (select id from extension_jobs
              where tenant_id = $1 and channel_id = $2 and status = 'queued' and not_before <= now()
              order by created_at, id limit $3 for update skip locked) due
      where j.tenant_id = $1 and j.id = due.id
      returning j.id, j.kind, j.key, j.payload, j.status, j.attempts, j.result, j.error`,
    [tenantId, channelId, limit],
  );
  return rows.sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Jobs sent but never answered (the socket that had them closed): back in the queue, first in line. */
export async function requeueSentExtensionJobs(q: Q, tenantId: string, channelId: string): Promise<number> {
  const { rowCount } = await q.query(`update extension_jobs set status = 'queued' where tenant_id = $1 and channel_id = $2 and status = 'sent'`, [
    tenantId,
    channelId,
  ]);
  return rowCount ?? 0;
}

const RETRYABLE = new Set(['throttled', 'network', 'session']);
/** Delay before a job that failed in passing is sent again (the extension's retry_after_ms wins). */
const RETRY_MS = { throttled: 5_000, network: 2_000, session: 30_000 } as Record<string, number>;

export type ExtensionOutcome = { ok: true; result: unknown } | { ok: false; error: { kind: string; message: string; retry_after_ms?: number | null } };

/**
 * Stores what the extension reported for a job it was sent. Only a sent job takes a result (a late
 * answer for a job already done, or one for another channel, changes nothing); returns whether it did.
 */
export async function completeExtensionJob(q: Q, tenantId: string, channelId: string, id: string, outcome: ExtensionOutcome): Promise<boolean> {
  if (outcome.ok) {
    const { rowCount } = await q.query(
      `update extension_jobs set status = 'done', result = $4, error = null, done_at = now(), consumed_at = case when awaited then null else now() end
        where tenant_id = $1 and channel_id = $2 and id = $3 and status = 'sent'`,
      [tenantId, channelId, id, JSON.stringify(outcome.result ?? null)],
    );
    return (rowCount ?? 0) > 0;
  }
  const { kind, message } = outcome.error;
  if (RETRYABLE.has(kind)) {
    const delay = Math.max(0, Math.min(outcome.error.retry_after_ms ?? RETRY_MS[kind]!, 3_600_000));
    const { rowCount } = await q.query(
      `update extension_jobs set status = 'queued', error = $4, not_before = now() + make_interval(secs => $5::double precision / 1000)
        where tenant_id = $1 and channel_id = $2 and id = $3 and status = 'sent'`,
      [tenantId, channelId, id, JSON.stringify({ kind, message }), delay],
    );
    return (rowCount ?? 0) > 0;
  }
  const { rowCount } = await q.query(
    `update extension_jobs set status = 'failed', error = $4, done_at = now(), consumed_at = case when awaited then null else now() end
      where tenant_id = $1 and channel_id = $2 and id = $3 and status = 'sent'`,
    [tenantId, channelId, id, JSON.stringify({ kind, message })],
  );
  return (rowCount ?? 0) > 0;
}

/** Queue depth per state, for the channel's page. */
export async function extensionQueueOf(q: Q, tenantId: string, channelId: string): Promise<{ queued: number; sent: number; failed: number }> {
  const { rows } = await q.query<{ queued: number; sent: number; failed: number }>(
    `select count(*) filter (where status = 'queued')::int as queued, count(*) filter (where status = 'sent')::int as sent,
            count(*) filter (where status = 'failed' and done_at > now() - interval '1 day')::int as failed
       from extension_jobs where tenant_id = $1 and channel_id = $2`,
    [tenantId, channelId],
  );
  return rows[0]!;
}
