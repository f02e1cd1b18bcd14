// Row-level security's entry point (issue 11, point 7; policies in drizzle/0023_rls.sql): a
// transaction that runs as the role the policies bind, scoped to one tenant. A query in it that
// forgets its `tenant_id` filter still sees only that tenant's rows.
import { runTx, type Db, type Tx } from './pool.ts';

/** NOLOGIN, no BYPASSRLS, owns nothing: the policies apply to it. Entered with SET LOCAL ROLE. */
export const APP_ROLE = 'stockclerk_app';
/** The transaction-local setting the policies compare `tenant_id` with. Unset or empty: no rows. */
export const TENANT_SETTING = 'app.tenant_id';

/**
 * The statements that open a tenant transaction, sent with its first statement so RLS adds no
 * round trip to a transaction (they replace the plain `begin`). Both the role and the setting are LOCAL:
 * commit or rollback drops them, so a pooled connection never carries one into the next caller.
 */
export function beginAsTenant(tx: Pick<Tx, 'escapeLiteral'>, tenantId: string): string[] {
  return ['begin', `set local role ${APP_ROLE}`, `set local ${TENANT_SETTING} = ${tx.escapeLiteral(tenantId)}`];
}

/** `withTx` for tenant-scoped work: same retries, but under the tenant's row-level security. */
export function tenantTx<T>(db: Db, tenantId: string, fn: (tx: Tx) => Promise<T>, attempts = 5): Promise<T> {
  return runTx(db, (tx) => beginAsTenant(tx, tenantId), fn, attempts);
}
