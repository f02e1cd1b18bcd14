// Token buckets in Postgres (table api_key_buckets, one row per bucket), shared by every API
// process: N `stockclerk api` processes still give a key its plan, not N times it. A bucket is an
// API key's rate limit (keyed by the key's id), or a throttle of the credential endpoints (keyed
// `auth:...`, src/http/auth-throttle.ts). One statement per take;
// the table is UNLOGGED, so the take writes no WAL and its commit never waits for a disk flush
// (measured in BENCHMARKS.md, "API writes"). src/http/plugins/rate-limit.ts sizes the buckets.
import { named, type Db } from './pool.ts';

// $1 key, $2 burst, $3 refill per second, $4 cost (1 takes a token, 0 only looks). A new bucket
// starts full. `avail` is what the bucket holds now (refilled since the last take, at most a
// burst); `granted` says it held at least one token, and a take spends $4 only then.
const AVAIL = `least($2::float8, b.tokens + $3::float8 * greatest(0, extract(epoch from clock_timestamp() - b.taken_at)))`;
const TAKE_SQL = `insert into api_key_buckets as b (key_id, tokens, taken_at, granted)
  values ($1, $2::float8 - $4::float8, clock_timestamp(), true)
  on conflict (key_id) do update set
    tokens = case when ${AVAIL} >= 1 then ${AVAIL} - $4::float8 else ${AVAIL} end,
    granted = ${AVAIL} >= 1,
    taken_at = clock_timestamp()
  returning tokens, granted`;

/** Takes one token (`cost` 0: none, only looks) from the bucket if it holds one; returns what is left and whether it held one. */
export async function takeToken(
  q: Pick<Db, 'query'>,
  keyId: string,
  burst: number,
  perSecond: number,
  cost: 0 | 1 = 1,
): Promise<{ tokens: number; granted: boolean }> {
  const { rows } = await q.query<{ tokens: number; granted: boolean }>(named('rate_bucket_take', TAKE_SQL, [keyId, burst, perSecond, cost]));
  return rows[0]!;
}
