// Passwords: a forgotten one is reset through a mailed link (1 hour, single use), a known one is
// changed by its user. Either way every other session of the user ends: whoever knew the old
// password, or held a session opened with it, is out. A reset also proves the address.
import { hash, verify } from '@node-rs/argon2';
import { withTx, type Db } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { queueMail, type MailContext } from '../mail/outbox.ts';
import { passwordResetMail } from '../mail/templates.ts';
import { audit } from './audit-log.ts';
import type { Scope } from './scope.ts';
import { revokeUserSessions } from './sessions.ts';
import { issueUserToken, useUserToken, type TokenOwner } from './user-tokens.ts';

export const RESET_TTL_S = 3_600;

export const invalidLink = () =>
  new AppError(400, 'invalid_token', 'This link is not valid: it was used, it expired, or a newer one replaced it. Ask for a new one.');

/**
 * Mails a reset link when the address belongs to a user; does nothing otherwise. The caller
 * answers the same either way (202), so the endpoint does not tell who has an account.
 */
export async function requestPasswordReset(db: Db, mail: MailContext, email: string, requestId: string | null): Promise<void> {
  await withTx(db, async (tx) => {
    const { rows } = await tx.query<{ id: string; tenant_id: string; email: string }>(`select id, tenant_id, email from users where lower(email) = $1`, [
      email.trim().toLowerCase(),
    ]);
    const u = rows[0];
    if (!u) return;
    const owner = { tenantId: u.tenant_id, userId: u.id, email: u.email };
    const token = await issueUserToken(tx, 'password_reset', owner, RESET_TTL_S);
    await queueMail(tx, mail.sealer, [passwordResetMail({ to: u.email, publicUrl: mail.publicUrl, token, minutes: RESET_TTL_S / 60 })]);
    await audit(tx, { tenantId: u.tenant_id, actor: { type: 'user', id: u.id }, requestId }, 'user.password_reset_requested', { type: 'user', id: u.id });
  });
}

/** Sets the new password from a reset link; answers whose it was and which of their sessions ended. */
export async function confirmPasswordReset(db: Db, token: string, password: string, requestId: string | null): Promise<TokenOwner & { ended: string[] }> {
  const passwordHash = await hash(password);
  return withTx(db, async (tx) => {
    const owner = await useUserToken(tx, 'password_reset', token);
    if (!owner) throw invalidLink();
    await tx.query(`update users set password_hash = $3, email_verified_at = coalesce(email_verified_at, now()) where tenant_id = $1 and id = $2`, [
      owner.tenantId,
      owner.userId,
      passwordHash,
    ]);
    const ended = await revokeUserSessions(tx, owner.tenantId, owner.userId, 'password_reset');
    const scope: Scope = { tenantId: owner.tenantId, actor: { type: 'user', id: owner.userId }, requestId };
    await audit(tx, scope, 'user.password_reset', { type: 'user', id: owner.userId }, { sessions_ended: ended.length });
    return { ...owner, ended };
  });
}

/** The caller changes their own password (knowing the current one); their other sessions end. */
export async function changePassword(db: Db, scope: Scope, userId: string, sessionId: string, current: string, next: string): Promise<string[]> {
  const { rows } = await db.query<{ password_hash: string }>(`select password_hash from users where tenant_id = $1 and id = $2`, [scope.tenantId, userId]);
  const ok = rows[0] ? await verify(rows[0].password_hash, current).catch(() => false) : false;
  // 400, not 401: the session is fine, the form is wrong (a 401 would log the dashboard out).
  if (!ok) throw new AppError(400, 'wrong_password', 'The current password is wrong', [{ path: 'current_password', message: 'Wrong password' }]);
  const passwordHash = await hash(next);
  return withTx(db, async (tx) => {
    await tx.query(`update users set password_hash = $3 where tenant_id = $1 and id = $2`, [scope.tenantId, userId, passwordHash]);
    const ended = await revokeUserSessions(tx, scope.tenantId, userId, 'password_changed', sessionId);
    await audit(tx, scope, 'user.password_changed', { type: 'user', id: userId }, { sessions_ended: ended.length });
    return ended;
  });
}
