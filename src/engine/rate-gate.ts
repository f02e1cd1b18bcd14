// The token bucket in front of a channel account, kept in the channel's row so that every worker
// process draws from the same budget: the platform limits the account, not our process. One
// statement per take; the row lock orders concurrent takers, so the budget is never spent twice.
import { named, type Db } from '../db/pool.ts';

export interface RateGate {
  /**
   * Takes `cost` calls' worth of budget. Returns 0 when taken, else ms until it would be there.
   * `reserve`: calls' worth that must stay in the bucket after this take: lower-priority work
   * (catalog updates, bulk publishing) leaves room for stock pushes, which take with none.
   */
  take(cost?: number, reserve?: number): Promise<number>;
  /** The platform said we are over its limit: empty the bucket (and keep it empty `forMs`). */
  drain(forMs?: number): Promise<void>;
}

/**
 * The share of a platform's documented budget we spend: the allowance belongs to the merchant's
 * account, which other apps and the platform's own back office draw on too, and our clock and the
 * platform's never quite agree. Spending all of it earns 429s and their back-off.
 */
export const BUDGET_SHARE = 0.9;

export function channelRateGate(db: Pick<Db, 'query'>, tenantId: string, channelId: string, documented: { perSecond: number; burst: number }): RateGate {
  const limit = { perSecond: documented.perSecond * BUDGET_SHARE, burst: Math.max(1, Math.floor(documented.burst * BUDGET_SHARE)) };
  return {
    async take(cost = 1, reserve = 0) {
      const { rows } = await db.query<{ wait_ms: number }>(
        named(
          'rate_take',
          `with cur as (
           select least($3::float8, coalesce(rate_tokens, $3::float8)
                       + $4::float8 * greatest(0, extract(epoch from clock_timestamp() - coalesce(rate_at, clock_timestamp())))) as avail
           from channels where tenant_id = $1 and id = $2 for update
         )
         update channels c set rate_tokens = case when cur.avail >= ($5::float8 + $6::float8) then cur.avail - $5 else cur.avail end, rate_at = clock_timestamp()
         from cur where c.tenant_id = $1 and c.id = $2
         returning case when cur.avail >= ($5::float8 + $6::float8) then 0 else ceil((($5::float8 + $6::float8) - cur.avail) / $4::float8 * 1000) end::int as wait_ms`,
          [tenantId, channelId, limit.burst, limit.perSecond, cost, Math.min(reserve, Math.max(0, limit.burst - cost))],
        ),
      );
      return rows[0]?.wait_ms ?? 0;
    },
    async drain(forMs = 0) {
      // Negative tokens: the refill has to pay back the platform's Retry-After before a call goes out.
      await db.query(`update channels set rate_tokens = $3::float8, rate_at = clock_timestamp() where tenant_id = $1 and id = $2`, [
        tenantId,
        channelId,
        -(forMs / 1000) * limit.perSecond,
      ]);
    },
  };
}

/**
 * Takes `cost` from the gate, waiting for it up to `maxWaitMs` in all. Returns 0 once taken, else
 * how long the budget still needs: the caller reschedules rather than hold a worker slot.
 */
export async function takeWithin(gate: RateGate, cost: number, maxWaitMs: number, reserve = 0): Promise<number> {
  const deadline = Date.now() + maxWaitMs;
  for (;;) {
    const wait = await gate.take(cost, reserve);
    if (wait === 0 || Date.now() + wait > deadline) return wait;
    await new Promise((r) => setTimeout(r, wait));
  }
}
