// A token bucket: `burst` tokens, refilled at `perSecond`. Pure; the clock is passed in so it
// can be tested without sleeping. Used in front of every channel call (client side) and by the
// emulators to enforce a platform's documented limit (server side).
export class TokenBucket {
  private tokens: number;
  private last: number;
  readonly perSecond: number;
  readonly burst: number;
  constructor(perSecond: number, burst: number, now: number = Date.now()) {
    this.perSecond = perSecond;
    this.burst = burst;
    this.tokens = burst;
    this.last = now;
  }

  private refill(now: number): void {
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.perSecond);
      this.last = now;
    }
  }

  /** Takes one token if there is one; returns 0 on success, else ms until one will be there. */
  take(now: number = Date.now(), cost = 1): number {
    this.refill(now);
    if (this.tokens >= cost) {
      this.tokens -= cost;
      return 0;
    }
    return Math.ceil(((cost - this.tokens) / this.perSecond) * 1000);
  }

  /** Empties the bucket: the server told us we are over its limit (keeps client and server in step). */
  drain(now: number = Date.now()): void {
    this.refill(now);
    this.tokens = 0;
  }

  available(now: number = Date.now()): number {
    this.refill(now);
    return this.tokens;
  }
}
