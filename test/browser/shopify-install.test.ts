// Installing StockClerk from Shopify's side (issue 15, app installs), in Debian's chromium: a
// merchant with no StockClerk account clicks install in their Shopify admin (the emulator's
// install link), lands on StockClerk's connect page, creates an account, comes back to the
// connect page, agrees on Shopify and lands on the new channel, connected. A merchant who already
// has an account logs in on the way instead. A launch that fails its check shows why.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyEmulator } from '../../emulators/shopify/index.ts';
import { ensureWebBuilt, launchBrowser } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

const CLIENT_ID = 'sc-shopify-app';
const CLIENT_SECRET = 'shpss_browser_install';
const emu = createShopifyEmulator();
let h: Harness;
let browser: Browser;

beforeAll(async () => {
  await ensureWebBuilt();
  await emu.listen(0);
  for (const id of ['new-merchant', 'known-merchant'])
    emu.addAccount({ id, credentials: { access_token: `unused-${id}` }, items: [{ sku: `${id}-1`, name: 'Mug', qty: 3 }] });
  const base = `${emu.url}/shops/{account}`;
  h = await startHarness({
    config: { oauthApps: { shopify: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: null, apiBase: base, authorizeBase: base } } },
  });
  const reg = await fetch(`${emu.url}/_control/apps`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      app_url: `${h.url}/install/shopify`,
      redirect_urls: [`${h.url}/oauth/callback/shopify`],
    }),
  });
  expect(reg.status).toBe(200);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await emu.close();
});

async function fromShopifyAdmin(shop: string): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await page.goto(`${emu.url}/_control/accounts/${shop}/install?client_id=${CLIENT_ID}`);
  await page.waitForURL((u) => u.pathname === '/connect/shopify', { timeout: 15_000 });
  await expect.poll(() => page.getByText('To finish installing StockClerk').count(), { timeout: 10_000 }).toBe(1);
  return page;
}

async function connectAndLand(page: Page, shop: string, name: string): Promise<string> {
  await page.waitForURL((u) => u.pathname === '/connect/shopify' && u.searchParams.has('install'), { timeout: 15_000 });
  const section = page.getByRole('region', { name: 'Install' });
  await expect.poll(() => section.getByText(`${shop}.myshopify.com`).count(), { timeout: 10_000 }).toBe(1);
  await section.locator('input[name=name]').fill(name);
  await section.getByRole('button', { name: 'Connect with Shopify' }).click();
  await page.waitForURL(/\/channels\/ch_[0-9a-f]+\?connected=1$/, { timeout: 15_000 });
  await expect.poll(() => page.getByTestId('connected').count(), { timeout: 15_000 }).toBe(1);
  expect(await page.locator('h1').textContent()).toBe(name);
  return new URL(page.url()).pathname.split('/').pop()!;
}

describe('installing from the Shopify admin', () => {
  it('a new merchant signs up on the way and comes back with the shop connected', async () => {
    const page = await fromShopifyAdmin('new-merchant');
    await page.getByRole('link', { name: 'Create an account', exact: true }).click();
    const form = page.getByRole('form', { name: 'Sign up' });
    await form.locator('input[name=business_name]').fill('New Merchant Ltd');
    await form.locator('input[name=email]').fill('owner@new-merchant.example');
    await form.locator('input[name=password]').fill('install-from-shopify-1');
    await form.locator('button[type=submit]').click();
    const id = await connectAndLand(page, 'new-merchant', 'New merchant shop');
    const token = await page.evaluate(() => localStorage.getItem('stockclerk.token'));
    const ch = (await api(h.url, 'GET', `/api/v1/channels/${id}`, { token: token! })).body;
    expect([ch.type, ch.base_url]).toEqual(['shopify', `${emu.url}/shops/new-merchant.myshopify.com`]);
    expect((await api(h.url, 'POST', `/api/v1/channels/${id}/test`, { token: token! })).body).toMatchObject({ ok: true });
  });

  it('a merchant with an account logs in on the way', async () => {
    const t = await registerTenant(h.url, 'Known Merchant');
    const page = await fromShopifyAdmin('known-merchant');
    const form = page.getByRole('form', { name: 'Log in' });
    await form.locator('input[name=email]').fill(t.email);
    await form.locator('input[name=password]').fill('correct-horse-9');
    await form.locator('button[type=submit]').click();
    const id = await connectAndLand(page, 'known-merchant', 'Known shop');
    const list = (await api(h.url, 'GET', '/api/v1/channels', { token: t.token })).body.data as Array<{ id: string; type: string }>;
    expect(list.map((c) => [c.id, c.type])).toEqual([[id, 'shopify']]);
  });

  it('a launch that fails its check says so and starts nothing', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${h.url}/install/shopify?shop=new-merchant.myshopify.com&timestamp=${Math.floor(Date.now() / 1000)}&hmac=${'0'.repeat(64)}`);
    await page.waitForURL((u) => u.searchParams.get('install_error') === 'invalid_launch', { timeout: 15_000 });
    await expect.poll(() => page.getByRole('alert').filter({ hasText: 'did not come from the platform' }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByText('To finish installing StockClerk').count()).toBe(0);
  });
});
