// The merchant's journey in a real browser (Debian chromium via playwright-core), against a real
// StockClerk (API, workers, Postgres) and the platform emulators:
//   sign up -> onboarding -> connect Epos Now, Wix and Deliveroo (credentials typed into the form,
//   "test connection") -> import listings, create items from the till, auto-match the others ->
//   a sale on the till's emulator -> the Items row and the Overview feed change without a reload
//   -> the low-stock alert is acknowledged.
// The same session proves the typed secrets never come back in any API response or live frame,
// and a second tenant in another browser context sees none of it.
import { SignJWT, decodeJwt } from 'jose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EmulatedChannelType as ChannelType } from '../../src/channels/registry.ts';
import { newEmulatedAccount, openAccount, startEmulators, type EmulatedAccount, type EmulatorSet } from '../../src/demo/emulated.ts';
import { ensureWebBuilt, launchBrowser, record, type Recorder } from '../helpers/browser.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { held, sale } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let browser: Browser;
let ctxA: BrowserContext;
let recA: Recorder;
let pageA: Page;

const ITEMS = [
  { sku: 'CAKE-1', name: 'Lemon Drizzle Cake', qty: 6 },
  { sku: 'BUN-1', name: 'Cinnamon Bun', qty: 12 },
  { sku: 'TEA-1', name: 'Breakfast Tea', qty: 40 },
];
const TYPES: ChannelType[] = ['eposnow', 'wix', 'deliveroo'];
const accounts = {} as Record<ChannelType, EmulatedAccount>;
const PASSWORD = 'bakery-secret-42';
const emailA = `owner-a-${Date.now()}@example.com`;
let tokenA = '';
let lastRefreshToken = '';
const cspRefusals: string[] = [];

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  emus = await startEmulators();
  for (const type of TYPES) {
    // The merchant's platform accounts exist before StockClerk does; their webhooks are pointed
    // at StockClerk once the dashboard shows the channel's webhook URL.
    accounts[type] = newEmulatedAccount(type);
    openAccount(emus[type], type, 'not-yet-connected', h.url, accounts[type], ITEMS);
    emus[type].accounts.get(accounts[type].id)!.webhookUrl = null;
  }
  browser = await launchBrowser();
  ctxA = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  recA = record(ctxA);
  pageA = await ctxA.newPage();
  // The dashboard runs under the served Content-Security-Policy: nothing it does may be refused.
  pageA.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspRefusals.push(m.text());
  });
}, 180_000);

// A failing step leaves a picture of the page behind (test-artifacts/ is not committed).
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && pageA && !pageA.isClosed()) {
    await pageA.screenshot({ path: `test-artifacts/failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`, fullPage: true }).catch(() => {});
  }
});

afterAll(async () => {
  await browser?.close();
  await emus?.close();
  await h?.stop();
});

/** Secrets as typed into the channel forms (secret: true fields and the Wix API key). */
function typedSecrets(): string[] {
  return [
    accounts.eposnow.channel.api_secret!,
    accounts.wix.channel.api_key!,
    accounts.deliveroo.channel.client_secret!,
    accounts.deliveroo.channel.webhook_secret!,
  ];
}

