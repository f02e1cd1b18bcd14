// `bench ledger`: movements/s through the ledger module (one per call, and 100 per call) next to
// the raw-SQL ceiling for the same inserts + level upserts, all in one run on one database.
// One tenant, 1,000 items listed on 3 connected channels (rows inserted directly); workers are
// off, so the pushes the ledger enqueues just wait in the queue. With --tenant-tx the ledger's
// phases run the way an API write runs them: in `tenantTx`, as the app role under row-level security.
import { withTx, type Db } from '../src/db/pool.ts';
import { tenantTx } from '../src/db/tenant-tx.ts';
import { createItems, createTenant } from '../src/db/tenants.ts';
import { newId } from '../src/domain/ids.ts';
import { applyMovements, recordMovements, type MovementInput } from '../src/ledger/ledger.ts';
import { progress, startBenchEnv } from './env.ts';
import { whole } from './stats.ts';

const ITEMS = 1_000;
const BATCH = 100;

export interface LedgerOptions {
  seconds: number;
  concurrency: number;
  /** Run the ledger's phases in tenantTx (RLS) instead of withTx (the system path). */
  tenantTx?: boolean;
}

/** The ledger's own movement insert + level upsert, as one set-based statement, without its extras. */
const RAW_SQL = `
with input as (
  select * from jsonb_to_recordset($2::jsonb) as x(
    item_id text, location_id text, qty_delta int, reason text,
    source_channel_id text, source_event_id text, source_user_id text, note text)
), agg as (
  select item_id, location_id, sum(qty_delta)::int as delta from input group by 1, 2
), lv as (
  insert into stock_levels as l (tenant_id, item_id, location_id, on_hand, reserved, updated_at)
  select $1, item_id, location_id, delta, 0, now() from agg
  order by item_id, location_id
  on conflict (tenant_id, item_id, location_id)
  do update set on_hand = l.on_hand + excluded.on_hand, updated_at = excluded.updated_at
  returning 1
)
insert into stock_movements (tenant_id, item_id, location_id, qty_delta, reason,
                             source_channel_id, source_event_id, source_user_id, note)
select $1, item_id, location_id, qty_delta, reason, source_channel_id, source_event_id, source_user_id, note
from input`;

interface Fixture {
  tenantId: string;
  locationId: string;
  itemIds: string[];
}

async function seed(db: Db, sealer: { seal(v: unknown): string }): Promise<Fixture> {
  const t = await withTx(db, (tx) => createTenant(tx, { name: 'Bench ledger' }));
  const itemIds = await createItems(
    db,
    t.tenantId,
    Array.from({ length: ITEMS }, (_, i) => ({ sku: `SKU-${String(i).padStart(5, '0')}`, name: `Item ${i}` })),
  );
  for (const type of ['eposnow', 'wix', 'deliveroo']) {
    const channelId = newId('ch');
    await db.query(`insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, $3, $4, $5, $6, $7)`, [
      t.tenantId,
      channelId,
      type,
      `${type} (bench)`,
      'http://127.0.0.1:9',
      sealer.seal({}),
      { location_ids: [t.locationId] },
    ]);
    await db.query(
      `insert into listings (tenant_id, id, channel_id, item_id, external_id, external_sku, name, state, dirty_seq, pushed_seq, last_seen_qty, last_pushed_qty)
       select $1, x.id, $2, x.item_id, x.external_id, x.sku, x.sku, 'in_sync', 1, 1, 1000000, 1000000
       from jsonb_to_recordset($3::jsonb) as x(id text, item_id text, external_id text, sku text)`,
      [
        t.tenantId,
        channelId,
        JSON.stringify(itemIds.map((id, i) => ({ id: newId('lst'), item_id: id, external_id: `${type}-${i}`, sku: `SKU-${String(i).padStart(5, '0')}` }))),
      ],
    );
  }
  // Opening stock, large enough that sales never reach zero.
  await recordMovements(
    db,
    t.tenantId,
    itemIds.map((itemId) => ({ itemId, locationId: t.locationId, qtyDelta: 1_000_000, reason: 'receipt' as const })),
  );
  return { tenantId: t.tenantId, locationId: t.locationId, itemIds };
}

function movements(f: Fixture, n: number): MovementInput[] {
  return Array.from({ length: n }, () => ({
    itemId: f.itemIds[Math.floor(Math.random() * f.itemIds.length)]!,
    locationId: f.locationId,
    qtyDelta: -1,
    reason: 'sale' as const,
    sourceEventId: 'bench',
  }));
}

