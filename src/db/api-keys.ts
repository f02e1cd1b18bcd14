// API key secrets. A key is 32 random bytes (256 bits) behind a readable prefix; only its SHA-256
// is stored. A slow password hash (argon2) protects guessable secrets; a 256-bit random key cannot
// be guessed, so one SHA-256 is as safe and lets a request find its key by an indexed equality
// lookup in one round trip (argon2 would cost ~50 ms of CPU per request).
import { createHash, randomBytes } from 'node:crypto';
import { newId } from '../domain/ids.ts';
import type { Db, Tx } from './pool.ts';

export const TENANT_KEY_PREFIX = 'sck_';
export const PLATFORM_KEY_PREFIX = 'scp_';

export const hashKey = (secret: string): string => createHash('sha256').update(secret).digest('hex');

function newSecret(prefix: string): { secret: string; shown: string } {
  const secret = prefix + randomBytes(32).toString('base64url');
  return { secret, shown: secret.slice(0, prefix.length + 6) };
}

export interface CreatedKey {
  id: string;
  /** The whole key: returned once, never stored. */
  secret: string;
  prefix: string;
}

export async function createApiKey(
  tx: Pick<Tx, 'query'>,
  tenantId: string,
  opts: { name: string; scopes: string[]; createdBy: string | null },
): Promise<CreatedKey> {
  const id = newId('key');
  const { secret, shown } = newSecret(TENANT_KEY_PREFIX);
  await tx.query(`insert into api_keys (tenant_id, id, name, prefix, secret_hash, scopes, created_by) values ($1, $2, $3, $4, $5, $6, $7)`, [
    tenantId,
    id,
    opts.name,
    shown,
    hashKey(secret),
    opts.scopes,
    opts.createdBy,
  ]);
  return { id, secret, prefix: shown };
}

/** A platform key for an integrator acting on the given tenants (an operator's act, not a tenant's). */
export async function createPlatformKey(db: Db, opts: { name: string; scopes: string[]; tenantIds: string[] }): Promise<CreatedKey> {
  const id = newId('pkey');
  const { secret, shown } = newSecret(PLATFORM_KEY_PREFIX);
  const client = await db.connect();
  try {
    await client.query('begin');
    await client.query(`insert into platform_keys (id, name, prefix, secret_hash, scopes) values ($1, $2, $3, $4, $5)`, [
      id,
      opts.name,
      shown,
      hashKey(secret),
      opts.scopes,
    ]);
    await client.query(`insert into platform_key_tenants (tenant_id, key_id) select unnest($1::text[]), $2`, [opts.tenantIds, id]);
    await client.query('commit');
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  return { id, secret, prefix: shown };
}

/** A live tenant key by its secret, with its tenant's plan (the rate limit); null if unknown or revoked. */
export async function findTenantKey(q: Pick<Tx, 'query'>, secret: string): Promise<{ tenant_id: string; id: string; scopes: string[]; plan: string } | null> {
  const { rows } = await q.query<{ tenant_id: string; id: string; scopes: string[]; plan: string }>(
    `select k.tenant_id, k.id, k.scopes, t.plan from api_keys k join tenants t on t.id = k.tenant_id
     where k.secret_hash = $1 and k.revoked_at is null`,
    [hashKey(secret)],
  );
  return rows[0] ?? null;
}

/**
 * A live platform key by its secret; `tenant_id` (and its plan) is set when the key may act on
 * the tenant named, null otherwise. Null when the key is unknown or revoked.
 */
export async function findPlatformKey(
  q: Pick<Tx, 'query'>,
  secret: string,
  tenantId: string | null,
): Promise<{ id: string; scopes: string[]; tenant_id: string | null; plan: string | null } | null> {
  const { rows } = await q.query<{ id: string; scopes: string[]; tenant_id: string | null; plan: string | null }>(
    `select p.id, p.scopes, g.tenant_id, t.plan from platform_keys p
     left join platform_key_tenants g on g.key_id = p.id and g.tenant_id = $2
     left join tenants t on t.id = g.tenant_id
     where p.secret_hash = $1 and p.revoked_at is null`,
    [hashKey(secret), tenantId],
  );
  return rows[0] ?? null;
}

/** Records that a tenant key was used now. */
export async function touchApiKey(q: Pick<Tx, 'query'>, tenantId: string, id: string): Promise<void> {
  await q.query(`update api_keys set last_used_at = now() where tenant_id = $1 and id = $2`, [tenantId, id]);
}
