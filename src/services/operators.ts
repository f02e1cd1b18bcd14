// The operators of the StockClerk service (super admins): made on the command line
// (`stockclerk admin create`), never through the API, and the cross-tenant reads their console
// stands on. A new operator who has no account gets one in a tenant of their own ("StockClerk
// operators"); an existing user is promoted and keeps their tenant and role.
import { hash } from '@node-rs/argon2';
import { withTx, type Db } from '../db/pool.ts';
import { createTenant } from '../db/tenants.ts';
import { guardianJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { raiseAlert, resolveAlerts } from './alerts.ts';
import { audit } from './audit-log.ts';
import { systemScope, type Q, type Scope } from './scope.ts';

export const OPERATORS_TENANT = 'StockClerk operators';

/** Makes `email` a super admin: promotes the user, or creates them (with `password`) in the operators' tenant. */
export async function makeSuperAdmin(db: Db, email: string, password: string | null): Promise<{ userId: string; tenantId: string; created: boolean }> {
  const address = email.trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(address)) throw new AppError(400, 'validation_failed', `${email} is not an email address`);
  const passwordHash = password === null ? null : await hash(password);
  return withTx(db, async (tx) => {
    const { rows } = await tx.query<{ id: string; tenant_id: string }>(
      `update users set is_super_admin = true where lower(email) = $1 returning id, tenant_id`,
      [address],
    );
    let user = rows[0] ? { userId: rows[0].id, tenantId: rows[0].tenant_id, created: false } : null;
    if (!user) {
      if (passwordHash === null) throw new AppError(400, 'validation_failed', `No user has the email ${address}: give --password to create one`);
      const t = await createTenant(tx, { name: OPERATORS_TENANT, owner: { email: address, passwordHash } });
      await tx.query(`update users set is_super_admin = true where tenant_id = $1 and id = $2`, [t.tenantId, t.userId]);
      user = { userId: t.userId!, tenantId: t.tenantId, created: true };
    }
    await audit(tx, systemScope(user.tenantId), 'user.made_super_admin', { type: 'user', id: user.userId }, { created: user.created });
    return user;
  });
}

/**
 * An operator's kill switch for one tenant: none of its jobs is taken until resumed (src/engine/pause.ts).
 * Recorded in the tenant's audit log with the operator as the actor and the reason.
 */
export async function pauseTenant(tx: Q, operator: Scope, tenantId: string, reason: string): Promise<void> {
  const { rowCount } = await tx.query(`update tenants set sync_paused_at = coalesce(sync_paused_at, now()), sync_paused_reason = $2 where id = $1`, [
    tenantId,
    reason,
  ]);
  if (!rowCount) throw notFound('Tenant');
  await audit(tx, { ...operator, tenantId }, 'tenant.sync_paused', { type: 'tenant', id: tenantId }, { reason });
}

/** Lifts the pause: the tenant's waiting jobs run, and a Guardian run reconciles its channels. */
export async function resumeTenant(tx: Q, operator: Scope, tenantId: string): Promise<void> {
  const { rows } = await tx.query<{ was: boolean }>(
    `update tenants t set sync_paused_at = null, sync_paused_reason = null from tenants old
     where t.id = $1 and old.id = t.id returning old.sync_paused_at is not null as was`,
    [tenantId],
  );
  if (!rows[0]) throw notFound('Tenant');
  if (!rows[0].was) return;
  await addJobs(tx, [guardianJob(tenantId)]);
  await resolveAlerts(tx, tenantId, 'tenant_quarantined', [tenantId]);
  await audit(tx, { ...operator, tenantId }, 'tenant.sync_resumed', { type: 'tenant', id: tenantId });
}

/**
 * Parks a tenant whose jobs keep crashing (src/engine/quarantine.ts): the same pause an operator
 * sets, so none of its jobs is taken (they wait, nothing is lost) and nobody else's work waits
 * behind its retries; a critical alert says why. An operator releases it by resuming the tenant.
 * A tenant already paused stays as it is. Returns whether this call quarantined it.
 */
export async function quarantineTenant(tx: Q, tenantId: string, why: { task: string; attempts: number; error: string }): Promise<boolean> {
  const reason = `quarantined: ${why.task} crashed ${why.attempts} times (${why.error.slice(0, 200)})`;
  const { rowCount } = await tx.query(`update tenants set sync_paused_at = now(), sync_paused_reason = $2 where id = $1 and sync_paused_at is null`, [
    tenantId,
    reason,
  ]);
  if (!rowCount) return false;
  await raiseAlert(tx, tenantId, {
    type: 'tenant_quarantined',
    subject: tenantId,
    severity: 'critical',
    message: `Sync is paused: a ${why.task} job crashed ${why.attempts} times. Nothing is lost; StockClerk's operators have been told and resume it once fixed.`,
    data: { task: why.task, attempts: why.attempts, error: why.error.slice(0, 500) },
  });
  await audit(tx, systemScope(tenantId), 'tenant.quarantined', { type: 'tenant', id: tenantId }, { reason });
  return true;
}
