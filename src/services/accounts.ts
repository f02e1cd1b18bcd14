// Accounts: a merchant registers (a tenant, its owner and its first location), users log in with
// email and password, and the tenant's own settings (name, the Guardian's cadence and drift
// threshold). Session tokens are HTTP's business (src/http/plugins/auth.ts): these functions say
// who someone is, never how they prove it on the next request.
import { hash, verify } from '@node-rs/argon2';
import { withTx, type Db } from '../db/pool.ts';
import { createTenant } from '../db/tenants.ts';
import { AppError, notFound } from '../domain/errors.ts';
import type { MailContext } from '../mail/outbox.ts';
import { audit } from './audit-log.ts';
import { assertGuardianInterval } from './billing.ts';
import { sendVerification } from './email-verification.ts';
import type { Q, Scope } from './scope.ts';

export const emailTaken = () => new AppError(409, 'email_taken', 'An account with this email already exists');

/**
 * Whether any tenant has an account with this address (lower-cased). Through a SECURITY DEFINER
 * function (drizzle/0023_rls.sql), so it answers across tenants inside a tenant transaction too,
 * where row-level security shows `users` of one tenant only.
 */
export async function emailInUse(q: Q, email: string): Promise<boolean> {
  const { rows } = await q.query<{ taken: boolean }>(`select account_email_exists($1) as taken`, [email]);
  return rows[0]!.taken;
}

export interface Registration {
  businessName: string;
  locationName?: string;
  /** One account per address, whatever its case (kept lower-cased). */
  email: string;
  password: string;
  guardianIntervalS: number;
  /** Mails the owner a link to verify the address (src/services/email-verification.ts). */
  mail?: MailContext;
}

/**
 * A new tenant with its owner and first location. The password is hashed before the transaction
 * opens (argon2 takes ~50 ms of CPU; no connection waits on it). A taken email is a 409, also when
 * two registrations race (the unique index decides).
 */
export async function register(db: Db, r: Registration): Promise<{ tenantId: string; userId: string; locationId: string }> {
  const email = r.email.trim().toLowerCase();
  const passwordHash = await hash(r.password);
  const created = await withTx(db, async (tx) => {
    if (await emailInUse(tx, email)) throw emailTaken();
    const t = await createTenant(tx, {
      name: r.businessName,
      locationName: r.locationName,
      owner: { email, passwordHash },
      guardianIntervalS: r.guardianIntervalS,
    });
    if (r.mail) await sendVerification(tx, r.mail, { tenantId: t.tenantId, userId: t.userId!, email });
    return t;
  }).catch((err: { code?: string }) => {
    if (err.code === '23505') throw emailTaken();
    throw err;
  });
  return { tenantId: created.tenantId, userId: created.userId!, locationId: created.locationId };
}

// A hash to verify against when the email is unknown, so both paths take the same time.
let dummyHash: Promise<string> | null = null;

/** The user these credentials belong to; 401 invalid_credentials, in the same time, for a wrong email or password. */
export async function login(q: Q, email: string, password: string): Promise<{ tenantId: string; userId: string }> {
  const { rows } = await q.query<{ id: string; tenant_id: string; password_hash: string }>(
    `select id, tenant_id, password_hash from users where lower(email) = $1`,
    [email.trim().toLowerCase()],
  );
  const user = rows[0];
  dummyHash ??= hash('not-a-real-password-0');
  const ok = await verify(user?.password_hash ?? (await dummyHash), password).catch(() => false);
  if (!user || !ok) throw new AppError(401, 'invalid_credentials', 'Email or password is wrong');
  return { tenantId: user.tenant_id, userId: user.id };
}

/** A login, in the audit log of the user's tenant. */
export async function auditLogin(q: Q, user: { tenantId: string; userId: string }, requestId: string | null): Promise<void> {
  await audit(q, { tenantId: user.tenantId, actor: { type: 'user', id: user.userId }, requestId }, 'user.logged_in', { type: 'user', id: user.userId });
}

/**
 * A failed login, in the audit log of the tenant whose user the email names (an unknown email has
 * no tenant to tell: the request log has it). The actor is the user the attempt was made as.
 */
export async function auditFailedLogin(q: Q, email: string, requestId: string | null, reason: string): Promise<void> {
  const { rows } = await q.query<{ id: string; tenant_id: string }>(`select id, tenant_id from users where lower(email) = $1`, [email.trim().toLowerCase()]);
  const u = rows[0];
  if (!u) return;
  await audit(q, { tenantId: u.tenant_id, actor: { type: 'user', id: u.id }, requestId }, 'user.login_failed', { type: 'user', id: u.id }, { reason });
}

/** The caller's tenant and, for a session, its user; 401 when either no longer exists. */
export async function whoAmI(q: Q, tenantId: string, userId: string | null) {
  const { rows } = await q.query(
    `select u.id, u.email, u.role, u.email_verified_at is not null as email_verified, u.alert_email, t.id as tenant_id, t.name as tenant_name, t.guardian_interval_s, t.drift_threshold
     from tenants t left join users u on u.tenant_id = t.id and u.id = $2 where t.id = $1`,
    [tenantId, userId],
  );
  const r = rows[0];
  if (!r || (userId && !r.id)) throw new AppError(401, 'unauthorized', 'The account no longer exists');
  return {
    user: userId
      ? {
          id: r.id as string,
          email: r.email as string,
          role: r.role as string,
          email_verified: r.email_verified as boolean,
          alert_email: r.alert_email as string,
        }
      : null,
    tenant: {
      id: r.tenant_id as string,
      name: r.tenant_name as string,
      guardian_interval_s: r.guardian_interval_s as number,
      drift_threshold: r.drift_threshold as number,
    },
  };
}

const TENANT_COLUMNS = 'id, name, plan, guardian_interval_s, drift_threshold, guardian_next_at, created_at';

export async function getTenant(q: Q, scope: Scope) {
  const { rows } = await q.query(`select ${TENANT_COLUMNS} from tenants where id = $1`, [scope.tenantId]);
  if (!rows[0]) throw notFound('Tenant');
  return rows[0];
}

export interface TenantPatch {
  name?: string;
  guardian_interval_s?: number;
  drift_threshold?: number;
}

/** A shorter Guardian interval brings the next run forward; a longer one leaves it where it is. */
export async function updateTenant(tx: Q, scope: Scope, patch: TenantPatch) {
  if (patch.guardian_interval_s !== undefined) await assertGuardianInterval(tx, scope.tenantId, patch.guardian_interval_s);
  const { rows } = await tx.query(
    `update tenants set name = coalesce($2, name), drift_threshold = coalesce($4, drift_threshold),
            guardian_interval_s = coalesce($3, guardian_interval_s),
            guardian_next_at = case when $3::int is null then guardian_next_at
                                    else least(guardian_next_at, now() + make_interval(secs => $3::int)) end
     where id = $1 returning ${TENANT_COLUMNS}`,
    [scope.tenantId, patch.name ?? null, patch.guardian_interval_s ?? null, patch.drift_threshold ?? null],
  );
  if (!rows[0]) throw notFound('Tenant');
  await audit(tx, scope, 'tenant.updated', { type: 'tenant', id: scope.tenantId }, { ...patch });
  return rows[0];
}
