// Who is calling a service: the tenant every query is scoped by (invariant 6), and the actor and
// request the audit log records. Routes build it from the request (src/http/scope.ts); jobs and the
// CLI build their own (`systemScope`).
import type { Tx } from '../db/pool.ts';

export interface Scope {
  tenantId: string;
  /** `operator`: a super admin impersonating the tenant (src/services/impersonation.ts); id is their user id. */
  actor: { type: 'user' | 'api_key' | 'platform_key' | 'system' | 'operator'; id: string };
  /** The HTTP request id, or a job's id: the audit log links a change to the call that made it. */
  requestId: string | null;
}

/** A connection or a transaction: reads take either, writes take the caller's transaction. */
export type Q = Pick<Tx, 'query'>;

export function systemScope(tenantId: string, requestId: string | null = null): Scope {
  return { tenantId, actor: { type: 'system', id: 'system' }, requestId };
}
