// Real-browser helpers: Debian's chromium driven by playwright-core (never a downloaded browser),
// the dashboard built before the server starts, and a recorder of everything the page received.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildWeb } from '../../bin/build-web.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * Where the page screenshots go: docs/screenshots/ when UPDATE_SCREENSHOTS=1 (refreshing the
 * README's pictures is a choice, committed on purpose), else test-artifacts/screenshots/ (not
 * committed), so an ordinary test run leaves the working tree as it found it.
 */
export const SCREENSHOTS = path.resolve(
  import.meta.dirname,
  process.env.UPDATE_SCREENSHOTS === '1' ? '../../docs/screenshots' : '../../test-artifacts/screenshots',
);

/** Builds web/dist when stale (the server only serves what exists when it starts). */
export async function ensureWebBuilt(): Promise<void> {
  await buildWeb({ quiet: true });
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
}

export interface Recorder {
  /** Every /api response body and every WebSocket frame the page received, in order. */
  bodies: string[];
  frames: string[];
  text(): string;
}

/** Records every API response body and live frame a context's pages receive. */
export function record(context: BrowserContext): Recorder {
  const rec: Recorder = {
    bodies: [],
    frames: [],
    text: () => rec.bodies.join('\n') + '\n' + rec.frames.join('\n'),
  };
  const watch = (page: Page) => {
    page.on('response', async (res) => {
      if (!new URL(res.url()).pathname.startsWith('/api/')) return;
      try {
        rec.bodies.push(await res.text());
      } catch {
        // no body (204, or the page navigated away): nothing to record
      }
    });
    page.on('websocket', (ws) => ws.on('framereceived', (f) => rec.frames.push(typeof f.payload === 'string' ? f.payload : f.payload.toString('utf8'))));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return rec;
}

/** The viewport, or with `fullPage` the whole page (a long public page shown top to bottom). */
export async function shoot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: opts.fullPage ?? false });
}

const pageErrors = new WeakMap<Page, string[]>();

/** A new page signed in with `token` (where the dashboard keeps it), `width` wide; its uncaught errors are kept for errorsOf(). */
export async function pageAs(browser: Browser, token: string, width = 1280): Promise<Page> {
  const ctx = await browser.newContext({ viewport: { width, height: width > 500 ? 860 : 844 }, deviceScaleFactor: 1 });
  await ctx.addInitScript((tk) => (globalThis as unknown as { localStorage: Storage }).localStorage.setItem('stockclerk.token', tk), token);
  const page = await ctx.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  pageErrors.set(page, errors);
  return page;
}

/** The uncaught errors a page made by pageAs() has thrown so far. */
export const errorsOf = (page: Page): string[] => pageErrors.get(page) ?? [];

/** Pixels the page is wider than its viewport (0: nothing scrolls sideways). */
export const overflow = (page: Page): Promise<number> =>
  page.evaluate(() => {
    const el = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
    return el.scrollWidth - el.clientWidth;
  });
