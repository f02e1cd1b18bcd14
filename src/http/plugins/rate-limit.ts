// Rate limits per API key: a token bucket per key, sized by the tenant's plan. 429 with
// Retry-After, and the IETF RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers)
// on every key-authenticated response.
// The buckets live in this process's memory: with N API processes a key gets up to N times its
// plan (there is no shared state to consult per request). That is the stated trade-off: a request
// costs no extra round trip; a shared bucket (one row per key, `update ... returning`) is the
// upgrade when API processes multiply.
import type { FastifyReply } from 'fastify';
import { TokenBucket } from '../../domain/token-bucket.ts';
import { ApiError } from '../errors.ts';

export interface Plan {
  perSecond: number;
  burst: number;
}

export const PLANS: Record<string, Plan> = {
  free: { perSecond: 2, burst: 20 },
  standard: { perSecond: 20, burst: 200 },
  scale: { perSecond: 100, burst: 1000 },
  platform: { perSecond: 100, burst: 1000 },
};

export class RateLimiter {
  private readonly buckets = new Map<string, { plan: string; bucket: TokenBucket }>();
  private readonly plans: Record<string, Plan>;
  constructor(plans: Record<string, Plan> = PLANS) {
    this.plans = plans;
  }

  /** Spends one token of the key's bucket; throws a 429 when there is none. Sets the headers either way. */
  take(keyId: string, planName: string, reply: FastifyReply, now = Date.now()): void {
    const plan = this.plans[planName] ?? this.plans.standard!;
    let entry = this.buckets.get(keyId);
    if (!entry || entry.plan !== planName) {
      entry = { plan: planName, bucket: new TokenBucket(plan.perSecond, plan.burst, now) };
      this.buckets.set(keyId, entry);
      if (this.buckets.size > 100_000) this.buckets.delete(this.buckets.keys().next().value!);
    }
    const waitMs = entry.bucket.take(now);
    const remaining = Math.floor(entry.bucket.available(now));
    // The quota q is the burst, refilled in full over w seconds; t is when the next unit is back.
    const window = Math.ceil(plan.burst / plan.perSecond);
    const reset = waitMs > 0 ? Math.ceil(waitMs / 1000) : remaining >= plan.burst ? 0 : Math.ceil((plan.burst - remaining) / plan.perSecond);
    reply.header('ratelimit-policy', `"default";q=${plan.burst};w=${window}`);
    reply.header('ratelimit', `"default";r=${remaining};t=${reset}`);
    if (waitMs > 0) {
      reply.header('retry-after', String(Math.max(1, Math.ceil(waitMs / 1000))));
      throw new ApiError(429, 'rate_limited', `Rate limit of the ${planName} plan exceeded (${plan.burst} requests, refilled at ${plan.perSecond}/s)`, {
        plan: planName,
        retry_after_s: Math.max(1, Math.ceil(waitMs / 1000)),
      });
    }
  }
}
