// Connecting Etsy by consent from the Channels page (issue 13), in Debian's chromium, through the
// Etsy emulator's own consent page: "Connect with Etsy" -> Etsy's page -> Allow -> back on the new
// channel, connected with working tokens; Deny -> back on Channels with the reason in a banner and
// nothing connected.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEtsyEmulator } from '../../emulators/etsy/index.ts';
import { ensureWebBuilt, launchBrowser } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

const KEY = 'stockclerk-app-key';
const SECRET = 'app-shared-secret';
const SHOP_ID = 626262;
const emu = createEtsyEmulator();
let h: Harness;
let browser: Browser;
let token: string;

beforeAll(async () => {
  await ensureWebBuilt();
  await emu.listen(0);
  emu.addAccount({ id: 'seller', credentials: { keystring: KEY, shared_secret: SECRET, user_id: '515151', shop_id: String(SHOP_ID) }, items: [] } as never);
  h = await startHarness({
    config: { oauthApps: { etsy: { clientId: KEY, clientSecret: SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
  });
  token = (await registerTenant(h.url, 'Consenting Crafts')).token;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await emu.close();
});

const call = (method: string, p: string) => api(h.url, method, `/api/v1${p}`, { token });

async function open(path: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  await ctx.addInitScript((tk) => (globalThis as unknown as { localStorage: Storage }).localStorage.setItem('stockclerk.token', tk), token);
  const page = await ctx.newPage();
  await page.goto(h.url + path);
  return page;
}

/** From the Channels page to Etsy's consent page, naming the channel. */
async function toEtsy(page: Page, name: string) {
  await page.getByRole('button', { name: 'Add channel' }).click();
  const form = page.getByRole('form', { name: 'Connect a channel' });
  await form.locator('select[name=type]').selectOption('etsy');
  await form.locator('input[name=name]').fill(name);
  await form.getByRole('button', { name: 'Connect with Etsy' }).click();
  await page.waitForURL((u) => u.origin === new URL(emu.url).origin, { timeout: 15_000 });
  await expect.poll(() => page.getByText('An app would like to connect to your Etsy account').count()).toBe(1);
}

describe('Connect with Etsy', () => {
  it("goes through Etsy's consent page and comes back on the new channel, connected", async () => {
    const page = await open('/channels');
    await toEtsy(page, 'My Etsy shop');
    await page.getByRole('button', { name: 'Allow Access' }).click();
    await page.waitForURL(/\/channels\/ch_[0-9a-f]+\?connected=1$/, { timeout: 15_000 });
    await expect.poll(() => page.getByTestId('connected').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('h1').textContent()).toBe('My Etsy shop');
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const ch = (await call('GET', `/channels/${id}`)).body;
    expect([ch.type, ch.name]).toEqual(['etsy', 'My Etsy shop']);
    expect(ch.credentials).toMatchObject({ access_token: true, refresh_token: true });
    expect((await call('POST', `/channels/${id}/test`)).body).toMatchObject({ ok: true });
    // It is listed with the others.
    await page.goto(`${h.url}/channels`);
    await expect.poll(() => page.getByTestId('channel-card').filter({ hasText: 'My Etsy shop' }).count(), { timeout: 10_000 }).toBe(1);
  });

  it('a refusal on Etsy lands back on Channels with the reason, and connects nothing', async () => {
    const before = (await call('GET', '/channels')).body.data.length;
    const page = await open('/channels');
    await toEtsy(page, 'Refused shop');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(/\/channels\?oauth_error=/, { timeout: 15_000 });
    await expect.poll(() => page.getByTestId('oauth-error').count(), { timeout: 10_000 }).toBe(1);
    const banner = (await page.getByTestId('oauth-error').textContent())!;
    expect(banner).toContain('The channel was not connected.');
    expect(banner).toContain(new URL(page.url()).searchParams.get('message')!);
    expect(banner).toContain('access_denied');
    expect((await call('GET', '/channels')).body.data.length).toBe(before);
  });
});
