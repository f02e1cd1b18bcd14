// Long work the API hands to the worker (issue 4 point 8): CSV imports of items and of stock
// counts, CSV exports of items, stock levels and movements. The API records the job and enqueues
// `api_job` in the request's transaction (src/services/api-jobs.ts); this module does the work.
//
// Imports parse and validate EVERY row before writing anything (a CSV that cannot be parsed fails
// the job with nothing applied), record per-row errors with their line numbers, then apply the valid
// rows in batches of IMPORT_BATCH rows, each batch one transaction together with the job's progress.
// A retried job skips the batches already committed. A batch goes through the same services as the
// API: items.upsertBySku (what PATCH /items sets off, a CSV sets off too) and stock.countMany (the
// locks and count movements of POST /stock-counts).
import { Readable } from 'node:stream';
import { parse as parseCsv, CsvError } from 'csv-parse';
import { stringify } from 'csv-stringify/sync';
import { withTx, type Tx } from '../db/pool.ts';
import { IMPORT_BATCH, jobScope, type JobKind } from '../services/api-jobs.ts';
import * as items from '../services/items.ts';
import * as locations from '../services/locations.ts';
import type { Scope } from '../services/scope.ts';
import * as stock from '../services/stock.ts';
import type { AppContext } from './context.ts';

// Where the batch size is read from by the tests and the benchmark.
export { IMPORT_BATCH } from '../services/api-jobs.ts';

/** Rows read per export page (one stored chunk each). */
const EXPORT_PAGE = 2000;
/** Per-row errors kept (every bad row is still counted in rows_failed). */
const MAX_STORED_ERRORS = 10_000;
const MAX_QTY = 1_000_000;

export interface RowError {
  line: number;
  message: string;
}

/** A CSV the job cannot read at all: the job fails with this message and nothing is applied. */
export class BadCsv extends Error {}

type Q = Pick<Tx, 'query'>;

interface JobRow {
  kind: JobKind;
  status: string;
  params: Record<string, unknown>;
  input: string | null;
  created_by: string;
  batches_done: number;
  result: Record<string, number> | null;
}

export async function runApiJob(ctx: AppContext, p: { tenantId: string; jobId: string }): Promise<void> {
  const { rows } = await ctx.db.query<JobRow>(
    `update api_jobs set status = 'running', started_at = coalesce(started_at, now()) where tenant_id = $1 and id = $2 and status in ('queued', 'running')
     returning kind, status, params, input, created_by, batches_done, result`,
    [p.tenantId, p.jobId],
  );
  const job = rows[0];
  if (!job) return; // finished already (a duplicate run) or gone
  try {
    if (job.kind === 'import_items' || job.kind === 'import_stock_counts') await runImport(ctx, p.tenantId, p.jobId, job);
    else await runExport(ctx, p.tenantId, p.jobId, job);
  } catch (err) {
    if (!(err instanceof BadCsv)) throw err;
    await failApiJob(ctx, p.tenantId, p.jobId, err.message);
  }
}

export async function failApiJob(ctx: Pick<AppContext, 'db'>, tenantId: string, jobId: string, message: string): Promise<void> {
  await ctx.db.query(
    `update api_jobs set status = 'failed', error = $3, input = null, finished_at = now() where tenant_id = $1 and id = $2 and status <> 'succeeded'`,
    [tenantId, jobId, message.slice(0, 1000)],
  );
}

// ---------------------------------------------------------------------------------------------
// CSV reading

interface CsvRow {
  line: number;
  fields: Record<string, string>;
}

