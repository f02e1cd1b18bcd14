// Installing StockClerk from Shopify's side, against the Shopify emulator's authorization code
// grant (emulators/shopify/install.ts): the merchant clicks install in their admin -> Shopify's
// signed launch at GET /install/shopify -> the dashboard's connect page with a sealed ticket ->
// (signed in) start -> the shop's consent page -> the signed callback -> the channel is connected
// with an offline token that works. Forged, altered, stale and foreign-shop launches and callbacks
// start or connect nothing; uninstalling on Shopify disconnects the channel and raises its alert.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyEmulator } from '../../emulators/shopify/index.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from './support.ts';

const CLIENT_ID = 'sc-shopify-app';
const CLIENT_SECRET = 'shpss_install_test_secret';
const SHOP = 'corner-shop';
const DOMAIN = `${SHOP}.myshopify.com`;
const emu = createShopifyEmulator();
let h: Harness;
let call: ReturnType<typeof client>;

const follow = async (url: string, expected: number) => {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status, `${url} -> ${r.status}`).toBe(expected);
  return new URL(r.headers.get('location')!, url);
};
const sign = (params: Record<string, string>, secret = CLIENT_SECRET) => {
  const message = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return new URLSearchParams({ ...params, hmac: createHmac('sha256', secret).update(message).digest('hex') });
};
const launch = (params: Record<string, string>, secret?: string) => follow(`${h.url}/install/shopify?${sign(params, secret).toString()}`, 303);
const nowS = () => String(Math.floor(Date.now() / 1000));

