// Shared route schemas.
import { z } from 'zod';
import type { IdPrefix } from '../../domain/ids.ts';

/** `:id` path parameter with the resource's prefix: a wrong kind of id is a 404, not a 500. */
export function idParam(prefix: IdPrefix) {
  return z.object({ id: z.string().regex(new RegExp(`^${prefix}_[0-9a-f]{32}$`), `must be a ${prefix}_ id`) });
}
