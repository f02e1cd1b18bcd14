// Installing StockClerk from Wix's side (issue 15, app installs), in Debian's chromium: a site
// owner with no StockClerk account adds the app on Wix (the emulator's install link opens our App
// URL with Wix's install token), lands on StockClerk's connect page, creates an account, comes back
// to the connect page, approves on Wix's installer and lands on the new channel, connected with
// an OAuth token that works. An owner who already has an account logs in on the way instead. A
// launch without Wix's token shows why nothing started.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWixEmulator } from '../../emulators/wix/index.ts';
import { ensureWebBuilt, launchBrowser } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

const APP_ID = '5a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const APP_SECRET = 'wix-browser-install-secret';
const emu = createWixEmulator();
let h: Harness;
let browser: Browser;

const control = async (path: string, body: unknown) => {
  const r = await fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status).toBe(200);
  return (await r.json()) as { public_key: string };
};

beforeAll(async () => {
  await ensureWebBuilt();
  await emu.listen(0);
  for (const id of ['new-site', 'known-site'])
    emu.addAccount({ id, credentials: { api_key: `unused-${id}`, site_id: id }, items: [{ sku: `${id}-1`, name: 'Mug', qty: 3 }] });
  const { public_key } = await control('/apps', { app_id: APP_ID, app_secret: APP_SECRET, app_url: 'http://127.0.0.1:1/install/wix' });
  h = await startHarness({
    config: {
      oauthApps: { wix: { clientId: APP_ID, clientSecret: APP_SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url, webhookKey: public_key } },
    },
  });
  await control('/apps', { app_id: APP_ID, app_secret: APP_SECRET, app_url: `${h.url}/install/wix`, redirect_urls: [`${h.url}/oauth/callback/wix`] });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await emu.close();
});

async function fromWix(site: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await page.goto(`${emu.url}/_control/accounts/${site}/install?app_id=${APP_ID}`);
  await page.waitForURL((u) => u.pathname === '/connect/wix', { timeout: 15_000 });
  await expect.poll(() => page.getByText('To finish installing StockClerk').count(), { timeout: 10_000 }).toBe(1);
  return page;
}

async function connectAndLand(page: Page, name: string): Promise<string> {
  await page.waitForURL((u) => u.pathname === '/connect/wix' && u.searchParams.has('install'), { timeout: 15_000 });
  const section = page.getByRole('region', { name: 'Install' });
  await expect.poll(() => section.getByText('You are installing StockClerk on Wix').count(), { timeout: 10_000 }).toBe(1);
  await section.locator('input[name=name]').fill(name);
  await section.getByRole('button', { name: 'Connect with Wix' }).click();
  await page.waitForURL(/\/channels\/ch_[0-9a-f]+\?connected=1$/, { timeout: 15_000 });
  await expect.poll(() => page.getByTestId('connected').count(), { timeout: 15_000 }).toBe(1);
  expect(await page.locator('h1').textContent()).toBe(name);
  return new URL(page.url()).pathname.split('/').pop()!;
}

describe('installing from Wix', () => {
  it('a new site owner signs up on the way and comes back with the site connected', async () => {
    const page = await fromWix('new-site');
    await page.getByRole('link', { name: 'Create an account', exact: true }).click();
    const form = page.getByRole('form', { name: 'Sign up' });
    await form.locator('input[name=business_name]').fill('New Wix Owner Ltd');
    await form.locator('input[name=email]').fill('owner@new-wix-site.example');
    await form.locator('input[name=password]').fill('install-from-wix-1');
    await form.locator('button[type=submit]').click();
    const id = await connectAndLand(page, 'New Wix site');
    const token = await page.evaluate(() => localStorage.getItem('stockclerk.token'));
    const ch = (await api(h.url, 'GET', `/api/v1/channels/${id}`, { token: token! })).body;
    expect([ch.type, ch.base_url, ch.credentials.access_token, ch.credentials.api_key]).toEqual(['wix', emu.url, true, false]);
    expect((await api(h.url, 'POST', `/api/v1/channels/${id}/test`, { token: token! })).body).toMatchObject({ ok: true });
    expect(emu.accounts.get('new-site')!.appGrant?.appId).toBe(APP_ID);
  });

  it('an owner with an account logs in on the way', async () => {
    const t = await registerTenant(h.url, 'Known Wix Owner');
    const page = await fromWix('known-site');
    const form = page.getByRole('form', { name: 'Log in' });
    await form.locator('input[name=email]').fill(t.email);
    await form.locator('input[name=password]').fill('correct-horse-9');
    await form.locator('button[type=submit]').click();
    const id = await connectAndLand(page, 'Known Wix site');
    const list = (await api(h.url, 'GET', '/api/v1/channels', { token: t.token })).body.data as Array<{ id: string; type: string }>;
    expect(list.map((c) => [c.id, c.type])).toEqual([[id, 'wix']]);
  });

  it('a launch without Wix install token says so and starts nothing', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${h.url}/install/wix`);
    await page.waitForURL((u) => u.searchParams.get('install_error') === 'invalid_launch', { timeout: 15_000 });
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'did not come from the platform' }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByText('To finish installing StockClerk').count()).toBe(0);
  });
});
