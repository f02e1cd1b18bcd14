// Pairing a browser extension from the dashboard (issue 14), in Debian's chromium: a channel worked
// through the seller's browser shows "waiting for the extension" on the Channels page and its own;
// "Pair an extension" shows the token once with the address to paste; an extension that says hello
// with it turns the channel "extension connected"; Revoke disconnects that extension at once
// (its socket is closed with 4401). The extension here is the protocol spoken from the test over
// `ws` (docs/extension-protocol.md, section 1). Screenshots at 1280 and 390 px.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ensureWebBuilt, errorsOf, launchBrowser, pageAs, shoot } from '../helpers/browser.ts';
import { completeExtensionJob, enqueueExtensionJob } from '../../src/services/extension-jobs.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let browser: Browser;
let token: string;
let channelId: string;
const call = (method: string, p: string, body?: unknown) => api(h.url, method, `/api/v1${p}`, { token, body });

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness();
  const t = await registerTenant(h.url, 'Vintage finds');
  token = t.token;
  const made = await call('POST', '/channels', { type: 'vinted', name: 'Vinted UK', base_url: 'https://www.vinted.co.uk', credentials: {} });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  channelId = made.body.id;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await h?.stop();
});

async function open(path: string, width = 1280): Promise<Page> {
  const page = await pageAs(browser, token, width);
  await page.goto(h.url + path);
  return page;
}
const section = (page: Page) => page.getByRole('region', { name: 'Browser extension' });

/** Says hello with the token; resolves with the socket once welcomed, and records how it closes. */
async function extension(secret: string): Promise<{ ws: WebSocket; closed: () => number | null }> {
  const ws = new WebSocket(h.url.replace(/^http/, 'ws') + '/api/v1/extension/socket');
  let code: number | null = null;
  let welcomed = false;
  ws.on('close', (c) => (code = c));
  ws.on('message', (d) => {
    if (JSON.parse(d.toString()).type === 'welcome') welcomed = true;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ type: 'hello', token: secret, version: 'test' }));
  // The status goes right behind the hello, before the welcome: the socket takes messages in order.
  ws.send(JSON.stringify({ type: 'status', logged_in: true, account: 'vintage-seller' }));
  await eventually(() => welcomed || code !== null, 5_000, 'welcome');
  expect({ welcomed, code }).toEqual({ welcomed: true, code: null });
  return { ws, closed: () => code };
}

describe('pairing a browser extension', () => {
  it('the channel waits for an extension; pairing shows the token once; a connected extension shows; revoking disconnects it', async () => {
    const list = await open('/channels');
    const card = list.locator('[data-testid=channel-card]', { hasText: 'Vinted UK' });
    await expect.poll(() => card.getByText('waiting for the extension').count(), { timeout: 15_000 }).toBe(1);
    await card.click();

    const page = list;
    await expect.poll(() => section(page).getByText('waiting for the extension').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => section(page).getByText('No extension paired yet.').count()).toBe(1);
    // Nothing to paste and no webhooks: the page does not ask for credentials.
    expect(await page.getByRole('button', { name: 'Edit credentials' }).count()).toBe(0);
    expect(await page.getByText('Webhook URL').count()).toBe(0);
    await section(page).getByLabel('Name this browser').fill('Shop laptop');
    await section(page).getByRole('button', { name: 'Pair an extension' }).click();
    const shown = page.getByTestId('token-value');
    await expect.poll(() => shown.count(), { timeout: 10_000 }).toBe(1);
    const secret = await shown.innerText();
    expect(secret).toMatch(/^sce_/);
    expect(await page.getByTestId('issued-token').innerText()).toContain(h.url);
    await expect.poll(() => section(page).getByRole('cell', { name: 'Shop laptop' }).count()).toBe(1);
    await shoot(page, 'extension-pairing-1280');

    // The extension pairs with what was shown: the page (reloaded) says it is connected, and logged in.
    const ext = await extension(secret);
    await eventually(async () => (await call('GET', `/channels/${channelId}`)).body.extension?.connected === true, 10_000, 'presence');
    await page.reload();
    await expect.poll(() => section(page).getByText('extension connected').count(), { timeout: 15_000 }).toBe(1);
    await expect.poll(() => section(page).getByText('logged in as vintage-seller').count(), { timeout: 10_000 }).toBe(1);
    // Shown once: after a reload only its first characters remain.
    expect(await page.getByTestId('token-value').count()).toBe(0);
    expect(await page.content()).not.toContain(secret);

    const narrow = await open(`/channels/${channelId}`, 390);
    await expect.poll(() => section(narrow).getByText('extension connected').count(), { timeout: 15_000 }).toBe(1);
    await shoot(narrow, 'extension-pairing-390');

    page.once('dialog', (d) => void d.accept());
    await section(page).getByRole('button', { name: 'Revoke' }).click();
    await expect.poll(() => section(page).getByText('Revoked "Shop laptop".').count(), { timeout: 10_000 }).toBe(1);
    await eventually(() => ext.closed() === 4401, 10_000, 'the extension to be disconnected (4401)');
    await expect.poll(() => section(page).getByText('No extension paired yet.').count(), { timeout: 10_000 }).toBe(1);
    expect((await call('GET', `/channels/${channelId}`)).body.extension.connected).toBe(false);

    // A job Vinted refused: the page says so, in Vinted's words, until a day has passed.
    const tenantId = (await call('GET', '/tenant')).body.id as string;
    const job = await enqueueExtensionJob(h.sc.ctx.db, tenantId, channelId, { kind: 'update', key: 'refused-1', payload: { item_id: '1' }, awaited: false });
    await h.sc.ctx.db.query(`update extension_jobs set status = 'sent' where id = $1`, [job.id]);
    expect(
      await completeExtensionJob(h.sc.ctx.db, tenantId, channelId, job.id, {
        ok: false,
        error: { kind: 'rejected', message: 'Vinted refused editing item 1 (400)' },
      }),
    ).toBe(true);
    await page.reload();
    await expect
      .poll(() => section(page).getByTestId('extension-failures').innerText(), { timeout: 15_000 })
      .toContain('1 job failed in the last day; the latest: Vinted refused editing item 1 (400)');
    expect(errorsOf(page)).toEqual([]);
    expect(errorsOf(narrow)).toEqual([]);
  }, 90_000);
});
