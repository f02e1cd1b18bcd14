// Vinted end to end in Debian's chromium (issue 14): the built extension (extension/dist) is loaded
// into a real browser, paired with a tenant's Vinted channel through its options page, and does
// the jobs StockClerk queues against the Vinted emulator in the seller's session (a cookie the
// emulator issued, put into the browser as a login would). A product published from the API
// appears on Vinted; a sale there becomes one ledger movement; with the browser closed, a job
// waits in the queue and runs once the browser (same profile) is back. On a failure to go live the
// error names the queued jobs and what the emulator saw (a paced write refused, a missing cookie).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildExtension, EXTENSION_DIST } from '../../bin/build-extension.ts';
import { createVintedEmulator, type VintedEmulator } from '../../emulators/vinted/index.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { client, type Call } from '../api/support.ts';
import { CHROMIUM } from '../helpers/browser.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let vinted: VintedEmulator;
let call: Call;
let channelId: string;
let productId: string;
let itemId: string;
let secret: string;
let token: string;
let tenantId: string;
let locationId: string;
let profile: string;
let browser: BrowserContext | null = null;
const SELLER = { login: 'tweedseller', password: 'not-a-real-password-1' };

const control = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(`${vinted.url}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(r.status, `${method} ${p}`).toBeLessThan(300);
  return r.json();
};
const onVinted = async () => ((await control('GET', `/_control/accounts/${SELLER.login}/state`)) as { items: Array<Record<string, unknown>> }).items;
const publication = async () => (await call('GET', `/publications?product_id=${productId}&channel_id=${channelId}`)).body.data[0];
const onHand = async () => {
  const { rows } = await h.sc.ctx.db.query<{ on_hand: number }>(`select coalesce(sum(on_hand), 0)::int as on_hand from stock_levels where item_id = $1`, [
    itemId,
  ]);
  return rows[0]!.on_hand;
};

/** Chromium with the extension loaded, on a profile kept across launches, logged in to Vinted. */
async function launch(): Promise<BrowserContext> {
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      `--disable-extensions-except=${EXTENSION_DIST}`,
      `--load-extension=${EXTENSION_DIST}`,
    ],
  });
  const session = (await control('POST', '/_control/sessions', { login: SELLER.login })) as { cookie_name: string; cookie_value: string };
  await ctx.addCookies([{ name: session.cookie_name, value: session.cookie_value, url: vinted.url, httpOnly: true, sameSite: 'Lax' }]);
  return ctx;
}

async function optionsPage(ctx: BrowserContext): Promise<Page> {
  const worker = ctx.serviceWorkers()[0] ?? (await ctx.waitForEvent('serviceworker', { timeout: 15_000 }));
  const id = new URL(worker.url()).host;
  const page = await ctx.newPage();
  await page.goto(`chrome-extension://${id}/options.html`);
  return page;
}

beforeAll(async () => {
  await buildExtension();
  expect(fs.existsSync(path.join(EXTENSION_DIST, 'manifest.json'))).toBe(true);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-extension-profile-'));
  // Vinted's pace as the emulator guesses it, shortened: a mutation every 100 ms.
  vinted = createVintedEmulator({ knobs: { mutationIntervalMs: 100 } });
  await vinted.listen(0);
  await control('POST', '/_control/accounts', SELLER);
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  const t = await registerTenant(h.url, 'Vintage Finds');
  ({ token, tenantId, locationId } = t);
  call = client(h.url, t.token);
  // The channel's base_url is the Vinted site: here the emulator (the extension may call it and nothing else).
  const made = await call('POST', '/channels', { type: 'vinted', name: 'Vinted', base_url: vinted.url, credentials: {} });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  channelId = made.body.id;
  const p = await call('POST', '/products', { title: 'Tweed jacket', description: 'Harris tweed, size M.', price_minor: 4500, variants: [{ sku: 'TWEED-1' }] });
  productId = p.body.id;
  itemId = p.body.variants[0].item_id;
  const img = await fetch(`${h.url}/api/v1/products/${productId}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${t.token}` },
    body: swatchPng([120, 90, 60], [230, 230, 230]),
  });
  expect(img.status).toBe(201);
  await recordMovements(h.sc.ctx.db, t.tenantId, [{ itemId, locationId: t.locationId, qtyDelta: 2, reason: 'receipt' }]);
  secret = (await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'Test browser' })).body.token;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
  await vinted?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
});

