// Connecting a Square seller by consent, against the emulator's authorize page: start -> Square's
// page -> Allow -> back to /oauth/callback (the application's registered redirect URL) -> the code
// exchanged with POST /oauth2/token -> the channel is connected with a working token pair. Deny
// connects nothing; the same code twice connects nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSquareEmulator } from '../../emulators/square/index.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from './support.ts';

const CLIENT_ID = 'sq0idp-consent-test';
const CLIENT_SECRET = 'sq0csp-consent-secret';
/** The application's webhook subscription signature key (one per application, not per seller). */
const APP_SIGNATURE_KEY = 'app-subscription-signature-key';
const emu = createSquareEmulator();
let h: Harness;
let call: ReturnType<typeof client>;
/** The channel the first consent made for the 'bakery' seller. */
let bakeryChannel = '';

beforeAll(async () => {
  await emu.listen(0);
  h = await startHarness({
    config: {
      oauthApps: {
        square: {
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          redirectUri: null,
          apiBase: emu.url,
          authorizeBase: emu.url,
          webhookKey: APP_SIGNATURE_KEY,
        },
      },
    },
  });
  // The application's redirect URL as registered in the Developer Console: our callback.
  emu.addAccount({
    id: 'bakery',
    credentials: { access_token: 'EAAA-personal', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: `${h.url}/oauth/callback/square` },
    items: [{ sku: 'BUN-1', name: 'Bun', qty: 12 }],
  });
  call = client(h.url, (await registerTenant(h.url, 'Consenting Bakery')).token);
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

/** The seller's browser on Square's authorize page: Allow (or Deny), then the redirect. */
async function consent(authorizeUrl: string, decision: 'allow' | 'deny'): Promise<string> {
  const page = await fetch(authorizeUrl);
  expect(page.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/.exec(await page.text())![1]!.replaceAll('&#38;', '&');
  const answer = await fetch(new URL(action, authorizeUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `decision=${decision}`,
    redirect: 'manual',
  });
  expect(answer.status).toBe(302);
  return answer.headers.get('location')!;
}
const land = async (url: string) => new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);

describe('connecting Square by consent', () => {
  it('start -> authorize -> callback connects a channel whose tokens work; a spent code connects nothing more', async () => {
    const start = await call('POST', '/channels/oauth/square/start', { name: 'Bakery till' });
    expect(start.status).toBe(200);
    const link = new URL(start.body.authorize_url);
    expect(link.pathname).toBe('/oauth2/authorize');
    expect(link.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(link.searchParams.get('scope')!.split(' ')).toEqual(expect.arrayContaining(['INVENTORY_READ', 'INVENTORY_WRITE', 'ITEMS_READ']));
    const back = await consent(start.body.authorize_url, 'allow');
    expect(back.startsWith(`${h.url}/oauth/callback/square?`)).toBe(true);
    const landed = await land(back);
    expect(landed.searchParams.get('connected')).toBe('1');
    const id = landed.pathname.split('/').pop()!;
    bakeryChannel = id;
    const ch = await call('GET', `/channels/${id}`);
    expect([ch.body.type, ch.body.name]).toEqual(['square', 'Bakery till']);
    expect(ch.body.credentials).toMatchObject({ access_token: true, refresh_token: true, client_secret: true });
    expect((await call('POST', `/channels/${id}/test`)).body).toMatchObject({ ok: true, account: 'Main' });

    expect((await land(back)).searchParams.get('oauth_error')).toBeTruthy();
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'square')).toHaveLength(1);
  });

  it('Deny on the authorize page connects nothing', async () => {
    const before = (await call('GET', '/channels')).body.data.length;
    const start = await call('POST', '/channels/oauth/square/start', { name: 'Denied' });
    const landed = await land(await consent(start.body.authorize_url, 'deny'));
    expect(landed.searchParams.get('oauth_error')).toBeTruthy();
    expect((await call('GET', '/channels')).body.data.length).toBe(before);
  });

  it('from the Square App Marketplace: the launch lands on the connect page, consent connects, notifications verify with the app key, and revoking on Square disconnects', async () => {
    const page = await land(`${h.url}/install/square`);
    expect(page.pathname).toBe('/connect/square');
    const ticket = page.searchParams.get('install')!;
    expect(ticket).toBeTruthy();
    const start = await call('POST', '/channels/oauth/square/start', { name: 'Marketplace till', install: ticket });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const landed = await land(await consent(start.body.authorize_url, 'allow'));
    expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
    const id = landed.pathname.split('/').pop()!;
    // The same seller (Square's merchant id) as the first consent: that channel takes the new grant, no second one.
    expect(id).toBe(bakeryChannel);
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'square')).toHaveLength(1);
    expect((await call('GET', `/channels/${id}`)).body.credentials).toMatchObject({ access_token: true, webhook_signature_key: true });
    expect((await call('POST', `/channels/${id}/import`)).status).toBeLessThan(300);
    // Square signs the application's notifications with the subscription's key: a register sale verifies and moves the ledger.
    const hook = `${h.url}/webhooks/square/${id}`;
    await fetch(`${emu.url}/_control/accounts/bakery/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ url: hook, secret: APP_SIGNATURE_KEY }),
    });
    const events = async () => (await h.sc.ctx.db.query(`select count(*)::int as n from channel_events where channel_id = $1`, [id])).rows[0].n as number;
    const before = await events();
    const sale = await fetch(`${emu.url}/_control/accounts/bakery/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'BUN-1', qty: 1 }),
    });
    expect(sale.status).toBe(200);
    await eventually(async () => (await events()) > before, 10_000, 'the signed notification to be accepted');
    const revoked = await fetch(`${emu.url}/_control/accounts/bakery/revoke`, { method: 'POST' });
    expect(revoked.status).toBe(200);
    await eventually(async () => (await call('GET', `/channels/${id}`)).body.status === 'disconnected', 10_000, 'the channel to be disconnected');
    const alerts = await call('GET', '/alerts?status=open');
    expect(alerts.body.data.some((a: { type: string; message: string }) => a.type === 'channel_auth' && a.message.includes('uninstalled'))).toBe(true);
  });

  it('installing again from the Marketplace after revoking reconnects the same channel', async () => {
    expect((await call('GET', `/channels/${bakeryChannel}`)).body.status).toBe('disconnected');
    const ticket = (await land(`${h.url}/install/square`)).searchParams.get('install')!;
    const start = await call('POST', '/channels/oauth/square/start', { name: 'Till again', install: ticket });
    expect(start.status, JSON.stringify(start.body)).toBe(200);
    const landed = await land(await consent(start.body.authorize_url, 'allow'));
    expect(landed.searchParams.get('connected'), landed.toString()).toBe('1');
    expect(landed.pathname).toBe(`/channels/${bakeryChannel}`);
    expect((await call('GET', `/channels/${bakeryChannel}`)).body.status).toBe('connected');
    expect((await call('POST', `/channels/${bakeryChannel}/test`)).body).toMatchObject({ ok: true });
    expect((await call('GET', '/channels')).body.data.filter((c: { type: string }) => c.type === 'square')).toHaveLength(1);
  });
});
