// An open-loop HTTP load generator for a worker thread: sends prepared requests at a fixed rate
// whatever the server's answers (a slow answer does not slow the sender down), over a keep-alive
// pool, and records each request's latency from its send and from its scheduled time.
// Runs in its own thread so the sender's work does not sit on the server's event loop.
import { parentPort, workerData } from 'node:worker_threads';
import { Pool } from 'undici';

export interface PreparedRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

export interface OpenLoopInput {
  origin: string;
  rate: number;
  connections: number;
  requests: PreparedRequest[];
}

export interface OpenLoopOutput {
  /** Per request, ms from send to full answer (NaN when it failed). */
  latencies: number[];
  /** Per request, ms from its scheduled send time to full answer (includes sender lag). */
  fromSchedule: number[];
  statuses: Record<string, number>;
  errors: string[];
  elapsedS: number;
  /** Start to the last send plus one interval: n / sendSpanS is the rate actually offered. */
  sendSpanS: number;
  maxSendLagMs: number;
}

async function run(input: OpenLoopInput): Promise<OpenLoopOutput> {
  const pool = new Pool(input.origin, { connections: input.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const n = input.requests.length;
  const latencies = new Array<number>(n).fill(NaN);
  const fromSchedule = new Array<number>(n).fill(NaN);
  const statuses: Record<string, number> = {};
  const errors: string[] = [];
  const inflight: Array<Promise<void>> = [];
  let maxSendLagMs = 0;
  const start = performance.now();
  const intervalMs = 1000 / input.rate;
  let sent = 0;
  let lastSend = start;
  const fire = (i: number, scheduled: number) => {
    const r = input.requests[i]!;
    const t0 = performance.now();
    maxSendLagMs = Math.max(maxSendLagMs, t0 - scheduled);
    lastSend = t0;
    inflight.push(
      pool
        .request({ path: r.path, method: 'POST', headers: r.headers, body: r.body, headersTimeout: 10_000, bodyTimeout: 10_000 })
        .then(async (res) => {
          await res.body.dump();
          const t1 = performance.now();
          latencies[i] = t1 - t0;
          fromSchedule[i] = t1 - scheduled;
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        })
        .catch((err: Error) => {
          statuses.error = (statuses.error ?? 0) + 1;
          if (errors.length < 5) errors.push(err.message);
        }),
    );
  };
  while (sent < n) {
    const due = Math.min(n, Math.floor((performance.now() - start) / intervalMs) + 1);
    while (sent < due) {
      fire(sent, start + sent * intervalMs);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const sendSpanS = (lastSend - start + intervalMs) / 1000;
  await Promise.all(inflight);
  const elapsedS = (performance.now() - start) / 1000;
  await pool.close();
  return { latencies, fromSchedule, statuses, errors, elapsedS, sendSpanS, maxSendLagMs };
}

if (parentPort && workerData) {
  const port = parentPort;
  run(workerData as OpenLoopInput).then(
    (out) => port.postMessage(out),
    (err: Error) => port.postMessage({ fatal: err.stack ?? err.message }),
  );
}
