// The operators' console in Debian's chromium (issue 12): an operator finds a tenant, pauses and
// resumes its sync, reads the sync monitor and the health page, and looks at the tenant's
// dashboard read-only while the merchant sees a banner and ends it. Every console page renders
// at 1280 and 390 px without sideways scrolling; screenshots as test/helpers/browser.ts says.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { ensureWebBuilt, errorsOf, launchBrowser, overflow, pageAs, shoot } from '../helpers/browser.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, type EmulatedTenant } from '../helpers/tenant.ts';

let h: Harness;
let emus: EmulatorSet;
let browser: Browser;
let t: EmulatedTenant;
let opToken: string;

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  emus = await startEmulators();
  t = await emulatedTenant(h, emus, { types: ['eposnow', 'wix'], items: [{ sku: 'CON-1', name: 'Console Cake', qty: 12 }] });
  await h.sc.ctx.db.query(`update tenants set name = 'Console Cakes' where id = $1`, [t.tenantId]);
  const email = `ops-${Date.now()}@stockclerk.example`;
  await makeSuperAdmin(h.sc.ctx.db, email, 'operator-pass-1');
  opToken = (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'operator-pass-1' } })).body.access_token;
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await emus?.close();
  await h?.stop();
});

const as = (token: string, width = 1280) => pageAs(browser, token, width);
const settled = async (page: Page) => {
  await expect.poll(() => page.locator('.state.loading').count(), { timeout: 10_000 }).toBe(0);
  expect(await page.locator('.state.error').count()).toBe(0);
};

describe('the console', () => {
  it('finds a tenant, pauses and resumes its sync with a reason', async () => {
    const page = await as(opToken);
    await page.goto(`${h.url}/admin`);
    await page.getByLabel('Search').fill('console cakes');
    await expect.poll(() => page.getByTestId('tenant-row').count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole('link', { name: 'Console Cakes' }).click();
    await page.getByLabel('Reason for pausing').fill('customer asked us to stop pushes');
    await page.getByRole('button', { name: 'Pause all sync' }).click();
    await expect.poll(() => page.getByTestId('paused-note').textContent(), { timeout: 10_000 }).toContain('customer asked us to stop pushes');
    const paused = await h.sc.ctx.db.query(`select sync_paused_reason from tenants where id = $1`, [t.tenantId]);
    expect(paused.rows[0].sync_paused_reason).toBe('customer asked us to stop pushes');
    await page.getByRole('button', { name: 'Resume sync' }).click();
    await eventually(
      async () => (await h.sc.ctx.db.query(`select sync_paused_at from tenants where id = $1`, [t.tenantId])).rows[0].sync_paused_at === null,
      10_000,
      'resumed',
    );
    await expect.poll(() => page.getByTestId('recent-audit').textContent(), { timeout: 10_000 }).toContain('tenant.sync_resumed');
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('looks at the tenant read-only: the operator and the merchant each see a banner; the merchant ends it', async () => {
    const page = await as(opToken);
    await page.goto(`${h.url}/admin/tenants/${t.tenantId}`);
    await page.getByLabel('Why (the merchant sees this)').fill('checking a stuck Wix push');
    await page.getByRole('button', { name: 'View as the merchant (read-only)' }).click();
    await expect.poll(() => page.getByTestId('impersonating-banner').textContent(), { timeout: 10_000 }).toContain('Console Cakes');
    expect(await page.getByTestId('impersonating-banner').textContent()).toContain('read-only');
    await page.getByRole('link', { name: 'Items' }).click();
    await expect.poll(() => page.getByText('Console Cake', { exact: true }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    // The operator's own session is untouched in another tab of theirs.
    const other = await page.context().newPage();
    await other.goto(`${h.url}/admin`);
    await expect.poll(() => other.getByTestId('tenants-table').count(), { timeout: 10_000 }).toBe(1);
    await other.close();

    const merchant = await as(t.token);
    await merchant.goto(`${h.url}/`);
    await expect.poll(() => merchant.getByTestId('impersonated-banner').textContent(), { timeout: 10_000 }).toContain('checking a stuck Wix push');
    await shoot(merchant, 'impersonated-banner-1280');
    await merchant.getByRole('button', { name: 'End now' }).click();
    await expect.poll(() => merchant.getByTestId('impersonated-banner').count(), { timeout: 10_000 }).toBe(0);

    // The operator's tab loses the tenant at its next request and is back in their own session.
    await page.waitForTimeout(5_500); // the token's row is checked through a few seconds' cache
    await page.reload();
    await expect.poll(() => page.getByTestId('impersonating-banner').count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => page.getByRole('link', { name: 'Console' }).count(), { timeout: 10_000 }).toBe(1);
    const audit = await h.sc.ctx.db.query(`select count(*)::int as n from audit_log where tenant_id = $1 and action = 'impersonation.request'`, [t.tenantId]);
    expect(audit.rows[0].n).toBeGreaterThan(2);
    await merchant.context().close();
    await page.context().close();
  });
});

const PAGES = [
  { name: 'console-tenants', path: () => '/admin', ready: 'Console Cakes' },
  { name: 'console-tenant', path: () => `/admin/tenants/${t.tenantId}`, ready: 'View as the merchant' },
  { name: 'console-sync', path: () => '/admin/sync', ready: 'Dead jobs' },
  { name: 'console-health', path: () => '/admin/health', ready: 'Processes' },
  { name: 'console-usage', path: () => '/admin/usage', ready: 'Projected at month end' },
];

describe.each([1280, 390])('console pages at %i px', (width) => {
  it.each(PAGES.map((p) => [p.name, p] as const))('%s renders without sideways scrolling', async (_n, p) => {
    const page = await as(opToken, width);
    await page.goto(h.url + p.path());
    await expect.poll(() => page.getByText(p.ready).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await settled(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(errorsOf(page)).toEqual([]);
    await shoot(page, `${p.name}-${width}`);
    await page.context().close();
  });

  it('is closed to a merchant: the API answers 403 and the nav has no console', async () => {
    const page = await as(t.token, width);
    await page.goto(`${h.url}/admin`);
    await expect.poll(() => page.locator('.state.error').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.locator('.state.error').textContent()).toContain('operator');
    expect(await page.getByRole('link', { name: 'Console' }).count()).toBe(0);
    await page.context().close();
  });
});
