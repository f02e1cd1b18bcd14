// Connecting eBay by consent in Debian's chromium, the way a merchant does it: Channels -> Add
// channel -> eBay -> "Connect with eBay" -> the eBay emulator's consent page -> Agree -> back on
// the channel's page, connected. A "No thanks" lands on Channels with the reason. A channel whose
// grant was revoked shows "Reconnect with eBay", and consenting again reconnects that same channel.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEbayEmulator } from '../../emulators/ebay/index.ts';
import { ensureWebBuilt, launchBrowser } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

const APP = { client_id: 'StockCle-web-PRD-5', client_secret: 'PRD-cert-5', ru_name: 'StockClerk-StockCle-web-PR-asdfg' };
const emu = createEbayEmulator();
let h: Harness;
let browser: Browser;
let owner: string;
let tenantId: string;

beforeAll(async () => {
  await ensureWebBuilt();
  await emu.listen(0);
  h = await startHarness({
    tuning: { pollIntervalS: 3600 },
    config: {
      oauthApps: { ebay: { clientId: APP.client_id, clientSecret: APP.client_secret, redirectUri: APP.ru_name, apiBase: emu.url, authorizeBase: emu.url } },
    },
  });
  const cb = `${h.url}/oauth/callback/ebay`;
  emu.addAccount({ id: 'seller', credentials: { ...APP, username: 'webseller', accept_url: cb, decline_url: cb }, items: [] });
  const t = await registerTenant(h.url, 'Clicking Crafts');
  owner = t.token;
  tenantId = t.tenantId;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await emu.close();
});

async function asOwner(): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  await ctx.addInitScript((tk) => (globalThis as unknown as { localStorage: Storage }).localStorage.setItem('stockclerk.token', tk), owner);
  return ctx.newPage();
}

async function startFromForm(page: Page, name: string): Promise<void> {
  await page.goto(`${h.url}/channels`);
  await page.getByRole('button', { name: 'Add channel' }).click();
  const form = page.getByRole('form', { name: 'Connect a channel' });
  await form.locator('select[name=type]').selectOption('ebay');
  await form.locator('input[name=name]').fill(name);
  await form.getByRole('button', { name: 'Connect with eBay' }).click();
  await page.waitForURL((u) => u.toString().startsWith(`${emu.url}/oauth2/authorize`), { timeout: 10_000 });
}

const channels = async () => (await api(h.url, 'GET', '/api/v1/channels', { token: owner })).body.data as Array<{ id: string; name: string; status: string }>;

describe('connecting by consent in the dashboard', () => {
  it('Connect with eBay -> Agree on eBay -> back on the channel, connected; Reconnect after a revoked grant', async () => {
    const page = await asOwner();
    await startFromForm(page, 'eBay by click');
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.waitForURL(/\/channels\/ch_[0-9a-f]+\?connected=1$/, { timeout: 10_000 });
    await page.getByText('Connected: the platform accepted StockClerk.').waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    expect((await channels()).find((c) => c.id === id)).toMatchObject({ name: 'eBay by click', status: 'connected' });

    // The channel's first poll only takes a cursor (no call to eBay): revoking before it ran, that
    // poll would spend the trigger below and find nothing (how this test failed in CI).
    await expect
      .poll(async () => (await h.sc.ctx.db.query(`select poll_cursor from channels where tenant_id = $1 and id = $2`, [tenantId, id])).rows[0]?.poll_cursor, {
        timeout: 15_000,
      })
      .not.toBeNull();
    // The seller revokes StockClerk on eBay; the next poll finds out and disconnects the channel.
    await fetch(`${emu.url}/_control/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"revoke":true}' });
    await h.sc.ctx.db.query(`update channels set last_polled_at = null where tenant_id = $1 and id = $2`, [tenantId, id]);
    await expect.poll(async () => (await channels()).find((c) => c.id === id)?.status, { timeout: 15_000 }).toBe('disconnected');
    await page.goto(`${h.url}/channels/${id}`);
    await page.getByRole('button', { name: 'Reconnect with eBay' }).click();
    await page.waitForURL((u) => u.toString().startsWith(`${emu.url}/oauth2/authorize`), { timeout: 10_000 });
    await page.getByRole('button', { name: 'Agree' }).click();
    await page.waitForURL(new RegExp(`/channels/${id}\\?connected=1$`), { timeout: 10_000 });
    await page.getByText('Connected: the platform accepted StockClerk.').waitFor();
    expect((await channels()).filter((c) => c.name === 'eBay by click').map((c) => c.status)).toEqual(['connected']);
    expect(await page.getByRole('button', { name: 'Reconnect with eBay' }).count()).toBe(0);
  });

  it('No thanks on eBay lands on Channels with the reason and connects nothing', async () => {
    const before = (await channels()).length;
    const page = await asOwner();
    await startFromForm(page, 'Declined');
    await page.getByRole('button', { name: 'No thanks' }).click();
    await page.waitForURL(/\/channels\?oauth_error=access_denied/, { timeout: 10_000 });
    await page.getByText(/Connecting was not completed/).waitFor();
    expect((await channels()).length).toBe(before);
  });
});
