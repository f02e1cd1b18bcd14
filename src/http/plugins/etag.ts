// ETags on every single-resource response, and If-Match on the writes that must not lose an update.
// Items and locations carry a version column bumped by every change of their own fields: their
// ETag is that version (stock figures shown beside them move with every sale, and must not make a
// rename fail). Other single resources get a hash of the representation.
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.ts';

export const versionTag = (version: number): string => `"v${version}"`;

/** 428 without If-Match, 412 when it names another version (`*` matches any existing one). */
export function checkIfMatch(req: FastifyRequest, version: number): void {
  const h = req.headers['if-match'];
  if (h === undefined || h.trim() === '') throw new ApiError(428, 'precondition_required', 'Send If-Match with the ETag of the version you are changing');
  const tags = h.split(',').map((t) => t.trim());
  if (tags.includes('*') || tags.includes(versionTag(version))) return;
  throw new ApiError(412, 'precondition_failed', 'The resource changed since that ETag; read it again', { current_etag: versionTag(version) });
}

export function installEtags(app: FastifyInstance): void {
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.routeOptions.config?.openapi?.etag || reply.statusCode < 200 || reply.statusCode >= 300) return payload;
    if (reply.getHeader('etag') || typeof payload !== 'string' || payload === '') return payload;
    reply.header('etag', `"${createHash('sha256').update(payload).digest('base64url').slice(0, 27)}"`);
    return payload;
  });
}
