// Invitations: an admin (or owner) invites an address with a role; the mail's link (single use,
// 7 days) lets the invitee choose a password, which creates their user in the tenant. Inviting an
// address again replaces its pending invitation (only the newest link works). An address already
// holding an account anywhere cannot be invited (one account per address, src/services/accounts.ts).
import { hash } from '@node-rs/argon2';
import { withTx, type Db } from '../db/pool.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { canAssign, type Role } from '../domain/permissions.ts';
import { queueMail, type MailContext } from '../mail/outbox.ts';
import { invitationMail } from '../mail/templates.ts';
import { emailInUse, emailTaken } from './accounts.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import { invalidLink } from './passwords.ts';
import type { Q, Scope } from './scope.ts';
import { hashKey as hashSecret } from '../db/api-keys.ts';
import { newSecret } from './user-tokens.ts';

export const INVITATION_TTL_DAYS = 7;

export interface Invitation {
  id: string;
  email: string;
  role: Role;
  status: 'pending' | 'accepted' | 'revoked' | 'expired';
  invited_by: string | null;
  created_at: Date;
  expires_at: Date;
  accepted_at: Date | null;
}

const COLUMNS = `i.id, i.email, i.role, i.invited_by, i.created_at, i.expires_at, i.accepted_at,
  case when i.accepted_at is not null then 'accepted' when i.revoked_at is not null then 'revoked'
       when i.expires_at <= now() then 'expired' else 'pending' end as status`;

export async function createInvitation(tx: Q, scope: Scope, actorRole: Role, mail: MailContext, input: { email: string; role: Role }): Promise<Invitation> {
  const email = input.email.trim().toLowerCase();
  if (!canAssign(actorRole, input.role)) throw new AppError(403, 'forbidden', 'Only an owner can invite an owner');
  if (await emailInUse(tx, email)) throw emailTaken();
  await tx.query(`update invitations set revoked_at = now() where tenant_id = $1 and lower(email) = $2 and accepted_at is null and revoked_at is null`, [
    scope.tenantId,
    email,
  ]);
  const token = newSecret();
  const { rows } = await tx.query<Invitation>(
    `insert into invitations as i (tenant_id, id, email, role, token_hash, invited_by, expires_at)
     values ($1, $2, $3, $4, $5, $6, now() + make_interval(days => $7)) returning ${COLUMNS}`,
    [scope.tenantId, newId('inv'), email, input.role, hashSecret(token), scope.actor.type === 'user' ? scope.actor.id : null, INVITATION_TTL_DAYS],
  );
  const inv = rows[0]!;
  const { rows: names } = await tx.query<{ tenant: string; inviter: string | null }>(
    `select t.name as tenant, u.email as inviter from tenants t left join users u on u.tenant_id = t.id and u.id = $2 where t.id = $1`,
    [scope.tenantId, inv.invited_by],
  );
  await queueMail(tx, mail.sealer, [
    invitationMail({
      to: email,
      publicUrl: mail.publicUrl,
      token,
      tenantName: names[0]?.tenant ?? 'a StockClerk account',
      inviter: names[0]?.inviter ?? null,
      role: input.role,
      days: INVITATION_TTL_DAYS,
    }),
  ]);
  await audit(tx, scope, 'invitation.created', { type: 'invitation', id: inv.id }, { email, role: input.role });
  return inv;
}

/** The tenant's invitations, newest first; `pending` only those still usable. */
export async function listInvitations(q: Q, scope: Scope, filter: { pendingOnly: boolean }, p: PageRequest) {
  const { rows } = await q.query<Invitation>(
    `select ${COLUMNS} from invitations i
     where i.tenant_id = $1 and ($2::text is null or i.id < $2)
       and (not $4 or (i.accepted_at is null and i.revoked_at is null and i.expires_at > now()))
     order by i.id desc limit $3`,
    [scope.tenantId, p.after, p.limit + 1, filter.pendingOnly],
  );
  return page(rows, p.limit, (r) => r.id);
}

/** Withdraws a pending invitation: its link stops working. 409 once it was accepted. */
export async function revokeInvitation(tx: Q, scope: Scope, id: string): Promise<void> {
  const { rows } = await tx.query<{ accepted: boolean; revoked: boolean }>(
    `select accepted_at is not null as accepted, revoked_at is not null as revoked from invitations where tenant_id = $1 and id = $2 for update`,
    [scope.tenantId, id],
  );
  const inv = rows[0];
  if (!inv) throw notFound('Invitation');
  if (inv.accepted) throw new AppError(409, 'invitation_accepted', 'This invitation was accepted: remove the user instead');
  if (inv.revoked) return;
  await tx.query(`update invitations set revoked_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, id]);
  await audit(tx, scope, 'invitation.revoked', { type: 'invitation', id });
}

/** The invitee chooses a password: their user is created (address verified: the link came by mail). */
export async function acceptInvitation(
  db: Db,
  token: string,
  password: string,
  requestId: string | null,
): Promise<{ tenantId: string; userId: string; email: string; role: Role }> {
  const passwordHash = await hash(password);
  return withTx(db, async (tx) => {
    const { rows } = await tx.query<{ tenant_id: string; id: string; email: string; role: Role }>(
      `select tenant_id, id, email, role from invitations
       where token_hash = $1 and accepted_at is null and revoked_at is null and expires_at > now() for update`,
      [hashSecret(token)],
    );
    const inv = rows[0];
    if (!inv) throw invalidLink();
    const userId = newId('usr');
    await tx
      .query(`insert into users (tenant_id, id, email, password_hash, role, email_verified_at) values ($1, $2, $3, $4, $5, now())`, [
        inv.tenant_id,
        userId,
        inv.email,
        passwordHash,
        inv.role,
      ])
      .catch((err: { code?: string }) => {
        // The address signed up (or joined elsewhere) after it was invited.
        if (err.code === '23505') throw emailTaken();
        throw err;
      });
    await tx.query(`update invitations set accepted_at = now(), user_id = $3 where tenant_id = $1 and id = $2`, [inv.tenant_id, inv.id, userId]);
    const scope: Scope = { tenantId: inv.tenant_id, actor: { type: 'user', id: userId }, requestId };
    await audit(tx, scope, 'invitation.accepted', { type: 'invitation', id: inv.id }, { user_id: userId, email: inv.email, role: inv.role });
    return { tenantId: inv.tenant_id, userId, email: inv.email, role: inv.role };
  });
}
