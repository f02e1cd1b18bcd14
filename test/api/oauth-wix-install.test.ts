// Installing StockClerk from Wix's side, against the Wix emulator's install handshake
// (emulators/wix/install.ts): the site owner adds the app -> Wix opens our App URL
// (GET /install/wix) with its install token -> the dashboard's connect page with a sealed ticket
// -> (signed in) start -> Wix's installer with that token -> the callback with code and
// instanceId -> the channel is connected with an OAuth access token that works, renewed with the
// refresh token when it expires. A refused renewal raises the channel-auth alert; removing the
// app on Wix (its signed App Removed webhook) disconnects the channel, and adding it again on Wix
// reconnects that same channel (its listings kept, no second shop). Forged launches and callbacks
// connect nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWixEmulator } from '../../emulators/wix/index.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { authAlerts, waitForAuthAlert } from './oauth-support.ts';
import { client } from './support.ts';

const APP_ID = '0f3c6a3e-8d5b-4e4f-9d7a-6b1f2f0c1a11';
const APP_SECRET = 'wix-app-secret-install-test';
const SITE = 'corner-site';
const emu = createWixEmulator();
let h: Harness;
let call: ReturnType<typeof client>;
let locationId: string;
let tenantId: string;

const follow = async (url: string, expected: number) => {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status, `${url} -> ${r.status}: ${r.status >= 400 ? await r.text() : ''}`).toBe(expected);
  return new URL(r.headers.get('location')!, url);
};
const control = (path: string, body: unknown = {}) =>
  fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

