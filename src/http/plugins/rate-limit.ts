// Rate limits per API key: a token bucket per key, sized by the tenant's plan. 429 with
// Retry-After, and the IETF RateLimit-Policy / RateLimit fields (draft-ietf-httpapi-ratelimit-headers)
// on every key-authenticated response.
// The buckets live in Postgres (api_key_buckets, one row per key), so every API process draws on
// the same one: N `stockclerk api` processes still give a key its plan, not N times it. One
// statement per request; the table is UNLOGGED, so the take writes no WAL and its commit never
// waits for a disk flush (measured in BENCHMARKS.md, "API writes").
import type { FastifyReply } from 'fastify';
import { named, type Db } from '../../db/pool.ts';
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

// $1 key, $2 burst, $3 refill per second. A new key starts full and takes one. `avail` is what the
// bucket holds now (refilled since the last take, at most a burst); the take succeeds when it is >= 1.
const AVAIL = `least($2::float8, b.tokens + $3::float8 * greatest(0, extract(epoch from clock_timestamp() - b.taken_at)))`;
const TAKE_SQL = `insert into api_key_buckets as b (key_id, tokens, taken_at, granted)
  values ($1, $2::float8 - 1, clock_timestamp(), true)
  on conflict (key_id) do update set
    tokens = case when ${AVAIL} >= 1 then ${AVAIL} - 1 else ${AVAIL} end,
    granted = ${AVAIL} >= 1,
    taken_at = clock_timestamp()
  returning tokens, granted`;

export class RateLimiter {
  private readonly db: Pick<Db, 'query'>;
  private readonly plans: Record<string, Plan>;
  constructor(db: Pick<Db, 'query'>, plans: Record<string, Plan> = PLANS) {
    this.db = db;
    this.plans = plans;
  }

  /** Spends one token of the key's bucket; throws a 429 when there is none. Sets the headers either way. */
  async take(keyId: string, planName: string, reply: FastifyReply): Promise<void> {
    const plan = this.plans[planName] ?? this.plans.standard!;
    const { rows } = await this.db.query<{ tokens: number; granted: boolean }>(named('rate_limit_take', TAKE_SQL, [keyId, plan.burst, plan.perSecond]));
    const { tokens, granted } = rows[0]!;
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
