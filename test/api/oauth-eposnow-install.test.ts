// Installing StockClerk from the Epos Now App Store, against the emulator's App Store
// (emulators/eposnow/appstore.ts; Epos Now documents no install flow, so both sides are guesses,
// marked GUESS where they are made): Install on the app's page -> the signed launch at
// GET /install/eposnow -> the dashboard's connect page with a sealed ticket -> (signed in) start
// -> Epos Now's authorize page spends the install reference -> the callback's code is exchanged
// for the API device Epos Now made for the app -> the channel is connected with working keys,
// imports its products, and a till sale moves the ledger. Forged, altered, stale, replayed and
// unknown-merchant launches, forged tickets and spent codes connect nothing and store nothing;
// uninstalling in the App Store disconnects the channel, and installing again brings that channel
// back (the launch's merchant); device keys revoked in Back Office
// disconnect it at the next call (401) with the channel_auth alert.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEposnowEmulator } from '../../emulators/eposnow/index.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

const CLIENT_ID = 'stockclerk-eposnow-app';
const CLIENT_SECRET = 'eposnow-app-secret-for-tests';
const emu = createEposnowEmulator();
let h: Harness;
let call: ReturnType<typeof client>;
let locationId = '';

const follow = async (url: string, expected: number) => {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status, `${url} -> ${r.status}: ${r.status >= 400 ? await r.text() : ''}`).toBe(expected);
  return new URL(r.headers.get('location')!, url);
};
const sign = (params: Record<string, string>, secret = CLIENT_SECRET) => {
  const message = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return new URLSearchParams({ ...params, signature: createHmac('sha256', secret).update(message).digest('hex') });
};
const nowS = () => String(Math.floor(Date.now() / 1000));
/** The merchant clicks Install on the app's App Store page: Epos Now answers with the signed launch. */
async function clickInstall(merchant: string): Promise<URL> {
  const r = await fetch(`${emu.url}/appstore/apps/${CLIENT_ID}/install?account=${merchant}`, { method: 'POST', redirect: 'manual' });
  expect(r.status).toBe(302);
  return new URL(r.headers.get('location')!);
}
const channelCount = async () => (await h.sc.ctx.db.query(`select count(*)::int as n from channels where type = 'eposnow'`)).rows[0].n as number;

/** App Store -> launch -> connect page -> start -> authorize -> callback: the new channel's id. */
async function install(merchant: string, name: string, as = call): Promise<{ id: string; back: URL; launched: URL }> {
  const launched = await clickInstall(merchant);
  const page = await follow(launched.toString(), 303);
  expect(page.pathname).toBe('/connect/eposnow');
  const ticket = page.searchParams.get('install')!;
  expect(ticket, page.toString()).toBeTruthy();
  const start = await as('POST', '/channels/oauth/eposnow/start', { name, install: ticket });
  expect(start.status, JSON.stringify(start.body)).toBe(200);
  const back = await follow(start.body.authorize_url, 302);
  expect(back.pathname).toBe('/oauth/callback/eposnow');
  const landed = await follow(back.toString(), 303);
  expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
  return { id: landed.pathname.split('/').pop()!, back, launched };
}

