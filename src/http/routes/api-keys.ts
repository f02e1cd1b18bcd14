// API keys: created (the key is shown once) and revoked by the tenant's admins.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { createApiKey } from '../../db/api-keys.ts';
import { withTx } from '../../db/pool.ts';
import { API_SCOPES } from '../../db/schema.ts';
import type { AppContext } from '../../engine/context.ts';
import { audit } from '../audit.ts';
import { notFound, parse } from '../errors.ts';
import { doc, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { ApiKey } from '../schemas.ts';
import { idParam, pathId, stringCursor, text } from './common.ts';

const TAG = 'api-keys';
const Create = z.strictObject({
  name: text(1, 200),
  scopes: z
    .array(z.enum(API_SCOPES))
    .min(1)
    .max(3)
    .meta({ description: 'admin implies write, write implies read' }),
});
const ListQuery = z.strictObject({ ...pageQuery });
const Params = idParam('key');
const Created = ApiKey.extend({ key: z.string().meta({ description: 'The key itself: shown only in this response' }) });
const COLUMNS = 'k.id, k.name, k.prefix, k.scopes, k.created_by, k.created_at, k.last_used_at, k.revoked_at';

export async function apiKeyRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/api-keys', doc({ summary: 'List API keys (never the keys themselves)', tag: TAG, scope: 'admin', query: ListQuery, responses: { 200: pageOf(ApiKey) } }), async (req) => {
    const q = parse(ListQuery, req.query);
    const after = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${COLUMNS} from api_keys k where k.tenant_id = $1 and ($2::text is null or k.id > $2) order by k.id limit $3`,
      [req.auth.tenantId, after, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.post('/api-keys', doc({ summary: 'Create an API key (shown once)', tag: TAG, scope: 'admin', body: Create, responses: { 201: Created } }), async (req, reply) => {
    const b = parse(Create, req.body);
    const scopes = [...new Set(b.scopes)];
    const out = await withTx(ctx.db, async (tx) => {
      const k = await createApiKey(tx, req.auth.tenantId, { name: b.name, scopes, createdBy: req.auth.actorId });
      const { rows } = await tx.query(`select ${COLUMNS} from api_keys k where k.tenant_id = $1 and k.id = $2`, [req.auth.tenantId, k.id]);
      const res = { ...rows[0], key: k.secret };
      await audit(tx, req, 'api_key.created', { type: 'api_key', id: k.id }, { name: b.name, scopes });
      // An idempotent retry must get the key too: the stored answer is sealed (AES-GCM), never plain text.
      await finishInTx(tx, req, 201, res, {}, ctx.sealer);
      return res;
    });
    return reply.code(201).send(out);
  });

  app.get('/api-keys/:id', doc({ summary: 'Read an API key', tag: TAG, scope: 'admin', params: Params, etag: true, responses: { 200: ApiKey } }), async (req) => {
    const id = pathId(req.params, 'key', 'API key');
    const { rows } = await ctx.db.query(`select ${COLUMNS} from api_keys k where k.tenant_id = $1 and k.id = $2`, [req.auth.tenantId, id]);
    if (!rows[0]) throw notFound('API key');
    return rows[0];
  });

  // Revoking keeps the row (the audit log and movements name the key); revoking twice is harmless.
  app.delete('/api-keys/:id', doc({ summary: 'Revoke an API key', tag: TAG, scope: 'admin', params: Params, responses: { 204: null } }), async (req, reply) => {
    const id = pathId(req.params, 'key', 'API key');
    await withTx(ctx.db, async (tx) => {
      const { rows } = await tx.query<{ revoked: boolean }>(
        `update api_keys set revoked_at = coalesce(revoked_at, now()) where tenant_id = $1 and id = $2 returning (xmax <> 0) as revoked`,
        [req.auth.tenantId, id],
      );
      if (!rows[0]) throw notFound('API key');
      await audit(tx, req, 'api_key.revoked', { type: 'api_key', id });
    });
    return reply.code(204).send();
  });
}
