// A tenant's API keys: created by its admins (the key itself is shown once, only its SHA-256 is
// stored: src/db/api-keys.ts), listed and revoked. Revoking keeps the row: the audit log and the
// movements a key made still name it.
import { createApiKey as insertKey } from '../db/api-keys.ts';
import type { API_SCOPES } from '../db/schema.ts';
import { notFound } from '../domain/errors.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

const COLUMNS = 'k.id, k.name, k.prefix, k.scopes, k.created_by, k.created_at, k.last_used_at, k.revoked_at';

export async function listApiKeys(q: Q, scope: Scope, p: PageRequest) {
  const { rows } = await q.query(`select ${COLUMNS} from api_keys k where k.tenant_id = $1 and ($2::text is null or k.id > $2) order by k.id limit $3`, [
    scope.tenantId,
    p.after,
    p.limit + 1,
  ]);
  return page(rows, p.limit, (r) => r.id as string);
}

export async function getApiKey(q: Q, scope: Scope, id: string) {
  const { rows } = await q.query(`select ${COLUMNS} from api_keys k where k.tenant_id = $1 and k.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('API key');
  return rows[0];
}

/** A new key with these scopes (each once), created by the caller; `key` is the secret, returned only here. */
export async function createApiKey(tx: Q, scope: Scope, input: { name: string; scopes: Array<(typeof API_SCOPES)[number]> }) {
  const scopes = [...new Set(input.scopes)];
  const k = await insertKey(tx, scope.tenantId, { name: input.name, scopes, createdBy: scope.actor.id });
  const created = { ...(await getApiKey(tx, scope, k.id)), key: k.secret };
  await audit(tx, scope, 'api_key.created', { type: 'api_key', id: k.id }, { name: input.name, scopes });
  return created;
}

/** Revoking twice is harmless (the first time stands). */
export async function revokeApiKey(tx: Q, scope: Scope, id: string): Promise<void> {
  const { rows } = await tx.query(`update api_keys set revoked_at = coalesce(revoked_at, now()) where tenant_id = $1 and id = $2 returning id`, [
    scope.tenantId,
    id,
  ]);
  if (!rows[0]) throw notFound('API key');
  await audit(tx, scope, 'api_key.revoked', { type: 'api_key', id });
}
