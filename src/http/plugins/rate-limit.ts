// Rate limits per API key: a token bucket per key, sized by the tenant's plan. 429 with
// Retry-After, and the IETF RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers)
// on every key-authenticated response.
// The buckets live in Postgres, shared by every API process (src/db/rate-buckets.ts).
import type { FastifyReply } from 'fastify';
import type { Db } from '../../db/pool.ts';
import { takeToken } from '../../db/rate-buckets.ts';
import { PLANS as BILLING_PLANS } from '../../domain/plans.ts';
import { ApiError } from '../errors.ts';

export interface Plan {
  perSecond: number;
  burst: number;
}

/** Each billing plan's API limits (src/domain/plans.ts), and platform keys' (across tenants). */
export const PLANS: Record<string, Plan> = {
  ...Object.fromEntries(Object.entries(BILLING_PLANS).map(([name, p]) => [name, p.api])),
  platform: { perSecond: 100, burst: 1000 },
};

export class RateLimiter {
  private readonly db: Pick<Db, 'query'>;
  private readonly plans: Record<string, Plan>;
  constructor(db: Pick<Db, 'query'>, plans: Record<string, Plan> = PLANS) {
    this.db = db;
    this.plans = plans;
  }

  /** Spends one token of the key's bucket; throws a 429 when there is none. Sets the headers either way. */
  async take(keyId: string, planName: string, reply: FastifyReply): Promise<void> {
    const plan = this.plans[planName] ?? this.plans.trial!;
    const { tokens, granted } = await takeToken(this.db, keyId, plan.burst, plan.perSecond);
    const waitMs = granted ? 0 : Math.ceil(((1 - tokens) / plan.perSecond) * 1000);
    const remaining = Math.max(0, Math.floor(tokens));
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
