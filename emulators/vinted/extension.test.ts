// What a Manifest V3 extension's service worker can do against the Vinted emulator in a real
// browser (Debian chromium via playwright-core, never a downloaded browser): a stub extension
// written by this test, with host permission for the emulator's origin, after the seller logged
// in through the emulator's own login form in a tab of the same profile. It answers the question
// the extension author needs answered: does `fetch(url, {credentials: 'include'})` from the
// service worker carry the HttpOnly SameSite=Lax session cookie? (Findings: index.ts header.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVintedEmulator, SESSION_COOKIE, type VintedEmulator } from './index.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let emu: VintedEmulator;
let dir: string;
let context: BrowserContext;
let sw: Worker;

const ctl = async (p: string, body: unknown) =>
  (await fetch(`${emu.url}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<any>;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  emu = createVintedEmulator({ knobs: { mutationIntervalMs: 0 } });
  await emu.listen(0);
  await ctl('/_control/accounts', { login: 'seller', password: 'pw-browser-1' });

  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vinted-ext-'));
  const ext = path.join(dir, 'ext');
  fs.mkdirSync(ext);
  fs.writeFileSync(
    path.join(ext, 'manifest.json'),
    JSON.stringify({
      manifest_version: 3,
      name: 'Vinted emulator probe',
      version: '0.0.1',
      background: { service_worker: 'sw.js' },
      // A match pattern without a port matches every port of the host.
      host_permissions: ['http://127.0.0.1/*'],
    }),
  );
  fs.writeFileSync(path.join(ext, 'sw.js'), `self.addEventListener('install', () => self.skipWaiting());\n`);
  context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--disable-extensions-except=${ext}`, `--load-extension=${ext}`],
  });
  sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
}, 120_000);

afterAll(async () => {
  await context?.close();
  await emu?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Vinted emulator from an MV3 extension service worker', () => {
  it('gets the HttpOnly SameSite=Lax session cookie on credentials:"include" fetches, reads the CSRF token and mutates', async () => {
    // The seller logs in through the real form in a tab.
    const page = await context.newPage();
    await page.goto(`${emu.url}/member/login`);
    await page.getByLabel('Email or username').fill('seller');
    await page.getByLabel('Password').fill('pw-browser-1');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${emu.url}/`);
    const jar = await context.cookies(emu.url);
    expect(jar.find((c) => c.name === SESSION_COOKIE)).toMatchObject({ httpOnly: true, sameSite: 'Lax', path: '/' });
    await page.close();

    const item = await ctl('/_control/accounts/seller/items', { title: 'Probe item', price: 3 });
    emu.requests.length = 0;

    const seen = await sw.evaluate(
      async ({ origin, itemId }) => {
        const out: Record<string, unknown> = { swOrigin: (globalThis as unknown as { location: { origin: string } }).location.origin };
        const get = async (p: string, credentials?: 'include' | 'omit') => {
          const r = await fetch(origin + p, credentials ? { credentials } : {});
          return { status: r.status, body: await r.text() };
        };
        out.include = await get('/api/v2/users/current', 'include');
        out.default = await get('/api/v2/users/current');
        out.omit = await get('/api/v2/users/current', 'omit');
        const home = await get('/', 'include');
        const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(home.body)?.[1] ?? null;
        out.csrfFound = csrf !== null;
        const hide = await fetch(`${origin}/api/v2/items/${itemId}/is_hidden`, {
          method: 'PUT',
          credentials: 'include',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf ?? '' },
          body: JSON.stringify({ is_hidden: true }),
        });
        out.hide = { status: hide.status, body: await hide.text() };
        // A multipart photo upload built with FormData, the way the extension will send it.
        const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 0xff, 0xd9]);
        const form = new FormData();
        form.set('photo[type]', 'item');
        form.set('photo[temp_uuid]', crypto.randomUUID());
        form.set('photo[file]', new Blob([jpeg], { type: 'image/jpeg' }), 'photo.jpg');
        const photo = await fetch(`${origin}/api/v2/photos`, { method: 'POST', credentials: 'include', headers: { 'x-csrf-token': csrf ?? '' }, body: form });
        out.photo = { status: photo.status, body: await photo.text() };
        return out;
      },
      { origin: emu.url, itemId: item.id },
    );

    expect(String(seen.swOrigin)).toMatch(/^chrome-extension:\/\/[a-p]{32}$/);
    const include = seen.include as { status: number; body: string };
    expect(include.status).toBe(200);
    expect(JSON.parse(include.body).user.login).toBe('seller');
    // Chromium 156 also sends it with fetch's default credentials ('same-origin'): a request to a
    // host the extension has permission for is treated as same-origin. Only 'omit' leaves it out.
    expect((seen.default as { status: number }).status).toBe(200);
    expect((seen.omit as { status: number }).status).toBe(401);
    expect(seen.csrfFound).toBe(true);
    expect((seen.hide as { status: number }).status).toBe(200);
    expect(JSON.parse((seen.photo as { body: string }).body)).toMatchObject({ id: expect.any(Number), url: expect.stringContaining('/photos/') });

    // What the emulator received: the cookie unless 'omit', the Origin the worker sends. The
    // emulator sends no CORS headers: host permission is enough to read the answers.
    const log = emu.requests.map((r) => ({ method: r.method, url: r.url, status: r.status, cookie: r.session_cookie, origin: r.origin, csrf: r.csrf }));
    expect(log.map((r) => [r.method, r.url, r.status, r.cookie])).toEqual([
      ['GET', '/api/v2/users/current', 200, true],
      ['GET', '/api/v2/users/current', 200, true],
      ['GET', '/api/v2/users/current', 401, false],
      ['GET', '/', 200, true],
      ['PUT', `/api/v2/items/${item.id}/is_hidden`, 200, true],
      ['POST', '/api/v2/photos', 200, true],
    ]);
    // GETs carry no Origin header; mutations carry the extension's own origin (not the marketplace's).
    expect(log.slice(0, 4).map((r) => r.origin)).toEqual([null, null, null, null]);
    expect(log[4]).toMatchObject({ origin: seen.swOrigin, csrf: 'ok' });
    expect(emu.requests[5]!.content_type).toBe('multipart/form-data');
  });

  it('a login form posted from the service worker stores its Set-Cookie in the profile', async () => {
    await ctl('/_control/accounts/seller/logout', {});
    const seen = await sw.evaluate(async (origin) => {
      const before = (await fetch(`${origin}/api/v2/users/current`, { credentials: 'include' })).status;
      const login = await fetch(`${origin}/member/login`, {
        method: 'POST',
        credentials: 'include',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'login=seller&password=pw-browser-1',
      });
      const after = (await fetch(`${origin}/api/v2/users/current`, { credentials: 'include' })).status;
      return { before, login: login.status, after };
    }, emu.url);
    // The redirect to / is followed; the cookie set on the way is kept and sent afterwards.
    expect(seen).toEqual({ before: 401, login: 200, after: 200 });
    expect((await context.cookies(emu.url)).filter((c) => c.name === SESSION_COOKIE)).toHaveLength(1);
  });
});
