// Connecting TikTok Shop by the seller's consent, against the emulator's authorize page: start ->
// TikTok's page -> Authorize -> back to /oauth/callback (the app's registered redirect URL) -> the
// channel is connected with a working token pair. Cancel connects nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTiktokShopEmulator } from '../../emulators/tiktok_shop/index.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from './support.ts';

const KEY = 'ttsappkey1';
const SECRET = 'ttsappsecret1';
const emu = createTiktokShopEmulator();
let h: Harness;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  await emu.listen(0);
  h = await startHarness({
    config: { oauthApps: { tiktok_shop: { clientId: KEY, clientSecret: SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
  });
  // The app's redirect URL as registered in Partner Center: our callback.
  emu.addAccount({
    id: 'seller',
    credentials: { app_key: KEY, app_secret: SECRET, redirect_uri: `${h.url}/oauth/callback/tiktok_shop` },
    items: [{ sku: 'TEE-1', name: 'Tee', qty: 4 }],
  });
  call = client(h.url, (await registerTenant(h.url, 'Consenting Tees')).token);
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

/** The seller's browser on TikTok's authorize page: Authorize (or Cancel), then the redirect. */
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

describe('connecting TikTok Shop by consent', () => {
  it('start -> authorize -> callback connects a channel whose tokens work', async () => {
    const start = await call('POST', '/channels/oauth/tiktok_shop/start', { name: 'My TikTok Shop' });
    expect(start.status).toBe(200);
    expect(new URL(start.body.authorize_url).searchParams.get('app_key')).toBe(KEY);
    const back = await consent(start.body.authorize_url, 'allow');
    expect(back.startsWith(`${h.url}/oauth/callback/tiktok_shop?`)).toBe(true);
    const landed = await land(back);
    expect(landed.searchParams.get('connected')).toBe('1');
    const id = landed.pathname.split('/').pop()!;
    const ch = await call('GET', `/channels/${id}`);
    expect([ch.body.type, ch.body.name]).toEqual(['tiktok_shop', 'My TikTok Shop']);
    expect(ch.body.credentials).toMatchObject({ app_key: true, app_secret: true, access_token: true, refresh_token: true });
    expect((await call('POST', `/channels/${id}/test`)).body).toMatchObject({ ok: true, account: 'Shop seller' });
  });

  it('Cancel on the authorize page connects nothing', async () => {
    const before = (await call('GET', '/channels')).body.data.length;
    const start = await call('POST', '/channels/oauth/tiktok_shop/start', { name: 'Cancelled' });
    const landed = await land(await consent(start.body.authorize_url, 'deny'));
    expect(landed.searchParams.get('oauth_error')).toBeTruthy();
    expect((await call('GET', '/channels')).body.data.length).toBe(before);
  });
});
