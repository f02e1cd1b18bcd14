// `bench guardian --listings N [--tenants T] [--drift S] [--types eposnow,...]`: the Guardian over
// N listings in all, spread over T tenants (default N / 1000), each with one emulated till (Epos
// Now: sales are orders, budget 5 calls/s with a burst of 40) or the channel types given. After
// setup and the first pushes have settled, a share S of the listings (default 1%) drifts on the
// platform without any event (the merchant's hand edit on the till; with other --types it goes
// through that emulator's setLevel, which may announce it), and a Guardian run is enqueued for every
// tenant at once, as the scheduler enqueues them when they fall due: guardian_run jobs that the
// product's workers take (WORKER_CONCURRENCY at a time; one queue per tenant). Measured: wall
// seconds from the enqueue until every tenant's run has finished (guardian_runs.finished_at).
//
// StockClerk runs as `stockclerk start` in a process of its own; the emulators run here, as the
// platforms do. Last stdout line (interface for outside checks): {listings, tenants, seconds, ...}.
import type { EmulatedChannelType as ChannelType } from '../src/channels/registry.ts';
import { guardianJob } from '../src/db/job-specs.ts';
import { addJobs } from '../src/db/jobs.ts';
import { CURSOR_TO_CURRENT_SNAPSHOT } from '../src/db/push-cursor.ts';
import { startEmulators } from '../src/demo/emulated.ts';
import { progress, sleep, startBenchEnv } from './env.ts';
import { quiescence } from './sale-run.ts';
import { createBenchTenants } from './tenants.ts';

export interface GuardianBenchOptions {
  listings: number;
  tenants: number;
  /** Share of listings that drift (0..1). */
  drift: number;
  types: ChannelType[];
  /** Give up waiting for the runs after this long. */
  limitS: number;
}

const QTY = 1_000;

