// Publishing from the dashboard (issue 13) in Debian's chromium, against the real eBay and Etsy
// emulators: the product editor's marketplace panel previews a publish (the planned requests and
// their cost are shown, the platforms receive nothing, a channel's refusal is named), publishes
// (the states turn live and the emulators hold the listings), refuses a product Etsy cannot take
// with the reason, and delists; the product list publishes several products as one job whose
// progress bar pauses, resumes and finishes, and previews every product at once; a publish Etsy
// refuses (our tokens revoked) shows the error state with its reason. Screenshots of the panel at
// 1280 and 390 px.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEmulatedChannel, startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { ensureWebBuilt, errorsOf, launchBrowser, overflow, pageAs, shoot } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let emus: EmulatorSet;
let browser: Browser;
let token: string;
let tenantId: string;
let locationId: string;
const ch = {} as Record<'ebay' | 'etsy', { channelId: string; accountId: string }>;

const EBAY_SETTINGS = {
  category_id: '11450',
  merchant_location_key: 'loc-1',
  fulfillment_policy_id: 'ship-1',
  payment_policy_id: 'pay-1',
  return_policy_id: 'ret-1',
};
const TYPES = ['ebay', 'etsy'] as const;
// The Watcher's safety-net polls (receipts, orders) run on their own clock: not sent by a publish.
const published = (type: 'ebay' | 'etsy') => emus[type].received.filter((r) => !/\/receipts|\/sell\/fulfillment\/|oauth/.test(r.url));
const call = (method: string, p: string, body?: unknown) => api(h.url, method, `/api/v1${p}`, { token, body });

/** A product with one variant per SKU, an image unless `bare`, and `stock` of each at the location. */
async function product(title: string, skus: string[], opts: { bare?: boolean; stock?: number } = {}): Promise<string> {
  const made = await call('POST', '/products', {
    title,
    description: `${title}, made well.`,
    category: 'Clothing',
    price_minor: 2500,
    ...(skus.length > 1
      ? { options: [{ name: 'Size', values: skus }], variants: skus.map((s) => ({ sku: s, option_values: { Size: s } })) }
      : { variants: [{ sku: skus[0] }] }),
  });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  if (!opts.bare) {
    const img = await fetch(`${h.url}/api/v1/products/${made.body.id}/images`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
      body: swatchPng([40, 60, 90], [220, 220, 220]),
    });
    expect(img.status).toBe(201);
  }
  if (opts.stock)
    await recordMovements(
      h.sc.ctx.db,
      tenantId,
      (made.body.variants as Array<{ item_id: string }>).map((v) => ({ itemId: v.item_id, locationId, qtyDelta: opts.stock!, reason: 'receipt' as const })),
    );
  return made.body.id;
}
const emuSkus = async (type: 'ebay' | 'etsy') => {
  const r = await fetch(`${emus[type].url}/_control/accounts/${ch[type].accountId}/state`);
  return new Map(((await r.json()) as { items: Array<{ sku: string; qty: number }> }).items.map((i) => [i.sku, i.qty]));
};

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  emus = await startEmulators();
  const t = await registerTenant(h.url, 'Threads');
  ({ token, tenantId, locationId } = t);
  for (const type of TYPES) {
    const c = await connectEmulatedChannel(h.sc.ctx, {
      tenantId,
      type,
      emulator: emus[type],
      name: type === 'ebay' ? 'My eBay' : 'My Etsy',
      stockclerkUrl: h.url,
      items: [],
      locationIds: [locationId],
      settings: type === 'ebay' ? EBAY_SETTINGS : {},
    });
    ch[type] = { channelId: c.channelId, accountId: c.accountId };
  }
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await emus?.close();
  await h?.stop();
});

async function open(path: string, width = 1280): Promise<Page> {
  const page = await pageAs(browser, token, width);
  await page.goto(h.url + path);
  return page;
}
const row = (page: Page, type: 'ebay' | 'etsy') => page.locator(`[data-testid=publication][data-channel-id="${ch[type].channelId}"]`);

