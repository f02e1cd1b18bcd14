// Jobs for long work (issue 4 point 8), through real HTTP and a real worker: CSV imports of items
// and stock counts (per-row errors by line, valid rows applied per batch, counts through the
// ledger), CSV exports streamed from the job's download link, bad CSV failing the job (never the
// POST), idempotent POSTs, and a batch that fails rolling back whole and resuming on retry.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMPORT_BATCH } from '../../src/engine/api-jobs.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, type Call } from './support.ts';

let h: Harness;
let call: Call;
let token: string;
let loc: string;

beforeAll(async () => {
  h = await startHarness();
  const t = await registerTenant(h.url, 'Jobs Co');
  token = t.token;
  loc = t.locationId;
  call = client(h.url, token);
});

afterAll(async () => {
  await h?.stop();
});

/** Polls the job until it has finished; returns its final view. */
async function finished(id: string, timeoutMs = 30_000): Promise<any> {
  let job: any;
  await eventually(
    async () => {
      job = (await call('GET', `/jobs/${id}`)).body;
      return job.status === 'succeeded' || job.status === 'failed';
    },
    timeoutMs,
    `job ${id}`,
  );
  return job;
}

async function start(path: string, body: unknown, headers?: Record<string, string>): Promise<string> {
  const r = await call('POST', path, body, headers);
  expect(r.status, JSON.stringify(r.body)).toBe(202);
  expect(r.headers.get('location')).toBe(`/api/v1/jobs/${r.body.id}`);
  expect(r.body.status).toBe('queued');
  return r.body.id;
}

