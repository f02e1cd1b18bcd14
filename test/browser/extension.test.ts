// The StockClerk extension (extension/) in Debian's chromium, paired with a real StockClerk: the
// seller pastes the address and a token issued over the API into the extension's options page; the
// channel's token list shows it connected and the page shows the Vinted login state it reported
// (the Vinted emulator, no session: logged out); Unpair disconnects; a revoked token is refused and
// the page says so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVintedEmulator, type VintedEmulator } from '../../emulators/vinted/index.ts';
import { launchWithExtension, pair, type ExtensionBrowser } from '../helpers/extension.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let emu: VintedEmulator;
let ext: ExtensionBrowser;
let token: string;
let channelId: string;
const call = (method: string, p: string, body?: unknown) => api(h.url, method, `/api/v1${p}`, { token, body });
const tokenRow = async (id: string) => (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data.find((t: { id: string }) => t.id === id);

beforeAll(async () => {
  h = await startHarness();
  emu = createVintedEmulator();
  await emu.listen(0);
  ({ token } = await registerTenant(h.url, 'Second Hand Rose'));
  const made = await call('POST', '/channels', { type: 'vinted', name: 'Vinted (emulated)', base_url: emu.url, credentials: {} });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  channelId = made.body.id;
  ext = await launchWithExtension();
}, 120_000);

afterAll(async () => {
  await ext?.close();
  await emu?.close();
  await h?.stop();
});

describe('the extension pairs through its options page', () => {
  it('connects with a token, reports the Vinted session, and unpairs', async () => {
    expect(ext.extensionId).toMatch(/^[a-p]{32}$/);
    const issued = await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'Chromium' });
    expect(issued.status).toBe(201);
    const page = await ext.options();
    await pair(page, h.url, issued.body.token);
    await eventually(async () => (await tokenRow(issued.body.id)).connected === true, 15_000, 'the token to show connected');
    await page.locator('#connection[data-state=connected]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#channel')).toContain('Vinted (emulated)');
    // No Vinted session in this browser: the extension says so, to StockClerk and on the page.
    await page.locator('#marketplace[data-logged-in=false]').waitFor({ timeout: 10_000 });
    await eventually(async () => (await tokenRow(issued.body.id)).status?.logged_in === false, 10_000, 'the logged-out status');
    // It called the emulator for the session check and nothing but its two origins.
    expect(emu.requests.some((r) => r.url === '/api/v2/users/current')).toBe(true);

    await page.click('#unpair');
    await page.locator('#connection[data-state=unpaired]').waitFor({ timeout: 10_000 });
    await eventually(async () => (await tokenRow(issued.body.id)).connected === false, 10_000, 'the token to show disconnected');
  });

  it('a revoked token closes the socket and the page shows the pairing refused', async () => {
    const issued = await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'Chromium again' });
    const page = await ext.options();
    await pair(page, h.url, issued.body.token);
    await eventually(async () => (await tokenRow(issued.body.id)).connected === true, 15_000, 'connected');
    expect((await call('DELETE', `/extension-tokens/${issued.body.id}`)).status).toBe(204);
    await page.locator('#connection[data-state=refused]').waitFor({ timeout: 10_000 });
    expect(await page.textContent('#last-error')).toMatch(/refused the token/);
    // It does not keep knocking with a refused token.
    await new Promise((r) => setTimeout(r, 2_500));
    const row = await tokenRow(issued.body.id);
    expect(row.connected).toBe(false);
    expect(await page.getAttribute('#connection', 'data-state')).toBe('refused');
  });
});
