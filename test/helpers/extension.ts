// The StockClerk browser extension in Debian's chromium: built from extension/ (bin/build-extension.ts),
// loaded unpacked into a persistent profile (extensions need one), its id read from the service
// worker's URL, and paired through its own options page as a seller would.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildExtension, EXTENSION_DIST } from '../../bin/build-extension.ts';
import { CHROMIUM } from './browser.ts';

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  profile: string;
  options(): Promise<Page>;
  close(): Promise<void>;
}

export function newProfile(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'stockclerk-ext-profile-'));
}

/** Chromium with the built extension; the same `profile` again after a close is the same browser coming back (pairing and cookies kept). */
export async function launchWithExtension(given?: string): Promise<ExtensionBrowser> {
  const profile = given ?? newProfile();
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  await buildExtension();
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    // New headless (plain --headless in Chromium 156) runs extensions; the old headless shell does not.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      `--disable-extensions-except=${EXTENSION_DIST}`,
      `--load-extension=${EXTENSION_DIST}`,
    ],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  const extensionId = new URL(worker.url()).host;
  return {
    context,
    extensionId,
    profile,
    async options() {
      const page = await context.newPage();
      const url = `chrome-extension://${extensionId}/options.html`;
      try {
        await page.goto(url);
      } catch (err) {
        // The extension opens its options page on install (a seller's first sight of it); Chromium
        // may steer that into this fresh tab, which then lands on the same page by another navigation.
        if (!String(err).includes('interrupted by another navigation')) throw err;
        await page.waitForURL(url);
      }
      await page.waitForLoadState('load');
      return page;
    },
    async close() {
      await context.close();
      // A profile made here is this browser's alone; one passed in outlives it (the caller removes it).
      if (!given) fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Pastes the StockClerk address and the token into the options page and saves. */
export async function pair(page: Page, stockclerkUrl: string, token: string): Promise<void> {
  await page.fill('#url', stockclerkUrl);
  await page.fill('#token', token);
  await page.click('#save');
}
