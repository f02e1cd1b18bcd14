// Every page rendered at desktop (1280 px) and phone (390 px) width, with real data from a tenant
// whose emulated channels are connected and selling. Each page must show its content (not an
// error or a spinner) and must not scroll sideways on a phone. Screenshots go to test-artifacts/screenshots/,
// or to docs/screenshots/ with UPDATE_SCREENSHOTS=1 (test/helpers/browser.ts).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { ensureWebBuilt, launchBrowser, shoot } from '../helpers/browser.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, quiescent, sale, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let browser: Browser;
let t: EmulatedTenant;

const ITEMS = [
  { sku: 'DELI-001', name: 'Ham & Cheese Sandwich', qty: 24, lowStockThreshold: 5 },
  { sku: 'DELI-002', name: 'Chicken Caesar Wrap', qty: 6, lowStockThreshold: 5 },
  { sku: 'DELI-003', name: 'Falafel Wrap', qty: 15, lowStockThreshold: 4 },
  { sku: 'DELI-004', name: 'Tomato Soup', qty: 30, lowStockThreshold: 6 },
  { sku: 'DELI-005', name: 'Chocolate Brownie', qty: 2, lowStockThreshold: 3 },
  { sku: 'DELI-006', name: 'Flat White', qty: 100, lowStockThreshold: 10 },
];

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  emus = await startEmulators();
  t = await emulatedTenant(h, emus, { types: ['eposnow', 'wix', 'deliveroo'], items: ITEMS });
  for (const [type, sku, qty] of [
    ['eposnow', 'DELI-001', 2],
    ['wix', 'DELI-002', 2],
    ['eposnow', 'DELI-005', 1],
    ['deliveroo', 'DELI-003', 1],
    ['eposnow', 'DELI-006', 4],
  ] as const) {
    expect((await sale(emus, type, t.channels[type]!.accountId, sku, qty)).ok).toBe(true);
  }
  await quiescent(h, emus);
  await eventually(async () => (await api(h.url, 'GET', '/api/v1/alerts?status=open', { token: t.token })).body.data.length >= 2, 10_000, 'alerts');
  await h.sc.ctx.usage.flush(); // the Usage page shows this tenant's counts, not the last flush's
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await emus?.close();
  await h?.stop();
});

const PAGES: Array<{ name: string; path: () => string; ready: string; auth?: false }> = [
  { name: 'login', path: () => '/login', ready: 'Log in to StockClerk', auth: false },
  { name: 'signup', path: () => '/signup', ready: 'Create your StockClerk account', auth: false },
  { name: 'overview', path: () => '/', ready: 'Live sync feed' },
  { name: 'items', path: () => '/items', ready: 'Ham & Cheese Sandwich' },
  { name: 'item-detail', path: () => `/items/${t.itemIds.get('DELI-001')}`, ready: 'Stock history' },
  { name: 'channels', path: () => '/channels', ready: 'wix channel' },
  { name: 'channel-detail', path: () => `/channels/${t.channels.eposnow!.channelId}`, ready: 'Recent sync events' },
  { name: 'alerts', path: () => '/alerts', ready: 'Chocolate Brownie' },
  { name: 'sync-log', path: () => '/sync-log', ready: 'Sync log' },
  { name: 'usage', path: () => '/usage', ready: 'Projected by month end' },
  { name: 'onboarding', path: () => '/onboarding', ready: 'Your business' },
];

describe.each([1280, 390])('every page at %i px', (width) => {
  it.each(PAGES.map((p) => [p.name, p] as const))('%s renders its content without sideways scrolling', async (_name, p) => {
    const ctx = await browser.newContext({ viewport: { width, height: width > 500 ? 860 : 844 }, deviceScaleFactor: 1 });
    if (p.auth !== false)
      await ctx.addInitScript(
        (token) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('stockclerk.token', token),
        t.token,
      );
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(h.url + p.path());
    await expect.poll(() => page.getByText(p.ready).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.locator('.state.loading').count(), { timeout: 10_000 }).toBe(0);
    expect(await page.locator('.state.error').count()).toBe(0);
    const overflow = await page.evaluate(() => {
      const el = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return el.scrollWidth - el.clientWidth;
    });
    expect(overflow).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    if (p.auth !== false && width < 500) {
      // On a phone the menu folds into one bar above the page.
      expect((await page.locator('nav').boundingBox())!.height).toBeLessThan(80);
    }
    await shoot(page, `${p.name}-${width}`);
    await ctx.close();
  });
});
