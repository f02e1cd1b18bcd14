// Shared route schemas and helpers.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { IdPrefix } from '../../domain/ids.ts';
import { httpUrl, NUL_MESSAGE, noNul } from '../../domain/text-fields.ts';
import { ApiError, notFound } from '../errors.ts';
import { decodeCursor } from '../paging.ts';

const idPattern = (prefix: IdPrefix) => new RegExp(`^${prefix}_[0-9a-f]{32}$`);

/** `:id` path parameter with the resource's prefix (validated by zod: a malformed id is a 400). */
export function idParam(prefix: IdPrefix) {
  return z.object({ id: z.string().regex(idPattern(prefix), `must be a ${prefix}_ id`) });
}

/**
 * The `:id` of a resource path. An id that is malformed or of another kind cannot name anything
 * of this resource, so it is a 404 (the same answer as another tenant's id), never a 400 or 500.
 */
export function pathId(params: unknown, prefix: IdPrefix, what: string): string {
  const id = (params as { id?: unknown } | null)?.id;
  if (typeof id !== 'string' || !idPattern(prefix).test(id)) throw notFound(what);
  return id;
}

/** A reference to another resource in a body or a query (`item_id`, `channel_id` ...). */
export function idRef(prefix: IdPrefix) {
  return z.string().regex(idPattern(prefix), `must be a ${prefix}_ id`);
}

// Postgres text cannot hold U+0000: refuse it up front, or it surfaces as a database error (a 500).

/** Free text (names, notes): trimmed, bounded, storable. */
export function text(min: number, max: number) {
  return z.string().trim().min(min).max(max).refine(noNul, NUL_MESSAGE);
}

/** A string cursor (the last row's sort key), refused when it could not be a key. */
export function stringCursor(cursor: string | undefined): string | null {
  const key = decodeCursor<string>(cursor, 'string');
  if (key !== null && (!noNul(key) || key.length > 200)) {
    throw new ApiError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
  }
  return key;
}

/** A cursor over a bigint id (movements, sync events, guardian runs): newest first. */
export function numberCursor(cursor: string | undefined): number | null {
  const n = decodeCursor<number>(cursor, 'number');
  if (n !== null && !(Number.isSafeInteger(n) && n > 0)) {
    throw new ApiError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
  }
  return n;
}

/** An http(s) URL we will call (src/domain/text-fields.ts). */
export { httpUrl };

/** Where this API is reached from the caller's side (honours X-Forwarded-* behind a proxy). */
export function requestOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

/** A body whose fields are all optional must still be an object (`{}`), not JSON null. */
export function objectBody(body: unknown): unknown {
  if (body === null) throw new ApiError(400, 'validation_failed', 'The request is not valid', [{ path: '', message: 'expected an object, e.g. {}' }]);
  return body;
}
