// The Conflicts page (issue 13) in Debian's chromium, against the real Etsy and eBay emulators: a
// title edited on Etsy becomes a conflict (the catalog check the scheduler runs) and is shown with
// our value beside Etsy's; "Take theirs" makes it ours (and eBay follows), "Keep ours" sends ours
// back to Etsy, a typed value becomes ours everywhere, and several are settled at once. The empty
// state, a viewer (sees, cannot resolve or publish), the channel's Conflicts setting, and
// screenshots at 1280 and 390 px.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEmulatedChannel, startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { catalogCheck } from '../../src/engine/conflicts.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { systemScope } from '../../src/services/scope.ts';
import { addMember } from '../../src/services/users.ts';
import { ensureWebBuilt, errorsOf, launchBrowser, overflow, pageAs, shoot } from '../helpers/browser.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let emus: EmulatorSet;
let browser: Browser;
let token: string;
let tenantId: string;
let productId: string;
const ch = {} as Record<'ebay' | 'etsy', { channelId: string; accountId: string }>;

const EBAY_SETTINGS = {
  category_id: '11450',
  merchant_location_key: 'loc-1',
  fulfillment_policy_id: 'ship-1',
  payment_policy_id: 'pay-1',
  return_policy_id: 'ret-1',
};
const call = (method: string, p: string, body?: unknown) => api(h.url, method, `/api/v1${p}`, { token, body });
const title = async () => (await call('GET', `/products/${productId}`)).body.title as string;
const publication = async (type: 'ebay' | 'etsy') =>
  (await call('GET', `/publications?product_id=${productId}&channel_id=${ch[type].channelId}`)).body.data[0] as { state: string; external_id: string };
