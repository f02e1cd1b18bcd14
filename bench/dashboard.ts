// The dashboard: production bundle size (initial JS, gzip -9, as the page references it) and, in
// Debian chromium with 10,000 items, the time from typing a search to the matching row shown.
// The 10,000 items and their stock are seeded in two statements (createItems, one ledger batch).
// Timing is taken inside the page: from the search box's input event to the moment the DOM holds
// the expected row and count (a MutationObserver), so browser automation overhead is not counted.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import { buildWeb } from '../bin/build-web.ts';
import { createItems } from '../src/db/tenants.ts';
import { recordMovements } from '../src/ledger/ledger.ts';
import { progress, startBenchEnv } from './env.ts';
import { percentile, whole } from './stats.ts';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Initial JS: the scripts and module preloads index.html names, each gzipped at level 9. */
export function bundleSize(): { initial_js_gzip_kb: number; initial_js_kb: number; all_js_gzip_kb: number; initial_files: number } {
  const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
  const refs = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="([^"]+\.js)"/g)].map((m) => m[1]!);
  const size = (files: string[]) => {
    let raw = 0;
    let gz = 0;
    for (const f of files) {
      const buf = fs.readFileSync(path.join(DIST, f.replace(/^\//, '')));
      raw += buf.length;
      gz += gzipSync(buf, { level: 9 }).length;
    }
    return { raw, gz };
  };
  const initial = size(refs);
  const all = size(
    fs
      .readdirSync(path.join(DIST, 'assets'))
      .filter((f) => f.endsWith('.js'))
      .map((f) => `assets/${f}`),
  );
  const kb = (n: number) => Math.round((n / 1024) * 10) / 10;
  return { initial_js_gzip_kb: kb(initial.gz), initial_js_kb: kb(initial.raw), all_js_gzip_kb: kb(all.gz), initial_files: refs.length };
}

export async function benchDashboard(opts: { items: number; searches: number }): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  await buildWeb({ quiet: true });
  const bundle = bundleSize();
  progress(`bundle: ${JSON.stringify(bundle)}`);
  const env = await startBenchEnv();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const url = env.sc.url!;
    const reg = await fetch(`${url}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ business_name: 'Big Shop', email: `bench-${Date.now()}@example.com`, password: 'bench-password-1' }),
    }).then((r) => r.json() as Promise<{ token: string; tenant: { id: string }; location: { id: string } }>);
    const names = ['Sandwich', 'Wrap', 'Soup', 'Salad', 'Coffee', 'Cake', 'Juice', 'Crisps', 'Scone', 'Brownie'];
    const seedStart = Date.now();
    const ids = await createItems(
      env.sc.ctx.db,
      reg.tenant.id,
      Array.from({ length: opts.items }, (_, i) => ({
        sku: `SKU-${String(i).padStart(5, '0')}`,
        name: `${names[i % names.length]} no. ${i}`,
        lowStockThreshold: 5,
      })),
    );
    await recordMovements(
      env.sc.ctx.db,
      reg.tenant.id,
      ids.map((itemId, i) => ({ itemId, locationId: reg.location.id, qtyDelta: 1 + (i % 97), reason: 'receipt' as const })),
    );
    const seedMs = Date.now() - seedStart;
    progress(`seeded ${opts.items} items with stock in ${seedMs} ms`);

    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await ctx.addInitScript(
      (token) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('stockclerk.token', token),
      reg.token,
    );
    const page = await ctx.newPage();
    const loadStart = Date.now();
    await page.goto(`${url}/items`);
    await page.waitForSelector('[data-testid="item-row"]');
    await page.waitForFunction((n) => (globalThis as any).document.querySelector('[data-testid="items-count"]')?.textContent === `${n} items`, opts.items);
    const firstRowsMs = Date.now() - loadStart;
    const rowsInDom = await page.locator('[data-testid="item-row"]').count();

    const timings: number[] = [];
    for (let k = 0; k < opts.searches; k++) {
      // Alternate a SKU and a product name (the name may also match one longer number).
      const unique = k % 2 === 0;
      const n = (k * 7919 + 13) % opts.items;
      const term = unique ? `SKU-${String(n).padStart(5, '0')}` : `${names[n % names.length]} no. ${n}`;
      const expectSku = `SKU-${String(n).padStart(5, '0')}`;
      await page.evaluate(
        ({ expectSku }) => {
          const g = globalThis as any;
          const input = g.document.querySelector('input[type="search"]');
          g.__search = { start: 0, end: 0 };
          input.addEventListener('input', () => (g.__search.start = g.performance.now()), { once: true, capture: true });
          const done = () => {
            const rows = g.document.querySelectorAll('[data-testid="item-row"]');
            return rows.length >= 1 && rows[0].getAttribute('data-sku') === expectSku && rows.length <= 2;
          };
          const obs = new g.MutationObserver(() => {
            if (g.__search.start && !g.__search.end && done()) {
              g.__search.end = g.performance.now();
              obs.disconnect();
            }
          });
          obs.observe(g.document.body, { childList: true, subtree: true, characterData: true, attributes: true });
        },
        { expectSku },
      );
      await page.locator('input[type="search"]').fill(term);
      await page.waitForFunction(() => (globalThis as any).__search.end > 0, undefined, { timeout: 10_000 });
      const ms = await page.evaluate(() => (globalThis as any).__search.end - (globalThis as any).__search.start);
      timings.push(ms);
      // Back to the full list before the next search.
      await page.locator('input[type="search"]').fill('');
      await page.waitForFunction((n) => (globalThis as any).document.querySelector('[data-testid="items-count"]')?.textContent === `${n} items`, opts.items);
    }
    progress(`search timings (ms): ${timings.map((t) => Math.round(t)).join(', ')}`);
    return {
      ...bundle,
      items: opts.items,
      seed_ms: seedMs,
      items_page_first_rows_ms: firstRowsMs,
      rows_in_dom: rowsInDom,
      searches: timings.length,
      search_to_result_p50_ms: whole(percentile(timings, 50)),
      search_to_result_p95_ms: whole(percentile(timings, 95)),
      search_to_result_max_ms: whole(Math.max(...timings)),
      search_target_ms: 300,
      wall_s: Math.round((Date.now() - t0) / 1000),
      db: env.db.kind,
    };
  } finally {
    await browser.close();
    await env.stop();
  }
}
