// A write route's transaction: the service call and, for a POST with an Idempotency-Key, the stored
// answer commit together (a retry replays the answer, never the effect twice). It runs under the
// caller's tenant's row-level security (src/db/tenant-tx.ts).
import type { FastifyRequest } from 'fastify';
import { jobsWritten, nothingFollows, withTx, type Tx } from '../db/pool.ts';
import { tenantTx } from '../db/tenant-tx.ts';
import type { AppContext } from '../engine/context.ts';
import type { Scope } from '../services/scope.ts';
import { finishInTx } from './plugins/idempotency.ts';
import { scopeOf } from './scope.ts';

export interface WriteOptions<T> {
  /** Headers stored with the answer (an ETag), replayed with it. */
  headers?: (out: T) => Record<string, string>;
  /** The answer holds a secret shown once (a new API key, a signing secret): it is stored sealed, never as plain text. */
  sealed?: boolean;
}

export function write<T>(
  ctx: AppContext,
  req: FastifyRequest,
  status: number,
  fn: (tx: Tx, scope: Scope) => Promise<T>,
  opts: WriteOptions<T> | ((out: T) => Record<string, string>) = {},
): Promise<T> {
  const scope = scopeOf(req);
  return inTx(ctx, req, status, fn, opts, (body) => tenantTx(ctx.db, scope.tenantId, body));
}

/**
 * `write()` for an operator acting on ANOTHER tenant (pause, resume, plan): the one write route path
 * that bypasses row-level security, since the caller's own tenant is not the one changed. Only for
 * routes whose `doc({ scope: 'operator' })` restricts them to super admins.
 */
export function operatorWrite<T>(
  ctx: AppContext,
  req: FastifyRequest,
  status: number,
  fn: (tx: Tx, scope: Scope) => Promise<T>,
  opts: WriteOptions<T> | ((out: T) => Record<string, string>) = {},
): Promise<T> {
  return inTx(ctx, req, status, fn, opts, (body) => withTx(ctx.db, body));
}

function inTx<T>(
  ctx: AppContext,
  req: FastifyRequest,
  status: number,
  fn: (tx: Tx, scope: Scope) => Promise<T>,
  opts: WriteOptions<T> | ((out: T) => Record<string, string>),
  run: (body: (tx: Tx) => Promise<T>) => Promise<T>,
): Promise<T> {
  const o = typeof opts === 'function' ? { headers: opts } : opts;
  const scope = scopeOf(req);
  let jobs = true;
  return run(async (tx) => {
    // Without an Idempotency-Key no answer is stored after the service's work: its last statement
    // may carry the commit (commitWith, src/db/pool.ts).
    if (!req.idem) nothingFollows(tx);
    const out = await fn(tx, scope);
    await finishInTx(tx, req, status, out, o.headers?.(out) ?? {}, o.sealed ? ctx.sealer : undefined);
    jobs = jobsWritten(tx);
    return out;
  }).then((out) => {
    // The write signalled jobs (outbox rows): this process's relay moves them now rather than at
    // its next look, which an idle relay makes seldom (src/engine/relay.ts). A write that signalled
    // none (most take-outs of a tenant without channels) costs the relay nothing.
    if (jobs) ctx.jobs.nudgeRelay();
    return out;
  });
}
