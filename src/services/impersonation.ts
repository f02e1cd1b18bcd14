// Impersonation: an operator (super admin) sees a tenant's dashboard as its users do, to help a
// merchant without their password. It is bounded on every side:
// - time: 15 minutes, the token's and the row's expiry, and either side can end it sooner (the
//   operator from the console, the merchant's owners and admins from the banner);
// - power: read-only unless the operator asks for write (then an editor's permissions: stock and
//   items, never users, keys, channels' credentials or billing);
// - record: the start, the end and every request made with it are written to the tenant's audit
//   log and to the operator's own tenant's, so neither side has to trust the other's account of it.
// The row in `impersonations` is the authority; the JWT only names it (src/http/plugins/auth.ts
// checks the row, through a cache of a few seconds, on every request).
import { withTx, type Db } from '../db/pool.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { audit } from './audit-log.ts';
import type { Q, Scope } from './scope.ts';

export const IMPERSONATION_TTL_S = 15 * 60;

export interface Impersonation {
  id: string;
  tenant_id: string;
  operator_user_id: string;
  operator_email: string;
  operator_tenant_id: string;
  reason: string;
  read_only: boolean;
  started_at: Date;
  expires_at: Date;
  ended_at: Date | null;
}

const COLUMNS = `i.id, i.tenant_id, i.operator_user_id, i.operator_email, i.operator_tenant_id, i.reason, i.read_only,
  i.created_at as started_at, i.expires_at, i.ended_at`;

/** The operator's scope seen from the tenant being looked at: the operator is the actor. */
const inTenant = (operator: Scope, tenantId: string): Scope => ({ ...operator, tenantId });

/**
 * Starts an impersonation of `tenantId` by the operator `operator` (their own tenant and user id),
 * audited in both tenants. The caller mints the token (it holds the signing key).
 */
export async function startImpersonation(
  tx: Q,
  operator: Scope & { userId: string },
  tenantId: string,
  input: { reason: string; readOnly: boolean },
): Promise<Impersonation> {
  {
    const { rows: op } = await tx.query<{ email: string }>(`select email from users where tenant_id = $1 and id = $2 and is_super_admin`, [
      operator.tenantId,
      operator.userId,
    ]);
    if (!op[0]) throw new AppError(403, 'forbidden', 'Only an operator can impersonate');
    if (tenantId === operator.tenantId) throw new AppError(400, 'validation_failed', 'This is your own tenant: no impersonation needed');
    const { rows } = await tx.query<Impersonation>(
      `insert into impersonations (tenant_id, id, operator_user_id, operator_email, operator_tenant_id, reason, read_only, expires_at)
       select t.id, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8) from tenants t where t.id = $1
       returning ${COLUMNS.replaceAll('i.', '')}`,
      [tenantId, newId('imp'), operator.userId, op[0].email, operator.tenantId, input.reason, input.readOnly, IMPERSONATION_TTL_S],
    );
    const imp = rows[0];
    if (!imp) throw notFound('Tenant');
    const detail = { impersonation_id: imp.id, reason: imp.reason, read_only: imp.read_only, expires_at: imp.expires_at.toISOString() };
    await audit(tx, inTenant(operator, tenantId), 'impersonation.started', { type: 'impersonation', id: imp.id }, { ...detail, operator: imp.operator_email });
    await audit(tx, operator, 'impersonation.started', { type: 'tenant', id: tenantId }, detail);
    return imp;
  }
}

/** A live impersonation (not ended, not expired, its operator still an operator), or null. */
export async function liveImpersonation(q: Q, tenantId: string, id: string): Promise<Impersonation | null> {
  const { rows } = await q.query<Impersonation>(
    `select ${COLUMNS} from impersonations i
     join users u on u.tenant_id = i.operator_tenant_id and u.id = i.operator_user_id and u.is_super_admin
     where i.tenant_id = $1 and i.id = $2 and i.ended_at is null and i.expires_at > now()`,
    [tenantId, id],
  );
  return rows[0] ?? null;
}

/** The tenant's live impersonations: what its users' banner shows. */
export async function activeImpersonations(q: Q, tenantId: string): Promise<Impersonation[]> {
  const { rows } = await q.query<Impersonation>(
    `select ${COLUMNS} from impersonations i where i.tenant_id = $1 and i.ended_at is null and i.expires_at > now() order by i.created_at`,
    [tenantId],
  );
  return rows;
}

/**
 * Ends an impersonation early; `by` says who (the operator, or one of the tenant's users). Audited
 * in both tenants. Ending one already over is a no-op (false).
 */
export async function endImpersonation(db: Db, tenantId: string, id: string, by: Scope, byLabel: 'operator' | 'merchant'): Promise<boolean> {
  return withTx(db, async (tx) => {
    const { rows } = await tx.query<Impersonation>(
      `update impersonations i set ended_at = now() where i.tenant_id = $1 and i.id = $2 and i.ended_at is null and i.expires_at > now()
       returning ${COLUMNS}`,
      [tenantId, id],
    );
    const imp = rows[0];
    if (!imp) {
      const { rowCount } = await tx.query(`select 1 from impersonations where tenant_id = $1 and id = $2`, [tenantId, id]);
      if (!rowCount) throw notFound('Impersonation');
      return false;
    }
    await audit(tx, { ...by, tenantId }, 'impersonation.ended', { type: 'impersonation', id }, { ended_by: byLabel });
    await audit(
      tx,
      { ...by, tenantId: imp.operator_tenant_id },
      'impersonation.ended',
      { type: 'tenant', id: tenantId },
      { impersonation_id: id, ended_by: byLabel },
    );
    return true;
  });
}

/**
 * One request made while impersonating, in both audit logs (one statement, outside the request's
 * own transaction: a refused or failed request is recorded too).
 */
export async function auditImpersonatedRequest(
  q: Q,
  imp: Pick<Impersonation, 'id' | 'tenant_id' | 'operator_user_id' | 'operator_tenant_id'>,
  req: { id: string; method: string; path: string; status: number },
): Promise<void> {
  const changes = JSON.stringify({ impersonation_id: imp.id, method: req.method, path: req.path, status: req.status });
  await q.query(
    `insert into audit_log (tenant_id, actor_type, actor_id, action, resource_type, resource_id, changes, request_id)
     values ($1, 'operator', $3, 'impersonation.request', 'impersonation', $4, $5::jsonb, $6),
            ($2, 'operator', $3, 'impersonation.request', 'tenant', $1, $5::jsonb, $6)`,
    [imp.tenant_id, imp.operator_tenant_id, imp.operator_user_id, imp.id, changes, req.id],
  );
}
