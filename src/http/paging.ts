// Cursor pagination: `?limit=` (default 50, max 500) and `?cursor=`; response {data, next_cursor}.
// The cursor is the last row's sort key, opaque to clients.
import { z } from 'zod';
import { ApiError } from './errors.ts';

export { encodeCursor, page } from '../services/paging.ts';

export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
};

export function decodeCursor<T extends string | number>(cursor: string | undefined, kind: 'string' | 'number'): T | null {
  if (!cursor) return null;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (typeof v === kind) return v as T;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'validation_failed', 'cursor is not valid', [{ path: 'cursor', message: 'unreadable cursor' }]);
}