describe('Vinted through the browser extension', () => {
  it('pairs through its options page and reports the Vinted session', async () => {
    browser = await launch();
    const page = await optionsPage(browser);
    await page.locator('#url').fill(h.url);
    await page.locator('#token').fill(secret);
    await page.locator('#save').click();
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.extension?.connected === true, 20_000, 'the extension to connect');
    await eventually(
      async () => (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data[0]?.status?.logged_in === true,
      20_000,
      'the extension to report the Vinted login',
    );
    await expect.poll(() => page.locator('#connection').getAttribute('data-state'), { timeout: 10_000 }).not.toBe('unpaired');
  }, 60_000);

  it('publishes a product to Vinted from the API: the item is there, with its photo, and the listing is live', async () => {
    const res = await call('POST', `/products/${productId}/publish`, { channel_ids: [channelId] });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await eventually(async () => (await publication())?.state === 'live', 60_000, 'the publication to go live').catch(async (err) => {
      const { rows } = await h.sc.ctx.db.query(`select kind, status, attempts, error, result from extension_jobs order by created_at`);
      const reqs = await control('GET', '/_control/requests');
      throw new Error(
        `${err.message}: jobs ${JSON.stringify(rows)}; publication ${JSON.stringify(await publication())}; vinted saw ${JSON.stringify(reqs).slice(0, 3000)}`,
      );
    });
    const items = await onVinted();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ title: 'Tweed jacket', status: 'active' });
    expect(String((await publication()).external_id)).toBe(String(items[0]!.id));
  }, 90_000);

  it('a sale on Vinted becomes one movement', async () => {
    const before = await onHand();
    const [item] = await onVinted();
    await control('POST', `/_control/accounts/${SELLER.login}/sale`, { item_id: item!.id });
    await eventually(async () => (await onHand()) === before - 1, 60_000, 'the sale to reach the ledger');
    // Read again at later polls, it still counts once.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await onHand()).toBe(before - 1);
    const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from stock_movements where item_id = $1 and reason = 'sale'`, [itemId]);
    expect(rows[0].n).toBe(1);
  }, 90_000);

  it('with the browser closed, a job waits; it runs once the browser is back', async () => {
    await browser!.close();
    browser = null;
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.extension?.connected === false, 90_000, 'the extension to be gone');
    // A second product published now: nobody to run its job, so it waits in the queue.
    const second = await call('POST', '/products', { title: 'Wool scarf', description: 'Lambswool.', price_minor: 1800, variants: [{ sku: 'SCARF-1' }] });
    const img = await call('GET', `/products/${productId}`);
    const image = img.body.images[0];
    const copy = await fetch(image.url);
    const up = await fetch(`${h.url}/api/v1/products/${second.body.id}/images`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
      body: Buffer.from(await copy.arrayBuffer()),
    });
    expect(up.status).toBe(201);
    await recordMovements(h.sc.ctx.db, tenantId, [{ itemId: second.body.variants[0].item_id, locationId, qtyDelta: 1, reason: 'receipt' }]);
    expect((await call('POST', `/products/${second.body.id}/publish`, { channel_ids: [channelId] })).status).toBe(202);
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.extension.queued_jobs > 0, 20_000, 'a job to wait');
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await onVinted()).map((i) => i.title)).toEqual(['Tweed jacket']);

    browser = await launch();
    await eventually(async () => (await onVinted()).some((i) => i.title === 'Wool scarf'), 90_000, 'the waiting publish to run on Vinted');
    expect((await onVinted()).filter((i) => i.title === 'Wool scarf')).toHaveLength(1);
  }, 240_000);
});
