// Proving an address: sign-up mails a link (7 days, single use); following it marks the user's
// email verified. Alert emails go to verified addresses only, so a mistyped address at sign-up
// never receives a stranger's stock alerts. Accepting an invitation or resetting a password
// proves the address too (the link came by mail).
import { withTx, type Db } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { queueMail, type MailContext } from '../mail/outbox.ts';
import { verificationMail } from '../mail/templates.ts';
import { audit } from './audit-log.ts';
import { invalidLink } from './passwords.ts';
import type { Q } from './scope.ts';
import { issueUserToken, useUserToken, type TokenOwner } from './user-tokens.ts';

export const VERIFY_TTL_DAYS = 7;

/** Mails a verification link to the user (a newer link replaces an unused older one). */
export async function sendVerification(tx: Q, mail: MailContext, owner: TokenOwner): Promise<void> {
  const token = await issueUserToken(tx, 'email_verification', owner, VERIFY_TTL_DAYS * 86_400);
  await queueMail(tx, mail.sealer, [verificationMail({ to: owner.email, publicUrl: mail.publicUrl, token, days: VERIFY_TTL_DAYS })]);
}

/** The caller asks for another link; 409 when the address is already verified. */
export async function resendVerification(db: Db, mail: MailContext, tenantId: string, userId: string): Promise<void> {
  await withTx(db, async (tx) => {
    const { rows } = await tx.query<{ email: string; verified: boolean }>(
      `select email, email_verified_at is not null as verified from users where tenant_id = $1 and id = $2`,
      [tenantId, userId],
    );
    const u = rows[0];
    if (!u) throw new AppError(401, 'unauthorized', 'The account no longer exists');
    if (u.verified) throw new AppError(409, 'already_verified', 'This address is already verified');
    await sendVerification(tx, mail, { tenantId, userId, email: u.email });
  });
}

export async function verifyEmail(db: Db, token: string, requestId: string | null): Promise<TokenOwner> {
  return withTx(db, async (tx) => {
    const owner = await useUserToken(tx, 'email_verification', token);
    if (!owner) throw invalidLink();
    await tx.query(`update users set email_verified_at = coalesce(email_verified_at, now()) where tenant_id = $1 and id = $2`, [owner.tenantId, owner.userId]);
    await audit(tx, { tenantId: owner.tenantId, actor: { type: 'user', id: owner.userId }, requestId }, 'user.email_verified', {
      type: 'user',
      id: owner.userId,
    });
    return owner;
  });
}
