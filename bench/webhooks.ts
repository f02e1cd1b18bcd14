// `bench webhooks`: webhook accept latency at a fixed rate. StockClerk runs with its workers; a few
// tenants have emulated Epos Now and Deliveroo channels. Every request is unique and signed with the
// platform's real scheme and the secret connectEmulatedChannel gave the channel (Deliveroo order.new:
// hex HMAC over "guid body"; Epos Now signs nothing: its posts go to the channel's secret URL, and
// each is a hint intake re-reads through the emulator's API, so its accept latency includes that
// read; these made-up transaction ids are not the till's, so they are recorded as ignored hints). Requests are built before
// the clock starts and fired open-loop from a worker thread, so the sender neither waits for answers
// nor competes with the server's event loop.
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { deliverooSignature } from '../src/channels/deliveroo/webhook.ts';
import { webhookPath } from '../src/channels/url-secret.ts';
import { startEmulators } from '../src/demo/emulated.ts';
import { progress, sleep, startBenchEnv } from './env.ts';
import type { OpenLoopInput, OpenLoopOutput, PreparedRequest } from './open-loop.ts';
import { ms1, percentile } from './stats.ts';
import { createBenchTenant, type BenchChannel, type BenchTenant } from './tenants.ts';

export interface WebhookOptions {
  rate: number;
  duration: number;
  tenants: number;
  connections: number;
}

const ITEMS = 50;

function deliverooOrder(ch: BenchChannel, sku: string): PreparedRequest {
  const uuid = randomUUID();
  const now = new Date().toISOString();
  const price = { fractional: 500, currency_code: 'GBP' };
  const body = JSON.stringify({
    event: 'order.new',
    body: {
      order: {
        id: `gb:${uuid}`,
        order_number: uuid.slice(0, 8),
        location_id: ch.accountId,
        display_id: uuid.slice(0, 4).toUpperCase(),
        status: 'placed',
        status_log: [{ at: now, status: 'placed' }],
        fulfillment_type: 'deliveroo',
        asap: true,
        total_price: price,
        items: [
          {
            pos_item_id: sku,
            quantity: 1,
            name: sku,
            operational_name: sku,
            unit_price: price,
            menu_unit_price: price,
            total_price: price,
            discount_amount: { fractional: 0, currency_code: 'GBP' },
            modifiers: [],
          },
        ],
      },
    },
  });
  const guid = randomUUID();
  return {
    path: `/webhooks/deliveroo/${ch.channelId}`,
    body,
    headers: {
      'content-type': 'application/json',
      'x-deliveroo-sequence-guid': guid,
      'x-deliveroo-hmac-sha256': deliverooSignature(ch.account.webhookSecret, guid, Buffer.from(body), false),
      'x-deliveroo-payload-type': 'event/order.new',
      'x-deliveroo-webhook-version': '1',
    },
  };
}

function eposTransaction(ch: BenchChannel, sku: string, id: number): PreparedRequest {
  const body = JSON.stringify({
    Id: id,
    DateTime: new Date().toISOString(),
    LocationId: 4501,
    TransactionItems: [{ ProductId: Number(ch.externalBySku.get(sku)), Quantity: 1 }],
  });
  return { path: webhookPath('eposnow', ch.channelId, ch.account.channel), body, headers: { 'content-type': 'application/json' } };
}

function prepare(tenants: BenchTenant[], n: number): PreparedRequest[] {
  const out: PreparedRequest[] = [];
  let txn = 5_000_000;
  for (let i = 0; i < n; i++) {
    const t = tenants[i % tenants.length]!;
    const ch = t.channels[Math.floor(i / tenants.length) % t.channels.length]!;
    const sku = t.items[Math.floor(Math.random() * t.items.length)]!.sku;
    out.push(ch.type === 'deliveroo' ? deliverooOrder(ch, sku) : eposTransaction(ch, sku, txn++));
  }
  return out;
}

function fireOpenLoop(input: OpenLoopInput): Promise<OpenLoopOutput> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./open-loop.ts', import.meta.url), { workerData: input });
    w.once('message', (m: OpenLoopOutput | { fatal: string }) => {
      void w.terminate();
      if ('fatal' in m) reject(new Error(m.fatal));
      else resolve(m);
    });
    w.once('error', reject);
  });
}

