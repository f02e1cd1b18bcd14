// Installing StockClerk from the Square App Marketplace (issue 15, app installs), in Debian's
// chromium: a seller with no StockClerk account follows the marketplace's "Get started" link
// (GET /install/square: Square signs nothing there, so it only brings them to the connect page),
// creates an account on the way, agrees on Square's authorize page (the emulator's) and lands on
// the new channel, connected with a working token pair.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSquareEmulator } from '../../emulators/square/index.ts';
import { ensureWebBuilt, launchBrowser } from '../helpers/browser.ts';
import { api, startHarness, type Harness } from '../helpers/stockclerk.ts';

const CLIENT_ID = 'sq0idp-marketplace';
const CLIENT_SECRET = 'sq0csp-marketplace-secret';
const emu = createSquareEmulator();
let h: Harness;
let browser: Browser;

beforeAll(async () => {
  await ensureWebBuilt();
  await emu.listen(0);
  h = await startHarness({
    config: { oauthApps: { square: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectUri: null, apiBase: emu.url, authorizeBase: emu.url } } },
  });
  // The application as registered in Square's Developer Console, with its redirect URL: our callback.
  emu.addAccount({
    id: 'corner-bakery',
    credentials: { access_token: 'EAAA-personal', client_id: CLIENT_ID, client_secret: CLIENT_SECRET, redirect_uri: `${h.url}/oauth/callback/square` },
    items: [{ sku: 'BUN-1', name: 'Bun', qty: 12 }],
  });
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await emu.close();
});

describe('installing from the Square App Marketplace', () => {
  it('a new seller signs up on the way, agrees on Square and lands on the connected channel', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    const page = await ctx.newPage();
    await page.goto(`${h.url}/install/square`);
    await page.waitForURL((u) => u.pathname === '/connect/square', { timeout: 15_000 });
    await expect.poll(() => page.getByText('To finish installing StockClerk').count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole('link', { name: 'Create an account', exact: true }).click();
    const form = page.getByRole('form', { name: 'Sign up' });
    await form.locator('input[name=business_name]').fill('Corner Bakery');
    await form.locator('input[name=email]').fill('owner@corner-bakery.example');
    await form.locator('input[name=password]').fill('install-from-square-1');
    await form.locator('button[type=submit]').click();
    await page.waitForURL((u) => u.pathname === '/connect/square' && u.searchParams.has('install'), { timeout: 15_000 });
    const section = page.getByRole('region', { name: 'Install' });
    await section.locator('input[name=name]').fill('Bakery till');
    await section.getByRole('button', { name: 'Connect with Square' }).click();
    await page.waitForURL((u) => u.origin === new URL(emu.url).origin, { timeout: 15_000 });
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL(/\/channels\/ch_[0-9a-f]+\?connected=1$/, { timeout: 15_000 });
    await expect.poll(() => page.getByTestId('connected').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.locator('h1').textContent()).toBe('Bakery till');
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const token = (await page.evaluate(() => localStorage.getItem('stockclerk.token')))!;
    const ch = (await api(h.url, 'GET', `/api/v1/channels/${id}`, { token })).body;
    expect(ch.type).toBe('square');
    expect(ch.credentials).toMatchObject({ access_token: true, refresh_token: true });
    expect((await api(h.url, 'POST', `/api/v1/channels/${id}/test`, { token })).body).toMatchObject({ ok: true });
  });
});
