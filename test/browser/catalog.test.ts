// The catalog pages in Debian's chromium (issue 13, point 9): a merchant creates a product with two
// options and three variants (a bad combination is refused at its row first, a taken SKU at its
// SKU), uploads images and sees their thumbnails (served as the bytes sent), sets a +15% price on a
// channel (stored, as the API shows), and meets a 412 with a reload when someone else saved first;
// a viewer sees the same pages with nothing to edit. Both pages at 1280 and 390 px without
// sideways scrolling; screenshots as test/helpers/browser.ts says.
import zlib from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemScope } from '../../src/services/scope.ts';
import { addMember } from '../../src/services/users.ts';
import { ensureWebBuilt, errorsOf, launchBrowser, overflow, pageAs, shoot } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let browser: Browser;
let owner: string;
let viewer: string;
let channelId: string;
let productId: string;

/** A w x h PNG of one colour: real image bytes for the upload, distinct per colour. */
function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([Buffer.from(type), data])));
    return Buffer.concat([len, Buffer.from(type), data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: w }, () => rgb).flat())]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const SAND = png(64, 64, [214, 196, 160]);
const NAVY = png(64, 64, [30, 45, 90]);

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  const t = await registerTenant(h.url, 'Threads');
  owner = t.token;
  // A channel to override for; its credentials are never used (nothing is published yet).
  const ch = await api(h.url, 'POST', '/api/v1/channels', {
    token: owner,
    body: { type: 'eposnow', name: 'Till', base_url: 'http://127.0.0.1:9', credentials: { api_key: 'k', api_secret: 's' } },
  });
  expect(ch.status).toBe(201);
  channelId = ch.body.id;
  const email = `viewer-${Date.now()}@example.com`;
  await addMember(h.sc.ctx.db, systemScope(t.tenantId), { email, password: 'viewer-pass-123', role: 'viewer' });
  viewer = (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'viewer-pass-123' } })).body.access_token;
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
const form = (page: Page) => page.locator('form[aria-label="Product"]');
const row = (page: Page, n: number) => page.getByTestId('variant-row').nth(n);
const product = async (id: string) => (await api(h.url, 'GET', `/api/v1/products/${id}`, { token: owner })).body;