beforeAll(async () => {
  await emu.listen(0);
  emu.addAccount({ id: SHOP, credentials: { access_token: 'pasted-token-unused' }, items: [{ sku: 'INS-1', name: 'Installed item', qty: 4 }] });
  emu.addAccount({ id: 'other-shop', credentials: { access_token: 'other-token' }, items: [] });
  const base = `${emu.url}/shops/{account}`;
  h = await startHarness({
    config: { oauthApps: { shopify: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: null, apiBase: base, authorizeBase: base } } },
  });
  const reg = await fetch(`${emu.url}/_control/apps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      app_url: `${h.url}/install/shopify`,
      redirect_urls: [`${h.url}/oauth/callback/shopify`],
    }),
  });
  expect(reg.status).toBe(200);
  const t = await registerTenant(h.url, 'Shopify Install');
  call = client(h.url, t.token);
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

describe('installing from Shopify', () => {
  let channelId = '';

  it('install in the Shopify admin -> signed launch -> connect page -> consent -> callback: the shop is connected with a working offline token', async () => {
    const launched = await follow(`${emu.url}/_control/accounts/${SHOP}/install?client_id=${CLIENT_ID}`, 302);
    expect(launched.pathname).toBe('/install/shopify');
    expect(launched.searchParams.get('hmac')).toMatch(/^[0-9a-f]{64}$/);
    const page = await follow(launched.toString(), 303);
    expect(page.pathname).toBe('/connect/shopify');
    expect(page.searchParams.get('account')).toBe(DOMAIN);
    const ticket = page.searchParams.get('install')!;
    expect(ticket).toBeTruthy();

    const start = await call('POST', '/channels/oauth/shopify/start', { name: 'Corner shop', install: ticket });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const consent = new URL(start.body.authorize_url);
    expect(consent.pathname).toBe(`/shops/${DOMAIN}/admin/oauth/authorize`);
    expect(consent.searchParams.get('scope')).toContain('write_inventory');
    expect(consent.searchParams.has('grant_options[]')).toBe(false); // offline token
    const back = await follow(start.body.authorize_url, 302);
    expect(back.pathname).toBe('/oauth/callback/shopify');
    const landed = await follow(back.toString(), 303);
    expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
    channelId = landed.pathname.split('/').pop()!;
    const ch = await call('GET', `/channels/${channelId}`);
    expect([ch.body.type, ch.body.name, ch.body.base_url]).toEqual(['shopify', 'Corner shop', `${emu.url}/shops/${DOMAIN}`]);
    expect(ch.body.credentials).toMatchObject({ access_token: true, webhook_secret: true });
    // The token Shopify issued is the one the channel holds: the connection test reads the shop.
    expect(emu.accounts.get(SHOP)!.credentials.access_token).toMatch(/^shpat_/);
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    const imported = await call('POST', `/channels/${channelId}/import`);
    expect(imported.status, JSON.stringify(imported.body)).toBeLessThan(300);

    // The same callback again (a spent code) connects nothing more.
    expect((await follow(back.toString(), 303)).searchParams.get('oauth_error')).toBeTruthy();
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'shopify')).toHaveLength(1);
  });

  it('refuses launches that are forged, altered, stale or not for a myshopify.com shop: nothing is started', async () => {
    const good = { host: 'x', shop: DOMAIN, timestamp: nowS() };
    const wrongKey = await launch(good, 'not-the-secret');
    expect([wrongKey.pathname, wrongKey.searchParams.get('install_error')]).toEqual(['/connect/shopify', 'invalid_launch']);
    expect(wrongKey.searchParams.has('install')).toBe(false);
    const altered = sign(good);
    altered.set('shop', 'other-shop.myshopify.com');
    const a = await follow(`${h.url}/install/shopify?${altered.toString()}`, 303);
    expect(a.searchParams.get('install_error')).toBe('invalid_launch');
    const stale = await launch({ ...good, timestamp: String(Math.floor(Date.now() / 1000) - 3 * 86_400) });
    expect(stale.searchParams.get('install_error')).toBe('invalid_launch');
    const foreign = await launch({ ...good, shop: 'evil.example.com' });
    expect(foreign.searchParams.get('install_error')).toBe('invalid_launch');
    const unsigned = await follow(`${h.url}/install/shopify?shop=${DOMAIN}&timestamp=${nowS()}`, 303);
    expect(unsigned.searchParams.get('install_error')).toBe('invalid_launch');
    // A ticket that is not ours, and no shop at all, start nothing either.
    expect((await call('POST', '/channels/oauth/shopify/start', { name: 'x', install: 'forged' })).body.error.code).toBe('invalid_install');
    expect((await call('POST', '/channels/oauth/shopify/start', { name: 'x' })).body.error.code).toBe('invalid_account');
    expect((await call('POST', '/channels/oauth/shopify/start', { name: 'x', account: 'evil.example.com' })).body.error.code).toBe('invalid_account');
  });

  it('refuses a callback whose hmac was altered or that names another shop than the one asked for', async () => {
    const start = await call('POST', '/channels/oauth/shopify/start', { name: 'Second', account: 'other-shop.myshopify.com' });
    expect(start.status).toBe(200);
    const back = await follow(start.body.authorize_url, 302);
    const tampered = new URL(back.toString());
    tampered.searchParams.set('shop', DOMAIN); // hmac no longer matches
    expect((await follow(tampered.toString(), 303)).searchParams.get('oauth_error')).toBeTruthy();
    // Re-signed for another shop (as if by someone holding our secret): the shop is not the one asked for.
    const params = Object.fromEntries([...back.searchParams].filter(([k]) => k !== 'hmac'));
    const resigned = new URL(back.toString());
    resigned.search = sign({ ...params, shop: DOMAIN }).toString();
    expect((await follow(resigned.toString(), 303)).searchParams.get('oauth_error')).toBeTruthy();
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'shopify')).toHaveLength(1);
  });

  it('uninstalling on Shopify disconnects the channel and raises its alert; a forged uninstall does nothing', async () => {
    expect(channelId).not.toBe('');
    const hook = `${h.url}/webhooks/shopify/${channelId}`;
    const forged = await fetch(hook, {
      method: 'POST',
      headers: { 'x-shopify-topic': 'app/uninstalled', 'x-shopify-hmac-sha256': 'AAAA', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(forged.status).toBe(401);
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('connected');
    await fetch(`${emu.url}/_control/accounts/${SHOP}/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook }),
    });
    const un = await fetch(`${emu.url}/_control/accounts/${SHOP}/uninstall`, { method: 'POST' });
    expect(un.status).toBe(200);
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.status === 'disconnected', 10_000, 'the channel to be disconnected');
    const alerts = await call('GET', '/alerts?status=open');
    expect(alerts.body.data.some((a: { type: string; message: string }) => a.type === 'channel_auth' && a.message.includes('uninstalled'))).toBe(true);
  });
});
