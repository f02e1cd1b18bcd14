// Jobs for long work (issue 4 point 8): CSV imports (items, stock counts) and CSV exports (items,
// stock levels, movements). A POST records the job and enqueues it in one transaction and answers
// 202 with the job and `Location: /api/v1/jobs/{id}`; the worker does the work (src/engine/api-jobs.ts).
// Imports take JSON `{csv: "<the CSV text>"}` (so Idempotency-Key, validation and the OpenAPI
// contract work as for every other POST), at most MAX_CSV characters.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as apiJobs from '../../services/api-jobs.ts';
import { ERRORS_SHOWN, IMPORT_BATCH, JOB_KINDS, JOB_STATUSES, type JobKind } from '../../services/api-jobs.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { scopeOf } from '../scope.ts';
import { timestamp } from '../schemas.ts';
import { write } from '../tx.ts';
import { idParam, idRef, pathId, requestOrigin, stringCursor } from './common.ts';

/** Characters of CSV one import takes (about 100,000+ rows of items). */
export const MAX_CSV = 16 * 1024 * 1024;
// JSON escaping can double a CSV's size (quotes, newlines): the body limit leaves room for it.
const IMPORT_BODY_LIMIT = 2 * MAX_CSV + 1024;
const TAG = 'jobs';

const csv = z
  .string()
  .min(1)
  .max(MAX_CSV)
  // Postgres text cannot hold U+0000 (and no CSV of ours needs it).
  .refine((v) => !v.includes('\u0000'), 'must not contain NUL characters')
  .meta({ description: `The CSV text (UTF-8, comma-separated, first line the header, RFC 4180 quoting), at most ${MAX_CSV} characters` });
const ItemsImport = z.strictObject({ csv });
const CountsImport = z.strictObject({
  csv,
  location_id: idRef('loc').optional().meta({ description: 'The location of rows without a location_id column' }),
});
const ItemsExport = z.strictObject({});
const LevelsExport = z.strictObject({ location_id: idRef('loc').optional() });
const MovementsExport = z.strictObject({
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
  since: timestamp.optional(),
  until: timestamp.optional(),
});
const JobsQuery = z.strictObject({ ...pageQuery, status: z.enum(JOB_STATUSES).optional(), kind: z.enum(JOB_KINDS).optional() });

const RowError = z.strictObject({ line: z.number().int().meta({ description: 'Line of the CSV (the header is line 1)' }), message: z.string() });
export const Job = named(
  z.strictObject({
    id: z.string(),
    kind: z.enum(JOB_KINDS),
    status: z.enum(JOB_STATUSES),
    progress: z.strictObject({
      rows_total: z.number().int().nullable().meta({ description: 'Known once the CSV was read (imports) or counted (exports)' }),
      rows_done: z.number().int().meta({ description: 'Rows handled so far: applied or refused (imports), written (exports)' }),
      rows_failed: z.number().int(),
    }),
    result: z.record(z.string(), z.unknown()).nullable().meta({
      description:
        'Counts: while an import runs, those of its committed batches; once finished rows, applied, failed, created/updated/unchanged or movements, batch_size',
    }),
    errors: z.array(RowError).meta({ description: `Refused rows, by line (the first ${ERRORS_SHOWN}; the download has them all)` }),
    errors_truncated: z.boolean(),
    error: z.string().nullable().meta({ description: 'Why a failed job failed (an unreadable CSV, a missing column ...)' }),
    download_url: z.string().nullable().meta({ description: 'Exports: the CSV; imports with refused rows: the error report (line, error)' }),
    created_at: timestamp,
    started_at: timestamp.nullable(),
    finished_at: timestamp.nullable(),
  }),
  'Job',
);

/** A job as the API shows it; `origin` is where the caller reaches this API (the download link). */
function view(origin: string, r: apiJobs.ApiJob) {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    progress: { rows_total: r.rows_total, rows_done: r.rows_done, rows_failed: r.rows_failed },
    result: r.result,
    errors: r.errors,
    errors_truncated: r.rows_failed > r.errors.length,
    error: r.error,
    download_url: r.status === 'succeeded' && r.file_chunks > 0 ? `${origin}/api/v1/jobs/${r.id}/download` : null,
    created_at: r.created_at,
    started_at: r.started_at,
    finished_at: r.finished_at,
  };
}

