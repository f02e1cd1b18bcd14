// The Sync rules page in Debian's chromium: a merchant creates a cap rule for one channel (a value
// the API refuses is shown at its field first), sees it in the priority-ordered list, runs a dry run
// for a SKU and reads that the rule applied and why; toggling it off is stored and the dry run says
// it is disabled. The page at 1280 and 390 px without sideways scrolling; screenshots as
// test/helpers/browser.ts says.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, errorsOf, launchBrowser, overflow, pageAs, shoot } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let browser: Browser;
let owner: string;

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  const t = await registerTenant(h.url, 'Threads');
  owner = t.token;
  // A channel to rule on; its credentials are never used by what this suite looks at.
  for (const name of ['Till', 'Web shop']) {
    const ch = await api(h.url, 'POST', '/api/v1/channels', {
      token: owner,
      body: { type: 'eposnow', name, base_url: 'http://127.0.0.1:9', credentials: { api_key: 'k', api_secret: 's' } },
    });
    expect(ch.status).toBe(201);
  }
  const item = await api(h.url, 'POST', '/api/v1/items', { token: owner, body: { sku: 'TEE-1', name: 'Tee' } });
  expect(item.status).toBe(201);
  const adj = await api(h.url, 'POST', '/api/v1/adjustments', {
    token: owner,
    body: { item_id: item.body.id, location_id: t.locationId, qty_delta: 20, reason: 'receipt' },
  });
  expect(adj.status).toBe(201);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

const as = (token: string, width = 1280) => pageAs(browser, token, width);
const settled = async (page: Page) => {
  await expect.poll(() => page.locator('.state.loading').count(), { timeout: 10_000 }).toBe(0);
  expect(await page.locator('.state.error').count()).toBe(0);
};
const form = (page: Page) => page.locator('form[aria-label="Sync rule"]');
const rules = async () => (await api(h.url, 'GET', '/api/v1/sync-rules', { token: owner })).body.data;

describe('the sync rules page', () => {
  it('creates a rule, and a dry run shows it applied and why', async () => {
    const page = await as(owner);
    await page.goto(`${h.url}/sync-rules`);
    await expect.poll(() => page.getByText('No rules yet').count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole('link', { name: 'Sync rules' }).waitFor();
    await page.getByRole('button', { name: 'New rule' }).click();
    await form(page).locator('input[name=name]').fill('Cap the web shop');
    await form(page).locator('input[name=priority]').fill('10');
    await form(page).getByRole('group', { name: 'Channels' }).getByLabel('Web shop').check();
    await form(page).locator('select[name=type]').selectOption('percent');
    await form(page).locator('input[name=value]').fill('150');
    await page.getByRole('button', { name: 'Create rule' }).click();
    // 150% is refused by the API, at the value field; nothing is created.
    await expect.poll(() => form(page).getByTestId('field-error').textContent(), { timeout: 10_000 }).toMatch(/100/);
    expect(await rules()).toEqual([]);
    await form(page).locator('select[name=type]').selectOption('cap');
    await form(page).locator('input[name=value]').fill('5');
    await page.getByRole('button', { name: 'Create rule' }).click();
    await expect.poll(() => page.getByTestId('rule-row').count(), { timeout: 10_000 }).toBe(1);
    expect(await form(page).count()).toBe(0);
    const [rule] = await rules();
    expect(rule).toMatchObject({ name: 'Cap the web shop', priority: 10, enabled: true, action: { type: 'cap', value: 5 } });
    expect(rule.conditions.channel_ids).toHaveLength(1);
    expect(await page.getByTestId('rule-row').textContent()).toContain('Cap at 5 · on Web shop');

    // Dry run: on the web shop the rule applies (20 -> 5) and says why; on the till it does not match.
    await page.locator('select[name=dry_channel]').selectOption({ label: 'Web shop' });
    await page.locator('input[name=dry_sku]').fill('TEE-1');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByTestId('dry-qty').textContent(), { timeout: 10_000 }).toBe('5');
    expect(await page.getByTestId('dry-master').textContent()).toBe('20');
    const applied = page.getByTestId('dry-rule');
    expect(await applied.getAttribute('data-status')).toBe('applied');
    expect(await applied.textContent()).toContain('Cap the web shop');
    expect(await applied.textContent()).toContain('matched on channel Web shop; caps at 5: 20 -> 5');
    await shoot(page, 'sync-rules-dry-run-1280');

    await page.locator('select[name=dry_channel]').selectOption({ label: 'Till' });
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByTestId('dry-qty').textContent(), { timeout: 10_000 }).toBe('20');
    expect(await page.getByTestId('dry-rule').getAttribute('data-status')).toBe('not_matched');
    expect(await page.getByTestId('dry-rule').textContent()).toContain('channel Till is not one of Web shop');

    // Toggled off: stored, and the dry run says the rule is disabled.
    await page.getByLabel('Enable Cap the web shop').click();
    await expect.poll(async () => (await rules())[0].enabled, { timeout: 10_000 }).toBe(false);
    await expect.poll(() => page.getByTestId('rule-row').textContent(), { timeout: 10_000 }).toContain('off');
    await page.locator('select[name=dry_channel]').selectOption({ label: 'Web shop' });
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByTestId('dry-rule').getAttribute('data-status'), { timeout: 10_000 }).toBe('disabled');
    expect(await page.getByTestId('dry-qty').textContent()).toBe('20');
    await page.getByLabel('Enable Cap the web shop').click();
    await expect.poll(async () => (await rules())[0].enabled, { timeout: 10_000 }).toBe(true);

    // Edit: the form comes back filled; a new value is saved with If-Match behind the scenes.
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await form(page).locator('input[name=value]').inputValue()).toBe('5');
    await form(page).locator('input[name=value]').fill('3');
    await page.getByRole('button', { name: 'Save rule' }).click();
    await expect.poll(async () => (await rules())[0].action.value, { timeout: 10_000 }).toBe(3);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });
});

describe.each([1280, 390])('the sync rules page at %i px', (width) => {
  it('renders the rules and a dry run without sideways scrolling', async () => {
    const page = await as(owner, width);
    await page.goto(`${h.url}/sync-rules`);
    await expect.poll(() => page.getByTestId('rule-row').count(), { timeout: 10_000 }).toBe(1);
    await settled(page);
    await page.locator('select[name=dry_channel]').selectOption({ label: 'Web shop' });
    await page.locator('input[name=dry_sku]').fill('TEE-1');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByTestId('dry-qty').textContent(), { timeout: 10_000 }).toBe('3');
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(errorsOf(page)).toEqual([]);
    await shoot(page, `sync-rules-${width}`);
    await page.context().close();
  });
});
