// API keys: created (the key is shown once) and revoked by the tenant's admins.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_SCOPES } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import { createApiKey, getApiKey, listApiKeys, revokeApiKey } from '../../services/api-keys.ts';
import { parse } from '../errors.ts';
import { doc, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { ApiKey } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, pathId, stringCursor, text } from './common.ts';

const TAG = 'api-keys';
const Create = z.strictObject({
  name: text(1, 200),
  scopes: z.array(z.enum(API_SCOPES)).min(1).max(3).meta({ description: 'admin implies write, write implies read' }),
});
const ListQuery = z.strictObject({ ...pageQuery });
const Params = idParam('key');
const Created = ApiKey.extend({ key: z.string().meta({ description: 'The key itself: shown only in this response' }) });

export async function apiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/api-keys',
    doc({ summary: 'List API keys (never the keys themselves)', tag: TAG, scope: 'admin', query: ListQuery, responses: { 200: pageOf(ApiKey) } }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      return listApiKeys(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit });
    },
  );

  app.post(
    '/api-keys',
    doc({ summary: 'Create an API key (shown once)', tag: TAG, scope: 'admin', body: Create, responses: { 201: Created } }),
    async (req, reply) => {
      const b = parse(Create, req.body);
      // An idempotent retry must get the key too: the stored answer is sealed (AES-GCM), never plain text.
      const out = await write(ctx, req, 201, (tx, scope) => createApiKey(tx, scope, b), { sealed: true });
      return reply.code(201).send(out);
    },
  );

  app.get(
    '/api-keys/:id',
    doc({ summary: 'Read an API key', tag: TAG, scope: 'admin', params: Params, etag: true, responses: { 200: ApiKey } }),
    async (req) => {
      return getApiKey(ctx.db, scopeOf(req), pathId(req.params, 'key', 'API key'));
    },
  );

  // Revoking keeps the row (the audit log and movements name the key); revoking twice is harmless.
  app.delete('/api-keys/:id', doc({ summary: 'Revoke an API key', tag: TAG, scope: 'admin', params: Params, responses: { 204: null } }), async (req, reply) => {
    const id = pathId(req.params, 'key', 'API key');
    await write(ctx, req, 204, (tx, scope) => revokeApiKey(tx, scope, id));
    return reply.code(204).send();
  });
}