/** Header + rows; throws BadCsv for anything that is not a readable CSV. */
export async function readCsv(input: string): Promise<{ header: string[]; rows: CsvRow[]; errors: RowError[] }> {
  // Fed in slices, so a big CSV is parsed a slice per turn of the event loop (the API may share it).
  const parser = Readable.from(slices(input)).pipe(
    parseCsv({ bom: true, skip_empty_lines: true, trim: true, info: true, relax_column_count: true, max_record_size: 64 * 1024 }),
  );
  let header: string[] | null = null;
  const rows: CsvRow[] = [];
  const errors: RowError[] = [];
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        header = r.record.map((h) => h.trim().toLowerCase());
        if (new Set(header).size !== header.length) throw new BadCsv('CSV header names a column twice');
        continue;
      }
      if (r.record.length !== header.length) {
        errors.push({ line: r.info.lines, message: `expected ${header.length} fields, found ${r.record.length}` });
        continue;
      }
      rows.push({ line: r.info.lines, fields: Object.fromEntries(header.map((h, i) => [h, r.record[i]!])) });
    }
  } catch (err) {
    if (err instanceof CsvError) throw new BadCsv(`CSV is not valid: ${err.message}`);
    throw err;
  }
  if (!header) throw new BadCsv('CSV is empty: expected a header line');
  return { header, rows, errors };
}

function* slices(s: string, size = 64 * 1024): Generator<string> {
  for (let i = 0; i < s.length; i += size) yield s.slice(i, i + size);
}

