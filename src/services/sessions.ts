// Dashboard sessions: what a login starts, a refresh continues and a logout ends. A session hands
// out short access tokens (JWTs, signed in src/http/plugins/auth.ts, naming the session in `sid`)
// and one refresh token at a time. Refresh tokens are opaque, stored as SHA-256 hashes, and work
// once: each use rotates to a new one. A used token presented again means two parties hold the
// session (a stolen token, or a stolen copy's owner racing the victim): the whole session is
// revoked and the reuse audited, so both must log in again (OAuth 2.0 Security BCP, 4.14.2).
import { randomBytes } from 'node:crypto';
import { hashKey } from '../db/api-keys.ts';
import { named, withTx, type Db } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { audit } from './audit-log.ts';
import type { Q, Scope } from './scope.ts';

/** Access tokens live 15 minutes (seed 003); a session ends after 30 days without a refresh. */
export const ACCESS_TTL_S = 15 * 60;
export const REFRESH_TTL_S = 30 * 86_400;

export const REFRESH_TOKEN_PREFIX = 'scr_';
const hashToken = hashKey;
const newRefreshToken = () => REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');

export type RevokeReason = 'logout' | 'refresh_token_reuse' | 'password_changed' | 'password_reset' | 'user_removed' | 'role_changed';

export interface SessionStart {
  tenantId: string;
  userId: string;
  userAgent?: string | null;
  ip?: string | null;
}

export interface IssuedSession {
  tenantId: string;
  userId: string;
  sessionId: string;
  refreshToken: string;
}

const invalidRefresh = () => new AppError(401, 'invalid_refresh_token', 'This refresh token is not valid (used, expired or revoked); log in again');

async function issueRefreshToken(q: Q, tenantId: string, sessionId: string): Promise<string> {
  const token = newRefreshToken();
  await q.query(
    named('refresh_token_insert', `insert into refresh_tokens (token_hash, tenant_id, session_id) values ($1, $2, $3)`, [
      hashToken(token),
      tenantId,
      sessionId,
    ]),
  );
  return token;
}

/** A new session for a user who just proved who they are (login, sign-up, invitation, reset). */
export async function startSession(q: Q, s: SessionStart): Promise<IssuedSession> {
  const sessionId = newId('ses');
  await q.query(
    `insert into sessions (tenant_id, id, user_id, expires_at, user_agent, ip)
     values ($1, $2, $3, now() + make_interval(secs => $4), left($5, 300), $6)`,
    [s.tenantId, sessionId, s.userId, REFRESH_TTL_S, s.userAgent ?? null, s.ip ?? null],
  );
  return { tenantId: s.tenantId, userId: s.userId, sessionId, refreshToken: await issueRefreshToken(q, s.tenantId, sessionId) };
}

/**
 * Trades a refresh token for the next one. 401 `invalid_refresh_token` when it is unknown, used,
 * expired, or its session or user is gone; a used one also revokes its session (committed before
 * the 401) and is audited as `session.refresh_token_reused`.
 */