export async function benchGuardian(o: GuardianBenchOptions): Promise<Record<string, unknown>> {
  const perTenant = Math.max(1, Math.round(o.listings / o.tenants / o.types.length));
  const listings = perTenant * o.tenants * o.types.length;
  const env = await startBenchEnv({ productProcess: true });
  const emulators = await startEmulators();
  try {
    const ctx = env.sc.ctx;
    const setupStart = Date.now();
    const tenants = await createBenchTenants(ctx, [env.sc.url!], emulators, {
      count: o.tenants,
      group: 8,
      items: perTenant,
      qty: QTY,
      types: o.types,
      progressEvery: (done) => done % 20 === 0 && progress(`${done} of ${o.tenants} tenants connected`),
    });
    const setupS = (Date.now() - setupStart) / 1000;
    progress(`${o.tenants} tenants x (${o.types.join(', ')}) x ${perTenant} listings connected in ${setupS.toFixed(1)} s`);
    // Bench only: the platforms were created holding the opening stock, so the shop is already in
    // sync; recorded as pushed here rather than by a first push of every listing (Epos Now reads
    // before it writes, at 5 calls/s an account: minutes for 1,000 listings). The Guardian is
    // measured on a settled shop, which is what it finds on a normal day.
    const ids = tenants.map((t) => t.tenantId);
    await ctx.db.query(
      `update listings set pushed_seq = dirty_seq, last_pushed_qty = $2, last_seen_qty = $2, state = 'in_sync', last_synced_at = now()
       where tenant_id = any($1) and item_id is not null`,
      [ids, QTY],
    );
    await ctx.db.query(`update channels set ${CURSOR_TO_CURRENT_SNAPSHOT} where tenant_id = any($1)`, [ids]);
    const quiet = await quiescence(ctx, emulators, o.types, 120_000);
    progress(`${quiet.ok ? 'quiescent' : 'NOT quiescent'} after ${quiet.waitedMs} ms ${JSON.stringify(quiet.last)}`);

    // Drift nobody announces: every 1/drift-th listing of each channel gets +2 on the platform
    // (within the default threshold of 5, so it is repaired rather than alerted).
    const every = o.drift > 0 ? Math.max(1, Math.round(1 / o.drift)) : 0;
    const drifted = new Map<string, { emulatorType: ChannelType; accountId: string; externalId: string }>();
    for (const t of tenants) {
      for (const ch of t.channels) {
        const acc = ch.emulator.accounts.get(ch.accountId);
        let i = 0;
        for (const [, externalId] of ch.externalBySku) {
          if (every && i++ % every === 0) {
            await ch.emulator.spec.setLevel(ch.emulator, acc, { externalId, qty: QTY + 2 });
            drifted.set(`${ch.channelId}|${externalId}`, { emulatorType: ch.type, accountId: ch.accountId, externalId });
          }
        }
      }
    }
    progress(`${drifted.size} listings drifted; enqueueing a Guardian run for each of ${o.tenants} tenants`);

    const { rows: mark } = await ctx.db.query<{ id: string }>(`select coalesce(max(id), 0)::text as id from guardian_runs`);
    const after = Number(mark[0]!.id);
    const started = Date.now();
    await addJobs(
      ctx.db,
      tenants.map((t) => guardianJob(t.tenantId)),
    );
    const expected = o.tenants * o.types.length;
    let done = { finished: 0, checked: 0, in_sync: 0, repaired: 0, alerted: 0, skipped: 0, errors: 0 };
    let nextReport = started + 5_000;
    while (Date.now() - started < o.limitS * 1000) {
      const { rows } = await ctx.db.query<typeof done>(
        `select count(*) filter (where finished_at is not null)::int as finished, coalesce(sum(checked), 0)::int as checked,
                coalesce(sum(in_sync), 0)::int as in_sync, coalesce(sum(repaired), 0)::int as repaired, coalesce(sum(alerted), 0)::int as alerted,
                coalesce(sum(skipped), 0)::int as skipped, count(*) filter (where error is not null)::int as errors
         from guardian_runs where id > $1`,
        [after],
      );
      done = rows[0]!;
      if (done.finished >= expected) break;
      if (Date.now() >= nextReport) {
        progress(`${done.finished} of ${expected} channel runs finished, ${done.checked} listings checked`);
        nextReport += 5_000;
      }
      await sleep(50);
    }
    // Seconds until the last run finished, by the database's clock against the enqueue.
    const { rows: last } = await ctx.db.query<{ at: Date | null; avg_ms: number | null; max_ms: number | null }>(
      `select max(finished_at) as at, avg(extract(epoch from finished_at - created_at) * 1000)::float8 as avg_ms,
              max(extract(epoch from finished_at - created_at) * 1000)::float8 as max_ms
       from guardian_runs where id > $1`,
      [after],
    );
    const { rows: clock } = await ctx.db.query<{ skew: number }>(`select (extract(epoch from now()) * 1000 - $1::float8)::float8 as skew`, [Date.now()]);
    const endMs = last[0]!.at ? last[0]!.at.getTime() - clock[0]!.skew : Date.now();
    const seconds = Math.round((endMs - started) / 100) / 10;
    progress(
      `${done.finished} of ${expected} channel runs finished in ${seconds} s: ${done.checked} checked, ${done.in_sync} in sync, ${done.repaired} repaired, ${done.skipped} skipped, ${done.errors} errors`,
    );

    // The repairs reach the platforms (Sync pushes them): how many drifted listings hold the ledger's value again.
    await quiescence(ctx, emulators, o.types, 120_000);
    let restored = 0;
    for (const d of drifted.values()) {
      const emu = emulators[d.emulatorType];
      const s = emu.spec.state(emu.accounts.get(d.accountId)).find((x: { externalId: string }) => x.externalId === d.externalId);
      if (s?.qty === QTY) restored++;
    }
    return {
      listings,
      tenants: o.tenants,
      seconds,
      finished: done.finished === expected,
      channel_runs: expected,
      checked: done.checked,
      in_sync: done.in_sync,
      drifted: drifted.size,
      repaired: done.repaired,
      restored,
      skipped: done.skipped,
      errors: done.errors,
      // One channel's run, from its start to its end (the rest of the wall time is queueing for a worker).
      run_ms_avg: Math.round(last[0]!.avg_ms ?? 0),
      run_ms_max: Math.round(last[0]!.max_ms ?? 0),
      listings_per_s: seconds > 0 ? Math.round(done.checked / seconds) : null,
      setup_s: Math.round(setupS),
      worker_concurrency: Number(process.env.WORKER_CONCURRENCY) || env.config.workerConcurrency,
      types: o.types,
    };
  } finally {
    await emulators.close();
    await env.stop();
  }
}
