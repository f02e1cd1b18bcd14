// Etsy's rate limit: per API key for key-only calls and per OAuth access token for a seller's calls
// (the caller picks the key: index.ts), a per-second allowance and
// a per-day allowance over a sliding 24 h window, reported on answers as x-limit-per-second,
// x-remaining-this-second, x-limit-per-day and x-remaining-today; over either one -> 429 with
// retry-after (channel-apis.md section 7, summarising developers.etsy.com/documentation/essentials/rate-limits).

const SECOND = 1000;
const DAY = 86_400_000;

export interface Verdict {
  ok: boolean;
  /** Seconds until a call would be accepted again (only when !ok). */
  retryAfter: number;
  headers: Record<string, string>;
}

class Window {
  /** Accepted-call times, oldest first. */
  readonly times: number[] = [];
  readonly span: number;
  constructor(span: number) {
    this.span = span;
  }
  prune(t: number): void {
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! <= t - this.span) drop++;
    if (drop) this.times.splice(0, drop);
  }
  /** ms until the oldest accepted call leaves the window. */
  waitMs(t: number): number {
    return this.times.length ? this.times[0]! + this.span - t : 0;
  }
}

export class RateLimiter {
  private readonly keys = new Map<string, { sec: Window; day: Window }>();

  private of(key: string): { sec: Window; day: Window } {
    let w = this.keys.get(key);
    if (!w) this.keys.set(key, (w = { sec: new Window(SECOND), day: new Window(DAY) }));
    return w;
  }

  /** Counts one call for `key` (when `enforce`, only if both windows have room) and says what to answer. */
  take(key: string, limits: { perSecond: number; perDay: number }, enforce: boolean, t = Date.now()): Verdict {
    const w = this.of(key);
    w.sec.prune(t);
    w.day.prune(t);
    const overSec = w.sec.times.length >= limits.perSecond;
    const overDay = w.day.times.length >= limits.perDay;
    // GUESS: a refused call does not use quota (otherwise a client retrying early would never get in).
    if (enforce && (overSec || overDay)) {
      const ms = Math.max(overSec ? w.sec.waitMs(t) : 0, overDay ? w.day.waitMs(t) : 0);
      return { ok: false, retryAfter: Math.max(1, Math.ceil(ms / 1000)), headers: this.headers(w, limits) };
    }
    w.sec.times.push(t);
    w.day.times.push(t);
    return { ok: true, retryAfter: 0, headers: this.headers(w, limits) };
  }

  private headers(w: { sec: Window; day: Window }, limits: { perSecond: number; perDay: number }): Record<string, string> {
    return {
      'x-limit-per-second': String(limits.perSecond),
      'x-remaining-this-second': String(Math.max(0, limits.perSecond - w.sec.times.length)),
      'x-limit-per-day': String(limits.perDay),
      'x-remaining-today': String(Math.max(0, limits.perDay - w.day.times.length)),
    };
  }

  /** The day windows, for the state file (a restart of Etsy does not give an app its day back). */
  save(): Record<string, number[]> {
    const t = Date.now();
    const out: Record<string, number[]> = {};
    for (const [k, w] of this.keys) {
      w.day.prune(t);
      if (w.day.times.length) out[k] = [...w.day.times];
    }
    return out;
  }

  load(saved: Record<string, number[]> | undefined): void {
    for (const [k, times] of Object.entries(saved ?? {})) this.of(k).day.times.push(...times);
  }

  /** Forgets the app key's own quota and every seller grant's under it. */
  clearApp(keystring: string): void {
    for (const k of [...this.keys.keys()]) if (k === keystring || k.startsWith(`${keystring}\u0000`)) this.keys.delete(k);
  }

  clear(key?: string): void {
    if (key === undefined) this.keys.clear();
    else this.keys.delete(key);
  }
}
