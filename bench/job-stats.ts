// Job run time and queue wait per task, from the engine's own Prometheus histograms (in-process),
// as the difference between two snapshots: where a benchmark's time goes inside the workers.
import { metrics } from '../src/metrics.ts';

type Sums = Record<string, { n: number; runS: number; waitS: number; waitN: number }>;

/** From a StockClerk's /metrics (the product in its own process), else this process's registry. */
export async function jobSnapshot(url?: string | null): Promise<Sums> {
  const out: Sums = {};
  const get = (task: string) => (out[task] ??= { n: 0, runS: 0, waitS: 0, waitN: 0 });
  if (url) {
    const text = await fetch(`${url}/metrics`).then(
      (r) => r.text(),
      () => '',
    );
    for (const m of text.matchAll(/^stockclerk_job_(seconds|latency_seconds)_(sum|count)\{([^}]*)\} ([0-9.e+-]+)$/gm)) {
      const task = /task="([^"]+)"/.exec(m[3]!)?.[1] ?? '?';
      const v = Number(m[4]);
      const t = get(task);
      if (m[1] === 'seconds') {
        if (m[2] === 'count') t.n += v;
        else t.runS += v;
      } else if (m[2] === 'count') t.waitN += v;
      else t.waitS += v;
    }
    return out;
  }
  for (const v of (await metrics.jobSeconds.get()).values) {
    const task = String(v.labels.task);
    if (v.metricName?.endsWith('_count')) get(task).n += v.value;
    if (v.metricName?.endsWith('_sum')) get(task).runS += v.value;
  }
  for (const v of (await metrics.jobLatency.get()).values) {
    const task = String(v.labels.task);
    if (v.metricName?.endsWith('_count')) get(task).waitN += v.value;
    if (v.metricName?.endsWith('_sum')) get(task).waitS += v.value;
  }
  return out;
}

/** Per task between two snapshots: jobs run, mean run ms, mean wait from due to start ms. */
export function jobDiff(before: Sums, after: Sums): Record<string, { jobs: number; mean_run_ms: number; mean_wait_ms: number }> {
  const out: Record<string, { jobs: number; mean_run_ms: number; mean_wait_ms: number }> = {};
  for (const [task, a] of Object.entries(after)) {
    const b = before[task] ?? { n: 0, runS: 0, waitS: 0, waitN: 0 };
    const n = a.n - b.n;
    const wn = a.waitN - b.waitN;
    if (n <= 0 && wn <= 0) continue;
    out[task] = {
      jobs: n,
      mean_run_ms: n > 0 ? Math.round(((a.runS - b.runS) / n) * 1000) : 0,
      mean_wait_ms: wn > 0 ? Math.round(((a.waitS - b.waitS) / wn) * 1000) : 0,
    };
  }
  return out;
}

/** Webhook accept time from the engine's histogram: count and mean ms per channel type (accepted only). */
export async function webhookAcceptSnapshot(): Promise<Record<string, { n: number; sumS: number }>> {
  const out: Record<string, { n: number; sumS: number }> = {};
  for (const v of (await metrics.webhookAccept.get()).values) {
    if (v.labels.outcome !== 'accepted') continue;
    const k = String(v.labels.channel_type);
    const e = (out[k] ??= { n: 0, sumS: 0 });
    if (v.metricName?.endsWith('_count')) e.n += v.value;
    if (v.metricName?.endsWith('_sum')) e.sumS += v.value;
  }
  return out;
}
