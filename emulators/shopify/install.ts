// Installing an app on a shop, as Shopify's authorization code grant documents it (shopify.dev,
// "Implement authorization code grant manually"; written from the docs, not from StockClerk's code):
// - the partner's app is registered here (POST /_control/apps: client id and secret, the app URL,
//   the allowed redirect URLs);
// - the merchant clicks install in their admin (GET /_control/accounts/:id/install?client_id=...):
//   Shopify opens the app URL with shop, timestamp, host and hmac;
// - the app sends the merchant to /admin/oauth/authorize on the shop's host (here /shops/{shop}/...);
//   they approve (GUESS: the emulated merchant always approves; `/_control/apps/:client_id/deny`
//   makes the next consent a refusal) and Shopify redirects to redirect_uri with code, hmac, host,
//   shop, state and timestamp;
// - POST /admin/oauth/access_token {client_id, client_secret, code} answers {access_token, scope};
//   a code works once (GUESS: and for 10 minutes).
// - uninstalling (POST /_control/accounts/:id/uninstall) revokes the token and sends app/uninstalled.
// hmac: every other query parameter sorted by name, `k=v` joined with `&`, HMAC-SHA256 hex keyed
// with the client secret. Webhooks of an installed app are signed with its client secret.
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { ShopifyAccount } from './account.ts';
import { sendTopic } from './notify.ts';

interface App {
  clientId: string;
  clientSecret: string;
  appUrl: string;
  redirectUrls: string[];
  denyNext: boolean;
}

const CODE_TTL_MS = 10 * 60_000;

function signQuery(params: Record<string, string>, secret: string): string {
  const message = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return createHmac('sha256', secret).update(message).digest('hex');
}

function signed(params: Record<string, string>, secret: string): URLSearchParams {
  return new URLSearchParams({ ...params, hmac: signQuery(params, secret) });
}

export function installRoutes(app: FastifyInstance, emu: Emulator<ShopifyAccount>): void {
  const apps = new Map<string, App>();
  const codes = new Map<string, { clientId: string; shop: string; scope: string; exp: number }>();
  const host = (acc: ShopifyAccount) => Buffer.from(`admin.shopify.com/store/${acc.id}`).toString('base64url');
  const now = () => String(Math.floor(Date.now() / 1000));

  app.post('/_control/apps', async (req, reply) => {
    const b = (req.body ?? {}) as { client_id?: string; client_secret?: string; app_url?: string; redirect_urls?: string[] };
    if (!b.client_id || !b.client_secret || !b.app_url) return reply.code(400).send({ error: 'client_id, client_secret and app_url are required' });
    apps.set(b.client_id, { clientId: b.client_id, clientSecret: b.client_secret, appUrl: b.app_url, redirectUrls: b.redirect_urls ?? [], denyNext: false });
    return { ok: true };
  });
  app.post('/_control/apps/:clientId/deny', async (req, reply) => {
    const a = apps.get((req.params as { clientId: string }).clientId);
    if (!a) return reply.code(404).send({ error: 'no such app' });
    a.denyNext = true;
    return { ok: true };
  });

  // The merchant clicks "Install" in their admin: Shopify opens the app URL with a signed launch.
  app.get('/_control/accounts/:id/install', async (req, reply) => {
    const acc = emu.accounts.get((req.params as { id: string }).id);
    const a = apps.get(String((req.query as { client_id?: string }).client_id ?? ''));
    if (!acc || !a) return reply.code(404).send({ error: 'no such shop or app' });
    const q = signed({ host: host(acc), shop: acc.domain, timestamp: now() }, a.clientSecret);
    return reply.redirect(`${a.appUrl}?${q.toString()}`, 302);
  });

  app.get('/shops/:shop/admin/oauth/authorize', async (req, reply) => {
    const acc = emu.account(req);
    const q = req.query as Record<string, string | undefined>;
    const a = apps.get(q.client_id ?? '');
    // GUESS: Shopify shows an error page for an unknown app or a redirect_uri not whitelisted.
    if (!a) return reply.code(400).type('text/html').send('<h1>Oauth error invalid_request: The client_id is not valid</h1>');
    if (!q.redirect_uri || (a.redirectUrls.length > 0 && !a.redirectUrls.includes(q.redirect_uri)))
      return reply.code(400).type('text/html').send('<h1>Oauth error invalid_request: The redirect_uri is not whitelisted</h1>');
    const back = new URL(q.redirect_uri);
    if (a.denyNext) {
      // GUESS: a merchant who declines is sent back with error=access_denied (OAuth 2.0's code).
      a.denyNext = false;
      back.search = new URLSearchParams({ error: 'access_denied', ...(q.state ? { state: q.state } : {}) }).toString();
      return reply.redirect(back.toString(), 302);
    }
    const code = randomBytes(16).toString('hex');
    codes.set(code, { clientId: a.clientId, shop: acc.domain, scope: q.scope ?? '', exp: Date.now() + CODE_TTL_MS });
    back.search = signed({ code, host: host(acc), shop: acc.domain, ...(q.state ? { state: q.state } : {}), timestamp: now() }, a.clientSecret).toString();
    return reply.redirect(back.toString(), 302);
  });

  app.post('/shops/:shop/admin/oauth/access_token', async (req, reply) => {
    const acc = emu.account(req);
    const b = (req.body ?? {}) as { client_id?: string; client_secret?: string; code?: string };
    const a = apps.get(b.client_id ?? '');
    const grant = codes.get(b.code ?? '');
    // GUESS: the error body; Shopify answers 400 for a bad code or client credentials.
    if (!a || a.clientSecret !== b.client_secret || !grant || grant.clientId !== a.clientId || grant.shop !== acc.domain || grant.exp < Date.now()) {
      return reply.code(400).send({ error: 'invalid_request', error_description: 'The authorization code was not found or was already used' });
    }
    codes.delete(b.code!);
    const token = `shpat_${randomBytes(16).toString('hex')}`;
    acc.credentials.access_token = token;
    acc.webhookSecret = a.clientSecret; // an installed app's webhooks are signed with its client secret
    emu.touch();
    return { access_token: token, scope: grant.scope };
  });

  // The merchant removes the app: the token stops working and app/uninstalled goes out.
  app.post('/_control/accounts/:id/uninstall', async (req, reply) => {
    const acc = emu.accounts.get((req.params as { id: string }).id);
    if (!acc) return reply.code(404).send({ error: 'no such shop' });
    acc.credentials.access_token = `revoked_${randomBytes(8).toString('hex')}`;
    emu.touch();
    sendTopic(emu, acc, 'app/uninstalled', { id: 548380009, name: acc.id, domain: acc.domain, myshopify_domain: acc.domain }); // GUESS: the shop object, trimmed
    return { ok: true };
  });
}
