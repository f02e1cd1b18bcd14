// Installing an app on a Wix site, as Wix documents the OAuth handshake for apps with their own
// install step (dev.wix.com "Custom Authentication" / advanced OAuth, and the OAuth 2 API's
// "Request an Access Token" / "Refresh an Access Token"; written from the docs, not from
// StockClerk's code):
// - the app is registered here (POST /_control/apps: app id and secret, its App URL, allowed
//   redirect URLs); Wix issues the app's RSA key pair, whose public half the answer carries
//   (the app dashboard's "public key") and whose private half signs the app's webhooks;
// - the site owner adds the app (GET /_control/accounts/:id/install?app_id=...): Wix opens the
//   App URL with `token`;
// - the app sends them to /installer/install?token&appId&redirectUrl&state; they approve (GUESS:
//   the emulated owner always approves; /_control/apps/:app_id/deny makes the next one a refusal)
//   and Wix redirects to redirectUrl with code, instanceId and state;
// - POST /oauth/access {grant_type: authorization_code, client_id, client_secret, code} answers
//   {access_token, refresh_token}; a code works once and for 10 minutes; the access token for 5
//   minutes; {grant_type: refresh_token, ...refresh_token} answers a new access token and the same
//   refresh token (it never expires);
// - removing the app (POST /_control/accounts/:id/uninstall) kills both tokens and sends the
//   "App Removed" webhook; /_control/accounts/:id/expire-token ends the access token early.
import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { WixAccount } from './items.ts';
import { sendEvent } from './notify.ts';
import { generateWixKeyPair } from './rs256.ts';

interface App {
  appId: string;
  secret: string;
  appUrl: string;
  redirectUrls: string[];
  privateKey: string;
  publicKey: string;
  denyNext: boolean;
}

const CODE_TTL_MS = 10 * 60_000;
const ACCESS_TTL_MS = 5 * 60_000;
/** GUESS: how long Wix's install token is good for is not documented. */
const INSTALL_TOKEN_TTL_MS = 10 * 60_000;

const appGrantOf = (acc: WixAccount) => acc.appGrant;
const setGrant = (acc: WixAccount, g: WixAccount['appGrant']) => (acc.appGrant = g);

// GUESS: Wix's OAuth error body follows its common error shape.
const oauthError = (reply: FastifyReply, status: number, message: string) =>
  reply.code(status).send({ message, details: { applicationError: { code: 'INVALID_GRANT', description: message, data: {} } } });
const page = (reply: FastifyReply, status: number, text: string) => reply.code(status).type('text/html').send(`<h1>${text}</h1>`);

