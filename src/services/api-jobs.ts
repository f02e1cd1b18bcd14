// Jobs for long work (issue 4 point 8): CSV imports (items, stock counts) and CSV exports (items,
// stock levels, movements). Creating one records it and enqueues its run in the caller's
// transaction (invariant 3); the worker does the work (src/engine/api-jobs.ts) and leaves the
// result, per-row errors and the file (an export, or an import's error report) on the job row and
// its chunks, which the reads here show.
import { notFound, AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { apiJobSpec } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Tx } from '../db/pool.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export const JOB_KINDS = ['import_items', 'import_stock_counts', 'export_items', 'export_stock_levels', 'export_movements'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Valid rows an import commits per transaction. */
export const IMPORT_BATCH = 1000;
/** Per-row errors a job shows (the error report download has them all). */
export const ERRORS_SHOWN = 100;

/** A job as it is shown: its row, with the first ERRORS_SHOWN errors. */
export interface ApiJob {
  id: string;
  kind: JobKind;
  status: JobStatus;
  rows_total: number | null;
  rows_done: number;
  rows_failed: number;
  result: Record<string, unknown> | null;
  error: string | null;
  file_chunks: number;
  errors: Array<{ line: number; message: string }>;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const VIEW_COLUMNS = `j.id, j.kind, j.status, j.rows_total, j.rows_done, j.rows_failed, j.result, j.error, j.file_chunks, j.created_at, j.started_at, j.finished_at,
  coalesce((select jsonb_agg(e order by n) from (select e, n from jsonb_array_elements(coalesce(j.errors, '[]')) with ordinality as a(e, n) order by n limit ${ERRORS_SHOWN}) x), '[]') as errors`;

/** 404 unless the item and location a job names are the tenant's (as everywhere else). */
async function checkRefs(q: Q, tenantId: string, p: { item_id?: unknown; location_id?: unknown }): Promise<void> {
  const { rows } = await q.query<{ item: boolean; location: boolean }>(
    `select ($2::text is null or exists(select 1 from items where tenant_id = $1 and id = $2)) as item,
            ($3::text is null or exists(select 1 from locations where tenant_id = $1 and id = $3)) as location`,
    [tenantId, p.item_id ?? null, p.location_id ?? null],
  );
  if (!rows[0]!.item) throw notFound('Item');
  if (!rows[0]!.location) throw notFound('Location');
}

/**
 * Records a job and enqueues its run. `params` are the job's options (an export's filters, an
 * import's default location); `csv` an import's input.
 */
export async function create(tx: Tx, scope: Scope, input: { kind: JobKind; params: Record<string, unknown>; csv?: string }): Promise<ApiJob> {
  const { kind, params, csv } = input;
  await checkRefs(tx, scope.tenantId, params);
  const id = newId('job');
  await tx.query(`insert into api_jobs (tenant_id, id, kind, params, input, created_by) values ($1, $2, $3, $4, $5, $6)`, [
    scope.tenantId,
    id,
    kind,
    params,
    csv ?? null,
    scope.actor.id,
  ]);
  await addJobs(tx, [apiJobSpec(scope.tenantId, id)]);
  const job = await get(tx, scope, id);
  await audit(tx, scope, 'job.created', { type: 'job', id }, { kind, ...params, ...(csv !== undefined ? { csv_chars: csv.length } : {}) });
  return job;
}

export async function get(q: Q, scope: Scope, id: string): Promise<ApiJob> {
  const { rows } = await q.query<ApiJob>(`select ${VIEW_COLUMNS} from api_jobs j where j.tenant_id = $1 and j.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Job');
  return rows[0];
}

/** Newest first (job ids grow with time), optionally of one status or kind. */
export async function list(q: Q, scope: Scope, input: PageRequest & { status?: JobStatus | null; kind?: JobKind | null }) {
  const { rows } = await q.query<ApiJob>(
    `select ${VIEW_COLUMNS} from api_jobs j where j.tenant_id = $1 and ($2::text is null or j.id < $2)
       and ($3::text is null or j.status = $3) and ($4::text is null or j.kind = $4)
     order by j.id desc limit $5`,
    [scope.tenantId, input.after, input.status ?? null, input.kind ?? null, input.limit + 1],
  );
  return page(rows, input.limit, (r) => r.id);
}

/**
 * A finished job's file (an export, or an import's error report): its download name and its
 * content chunk by chunk (never the whole file in memory). 404 while there is none.
 */
export async function file(q: Q, scope: Scope, id: string): Promise<{ filename: string; chunks: AsyncGenerator<string> }> {
  const { rows } = await q.query<{ kind: string; status: string; file_chunks: number }>(
    `select kind, status, file_chunks from api_jobs where tenant_id = $1 and id = $2`,
    [scope.tenantId, id],
  );
  const job = rows[0];
  if (!job) throw notFound('Job');
  if (job.status !== 'succeeded' || job.file_chunks === 0)
    throw new AppError(404, 'not_found', 'This job has no file (yet): see its download_url', { status: job.status });
  const filename = job.kind.startsWith('import') ? `${job.kind}-errors-${id}.csv` : `${job.kind.replace('export_', '')}-${id}.csv`;
  return { filename, chunks: chunks(q, scope.tenantId, id) };
}

async function* chunks(q: Q, tenantId: string, jobId: string): AsyncGenerator<string> {
  for (let seq = 0; ; seq++) {
    const { rows } = await q.query<{ data: string }>(`select data from api_job_chunks where tenant_id = $1 and job_id = $2 and seq = $3`, [
      tenantId,
      jobId,
      seq,
    ]);
    if (!rows[0]) return;
    yield rows[0].data;
  }
}

/**
 * The scope a job's writes run in: it acts for whoever created it (the ledger's source_user_id and
 * the audit log name them). The job row keeps only the creator's id; its prefix says what it is.
 */
export function jobScope(tenantId: string, jobId: string, createdBy: string): Scope {
  const type = createdBy.startsWith('usr_') ? 'user' : createdBy.startsWith('pkey_') ? 'platform_key' : createdBy.startsWith('key_') ? 'api_key' : 'system';
  return { tenantId, actor: { type, id: createdBy }, requestId: jobId };
}
