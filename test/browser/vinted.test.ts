// Vinted end to end: StockClerk, the real extension (extension/dist) in Debian's chromium, and the
// Vinted emulator (emulators/vinted/) with its anti-bot pacing on. The seller's Vinted session is a
// cookie the emulator's control API opens, put into the browser's profile; the extension is paired
// through its options page. A product published from StockClerk's API appears on Vinted with its
// photo; a buyer's purchase on Vinted becomes one ledger movement and the other marketplaces (Shopee
// and TikTok Shop emulators listing the same SKU) follow; with the browser closed a publish waits in
// the queue, and runs when the same browser profile comes back.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVintedEmulator, SESSION_COOKIE, type VintedEmulator } from '../../emulators/vinted/index.ts';
import { createShopeeEmulator } from '../../emulators/shopee/index.ts';
import { createTiktokShopEmulator } from '../../emulators/tiktok_shop/index.ts';
import { connectEmulatedChannel, type AnyEmulator } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { extensionQueueOf } from '../../src/services/extension-jobs.ts';
import { launchWithExtension, newProfile, pair, type ExtensionBrowser } from '../helpers/extension.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let emu: VintedEmulator;
const others: Array<{ type: 'shopee' | 'tiktok_shop'; emu: AnyEmulator; account: string }> = [];
let ext: ExtensionBrowser | null = null;
let token: string;
let tenantId: string;
let locationId: string;
let channelId: string;
const profile = newProfile();
const call = (method: string, p: string, body?: unknown) => api(h.url, method, `/api/v1${p}`, { token, body });
const ctl = async (p: string, body?: unknown) =>
  (
    await fetch(`${emu.url}/_control${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  ).json() as Promise<any>;
const vintedItems = async () => (await ctl('/accounts/seller/state')).items as Array<Record<string, any>>;
const publication = async (productId: string) => (await call('GET', `/publications?product_id=${productId}&channel_id=${channelId}`)).body.data[0];

async function product(title: string, sku: string): Promise<{ id: string; itemId: string }> {
  const p = await call('POST', '/products', { title, description: `${title}, worn twice.`, price_minor: 1850, variants: [{ sku }] });
  expect(p.status, JSON.stringify(p.body)).toBe(201);
  const img = await fetch(`${h.url}/api/v1/products/${p.body.id}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
    body: swatchPng([150, 40, 60], [240, 240, 240]),
  });
  expect(img.status).toBe(201);
  const itemId = p.body.variants[0].item_id;
  await recordMovements(h.sc.ctx.db, tenantId, [{ itemId, locationId, qtyDelta: 1, reason: 'receipt' }]);
  return { id: p.body.id, itemId };
}

/** The browser with the extension, the seller logged in to the emulated Vinted (a cookie kept in the profile). */
async function openBrowser(): Promise<ExtensionBrowser> {
  const b = await launchWithExtension(profile);
  const s = await ctl('/sessions', { login: 'seller' });
  // Expiring (not a session cookie): it stays in the profile when the browser closes, as a "remember me" login does.
  await b.context.addCookies([
    {
      name: SESSION_COOKIE,
      value: s.cookie_value,
      domain: '127.0.0.1',
      path: '/',
      httpOnly: true,
      sameSite: 'Lax',
      secure: false,
      expires: Math.floor(Date.now() / 1000) + 86_400,
    },
  ]);
  return b;
}

beforeAll(async () => {
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  // The emulator's anti-bot defaults stay on: the extension must pace its own calls.
  emu = createVintedEmulator();
  await emu.listen(0);
  await ctl('/accounts', { login: 'seller', password: 'pw-seller-1' });
  const t = await registerTenant(h.url, 'Rose Vintage');
  ({ token, tenantId, locationId } = t);
  const made = await call('POST', '/channels', { type: 'vinted', name: 'Vinted', base_url: emu.url, credentials: {} });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  channelId = made.body.id;
  ext = await openBrowser();
}, 120_000);

afterAll(async () => {
  await ext?.close();
  await emu?.close();
  await Promise.all(others.map((o) => o.emu.close()));
  await h?.stop();
  fs.rmSync(profile, { recursive: true, force: true });
});