const INT = /^-?\d{1,10}$/;
function intField(v: string | undefined, name: string, min: number, max: number, errs: string[]): number | null {
  if (v === undefined || v === '') return null;
  if (!INT.test(v) || Number(v) < min || Number(v) > max) {
    errs.push(`${name} must be a whole number from ${min} to ${max}`);
    return null;
  }
  return Number(v);
}
function textField(v: string | undefined, name: string, min: number, max: number, errs: string[]): string | null {
  if (v === undefined || v === '') {
    if (min > 0) errs.push(`${name} is required`);
    return null;
  }
  if (v.length > max) errs.push(`${name} is longer than ${max} characters`);
  else if (v.includes('\u0000')) errs.push(`${name} must not contain NUL characters`);
  else return v;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Imports

interface ItemRow {
  line: number;
  sku: string;
  name: string;
  barcode: string | null;
  low_stock_threshold: number | null;
  buffer: number | null;
}
interface CountRow {
  line: number;
  item_id: string;
  location_id: string;
  counted_qty: number;
  note: string | null;
}

const ITEM_COLUMNS = ['sku', ...items.UPSERT_FIELDS];

function validateItems(header: string[], rows: CsvRow[], errors: RowError[]): ItemRow[] {
  for (const c of ['sku', 'name']) if (!header.includes(c)) throw new BadCsv(`CSV header must name the column ${c} (columns: ${ITEM_COLUMNS.join(', ')})`);
  const seen = new Map<string, number>();
  const out: ItemRow[] = [];
  for (const r of rows) {
    const errs: string[] = [];
    const f = r.fields;
    const sku = textField(f.sku, 'sku', 1, 100, errs);
    const name = textField(f.name, 'name', 1, 300, errs);
    const barcode = textField(f.barcode, 'barcode', 0, 100, errs);
    const low = intField(f.low_stock_threshold, 'low_stock_threshold', 0, MAX_QTY, errs);
    const buffer = intField(f.buffer, 'buffer', 0, MAX_QTY, errs);
    if (sku !== null) {
      const first = seen.get(sku);
      if (first !== undefined) errs.push(`sku ${sku} already appears on line ${first}`);
      else seen.set(sku, r.line);
    }
    if (errs.length) errors.push({ line: r.line, message: errs.join('; ') });
    else out.push({ line: r.line, sku: sku!, name: name!, barcode, low_stock_threshold: low, buffer });
  }
  return out;
}

async function validateCounts(q: Q, scope: Scope, header: string[], rows: CsvRow[], errors: RowError[], defaultLocation: string | null): Promise<CountRow[]> {
  if (!header.includes('sku') && !header.includes('item_id')) throw new BadCsv('CSV header must name the column sku or item_id');
  if (!header.includes('counted_qty')) throw new BadCsv('CSV header must name the column counted_qty');
  if (!header.includes('location_id') && !defaultLocation)
    throw new BadCsv('CSV header must name the column location_id (or send location_id with the request)');
  const skus = [...new Set(rows.map((r) => r.fields.sku).filter((s): s is string => !!s))];
  const ids = [...new Set(rows.map((r) => r.fields.item_id).filter((s): s is string => !!s))];
  const found = await items.findBySkuOrId(q, scope, { skus, ids });
  const bySku = new Map(found.map((i) => [i.sku, i.id]));
  const byId = new Set(found.map((i) => i.id));
  const kits = new Set(found.filter((i) => i.kit).map((i) => i.id));
  const locationIds = await locations.ids(q, scope);
  const seen = new Map<string, number>();
  const out: CountRow[] = [];
  for (const r of rows) {
    const errs: string[] = [];
    const f = r.fields;
    let itemId: string | null = null;
    if (f.item_id) {
      if (byId.has(f.item_id)) itemId = f.item_id;
      else errs.push(`item_id ${f.item_id.slice(0, 60)} is not an item of this account`);
    } else if (f.sku) {
      itemId = bySku.get(f.sku) ?? null;
      if (!itemId) errs.push(`sku ${f.sku.slice(0, 100)} is not an item of this account`);
    } else errs.push('sku (or item_id) is required');
    // The rule of POST /stock-counts (src/services/kits.ts), refused here row by row rather than failing a batch.
    if (itemId && kits.has(itemId))
      errs.push(`${f.item_id ? `item_id ${itemId}` : `sku ${f.sku!.slice(0, 100)}`} is a kit: it holds no stock of its own; count its components instead`);
    const locationId = f.location_id || defaultLocation;
    if (!locationId) errs.push('location_id is required');
    else if (!locationIds.has(locationId)) errs.push(`location_id ${locationId.slice(0, 60)} is not a location of this account`);
    const qty = intField(f.counted_qty, 'counted_qty', 0, MAX_QTY, errs);
    if (qty === null && !errs.some((e) => e.startsWith('counted_qty'))) errs.push('counted_qty is required');
    const note = textField(f.note, 'note', 0, 500, errs);
    if (itemId && locationId) {
      const key = `${itemId}|${locationId}`;
      const first = seen.get(key);
      if (first !== undefined) errs.push(`this item and location are already counted on line ${first}`);
      else if (!errs.length) seen.set(key, r.line);
    }
    if (errs.length) errors.push({ line: r.line, message: errs.join('; ') });
    else out.push({ line: r.line, item_id: itemId!, location_id: locationId!, counted_qty: qty!, note });
  }
  return out;
}

async function runImport(ctx: AppContext, tenantId: string, jobId: string, job: JobRow): Promise<void> {
  if (job.input === null) throw new BadCsv('The CSV of this job is gone');
  const { header, rows, errors } = await readCsv(job.input);
  const scope = jobScope(tenantId, jobId, job.created_by);
  const valid =
    job.kind === 'import_items'
      ? validateItems(header, rows, errors)
      : await validateCounts(ctx.db, scope, header, rows, errors, (job.params.location_id as string | undefined) ?? null);
  errors.sort((a, b) => a.line - b.line);
  const total = rows.length + errors.filter((e) => e.message.startsWith('expected ')).length;
  const ignored = header.filter((h) => !(job.kind === 'import_items' ? ITEM_COLUMNS : ['sku', 'item_id', 'location_id', 'counted_qty', 'note']).includes(h));
  await ctx.db.query(
    `update api_jobs set rows_total = $3, rows_failed = $4, errors = $5, rows_done = $4 + least($6::int * $7::int, $8::int) where tenant_id = $1 and id = $2`,
    [tenantId, jobId, total, errors.length, JSON.stringify(errors.slice(0, MAX_STORED_ERRORS)), job.batches_done, IMPORT_BATCH, valid.length],
  );
  // Counts so far, kept with each batch: a retried job goes on from those of its committed batches.
  const prior = job.batches_done > 0 ? job.result : null;
  let counts = { created: prior?.created ?? 0, updated: prior?.updated ?? 0, unchanged: prior?.unchanged ?? 0, movements: prior?.movements ?? 0 };
  for (let b = job.batches_done; b * IMPORT_BATCH < valid.length; b++) {
    const batch = valid.slice(b * IMPORT_BATCH, (b + 1) * IMPORT_BATCH);
    // withTx may run the callback again (serialization failure): counts change only once it committed.
    counts = await withTx(ctx.db, async (tx) => {
      const next = { ...counts };
      if (job.kind === 'import_items') {
        // Columns the CSV does not have keep their current values on an existing item.
        const fields = items.UPSERT_FIELDS.filter((c) => header.includes(c));
        const r = await items.upsertBySku(tx, scope, { fields, rows: batch as ItemRow[] });
        next.created += r.created;
        next.updated += r.updated;
        next.unchanged += batch.length - r.created - r.updated;
      } else {
        const r = await stock.countMany(
          tx,
          scope,
          (batch as CountRow[]).map((c) => ({
            item_id: c.item_id,
            location_id: c.location_id,
            counted_qty: c.counted_qty,
            note: c.note ?? `import ${jobId} line ${c.line}`,
          })),
        );
        next.movements += r.movements;
        next.unchanged += batch.length - r.movements;
      }
      await tx.query(`update api_jobs set rows_done = rows_done + $3, batches_done = batches_done + 1, result = $4 where tenant_id = $1 and id = $2`, [
        tenantId,
        jobId,
        batch.length,
        next,
      ]);
      return next;
    });
  }
  const result =
    job.kind === 'import_items'
      ? {
          rows: total,
          applied: valid.length,
          failed: errors.length,
          created: counts.created,
          updated: counts.updated,
          unchanged: counts.unchanged,
          batch_size: IMPORT_BATCH,
          ignored_columns: ignored,
        }
      : {
          rows: total,
          applied: valid.length,
          failed: errors.length,
          movements: counts.movements,
          unchanged: counts.unchanged,
          batch_size: IMPORT_BATCH,
          ignored_columns: ignored,
        };
  await withTx(ctx.db, async (tx) => {
    let chunks = 0;
    await tx.query(`delete from api_job_chunks where tenant_id = $1 and job_id = $2`, [tenantId, jobId]);
    for (let i = 0; i < errors.length; i += EXPORT_PAGE) {
      const part = errors.slice(i, i + EXPORT_PAGE).map((e) => [e.line, e.message]);
      await insertChunk(
        tx,
        tenantId,
        jobId,
        chunks++,
        stringify(part, { header: i === 0, columns: i === 0 ? ['line', 'error'] : undefined, escape_formulas: true }),
      );
    }
    await tx.query(
      `update api_jobs set status = 'succeeded', result = $3, input = null, file_chunks = $4, finished_at = now() where tenant_id = $1 and id = $2`,
      [tenantId, jobId, result, chunks],
    );
  });
}

// ---------------------------------------------------------------------------------------------
// Exports

interface ExportDef {
  columns: string[];
  count: string;
  /** $1 tenant, $2 key after which to read (null first), $3 limit, $4.. filters. */
  page: string;
  key: (row: Record<string, unknown>) => unknown;
  filters: (p: Record<string, unknown>) => unknown[];
}

const EXPORTS: Record<'export_items' | 'export_stock_levels' | 'export_movements', ExportDef> = {
  export_items: {
    columns: ['id', 'sku', 'name', 'barcode', 'low_stock_threshold', 'buffer', 'on_hand', 'reserved', 'created_at', 'updated_at'],
    count: `select count(*)::int as n from items where tenant_id = $1`,
    page: `select i.id, i.sku, i.name, i.barcode, i.low_stock_threshold, i.buffer,
             coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as on_hand,
             coalesce((select sum(s.reserved) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int as reserved,
             i.created_at, i.updated_at
           from items i where i.tenant_id = $1 and ($2::text is null or i.id > $2) order by i.id limit $3`,
    key: (r) => r.id,
    filters: () => [],
  },
  export_stock_levels: {
    columns: ['item_id', 'sku', 'item_name', 'location_id', 'location_name', 'on_hand', 'reserved', 'available', 'updated_at'],
    count: `select count(*)::int as n from stock_levels where tenant_id = $1 and ($2::text is null or location_id = $2)`,
    page: `select s.item_id, i.sku, i.name as item_name, s.location_id, l.name as location_name, s.on_hand, s.reserved, s.on_hand - s.reserved as available, s.updated_at
           from stock_levels s join items i on i.tenant_id = s.tenant_id and i.id = s.item_id join locations l on l.tenant_id = s.tenant_id and l.id = s.location_id
           where s.tenant_id = $1 and ($2::text is null or s.item_id || '|' || s.location_id > $2) and ($4::text is null or s.location_id = $4)
           order by s.item_id || '|' || s.location_id limit $3`,
    key: (r) => `${r.item_id}|${r.location_id}`,
    filters: (p) => [p.location_id ?? null],
  },
  export_movements: {
    columns: ['id', 'created_at', 'item_id', 'sku', 'location_id', 'qty_delta', 'reason', 'source_channel_id', 'source_event_id', 'source_user_id', 'note'],
    count: `select count(*)::int as n from stock_movements where tenant_id = $1 and ($2::text is null or item_id = $2) and ($3::text is null or location_id = $3)
            and ($4::timestamptz is null or created_at >= $4) and ($5::timestamptz is null or created_at < $5)`,
    page: `select m.id, m.created_at, m.item_id, i.sku, m.location_id, m.qty_delta, m.reason, m.source_channel_id, m.source_event_id, m.source_user_id, m.note
           from stock_movements m join items i on i.tenant_id = m.tenant_id and i.id = m.item_id
           where m.tenant_id = $1 and ($2::bigint is null or m.id > $2) and ($4::text is null or m.item_id = $4) and ($5::text is null or m.location_id = $5)
             and ($6::timestamptz is null or m.created_at >= $6) and ($7::timestamptz is null or m.created_at < $7)
           order by m.id limit $3`,
    key: (r) => r.id,
    filters: (p) => [p.item_id ?? null, p.location_id ?? null, p.since ?? null, p.until ?? null],
  },
};

async function runExport(ctx: AppContext, tenantId: string, jobId: string, job: JobRow): Promise<void> {
  const def = EXPORTS[job.kind as keyof typeof EXPORTS];
  const filters = def.filters(job.params);
  const { rows: c } = await ctx.db.query<{ n: number }>(def.count, [tenantId, ...filters]);
  await ctx.db.query(`delete from api_job_chunks where tenant_id = $1 and job_id = $2`, [tenantId, jobId]);
  await ctx.db.query(`update api_jobs set rows_total = $3, rows_done = 0 where tenant_id = $1 and id = $2`, [tenantId, jobId, c[0]!.n]);
  let after: unknown = null;
  let seq = 0;
  let done = 0;
  for (;;) {
    const { rows } = await ctx.db.query(def.page, [tenantId, after, EXPORT_PAGE, ...filters]);
    const data = stringify(
      rows.map((r) => def.columns.map((k) => (r[k] instanceof Date ? (r[k] as Date).toISOString() : r[k]))),
      { header: seq === 0, columns: seq === 0 ? def.columns : undefined, escape_formulas: true },
    );
    if (data || seq === 0) await insertChunk(ctx.db, tenantId, jobId, seq++, data || stringify([], { header: true, columns: def.columns }));
    done += rows.length;
    await ctx.db.query(`update api_jobs set rows_done = $3, file_chunks = $4 where tenant_id = $1 and id = $2`, [tenantId, jobId, done, seq]);
    if (rows.length < EXPORT_PAGE) break;
    after = def.key(rows[rows.length - 1]!);
  }
  await ctx.db.query(`update api_jobs set status = 'succeeded', result = $3, finished_at = now() where tenant_id = $1 and id = $2`, [
    tenantId,
    jobId,
    { rows: done },
  ]);
}

async function insertChunk(q: Q, tenantId: string, jobId: string, seq: number, data: string): Promise<void> {
  await q.query(`insert into api_job_chunks (tenant_id, job_id, seq, data) values ($1, $2, $3, $4)`, [tenantId, jobId, seq, data]);
}