export function installRoutes(app: FastifyInstance, emu: Emulator<WixAccount>): void {
  const apps = new Map<string, App>();
  const installTokens = new Map<string, { appId: string; site: string; exp: number }>();
  const codes = new Map<string, { appId: string; site: string; exp: number }>();

  app.post('/_control/apps', async (req, reply) => {
    const b = (req.body ?? {}) as { app_id?: string; app_secret?: string; app_url?: string; redirect_urls?: string[] };
    if (!b.app_id || !b.app_secret || !b.app_url) return reply.code(400).send({ error: 'app_id, app_secret and app_url are required' });
    // Registering the same app again changes its URLs and secret; its key pair stays.
    const keys = apps.get(b.app_id) ?? generateWixKeyPair();
    apps.set(b.app_id, {
      appId: b.app_id,
      secret: b.app_secret,
      appUrl: b.app_url,
      redirectUrls: b.redirect_urls ?? [],
      privateKey: keys.privateKey,
      publicKey: keys.publicKey,
      denyNext: false,
    });
    return { ok: true, public_key: keys.publicKey };
  });
  app.post('/_control/apps/:appId/deny', async (req, reply) => {
    const a = apps.get((req.params as { appId: string }).appId);
    if (!a) return reply.code(404).send({ error: 'no such app' });
    a.denyNext = true;
    return { ok: true };
  });

  // The site owner adds the app: Wix opens its App URL with an install token.
  app.get('/_control/accounts/:id/install', async (req, reply) => {
    const acc = emu.accounts.get((req.params as { id: string }).id);
    const a = apps.get(String((req.query as { app_id?: string }).app_id ?? ''));
    if (!acc || !a) return reply.code(404).send({ error: 'no such site or app' });
    // GUESS: the token's format is Wix's own; an opaque random string here.
    const token = `OauthNG.JWS.${randomBytes(24).toString('base64url')}`;
    installTokens.set(token, { appId: a.appId, site: acc.id, exp: Date.now() + INSTALL_TOKEN_TTL_MS });
    const url = new URL(a.appUrl);
    url.searchParams.set('token', token);
    return reply.redirect(url.toString(), 302);
  });

  app.get('/installer/install', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const a = apps.get(q.appId ?? '');
    if (!a) return page(reply, 400, 'This app does not exist');
    if (!q.redirectUrl || (a.redirectUrls.length > 0 && !a.redirectUrls.includes(q.redirectUrl))) return page(reply, 400, 'The redirect URL is not allowed');
    // GUESS: without a token Wix would ask which site to install on; the emulator needs the token to know the site.
    const t = installTokens.get(q.token ?? '');
    if (!t || t.appId !== a.appId || t.exp < Date.now()) return page(reply, 400, 'This installation link is invalid or has expired');
    installTokens.delete(q.token!);
    const acc = emu.accounts.get(t.site);
    if (!acc) return page(reply, 400, 'The site no longer exists');
    const back = new URL(q.redirectUrl);
    if (a.denyNext) {
      // GUESS: a site owner who cancels is sent back with error=access_denied (OAuth 2.0's code).
      a.denyNext = false;
      back.searchParams.set('error', 'access_denied');
      if (q.state) back.searchParams.set('state', q.state);
      return reply.redirect(back.toString(), 302);
    }
    const code = randomBytes(16).toString('hex');
    codes.set(code, { appId: a.appId, site: acc.id, exp: Date.now() + CODE_TTL_MS });
    back.searchParams.set('code', code);
    if (q.state) back.searchParams.set('state', q.state);
    back.searchParams.set('instanceId', acc.instanceId);
    return reply.redirect(back.toString(), 302);
  });

  app.post('/oauth/access', async (req, reply) => {
    const b = (req.body ?? {}) as { grant_type?: string; client_id?: string; client_secret?: string; code?: string; refresh_token?: string };
    const a = apps.get(b.client_id ?? '');
    if (!a || a.secret !== b.client_secret) return oauthError(reply, 401, 'Invalid app credentials');
    let acc: WixAccount | undefined;
    if (b.grant_type === 'authorization_code') {
      const grant = codes.get(b.code ?? '');
      if (!grant || grant.appId !== a.appId || grant.exp < Date.now()) return oauthError(reply, 400, 'The authorization code is invalid or was already used');
      codes.delete(b.code!);
      acc = emu.accounts.get(grant.site);
      if (!acc) return oauthError(reply, 400, 'The site no longer exists');
      setGrant(acc, { appId: a.appId, accessToken: '', accessExp: 0, refreshToken: `OAUTH2.${randomBytes(24).toString('base64url')}` });
      // The installed app's webhooks are signed with the app's key.
      acc.webhookSecret = a.privateKey;
    } else if (b.grant_type === 'refresh_token') {
      acc = [...emu.accounts.values()].find((x) => {
        const g = appGrantOf(x);
        return g !== null && g.appId === a.appId && g.refreshToken === b.refresh_token;
      });
      if (!acc) return oauthError(reply, 400, 'The refresh token is invalid or the app was removed');
    } else return oauthError(reply, 400, 'grant_type must be authorization_code or refresh_token');
    const g = appGrantOf(acc)!;
    g.accessToken = `OAUTH2.${randomBytes(24).toString('base64url')}`;
    g.accessExp = Date.now() + ACCESS_TTL_MS;
    emu.touch();
    return { access_token: g.accessToken, refresh_token: g.refreshToken };
  });

  app.post('/_control/accounts/:id/expire-token', async (req, reply) => {
    const acc = emu.accounts.get((req.params as { id: string }).id);
    const g = acc ? appGrantOf(acc) : null;
    if (!g) return reply.code(404).send({ error: 'no app installed on this site' });
    g.accessExp = 0;
    return { ok: true };
  });

  // The owner removes the app: its tokens stop working and "App Removed" goes out.
  app.post('/_control/accounts/:id/uninstall', async (req, reply) => {
    const acc = emu.accounts.get((req.params as { id: string }).id);
    const g = acc ? appGrantOf(acc) : null;
    if (!acc || !g) return reply.code(404).send({ error: 'no app installed on this site' });
    setGrant(acc, null);
    emu.touch();
    // A legacy webhook: eventType "AppRemoved" (GUESS: the string), data {appId}.
    sendEvent(emu, acc, 'AppRemoved', { appId: g.appId, id: randomUUID() });
    return { ok: true };
  });
}
