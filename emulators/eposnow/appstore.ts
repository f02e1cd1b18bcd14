// The Epos Now App Store, as far as an app's install goes. Epos Now publishes nothing about how an
// App Store app is installed (its developer site documents REST API devices, each a key and a
// secret used with Basic auth, and beta webhooks: channel-apis.md section 3; a secondary source
// says API devices are "provisioned via the Epos Now AppStore", api-evangelist/epos-now
// plans/epos-now-plans-pricing.yml). So this is the common app-store pattern fitted to what Epos Now
// does document, written from that pattern and not from StockClerk's code; EVERY step is a GUESS:
// - the partner's app is registered here (POST /_control/apps: client id and secret, its name,
//   install URL and allowed redirect URLs);
// - GUESS: the merchant, in their Back Office, opens the app's App Store page
//   (GET /appstore/apps/:clientId?account=<merchant>) and clicks Install: Epos Now opens the app's
//   install URL with merchant_id, install_ref (one per install click, good for 10 minutes),
//   timestamp (unix seconds) and signature: hex HMAC-SHA256 keyed with the app's secret over the
//   other parameters sorted by name, `k=v` joined with `&`;
// - GUESS: the app sends the merchant to /appstore/authorize (client_id, redirect_uri, state,
//   install_ref); they agreed to the permissions when they clicked Install, so Epos Now spends the
//   reference and sends them straight back to redirect_uri with a one-time code and the state
//   (`/_control/apps/:clientId/deny` makes the next one a refusal: error=access_denied);
// - GUESS: POST /oauth/token {client_id, client_secret, code, redirect_uri} creates an API device
//   for the app on the merchant's account and answers its key and secret (the device's Basic auth
//   then works on the V4 API like any device's); a code works once and for 10 minutes;
// - GUESS: removing the app (POST /appstore/apps/:clientId/uninstall?account=<merchant>) deletes
//   its device (its keys then get 401) and posts {EventType: "AppUninstalled", AppId, MerchantId}
//   to the account's webhook URL, unsigned like Epos Now's other webhooks;
//   POST /_control/accounts/:id/revoke-app?client_id= deletes the device with no notification
//   (the merchant deleting the API device in Back Office).
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { EposAccount } from './till.ts';

interface App {
  clientId: string;
  clientSecret: string;
  name: string;
  installUrl: string;
  redirectUrls: string[];
  denyNext: boolean;
}

const REF_TTL_MS = 10 * 60_000;
const CODE_TTL_MS = 10 * 60_000;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (reply: FastifyReply, status: number, title: string, body: string) =>
  reply
    .code(status)
    .type('text/html')
    .send(`<!doctype html><html><head><title>Epos Now App Store</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`);
// GUESS: errors in the V4 API's ASP.NET `{Message}` shape.
const fail = (reply: FastifyReply, status: number, message: string) => reply.code(status).send({ Message: message });

function signed(params: Record<string, string>, secret: string): URLSearchParams {
  const message = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return new URLSearchParams({ ...params, signature: createHmac('sha256', secret).update(message).digest('hex') });
}