describe('the publish panel', () => {
  let shirt: string;

  it('previews a publish: the planned requests and their cost are shown, and the platforms receive nothing', async () => {
    shirt = await product('Linen shirt', ['S', 'M'], { stock: 5 });
    const page = await open(`/products/${shirt}`);
    await expect.poll(() => page.getByTestId('publication').count(), { timeout: 15_000 }).toBe(2);
    expect(await row(page, 'etsy').getAttribute('data-state')).toBe('none');
    await expect.poll(() => row(page, 'ebay').textContent()).toContain('not published');
    for (const type of TYPES) {
      emus[type].received.length = 0;
      emus[type].recording = true;
    }
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('planned-request').count(), { timeout: 15_000 }).toBeGreaterThan(4);
    const dry = (await call('POST', `/products/${shirt}/publish`, { channel_ids: [ch.ebay.channelId, ch.etsy.channelId], dry_run: true })).body;
    // Every planned request is on the page: its method, URL and label, and its body folded away.
    const shown = await page.getByTestId('planned-request').allTextContents();
    expect(shown).toHaveLength(dry.requests.length);
    dry.requests.forEach((r: { method: string; url: string; label: string }, i: number) => {
      expect(shown[i]).toContain(r.method);
      expect(shown[i]).toContain(r.url);
      expect(shown[i]).toContain(r.label);
    });
    const firstBody = dry.requests.find((r: { body: unknown }) => r.body && typeof r.body === 'object');
    const details = page.getByTestId('planned-request').nth(dry.requests.indexOf(firstBody)).locator('details');
    await details.locator('summary').click();
    expect(JSON.parse((await details.locator('pre').textContent())!)).toEqual(firstBody.body);
    expect(await page.getByTestId('planned-request').filter({ hasText: 'uploads' }).count()).toBe(
      dry.requests.filter((r: { upload?: unknown }) => r.upload).length,
    );
    // The cost per channel against its budget.
    const cost = await page.getByTestId('publish-cost-row').allTextContents();
    expect(cost).toHaveLength(2);
    for (const c of dry.channels) expect(cost.join('|')).toContain(`${c.api_calls}`);
    expect(await page.getByTestId('publish-problems').count()).toBe(0);
    for (const type of TYPES) {
      emus[type].recording = false;
      expect(published(type), type).toEqual([]);
    }
    expect((await call('GET', `/publications?product_id=${shirt}`)).body.data).toEqual([]);
    await page.getByTestId('publish-panel').scrollIntoViewIfNeeded();
    await shoot(page, 'publish-panel-1280');
    expect(errorsOf(page)).toEqual([]);
  });

  it('publishes: both states turn live with the platform ids, and the emulators hold the listings', async () => {
    const page = await open(`/products/${shirt}`);
    await expect.poll(() => page.getByTestId('publication').count(), { timeout: 15_000 }).toBe(2);
    await page.getByRole('button', { name: 'Publish to all' }).click();
    for (const type of TYPES) await expect.poll(() => row(page, type).getAttribute('data-state'), { timeout: 30_000 }).toBe('live');
    for (const type of TYPES) {
      const pub = (await call('GET', `/publications?product_id=${shirt}&channel_id=${ch[type].channelId}`)).body.data[0];
      expect(pub.state).toBe('live');
      expect(await row(page, type).getByTestId('external-id').textContent()).toContain(pub.external_id);
      await expect.poll(async () => (await emuSkus(type)).get('M'), { timeout: 15_000 }).toBe(5);
    }
    // Live: the next actions are Update and Delist.
    expect(await row(page, 'etsy').getByRole('button').allTextContents()).toEqual(['Update', 'Delist']);
    expect(errorsOf(page)).toEqual([]);
  });

  it('delists on one channel from its row', async () => {
    const page = await open(`/products/${shirt}`);
    await expect.poll(() => row(page, 'etsy').getAttribute('data-state'), { timeout: 15_000 }).toBe('live');
    await row(page, 'etsy').getByRole('button', { name: 'Delist' }).click();
    await expect.poll(() => row(page, 'etsy').getAttribute('data-state'), { timeout: 30_000 }).toBe('delisted');
    expect(await row(page, 'ebay').getAttribute('data-state')).toBe('live');
    expect((await call('GET', `/publications?product_id=${shirt}&channel_id=${ch.etsy.channelId}`)).body.data[0].state).toBe('delisted');
    expect(await row(page, 'etsy').getByRole('button').allTextContents()).toEqual(['Relist']);
  });

  it('names what Etsy refuses (no image) in the preview, and a real run shows the 422 reason and queues nothing', async () => {
    const bare = await product('Bare scarf', ['BARE-1'], { bare: true, stock: 2 });
    const page = await open(`/products/${bare}`);
    await expect.poll(() => page.getByTestId('publication').count(), { timeout: 15_000 }).toBe(2);
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('publish-problem').count(), { timeout: 15_000 }).toBe(1);
    const problem = (await page.getByTestId('publish-problem').textContent())!;
    expect(problem).toContain('My Etsy');
    expect(problem).toMatch(/image/);
    await page.getByRole('button', { name: 'Publish to all' }).click();
    await expect.poll(() => page.getByTestId('publish-error').count(), { timeout: 15_000 }).toBe(1);
    expect(await page.getByTestId('publish-error').textContent()).toMatch(/My Etsy.*image/s);
    expect((await call('GET', `/publications?product_id=${bare}`)).body.data).toEqual([]);
    await shoot(page, 'publish-panel-problems-1280');
  });

  it('fits a phone: the panel with a preview at 390 px without sideways scrolling', async () => {
    const page = await open(`/products/${shirt}`, 390);
    await expect.poll(() => page.getByTestId('publication').count(), { timeout: 15_000 }).toBe(2);
    await page.getByLabel('Include My Etsy').uncheck();
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('planned-request').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    await page.getByTestId('planned-request').first().locator('summary').click();
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    await page.getByTestId('publish-panel').scrollIntoViewIfNeeded();
    await shoot(page, 'publish-panel-390');
    expect(errorsOf(page)).toEqual([]);
  });
});

