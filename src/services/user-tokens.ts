// Single-use secrets mailed to a user (a password reset, an address verification). The mail holds
// the secret; the table holds its SHA-256, so a database read does not hand anyone a working link.
// Using one marks it used in the same statement that checks it, so two uses of one link race to
// exactly one success.
import { randomBytes } from 'node:crypto';
import { hashKey as hashSecret } from '../db/api-keys.ts';
import type { Q } from './scope.ts';

export type UserTokenPurpose = 'password_reset' | 'email_verification';

export const newSecret = () => randomBytes(32).toString('base64url');

export interface TokenOwner {
  tenantId: string;
  userId: string;
  email: string;
}

/**
 * A new token for the user; the user's earlier unused tokens of the same purpose stop working
 * (only the newest mail's link works, so an old mail found later is harmless).
 */
export async function issueUserToken(q: Q, purpose: UserTokenPurpose, owner: TokenOwner, ttlS: number): Promise<string> {
  await q.query(`update user_tokens set used_at = now() where tenant_id = $1 and user_id = $2 and purpose = $3 and used_at is null`, [
    owner.tenantId,
    owner.userId,
    purpose,
  ]);
  const token = newSecret();
  await q.query(
    `insert into user_tokens (token_hash, purpose, tenant_id, user_id, email, expires_at) values ($1, $2, $3, $4, $5, now() + make_interval(secs => $6))`,
    [hashSecret(token), purpose, owner.tenantId, owner.userId, owner.email, ttlS],
  );
  return token;
}

/** The token's owner, once: null when it is unknown, used, expired, for another purpose, or its user's address changed since. */
export async function useUserToken(q: Q, purpose: UserTokenPurpose, token: string): Promise<TokenOwner | null> {
  const { rows } = await q.query<{ tenant_id: string; user_id: string; email: string }>(
    `update user_tokens t set used_at = now() from users u
     where t.token_hash = $1 and t.purpose = $2 and t.used_at is null and t.expires_at > now()
       and u.tenant_id = t.tenant_id and u.id = t.user_id and lower(u.email) = lower(t.email)
     returning t.tenant_id, t.user_id, t.email`,
    [hashSecret(token), purpose],
  );
  const r = rows[0];
  return r ? { tenantId: r.tenant_id, userId: r.user_id, email: r.email } : null;
}
