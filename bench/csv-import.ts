// `bench csv-import --rows N`: the jobs API's CSV imports end to end over HTTP, with the worker on.
// An items import of N rows (1% bad: every 100th row has no name), then a stock-count import of N
// rows against those items (1% bad: unknown SKUs); each POSTed as one JSON body, then its job polled
// every 200 ms until it finished. Reports wall time from POST to finished, rows/s, how many distinct
// intermediate progress values the polls saw (progress visible while it runs), and the counts.
import { IMPORT_BATCH } from '../src/engine/api-jobs.ts';
import { progress, sleep, startBenchEnv } from './env.ts';

async function call(base: string, token: string | null, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}/api/v1${p}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${p} -> ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

async function runJob(base: string, token: string, path: string, body: unknown) {
  const started = Date.now();
  const job = await call(base, token, 'POST', path, body);
  const acceptedMs = Date.now() - started;
  const seen = new Set<number>();
  let last: any;
  for (;;) {
    last = await call(base, token, 'GET', `/jobs/${job.id}`);
    if (last.status === 'succeeded' || last.status === 'failed') break;
    if (last.progress.rows_total && last.progress.rows_done < last.progress.rows_total) seen.add(last.progress.rows_done);
    await sleep(200);
  }
  const ms = Date.now() - started;
  return {
    status: last.status,
    error: last.error,
    post_202_ms: acceptedMs,
    total_ms: ms,
    rows_per_s: Math.round((last.progress.rows_total / ms) * 1000),
    progress_values_seen_while_running: seen.size,
    result: last.result,
    errors_reported: last.progress.rows_failed,
    first_error: last.errors[0],
  };
}

export async function benchCsvImport(opts: { rows: number }): Promise<Record<string, unknown>> {
  const env = await startBenchEnv();
  try {
    const base = env.sc.url!;
    const reg = await call(base, null, 'POST', '/auth/register', {
      business_name: 'CSV bench',
      email: `bench${Date.now()}@example.com`,
      password: 'correct-horse-9',
    });
    const token = reg.token as string;
    const loc = reg.location.id as string;
    const items = ['sku,name,barcode,low_stock_threshold'];
    for (let i = 0; i < opts.rows; i++) items.push(`SKU-${String(i).padStart(6, '0')},${i % 100 === 99 ? '' : `Item ${i}`},${5_000_000 + i},${i % 7}`);
    progress(`items import: ${opts.rows} rows, ${items.join('\n').length} chars`);
    const itemsRun = await runJob(base, token, '/imports/items', { csv: items.join('\n') });
    progress(`items import: ${JSON.stringify(itemsRun)}`);
    const counts = ['sku,counted_qty'];
    for (let i = 0; i < opts.rows; i++) counts.push(`${i % 100 === 42 ? 'NOPE' : 'SKU'}-${String(i).padStart(6, '0')},${(i * 7) % 50}`);
    const countsRun = await runJob(base, token, '/imports/stock-counts', { csv: counts.join('\n'), location_id: loc });
    progress(`counts import: ${JSON.stringify(countsRun)}`);
    return { rows: opts.rows, batch_size: IMPORT_BATCH, items_import: itemsRun, stock_counts_import: countsRun, db: env.db.kind };
  } finally {
    await env.stop();
  }
}