export async function rotateRefreshToken(
  db: Db,
  token: string,
  requestId: string | null,
  /** Told which session a reuse revoked (the caller's caches of live sessions forget it). */
  onReuse: (s: Omit<IssuedSession, 'refreshToken'>) => void = () => {},
): Promise<IssuedSession> {
  if (!token.startsWith(REFRESH_TOKEN_PREFIX)) throw invalidRefresh();
  const outcome = await withTx(db, async (tx) => {
    // Marking it used and reading its session in one statement: of two concurrent uses, exactly one
    // sees used_at null (the row lock orders them); the other is the reuse.
    const { rows } = await tx.query<{ tenant_id: string; session_id: string; user_id: string; was_used: boolean; live: boolean }>(
      `with t as (select token_hash, tenant_id, session_id, used_at from refresh_tokens where token_hash = $1 for update),
            marked as (update refresh_tokens r set used_at = coalesce(r.used_at, now()) from t where r.token_hash = t.token_hash returning r.token_hash)
       select t.tenant_id, t.session_id, s.user_id, t.used_at is not null as was_used,
              (s.revoked_at is null and s.expires_at > now()) as live
       from t join sessions s on s.tenant_id = t.tenant_id and s.id = t.session_id`,
      [hashToken(token)],
    );
    const r = rows[0];
    if (!r) return { kind: 'invalid' as const };
    if (r.was_used) {
      const revoked = await revokeSessionRow(tx, r.tenant_id, r.session_id, 'refresh_token_reuse');
      if (revoked) {
        const scope: Scope = { tenantId: r.tenant_id, actor: { type: 'user', id: r.user_id }, requestId };
        await audit(tx, scope, 'session.refresh_token_reused', { type: 'session', id: r.session_id }, { session_revoked: true });
      }
      return { kind: 'reused' as const, session: { tenantId: r.tenant_id, userId: r.user_id, sessionId: r.session_id } };
    }
    if (!r.live) return { kind: 'invalid' as const };
    await tx.query(`update sessions set last_used_at = now(), expires_at = now() + make_interval(secs => $3) where tenant_id = $1 and id = $2`, [
      r.tenant_id,
      r.session_id,
      REFRESH_TTL_S,
    ]);
    const refreshToken = await issueRefreshToken(tx, r.tenant_id, r.session_id);
    return { kind: 'ok' as const, session: { tenantId: r.tenant_id, userId: r.user_id, sessionId: r.session_id, refreshToken } };
  });
  if (outcome.kind === 'reused') onReuse(outcome.session);
  if (outcome.kind !== 'ok') throw invalidRefresh();
  return outcome.session;
}

async function revokeSessionRow(q: Q, tenantId: string, sessionId: string, reason: RevokeReason): Promise<boolean> {
  const { rowCount } = await q.query(`update sessions set revoked_at = now(), revoked_reason = $3 where tenant_id = $1 and id = $2 and revoked_at is null`, [
    tenantId,
    sessionId,
    reason,
  ]);
  return (rowCount ?? 0) > 0;
}

/**
 * Ends every live session of a user but `keep` (the session changing its own password stays):
 * their refresh tokens stop at once; answers the ended sessions' ids, for the caches to forget.
 */
export async function revokeUserSessions(q: Q, tenantId: string, userId: string, reason: RevokeReason, keep: string | null = null): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>(
    `update sessions set revoked_at = now(), revoked_reason = $3
     where tenant_id = $1 and user_id = $2 and revoked_at is null and ($4::text is null or id <> $4) returning id`,
    [tenantId, userId, reason, keep],
  );
  return rows.map((r) => r.id);
}

/** Ends one session of the caller (logout): its refresh tokens stop working at once. */
export async function endSession(q: Q, scope: Scope, sessionId: string): Promise<void> {
  if (await revokeSessionRow(q, scope.tenantId, sessionId, 'logout')) await audit(q, scope, 'session.logged_out', { type: 'session', id: sessionId });
}

/**
 * The session a refresh token belongs to, if it is this user's: logout may name the refresh
 * token the dashboard holds, which after a rotation can be newer than the access token's.
 */
export async function sessionOfRefreshToken(q: Q, tenantId: string, userId: string, token: string): Promise<string | null> {
  const { rows } = await q.query<{ id: string }>(
    `select s.id from refresh_tokens r join sessions s on s.tenant_id = r.tenant_id and s.id = r.session_id
     where r.token_hash = $1 and r.tenant_id = $2 and s.user_id = $3`,
    [hashToken(token), tenantId, userId],
  );
  return rows[0]?.id ?? null;
}

/**
 * Whether an access token's claims still name a live session of an existing user of an existing
 * tenant; the user's role when they do. Every session request asks (through a short cache in
 * src/http/plugins/auth.ts), so a removed user or a revoked session stops within seconds.
 */
export async function livePrincipal(q: Q, tenantId: string, userId: string, sessionId: string): Promise<{ role: string; super_admin: boolean } | null> {
  const { rows } = await q.query<{ role: string; super_admin: boolean }>(
    named(
      'session_principal',
      `select u.role, u.is_super_admin as super_admin from users u join tenants t on t.id = u.tenant_id
       join sessions s on s.tenant_id = u.tenant_id and s.user_id = u.id and s.id = $3
       where u.tenant_id = $1 and u.id = $2 and s.revoked_at is null`,
      [tenantId, userId, sessionId],
    ),
  );
  return rows[0] ?? null;
}
