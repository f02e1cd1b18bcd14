// Connecting eBay by consent (issue 13, point 6) against the eBay emulator's consent page: start ->
// eBay's "Grant application access" page -> Agree -> eBay sends the seller to the RuName's accept
// URL (our /oauth/callback/ebay) with code and state -> the channel is connected with its tokens
// sealed. eBay's redirect_uri is the RuName, not a URL: the app is configured with it.
// A refusal, a forged, altered or foreign state and a spent code connect nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEbayEmulator } from '../../emulators/ebay/index.ts';
import { connectApp } from '../../src/services/oauth-connect.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { expectSealed, land, landedChannel, storedCredentials } from './oauth-support.ts';
import { client, type Call } from './support.ts';

const APP = { client_id: 'StockCle-app-PRD-9', client_secret: 'PRD-cert-9', ru_name: 'StockClerk-StockCle-app-PR-zyxwv' };
const emu = createEbayEmulator();
let h: Harness;
let call: Call;
let tenantId: string;

beforeAll(async () => {
  await emu.listen(0);
  h = await startHarness({
    config: {
      oauthApps: { ebay: { clientId: APP.client_id, clientSecret: APP.client_secret, redirectUri: APP.ru_name, apiBase: emu.url, authorizeBase: emu.url } },
    },
  });
  // The seller who will consent, registered with our application; the RuName's accept and decline
  // URLs point at StockClerk's callback (what a developer sets up in eBay's portal).
  emu.addAccount({
    id: 'seller',
    credentials: {
      ...APP,
      username: 'potteryseller',
      accept_url: `${h.url}/oauth/callback/ebay`,
      decline_url: `${h.url}/oauth/callback/ebay`,
    },
    items: [{ sku: 'JUG-1', name: 'Jug', qty: 4 }],
  });
  const t = await registerTenant(h.url, 'Consenting Pottery');
  tenantId = t.tenantId;
  call = client(h.url, t.token);
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

/** What the seller's browser does on eBay's consent page: Agree (or No thanks), then the redirect eBay answers with. */
async function ebayConsent(authorizeUrl: string, decision: 'agree' | 'disagree' = 'agree'): Promise<string> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/
    .exec(await page.text())![1]!
    .replaceAll('&amp;', '&')
    .replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  const answer = await fetch(new URL(action, authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `username=potteryseller&decision=${decision}`,
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}

describe('connecting eBay by consent', () => {
  it('start -> consent -> callback connects the channel with working, sealed tokens', async () => {
    const start = await call('POST', '/channels/oauth/ebay/start', {
      name: 'My eBay shop',
      settings: { marketplace_id: 'EBAY_US', content_language: 'en-US' },
    });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const url = new URL(start.body.authorize_url);
    expect(url.origin + url.pathname).toBe(`${emu.url}/oauth2/authorize`);
    // eBay's parameters: the RuName as redirect_uri, the code flow, the scopes StockClerk needs; no PKCE.
    expect(url.searchParams.get('redirect_uri')).toBe(APP.ru_name);
    expect(url.searchParams.get('response_type')).toBe('code');
    expect(url.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['https://api.ebay.com/oauth/api_scope/sell.inventory']));
    expect(url.searchParams.has('code_challenge')).toBe(false);

    const back = await ebayConsent(start.body.authorize_url);
    expect(back.startsWith(`${h.url}/oauth/callback/ebay?`)).toBe(true);
    const id = landedChannel(await land(back));
    const ch = await call('GET', `/channels/${id}`);
    expect([ch.status, ch.body.type, ch.body.name, ch.body.status, ch.body.settings.marketplace_id]).toEqual([
      200,
      'ebay',
      'My eBay shop',
      'connected',
      'EBAY_US',
    ]);
    expect(ch.body.credentials).toMatchObject({ client_id: true, client_secret: true, access_token: true, refresh_token: true });
    // The tokens work: the connection test calls the Inventory API with them.
    expect((await call('POST', `/channels/${id}/test`)).body).toMatchObject({ ok: true });
    const stored = await storedCredentials(h, tenantId, id);
    expect(stored.opened.client_id).toBe(APP.client_id);
    expect(Date.parse(stored.opened.access_expires_at!)).toBeGreaterThan(Date.now() + 3600_000);
    expectSealed(stored, ['access_token', 'refresh_token', 'client_secret']);
  });

  it('the same redirect cannot be used twice: the code is spent and nothing more is connected', async () => {
    const start = await call('POST', '/channels/oauth/ebay/start', { name: 'Twice' });
    const back = await ebayConsent(start.body.authorize_url);
    landedChannel(await land(back));
    const again = await land(back);
    expect(again.pathname).toBe('/channels');
    expect(again.searchParams.get('oauth_error')).toBe('exchange_failed');
    expect(again.searchParams.get('message')).toMatch(/invalid_grant/);
    const list = await call('GET', '/channels');
    expect(list.body.data.filter((c: { name: string }) => c.name === 'Twice')).toHaveLength(1);
  });

  it('a refusal, a forged or altered state and an Etsy state connect nothing', async () => {
    const before = (await call('GET', '/channels')).body.data.length;
    const start = await call('POST', '/channels/oauth/ebay/start', { name: 'Refused' });
    const declined = await ebayConsent(start.body.authorize_url, 'disagree');
    expect(new URL(declined).searchParams.get('error')).toBe('access_denied');
    expect((await land(declined)).searchParams.get('oauth_error')).toBe('access_denied');

    const state = new URL(start.body.authorize_url).searchParams.get('state')!;
    // A real code, but with a state StockClerk did not make or that someone altered.
    const code = new URL(await ebayConsent(start.body.authorize_url)).searchParams.get('code')!;
    const cb = (s: string, type = 'ebay') => `${h.url}/oauth/callback/${type}?code=${encodeURIComponent(code)}&state=${encodeURIComponent(s)}`;
    expect((await land(cb('v2.nothing.we.made.this'))).searchParams.get('oauth_error')).toBe('invalid_state');
    const tampered = state.slice(0, -4) + (state.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await land(cb(tampered))).searchParams.get('oauth_error')).toBe('invalid_state');
    // eBay's state presented to the Etsy callback (and an eBay code with it) is refused too.
    expect((await land(cb(state, 'etsy'))).searchParams.get('oauth_error')).toBe('invalid_state');
    expect((await call('GET', '/channels')).body.data.length).toBe(before);
  });

  it('without its RuName configured, eBay cannot be connected by consent (a URL is no RuName)', () => {
    const app = { clientId: APP.client_id, clientSecret: APP.client_secret, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url };
    expect(() => connectApp('ebay', { ebay: app }, h.url)).toThrow(expect.objectContaining({ status: 409, code: 'oauth_not_configured' }));
    expect(connectApp('ebay', { ebay: { ...app, redirectUri: APP.ru_name } }, h.url).app.redirectUri).toBe(APP.ru_name);
  });

  it('eBay is listed as connectable by consent', async () => {
    const types = await call('GET', '/channel-types');
    expect(types.body.data.find((t: { type: string }) => t.type === 'ebay').oauth).toBe(true);
  });
});
