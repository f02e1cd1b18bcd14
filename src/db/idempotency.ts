// The idempotency key store behind the HTTP plugin (src/http/plugins/idempotency.ts explains the
// protocol: reserve with a lock token, finish in the effect's transaction, release on failure).
// Keys are scoped per tenant and caller.
import type { Tx } from './pool.ts';

type Q = Pick<Tx, 'query'>;

/** Who owns a key: the caller's tenant and actor, and the key they sent. */
export interface IdemKey {
  tenantId: string;
  actorId: string;
  key: string;
}

export interface StoredAnswer {
  request_hash: string;
  status: string;
  response_status: number;
  response_body: string | null;
  response_headers: Record<string, string> | null;
}

/**
 * Reserves the key for a request (status 'running', our lock token), in a statement of its own.
 * An existing key is taken over only when it expired, or when the same request's holder went
 * silent for `staleS` seconds. True when the reservation is ours.
 */
export async function reserveKey(q: Q, k: IdemKey, requestHash: string, token: string, staleS: number): Promise<boolean> {
  const { rows } = await q.query<{ lock_token: string }>(
    `insert into idempotency_keys as k (tenant_id, actor_id, key, request_hash, status, lock_token, locked_at, expires_at)
     values ($1, $2, $3, $4, 'running', $5, now(), now() + interval '24 hours')
     on conflict (tenant_id, actor_id, key) do update
       set request_hash = excluded.request_hash, status = 'running', lock_token = excluded.lock_token, locked_at = now(),
           created_at = now(), expires_at = excluded.expires_at, response_status = null, response_body = null, response_headers = null
       where k.expires_at < now()
          or (k.status = 'running' and k.request_hash = excluded.request_hash and k.locked_at < now() - make_interval(secs => $6))
     returning lock_token`,
    [k.tenantId, k.actorId, k.key, requestHash, token, staleS],
  );
  return rows[0]?.lock_token === token;
}

/** The key's row as another request left it (running, or done with its answer); null if gone. */
export async function readKey(q: Q, k: IdemKey): Promise<StoredAnswer | null> {
  const { rows } = await q.query<StoredAnswer>(
    `select request_hash, status, response_status, response_body, response_headers from idempotency_keys
     where tenant_id = $1 and actor_id = $2 and key = $3`,
    [k.tenantId, k.actorId, k.key],
  );
  return rows[0] ?? null;
}

/** Stores the answer on a key we hold; false when the lock token is no longer ours. */
export async function finishKey(
  q: Q,
  k: IdemKey,
  token: string,
  answer: { status: number; body: string | null; headers: Record<string, string> },
): Promise<boolean> {
  const { rowCount } = await q.query(
    `update idempotency_keys set status = 'done', lock_token = null, response_status = $5, response_body = $6, response_headers = $7
     where tenant_id = $1 and actor_id = $2 and key = $3 and lock_token = $4`,
    [k.tenantId, k.actorId, k.key, token, answer.status, answer.body, answer.headers],
  );
  return Boolean(rowCount);
}

/** Releases a key we hold (the request failed: the client may retry with the same key). */
export async function releaseKey(q: Q, k: IdemKey, token: string): Promise<void> {
  await q.query(`delete from idempotency_keys where tenant_id = $1 and actor_id = $2 and key = $3 and lock_token = $4`, [k.tenantId, k.actorId, k.key, token]);
}

/** Deletes up to 1,000 expired keys (a sweep on a sample of requests; expiry is otherwise lazy). */
export async function sweepExpiredKeys(q: Q): Promise<void> {
  await q.query(`delete from idempotency_keys where ctid = any(array(select ctid from idempotency_keys where expires_at < now() limit 1000))`);
}
