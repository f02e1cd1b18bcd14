// Connecting a Shopee shop by consent, against the Shopee emulator: start -> Shopee's signed
// auth_partner link -> the redirect back with code, shop_id (and our state in the redirect's own
// query) -> /oauth/callback/shopee -> the channel is connected with a working token pair. A spent
// code or a callback without the shop connects nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopeeEmulator } from '../../emulators/shopee/index.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from './support.ts';

const PARTNER_ID = '2009911';
const PARTNER_KEY = 'shpk-consent-test';
const SHOP_ID = '880088';
const emu = createShopeeEmulator();
let h: Harness;
let call: ReturnType<typeof client>;

beforeAll(async () => {
  await emu.listen(0);
  emu.addAccount({
    id: 'shop',
    credentials: { partner_id: PARTNER_ID, partner_key: PARTNER_KEY, shop_id: SHOP_ID },
    items: [{ sku: 'S-1', name: 'One', qty: 3 }],
  });
  h = await startHarness({
    config: { oauthApps: { shopee: { clientId: PARTNER_ID, clientSecret: PARTNER_KEY, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
  });
  const t = await registerTenant(h.url, 'Shopee Consent');
  call = client(h.url, t.token);
});
afterAll(async () => {
  await h?.stop();
  await emu.close();
});

const follow = async (url: string, expected: number) => {
  const r = await fetch(url, { redirect: 'manual' });
  expect(r.status).toBe(expected);
  return new URL(r.headers.get('location')!, url);
};

describe('connecting Shopee by consent', () => {
  it('start -> Shopee -> callback connects a working channel; the same code twice connects nothing more', async () => {
    const start = await call('POST', '/channels/oauth/shopee/start', { name: 'My Shopee shop' });
    expect(start.status).toBe(200);
    const link = new URL(start.body.authorize_url);
    expect(link.pathname).toBe('/api/v2/shop/auth_partner');
    expect(link.searchParams.get('sign')).toMatch(/^[0-9a-f]{64}$/);
    const back = await follow(start.body.authorize_url, 302);
    expect(back.pathname).toBe('/oauth/callback/shopee');
    expect(back.searchParams.get('shop_id')).toBe(SHOP_ID);
    const landed = await follow(back.toString(), 303);
    expect(landed.searchParams.get('connected')).toBe('1');
    const id = landed.pathname.split('/').pop()!;
    const ch = await call('GET', `/channels/${id}`);
    expect([ch.body.type, ch.body.name]).toEqual(['shopee', 'My Shopee shop']);
    expect(ch.body.credentials).toMatchObject({ partner_key: true, access_token: true, refresh_token: true });
    const test = await call('POST', `/channels/${id}/test`);
    expect(test.body).toMatchObject({ ok: true });
    expect(test.body.account).toContain(SHOP_ID);

    const again = await follow(back.toString(), 303);
    expect(again.searchParams.get('oauth_error')).toBeTruthy();
    const noShop = new URL(back.toString());
    noShop.searchParams.delete('shop_id');
    expect((await follow(noShop.toString(), 303)).searchParams.get('oauth_error')).toBeTruthy();
    const list = await call('GET', '/channels');
    expect(list.body.data.filter((c: { type: string }) => c.type === 'shopee')).toHaveLength(1);
  });
});
