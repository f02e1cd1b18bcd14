// Transactional job enqueue (invariant 3): jobs are rows in graphile-worker's tables, added on the
// caller's client so they commit or roll back with the change that caused them.
import type { Tx } from './pool.ts';

export interface JobSpec {
  task: string;
  payload: unknown;
  /** Same key = one pending job: later adds replace it (array payloads are appended). */
  key?: string;
  /** Jobs in one queue run one at a time, in order. */
  queue?: string;
  runAt?: Date;
  maxAttempts?: number;
  priority?: number;
}

type Queryable = Pick<Tx, 'query'>;

/** Adds many jobs in one round trip. `preserveRunAt`: a re-added keyed job keeps its earlier run time (coalescing). */
export async function addJobs(tx: Queryable, specs: JobSpec[], preserveRunAt = true): Promise<void> {
  if (specs.length === 0) return;
  await tx.query(
    `select count(*) from graphile_worker.add_jobs(
       array(select row(s.identifier, s.payload, s.queue_name, s.run_at, s.max_attempts, s.job_key, s.priority, null)::graphile_worker.job_spec
             from json_to_recordset($1::json) as s(identifier text, payload json, queue_name text, run_at timestamptz, max_attempts int, job_key text, priority int)),
       $2)`,
    [
      JSON.stringify(
        specs.map((s) => ({
          identifier: s.task,
          payload: s.payload,
          queue_name: s.queue ?? null,
          run_at: s.runAt?.toISOString() ?? null,
          max_attempts: s.maxAttempts ?? null,
          job_key: s.key ?? null,
          priority: s.priority ?? null,
        })),
      ),
      preserveRunAt,
    ],
  );
}

/** Live events for the WebSocket stream: delivered to every API process on commit (LISTEN stockclerk). */
export async function notifyTenant(tx: Queryable, tenantId: string, type: string, data: unknown): Promise<void> {
  let payload = JSON.stringify({ tenant_id: tenantId, type, data });
  // NOTIFY payloads are capped at 8000 bytes: big batches become a "refresh" hint.
  if (payload.length > 7900) payload = JSON.stringify({ tenant_id: tenantId, type, data: { truncated: true } });
  await tx.query('select pg_notify($1, $2)', ['stockclerk', payload]);
}
