// Connecting a Square seller by consent, against the emulator's authorize page: start -> Square's
// page -> Allow -> back to /oauth/callback (the application's registered redirect URL) -> the code
// exchanged with POST /oauth2/token -> the channel is connected with a working token pair. Deny
// connects nothing; the same code twice connects nothing more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSquareEmulator } from '../../emulators/square/index.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from './support.ts';

const CLIENT_ID = 'sq0idp-consent-test';
const CLIENT_SECRET = 'sq0csp-consent-secret';
const emu = createSquareEmulator();
let h: Harness;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  await emu.listen(0);
  h = await startHarness({
    config: { oauthApps: { square: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
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
});
