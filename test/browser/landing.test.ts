// The public landing page in a real browser (Debian chromium via playwright-core), at desktop
// (1280 px) and phone (390 px) width: a signed-out visitor at / sees what StockClerk does, the
// plans with their prices and the enquiry form, sends an enquiry and sees it confirmed (stored);
// a signed-in merchant at / still gets the dashboard; an operator handles the enquiry in the console.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { ensureWebBuilt, launchBrowser, shoot } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let browser: Browser;
let operatorToken: string;
let merchantToken: string;

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness({ worker: false });
  const email = `ops-${Date.now()}@stockclerk.example`;
  await makeSuperAdmin(h.sc.ctx.db, email, 'operator-pass-1');
  operatorToken = (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'operator-pass-1' } })).body.access_token;
  merchantToken = (await registerTenant(h.url, 'Signed In Deli')).token;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

async function open(width: number, token: string | null, path: string): Promise<{ page: Page; errors: string[]; close: () => Promise<void> }> {
  const ctx = await browser.newContext({ viewport: { width, height: width > 500 ? 800 : 844 }, deviceScaleFactor: 1 });
  if (token) {
    await ctx.addInitScript(
      (t) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('stockclerk.token', t),
      token,
    );
  }
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(h.url + path);
  return { page, errors, close: () => ctx.close() };
}

const sideways = (page: Page) =>
  page.evaluate(() => {
    const el = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return el.scrollWidth - el.clientWidth;
  });
const storedFor = async (company: string) => (await h.sc.ctx.db.query(`select id, email, shops, status from enquiries where company = $1`, [company])).rows;

describe.each([1280, 390])('the landing page at %i px', (width) => {
  it('shows a signed-out visitor the product, the plans and prices, and takes an enquiry', async () => {
    const { page, errors, close } = await open(width, null, '/');
    await expect.poll(() => page.getByRole('heading', { level: 1, name: 'One stock ledger for every place you sell' }).count()).toBe(1);
    await expect.poll(() => page.locator('[data-testid=plan]').count(), { timeout: 10_000 }).toBe(4);
    const plans = await page.locator('[data-testid=plan]').allInnerTexts();
    expect(plans.map((t) => t.split('\n').filter(Boolean).slice(0, 3))).toEqual([
      ['Trial', 'Free for 14 days', 'Up to 3 shops'],
      ['Starter', '£50 / month', 'Up to 3 shops'],
      ['Growth', '£100 / month', 'Up to 10 shops'],
      ['Enterprise', 'By enquiry', 'As many shops as you need'],
    ]);
    // Live platforms from the registry (every planned one is built now: no "coming next" list).
    const live = await page.locator('[data-testid=platforms-live] li').allInnerTexts();
    expect(live).toEqual(expect.arrayContaining(['Shopify', 'Square', 'WooCommerce', 'Otter', 'Medusa']));
    expect(await page.locator('[data-testid=platforms-coming]').count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Log in' }).first().getAttribute('href')).toBe('/login');
    expect(await page.getByRole('link', { name: 'Sign up' }).getAttribute('href')).toBe('/signup');
    expect(await page.getByRole('link', { name: 'Start your 14-day free trial' }).count()).toBe(1);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    await shoot(page, `landing-${width}`, { fullPage: true });

    // The form: every field labelled; the honeypot out of sight, out of the tab order and hidden from screen readers.
    const company = `Browser Bakery ${width}`;
    await page.getByLabel('Your name').fill('Ada Baker');
    await page.getByLabel('Work email').fill(`ada-${width}@bakery.example`);
    await page.getByLabel('Company').fill(company);
    await page.getByLabel('Shops to connect').fill('25');
    await page.getByLabel('What do you need?').fill('Twenty-five bakeries on one ledger.');
    const honeypot = page.locator('input[name=website]');
    expect(await honeypot.getAttribute('tabindex')).toBe('-1');
    expect((await honeypot.boundingBox())!.x).toBeLessThan(0);
    expect(await page.getByRole('textbox', { name: 'Website' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Send enquiry' }).click();
    const sent = page.locator('[data-testid=enquiry-sent]');
    await expect.poll(() => sent.count(), { timeout: 10_000 }).toBe(1);
    expect(await sent.innerText()).toContain(`ada-${width}@bakery.example`);
    // Focus moves to the confirmation, so a keyboard or screen reader user hears it.
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } } }).document.activeElement.getAttribute(
          'data-testid',
        ),
      ),
    ).toBe('enquiry-sent');
    expect(await storedFor(company)).toEqual([expect.objectContaining({ email: `ada-${width}@bakery.example`, shops: 25, status: 'new' })]);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    expect(errors).toEqual([]);
    await close();
  });

  it('still shows a signed-in merchant the dashboard at /, with no operator link', async () => {
    const { page, errors, close } = await open(width, merchantToken, '/');
    await expect.poll(() => page.getByText('Live sync feed').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.getByRole('heading', { name: 'One stock ledger for every place you sell' }).count()).toBe(0);
    expect(await page.getByRole('link', { name: 'Enquiries' }).count()).toBe(0);
    expect(errors).toEqual([]);
    await close();
  });
});

describe("the operators' console", () => {
  it('lists the enquiries for a super admin, who moves one along', async () => {
    const { page, errors, close } = await open(1280, operatorToken, '/');
    await page.getByRole('link', { name: 'Console' }).click();
    await page.getByRole('link', { name: 'Enquiries' }).click();
    await expect.poll(() => page.locator('[data-testid=enquiry-row]').count(), { timeout: 10_000 }).toBe(2);
    const row = page.locator('[data-testid=enquiry-row]', { hasText: 'Browser Bakery 1280' });
    expect(await row.innerText()).toContain('Twenty-five bakeries on one ledger.');
    await row.getByLabel('Status').selectOption('contacted');
    await expect.poll(async () => (await storedFor('Browser Bakery 1280'))[0].status, { timeout: 10_000 }).toBe('contacted');
    await expect.poll(() => page.locator('[data-testid=enquiry-row][data-status=contacted]').count()).toBe(1);
    await row.getByLabel('Note').fill('Called on Monday');
    await row.getByRole('button', { name: 'Save note' }).click();
    await expect
      .poll(async () => (await h.sc.ctx.db.query(`select note from enquiries where company = 'Browser Bakery 1280'`)).rows[0].note)
      .toBe('Called on Monday');
    await page.locator('select[name=status-filter]').selectOption('new');
    await expect.poll(() => page.locator('[data-testid=enquiry-row]').count()).toBe(1);
    await page.locator('select[name=status-filter]').selectOption('');
    await expect.poll(() => page.locator('[data-testid=enquiry-row]').count()).toBe(2);
    await shoot(page, 'admin-enquiries-1280');
    expect(errors).toEqual([]);
    await close();
  });
});
