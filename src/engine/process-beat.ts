// Each StockClerk process writes one row to `process_heartbeats` every few seconds: alive, its
// memory, and its jobs (from the process's own Prometheus histograms, so nothing is counted twice).
// The operators' health view reads these rows; a process that stopped beating a minute ago is shown
// as gone, and a row older than an hour is deleted by whichever process beats next.
import os from 'node:os';
import type { Db } from '../db/pool.ts';
import { metrics } from '../metrics.ts';

export const PROCESS_BEAT_MS = 5_000;
const WINDOW_MS = 60_000;

interface Totals {
  at: number;
  jobs: number;
  failed: number;
  jobSeconds: number;
  latencyCount: number;
  latencySeconds: number;
}

/** Sums a histogram's _count and _sum over its labels (optionally only where `pick` holds). */
async function histogramTotals(h: typeof metrics.jobSeconds, pick?: (labels: Record<string, unknown>) => boolean) {
  let count = 0;
  let sum = 0;
  for (const v of (await h.get()).values) {
    if (pick && !pick(v.labels)) continue;
    if (v.metricName?.endsWith('_count')) count += v.value;
    else if (v.metricName?.endsWith('_sum')) sum += v.value;
  }
  return { count, sum };
}

async function totals(): Promise<Totals> {
  const all = await histogramTotals(metrics.jobSeconds);
  const failed = await histogramTotals(metrics.jobSeconds, (l) => l.outcome !== 'ok');
  const latency = await histogramTotals(metrics.jobLatency);
  return { at: Date.now(), jobs: all.count, failed: failed.count, jobSeconds: all.sum, latencyCount: latency.count, latencySeconds: latency.sum };
}

export function startProcessBeat(db: Db, role: 'start' | 'api' | 'worker', onError: (err: unknown) => void): { stop(): Promise<void> } {
  const id = `${os.hostname()}:${process.pid}`;
  const startedAt = new Date();
  // Snapshots of the last minute: the oldest one still inside the window is the baseline.
  const history: Totals[] = [];
  const beat = async () => {
    const now = await totals();
    history.push(now);
    while (history.length > 1 && history[1]!.at <= now.at - WINDOW_MS) history.shift();
    const base = history[0]!;
    const jobs = now.jobs - base.jobs;
    const lat = now.latencyCount - base.latencyCount;
    const mem = process.memoryUsage();
    await db.query(
      `insert into process_heartbeats (id, role, started_at, heartbeat_at, rss_bytes, heap_bytes, jobs_total, jobs_failed, jobs_last_min, job_ms_last_min, latency_ms_last_min)
       values ($1, $2, $3, now(), $4, $5, $6, $7, $8, $9, $10)
       on conflict (id) do update set heartbeat_at = now(), rss_bytes = $4, heap_bytes = $5, jobs_total = $6, jobs_failed = $7,
         jobs_last_min = $8, job_ms_last_min = $9, latency_ms_last_min = $10`,
      [
        id,
        role,
        startedAt,
        mem.rss,
        mem.heapUsed,
        now.jobs,
        now.failed,
        jobs,
        jobs > 0 ? ((now.jobSeconds - base.jobSeconds) * 1000) / jobs : null,
        lat > 0 ? ((now.latencySeconds - base.latencySeconds) * 1000) / lat : null,
      ],
    );
    await db.query(`delete from process_heartbeats where heartbeat_at < now() - interval '1 hour'`);
  };
  const timer = setInterval(() => void beat().catch(onError), PROCESS_BEAT_MS);
  timer.unref();
  void beat().catch(onError);
  return {
    async stop() {
      clearInterval(timer);
      await db.query(`delete from process_heartbeats where id = $1`, [id]).catch(() => {});
    },
  };
}
