// Connecting a marketplace by consent (issue 13): the dashboard asks where to send the merchant
// (POST /api/v1/channels/oauth/{type}/start), the merchant consents on the platform's page, and
// the platform sends them back to GET /oauth/callback/{type} with a code and our sealed state
// (src/services/oauth-connect.ts). The callback creates the channel and lands the merchant on it;
// any failure lands them on the channels page with the reason, never on an error page.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { savedSettings } from '../../channels/settings.ts';
import { channelModule } from '../../channels/registry.ts';
import { tenantTx } from '../../db/tenant-tx.ts';
import { AppError } from '../../domain/errors.ts';
import type { AppContext } from '../../engine/context.ts';
import { connectApp, finishConnect, openInstall, openState, startConnect, startInstall } from '../../services/oauth-connect.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody } from '../openapi.ts';
import { scopeOf } from '../scope.ts';
import { text } from './common.ts';

const Start = z
  .strictObject({
    name: text(1, 100).optional().meta({ description: 'Name of the new channel (required unless channel_id is given)' }),
    settings: z.record(z.string(), z.unknown()).optional().meta({ description: "The channel's settings, as for POST /channels" }),
    channel_id: z
      .string()
      .max(64)
      .optional()
      .meta({ description: 'Reconnect this existing channel (its platform refused its tokens): the consent replaces them; name and settings are kept' }),
    account: text(1, 255).optional().meta({ description: "The merchant's account on platforms with a host per account (a shop domain)" }),
    install: z
      .string()
      .max(4096)
      .optional()
      .meta({ description: 'Continue an install the platform started (the ticket GET /install/{type} handed the dashboard): its account is used' }),
  })
  .refine((b) => b.channel_id !== undefined || b.name !== undefined, { message: 'name is required for a new channel', path: ['name'] });
const StartAnswer = z.strictObject({ authorize_url: z.string(), expires_at: z.string() });
const Callback = z.object({
  code: z.string().max(4096).optional(),
  state: z.string().max(8192).optional(),
  error: z.string().max(200).optional(),
  error_description: z.string().max(1000).optional(),
});

const publicUrl = (ctx: AppContext) => ctx.config.publicUrl ?? ctx.site.publicUrl;

/** POST /api/v1/channels/oauth/{type}/start: under /api/v1, behind the auth hook. */
export async function oauthStartRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post(
    '/channels/oauth/:type/start',
    doc({
      summary: 'Start connecting a platform account by consent (OAuth): where to send the merchant',
      description:
        "The answer's authorize_url is the platform's consent page; the platform then sends the merchant to /oauth/callback/{type}, which connects the channel (or, with channel_id, reconnects that channel with the new tokens) and lands on it in the dashboard. The link expires in 10 minutes.",
      tag: 'oauth',
      scope: 'admin',
      params: z.object({ type: z.string() }),
      body: Start,
      responses: { 200: StartAnswer, 404: ErrorBody, 409: ErrorBody },
    }),
    async (req) => {
      const { type } = req.params as { type: string };
      const mod = channelModule(type);
      if (!mod) throw new ApiError(404, 'not_found', `No channel type ${type}`);
      const b = parse(Start, req.body);
      const settings = parse(savedSettings(mod.settings), b.settings ?? {}) as Record<string, unknown>;
      const c = connectApp(type, ctx.config.oauthApps, publicUrl(ctx));
      const installed = b.install !== undefined ? openInstall(ctx.sealer, type, b.install) : null;
      const account = installed ? installed.account : (b.account ?? null);
      return startConnect(ctx.db, scopeOf(req), ctx.sealer, c, {
        type,
        name: b.name ?? '',
        settings,
        channelId: b.channel_id ?? null,
        account,
        launch: installed?.launch ?? null,
      });
    },
  );
}

/** GET /oauth/callback/{type}: where the platform sends the merchant back (a browser navigation, no token). */
export async function oauthCallbackRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/oauth/callback/:type', async (req, reply) => {
    const { type } = req.params as { type: string };
    const back = (query: Record<string, string>) => reply.redirect(`${publicUrl(ctx) ?? ''}/channels?${new URLSearchParams(query).toString()}`, 303);
    const q = Callback.safeParse(req.query);
    if (!q.success || !channelModule(type))
      return back({ oauth_error: 'invalid_request', message: 'The platform sent the merchant back without what we need' });
    if (q.data.error) return back({ oauth_error: q.data.error, message: q.data.error_description ?? 'Consent was not given on the platform' });
    if (!q.data.code || !q.data.state) return back({ oauth_error: 'invalid_request', message: 'The platform sent no code' });
    try {
      const state = openState(ctx.sealer, type, q.data.state);
      const c = connectApp(type, ctx.config.oauthApps, publicUrl(ctx));
      // Whatever else the platform sent beside the code (single string values only), for its exchange.
      const params = Object.fromEntries(
        Object.entries(req.query as Record<string, unknown>).filter(
          (e): e is [string, string] => typeof e[1] === 'string' && e[1].length <= 200 && !['code', 'state', 'error', 'error_description'].includes(e[0]),
        ),
      );
      const query = Object.fromEntries(
        Object.entries(req.query as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length <= 8192),
      );
      const ch = await tenantTx(ctx.db, state.tenantId, (tx) => finishConnect(tx, ctx.sealer, c, state, q.data.code!, params, query));
      req.log.info({ tenant_id: state.tenantId, channel_id: ch.id, type }, 'channel connected by consent');
      return reply.redirect(`${publicUrl(ctx) ?? ''}/channels/${ch.id}?connected=1`, 303);
    } catch (err) {
      const e = err as Error & { code?: string };
      req.log.warn({ type, err: e.message }, 'consent callback failed');
      return back({ oauth_error: err instanceof AppError ? (e.code ?? 'failed') : 'exchange_failed', message: e.message.slice(0, 300) });
    }
  });
}

/**
 * GET /install/{type}: where a platform sends a merchant installing StockClerk from its side (its
 * app store, an install link), with its signed launch. Checked, then the merchant lands on the
 * dashboard's connect page with a sealed ticket naming the account: signed in (or after signing
 * up or in) they confirm, consent on the platform and come back with the channel connected. A
 * launch that fails its check lands on the same page with the reason, nothing started.
 */
export async function installRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/install/:type', async (req, reply) => {
    const { type } = req.params as { type: string };
    const page = (query: Record<string, string>) =>
      reply.redirect(`${publicUrl(ctx) ?? ''}/connect/${encodeURIComponent(type)}?${new URLSearchParams(query).toString()}`, 303);
    const query = Object.fromEntries(
      Object.entries(req.query as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1].length <= 2048),
    );
    try {
      const c = connectApp(type, ctx.config.oauthApps, publicUrl(ctx));
      const { ticket, account } = startInstall(ctx.sealer, c, type, query);
      req.log.info({ type }, 'install launched from the platform');
      return page({ install: ticket, ...(account ? { account } : {}) });
    } catch (err) {
      const e = err as Error & { code?: string };
      req.log.warn({ type, err: e.message }, 'install launch refused');
      return page({ install_error: err instanceof AppError ? (e.code ?? 'failed') : 'failed', message: e.message.slice(0, 300) });
    }
  });
}