async function download(url: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('CSV import of items', () => {
  it('validates every row, reports bad rows by line, applies the good ones', async () => {
    const csv = [
      'sku,name,barcode,low_stock_threshold,buffer,colour',
      'TEA,Tea,5000,3,,green',
      'COF,"Coffee, ground",,x,,brown', // line 3: bad threshold
      ',No sku,,,,', // line 4: no sku
      '"CAKE","Cake with a ""quote""\nand a newline",,,2,', // lines 5-6
      'TEA,Tea again,,,,', // line 7: duplicate sku
      'JAM,Jam', // line 8: wrong field count
      'BUN,Bun,,0,1,',
    ].join('\n');
    const id = await start('/imports/items', { csv });
    const job = await finished(id);
    expect(job.status).toBe('succeeded');
    expect(job.progress).toEqual({ rows_total: 7, rows_done: 7, rows_failed: 4 });
    expect(job.result).toMatchObject({ rows: 7, applied: 3, failed: 4, created: 3, updated: 0, batch_size: IMPORT_BATCH, ignored_columns: ['colour'] });
    expect(job.errors.map((e: { line: number }) => e.line)).toEqual([3, 4, 7, 8]);
    expect(job.errors[0].message).toMatch(/low_stock_threshold must be a whole number/);
    expect(job.errors[1].message).toMatch(/sku is required/);
    expect(job.errors[2].message).toMatch(/already appears on line 2/);
    expect(job.errors[3].message).toMatch(/expected 6 fields, found 2/);
    const items = (await call('GET', '/items?limit=100')).body.data;
    expect(items.map((i: { sku: string }) => i.sku).sort()).toEqual(['BUN', 'CAKE', 'TEA']);
    expect(items.find((i: { sku: string }) => i.sku === 'CAKE').name).toBe('Cake with a "quote"\nand a newline');
    expect(items.find((i: { sku: string }) => i.sku === 'TEA')).toMatchObject({ barcode: '5000', low_stock_threshold: 3, buffer: null });

    // The error report: every refused row, by line.
    const report = await download(job.download_url);
    expect(report.status).toBe(200);
    expect(report.type).toMatch(/^text\/csv/);
    const rows = parse(report.text, { columns: true }) as Array<{ line: string; error: string }>;
    expect(rows.map((r) => Number(r.line))).toEqual([3, 4, 7, 8]);

    // Importing again updates existing SKUs (only the columns given) and leaves equal ones alone.
    const again = await finished(await start('/imports/items', { csv: 'sku,name\nTEA,Green tea\nBUN,Bun\nPIE,Pie' }));
    expect(again.result).toMatchObject({ created: 1, updated: 1, unchanged: 1, failed: 0 });
    expect(again.download_url).toBeNull();
    const tea = (await call('GET', '/items?q=TEA')).body.data[0];
    expect(tea).toMatchObject({ name: 'Green tea', barcode: '5000', low_stock_threshold: 3, version: 2 });
  });

  it('applies valid rows per batch: a batch that fails rolls back whole, and the retry resumes after the committed batches', async () => {
    const t = await registerTenant(h.url, 'Batch Co');
    const c = client(h.url, t.token);
    const n = IMPORT_BATCH * 2 + 500;
    const lines = ['sku,name'];
    for (let i = 0; i < n; i++) lines.push(`B${String(i).padStart(5, '0')},Item ${i}`);
    // The second batch's 500th row trips a trigger on the first attempt only.
    const db = h.testDb.db;
    await db.query(`create table boom (armed boolean)`);
    await db.query(`insert into boom values (true)`);
    await db.query(`create function boom() returns trigger language plpgsql as $$
      begin if new.sku = 'B01499' and (select armed from boom) then update boom set armed = false; raise exception 'boom'; end if; return new; end $$`);
    // The disarming update rolls back with the failing batch: disarm from outside once it failed.
    await db.query(`create trigger boom before insert on items for each row execute function boom()`);
    try {
      const r = await c('POST', '/imports/items', { csv: lines.join('\n') });
      expect(r.status).toBe(202);
      const id = r.body.id;
      await eventually(
        async () => {
          // graphile-worker counts an attempt when it starts one: wait for the first one's error.
          const { rows } = await db.query(
            `select last_error from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id where t.identifier = 'api_job' and j.payload->>'jobId' = $1`,
            [id],
          );
          return typeof rows[0]?.last_error === 'string' && rows[0].last_error.includes('boom');
        },
        30_000,
        'first attempt failed',
      );
      const mid = (await c('GET', `/jobs/${id}`)).body;
      expect(mid.status).toBe('running');
      expect(mid.progress.rows_done).toBe(IMPORT_BATCH); // batch 1 committed, none of batch 2
      const { rows: counted } = await db.query(`select count(*)::int as n from items where tenant_id = $1`, [t.tenantId]);
      expect(counted[0].n).toBe(IMPORT_BATCH);
      await db.query(`update boom set armed = false`);
      const job = await (async () => {
        let j: any;
        await eventually(async () => (j = (await c('GET', `/jobs/${id}`)).body).status === 'succeeded', 60_000, 'retry');
        return j;
      })();
      expect(job.progress).toEqual({ rows_total: n, rows_done: n, rows_failed: 0 });
      // The counts span both runs: the first run's committed batch and the retry's.
      expect(job.result).toMatchObject({ applied: n, created: n, updated: 0 });
      const { rows: after } = await db.query(`select count(*)::int as n, count(distinct sku)::int as d from items where tenant_id = $1`, [t.tenantId]);
      expect(after[0]).toEqual({ n, d: n });
    } finally {
      await db.query(`drop trigger if exists boom on items; drop function if exists boom(); drop table if exists boom`);
    }
  }, 90_000);
});

describe('CSV import of stock counts', () => {
  it('sets on hand through count movements in the ledger; bad rows are reported', async () => {
    const soup = (await call('POST', '/items', { sku: 'SOUP', name: 'Soup' })).body.id;
    const salt = (await call('POST', '/items', { sku: 'SALT', name: 'Salt' })).body.id;
    await call('POST', '/items', { sku: 'OIL', name: 'Oil' });
    const loc2 = (await call('POST', '/locations', { name: 'Kitchen' })).body.id;
    expect((await call('POST', '/adjustments', { item_id: soup, location_id: loc, qty_delta: 8, reason: 'receipt' })).status).toBe(201);
    expect((await call('POST', '/adjustments', { item_id: salt, location_id: loc, qty_delta: 4, reason: 'receipt' })).status).toBe(201);
    const csv = [
      'sku,location_id,counted_qty,note',
      `SOUP,${loc},5,shelf count`, // 8 -> 5: -3
      `SALT,${loc},4,`, // equal: no movement
      `SOUP,${loc2},7,`, // no level yet: +7
      `NOPE,${loc},1,`, // unknown sku
      `OIL,loc_${'0'.repeat(31)}1,1,`, // unknown location
      `OIL,${loc},-2,`, // negative
      `SALT,${loc},9,`, // counted twice
      `OIL,,3,`, // default location from the body
    ].join('\r\n');
    const job = await finished(await start('/imports/stock-counts', { csv, location_id: loc }));
    expect(job.status).toBe('succeeded');
    expect(job.result).toMatchObject({ rows: 8, applied: 4, failed: 4, movements: 3, unchanged: 1 });
    expect(job.errors.map((e: { line: number; message: string }) => [e.line, e.message.split(' ')[0]])).toEqual([
      [5, 'sku'],
      [6, 'location_id'],
      [7, 'counted_qty'],
      [8, 'this'],
    ]);
    const level = async (item: string, l: string) => (await call('GET', `/stock-levels/${item}/${l}`)).body.on_hand;
    expect(await level(soup, loc)).toBe(5);
    expect(await level(salt, loc)).toBe(4);
    expect(await level(soup, loc2)).toBe(7);
    const counts = (await call('GET', '/movements?reason=count')).body.data;
    expect(counts.map((m: { qty_delta: number }) => m.qty_delta).sort()).toEqual([-3, 3, 7]);
    expect(counts.find((m: { qty_delta: number }) => m.qty_delta === -3).note).toBe('shelf count');
    expect(await verifyLedger(h.testDb.db)).toEqual([]);
    // Counting the same again changes nothing: a count sets, it does not add.
    const again = await finished(await start('/imports/stock-counts', { csv: `item_id,location_id,counted_qty\n${soup},${loc},5` }));
    expect(again.result).toMatchObject({ applied: 1, movements: 0, unchanged: 1 });
    expect(await level(soup, loc)).toBe(5);
  });

  it('refuses a count of a kit row by row, as POST /stock-counts does (a kit holds no stock of its own)', async () => {
    const bread = (await call('POST', '/items', { sku: 'BREAD', name: 'Bread' })).body.id;
    const kit = (await call('POST', '/items', { sku: 'PICNIC', name: 'Picnic', components: [{ item_id: bread, qty: 1 }] })).body.id;
    const csv = ['sku,item_id,location_id,counted_qty', `PICNIC,,${loc},2`, `,${kit},${loc},2`, `BREAD,,${loc},3`].join('\n');
    const job = await finished(await start('/imports/stock-counts', { csv }));
    expect(job.result).toMatchObject({ rows: 3, applied: 1, failed: 2, movements: 1 });
    expect(job.errors).toEqual([
      { line: 2, message: 'sku PICNIC is a kit: it holds no stock of its own; count its components instead' },
      { line: 3, message: `item_id ${kit} is a kit: it holds no stock of its own; count its components instead` },
    ]);
    expect((await call('GET', `/movements?item_id=${kit}`)).body.data).toEqual([]);
  });
});

describe('bad input', () => {
  it('an unreadable CSV fails the job with a clear error and applies nothing; the POST itself is a 202', async () => {
    const before = (await call('GET', '/items?limit=100')).body.data.length;
    for (const [csv, msg] of [
      ['sku,name\nGOOD,Good\n"BAD,Unclosed', /CSV is not valid/],
      ['sku,name\nA,"x"y', /CSV is not valid/],
      ['name,barcode\nA,1', /must name the column sku/],
      ['sku,sku,name\nA,A,B', /column twice/],
      ['\n\n', /CSV is empty/],
    ] as const) {
      const job = await finished(await start('/imports/items', { csv }));
      expect(job.status, csv).toBe('failed');
      expect(job.error).toMatch(msg);
      expect(job.download_url).toBeNull();
      expectError(await call('GET', `/jobs/${job.id}/download`), 404, 'not_found');
    }
    const counts = await finished(await start('/imports/stock-counts', { csv: 'sku,counted_qty\nSOUP,1' }));
    expect(counts.error).toMatch(/location_id/);
    expect((await call('GET', '/items?limit=100')).body.data.length).toBe(before);
  });

  it('refuses bad bodies with a structured 400/413 and creates no job', async () => {
    const { rows: before } = await h.testDb.db.query(`select count(*)::int as n from api_jobs`);
    expectInvalid(await call('POST', '/imports/items', {}), 'csv');
    expectInvalid(await call('POST', '/imports/items', { csv: '' }), 'csv');
    expectInvalid(await call('POST', '/imports/items', { csv: 5 }), 'csv');
    expectInvalid(await call('POST', '/imports/items', { csv: 'sku,name', extra: 1 }));
    expectInvalid(await call('POST', '/imports/stock-counts', { csv: 'a', location_id: 'nope' }), 'location_id');
    expectInvalid(await call('POST', '/exports/movements', { since: 'yesterday' }), 'since');
    const huge = await call('POST', '/imports/items', { csv: 'x'.repeat(16 * 1024 * 1024 + 1) });
    expect([400, 413]).toContain(huge.status);
    const { rows: after } = await h.testDb.db.query(`select count(*)::int as n from api_jobs`);
    expect(after[0].n).toBe(before[0].n);
    expectError(await call('GET', `/jobs/job_${'0'.repeat(31)}1`), 404, 'not_found');
    expectError(await call('GET', '/jobs/nope'), 404, 'not_found');
  });

  it('the same POST with one Idempotency-Key makes one job', async () => {
    const { rows: before } = await h.testDb.db.query(`select count(*)::int as n from api_jobs`);
    const body = { csv: 'sku,name\nIDEM,Idem' };
    const rs = await Promise.all(Array.from({ length: 5 }, () => call('POST', '/imports/items', body, { 'idempotency-key': 'import-1' })));
    const ok = rs.filter((r) => r.status === 202);
    expect(ok.length).toBeGreaterThan(0);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
    for (const r of rs.filter((r) => r.status !== 202)) expectError(r, 409, 'idempotency_key_in_use');
    const replay = await call('POST', '/imports/items', body, { 'idempotency-key': 'import-1' });
    expect(replay.status).toBe(202);
    expect(replay.body.id).toBe(ok[0]!.body.id);
    expect(replay.headers.get('location')).toBe(`/api/v1/jobs/${ok[0]!.body.id}`);
    const { rows: after } = await h.testDb.db.query(`select count(*)::int as n from api_jobs`);
    expect(after[0].n).toBe(before[0].n + 1);
    expect((await finished(replay.body.id)).result).toMatchObject({ created: 1 });
  });
});

describe('CSV exports', () => {
  it('exports items, stock levels and movements, downloaded as streamed CSV', async () => {
    const items = (await call('GET', '/items?limit=200')).body.data;
    const ex = await finished(await start('/exports/items', {}));
    expect(ex).toMatchObject({
      status: 'succeeded',
      result: { rows: items.length },
      progress: { rows_total: items.length, rows_done: items.length, rows_failed: 0 },
    });
    const file = await download(ex.download_url);
    expect(file.type).toMatch(/^text\/csv/);
    const rows = parse(file.text, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.id)).toEqual(items.map((i: { id: string }) => i.id));
    expect(rows.find((r) => r.sku === 'CAKE')!.name).toBe('Cake with a "quote"\nand a newline');
    expect(Object.keys(rows[0]!)).toEqual(['id', 'sku', 'name', 'barcode', 'low_stock_threshold', 'buffer', 'on_hand', 'reserved', 'created_at', 'updated_at']);

    const levels = (await call('GET', '/stock-levels?limit=200')).body.data;
    const lv = await finished(await start('/exports/stock-levels', {}));
    const lrows = parse((await download(lv.download_url)).text, { columns: true }) as Array<Record<string, string>>;
    expect(lrows.map((r) => [r.item_id, r.location_id, Number(r.on_hand)])).toEqual(levels.map((l: any) => [l.item_id, l.location_id, l.on_hand]));
    const here = await finished(await start('/exports/stock-levels', { location_id: loc }));
    const hrows = parse((await download(here.download_url)).text, { columns: true }) as Array<Record<string, string>>;
    expect(hrows.length).toBeGreaterThan(0);
    expect(hrows.every((r) => r.location_id === loc)).toBe(true);

    const movements = (await call('GET', '/movements?limit=200')).body.data;
    const mv = await finished(await start('/exports/movements', {}));
    const mrows = parse((await download(mv.download_url)).text, { columns: true }) as Array<Record<string, string>>;
    expect(mrows.map((r) => Number(r.id))).toEqual(movements.map((m: { id: number }) => m.id).reverse());
    const future = await finished(await start('/exports/movements', { since: new Date(Date.now() + 86_400_000).toISOString() }));
    const empty = await download(future.download_url);
    expect(empty.text.trim()).toBe('id,created_at,item_id,sku,location_id,qty_delta,reason,source_channel_id,source_event_id,source_user_id,note');

    const list = (await call('GET', '/jobs?kind=export_movements')).body.data;
    expect(list.map((j: { id: string }) => j.id)).toEqual([future.id, mv.id]);
  });

  it('escapes cells that a spreadsheet would run as formulas', async () => {
    await call('POST', '/items', { sku: 'FORMULA', name: '=HYPERLINK("http://evil")' });
    const ex = await finished(await start('/exports/items', {}));
    const rows = parse((await download(ex.download_url)).text, { columns: true }) as Array<Record<string, string>>;
    expect(rows.find((r) => r.sku === 'FORMULA')!.name!.startsWith('=')).toBe(false);
  });
});
