// The interactive reference at /docs, in a real browser (Debian's chromium): Swagger UI loads the
// served OpenAPI document and lists the operations, and "Try it out" calls the real API.
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let browser: Browser;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

describe('/docs', () => {
  it('renders every tag and operation of the document, and tries one against the API', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    // The page runs under the served Content-Security-Policy: nothing it needs may be refused.
    const refused: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) refused.push(m.text());
    });
    const res = await page.goto(`${h.url}/docs`);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    // Swagger UI renders the tags in batches: wait for the last one (on a busy machine the first
    // batch alone was seen once).
    await page.waitForSelector('.opblock-tag[data-tag="webhooks"], .opblock-tag[data-tag="users"]', { timeout: 20_000 });
    const tags = await page.$$eval('.opblock-tag', (els) => els.map((e) => e.getAttribute('data-tag')));
    for (const t of ['items', 'locations', 'stock', 'api-keys', 'audit', 'reports', 'sales-orders', 'reservations']) expect(tags).toContain(t);
    expect(await page.locator('.opblock').count()).toBeGreaterThan(40);
    // Open GET /api/v1/openapi.json and execute it from the page.
    const op = page.locator('#operations-meta-getOpenapiJson');
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    await op.locator('.live-responses-table tr.response .response-col_status').first().waitFor({ timeout: 10_000 });
    expect(await op.locator('.live-responses-table tr.response .response-col_status').first().innerText()).toContain('200');
    expect(failed).toEqual([]);
    expect(refused).toEqual([]);
  });
});
