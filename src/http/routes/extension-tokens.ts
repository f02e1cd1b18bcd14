// Extension tokens (docs/extension-protocol.md): a user issues one for a browser-extension channel
// (shown once), pastes it into the extension, and can revoke it; revoking closes the socket that
// holds it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import { extensionSignals } from '../../engine/extension-relay.ts';
import { issueExtensionToken, listExtensionTokens, revokeExtensionToken } from '../../services/extension-tokens.ts';
import { parse } from '../errors.ts';
import { doc } from '../openapi.ts';
import { ExtensionToken } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, pathId, text } from './common.ts';

// In the marketplaces' (catalog) document: only a browser-extension marketplace (Vinted) uses them.
const TAG = 'extension-tokens';
const Issue = z.strictObject({ name: text(1, 200).default('Browser extension') });
const Issued = ExtensionToken.extend({ token: z.string().meta({ description: 'The token itself: shown only in this response' }) });

export async function extensionTokenRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get(
    '/channels/:id/extension-tokens',
    doc({
      summary: "List a browser-extension channel's tokens (never the tokens themselves), with whether an extension is connected",
      tag: TAG,
      scope: 'read',
      params: idParam('ch'),
      responses: { 200: z.strictObject({ data: z.array(ExtensionToken) }) },
    }),
    async (req) => ({ data: await listExtensionTokens(ctx.db, scopeOf(req), pathId(req.params, 'ch', 'Channel')) }),
  );

  app.post(
    '/channels/:id/extension-tokens',
    doc({
      summary: 'Issue a token that pairs the browser extension with this channel (shown once)',
      tag: TAG,
      scope: 'write',
      params: idParam('ch'),
      body: Issue,
      responses: { 201: Issued },
    }),
    async (req, reply) => {
      const channelId = pathId(req.params, 'ch', 'Channel');
      const b = parse(Issue, req.body ?? {});
      // An idempotent retry must get the token too: the stored answer is sealed, never plain text.
      const out = await write(ctx, req, 201, (tx, scope) => issueExtensionToken(tx, scope, channelId, b.name), { sealed: true });
      return reply.code(201).send(out);
    },
  );

  app.delete(
    '/extension-tokens/:id',
    doc({ summary: 'Revoke an extension token (its extension is disconnected)', tag: TAG, scope: 'write', params: idParam('xtk'), responses: { 204: null } }),
    async (req, reply) => {
      const id = pathId(req.params, 'xtk', 'Extension token');
      const scope = scopeOf(req);
      await write(ctx, req, 204, (tx, s) => revokeExtensionToken(tx, s, id));
      // This process's socket closes now; another process's at its next heartbeat.
      extensionSignals.emit('revoked', scope.tenantId, id);
      return reply.code(204).send();
    },
  );
}
