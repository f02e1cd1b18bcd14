// Vinted's anti-bot wall (DataDome in front of the site), as section 2 of
// docs/extension-protocol.md describes it: too many requests per session in a short window answer
// 429 with a captcha URL body, and Retry-After when present. Everything here is a GUESS about
// the thresholds; the knobs (index.ts) set them.
import { randomBytes } from 'node:crypto';

export interface AntiBotLimits {
  /** The sliding window requests are counted over. */
  windowMs: number;
  /** Requests one session may make within `windowMs`; the next is refused. */
  windowMaxRequests: number;
  /** Least time between two mutations (POST/PUT/DELETE) of one session. */
  mutationIntervalMs: number;
}

export interface Verdict {
  ok: boolean;
  /** Whole seconds until a request would pass (only when !ok). */
  retryAfter: number;
  reason: 'window' | 'mutation_interval' | null;
}

interface Track {
  /** Accepted request times in the window, oldest first. */
  times: number[];
  lastMutation: number;
}

export class AntiBot {
  private readonly keys = new Map<string, Track>();

  /** Counts one request of `key` (a session, or the client address without one) and says whether it passes. */
  check(key: string, mutation: boolean, limits: AntiBotLimits, t = Date.now()): Verdict {
    let tr = this.keys.get(key);
    if (!tr) this.keys.set(key, (tr = { times: [], lastMutation: -Infinity }));
    let drop = 0;
    while (drop < tr.times.length && tr.times[drop]! <= t - limits.windowMs) drop++;
    if (drop) tr.times.splice(0, drop);
    // GUESS: a refused request is not counted (a client that waits as told gets in).
    if (tr.times.length >= limits.windowMaxRequests) {
      const waitMs = tr.times[0]! + limits.windowMs - t;
      return { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)), reason: 'window' };
    }
    if (mutation && t - tr.lastMutation < limits.mutationIntervalMs) {
      const waitMs = tr.lastMutation + limits.mutationIntervalMs - t;
      return { ok: false, retryAfter: Math.max(1, Math.ceil(waitMs / 1000)), reason: 'mutation_interval' };
    }
    tr.times.push(t);
    if (mutation) tr.lastMutation = t;
    return { ok: true, retryAfter: 0, reason: null };
  }

  clear(): void {
    this.keys.clear();
  }
}

/**
 * DataDome's block answer: a JSON body naming the captcha page (section 2). GUESS: the query
 * parameters' names and values are DataDome's usual ones, filled with random values.
 */
export function captchaBody(referer: string): { url: string } {
  const q = new URLSearchParams({
    initialCid: randomBytes(24).toString('base64url'),
    hash: randomBytes(15).toString('hex').toUpperCase(),
    cid: randomBytes(40).toString('base64url'),
    t: 'fe',
    referer,
    s: '44977',
    e: randomBytes(32).toString('hex'),
  });
  return { url: `https://geo.captcha-delivery.com/captcha/?${q}` };
}
