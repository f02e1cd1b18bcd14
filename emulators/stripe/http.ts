// The HTTP layer in front of Stripe's v1 API: form bodies and bracket query strings, the
// secret-key check, the fault knobs, Idempotency-Key replay, Stripe's error bodies and its
// response headers. Routes (api.ts) only see parsed params and throw StripeApiError.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badKey, idempotencyMismatch, NO_KEY, RATE_LIMITED, SERVER_ERROR, StripeApiError, type StripeErrorBody } from './errors.ts';
import { newId } from './ids.ts';
import { parseForm } from './form.ts';
import { API_VERSION } from './objects.ts';
import type { StripeCore, Cause } from './core.ts';

/** Fault knobs (POST /_control/knobs, /_control/faults). Never saved with the account. */
export interface Faults {
  /** Added before every /v1 answer. */
  latencyMs: number;
  /** Share of /v1 calls answered 500 api_error / 429 (nothing applied). */
  errorRate: number;
  throttleRate: number;
  /** The next calls to fail, one status each (500 or 429), consumed first to last. */
  failNext: Array<500 | 429>;
}

export const DEFAULT_FAULTS: Faults = { latencyMs: 0, errorRate: 0, throttleRate: 0, failNext: [] };

const DAY_MS = 24 * 3600 * 1000;

type Req = FastifyRequest & { stripeKey?: string; stripeRequestId?: string; rawBody?: string; replayKey?: string };

function fail(reply: FastifyReply, status: number, body: StripeErrorBody): FastifyReply {
  return reply.code(status).send({ error: body });
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The secret key of a request: `Authorization: Bearer sk_...` or HTTP Basic with the key as user name (both documented). */
function keyOf(req: FastifyRequest): string | null {
  const auth = header(req, 'authorization');
  if (!auth) return null;
  if (auth.startsWith('Bearer ')) return auth.slice(7).trim();
  if (auth.startsWith('Basic ')) return Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0] ?? '';
  return '';
}

/** The request an event is attributed to (`event.request`). */
export function causeOf(req: FastifyRequest): Cause {
  return { id: (req as Req).stripeRequestId ?? null, idempotency_key: header(req, 'idempotency-key') ?? null };
}

export function installHttp(app: FastifyInstance, core: StripeCore, opts: { secretKey: string | null; faults: () => Faults }): void {
  // Form bodies keep their raw text: Idempotency-Key replay compares parameters exactly.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (req, body, done) => {
    (req as Req).rawBody = body as string;
    try {
      done(null, parseForm(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/')) return;
    const r = req as Req;
    r.stripeRequestId = newId('req', 14);
    void reply.header('request-id', r.stripeRequestId);
    void reply.header('stripe-version', header(req, 'stripe-version') ?? API_VERSION);
    const key = keyOf(req);
    if (!key) return fail(reply, 401, NO_KEY);
    // GUESS: which keys are valid. With `secretKey` set only that key; otherwise any test-mode
    // secret or restricted key (`sk_test_...`, `rk_test_...`) opens the one emulated account,
    // and live keys are refused (this is a test-mode account).
    const ok = opts.secretKey ? key === opts.secretKey : /^(sk|rk)_test_[A-Za-z0-9_]{4,}$/.test(key);
    if (!ok) return fail(reply, 401, badKey(key));
    r.stripeKey = key;
    const f = opts.faults();
    if (f.latencyMs > 0) await new Promise((res) => setTimeout(res, f.latencyMs));
    let fault: 500 | 429 | null = f.failNext.shift() ?? null;
    if (fault === null) {
      const x = Math.random();
      if (x < f.errorRate) fault = 500;
      else if (x < f.errorRate + f.throttleRate) fault = 429;
    }
    // Faults strike before the endpoint runs, so nothing is applied and nothing is saved for
    // the Idempotency-Key: the client's retry with the same key runs for real.
    if (fault === 500) return fail(reply, 500, SERVER_ERROR);
    if (fault === 429) return fail(reply, 429, RATE_LIMITED);
  });

  // Idempotency-Key (docs.stripe.com/api/idempotent_requests): the first response to a key is
  // saved and replayed for 24 hours, including errors once the endpoint ran; the same key with
  // other parameters is refused. Keys belong to the account (here: to the API key).
  app.addHook('preHandler', async (req, reply) => {
    const r = req as Req;
    const key = header(req, 'idempotency-key');
    if (!r.stripeKey || !key || req.method !== 'POST') return;
    void reply.header('idempotency-key', key);
    const slot = `${r.stripeKey}\n${key}`;
    const fingerprint = `${req.method} ${req.url}\n${r.rawBody ?? JSON.stringify(req.body ?? null)}`;
    const saved = core.state.idempotency.get(slot);
    if (saved && Date.now() - saved.at < DAY_MS) {
      if (saved.fingerprint !== fingerprint) return fail(reply, 400, idempotencyMismatch(key));
      if (saved.status === 0) {
        return fail(reply, 409, {
          type: 'idempotency_error',
          message: 'There is currently another in-progress request using this Stripe-Idempotency key. Please try again later.',
        });
      }
      return reply.code(saved.status).header('idempotent-replayed', 'true').header('content-type', 'application/json; charset=utf-8').send(saved.body);
    }
    r.replayKey = slot;
    core.state.idempotency.delete(slot); // an expired record: re-inserted last, so the map stays in age order
    core.state.idempotency.set(slot, { fingerprint, status: 0, body: '', at: Date.now() });
  });

  app.addHook('onSend', async (req, reply, payload) => {
    const r = req as Req;
    if (!r.replayKey) return payload;
    const saved = core.state.idempotency.get(r.replayKey);
    // GUESS: a 4xx refusal of the parameters is not kept (Stripe keeps results only once the
    // endpoint began executing, and validation comes first); successes and 5xx are.
    if (!saved || (reply.statusCode >= 400 && reply.statusCode < 500)) core.state.idempotency.delete(r.replayKey);
    else Object.assign(saved, { status: reply.statusCode, body: typeof payload === 'string' ? payload : JSON.stringify(payload) });
    prune(core);
    core.touch();
    return payload;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof StripeApiError) return fail(reply, err.status, err.body);
    if (err.statusCode && err.statusCode < 500) return fail(reply, err.statusCode, { type: 'invalid_request_error', message: err.message });
    req.log.error(err);
    return fail(reply, 500, SERVER_ERROR);
  });

  app.setNotFoundHandler((req, reply) =>
    fail(reply, 404, {
      type: 'invalid_request_error',
      message: `Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    }),
  );
}

function prune(core: StripeCore): void {
  const cut = Date.now() - DAY_MS;
  for (const [k, v] of core.state.idempotency) {
    if (v.at >= cut) break; // insertion order is age order
    core.state.idempotency.delete(k);
  }
}
