// One write phase of a side-by-side benchmark (bench vendure, bench medusa): a second of warm-up,
// then `clients` concurrent loops calling `op` for a fixed window; writes/s and latency percentiles.
import { progress } from './env.ts';
import { ms1, percentile } from './stats.ts';

export interface Phase {
  writes_per_s: number;
  writes: number;
  errors: number;
  p50_ms: number;
  p99_ms: number;
}

export async function runPhase(name: string, o: { seconds: number; clients: number }, op: (client: number, n: number) => Promise<void>): Promise<Phase> {
  const warmEnd = Date.now() + 1000;
  await Promise.all(
    Array.from({ length: o.clients }, async (_, c) => {
      for (let n = 0; Date.now() < warmEnd; n++) await op(c, -1 - n).catch(() => {});
    }),
  );
  const lat: number[] = [];
  let errors = 0;
  const firstErrors: string[] = [];
  const started = performance.now();
  const end = started + o.seconds * 1000;
  await Promise.all(
    Array.from({ length: o.clients }, async (_, c) => {
      for (let n = 0; performance.now() < end; n++) {
        const t0 = performance.now();
        try {
          await op(c, n);
          lat.push(performance.now() - t0);
        } catch (err) {
          errors++;
          if (firstErrors.length < 3) firstErrors.push((err as Error).message);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const r = {
    writes_per_s: Math.round((lat.length / elapsed) * 10) / 10,
    writes: lat.length,
    errors,
    p50_ms: ms1(percentile(lat, 50)),
    p99_ms: ms1(percentile(lat, 99)),
  };
  progress(
    `${name}: ${r.writes_per_s} writes/s (${r.writes} ok, ${errors} errors, p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms)${firstErrors.length ? ' first errors: ' + firstErrors.join(' | ') : ''}`,
  );
  return r;
}
