// Reads the read replica may serve (src/db/replica.ts). Only these routes call `replicaRead`:
//
//   GET /api/v1/overview                    the dashboard's Overview (channel health, counts)
//   GET /api/v1/overview/activity           sales and syncs per hour
//   GET /api/v1/item-rows                   the dashboard's Items grid
//   GET /api/v1/reports/low-stock
//   GET /api/v1/reports/movement-summary
//   GET /api/v1/reports/stock-on-hand
//
// Aggregates a person looks at, where a few seconds' staleness changes nothing. Everything else
// reads the primary: writes and the reads inside them, ETag and idempotency checks before a
// write, sign-in and credential checks, single resources and lists an integration reads back
// after writing them. A tenant that wrote through this process (`trackOwnWrites`) reads these on
// the primary too until the replica holds that write, so a merchant's own change never seems to
// vanish; a write through another API process, or by a worker, is not known here and can look late
// by up to REPLICA_MAX_LAG_MS.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ReadChoice } from '../db/replica.ts';
import { AppError } from '../domain/errors.ts';
import type { AppContext } from '../engine/context.ts';
import { metrics } from '../metrics.ts';
import type { Q } from '../services/scope.ts';
import type { AuthInfo } from './plugins/auth.ts';

/** What a replica-aware answer may carry (CORS exposes them to a dashboard on another origin). */
export const REPLICA_HEADERS = ['x-read-source', 'x-data-staleness-ms', 'x-read-fallback'];

/**
 * Runs the read on the replica when it is fresh enough, else on the primary. With a replica
 * configured, the answer says which served it (X-Read-Source) and, from the replica, how stale
 * it may be (X-Data-Staleness-Ms); a primary answer names why (X-Read-Fallback). Without one,
 * nothing changes: the primary, no headers.
 */
export async function replicaRead<T>(ctx: AppContext, req: FastifyRequest, reply: FastifyReply, fn: (q: Q) => Promise<T>): Promise<T> {
  const replica = ctx.replica;
  if (!replica) return fn(ctx.db);
  let choice: ReadChoice = replica.choose(req.auth.tenantId);
  if (choice.source === 'replica') {
    try {
      const out = await fn(replica.pool);
      metrics.replicaReads.inc({ source: 'replica', reason: 'replica' });
      void reply.header('x-read-source', 'replica').header('x-data-staleness-ms', String(choice.stalenessMs));
      return out;
    } catch (err) {
      // A refusal (404, 400) is the answer wherever it ran; anything else (the standby went away,
      // a query cancelled by replay) is the replica's trouble, and the primary answers instead.
      if (err instanceof AppError) throw err;
      replica.noteFailure(err);
      choice = { source: 'primary', reason: 'replica_error' };
    }
  }
  metrics.replicaReads.inc({ source: 'primary', reason: choice.reason });
  void reply.header('x-read-source', 'primary').header('x-read-fallback', choice.reason);
  return fn(ctx.db);
}

/**
 * Notes every tenant that sent anything but a read, before the answer leaves (its transaction has
 * committed by then, and its next request cannot arrive first). Every route, not only `write()`:
 * a few services open their own tenant transaction (a listing import). Refusals are noted too: a
 * 4xx or 5xx may follow a commit, and a note costs one read on the primary.
 */
export function trackOwnWrites(app: FastifyInstance, ctx: AppContext): void {
  const replica = ctx.replica;
  if (!replica) return;
  app.addHook('onSend', async (req) => {
    const tenantId = (req.auth as AuthInfo | undefined)?.tenantId;
    if (tenantId && req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'OPTIONS') replica.noteWrite(tenantId);
  });
}
