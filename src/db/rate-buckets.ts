// API keys' rate-limit buckets (api_key_buckets, one row per key), shared by every API process:
// N `stockclerk api` processes still give a key its plan, not N times it. One statement per take;
// the table is UNLOGGED, so the take writes no WAL and its commit never waits for a disk flush
// (measured in BENCHMARKS.md, "API writes"). src/http/plugins/rate-limit.ts sizes the buckets.
import { named, type Db } from './pool.ts';

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

/** Takes one token from the key's bucket if it holds one; returns what is left and whether it was granted. */
export async function takeToken(q: Pick<Db, 'query'>, keyId: string, burst: number, perSecond: number): Promise<{ tokens: number; granted: boolean }> {
  const { rows } = await q.query<{ tokens: number; granted: boolean }>(named('rate_limit_take', TAKE_SQL, [keyId, burst, perSecond]));
  return rows[0]!;
}