describe('Vinted through the extension', () => {
  let first: { id: string; itemId: string };

  it('pairs, reports the seller logged in, and publishes a product with its photo', async () => {
    const issued = await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'Seller laptop' });
    const page = await ext!.options();
    await pair(page, h.url, issued.body.token);
    await eventually(
      async () => {
        const row = (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data[0];
        return row.connected && row.status?.logged_in === true;
      },
      20_000,
      'the extension connected and logged in',
    );
    expect((await call('GET', `/channels/${channelId}/extension-tokens`)).body.data[0].status).toEqual({ logged_in: true, account: 'seller' });
    await page.locator('#marketplace[data-logged-in=true]').waitFor({ timeout: 10_000 });

    first = await product('Velvet blazer', 'BLAZER-1');
    const res = await call('POST', `/products/${first.id}/publish`, { channel_ids: [channelId] });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await eventually(async () => (await publication(first.id))?.state === 'live', 45_000, 'the publication to go live');
    const items = await vintedItems();
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ title: 'Velvet blazer', price: 18.5, currency: expect.any(String), status: 'active' });
    expect(items[0]!.photo_urls).toHaveLength(1);
    expect(items[0]!.upload_session_id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await publication(first.id)).external_id).toBe(String(items[0]!.id));
    // Every call the extension made to Vinted went with the seller's session; mutations with the CSRF token.
    const calls = emu.requests.filter((r) => r.url.startsWith('/api/'));
    expect(calls.every((r) => r.login === 'seller')).toBe(true);
    expect(calls.filter((r) => r.method !== 'GET').every((r) => r.csrf === 'ok')).toBe(true);
  });

  it('a buyer on Vinted buys it: one ledger movement, and Shopee and TikTok Shop follow', async () => {
    // The seller lists the same blazer on two other marketplaces, connected the way a merchant does (listings matched by SKU).
    for (const [type, emulator] of [
      ['shopee', createShopeeEmulator()],
      ['tiktok_shop', createTiktokShopEmulator()],
    ] as const) {
      await emulator.listen(0);
      const r = await connectEmulatedChannel(h.sc.ctx, {
        tenantId,
        type,
        emulator,
        name: type,
        stockclerkUrl: h.url,
        items: [{ sku: 'BLAZER-1', name: 'Velvet blazer', qty: 1 }],
        locationIds: [locationId],
      });
      others.push({ type, emu: emulator, account: r.accountId });
    }
    const heldOn = async (o: (typeof others)[number]) => {
      const state = (await (await fetch(`${o.emu.url}/_control/accounts/${encodeURIComponent(o.account)}/state`)).json()) as {
        items: Array<{ sku: string; qty: number }>;
      };
      return state.items.find((i) => i.sku === 'BLAZER-1')?.qty;
    };
    for (const o of others) expect(await heldOn(o)).toBe(1);
    const itemOnVinted = (await vintedItems())[0]!;
    const sold = await ctl('/accounts/seller/sale', { item_id: itemOnVinted.id });
    expect(sold.transaction_id).toBeDefined();
    await eventually(
      async () => {
        const { rows } = await h.sc.ctx.db.query(
          `select coalesce(sum(qty_delta), 0)::int as on_hand from stock_movements where tenant_id = $1 and item_id = $2`,
          [tenantId, first.itemId],
        );
        return rows[0].on_hand === 0;
      },
      30_000,
      'the Vinted sale to reach the ledger',
    );
    await new Promise((r) => setTimeout(r, 2_500)); // more polls read the same sale
    const { rows } = await h.sc.ctx.db.query(
      `select count(*)::int as n from stock_movements where tenant_id = $1 and item_id = $2 and source_channel_id = $3 and qty_delta = -1`,
      [tenantId, first.itemId, channelId],
    );
    expect(rows[0].n).toBe(1);
    for (const o of others) await eventually(async () => (await heldOn(o)) === 0, 15_000, `${o.type} to follow the Vinted sale`);

    // The sale took the level to 0, so StockClerk pushes it to Vinted too: hiding the item the buyer
    // just bought. Vinted refuses to hide a sold item; the extension reads it, finds it sold, and
    // answers so: a normal sale leaves no failed job on the channel.
    await eventually(
      async () =>
        (
          await h.sc.ctx.db.query(
            `select 1 from extension_jobs where tenant_id = $1 and channel_id = $2 and kind = 'update' and status in ('done', 'failed') and payload->>'item_id' = $3 and payload->>'hidden' = 'true'`,
            [tenantId, channelId, String(itemOnVinted.id)],
          )
        ).rowCount === 1,
      30_000,
      'the push after the sale to run',
    );
    const { rows: jobs } = await h.sc.ctx.db.query(
      `select status, result, error from extension_jobs where tenant_id = $1 and channel_id = $2 and kind = 'update' and payload->>'item_id' = $3 and payload->>'hidden' = 'true'`,
      [tenantId, channelId, String(itemOnVinted.id)],
    );
    expect(jobs).toEqual([{ status: 'done', result: { item_id: String(itemOnVinted.id), status: 'sold' }, error: null }]);
    expect((await extensionQueueOf(h.sc.ctx.db, tenantId, channelId)).failed).toBe(0);
    expect((await vintedItems())[0]).toMatchObject({ id: itemOnVinted.id, status: 'sold' });
  });

  it('with the browser closed a publish waits in the queue, and runs when the browser comes back', async () => {
    await ext!.close();
    ext = null;
    await eventually(async () => (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data[0].connected === false, 15_000, 'disconnected');
    const second = await product('Silk scarf', 'SCARF-1');
    expect((await call('POST', `/products/${second.id}/publish`, { channel_ids: [channelId] })).status).toBe(202);
    await eventually(
      async () =>
        (
          await h.sc.ctx.db.query(`select 1 from extension_jobs where tenant_id = $1 and channel_id = $2 and kind = 'publish' and status = 'queued'`, [
            tenantId,
            channelId,
          ])
        ).rowCount === 1,
      15_000,
      'the publish to be queued',
    );
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await publication(second.id)).state).toBe('publishing');
    expect(await vintedItems()).toHaveLength(1);

    // The same browser profile comes back: its pairing and its Vinted cookie are still there.
    ext = await openBrowser();
    await eventually(async () => (await publication(second.id))?.state === 'live', 60_000, 'the queued publish to run');
    const titles = (await vintedItems()).map((i) => i.title).sort();
    expect(titles).toEqual(['Silk scarf', 'Velvet blazer']);
  });
});
