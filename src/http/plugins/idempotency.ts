// Idempotency-Key on every POST (invariant 2 for API clients). The first response to a key is
// stored and replayed for 24 h; the same key with another request -> 422; while the first is still
// running -> 409. Keys are scoped per tenant and caller.
//
// 1. Before the handler, the key is reserved in a statement of its own (status 'running', a lock
//    token): a concurrent duplicate sees the committed reservation and gets 409 at once.
// 2. A handler that writes records its response with `finishInTx` inside its own transaction, so
//    the effect and the stored response commit together or not at all: a retry after a crash
//    either replays the response or runs the request again, never doubles it. The update names
//    the lock token; if another request took the key over, the effect rolls back.
// 3. Handlers that do not write through one transaction (queueing a job, calling a channel) get
//    their 2xx response stored after the fact (onSend). A non-2xx answer releases the key: the
//    client may retry the same key once it fixed the cause.
// A reservation whose holder died (no answer within STALE_S) is taken over by the next retry.
// Expiry is lazy (an expired key is reused in place) plus a sweep on a sample of requests.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Sealer } from '../../db/crypto.ts';
import { finishKey, readKey, releaseKey, reserveKey, sweepExpiredKeys, type IdemKey } from '../../db/idempotency.ts';
import type { Tx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { ApiError } from '../errors.ts';
import { MAX_BODY_DEPTH, tooDeep } from './body-depth.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;
const STALE_S = 60;
const KEPT_HEADERS = ['etag', 'location'];
const SEALED = 'sealed:';

interface Reservation {
  key: string;
  token: string;
  done: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    idem?: Reservation;
  }
}

/**
 * JSON with object keys sorted: the same body sent with its fields in another order is the same
 * request. It runs before validation, on any body: the depth is bounded (the body-depth hook
 * refuses deeper bodies first; this bound keeps the recursion safe on its own).
 */
function canonical(v: unknown, depth = 0): string {
  if (depth > MAX_BODY_DEPTH + 1) throw tooDeep();
  if (Array.isArray(v)) return `[${v.map((x) => canonical(x, depth + 1)).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k], depth + 1)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

function requestHash(req: FastifyRequest): string {
  return createHash('sha256')
    .update(canonical([req.method, req.url, req.body ?? null]))
    .digest('hex');
}

const keyOf = (req: FastifyRequest, key: string): IdemKey => ({ tenantId: req.auth.tenantId, actorId: req.auth.actorId, key });

async function reserve(ctx: AppContext, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> {
  const key = req.headers['idempotency-key'];
  if (key === undefined) return;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new ApiError(400, 'validation_failed', 'Idempotency-Key must be 1-255 printable ASCII characters', [{ path: 'Idempotency-Key', message: 'invalid' }]);
  }
  const k = keyOf(req, key);
  const hash = requestHash(req);
  for (let attempt = 0; attempt < 3; attempt++) {
    const token = randomUUID();
    if (await reserveKey(ctx.db, k, hash, token, STALE_S)) {
      req.idem = { key, token, done: false };
      if (Math.random() < 0.01) void sweepExpiredKeys(ctx.db).catch(() => {});
      return;
    }
    const prior = await readKey(ctx.db, k);
    if (!prior) continue; // released between the two statements: try to reserve again
    if (prior.request_hash !== hash) {
      throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request', { key });
    }
    if (prior.status === 'running') {
      throw new ApiError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still running; retry later', { key });
    }
    for (const [h, v] of Object.entries(prior.response_headers ?? {})) reply.header(h, v);
    reply.header('idempotent-replayed', 'true');
    reply.code(prior.response_status);
    if (prior.response_body === null) return reply.send();
    const text = prior.response_body.startsWith(SEALED) ? JSON.stringify(ctx.sealer.open(prior.response_body.slice(SEALED.length))) : prior.response_body;
    return reply.type('application/json; charset=utf-8').send(text);
  }
  throw new ApiError(409, 'idempotency_key_in_use', 'A request with this Idempotency-Key is still running; retry later', { key });
}

/**
 * Records the response in the handler's transaction (same commit as the effect). Throws, rolling
 * the effect back, if the reservation is no longer this request's.
 */
export async function finishInTx(
  tx: Pick<Tx, 'query'>,
  req: FastifyRequest,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  /** For an answer holding a secret (a new API key): stored encrypted, not as plain text. */
  sealer?: Sealer,
): Promise<void> {
  const r = req.idem;
  if (!r) return;
  const stored = body === undefined ? null : sealer ? SEALED + sealer.seal(body) : JSON.stringify(body);
  if (!(await finishKey(tx, keyOf(req, r.key), r.token, { status, body: stored, headers }))) {
    throw new ApiError(409, 'idempotency_key_in_use', 'Another request took over this Idempotency-Key', { key: r.key });
  }
  r.done = true;
}

export function installIdempotency(app: FastifyInstance, ctx: AppContext): void {
  app.addHook('preHandler', async (req, reply) => {
    if (req.method !== 'POST') return;
    return reserve(ctx, req, reply);
  });
  app.addHook('onSend', async (req, reply, payload) => {
    const r = req.idem;
    if (!r) return payload;
    const ok = reply.statusCode >= 200 && reply.statusCode < 300;
    if (ok && r.done) return payload;
    r.done = true;
    if (ok) {
      const headers: Record<string, string> = {};
      for (const h of KEPT_HEADERS) {
        const v = reply.getHeader(h);
        if (typeof v === 'string') headers[h] = v;
      }
      await finishKey(ctx.db, keyOf(req, r.key), r.token, {
        status: reply.statusCode,
        body: typeof payload === 'string' && payload !== '' ? payload : null,
        headers,
      });
    } else {
      // Also after a finishInTx whose transaction then rolled back: the row still holds our token.
      await releaseKey(ctx.db, keyOf(req, r.key), r.token);
    }
    return payload;
  });
}
