// Connecting a marketplace by consent (issue 13, point 6), against the Etsy emulator's own consent
// page: start -> the platform's page -> Allow -> back to /oauth/callback -> the channel is
// connected, its tokens sealed at rest. A forged, foreign or refused round trip connects nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtsyEmulator } from '../../emulators/etsy/index.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

const KEY = 'stockclerk-app-key';
const SECRET = 'app-shared-secret';
const USER_ID = 515151;
const SHOP_ID = 626262;
const emu = createEtsyEmulator();
let h: Harness;
let call: ReturnType<typeof client>;
let tenantId: string;

beforeAll(async () => {
  await emu.listen(0);
  emu.addAccount({
    id: 'seller',
    credentials: { keystring: KEY, shared_secret: SECRET, user_id: String(USER_ID), shop_id: String(SHOP_ID) },
    items: [],
  } as never);
  h = await startHarness({
    config: { oauthApps: { etsy: { clientId: KEY, clientSecret: SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
  });
  const t = await registerTenant(h.url, 'Consenting Crafts');
  tenantId = t.tenantId;
  call = client(h.url, t.token);
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

/** What the seller's browser does on Etsy's consent page: Allow (or Deny), then follow the redirect to us. */
async function consent(authorizeUrl: string, decision: 'allow' | 'deny' = 'allow'): Promise<string> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.text())![1]!.replaceAll('&amp;', '&');
  const answer = await fetch(new URL(action, authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `user_id=${USER_ID}&decision=${decision}`,
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}

const land = async (callbackUrl: string) => {
  const r = await fetch(callbackUrl, { redirect: 'manual' });
  expect(r.status).toBe(303);
  return new URL(r.headers.get('location')!);
};

describe('connecting Etsy by consent', () => {
  it('start -> consent -> callback connects the channel with working, sealed tokens', async () => {
    const start = await call('POST', '/channels/oauth/etsy/start', { name: 'My Etsy shop' });
    expect(start.status).toBe(200);
    const url = new URL(start.body.authorize_url);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('redirect_uri')).toBe(`${h.url}/oauth/callback/etsy`);
    expect(start.body.authorize_url).not.toContain('verifier');
    const back = await consent(start.body.authorize_url);
    expect(back.startsWith(`${h.url}/oauth/callback/etsy?`)).toBe(true);
    const landed = await land(back);
    expect(landed.pathname).toMatch(/^\/channels\/ch_[0-9a-f]+$/);
    expect(landed.searchParams.get('connected')).toBe('1');
    const id = landed.pathname.split('/').pop()!;
    const ch = await call('GET', `/channels/${id}`);
    expect([ch.status, ch.body.type, ch.body.name]).toEqual([200, 'etsy', 'My Etsy shop']);
    expect(ch.body.credentials).toMatchObject({ keystring: true, shared_secret: true, access_token: true, refresh_token: true });
    const test = await call('POST', `/channels/${id}/test`);
    expect(test.body).toMatchObject({ ok: true });
    expect(test.body.account).toContain(String(SHOP_ID));
    const { rows } = await h.sc.ctx.db.query(`select credentials_enc from channels where tenant_id = $1 and id = $2`, [tenantId, id]);
    const opened = h.sc.ctx.sealer.open(rows[0].credentials_enc);
    expect(rows[0].credentials_enc).not.toContain(opened.access_token!);
  });

  it('the same link cannot be used twice: the code is spent and nothing more is connected', async () => {
    const start = await call('POST', '/channels/oauth/etsy/start', { name: 'Twice' });
    const back = await consent(start.body.authorize_url);
    expect((await land(back)).searchParams.get('connected')).toBe('1');
    const again = await land(back);
    expect(again.pathname).toBe('/channels');
    expect(again.searchParams.get('oauth_error')).toBeTruthy();
    const list = await call('GET', '/channels');
    expect(list.body.data.filter((c: { name: string }) => c.name === 'Twice')).toHaveLength(1);
  });

  it('a refusal, a forged or altered state, and a state for another platform connect nothing', async () => {
    const before = (await call('GET', '/channels')).body.data.length;
    const start = await call('POST', '/channels/oauth/etsy/start', { name: 'Refused' });
    const denied = await land(await consent(start.body.authorize_url, 'deny'));
    expect(denied.searchParams.get('oauth_error')).toBeTruthy();
    const forged = await land(`${h.url}/oauth/callback/etsy?code=abc&state=v2.nothing.we.made.this`);
    expect(forged.searchParams.get('oauth_error')).toBe('invalid_state');
    const state = new URL(start.body.authorize_url).searchParams.get('state')!;
    const tampered = state.slice(0, -4) + (state.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    expect((await land(`${h.url}/oauth/callback/etsy?code=abc&state=${encodeURIComponent(tampered)}`)).searchParams.get('oauth_error')).toBe('invalid_state');
    expect((await land(`${h.url}/oauth/callback/ebay?code=abc&state=${encodeURIComponent(state)}`)).searchParams.get('oauth_error')).toBe('invalid_state');
    expect((await land(`${h.url}/oauth/callback/etsy?state=${encodeURIComponent(state)}`)).searchParams.get('oauth_error')).toBe('invalid_request');
    expect((await call('GET', '/channels')).body.data.length).toBe(before);
  });

  it('types without consent, unknown types and platforms with no configured app answer clear 4xx', async () => {
    expectError(await call('POST', '/channels/oauth/woocommerce/start', { name: 'Store' }), 400, 'oauth_not_supported');
    expectError(await call('POST', '/channels/oauth/nosuch/start', { name: 'X' }), 404, 'not_found');
    expectError(await call('POST', '/channels/oauth/etsy/start', {}), 400, 'validation_failed');
    const types = await call('GET', '/channel-types');
    const etsy = types.body.data.find((t: { type: string }) => t.type === 'etsy');
    expect([etsy.oauth, etsy.capabilities.catalog]).toEqual([true, true]);
  });
});