beforeAll(async () => {
  await emu.listen(0);
  emu.addAccount({
    id: 'high-street-cafe',
    credentials: { api_key: 'PASTED-KEY', api_secret: 'PASTED-SECRET' },
    items: [
      { sku: 'LATTE', name: 'Latte beans 1kg', qty: 9 },
      { sku: 'MUG', name: 'Mug', qty: 4 },
    ],
  });
  emu.addAccount({ id: 'corner-deli', credentials: { api_key: 'DELI-KEY', api_secret: 'DELI-SECRET' }, items: [{ sku: 'ROLL', name: 'Roll', qty: 20 }] });
  h = await startHarness({
    config: { oauthApps: { eposnow: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
  });
  const reg = await fetch(`${emu.url}/_control/apps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      name: 'StockClerk',
      install_url: `${h.url}/install/eposnow`,
      redirect_urls: [`${h.url}/oauth/callback/eposnow`],
    }),
  });
  expect(reg.status).toBe(200);
  const t = await registerTenant(h.url, 'High Street Cafe');
  call = client(h.url, t.token);
  locationId = t.locationId;
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

describe('installing from the Epos Now App Store', () => {
  let channelId = '';

  it('Install -> signed launch -> connect page -> authorize -> callback: connected with the app device keys, sealed; import and a till sale move the ledger', async () => {
    const { id, back, launched } = await install('high-street-cafe', 'Cafe till');
    expect(launched.pathname).toBe('/install/eposnow');
    expect(launched.searchParams.get('signature')).toMatch(/^[0-9a-f]{64}$/);
    expect(launched.searchParams.get('merchant_id')).toBe('high-street-cafe');
    channelId = id;
    const ch = await call('GET', `/channels/${id}`);
    expect([ch.body.type, ch.body.name, ch.body.base_url, ch.body.status]).toEqual(['eposnow', 'Cafe till', emu.url, 'connected']);
    expect(ch.body.credentials).toMatchObject({ api_key: true, api_secret: true });
    // The keys are the device Epos Now made for the app (not the pasted device's), sealed at rest.
    const device = emu.accounts.get('high-street-cafe')!.appDevices.find((d) => d.clientId === CLIENT_ID)!;
    expect(device).toBeTruthy();
    const row = (await h.sc.ctx.db.query(`select credentials_enc from channels where id = $1`, [id])).rows[0].credentials_enc as string;
    expect(row).not.toContain(device.api_key);
    expect(row).not.toContain(device.api_secret);
    expect(h.sc.ctx.sealer.open<Record<string, string>>(row)).toMatchObject({ api_key: device.api_key, api_secret: device.api_secret });
    expect((await call('POST', `/channels/${id}/test`)).body).toMatchObject({ ok: true });

    const imported = await call('POST', `/channels/${id}/import`);
    expect(imported.status, JSON.stringify(imported.body)).toBeLessThan(300);
    expect(imported.body).toMatchObject({ imported: 2, unmatched: 2 });
    const created = await call('POST', '/listings/create-items', { channel_id: id, opening_stock_location_id: locationId });
    expect(created.body).toMatchObject({ created: 2, mapped: 2 });
    // The channel's secret webhook URL, given to Epos Now as for a channel connected with pasted keys.
    expect(ch.body.webhook_url).toMatch(new RegExp(`/webhooks/eposnow/${id}/[A-Za-z0-9_-]{20,}$`));
    await fetch(`${emu.url}/_control/accounts/high-street-cafe/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: ch.body.webhook_url }),
    });
    const latte = async () =>
      ((await call('GET', '/items?q=LATTE')).body.data as Array<{ sku: string; on_hand: number }>).find((i) => i.sku === 'LATTE')?.on_hand;
    expect(await latte()).toBe(9);
    const sale = await fetch(`${emu.url}/_control/accounts/high-street-cafe/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'LATTE', qty: 2 }),
    });
    expect(sale.status).toBe(200);
    await eventually(async () => (await latte()) === 7, 15_000, 'the till sale to move the ledger');

    // The same callback again (a spent code) connects nothing more.
    expect((await follow(back.toString(), 303)).searchParams.get('oauth_error')).toBeTruthy();
    // The same launch again (a replayed install reference): StockClerk hands out a ticket (it cannot
    // know), but Epos Now has spent the reference, so its authorize page refuses and nothing connects.
    const again = await follow(launched.toString(), 303);
    const ticket = again.searchParams.get('install')!;
    const start = await call('POST', '/channels/oauth/eposnow/start', { name: 'Replayed', install: ticket });
    expect(start.status).toBe(200);
    const refused = await fetch(start.body.authorize_url, { redirect: 'manual' });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('already used');
    expect(await channelCount()).toBe(1);
  });

  it('refuses launches that are forged, altered, stale, unsigned or name no merchant or reference: no ticket, nothing stored', async () => {
    const before = await channelCount();
    const good = { install_ref: 'ref_abcdefghijkl', merchant_id: 'high-street-cafe', timestamp: nowS() };
    const refused = async (query: URLSearchParams) => {
      const page = await follow(`${h.url}/install/eposnow?${query.toString()}`, 303);
      expect([page.pathname, page.searchParams.get('install_error')], page.toString()).toEqual(['/connect/eposnow', 'invalid_launch']);
      expect(page.searchParams.has('install')).toBe(false);
      expect(page.searchParams.get('message')).toMatch(/did not come from the platform/);
    };
    await refused(sign(good, 'not-our-app-secret')); // signed with another key
    const altered = sign(good);
    altered.set('merchant_id', 'corner-deli'); // signature no longer matches
    await refused(altered);
    const tampered = sign(good);
    tampered.set('signature', `${tampered.get('signature')!.slice(0, 63)}0`);
    await refused(tampered);
    await refused(sign({ ...good, timestamp: String(Math.floor(Date.now() / 1000) - 3600) })); // stale
    await refused(sign({ ...good, timestamp: String(Math.floor(Date.now() / 1000) + 3600) })); // from the future
    await refused(new URLSearchParams(good)); // unsigned
    await refused(sign({ merchant_id: 'high-street-cafe', timestamp: nowS() })); // no install reference
    await refused(sign({ install_ref: 'ref_abcdefghijkl', timestamp: nowS() })); // no merchant
    await refused(sign({ ...good, merchant_id: '../../etc' })); // not a merchant id
    expect(await channelCount()).toBe(before);
  });

  it('an unknown merchant or reference, a forged or expired ticket, a start without an install and a forged code connect nothing: 4xx, never 500', async () => {
    const before = await channelCount();
    // Signed as the app would be (so StockClerk hands out a ticket), naming a merchant and a
    // reference Epos Now never issued: its authorize page refuses, nothing comes back.
    const page = await follow(
      `${h.url}/install/eposnow?${sign({ install_ref: 'ref_never_issued_1', merchant_id: 'no-such-merchant', timestamp: nowS() }).toString()}`,
      303,
    );
    const ticket = page.searchParams.get('install')!;
    expect(ticket).toBeTruthy();
    const start = await call('POST', '/channels/oauth/eposnow/start', { name: 'Ghost', install: ticket });
    expect(start.status).toBe(200);
    expect((await fetch(start.body.authorize_url, { redirect: 'manual' })).status).toBe(400);
    // A reference issued for one merchant but named for another is refused too (and stays spendable by its own).
    const real = await clickInstall('corner-deli');
    const realQuery = Object.fromEntries(real.searchParams);
    const swapped = await follow(
      `${h.url}/install/eposnow?${sign({ install_ref: realQuery.install_ref!, merchant_id: 'high-street-cafe', timestamp: nowS() }).toString()}`,
      303,
    );
    const s2 = await call('POST', '/channels/oauth/eposnow/start', { name: 'Swapped', install: swapped.searchParams.get('install') });
    expect((await fetch(s2.body.authorize_url, { redirect: 'manual' })).status).toBe(400);

    expectError(await call('POST', '/channels/oauth/eposnow/start', { name: 'x', install: 'forged' }), 400, 'invalid_install');
    const expired = h.sc.ctx.sealer.seal({
      kind: 'install',
      type: 'eposnow',
      account: null,
      launch: { install_ref: 'ref_abcdefghijkl', merchant_id: 'high-street-cafe' },
      exp: Date.now() - 1000,
    });
    expectError(await call('POST', '/channels/oauth/eposnow/start', { name: 'x', install: expired }), 400, 'expired_install');
    // Epos Now installs start on its side: from StockClerk's there is no merchant to name.
    expectError(await call('POST', '/channels/oauth/eposnow/start', { name: 'x' }), 400, 'install_required');
    const types = await call('GET', '/channel-types');
    expect(types.body.data.find((t: { type: string }) => t.type === 'eposnow')).toMatchObject({ oauth: false });

    // A callback with a code Epos Now never issued (and a valid state): the exchange is refused.
    const s3 = await call('POST', '/channels/oauth/eposnow/start', { name: 'Forged code', install: ticket });
    const state = new URL(s3.body.authorize_url).searchParams.get('state')!;
    const forged = await follow(`${h.url}/oauth/callback/eposnow?code=never-issued&state=${encodeURIComponent(state)}`, 303);
    expect(forged.searchParams.get('oauth_error')).toBeTruthy();
    expect(forged.searchParams.get('message')).toMatch(/Epos Now refused the install code/);
    // Declined on Epos Now's side: back with error=access_denied.
    await fetch(`${emu.url}/_control/apps/${CLIENT_ID}/deny`, { method: 'POST' });
    const s4 = await call('POST', '/channels/oauth/eposnow/start', {
      name: 'Declined',
      install: (await follow((await clickInstall('corner-deli')).toString(), 303)).searchParams.get('install'),
    });
    const declined = await follow(await follow(s4.body.authorize_url, 302).then((u) => u.toString()), 303);
    expect(declined.searchParams.get('oauth_error')).toBe('access_denied');
    expect(await channelCount()).toBe(before);
  });

  it('uninstalling in the App Store disconnects the channel and raises its alert; an uninstall without the URL secret does nothing', async () => {
    expect(channelId).not.toBe('');
    const forged = await fetch(`${h.url}/webhooks/eposnow/${channelId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ EventType: 'AppUninstalled', AppId: CLIENT_ID, MerchantId: 'high-street-cafe' }),
    });
    expect(forged.status).toBe(401);
    const wrong = await fetch(`${h.url}/webhooks/eposnow/${channelId}/not-the-secret`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ EventType: 'AppUninstalled' }),
    });
    expect(wrong.status).toBe(401);
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('connected');

    const un = await fetch(`${emu.url}/appstore/apps/${CLIENT_ID}/uninstall?account=high-street-cafe`, { method: 'POST' });
    expect(un.status).toBe(200);
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.status === 'disconnected', 10_000, 'the channel to be disconnected');
    const ch = await call('GET', `/channels/${channelId}`);
    expect(ch.body.last_error).toMatch(/uninstalled on Epos Now/);
    const alerts = await call('GET', '/alerts?status=open');
    expect(
      alerts.body.data.some(
        (a: { type: string; subject: string; message: string }) => a.type === 'channel_auth' && a.subject === channelId && a.message.includes('uninstalled'),
      ),
    ).toBe(true);
    // The app's device is gone on Epos Now: its keys are refused.
    expect(emu.accounts.get('high-street-cafe')!.appDevices).toHaveLength(0);
  });

  it('installing again from the App Store after uninstalling brings back the same channel with new device keys', async () => {
    expect((await call('GET', `/channels/${channelId}`)).body.status).toBe('disconnected');
    const before = await channelCount();
    const { id } = await install('high-street-cafe', 'Cafe till again');
    expect(id).toBe(channelId);
    expect(await channelCount()).toBe(before);
    const ch = await call('GET', `/channels/${channelId}`);
    expect([ch.body.status, ch.body.name]).toEqual(['connected', 'Cafe till']);
    expect(ch.body.credentials).toMatchObject({ api_key: true, api_secret: true, merchant_id: true });
    expect((await call('POST', `/channels/${channelId}/test`)).body).toMatchObject({ ok: true });
    expect(emu.accounts.get('high-street-cafe')!.appDevices).toHaveLength(1);
  });

  it('device keys revoked in Back Office: the next call gets 401, the channel is disconnected and the channel_auth alert raised', async () => {
    const other = client(h.url, (await registerTenant(h.url, 'Corner Deli')).token);
    const { id } = await install('corner-deli', 'Deli till', other);
    expect((await other('POST', `/channels/${id}/import`)).status).toBeLessThan(300);
    const ch = await other('GET', `/channels/${id}`);
    await fetch(`${emu.url}/_control/accounts/corner-deli/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: ch.body.webhook_url }),
    });
    const revoked = await fetch(`${emu.url}/_control/accounts/corner-deli/revoke-app?client_id=${CLIENT_ID}`, { method: 'POST' });
    expect(await revoked.json()).toEqual({ ok: true });
    // A till sale: its webhook is a hint, the poll it causes meets the 401.
    await fetch(`${emu.url}/_control/accounts/corner-deli/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'ROLL', qty: 1 }),
    });
    await eventually(async () => (await other('GET', `/channels/${id}`)).body.status === 'disconnected', 15_000, 'the channel to be disconnected');
    const alerts = await other('GET', '/alerts?status=open');
    expect(
      alerts.body.data.some(
        (a: { type: string; subject: string; message: string }) =>
          a.type === 'channel_auth' && a.subject === id && a.message.includes('refused our credentials'),
      ),
    ).toBe(true);
  });
});
