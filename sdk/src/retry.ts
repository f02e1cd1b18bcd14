// Safe retries for StockClerk calls, as a fetch wrapper under openapi-fetch.
// - Every POST gets an Idempotency-Key (a random UUID unless the caller set one), kept across its
//   retries: a POST whose answer was lost is replayed by the server, never done twice.
// - Retried: network errors (only for GET, and POST with its key), 409 idempotency_key_in_use (the
//   first attempt is still running), 429 (after Retry-After), and 502/503/504 for GET and POST.
//   PATCH/DELETE are retried on 429 only (they carry If-Match; see updateWithIfMatch).
import { randomUUID } from 'node:crypto';

export interface RetryOptions {
  /** Attempts in all, the first included (default 5). */
  attempts?: number;
  /** First back-off in ms, doubled each time with full jitter (default 200). */
  baseDelayMs?: number;
  /** Longest wait, also for Retry-After (default 30 s). */
  maxDelayMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function backoff(attempt: number, o: Required<RetryOptions>): number {
  return Math.min(o.maxDelayMs, Math.random() * o.baseDelayMs * 2 ** attempt);
}

function retryAfterMs(res: Response, fallback: number, max: number): number {
  const v = res.headers.get('retry-after');
  if (!v) return fallback;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.min(max, Math.max(0, s * 1000));
  const at = Date.parse(v);
  return Number.isNaN(at) ? fallback : Math.min(max, Math.max(0, at - Date.now()));
}

async function inProgress(res: Response): Promise<boolean> {
  if (res.status !== 409) return false;
  try {
    return ((await res.clone().json()) as { error?: { code?: string } }).error?.code === 'idempotency_key_in_use';
  } catch {
    return false;
  }
}

/** A fetch that adds Idempotency-Key to POSTs and retries what is safe to retry. */
export function retryingFetch(base: typeof fetch = globalThis.fetch, options: RetryOptions = {}): (input: Request) => Promise<Response> {
  const o: Required<RetryOptions> = { attempts: 5, baseDelayMs: 200, maxDelayMs: 30_000, ...options };
  return async (input: Request) => {
    let request = input;
    const method = request.method.toUpperCase();
    if (method === 'POST' && !request.headers.has('idempotency-key')) {
      const headers = new Headers(request.headers);
      headers.set('idempotency-key', randomUUID());
      request = new Request(request, { headers });
    }
    const replayable = method === 'GET' || method === 'HEAD' || method === 'POST';
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= o.attempts;
      let res: Response;
      try {
        res = await base(last ? request : request.clone());
      } catch (err) {
        if (last || !replayable) throw err;
        await sleep(backoff(attempt, o));
        continue;
      }
      if (last) return res;
      if (res.status === 429) {
        await res.body?.cancel();
        await sleep(retryAfterMs(res, backoff(attempt, o), o.maxDelayMs));
        continue;
      }
      if (replayable && ((await inProgress(res)) || res.status === 502 || res.status === 503 || res.status === 504)) {
        await res.body?.cancel();
        await sleep(retryAfterMs(res, backoff(attempt, o), o.maxDelayMs));
        continue;
      }
      return res;
    }
  };
}
