// Structured errors (invariant 7): {error: {code, message, details, request_id}} with a stable code.
import type { FastifyError, FastifyInstance } from 'fastify';
import { ZodError, type ZodType, type z } from 'zod';
import { isConnectionError } from '../db/watch.ts';
import { LedgerInputError } from '../ledger/ledger.ts';
import { AppError as ApiError } from '../domain/errors.ts';

// Services throw AppError (src/domain/errors.ts); HTTP code calls it ApiError for what it adds itself.
export { AppError as ApiError, notFound } from '../domain/errors.ts';

/** Validates with zod; a failure is a 400 validation_failed listing each bad field. */
export function parse<S extends ZodType>(schema: S, data: unknown): z.infer<S> {
  const r = schema.safeParse(data ?? {});
  if (!r.success) throw validationError(r.error);
  return r.data;
}

function validationError(err: ZodError): ApiError {
  return new ApiError(
    400,
    'validation_failed',
    'The request is not valid',
    err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

/** Seconds a client is asked to wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_S = 5;

const FASTIFY_CODES: Record<string, [number, string]> = {
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'invalid_request'],
  FST_ERR_VALIDATION: [400, 'validation_failed'],
};

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    let status = 500;
    let code = 'internal_error';
    let message = 'Something went wrong on our side; it has been logged';
    let details: unknown = null;
    if (err instanceof ApiError) {
      ({ status, code, message, details } = err);
    } else if (err instanceof ZodError) {
      ({ status, code, message, details } = validationError(err));
    } else if (err instanceof LedgerInputError) {
      [status, code, message] = [400, 'validation_failed', err.message];
    } else if ('code' in err && typeof err.code === 'string' && FASTIFY_CODES[err.code]) {
      [status, code] = FASTIFY_CODES[err.code]!;
      message = err.message;
    } else if (err instanceof SyntaxError && 'statusCode' in err) {
      [status, code, message] = [400, 'invalid_json', 'The body is not valid JSON'];
    } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      [status, code, message] = [err.statusCode, 'invalid_request', err.message];
    } else if (['22P02', '22003', '22021', '22P05'].includes((err as { code?: string }).code ?? '')) {
      // Postgres: malformed / out-of-range value, or a NUL character, that slipped past validation.
      [status, code, message] = [400, 'validation_failed', 'A value is out of range or malformed'];
    } else if (isConnectionError(err)) {
      // The database is away (restarting, failing over): nothing was done, and a retry will work.
      // Platforms retry a webhook answered 503; Retry-After says when (the watch probes every few seconds).
      [status, code, message] = [503, 'database_unavailable', 'The database is unreachable for a moment; nothing was changed, retry shortly'];
      void reply.header('retry-after', String(DATABASE_RETRY_AFTER_S));
    }
    // An outage is logged once by the database watch (src/db/watch.ts), not once per request.
    if (code === 'database_unavailable') req.log.warn({ err }, 'request refused: database unreachable');
    else if (status === 503) req.log.warn({ err }, `request refused: ${code}`);
    else if (status >= 500) req.log.error({ err }, 'request failed');
    void reply.code(status).send({ error: { code, message, details, request_id: req.id } });
  });
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).send({ error: { code: 'not_found', message: `No route ${req.method} ${req.url.split('?')[0]}`, details: null, request_id: req.id } });
  });
}