async function connectChannel(page: Page, type: ChannelType, name: string): Promise<void> {
  const form = page.getByRole('form', { name: 'Connect a channel' });
  await form.locator('select[name="type"]').selectOption(type);
  await form.locator('[name="name"]').fill(name);
  await form.locator('[name="base_url"]').fill(emus[type].url);
  for (const [field, value] of Object.entries(accounts[type].channel)) await form.locator(`[name="${field}"]`).fill(value);
  for (const [field, value] of Object.entries(accounts[type].settings)) await form.locator(`[name="settings.${field}"]`).fill(String(value));
  await form.getByRole('button', { name: /Connect and test connection/ }).click();
  const card = page.getByTestId(`setup-${type}`);
  await expect.poll(() => card.getByText('Connection works').count(), { timeout: 15_000 }).toBe(1);
  // Point the platform's webhooks at the URL the dashboard shows (what a merchant pastes).
  const hook = (await card.locator('code').first().textContent())!;
  // Platforms that sign nothing (Epos Now) are given a URL carrying the channel's secret.
  expect(hook).toMatch(new RegExp(`/webhooks/${type}/ch_[0-9a-f]{32}(/[A-Za-z0-9_-]{43})?$`));
  const r = await fetch(`${emus[type].url}/_control/accounts/${accounts[type].id}/webhook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: hook }),
  });
  expect(r.status).toBe(200);
  await card.getByRole('button', { name: 'Import listings' }).click();
  await expect.poll(() => card.getByTestId('import-result').textContent(), { timeout: 15_000 }).toContain(`Imported ${ITEMS.length} listings`);
}

describe('dashboard end to end', () => {
  it('signs up, with clear errors for a weak password and a taken email', async () => {
    await pageA.goto(`${h.url}/signup`);
    const form = pageA.getByRole('form', { name: 'Sign up' });
    await form.getByLabel('Business name').fill('Crumb & Co');
    await form.getByLabel('Email').fill(emailA);
    await form.getByLabel('Password').fill('short');
    await form.getByRole('button', { name: 'Sign up' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('Password too weak');
    // Email taken: an account made through the API first.
    const taken = `taken-${Date.now()}@example.com`;
    expect((await api(h.url, 'POST', '/api/v1/auth/register', { body: { business_name: 'Other', email: taken, password: PASSWORD } })).status).toBe(201);
    await form.getByLabel('Email').fill(taken);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign up' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toContain('already exists');
    await form.getByLabel('Email').fill(emailA);
    await form.getByRole('button', { name: 'Sign up' }).click();
    await pageA.waitForURL(/\/onboarding$/);
    tokenA = (await pageA.evaluate(() =>
      (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('stockclerk.token'),
    ))!;
    expect(tokenA).toBeTruthy();
  });

  it('onboards: business and location, three emulated channels, import and match, default buffer', async () => {
    const biz = pageA.getByRole('form', { name: 'Business' });
    await expect.poll(() => biz.getByLabel('Business name').inputValue()).toBe('Crumb & Co');
    await biz.getByLabel(/First location/).fill('Bakery counter');
    await biz.getByRole('button', { name: 'Save and continue' }).click();

    await connectChannel(pageA, 'eposnow', 'Till');
    // A new tenant has no items: the till's listings are all unmatched; create them as items with
    // the till's counts as opening stock.
    const till = pageA.getByTestId('setup-eposnow');
    await expect.poll(() => till.getByTestId('import-result').textContent()).toContain('0 matched by SKU, 3 unmatched');
    await till.getByRole('button', { name: /Create all as new items/ }).click();
    await expect.poll(() => till.getByText('Every listing is matched').count(), { timeout: 10_000 }).toBe(1);

    await pageA.getByRole('button', { name: '+ Connect another channel' }).click();
    await connectChannel(pageA, 'wix', 'Web shop');
    await expect.poll(() => pageA.getByTestId('setup-wix').getByTestId('import-result').textContent()).toContain('3 matched by SKU, 0 unmatched');
    await pageA.getByRole('button', { name: '+ Connect another channel' }).click();
    await connectChannel(pageA, 'deliveroo', 'Deliveroo');
    await expect.poll(() => pageA.getByTestId('setup-deliveroo').getByTestId('import-result').textContent()).toContain('3 matched by SKU, 0 unmatched');

    await pageA.getByRole('button', { name: 'Continue' }).click();
    const buffer = pageA.getByRole('form', { name: 'Default buffer' });
    await buffer.getByLabel(/Units held back/).fill('1');
    await buffer.getByRole('button', { name: 'Save and continue' }).click();
    await pageA.getByRole('button', { name: 'Go to the dashboard' }).click();
    await pageA.waitForURL(`${h.url}/`);

    // What the browser did, as the API sees it.
    const tenant = await api(h.url, 'GET', '/api/v1/tenant', { token: tokenA });
    expect(tenant.body.name).toBe('Crumb & Co');
    const locs = await api(h.url, 'GET', '/api/v1/locations', { token: tokenA });
    expect(locs.body.data.map((l: { name: string }) => l.name)).toEqual(['Bakery counter']);
    const chans = await api(h.url, 'GET', '/api/v1/channels', { token: tokenA });
    expect(chans.body.data).toHaveLength(3);
    for (const c of chans.body.data) {
      expect(c.status).toBe('connected');
      expect(c.listings).toEqual({ total: 3, matched: 3, unmatched: 0 });
      expect(c.settings.default_buffer).toBe(1);
    }
    const items = await api(h.url, 'GET', '/api/v1/items', { token: tokenA });
    expect(items.body.data.map((i: { sku: string; on_hand: number }) => [i.sku, i.on_hand]).sort()).toEqual([
      ['BUN-1', 12],
      ['CAKE-1', 6],
      ['TEA-1', 40],
    ]);
  });

  it('a sale on the till updates the open Items and Overview pages without a reload; its low-stock alert is acknowledged', async () => {
    // Items page (navigated inside the app) with the cake's threshold raised to 5.
    await pageA.getByRole('link', { name: 'Items' }).click();
    const cake = pageA.locator('[data-testid="item-row"][data-sku="CAKE-1"]');
    await expect.poll(() => cake.getByTestId('on-hand').textContent(), { timeout: 10_000 }).toBe('6');
    // The API requires If-Match on item PATCH: the page must send the ETag of the item's GET.
    const itemPath = /\/api\/v1\/items\/item_[0-9a-f]{32}$/;
    const etags: string[] = [];
    const ifMatch: string[] = [];
    await pageA.route(itemPath, async (route) => {
      const req = route.request();
      if (req.method() === 'GET') {
        const res = await route.fetch();
        etags.push(res.headers()['etag'] ?? '(none)');
        await route.fulfill({ response: res });
        return;
      }
      if (req.method() === 'PATCH') ifMatch.push(req.headers()['if-match'] ?? '(none)');
      await route.continue();
    });
    await cake.getByRole('button', { name: 'Edit CAKE-1' }).click();
    const settings = cake.getByRole('form', { name: 'Settings for CAKE-1' });
    await settings.getByLabel('Low-stock threshold').fill('5');
    await settings.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => cake.getByText('Saved.').count()).toBe(1);
    expect(ifMatch).toHaveLength(1);
    expect(etags).toContain(ifMatch[0]);
    expect(ifMatch[0]).not.toBe('(none)');
    await pageA.unroute(itemPath);

    // The Overview open in a second tab of the same session.
    const overview = await ctxA.newPage();
    // What the Overview's socket did, to say why if its feed misses the sale.
    const wsLog: string[] = [];
    const t0 = Date.now();
    overview.on('websocket', (ws) => {
      wsLog.push(`${Date.now() - t0} ms open`);
      ws.on('framereceived', (f) => wsLog.push(`${Date.now() - t0} ms frame ${String(f.payload).slice(0, 120)}`));
      ws.on('close', () => wsLog.push(`${Date.now() - t0} ms close`));
    });
    await overview.goto(`${h.url}/`);
    await expect.poll(() => overview.getByTestId('live-status').textContent(), { timeout: 10_000 }).toContain('live');
    await expect.poll(() => pageA.getByTestId('live-status').textContent(), { timeout: 10_000 }).toContain('live');
    const feed = overview.locator('[data-testid="sync-event"]');
    const feedBefore = await feed.count();
    await pageA.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
    await overview.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));

    const started = Date.now();
    const s = await sale(emus, 'eposnow', accounts.eposnow.id, 'CAKE-1', 2);
    expect(s.ok).toBe(true);
    // Within 2 s of the sale, without a reload: the Items row shows the new on-hand, and the
    // Overview's live feed shows the sale's ledger change.
    await eventually(async () => (await cake.getByTestId('on-hand').textContent()) === '4', 2000, 'the Items row to show 4 on hand');
    const itemsMs = Date.now() - started;
    // The row is there as the change commits; the item's SKU and name are looked up after it.
    const cakeId = await cake.getAttribute('data-item-id');
    expect(cakeId).toMatch(/^item_/);
    const stockRow = overview.locator(`[data-testid="sync-event"][data-kind="stock"][data-item-id="${cakeId}"]`, { hasText: 'now 4 on hand' });
    await eventually(async () => (await stockRow.count()) > 0, Math.max(100, 2000 - (Date.now() - started)), 'the Overview feed to show the sale').catch(
      async (err) => {
        const shown = await overview
          .locator('[data-testid="live-feed"]')
          .textContent()
          .catch(() => '(no feed)');
        throw new Error(`${(err as Error).message}; sale at ${started - t0} ms; socket: ${wsLog.join(' | ')}; feed: ${shown?.slice(0, 400)}`);
      },
    );
    const feedMs = Date.now() - started;
    await expect.poll(() => stockRow.first().textContent(), { timeout: 5000 }).toContain('CAKE-1');
    // Then the pushes it caused to the other channels (the sync engine's pace, not the page's).
    await eventually(async () => (await overview.locator('[data-testid="sync-event"][data-kind="push"]').count()) > 0, 10_000, 'push events in the feed');
    expect(await feed.count()).toBeGreaterThan(feedBefore);
    // Neither page reloaded.
    expect(await pageA.evaluate(() => (globalThis as unknown as { marker: number }).marker)).toBe(42);
    expect(await overview.evaluate(() => (globalThis as unknown as { marker: number }).marker)).toBe(42);
    console.log(JSON.stringify({ live_items_ms: itemsMs, live_feed_ms: feedMs }));

    // The other channels are told the new sellable (4 - buffer 1 = 3).
    await eventually(() => held(emus, 'wix', accounts.wix.id, 'CAKE-1')?.qty === 3, 10_000, 'Wix to hold 3');

    // 4 available <= threshold 5: a low-stock alert appears live on the Overview.
    const alertRow = overview.locator('[data-testid="alert-row"][data-type="low_stock"]');
    await expect.poll(() => alertRow.count(), { timeout: 10_000 }).toBe(1);
    await overview.close();

    await pageA.getByRole('link', { name: 'Alerts' }).click();
    const row = pageA.locator('[data-testid="alert-row"][data-type="low_stock"]');
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(1);
    expect(await row.textContent()).toContain('Lemon Drizzle Cake');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    // Shown as open alerts only: the acknowledged one leaves the list.
    await expect.poll(() => row.count(), { timeout: 10_000 }).toBe(0);
    const alerts = await api(h.url, 'GET', '/api/v1/alerts?type=low_stock', { token: tokenA });
    expect(alerts.body.data).toHaveLength(1);
    expect(alerts.body.data[0].status).toBe('acknowledged');
  });

  it('item detail: a stock count with a reason becomes a movement in the history; a listing syncs on demand', async () => {
    const items = await api(h.url, 'GET', '/api/v1/items?q=CAKE-1', { token: tokenA });
    const id = items.body.data[0].id;
    await pageA.getByRole('link', { name: 'Items' }).click();
    await pageA.getByRole('link', { name: 'CAKE-1' }).click();
    await pageA.waitForURL(new RegExp(`/items/${id}$`));
    await expect.poll(() => pageA.getByTestId('detail-on-hand').textContent(), { timeout: 10_000 }).toBe('4 on hand');
    const moves = pageA.getByTestId('movement');
    await expect.poll(() => moves.count()).toBe(2); // opening stock and the sale
    const form = pageA.getByRole('form', { name: 'Stock change for CAKE-1' });
    await form.locator('select[name="mode"]').selectOption('count');
    await form.locator('input[name="qty"]').fill('10');
    await form.locator('input[name="note"]').fill('weekly count');
    await form.getByRole('button', { name: 'Record' }).click();
    await expect.poll(() => pageA.getByText('Counted: +6 recorded.').count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => pageA.getByTestId('detail-on-hand').textContent(), { timeout: 10_000 }).toBe('10 on hand');
    await expect.poll(() => moves.count()).toBe(3);
    expect(await moves.first().textContent()).toMatch(/\+6.*count.*weekly count/);
    const ledger = await api(h.url, 'GET', `/api/v1/movements?item_id=${id}`, { token: tokenA });
    expect(ledger.body.data[0]).toMatchObject({ qty_delta: 6, reason: 'count', note: 'weekly count' });
    // "Sync now" on the Wix listing: Wix is told 10 - buffer 1 = 9 (the count already queued it; this forces one more).
    const wixRow = pageA.getByTestId('listing-row').filter({ hasText: 'Web shop' });
    await wixRow.getByRole('button', { name: 'Sync now' }).click();
    await expect.poll(() => wixRow.getByText('Queued').count()).toBe(1);
    await eventually(() => held(emus, 'wix', accounts.wix.id, 'CAKE-1')?.qty === 9, 10_000, 'Wix to hold 9');

    // The item's sync log: only its events.
    await pageA.locator('.page-header').getByRole('link', { name: 'Sync log' }).click();
    await pageA.waitForURL(new RegExp(`/sync-log\\?item=${id}$`));
    const rows = pageA.getByTestId('sync-event');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(async () => (await rows.allTextContents()).every((t) => t.includes('CAKE-1'))).toBe(true);
    expect(await pageA.getByTestId('item-filter').textContent()).toContain('CAKE-1');
  });

  it('channel detail: pause and resume sync', async () => {
    const chans = await api(h.url, 'GET', '/api/v1/channels?type=wix', { token: tokenA });
    await pageA.goto(`${h.url}/channels/${chans.body.data[0].id}`);
    await pageA.getByRole('button', { name: 'Pause sync' }).click();
    await expect.poll(() => pageA.getByRole('status').textContent()).toBe('Sync paused.');
    expect((await api(h.url, 'GET', `/api/v1/channels/${chans.body.data[0].id}`, { token: tokenA })).body.status).toBe('paused');
    await pageA.getByRole('button', { name: 'Resume sync' }).click();
    await expect.poll(() => pageA.getByRole('status').textContent()).toBe('Sync resumed.');
    expect((await api(h.url, 'GET', `/api/v1/channels/${chans.body.data[0].id}`, { token: tokenA })).body.status).toBe('connected');
  });

  it('items: server search and sort', async () => {
    await pageA.goto(`${h.url}/items`);
    const rows = pageA.getByTestId('item-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    await pageA.getByLabel('Search items').fill('bun');
    await expect.poll(async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-sku')))).join(), { timeout: 10_000 }).toBe('BUN-1');
    await pageA.getByLabel('Search items').fill('no such thing');
    await expect.poll(() => pageA.getByText('No item matches "no such thing".').count(), { timeout: 10_000 }).toBe(1);
    await pageA.getByLabel('Search items').fill('');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
    const order = () => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-sku')).join());
    expect(await order()).toBe('BUN-1,CAKE-1,TEA-1');
    await pageA.getByRole('button', { name: /^On hand/ }).click(); // ascending: cake 10, bun 11, tea 40
    await expect.poll(order, { timeout: 10_000 }).toBe('CAKE-1,BUN-1,TEA-1');
    await pageA.getByRole('button', { name: /^On hand/ }).click(); // descending
    await expect.poll(order, { timeout: 10_000 }).toBe('TEA-1,BUN-1,CAKE-1');
  });

  it('an expired access token is refreshed without a sign of it, API calls and live stream alike', async () => {
    const stored = (key: string) =>
      pageA.evaluate((k) => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem(k), key);
    const refreshBefore = await stored('stockclerk.refresh');
    expect(refreshBefore).toMatch(/^scr_/);
    const claims = decodeJwt((await stored('stockclerk.token'))!);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({ tid: claims.tid, sid: claims.sid })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('stockclerk')
      .setSubject(claims.sub!)
      .setIssuedAt(now - 1000)
      .setExpirationTime(now - 100)
      .sign(h.sc.ctx.jwtKey);
    await pageA.evaluate(
      (t) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('stockclerk.token', t),
      expired,
    );
    await pageA.goto(`${h.url}/items`);
    await expect.poll(() => pageA.getByTestId('item-row').count(), { timeout: 10_000 }).toBe(3);
    await expect.poll(() => pageA.getByTestId('live-status').textContent(), { timeout: 10_000 }).toBe('● live');
    expect(pageA.url()).toBe(`${h.url}/items`);
    expect(await stored('stockclerk.token')).not.toBe(expired);
    lastRefreshToken = (await stored('stockclerk.refresh'))!;
    expect(lastRefreshToken).toMatch(/^scr_/);
    expect(lastRefreshToken).not.toBe(refreshBefore);
  });

  it('logs out, refuses a wrong password clearly, and logs back in', async () => {
    await pageA.getByRole('button', { name: 'Log out' }).click();
    await pageA.waitForURL(/\/login$/);
    // Logging out ended the session on the server, not only in the browser.
    await eventually(
      async () => (await api(h.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: lastRefreshToken } })).status === 401,
      5_000,
      'the session to be revoked',
    );
    expect(
      await pageA.evaluate(() => (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('stockclerk.token')),
    ).toBeNull();
    const form = pageA.getByRole('form', { name: 'Log in' });
    await form.getByLabel('Email').fill(emailA);
    await form.getByLabel('Password').fill('not-the-password-1');
    await form.getByRole('button', { name: 'Log in' }).click();
    await expect.poll(() => form.getByRole('alert').textContent()).toBe('Wrong email or password.');
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Log in' }).click();
    await pageA.waitForURL(`${h.url}/`);
    await expect.poll(() => pageA.getByText('Live sync feed').count()).toBe(1);
    // The session logged out above is over: the later steps use the new one.
    tokenA = (await pageA.evaluate(() =>
      (globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('stockclerk.token'),
    ))!;
  });

  it('never returns the typed channel credentials in any API response or live frame', async () => {
    // Visit every page that shows channels, so their responses are in the record too.
    const chans = await api(h.url, 'GET', '/api/v1/channels', { token: tokenA });
    await pageA.getByRole('link', { name: 'Channels' }).click();
    await expect.poll(() => pageA.getByTestId('channel-card').count()).toBe(3);
    for (const c of chans.body.data) {
      await pageA.goto(`${h.url}/channels/${c.id}`);
      await expect.poll(() => pageA.getByText('Webhook URL').count()).toBeGreaterThan(0);
    }
    // Edit credentials in the form: the new secret goes in, never comes back.
    const till = chans.body.data.find((c: { type: string }) => c.type === 'eposnow');
    await pageA.goto(`${h.url}/channels/${till.id}`);
    await pageA.getByRole('button', { name: 'Edit credentials' }).click();
    const form = pageA.getByRole('form', { name: 'Edit channel' });
    expect(await form.locator('[name="api_secret"]').inputValue()).toBe('');
    await form.locator('[name="api_key"]').fill(accounts.eposnow.channel.api_key!);
    await form.locator('[name="api_secret"]').fill(accounts.eposnow.channel.api_secret!);
    await form.getByRole('button', { name: /Save and test/ }).click();
    await expect.poll(() => pageA.getByText('Saved; connection works.').count(), { timeout: 10_000 }).toBe(1);

    expect(recA.bodies.length).toBeGreaterThan(30);
    expect(recA.frames.length).toBeGreaterThan(0);
    const all = recA.text();
    for (const secret of typedSecrets()) {
      expect(secret.length).toBeGreaterThan(8);
      expect(all).not.toContain(secret);
    }
    expect(all).toContain('"api_secret":true');
  });

  it('ran every page so far under the Content-Security-Policy, with nothing refused', async () => {
    const res = await pageA.goto(`${h.url}/items`);
    expect(res!.headers()['content-security-policy']).toContain("default-src 'self'");
    expect(res!.headers()['x-content-type-options']).toBe('nosniff');
    await expect.poll(() => pageA.getByTestId('live-status').textContent(), { timeout: 10_000 }).toBe('● live');
    expect(cspRefusals).toEqual([]);
  });

  it('a second tenant side by side sees none of the first one’s data or live events', async () => {
    const ctxB = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const recB = record(ctxB);
    const pageB = await ctxB.newPage();
    await pageB.goto(`${h.url}/signup`);
    const form = pageB.getByRole('form', { name: 'Sign up' });
    await form.getByLabel('Business name').fill('Other Shop');
    await form.getByLabel('Email').fill(`owner-b-${Date.now()}@example.com`);
    await form.getByLabel('Password').fill(PASSWORD);
    await form.getByRole('button', { name: 'Sign up' }).click();
    await pageB.waitForURL(/\/onboarding$/);
    for (const path of ['/', '/items', '/channels', '/alerts', '/sync-log']) {
      await pageB.goto(`${h.url}${path}`);
      await expect.poll(() => pageB.locator('.state.loading').count(), { timeout: 10_000 }).toBe(0);
    }
    await pageB.goto(`${h.url}/items`);
    await expect.poll(() => pageB.getByText('No items yet').count(), { timeout: 10_000 }).toBe(1);
    await pageB.goto(`${h.url}/`);
    await expect.poll(() => pageB.getByTestId('live-status').textContent(), { timeout: 10_000 }).toContain('live');

    // Tenant A sells more while B watches its own Overview.
    const framesBefore = recB.frames.length;
    expect((await sale(emus, 'eposnow', accounts.eposnow.id, 'BUN-1', 1)).ok).toBe(true);
    await eventually(async () => (await api(h.url, 'GET', '/api/v1/items?q=BUN-1', { token: tokenA })).body.data[0].on_hand === 11, 10_000, 'A to sell a bun');
    await new Promise((r) => setTimeout(r, 1000));
    expect(recB.frames.slice(framesBefore)).toEqual([]);

    const seen = recB.text();
    const chans = await api(h.url, 'GET', '/api/v1/channels', { token: tokenA });
    const items = await api(h.url, 'GET', '/api/v1/items', { token: tokenA });
    const forbidden = [
      ...ITEMS.map((i) => i.sku),
      ...ITEMS.map((i) => i.name),
      'Crumb & Co',
      'Bakery counter',
      ...chans.body.data.map((c: { id: string }) => c.id),
      ...items.body.data.map((i: { id: string }) => i.id),
    ];
    for (const f of forbidden) expect(seen).not.toContain(f);
    expect(recB.frames.every((f) => !f.includes(tokenA))).toBe(true);
    await ctxB.close();
  });
});