function rawRows(ms: MovementInput[]): string {
  return JSON.stringify(
    ms.map((m) => ({
      item_id: m.itemId,
      location_id: m.locationId,
      qty_delta: m.qtyDelta,
      reason: m.reason,
      source_channel_id: null,
      source_event_id: m.sourceEventId ?? null,
      source_user_id: null,
      note: null,
    })),
  );
}

interface PhaseResult {
  perSecond: number;
  calls: number;
  errors: number;
  meanCallMs: number;
}

/** Runs `op` back to back on `concurrency` connections for `seconds`; counts movements done. */
async function phase(name: string, seconds: number, concurrency: number, perCall: number, op: () => Promise<void>): Promise<PhaseResult> {
  // A short warm-up so the first connections and plans are not in the measurement.
  const warmEnd = Date.now() + 500;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < warmEnd) await op().catch(() => {});
    }),
  );
  let calls = 0;
  let errors = 0;
  let busyMs = 0;
  const firstErrors: string[] = [];
  const started = performance.now();
  const end = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await op();
          calls++;
        } catch (err) {
          errors++;
          if (firstErrors.length < 3) firstErrors.push((err as Error).message);
        }
        busyMs += performance.now() - t0;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const r = { perSecond: (calls * perCall) / elapsed, calls, errors, meanCallMs: busyMs / Math.max(1, calls + errors) };
  progress(
    `${name}: ${whole(r.perSecond)} movements/s (${calls} calls, ${errors} errors, ${r.meanCallMs.toFixed(2)} ms/call)${firstErrors.length ? ' first errors: ' + firstErrors.join(' | ') : ''}`,
  );
  return r;
}

export async function benchLedger(o: LedgerOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ api: false, worker: false, poolSize: o.concurrency + 2 });
  try {
    const db = env.sc.ctx.db;
    const f = await seed(db, env.sc.ctx.sealer);
    const record = (ms: MovementInput[]) =>
      o.tenantTx ? tenantTx(db, f.tenantId, (tx) => applyMovements(tx, f.tenantId, ms)) : recordMovements(db, f.tenantId, ms);
    progress(`seeded 1 tenant, ${ITEMS} items, 3 channels x ${ITEMS} listings; ${o.concurrency} connections, ${o.seconds} s per phase`);

    // Planner statistics and a clean heap, as autovacuum keeps them in production; again before each
    // phase so no phase pays for the dead rows an earlier one left.
    const settle = () => db.query('vacuum analyze');
    await settle();
    const single = await phase('single (1 movement / recordMovements call)', o.seconds, o.concurrency, 1, async () => {
      await record(movements(f, 1));
    });
    await settle();
    const batched = await phase(`batched (${BATCH} movements / recordMovements call)`, o.seconds, o.concurrency, BATCH, async () => {
      await record(movements(f, BATCH));
    });
    await settle();
    const raw = await phase(`raw SQL ceiling (${BATCH} movements / transaction, inserts + level upserts only)`, o.seconds, o.concurrency, BATCH, async () => {
      const rows = rawRows(movements(f, BATCH));
      await withTx(db, (tx) => tx.query(RAW_SQL, [f.tenantId, rows]));
    });

    // The ledger must still hold after all that.
    const { rows } = await db.query<{ bad: number }>(
      `select count(*)::int as bad from stock_levels l
       where l.tenant_id = $1 and l.on_hand <> (select coalesce(sum(m.qty_delta), 0) from stock_movements m
                                               where m.tenant_id = l.tenant_id and m.item_id = l.item_id and m.location_id = l.location_id)`,
      [f.tenantId],
    );
    const { rows: q } = await db.query<{ jobs: number }>(`select count(*)::int as jobs from graphile_worker._private_jobs`);
    return {
      movements_per_s: whole(single.perSecond),
      batched_movements_per_s: whole(batched.perSecond),
      raw_sql_movements_per_s: whole(raw.perSecond),
      batched_vs_raw: Math.round((batched.perSecond / raw.perSecond) * 100) / 100,
      concurrency: o.concurrency,
      batch: BATCH,
      seconds_per_phase: o.seconds,
      errors: single.errors + batched.errors + raw.errors,
      ms_per_call: { single: round2(single.meanCallMs), batched: round2(batched.meanCallMs), raw: round2(raw.meanCallMs) },
      level_mismatches: rows[0]!.bad,
      queued_jobs: q[0]!.jobs,
      path: o.tenantTx ? 'tenantTx (RLS)' : 'withTx (system)',
      db: env.db.kind,
    };
  } finally {
    await env.stop();
  }
}

const round2 = (v: number) => Math.round(v * 100) / 100;
