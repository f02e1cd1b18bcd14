// `bench usage`: what usage metering costs a request (src/services/usage.ts).
// 1. HTTP: GET /api/v1/locations with a session token (authenticated, one small query), autocannon
//    from a worker thread against an in-process StockClerk (API only, no workers), in alternating
//    rounds with metering on and off (off = the meter's count() replaced by a no-op), so drift of
//    a shared machine falls on both sides alike: requests/s and p99 of each side.
// 2. count() alone: ns per call over 1,000 tenants.
// 3. flush(): one upsert of 1,000 tenants' rows.
import autocannon from 'autocannon';
import { startBenchEnv, progress } from './env.ts';
import { UsageMeter } from '../src/services/usage.ts';

export interface UsageBenchOptions {
  seconds: number;
  rounds: number;
  connections: number;
}

function cannon(url: string, token: string, o: UsageBenchOptions): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: `${url}/api/v1/locations`, headers: { authorization: `Bearer ${token}` }, connections: o.connections, duration: o.seconds, workers: 1 },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

export async function benchUsage(o: UsageBenchOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ worker: false });
  try {
    const url = env.sc.url!;
    const reg = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ business_name: 'Usage bench', email: `usage${Date.now()}@example.com`, password: 'correct-horse-9' }),
    });
    const body = (await reg.json()) as { token: string; tenant: { id: string } };
    const meter = env.sc.ctx.usage;
    const noop = () => {};
    const sides = { on: [] as autocannon.Result[], off: [] as autocannon.Result[] };
    await cannon(url, body.token, { ...o, seconds: 2 }); // warm-up
    for (let r = 0; r < o.rounds; r++) {
      // on, off, off, on, ...: each side runs first as often as second.
      for (const side of r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        if (side === 'off') meter.count = noop;
        else delete (meter as Partial<UsageMeter>).count; // back to the prototype's
        const res = await cannon(url, body.token, o);
        if (res.non2xx || res.errors) throw new Error(`round ${r} ${side}: ${res.non2xx} non-2xx, ${res.errors} errors`);
        sides[side].push(res);
        progress(`round ${r} ${side}: ${res.requests.average} req/s, p99 ${res.latency.p99} ms`);
      }
    }
    delete (meter as Partial<UsageMeter>).count;
    await meter.flush();
    const { rows } = await env.sc.ctx.db.query<{ api_calls: number }>(`select sum(api_calls)::int as api_calls from usage_daily where tenant_id = $1`, [
      body.tenant.id,
    ]);
    const total = (rs: autocannon.Result[]) => rs.reduce((a, r) => a + r.requests.total, 0);
    const rate = (rs: autocannon.Result[]) => Math.round(total(rs) / (rs.length * o.seconds));
    const p99 = (rs: autocannon.Result[]) => Math.max(...rs.map((r) => r.latency.p99));

    // count() alone, 1,000 tenants.
    const m = new UsageMeter(env.sc.ctx.db);
    const tenants = Array.from({ length: 1000 }, (_, i) => `ten_${String(i).padStart(32, '0')}`);
    const N = 5_000_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) m.count(tenants[i % 1000]!, 'api_calls');
    const nsPerCount = Number(process.hrtime.bigint() - t0) / N;
    // One flush of 1,000 (tenant, day) rows (they do not exist as tenants: the statement's filter
    // still runs for each, and nothing is written, which is the cheaper case; see the note).
    const f0 = performance.now();
    await m.flush();
    const flushMs = performance.now() - f0;

    const on = rate(sides.on);
    const off = rate(sides.off);
    return {
      path: 'GET /api/v1/locations (session JWT)',
      connections: o.connections,
      seconds_per_round: o.seconds,
      rounds: o.rounds,
      req_per_s: { metering_on: on, metering_off: off },
      overhead_pct: Math.round(((off - on) / off) * 1000) / 10,
      p99_ms: { metering_on: p99(sides.on), metering_off: p99(sides.off) },
      api_calls_counted: rows[0]?.api_calls ?? 0,
      api_calls_sent_metering_on: total(sides.on),
      ns_per_count: Math.round(nsPerCount * 10) / 10,
      flush_1000_rows_ms: Math.round(flushMs * 10) / 10,
      db: env.db.kind,
    };
  } finally {
    await env.stop();
  }
}