export async function jobRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('job');

  const start = (kind: JobKind, body: z.ZodObject, summary: string, description: string, bodyLimit?: number) =>
    app.post(
      `/${kind.replace('_', 's/').replaceAll('_', '-')}`,
      { ...doc({ summary, description, tag: TAG, body, location: true, responses: { 202: Job, 404: ErrorBody } }), ...(bodyLimit ? { bodyLimit } : {}) },
      async (req, reply) => {
        // An export may be posted without a body; a body that is sent must be an object (`parse` reads null as {}).
        if (req.body === null) throw new ApiError(400, 'validation_failed', 'The body must be a JSON object', [{ path: '', message: 'expected an object' }]);
        const b = parse(body, req.body) as Record<string, unknown>;
        const { csv, ...params } = b as { csv?: string };
        const out = await write(
          ctx,
          req,
          202,
          async (tx, scope) => view(requestOrigin(req), await apiJobs.create(tx, scope, { kind, params, csv })),
          (job) => ({ location: `/api/v1/jobs/${job.id}` }),
        );
        return reply.code(202).header('location', `/api/v1/jobs/${out.id}`).send(out);
      },
    );

  const importRules = `Every row is validated first; refused rows are reported by line and the valid ones applied in batches of ${IMPORT_BATCH} rows, each batch atomically. A CSV that cannot be read fails the job with nothing applied.`;
  start(
    'import_items',
    ItemsImport,
    'Import items from CSV (a job)',
    `Columns: sku, name (required), barcode, low_stock_threshold, buffer; other columns are ignored. An existing SKU is updated (only the columns the CSV has), a new one created. ${importRules}`,
    IMPORT_BODY_LIMIT,
  );
  start(
    'import_stock_counts',
    CountsImport,
    'Import stock counts from CSV (a job)',
    `Columns: sku or item_id, location_id (or location_id in the body), counted_qty (required), note. A count sets on hand: the difference to the current level becomes a count movement (none when equal). ${importRules}`,
    IMPORT_BODY_LIMIT,
  );
  start('export_items', ItemsExport, 'Export items as CSV (a job)', 'The CSV is downloaded from the finished job (download_url).');
  start('export_stock_levels', LevelsExport, 'Export stock levels as CSV (a job)', 'The CSV is downloaded from the finished job (download_url).');
  start(
    'export_movements',
    MovementsExport,
    'Export the ledger (movements) as CSV (a job)',
    'Oldest first. The CSV is downloaded from the finished job (download_url).',
  );

  app.get('/jobs', doc({ summary: 'List jobs, newest first', tag: TAG, query: JobsQuery, responses: { 200: pageOf(Job) } }), async (req) => {
    const q = parse(JobsQuery, req.query);
    const p = await apiJobs.list(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit, status: q.status, kind: q.kind });
    return { data: p.data.map((r) => view(requestOrigin(req), r)), next_cursor: p.next_cursor };
  });

  app.get(
    '/jobs/:id',
    doc({ summary: 'Read a job: status, progress, result, per-row errors, download link', tag: TAG, params: Params, responses: { 200: Job } }),
    async (req) => {
      return view(requestOrigin(req), await apiJobs.get(ctx.db, scopeOf(req), pathId(req.params, 'job', 'Job')));
    },
  );

  app.get(
    '/jobs/:id/download',
    doc({
      summary: "Download a finished job's CSV (an export, or an import's error report)",
      tag: TAG,
      params: Params,
      contentType: 'text/csv',
      responses: { 200: z.string() },
    }),
    async (req, reply) => {
      const f = await apiJobs.file(ctx.db, scopeOf(req), pathId(req.params, 'job', 'Job'));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${f.filename}"`).send(Readable.from(f.chunks));
    },
  );
}