export async function benchWebhooks(o: WebhookOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ productProcess: true });
  const emulators = await startEmulators();
  try {
    const ctx = env.sc.ctx;
    const tenants: BenchTenant[] = [];
    for (let i = 0; i < o.tenants; i++) {
      tenants.push(await createBenchTenant(ctx, env.sc.url!, emulators, { index: i, items: ITEMS, qty: 1_000_000, types: ['eposnow', 'deliveroo'] }));
    }
    const n = Math.round(o.rate * o.duration);
    const requests = prepare(tenants, n);
    progress(
      `${o.tenants} tenants x (Epos Now, Deliveroo) x ${ITEMS} items; ${n} signed unique webhooks prepared; firing ${o.rate}/s for ${o.duration} s over ${o.connections} connections`,
    );
    // Let the listing imports' background work settle before the clock starts.
    await sleep(1000);
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const bucketsBefore = await acceptBuckets(env.sc.url!);
    const out = await fireOpenLoop({ origin: env.sc.url!, rate: o.rate, connections: o.connections, requests });
    loop.disable();
    const server = bucketQuantiles(bucketsBefore, await acceptBuckets(env.sc.url!), [0.5, 0.99]);
    const ok = out.latencies.filter((v) => Number.isFinite(v));
    const twoXX = Object.entries(out.statuses)
      .filter(([s]) => /^2\d\d$/.test(s))
      .reduce((a, [, c]) => a + c, 0);
    const errors = n - twoXX;
    progress(
      `sent ${n} in ${out.elapsedS.toFixed(2)} s; statuses ${JSON.stringify(out.statuses)}${out.errors.length ? ' errors: ' + out.errors.join(' | ') : ''}`,
    );

    // What got in: every accepted webhook is a recorded event, applied by the Watcher soon after.
    const drainStart = Date.now();
    let recorded = 0;
    let pending = 0;
    for (;;) {
      const { rows } = await ctx.db.query<{ recorded: number; pending: number }>(
        `select count(*)::int as recorded, count(*) filter (where applied_at is null)::int as pending from channel_events`,
      );
      recorded = rows[0]!.recorded;
      pending = rows[0]!.pending;
      if (pending === 0 || Date.now() - drainStart > 30_000) break;
      await sleep(100);
    }
    const result = {
      rate: Math.round(n / out.sendSpanS),
      target_rate: o.rate,
      requests: n,
      accepted: twoXX,
      errors,
      p50_ms: ms1(percentile(ok, 50)),
      p90_ms: ms1(percentile(ok, 90)),
      p99_ms: ms1(percentile(ok, 99)),
      max_ms: ms1(Math.max(...ok)),
      p99_from_schedule_ms: ms1(
        percentile(
          out.fromSchedule.filter((v) => Number.isFinite(v)),
          99,
        ),
      ),
      sender_max_lag_ms: ms1(out.maxSendLagMs),
      // The bench process's own event loop (it sends and times the requests).
      sender_loop_delay_p99_ms: ms1(loop.percentile(99) / 1e6),
      // Inside the product: from the request's arrival to its answer, read off the product's
      // /metrics histogram (so: the upper bound of the bucket the quantile falls in).
      server_accept_ms_at_most: { p50: server[0], p99: server[1] },
      events_recorded: recorded,
      events_unapplied_after_drain: pending,
      apply_drain_ms: Date.now() - drainStart,
      tenants: o.tenants,
      connections: o.connections,
      db: env.db.kind,
    };
    return result;
  } finally {
    await emulators.close();
    await env.stop();
  }
}

/** Cumulative counts per bucket bound (seconds) of the product's accepted-webhook histogram. */
async function acceptBuckets(url: string): Promise<Map<number, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^stockclerk_webhook_accept_seconds_bucket\{(.*)\} (\d+)/.exec(line);
    if (!m || !m[1]!.includes('outcome="accepted"')) continue;
    const le = /le="([^"]+)"/.exec(m[1]!)![1]!;
    const bound = le === '+Inf' ? Infinity : Number(le);
    out.set(bound, (out.get(bound) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The smallest bucket bound (ms) holding each quantile of what the histogram gained between two reads. */
function bucketQuantiles(before: Map<number, number>, after: Map<number, number>, qs: number[]): Array<number | null> {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  return qs.map((q) => {
    if (total === 0) return null;
    const b = bounds.find((x) => (after.get(x) ?? 0) - (before.get(x) ?? 0) >= q * total);
    return b === undefined || b === Infinity ? null : b * 1000;
  });
}