const settled = async () => {
  for (const type of ['ebay', 'etsy'] as const) {
    await eventually(async () => (await publication(type)).state !== 'publishing', 30_000, `${type} to settle`);
    expect((await publication(type)).state).toBe('live');
  }
};
/** The title the platform holds now, read through the adapter as the catalog check reads it. */
const remote = async (type: 'ebay' | 'etsy') => {
  const { rows } = await h.sc.ctx.db.query(`select external_id, refs from publications where tenant_id = $1 and channel_id = $2`, [
    tenantId,
    ch[type].channelId,
  ]);
  const live = await h.sc.ctx.channels.load(tenantId, ch[type].channelId);
  return (await live!.adapter.catalog!.readFields([{ externalId: rows[0].external_id, refs: rows[0].refs }]))[0]?.title;
};
/** A seller changes the listing on Etsy's own site; the catalog check then finds what differs. */
const editOnEtsy = async (fields: { title?: string; description?: string }) => {
  const r = await fetch(`${emus.etsy.url}/_control/accounts/${ch.etsy.accountId}/listings/${(await publication('etsy')).external_id}/edit`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(fields),
  });
  expect(r.status).toBeLessThan(300);
  return catalogCheck(h.sc.ctx, { tenantId, channelId: ch.etsy.channelId });
};

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  emus = await startEmulators();
  const t = await registerTenant(h.url, 'Threads');
  ({ token, tenantId } = t);
  for (const type of ['ebay', 'etsy'] as const) {
    const c = await connectEmulatedChannel(h.sc.ctx, {
      tenantId,
      type,
      emulator: emus[type],
      name: type === 'ebay' ? 'My eBay' : 'My Etsy',
      stockclerkUrl: h.url,
      items: [],
      locationIds: [t.locationId],
      settings: type === 'ebay' ? EBAY_SETTINGS : {},
    });
    ch[type] = { channelId: c.channelId, accountId: c.accountId };
  }
  const made = await call('POST', '/products', { title: 'Linen shirt', description: 'Washed linen.', price_minor: 2500, variants: [{ sku: 'LIN-1' }] });
  productId = made.body.id;
  const img = await fetch(`${h.url}/api/v1/products/${productId}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
    body: swatchPng([40, 60, 90], [220, 220, 220]),
  });
  expect(img.status).toBe(201);
  await recordMovements(h.sc.ctx.db, tenantId, [{ itemId: made.body.variants[0].item_id, locationId: t.locationId, qtyDelta: 4, reason: 'receipt' }]);
  expect((await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.ebay.channelId, ch.etsy.channelId] })).status).toBe(202);
  await settled();
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await emus?.close();
  await h?.stop();
});

async function open(path: string, width = 1280, as = token): Promise<Page> {
  const page = await pageAs(browser, as, width);
  await page.goto(h.url + path);
  return page;
}
const openConflicts = (page: Page) => page.locator('[data-testid=conflict][data-status=open]');

describe('the Conflicts page', () => {
  it('says so when there is nothing to settle, and is in the menu', async () => {
    const page = await open('/');
    await page.getByRole('link', { name: 'Conflicts' }).click();
    await expect.poll(() => page.getByText('No open conflicts.').count(), { timeout: 15_000 }).toBe(1);
    expect(errorsOf(page)).toEqual([]);
  });

  it('shows a title edited on Etsy beside ours; "Take theirs" makes it ours and eBay follows', async () => {
    expect((await editOnEtsy({ title: 'Washed linen shirt' })).conflicts).toBe(1);
    const page = await open('/conflicts');
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(1);
    const c = openConflicts(page).first();
    expect(await c.getByTestId('master-value').textContent()).toBe('Linen shirt');
    expect(await c.getByTestId('platform-value').textContent()).toBe('Washed linen shirt');
    expect(await c.textContent()).toMatch(/Title of Linen shirt.*My Etsy/);
    await shoot(page, 'conflicts-1280');
    await c.getByRole('button', { name: 'Take theirs' }).click();
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(0);
    await expect.poll(() => page.getByText('No open conflicts.').count()).toBe(1);
    expect(await title()).toBe('Washed linen shirt');
    await settled();
    expect(await remote('ebay')).toBe('Washed linen shirt');
    expect((await call('GET', '/conflicts?status=resolved')).body.data[0].resolution).toBe('use_platform');
    expect(errorsOf(page)).toEqual([]);
  });

  it('"Keep ours" sends our title back to Etsy and leaves ours as it was', async () => {
    await editOnEtsy({ title: 'LINEN SHIRT!!!' });
    const page = await open('/conflicts');
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(1);
    await openConflicts(page).first().getByRole('button', { name: 'Keep ours' }).click();
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(0);
    await settled();
    expect(await remote('etsy')).toBe('Washed linen shirt');
    expect(await title()).toBe('Washed linen shirt');
  });

  it('a typed value becomes ours and every channel follows; an empty one is refused at the conflict', async () => {
    await editOnEtsy({ title: 'Shirt' });
    const page = await open('/conflicts');
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(1);
    const c = openConflicts(page).first();
    await c.getByRole('button', { name: 'Set a value…' }).click();
    await c.getByLabel('Value to keep').fill('');
    await c.getByRole('button', { name: 'Keep', exact: true }).click();
    await expect.poll(() => c.getByRole('alert').count(), { timeout: 10_000 }).toBe(1);
    expect(await title()).toBe('Washed linen shirt');
    await c.getByLabel('Value to keep').fill('Linen shirt, washed');
    await c.getByRole('button', { name: 'Keep', exact: true }).click();
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(0);
    expect(await title()).toBe('Linen shirt, washed');
    await settled();
    expect(await remote('etsy')).toBe('Linen shirt, washed');
    expect(await remote('ebay')).toBe('Linen shirt, washed');
  });

  it('settles several at once: select all, keep ours', async () => {
    expect((await editOnEtsy({ title: 'Other title', description: 'Other words.' })).conflicts).toBe(2);
    const page = await open('/conflicts', 390);
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(2);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await shoot(page, 'conflicts-390');
    await page.getByLabel('Select every open conflict').check();
    await page.getByRole('button', { name: 'Keep ours for selected' }).click();
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(0);
    expect(await page.getByRole('status').textContent()).toContain('2 conflicts resolved');
    await settled();
    expect(await remote('etsy')).toBe('Linen shirt, washed');
    expect(await title()).toBe('Linen shirt, washed');
    expect((await call('GET', `/products/${productId}`)).body.description).toBe('Washed linen.');
    // The resolved ones are still there to look back on.
    await page.getByLabel('Show conflicts').selectOption('resolved');
    await expect.poll(() => page.locator('[data-testid=conflict][data-status=resolved]').count(), { timeout: 10_000 }).toBe(5);
    expect(errorsOf(page)).toEqual([]);
  });

  it('a viewer sees the conflict and the marketplace states but nothing to resolve or publish', async () => {
    const email = `viewer-${Date.now()}@example.com`;
    await addMember(h.sc.ctx.db, systemScope(tenantId), { email, password: 'viewer-pass-123', role: 'viewer' });
    const viewer = (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'viewer-pass-123' } })).body.access_token as string;
    await editOnEtsy({ title: 'Seen, not touched' });
    const page = await open('/conflicts', 1280, viewer);
    await expect.poll(() => openConflicts(page).count(), { timeout: 15_000 }).toBe(1);
    expect(await openConflicts(page).first().getByTestId('platform-value').textContent()).toBe('Seen, not touched');
    expect(await openConflicts(page).first().getByRole('button').count()).toBe(0);
    expect(await page.getByTestId('bulk-resolve').count()).toBe(0);
    await page.goto(`${h.url}/products/${productId}`);
    await expect.poll(() => page.getByTestId('publication').count(), { timeout: 15_000 }).toBe(2);
    expect(await page.getByTestId('publish-panel').getByRole('button').count()).toBe(0);
    expect(errorsOf(page)).toEqual([]);
  });

  it("the Etsy channel's page shows its Conflicts setting, and changing it is saved", async () => {
    const page = await open(`/channels/${ch.etsy.channelId}`);
    const select = page.getByLabel('Conflicts', { exact: true });
    await expect.poll(() => select.inputValue(), { timeout: 15_000 }).toBe('ask');
    await select.selectOption('use_master');
    await expect.poll(() => page.getByText('Saved.').count(), { timeout: 10_000 }).toBe(1);
    expect((await call('GET', `/channels/${ch.etsy.channelId}`)).body.settings.conflict_policy).toBe('use_master');
    expect(errorsOf(page)).toEqual([]);
  });
});