describe('bulk publishing from the product list', () => {
  it('previews, starts, pauses (progress stops), resumes and finishes; the list shows each product live', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) ids.push(await product(`Scarf ${n}`, [`SCARF-${n}`], { stock: 3 }));
    const page = await open('/products');
    await expect.poll(() => page.getByTestId('product-row').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(6);
    for (const n of [1, 2, 3, 4]) await page.getByLabel(`Select Scarf ${n}`).check();
    await page.getByLabel('Publish to My eBay').check();
    await page.getByLabel('Publish to My Etsy').check();
    for (const type of TYPES) {
      emus[type].received.length = 0;
      emus[type].recording = true;
    }
    await page.getByTestId('bulk-publish').getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('planned-request').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(16);
    const dry = (await call('POST', '/publications/bulk', { product_ids: ids, channel_ids: [ch.ebay.channelId, ch.etsy.channelId], dry_run: true })).body;
    expect(await page.getByTestId('planned-request').count()).toBe(dry.requests.length);
    expect(await page.getByTestId('publish-preview').textContent()).toContain(`${dry.requests_total} requests would be sent`);
    expect(await page.getByTestId('publish-problems').count()).toBe(0);
    for (const type of TYPES) {
      emus[type].recording = false;
      expect(published(type), type).toEqual([]);
    }

    // Slow platforms, so the job is still running when it is paused.
    emus.ebay.knobs.latencyMs = 300;
    emus.etsy.knobs.latencyMs = 300;
    await page.getByTestId('bulk-publish').getByRole('button', { name: 'Start' }).click();
    const job = page.getByTestId('job-progress');
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 15_000 }).toBe('running');
    await job.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 15_000 }).toBe('paused');
    // What was running finishes; nothing else starts: the bar stops short of the end.
    const progress = async () => Number(await job.locator('progress').getAttribute('value'));
    let held = -1;
    await expect
      .poll(
        async () => {
          const before = await progress();
          await new Promise((r) => setTimeout(r, 2000));
          const after = await progress();
          const stable = before === after && after === held;
          held = after;
          return stable;
        },
        { timeout: 40_000, interval: 10 },
      )
      .toBe(true);
    expect(held).toBeLessThan(8);
    expect(await job.getByTestId('job-counts').textContent()).toContain(`${8 - held} to go`);
    // The job is in the page's address: a reload still shows it, paused.
    expect(new URL(page.url()).searchParams.get('job')).toMatch(/^pbj_/);
    await page.reload();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 15_000 }).toBe('paused');
    expect(Number(await job.locator('progress').getAttribute('value'))).toBe(held);
    emus.ebay.knobs.latencyMs = 0;
    emus.etsy.knobs.latencyMs = 0;
    await job.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => job.getAttribute('data-status'), { timeout: 40_000 }).toBe('done');
    expect(await job.locator('progress').getAttribute('value')).toBe('8');
    expect(await job.getByTestId('job-counts').textContent()).toContain('8 done · 0 failed · 0 to go · 8 in all');
    // Each product's row shows it live on both marketplaces.
    for (const id of ids) {
      const badges = page.locator(`[data-product-id="${id}"] [data-testid=product-publications]`);
      await expect.poll(() => badges.textContent(), { timeout: 10_000 }).toBe('My eBay: liveMy Etsy: live');
    }
    const onEtsy = await emuSkus('etsy');
    expect([1, 2, 3, 4].every((n) => onEtsy.has(`SCARF-${n}`))).toBe(true);
    expect(errorsOf(page)).toEqual([]);
  }, 120_000);
});