beforeAll(async () => {
  await emu.listen(0);
  emu.addAccount({ id: SITE, credentials: { api_key: 'pasted-key-unused', site_id: SITE }, items: [{ sku: 'WIX-INS-1', name: 'Installed item', qty: 4 }] });
  emu.addAccount({ id: 'other-site', credentials: { api_key: 'other-key', site_id: 'other-site' }, items: [] });
  // Register the app first: Wix issues its key pair, the public half is StockClerk's configuration;
  // once StockClerk listens, its App URL and redirect URL are set (registering again keeps the keys).
  const reg = await control('/apps', { app_id: APP_ID, app_secret: APP_SECRET, app_url: 'http://127.0.0.1:1/install/wix' });
  const { public_key } = (await reg.json()) as { public_key: string };
  h = await startHarness({
    config: {
      oauthApps: { wix: { clientId: APP_ID, clientSecret: APP_SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url, webhookKey: public_key } },
    },
  });
  const again = await control('/apps', {
    app_id: APP_ID,
    app_secret: APP_SECRET,
    app_url: `${h.url}/install/wix`,
    redirect_urls: [`${h.url}/oauth/callback/wix`],
  });
  expect(((await again.json()) as { public_key: string }).public_key).toBe(public_key);
  const t = await registerTenant(h.url, 'Wix Install');
  call = client(h.url, t.token);
  locationId = t.locationId;
  tenantId = t.tenantId;
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

describe('installing from Wix', () => {
  let channelId = '';

  it('add the app on Wix -> App URL with token -> connect page -> installer -> callback: the site is connected with a working OAuth token', async () => {
    const launched = await follow(`${emu.url}/_control/accounts/${SITE}/install?app_id=${APP_ID}`, 302);
    expect(launched.pathname).toBe('/install/wix');
    const token = launched.searchParams.get('token')!;
    expect(token).toBeTruthy();
    const page = await follow(launched.toString(), 303);
    expect(page.pathname).toBe('/connect/wix');
    const ticket = page.searchParams.get('install')!;
    expect(ticket).toBeTruthy();
    expect(page.toString()).not.toContain(token); // the install token travels sealed

    const start = await call('POST', '/channels/oauth/wix/start', { name: 'Corner site', install: ticket });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const installer = new URL(start.body.authorize_url);
    expect(installer.pathname).toBe('/installer/install');
    expect([installer.searchParams.get('token'), installer.searchParams.get('appId')]).toEqual([token, APP_ID]);
    expect(installer.searchParams.get('redirectUrl')).toBe(`${h.url}/oauth/callback/wix`);
    const back = await follow(start.body.authorize_url, 302);
    expect(back.pathname).toBe('/oauth/callback/wix');
    expect(back.searchParams.get('instanceId')).toBe(emu.accounts.get(SITE)!.instanceId);
    const landed = await follow(back.toString(), 303);
    expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
    channelId = landed.pathname.split('/').pop()!;
    const ch = await call('GET', `/channels/${channelId}`);
    expect([ch.body.type, ch.body.name, ch.body.base_url]).toEqual(['wix', 'Corner site', emu.url]);
    expect(ch.body.credentials).toMatchObject({ access_token: true, refresh_token: true, public_key: true, instance_id: true, api_key: false });
    expect(emu.accounts.get(SITE)!.appGrant?.appId).toBe(APP_ID);
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    const imported = await call('POST', `/channels/${channelId}/import`);
    expect(imported.status, JSON.stringify(imported.body)).toBeLessThan(300);
    expect(imported.body.imported).toBe(1);

    // The same callback again (a spent code) connects nothing more.
    expect((await follow(back.toString(), 303)).searchParams.get('oauth_error')).toBeTruthy();
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'wix')).toHaveLength(1);
  });

  it('an access token that expired is renewed with the refresh token and the call goes through', async () => {
    expect(channelId).not.toBe('');
    const before = emu.accounts.get(SITE)!.appGrant!.accessToken;
    expect((await control(`/accounts/${SITE}/expire-token`)).status).toBe(200);
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    const after = emu.accounts.get(SITE)!.appGrant!.accessToken;
    expect(after).not.toBe(before);
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('connected');
  });

  it('refuses launches without an install token and a token Wix did not issue; a forged or altered callback connects nothing', async () => {
    const none = await follow(`${h.url}/install/wix`, 303);
    expect([none.pathname, none.searchParams.get('install_error')]).toEqual(['/connect/wix', 'invalid_launch']);
    expect(none.searchParams.has('install')).toBe(false);
    const junk = await follow(`${h.url}/install/wix?token=${encodeURIComponent('<script>')}`, 303);
    expect(junk.searchParams.get('install_error')).toBe('invalid_launch');
    // A token Wix never issued gets a ticket (the token is Wix's to check), but Wix's installer refuses it.
    const forged = await follow(`${h.url}/install/wix?token=forged.token.value`, 303);
    const start = await call('POST', '/channels/oauth/wix/start', { name: 'Forged', install: forged.searchParams.get('install') });
    expect(start.status).toBe(200);
    expect((await fetch(start.body.authorize_url, { redirect: 'manual' })).status).toBe(400);
    expect((await call('POST', '/channels/oauth/wix/start', { name: 'x', install: 'forged' })).body.error.code).toBe('invalid_install');

    // A callback with a made-up code, one without instanceId, and one whose state is not ours.
    const real = await call('POST', '/channels/oauth/wix/start', { name: 'Real' });
    const state = new URL(real.body.authorize_url).searchParams.get('state')!;
    const cb = (q: Record<string, string>) => `${h.url}/oauth/callback/wix?${new URLSearchParams(q).toString()}`;
    const instanceId = emu.accounts.get('other-site')!.instanceId;
    expect((await follow(cb({ code: 'made-up', state, instanceId }), 303)).searchParams.get('oauth_error')).toBeTruthy();
    expect((await follow(cb({ code: 'made-up', state }), 303)).searchParams.get('oauth_error')).toBeTruthy();
    expect((await follow(cb({ code: 'made-up', state: `${state}x`, instanceId }), 303)).searchParams.get('oauth_error')).toBe('invalid_state');
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'wix')).toHaveLength(1);
  });

  it('a refused renewal (the app lost its grant) raises the channel-auth alert and disconnects the channel', async () => {
    const item = await call('POST', '/items', { sku: 'WIX-INS-1', name: 'Installed item' });
    expect(item.status, JSON.stringify(item.body)).toBe(201);
    expect((await call('POST', `/channels/${channelId}/import`)).body).toMatchObject({ matched: 1 });
    // Wix forgets the grant without a webhook reaching us (the removal webhook lost): both tokens die.
    const acc = emu.accounts.get(SITE)!;
    const grant = acc.appGrant!;
    acc.appGrant = { ...grant, refreshToken: 'revoked', accessExp: 0 };
    const adjust = await call('POST', '/adjustments', { item_id: item.body.id, location_id: locationId, qty_delta: 3, reason: 'receipt' });
    expect(adjust.status).toBe(201);
    await waitForAuthAlert(call, channelId);
    const ch = await call('GET', `/channels/${channelId}`);
    expect(ch.body.status).toBe('disconnected');
    expect(ch.body.last_error).toMatch(/refused to renew/);
    acc.appGrant = grant; // back for the uninstall below
  });

  it('removing the app on Wix disconnects the channel and raises its alert; a forged removal does nothing', async () => {
    // Reconnect by installing again (the same channel takes the new tokens).
    const launched = await follow(`${emu.url}/_control/accounts/${SITE}/install?app_id=${APP_ID}`, 302);
    const ticket = (await follow(launched.toString(), 303)).searchParams.get('install')!;
    const start = await call('POST', '/channels/oauth/wix/start', { channel_id: channelId, install: ticket });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const landed = await follow((await follow(start.body.authorize_url, 302)).toString(), 303);
    expect(landed.pathname).toBe(`/channels/${channelId}`);
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.status === 'connected', 10_000, 'the channel to be connected again');
    expect(await authAlerts(call, channelId)).toEqual([]);

    const hook = `${h.url}/webhooks/wix/${channelId}`;
    const unsignedJwt = (obj: unknown) =>
      `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(obj)).toString('base64url')}.AAAA`;
    const forged = await fetch(hook, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: unsignedJwt({ data: JSON.stringify({ eventType: 'AppRemoved', instanceId: 'x', data: '{}' }), iat: Math.floor(Date.now() / 1000) }),
    });
    expect(forged.status).toBe(401);
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('connected');

    expect((await control(`/accounts/${SITE}/webhook`, { url: hook })).status).toBe(200);
    expect((await control(`/accounts/${SITE}/uninstall`)).status).toBe(200);
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.status === 'disconnected', 10_000, 'the channel to be disconnected');
    const alerts = await call('GET', '/alerts?status=open');
    expect(alerts.body.data.some((a: { type: string; message: string }) => a.type === 'channel_auth' && a.message.includes('uninstalled'))).toBe(true);
  });

  it('adding the app again on Wix reconnects the same channel: its listings stay matched, no second shop, even on a full plan', async () => {
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('disconnected');
    // The plan has no room left: its one shop is the removed channel. A new shop would be refused.
    await h.sc.ctx.db.query(`update tenants set plan = 'enterprise', shop_limit = 1 where id = $1`, [tenantId]);
    const install = async (site: string) => {
      const launched = await follow(`${emu.url}/_control/accounts/${site}/install?app_id=${APP_ID}`, 302);
      const ticket = (await follow(launched.toString(), 303)).searchParams.get('install')!;
      // As the connect page starts it: no channel named, the merchant only installed the app again.
      const start = await call('POST', '/channels/oauth/wix/start', { name: 'Corner site again', install: ticket });
      expect(start.status, JSON.stringify(start.body)).toBe(200);
      return follow((await follow(start.body.authorize_url, 302)).toString(), 303);
    };
    // Another Wix site is another shop, not this channel's account: the full plan refuses it at the
    // callback, and nothing is attached to the removed channel.
    const other = await install('other-site');
    expect(other.searchParams.get('oauth_error'), other.toString()).toBe('plan_limit');
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('disconnected');

    const landed = await install(SITE);
    expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
    expect(landed.pathname).toBe(`/channels/${channelId}`);
    const ch = await call('GET', `/channels/${channelId}`);
    expect([ch.body.status, ch.body.name]).toEqual(['connected', 'Corner site']);
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'wix')).toHaveLength(1);
    const listings = await call('GET', `/listings?channel_id=${channelId}`);
    expect(listings.body.data.map((l: { item_id: string | null }) => l.item_id !== null)).toEqual([true]);
    expect(await authAlerts(call, channelId)).toEqual([]);
    // Now connected and the plan full, a consent for yet another shop is refused before it starts.
    const launched = await follow(`${emu.url}/_control/accounts/other-site/install?app_id=${APP_ID}`, 302);
    const ticket = (await follow(launched.toString(), 303)).searchParams.get('install')!;
    const refused = await call('POST', '/channels/oauth/wix/start', { name: 'Other', install: ticket });
    expect([refused.status, refused.body.error?.code]).toEqual([403, 'plan_limit']);
  });
});