export function appStoreRoutes(app: FastifyInstance, emu: Emulator<EposAccount>): void {
  const apps = new Map<string, App>();
  const refs = new Map<string, { clientId: string; merchant: string; exp: number }>();
  const codes = new Map<string, { clientId: string; merchant: string; redirectUri: string; exp: number }>();
  const merchantOf = (q: unknown) => emu.accounts.get(String((q as { account?: string }).account ?? ''));
  // The App Store's buttons are HTML form posts.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );

  app.post('/_control/apps', async (req, reply) => {
    const b = (req.body ?? {}) as { client_id?: string; client_secret?: string; name?: string; install_url?: string; redirect_urls?: string[] };
    if (!b.client_id || !b.client_secret || !b.install_url) return reply.code(400).send({ error: 'client_id, client_secret and install_url are required' });
    apps.set(b.client_id, {
      clientId: b.client_id,
      clientSecret: b.client_secret,
      name: b.name ?? b.client_id,
      installUrl: b.install_url,
      redirectUrls: b.redirect_urls ?? [],
      denyNext: false,
    });
    return { ok: true };
  });
  app.post('/_control/apps/:clientId/deny', async (req, reply) => {
    const a = apps.get((req.params as { clientId: string }).clientId);
    if (!a) return reply.code(404).send({ error: 'no such app' });
    a.denyNext = true;
    return { ok: true };
  });

  // The app's page in the App Store, as the signed-in merchant sees it.
  app.get('/appstore/apps/:clientId', async (req, reply) => {
    const a = apps.get((req.params as { clientId: string }).clientId);
    const acc = merchantOf(req.query);
    if (!a || !acc) return page(reply, 404, 'App not found', '<p>This app is not in the App Store.</p>');
    const installed = acc.appDevices.some((d) => d.clientId === a.clientId);
    const action = (what: string) => `/appstore/apps/${encodeURIComponent(a.clientId)}/${what}?account=${encodeURIComponent(acc.id)}`;
    return page(
      reply,
      200,
      a.name,
      `<p>For <strong>${esc(acc.id)}</strong>. This app will be able to read your products, locations and transactions, and change your stock levels.</p>` +
        (installed
          ? `<p>Installed.</p><form method="post" action="${esc(action('uninstall'))}"><button type="submit">Uninstall</button></form>`
          : `<form method="post" action="${esc(action('install'))}"><button type="submit">Install</button></form>`),
    );
  });

  // Install: Epos Now opens the app's install URL with a signed launch naming the merchant and a fresh reference.
  app.post('/appstore/apps/:clientId/install', async (req, reply) => {
    const a = apps.get((req.params as { clientId: string }).clientId);
    const acc = merchantOf(req.query);
    if (!a || !acc) return page(reply, 404, 'App not found', '<p>This app is not in the App Store.</p>');
    const ref = randomBytes(18).toString('base64url');
    refs.set(ref, { clientId: a.clientId, merchant: acc.id, exp: Date.now() + REF_TTL_MS });
    const q = signed({ install_ref: ref, merchant_id: acc.id, timestamp: String(Math.floor(Date.now() / 1000)) }, a.clientSecret);
    const to = new URL(a.installUrl);
    for (const [k, v] of q) to.searchParams.set(k, v);
    return reply.redirect(to.toString(), 302);
  });

  app.get('/appstore/authorize', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const a = apps.get(q.client_id ?? '');
    if (!a) return page(reply, 400, 'Unknown app', '<p>The client_id is not an App Store app.</p>');
    if (!q.redirect_uri || (a.redirectUrls.length > 0 && !a.redirectUrls.includes(q.redirect_uri)))
      return page(reply, 400, 'Redirect not allowed', '<p>The redirect_uri is not registered for this app.</p>');
    // GUESS: an app is installed from the App Store only; without the install's reference there is no merchant.
    const r = refs.get(q.install_ref ?? '');
    if (!r || r.clientId !== a.clientId || r.exp < Date.now() || (q.merchant_id !== undefined && q.merchant_id !== r.merchant))
      return page(
        reply,
        400,
        'Install link not valid',
        '<p>This install link is not valid, was already used or has expired. Install the app again from the App Store.</p>',
      );
    refs.delete(q.install_ref!);
    const back = new URL(q.redirect_uri);
    if (q.state) back.searchParams.set('state', q.state);
    if (a.denyNext) {
      a.denyNext = false;
      back.searchParams.set('error', 'access_denied');
      return reply.redirect(back.toString(), 302);
    }
    const code = randomBytes(16).toString('hex');
    codes.set(code, { clientId: a.clientId, merchant: r.merchant, redirectUri: q.redirect_uri, exp: Date.now() + CODE_TTL_MS });
    back.searchParams.set('code', code);
    return reply.redirect(back.toString(), 302);
  });

  app.post('/oauth/token', async (req, reply) => {
    const b = (req.body ?? {}) as { client_id?: string; client_secret?: string; code?: string; redirect_uri?: string };
    const a = apps.get(b.client_id ?? '');
    if (!a || a.clientSecret !== b.client_secret) return fail(reply, 401, 'Invalid app credentials');
    const grant = codes.get(b.code ?? '');
    if (!grant || grant.clientId !== a.clientId || grant.exp < Date.now() || (b.redirect_uri !== undefined && b.redirect_uri !== grant.redirectUri))
      return fail(reply, 400, 'The code is not valid, was already used or has expired');
    codes.delete(b.code!);
    const acc = emu.accounts.get(grant.merchant);
    if (!acc) return fail(reply, 400, 'The merchant no longer exists');
    // GUESS: one API device per app per merchant; installing again replaces the app's device.
    acc.appDevices = acc.appDevices.filter((d) => d.clientId !== a.clientId);
    const device = {
      clientId: a.clientId,
      deviceId: acc.nextDeviceId++,
      api_key: randomBytes(16).toString('hex').toUpperCase(),
      api_secret: randomBytes(16).toString('hex').toUpperCase(),
    };
    acc.appDevices.push(device);
    emu.touch();
    return { api_key: device.api_key, api_secret: device.api_secret, device_id: device.deviceId, merchant_id: acc.id };
  });

  const removeDevice = (acc: EposAccount, clientId: string): boolean => {
    const before = acc.appDevices.length;
    acc.appDevices = acc.appDevices.filter((d) => d.clientId !== clientId);
    emu.touch();
    return acc.appDevices.length < before;
  };

  // The merchant removes the app: its device is deleted and the app is told.
  app.post('/appstore/apps/:clientId/uninstall', async (req, reply) => {
    const a = apps.get((req.params as { clientId: string }).clientId);
    const acc = merchantOf(req.query);
    if (!a || !acc) return page(reply, 404, 'App not found', '<p>This app is not in the App Store.</p>');
    if (!removeDevice(acc, a.clientId)) return page(reply, 409, 'Not installed', '<p>This app is not installed.</p>');
    emu.sendWebhook(acc, { headers: {}, body: JSON.stringify({ EventType: 'AppUninstalled', AppId: a.clientId, MerchantId: acc.id }) });
    return page(reply, 200, 'Uninstalled', `<p>${esc(a.name)} was removed from your account.</p>`);
  });

  // The merchant deletes the app's API device in Back Office: no notification, its keys just stop working.
  app.post('/_control/accounts/:id/revoke-app', async (req, reply) => {
    const acc = emu.accounts.get((req.params as { id: string }).id);
    const clientId = String((req.query as { client_id?: string }).client_id ?? '');
    if (!acc) return reply.code(404).send({ error: 'no such account' });
    return { ok: removeDevice(acc, clientId) };
  });
}