describe('bulk over every active product', () => {
  it('previews all: the count matches the API and what Etsy would refuse is named', async () => {
    const page = await open('/products');
    await expect.poll(() => page.getByTestId('product-row').count(), { timeout: 15_000 }).toBeGreaterThanOrEqual(6);
    await page.getByLabel('Every active product').check();
    await page.getByLabel('Publish to My eBay').check();
    await page.getByLabel('Publish to My Etsy').check();
    await page.getByTestId('bulk-publish').getByRole('button', { name: 'Preview (dry run)' }).click();
    await expect.poll(() => page.getByTestId('publish-preview').count(), { timeout: 15_000 }).toBe(1);
    const dry = (await call('POST', '/publications/bulk', { all: true, channel_ids: [ch.ebay.channelId, ch.etsy.channelId], dry_run: true })).body;
    expect(dry.problems.length).toBeGreaterThan(0); // the bare scarf has no image for Etsy
    expect(await page.getByTestId('publish-problem').count()).toBe(dry.problems.length);
    expect(await page.getByTestId('publish-problems').textContent()).toMatch(/My Etsy.*image/s);
    expect(await page.getByTestId('publish-preview').textContent()).toContain(`${dry.requests_total} requests would be sent`);
    expect(errorsOf(page)).toEqual([]);
  });
});

describe('a publish the marketplace refuses', () => {
  it('turns the row to error with the reason, readably, and offers publishing again', async () => {
    const id = await product('Wool hat', ['HAT-1'], { stock: 2 });
    // Every token Etsy issued is revoked (the seller removed the app): our credentials are refused.
    const revoked = await fetch(`${emus.etsy.url}/_control/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"revoke":true}',
    });
    expect(revoked.status).toBeLessThan(300);
    const page = await open(`/products/${id}`);
    await expect.poll(() => page.getByTestId('publication').count(), { timeout: 15_000 }).toBe(2);
    await row(page, 'etsy').getByRole('button', { name: 'Publish' }).click();
    await expect.poll(() => row(page, 'etsy').getAttribute('data-state'), { timeout: 30_000 }).toBe('error');
    const pub = (await call('GET', `/publications?product_id=${id}&channel_id=${ch.etsy.channelId}`)).body.data[0];
    expect(pub.state).toBe('error');
    expect(await row(page, 'etsy').getByTestId('last-error').textContent()).toBe(pub.last_error);
    // Whichever finds the revoked grant first says so: the publish itself (Etsy refuses it), or a
    // poll or check just before it, which disconnects the channel the publish then finds.
    expect(pub.last_error).toMatch(/reconnect the channel|The channel is disconnected: connect it again/);
    expect(await row(page, 'etsy').getByRole('button').allTextContents()).toEqual(['Publish']);
    expect(await row(page, 'ebay').getAttribute('data-state')).toBe('none');
    expect(errorsOf(page)).toEqual([]);
  });
});
