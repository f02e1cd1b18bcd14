// A tenant's team: who is in it and with what role (src/domain/permissions.ts), role changes,
// removal and the transfer of ownership. A tenant always keeps an owner: the last one can be
// neither demoted nor removed (the tenant's users are locked while that is decided, so two
// admins demoting the last two owners at once cannot both succeed). A role change takes effect
// on the user's next request within seconds (the session check reads the role); a removal ends
// every session of the user (their sessions go with the row).
import { hash } from '@node-rs/argon2';
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { canAssign, isRole, type Role } from '../domain/permissions.ts';
import { emailInUse, emailTaken } from './accounts.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

const COLUMNS = 'u.id, u.email, u.role, u.created_at';

export interface Member {
  id: string;
  email: string;
  role: Role;
  created_at: Date;
}

export async function listUsers(q: Q, scope: Scope, p: PageRequest) {
  const { rows } = await q.query<Member>(`select ${COLUMNS} from users u where u.tenant_id = $1 and ($2::text is null or u.id > $2) order by u.id limit $3`, [
    scope.tenantId,
    p.after,
    p.limit + 1,
  ]);
  return page(rows, p.limit, (r) => r.id);
}

export async function getUser(q: Q, scope: Scope, id: string): Promise<Member> {
  const { rows } = await q.query<Member>(`select ${COLUMNS} from users u where u.tenant_id = $1 and u.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('User');
  return rows[0];
}

/** A new member with a password (an accepted invitation; tests). The email is unique across tenants. */
export async function addMember(tx: Q, scope: Scope, m: { email: string; password: string; role: Role }): Promise<Member> {
  const email = m.email.trim().toLowerCase();
  if (await emailInUse(tx, email)) throw emailTaken();
  const passwordHash = await hash(m.password);
  const { rows } = await tx
    .query<Member>(`insert into users (tenant_id, id, email, password_hash, role) values ($1, $2, $3, $4, $5) returning id, email, role, created_at`, [
      scope.tenantId,
      newId('usr'),
      email,
      passwordHash,
      m.role,
    ])
    .catch((err: { code?: string }) => {
      if (err.code === '23505') throw emailTaken();
      throw err;
    });
  await audit(tx, scope, 'user.added', { type: 'user', id: rows[0]!.id }, { email, role: m.role });
  return rows[0]!;
}

/** Locks the tenant's users (in id order) and answers them: every ownership decision reads them so. */
async function lockTeam(tx: Q, tenantId: string): Promise<Member[]> {
  const { rows } = await tx.query<Member>(`select ${COLUMNS} from users u where u.tenant_id = $1 order by u.id for update`, [tenantId]);
  return rows;
}

const lastOwner = () => new AppError(409, 'last_owner', 'A tenant keeps at least one owner: make someone else owner first');
const notYours = (what: string) => new AppError(403, 'forbidden', `Only an owner can ${what}`);

/** `actorRole`: the caller's role (an admin-scoped API key acts as an admin). */
export async function changeRole(tx: Q, scope: Scope, actorRole: Role, userId: string, role: string): Promise<Member> {
  if (!isRole(role)) throw new AppError(400, 'validation_failed', 'Unknown role', [{ path: 'role', message: 'owner, admin, editor or viewer' }]);
  const team = await lockTeam(tx, scope.tenantId);
  const target = team.find((u) => u.id === userId);
  if (!target) throw notFound('User');
  if (target.role === role) return target;
  if (!canAssign(actorRole, role)) throw notYours('make someone an owner');
  if (target.role === 'owner') {
    if (actorRole !== 'owner') throw notYours("change an owner's role");
    if (team.filter((u) => u.role === 'owner').length === 1) throw lastOwner();
  }
  const { rows } = await tx.query<Member>(`update users u set role = $3 where u.tenant_id = $1 and u.id = $2 returning ${COLUMNS}`, [
    scope.tenantId,
    userId,
    role,
  ]);
  await audit(tx, scope, 'user.role_changed', { type: 'user', id: userId }, { from: target.role, to: role });
  return rows[0]!;
}

/** Removes a member: their sessions end with them. Owners are removed by owners, never the last. */
export async function removeUser(tx: Q, scope: Scope, actorRole: Role, userId: string): Promise<void> {
  const team = await lockTeam(tx, scope.tenantId);
  const target = team.find((u) => u.id === userId);
  if (!target) throw notFound('User');
  if (target.role === 'owner') {
    if (actorRole !== 'owner') throw notYours('remove an owner');
    if (team.filter((u) => u.role === 'owner').length === 1) throw lastOwner();
  }
  await tx.query(`delete from users where tenant_id = $1 and id = $2`, [scope.tenantId, userId]);
  await audit(tx, scope, 'user.removed', { type: 'user', id: userId }, { email: target.email, role: target.role });
}

/** The caller (an owner) makes `userId` owner and becomes an admin. */
export async function transferOwnership(tx: Q, scope: Scope, fromUserId: string, toUserId: string): Promise<Member> {
  const team = await lockTeam(tx, scope.tenantId);
  const from = team.find((u) => u.id === fromUserId);
  const to = team.find((u) => u.id === toUserId);
  if (!to) throw notFound('User');
  if (!from || from.role !== 'owner') throw notYours('transfer ownership');
  if (from.id === to.id) throw new AppError(409, 'conflict', 'You already own this tenant');
  await tx.query(`update users set role = 'admin' where tenant_id = $1 and id = $2`, [scope.tenantId, from.id]);
  const { rows } = await tx.query<Member>(`update users u set role = 'owner' where u.tenant_id = $1 and u.id = $2 returning ${COLUMNS}`, [
    scope.tenantId,
    to.id,
  ]);
  await audit(tx, scope, 'tenant.ownership_transferred', { type: 'user', id: to.id }, { from: from.id, to: to.id, previous_role: to.role });
  return rows[0]!;
}