describe('the catalog pages', () => {
  it('creates a product with two options and three variants; a bad combination is refused at its row', async () => {
    const page = await as(owner);
    await page.goto(`${h.url}/products`);
    await expect.poll(() => page.getByText('No products yet').count(), { timeout: 10_000 }).toBe(1);
    await page.getByRole('link', { name: 'New product' }).click();
    await form(page).locator('input[name=title]').fill('Linen shirt');
    await form(page).locator('input[name=brand]').fill('Threads');
    await form(page).locator('input[name=price]').fill('30');
    await form(page).locator('input[name=weight_g]').fill('220');
    await form(page).locator('input[name=tags]').fill('linen, summer');
    await page.getByRole('button', { name: 'Add attribute' }).click();
    await page.getByLabel('Attribute 1 name').fill('Material');
    await page.getByLabel('Attribute 1 value').fill('Linen');
    await page.getByRole('button', { name: 'Add option' }).click();
    await page.getByLabel('Option 1 name').fill('Size');
    await page.getByLabel('Option 1 values').fill('S, M');
    await page.getByRole('button', { name: 'Add option' }).click();
    await page.getByLabel('Option 2 name').fill('Colour');
    await page.getByLabel('Option 2 values').fill('Sand, Navy');
    await page.getByRole('button', { name: 'Generate all combinations' }).click();
    // The blank starting row gives way to the four combinations, each with a SKU.
    await expect.poll(() => page.getByTestId('variant-row').count()).toBe(4);
    expect(await page.getByLabel('Variant 4 SKU').inputValue()).toBe('LINEN-SHIRT-M-NAVY');
    await page.getByRole('button', { name: 'Remove variant 2' }).click(); // S / Navy
    await expect.poll(() => page.getByTestId('variant-row').count()).toBe(3);
    // Row 3 (M / Navy) made the same as row 1: the API refuses the combination, shown on row 3.
    await page.getByLabel('Variant 3 Size').selectOption('S');
    await page.getByLabel('Variant 3 Colour').selectOption('Sand');
    await page.getByRole('button', { name: 'Create product' }).click();
    await expect.poll(() => row(page, 2).getByTestId('field-error').textContent(), { timeout: 10_000 }).toContain('have the same options');
    expect(await row(page, 0).getByTestId('field-error').count()).toBe(0);
    expect((await api(h.url, 'GET', '/api/v1/products?q=Linen', { token: owner })).body.data).toEqual([]);
    // Fixed, with a price of its own.
    await page.getByLabel('Variant 3 Size').selectOption('M');
    await page.getByLabel('Variant 3 Colour').selectOption('Navy');
    await page.getByLabel('Variant 3 price').fill('35.00');
    await page.getByRole('button', { name: 'Create product' }).click();
    await expect.poll(() => new URL(page.url()).pathname, { timeout: 10_000 }).toMatch(/^\/products\/prd_/);
    productId = new URL(page.url()).pathname.split('/')[2]!;
    await expect.poll(() => page.getByRole('heading', { name: 'Linen shirt' }).count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => page.getByTestId('variant-row').count()).toBe(3);
    const p = await product(productId);
    expect(p).toMatchObject({
      title: 'Linen shirt',
      brand: 'Threads',
      price_minor: 3000,
      weight_g: 220,
      tags: ['linen', 'summer'],
      attributes: { Material: 'Linen' },
      options: [
        { name: 'Size', values: ['S', 'M'] },
        { name: 'Colour', values: ['Sand', 'Navy'] },
      ],
    });
    expect(p.variants.map((v: any) => [v.sku, v.option_values, v.price_minor])).toEqual([
      ['LINEN-SHIRT-S-SAND', { Size: 'S', Colour: 'Sand' }, null],
      ['LINEN-SHIRT-M-SAND', { Size: 'M', Colour: 'Sand' }, null],
      ['LINEN-SHIRT-M-NAVY', { Size: 'M', Colour: 'Navy' }, 3500],
    ]);
    // The list shows it: variants, the price range in pounds, on hand.
    await page.getByRole('link', { name: 'All products' }).click();
    const listed = page.getByTestId('product-row');
    await expect.poll(() => listed.count(), { timeout: 10_000 }).toBe(1);
    expect(await listed.getByTestId('variant-count').textContent()).toBe('3 variants');
    expect(await listed.getByTestId('price-range').textContent()).toBe('£30.00 – £35.00');
    expect(await listed.getByTestId('product-on-hand').textContent()).toBe('0 on hand');
    // Searching by a variant's SKU finds it; by something else, nothing.
    await page.getByLabel('Search products').fill('M-NAVY');
    await expect.poll(() => listed.count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel('Search products').fill('velvet');
    await expect.poll(() => page.getByText('No product matches.').count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel('Search products').fill('');
    await page.getByLabel('Status').selectOption('archived');
    await expect.poll(() => page.getByText('No product matches.').count(), { timeout: 10_000 }).toBe(1);
    await page.getByLabel('Status').selectOption('active');
    await expect.poll(() => listed.count(), { timeout: 10_000 }).toBe(1);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('shows a SKU already used on that SKU, and adds a variant to a saved product', async () => {
    const page = await as(owner);
    await page.goto(`${h.url}/products/new`);
    await form(page).locator('input[name=title]').fill('Twin shirt');
    // A price that is not one is caught before anything is sent.
    await form(page).locator('input[name=price]').fill('twelve');
    await page.getByRole('button', { name: 'Create product' }).click();
    await expect.poll(() => form(page).getByTestId('field-error').first().textContent()).toBe('Type a price like 12.50');
    await form(page).locator('input[name=price]').fill('12.50');
    await page.getByLabel('Variant 1 SKU').fill('LINEN-SHIRT-S-SAND');
    await page.getByRole('button', { name: 'Create product' }).click();
    await expect
      .poll(() => row(page, 0).getByTestId('field-error').textContent(), { timeout: 10_000 })
      .toContain('LINEN-SHIRT-S-SAND is already used by another item');

    await page.goto(`${h.url}/products/${productId}`);
    await expect.poll(() => page.getByTestId('variant-row').count(), { timeout: 10_000 }).toBe(3);
    await page.getByLabel('Option 1 values').fill('S, M, L');
    await page.getByRole('button', { name: 'Add variant' }).click();
    await page.getByLabel('Variant 4 SKU').fill('LINEN-SHIRT-L-SAND');
    await page.getByLabel('Variant 4 Size').selectOption('L');
    await page.getByLabel('Variant 4 Colour').selectOption('Sand');
    await page.getByRole('button', { name: 'Save product' }).click();
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Saved.' }).count(), { timeout: 10_000 }).toBe(1);
    const p = await product(productId);
    expect(p.options[0].values).toEqual(['S', 'M', 'L']);
    expect(p.variants.map((v: any) => v.sku)).toContain('LINEN-SHIRT-L-SAND');
    // Saved rows are items now: their SKU links to the item page.
    expect(await row(page, 3).getByRole('link', { name: 'LINEN-SHIRT-L-SAND' }).count()).toBe(1);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('uploads several images with alt text, shows their thumbnails in order, and removes one', async () => {
    const page = await as(owner);
    await page.goto(`${h.url}/products/${productId}`);
    await settled(page);
    await page.locator('input[type=file]').setInputFiles([
      { name: 'sand.png', mimeType: 'image/png', buffer: SAND },
      { name: 'navy.png', mimeType: 'image/png', buffer: NAVY },
    ]);
    await page.getByLabel('Alt text').fill('Linen shirt');
    await page.getByRole('button', { name: 'Upload 2 images' }).click();
    await expect.poll(() => page.getByTestId('image').count(), { timeout: 10_000 }).toBe(2);
    const srcs = await page
      .getByTestId('image')
      .locator('img')
      .evaluateAll((els) => els.map((e) => (e as unknown as { src: string }).src));
    // The thumbnails are the bytes sent, in the order sent, and the page really loaded them.
    expect(Buffer.from(await (await fetch(srcs[0]!)).arrayBuffer()).equals(SAND)).toBe(true);
    expect(Buffer.from(await (await fetch(srcs[1]!)).arrayBuffer()).equals(NAVY)).toBe(true);
    await expect
      .poll(() =>
        page
          .getByTestId('image')
          .locator('img')
          .evaluateAll((els) => els.map((e) => (e as unknown as { naturalWidth: number }).naturalWidth)),
      )
      .toEqual([64, 64]);
    expect((await product(productId)).images.map((i: any) => [i.alt, i.position])).toEqual([
      ['Linen shirt', 0],
      ['Linen shirt', 1],
    ]);
    // A third, then removed again.
    await page.locator('input[type=file]').setInputFiles([{ name: 'red.png', mimeType: 'image/png', buffer: png(8, 8, [200, 30, 30]) }]);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await expect.poll(() => page.getByTestId('image').count(), { timeout: 10_000 }).toBe(3);
    await page
      .getByTestId('image')
      .nth(2)
      .getByRole('button', { name: /Remove image/ })
      .click();
    await expect.poll(() => page.getByTestId('image').count(), { timeout: 10_000 }).toBe(2);
    expect((await product(productId)).images).toHaveLength(2);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it("sets a +15% price and the images' order for a channel, stored as the API shows, and removes it", async () => {
    const page = await as(owner);
    await page.goto(`${h.url}/products/${productId}`);
    await settled(page);
    const o = page.locator(`[data-testid=override][data-channel-id="${channelId}"]`);
    await o.locator('input[name=title]').fill('Linen Shirt - Free UK Delivery');
    await o.locator('select[name=price_rule]').selectOption('percent');
    await o.locator('input[name=price_amount]').fill('15');
    await expect.poll(() => o.getByText('£34.50 here').count()).toBe(1);
    await o.locator('input[name=category_id]').fill('57990');
    // The navy image first, then the sand one.
    const images = (await product(productId)).images.map((i: any) => i.id);
    await o.getByRole('checkbox').nth(1).check();
    await o.getByRole('checkbox').nth(1).check(); // the list puts chosen images first: the sand one is now second
    await o.getByRole('button', { name: 'Save for Till' }).click();
    await expect.poll(() => o.getByRole('status').textContent(), { timeout: 10_000 }).toBe('Saved.');
    const stored = (await product(productId)).overrides;
    expect(stored).toEqual([
      expect.objectContaining({
        channel_id: channelId,
        title: 'Linen Shirt - Free UK Delivery',
        price: { type: 'percent', percent: 15 },
        image_ids: [images[1], images[0]],
        category_id: '57990',
        description: null,
      }),
    ]);
    // Reordered with the arrows: sand first again.
    await o.locator('button[aria-label$="earlier"]:enabled').click();
    await o.getByRole('button', { name: 'Save for Till' }).click();
    await expect.poll(async () => (await product(productId)).overrides[0].image_ids, { timeout: 10_000 }).toEqual([images[0], images[1]]);
    // Removed: the channel shows the product as it is.
    await o.getByRole('button', { name: 'Remove override' }).click();
    await expect.poll(async () => (await product(productId)).overrides, { timeout: 10_000 }).toEqual([]);
    // And set again for the pages below (the viewer sees it).
    await o.locator('select[name=price_rule]').selectOption('percent');
    await o.locator('input[name=price_amount]').fill('15');
    await o.getByRole('button', { name: 'Save for Till' }).click();
    await expect.poll(async () => (await product(productId)).overrides[0]?.price, { timeout: 10_000 }).toEqual({ type: 'percent', percent: 15 });
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });

  it('says when someone else saved first (412), and reloads their version', async () => {
    const mine = await as(owner);
    const theirs = await as(owner);
    for (const p of [mine, theirs]) {
      await p.goto(`${h.url}/products/${productId}`);
      await expect.poll(() => form(p).locator('input[name=title]').inputValue(), { timeout: 10_000 }).toBe('Linen shirt');
    }
    await form(theirs).locator('input[name=title]').fill('Linen shirt (relaxed)');
    await theirs.getByRole('button', { name: 'Save product' }).click();
    await expect.poll(() => theirs.getByRole('status').filter({ hasText: 'Saved.' }).count(), { timeout: 10_000 }).toBe(1);
    await form(mine).locator('input[name=brand]').fill('Other brand');
    await mine.getByRole('button', { name: 'Save product' }).click();
    await expect.poll(() => mine.getByTestId('stale').count(), { timeout: 10_000 }).toBe(1);
    expect((await product(productId)).brand).toBe('Threads'); // nothing of mine was written over theirs
    await mine.getByTestId('stale').getByRole('button', { name: 'Reload' }).click();
    await expect.poll(() => form(mine).locator('input[name=title]').inputValue(), { timeout: 10_000 }).toBe('Linen shirt (relaxed)');
    expect(await mine.getByTestId('stale').count()).toBe(0);
    // Saving now works, on top of their change.
    await form(mine).locator('input[name=brand]').fill('Other brand');
    await mine.getByRole('button', { name: 'Save product' }).click();
    await expect.poll(async () => (await product(productId)).brand, { timeout: 10_000 }).toBe('Other brand');
    expect((await product(productId)).title).toBe('Linen shirt (relaxed)');
    await mine.context().close();
    await theirs.context().close();
  });

  it('shows a viewer everything and nothing to edit', async () => {
    const page = await as(viewer);
    await page.goto(`${h.url}/products`);
    await expect.poll(() => page.getByTestId('product-row').count(), { timeout: 10_000 }).toBe(1);
    await settled(page);
    expect(await page.getByRole('link', { name: 'New product' }).count()).toBe(0);
    expect(await page.locator('.products-page input:enabled, .products-page select:enabled').count()).toBe(2); // search and filter
    await page.getByRole('link', { name: 'Linen shirt (relaxed)' }).click();
    await expect.poll(() => page.getByTestId('variant-row').count(), { timeout: 10_000 }).toBe(4);
    await settled(page);
    await expect.poll(() => page.getByTestId('override').count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('image').count()).toBe(2);
    expect(await form(page).locator('input[name=title]').inputValue()).toBe('Linen shirt (relaxed)');
    expect(await page.getByTestId('override').locator('input[name=price_amount]').inputValue()).toBe('15');
    // (The page, not the banners above it: a viewer may still resend their address confirmation.)
    const editor = page.locator('.product-editor');
    expect(await editor.locator('button').count()).toBe(0);
    expect(await editor.locator('input:enabled, select:enabled, textarea:enabled').count()).toBe(0);
    expect(await page.locator('input[type=file]').count()).toBe(0);
    expect(errorsOf(page)).toEqual([]);
    await page.context().close();
  });
});

describe.each([1280, 390])('catalog pages at %i px', (width) => {
  const pages: Array<{ name: string; path: () => string; ready: string }> = [
    { name: 'products', path: () => '/products', ready: 'Linen shirt (relaxed)' },
    { name: 'product-editor', path: () => `/products/${productId}`, ready: 'On each channel' },
  ];
  it.each(pages.map((p) => [p.name, p] as const))('%s renders without sideways scrolling', async (_name, p) => {
    const page = await as(owner, width);
    await page.goto(h.url + p.path());
    await expect.poll(() => page.getByText(p.ready).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await settled(page);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(errorsOf(page)).toEqual([]);
    await shoot(page, `${p.name}-${width}`);
    await page.context().close();
  });
});
