// The interactive reference at /docs, in a real browser (Debian's chromium): Swagger UI offers each
// OpenAPI document the API serves (DOCUMENTS in src/http/openapi.ts) in its top bar's selector,
// renders every tag of each, and "Try it out" calls the real API.
//
// Swagger UI (5.3x) virtualizes the operation list once a document has 150 rows or more (tags plus
// operations): only the rows near the viewport are in the page, so counting `.opblock-tag` at the
// top sees a few tags only. That is what "/docs renders only three tags" was when POST
// /billing/portal made the one document 150 rows (124 operations + 25 tags + 1); nothing was wrong
// with the document. So the tags are collected while scrolling to the end, as a reader sees them,
// and a document of 150+ rows (all three joined, served in place of one) shows this survives
// virtualization.
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOCUMENT_NAMES, DOCUMENTS, mergeDocuments } from '../../src/http/openapi.ts';
import { startHarness, type Harness } from '../helpers/stockclerk.ts';

// What the page functions below use of the browser's window (the suite is typed for Node).
declare const window: { scrollY: number; innerHeight: number; scrollTo(x: number, y: number): void; scrollBy(x: number, y: number): void };

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

/** Every tag Swagger UI shows for the loaded document, scrolling from top to bottom. */
async function tagsShown(page: Page, expected: string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  await page.evaluate(() => window.scrollTo(0, 0));
  for (let i = 0; i < 400; i++) {
    for (const t of await page.$$eval('.opblock-tag', (els) => els.map((e) => e.getAttribute('data-tag') ?? ''))) seen.add(t);
    if (expected.every((t) => seen.has(t))) break;
    const atEnd = await page.evaluate(() => {
      const before = window.scrollY;
      window.scrollBy(0, window.innerHeight / 2);
      return window.scrollY === before;
    });
    await page.waitForTimeout(atEnd ? 500 : 50);
    if (atEnd && i > 20) break;
  }
  return seen;
}

describe('/docs', () => {
  it('offers every document and renders each one\u2019s tags, and tries one operation against the API', async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('requestfailed', (r) => failed.push(r.url()));
    // The page runs under the served Content-Security-Policy: nothing it needs may be refused.
    const refused: string[] = [];
    const errors: string[] = [];
    page.on('console', (m) => {
      if (/Content.Security.Policy/i.test(m.text())) refused.push(m.text());
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    const res = await page.goto(`${h.url}/docs`);
    expect(res!.headers()['content-security-policy']).toContain("script-src 'self'");
    // The selector lists the documents, the integrators' first and selected.
    const select = page.locator('select#select');
    await select.waitFor({ timeout: 20_000 });
    expect(await select.locator('option').allInnerTexts()).toEqual(DOCUMENT_NAMES.map((n) => DOCUMENTS[n].label));
    for (const name of DOCUMENT_NAMES) {
      const { path, label, title } = DOCUMENTS[name];
      await select.selectOption({ label });
      await page.locator('.info .title', { hasText: title }).waitFor({ timeout: 20_000 });
      const doc = (await (await fetch(`${h.url}${path}`)).json()) as { tags: Array<{ name: string }> };
      const expected = doc.tags.map((t) => t.name);
      expect(expected.length, name).toBeGreaterThan(0);
      await page.locator('.opblock-tag').first().waitFor({ timeout: 20_000 });
      expect([...(await tagsShown(page, expected))].sort(), name).toEqual([...expected].sort());
    }
    // Open GET /api/v1/openapi.json in the integrators' document and execute it from the page.
    await select.selectOption({ label: DOCUMENTS.api.label });
    await page.locator('.info .title', { hasText: DOCUMENTS.api.title }).waitFor({ timeout: 20_000 });
    await page.evaluate(() => window.scrollTo(0, 0));
    const op = page.locator('#operations-meta-getOpenapiJson');
    for (let i = 0; i < 100 && !(await op.count()); i++) {
      await page.evaluate(() => window.scrollBy(0, window.innerHeight / 2));
      await page.waitForTimeout(50);
    }
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    await op.locator('button.execute').click();
    await op.locator('.live-responses-table tr.response .response-col_status').first().waitFor({ timeout: 10_000 });
    expect(await op.locator('.live-responses-table tr.response .response-col_status').first().innerText()).toContain('200');
    expect(failed).toEqual([]);
    expect(refused).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('shows every tag of a document long enough for Swagger UI to virtualize its list (150+ rows)', async () => {
    const docs = await Promise.all(DOCUMENT_NAMES.map(async (n) => (await (await fetch(`${h.url}${DOCUMENTS[n].path}`)).json()) as Record<string, any>));
    const all = mergeDocuments(docs) as { tags: Array<{ name: string }>; paths: Record<string, object> };
    const rows = all.tags.length + Object.values(all.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    expect(rows).toBeGreaterThanOrEqual(150);
    const page = await browser.newPage();
    await page.route(`**${DOCUMENTS.operators.path}`, (route) => route.fulfill({ json: { ...all, info: { ...(all as any).info, title: 'All joined' } } }));
    await page.goto(`${h.url}/docs`);
    const select = page.locator('select#select');
    await select.waitFor({ timeout: 20_000 });
    await select.selectOption({ label: DOCUMENTS.operators.label });
    await page.locator('.info .title', { hasText: 'All joined' }).waitFor({ timeout: 20_000 });
    await page.locator('.opblock-tag').first().waitFor({ timeout: 20_000 });
    const expected = all.tags.map((t) => t.name);
    // Virtualized: the first screen holds only some of the tags ...
    expect((await page.$$eval('.opblock-tag', (els) => els.length)) < expected.length).toBe(true);
    // ... and scrolling shows them all.
    expect([...(await tagsShown(page, expected))].sort()).toEqual([...expected].sort());
  });
});
