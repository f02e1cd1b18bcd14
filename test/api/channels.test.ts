// Channels and listings over real HTTP against a Shopify emulator: CRUD, validation, the
// connection test, import and auto-match, manual mapping, pause / resume / sync pushing real
// quantities, and credentials that never come back in any response.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createShopifyEmulator } from '../../emulators/shopify/index.ts';
import { raiseAlert } from '../../src/services/alerts.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, ghost, snapshot, type Call } from './support.ts';

const secret = (label: string) => `${label}_${randomBytes(12).toString('hex')}`;
const TOKEN = secret('shpat_SECRET');
const HOOK = secret('WHSEC');
const TOKEN2 = secret('shpat_ROTATED');
const HOOK2 = secret('WHSEC_ROTATED');
const EPOS_SECRET = secret('EPOS_SECRET');
const SECRETS = [TOKEN, HOOK, TOKEN2, HOOK2, EPOS_SECRET];

let h: Harness;
const emu = createShopifyEmulator();
let tenant: Awaited<ReturnType<typeof registerTenant>>;
const seen: string[] = [];
let call: Call;
const items: Record<string, string> = {};
let shopId: string;

const held = (sku: string) => emu.spec.state(emu.accounts.get('shop-a')!).find((s) => s.sku === sku)!.qty;
const shopifyBody = (over: Record<string, unknown> = {}) => ({
  type: 'shopify',
  name: 'Web shop',
  base_url: emu.url,
  credentials: { access_token: TOKEN, webhook_secret: HOOK },
  ...over,
});

beforeAll(async () => {
  [h] = await Promise.all([startHarness(), emu.listen(0)]);
  emu.addAccount({
    id: 'shop-a',
    credentials: { access_token: TOKEN },
    items: [
      { sku: 'TEA-1', name: 'Tea', qty: 7 },
      { sku: 'CAKE-1', name: 'Cake', qty: 3 },
      { sku: 'LATER-1', name: 'Not in the ledger yet', qty: 2 },
    ],
  });
  // The rotated token opens the same shop (the emulator matches on the token).
  emu.addAccount({ id: 'shop-a-rotated', credentials: { access_token: TOKEN2 }, items: [] });
  tenant = await registerTenant(h.url, 'Channels Co');
  call = client(h.url, tenant.token, seen);
  for (const sku of ['TEA-1', 'CAKE-1']) {
    const r = await call('POST', '/items', { sku, name: sku });
    expect(r.status).toBe(201);
    items[sku] = r.body.id;
  }
});

afterAll(async () => {
  await h?.stop();
  await emu.close();
});

describe('POST /channels', () => {
  it('refuses bad input with field details and creates nothing', async () => {
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    const cases: Array<[unknown, string | undefined]> = [
      [{ ...shopifyBody(), type: undefined }, 'type'],
      [shopifyBody({ type: 'no-such-platform' }), 'type'],
      [shopifyBody({ type: 42 }), 'type'],
      [shopifyBody({ base_url: undefined }), 'base_url'], // Shopify has no default host
      [shopifyBody({ base_url: 'ftp://example.com' }), 'base_url'],
      [shopifyBody({ base_url: 'not a url' }), 'base_url'],
      [shopifyBody({ base_url: 'https://user:pw@example.com' }), 'base_url'],
      [shopifyBody({ base_url: `https://example.com/${'a'.repeat(600)}` }), 'base_url'],
      [shopifyBody({ name: '' }), 'name'],
      [shopifyBody({ name: 'x'.repeat(10_000) }), 'name'],
      [shopifyBody({ name: 12 }), 'name'],
      [shopifyBody({ credentials: { access_token: TOKEN } }), 'credentials.webhook_secret'],
      [shopifyBody({ credentials: { access_token: TOKEN, webhook_secret: HOOK, password: 'x' } }), 'credentials'],
      [shopifyBody({ credentials: { access_token: 123, webhook_secret: HOOK } }), 'credentials.access_token'],
      [shopifyBody({ credentials: { access_token: '', webhook_secret: HOOK } }), 'credentials.access_token'],
      [shopifyBody({ credentials: 'token' }), 'credentials'],
      [shopifyBody({ extra: true }), undefined],
      [shopifyBody({ settings: { colour: 'red' } }), 'settings'],
      [shopifyBody({ settings: { percent: 2 } }), 'settings.percent'],
      [shopifyBody({ settings: { default_buffer: -1 } }), 'settings.default_buffer'],
      [shopifyBody({ settings: { cap: 1.5 } }), 'settings.cap'],
      [shopifyBody({ settings: { cap: 1e12 } }), 'settings.cap'],
      [shopifyBody({ settings: { sales_source: 'both' } }), 'settings.sales_source'],
      [shopifyBody({ settings: { location_ids: ['item_123'] } }), 'settings.location_ids'],
      [shopifyBody({ settings: { location_ids: 'loc' } }), 'settings.location_ids'],
      [{ type: 'eposnow', name: 'Till', credentials: { api_key: 'k' } }, 'credentials.api_secret'],
      [{ type: 'deliveroo', name: 'Roo', credentials: { client_id: 'c', client_secret: 's' } }, 'credentials.webhook_secret'],
      [[], undefined],
      [null, undefined],
    ];
    for (const [body, field] of cases) {
      const r = await call('POST', '/channels', body);
      expectInvalid(r, field);
    }
    const bad = await call('POST', '/channels', '{"type": "shopify",');
    expectError(bad, 400, 'invalid_json');
    const huge = await call('POST', '/channels', shopifyBody({ name: 'x'.repeat(2 * 1024 * 1024) }));
    expectError(huge, 413, 'payload_too_large');
    // A location that is not the tenant's.
    const foreign = await call('POST', '/channels', shopifyBody({ settings: { location_ids: [ghost('loc')] } }));
    expectError(foreign, 404, 'not_found');
    expect(await snapshot(h.testDb.db, tenant.tenantId)).toEqual(before);
  });

  it("fills in each platform's real host, seals credentials and shows only which are set", async () => {
    const epos = await call('POST', '/channels', { type: 'eposnow', name: 'Till', credentials: { api_key: 'till-key', api_secret: EPOS_SECRET } });
    expect(epos.status).toBe(201);
    expect(epos.body).toMatchObject({
      type: 'eposnow',
      name: 'Till',
      base_url: 'https://api.eposnowhq.com',
      status: 'connected',
      settings: {},
      credentials: { api_key: true, api_secret: true },
      listings: { total: 0, matched: 0, unmatched: 0 },
    });
    expect(epos.body.id).toMatch(/^ch_[0-9a-f]{32}$/);
    // Epos Now signs no webhook: its URL carries a per-channel secret, sealed with the credentials and never listed among them.
    const hook = new URL(epos.body.webhook_url);
    const secret = hook.pathname.split('/')[4]!;
    expect(hook.pathname).toBe(`/webhooks/eposnow/${epos.body.id}/${secret}`);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(epos.body).not.toHaveProperty('credentials_enc');
    const { rows } = await h.testDb.db.query(`select credentials_enc from channels where id = $1`, [epos.body.id]);
    expect(rows[0].credentials_enc).toMatch(new RegExp(`^v2\\.${h.sc.ctx.sealer.currentKeyId}\\.`));
    expect(rows[0].credentials_enc).not.toContain(EPOS_SECRET);
    expect(h.sc.ctx.sealer.open(rows[0].credentials_enc)).toEqual({ api_key: 'till-key', api_secret: EPOS_SECRET, webhook_url_secret: secret });
    // New keys keep the URL the till was given; the secret is not the merchant's to send.
    const rekeyed = await call('PATCH', `/channels/${epos.body.id}`, { credentials: { api_key: 'till-key-2', api_secret: EPOS_SECRET } });
    expect(rekeyed.status).toBe(200);
    expect(rekeyed.body.webhook_url).toBe(epos.body.webhook_url);
    const smuggled = await call('PATCH', `/channels/${epos.body.id}`, { credentials: { api_key: 'k', api_secret: EPOS_SECRET, webhook_url_secret: 'mine' } });
    expect(smuggled.body.webhook_url).toBe(epos.body.webhook_url);

    const wix = await call('POST', '/channels', { type: 'wix', name: 'Site', credentials: { api_key: 'k', site_id: 's', public_key: 'pem' } });
    expect(wix.body.base_url).toBe('https://www.wixapis.com');
    const roo = await call('POST', '/channels', {
      type: 'deliveroo',
      name: 'Roo',
      credentials: { client_id: 'c', client_secret: 's', webhook_secret: 'w' },
      settings: { brand_id: 'b', site_id: 's', menu_id: 'm', location_ids: [tenant.locationId] },
    });
    expect(roo.status).toBe(201);
    expect(roo.body.base_url).toBe('https://api.developers.deliveroo.com');
    expect(roo.body.settings).toEqual({ brand_id: 'b', site_id: 's', menu_id: 'm', location_ids: [tenant.locationId] });
    for (const r of [wix, roo]) expect((await call('DELETE', `/channels/${r.body.id}`)).status).toBe(204);
    expect((await call('DELETE', `/channels/${epos.body.id}`)).status).toBe(204);
  });

  it('creates a Shopify channel at the given URL', async () => {
    const r = await call('POST', '/channels', shopifyBody({ settings: { location_ids: [tenant.locationId], default_buffer: 0 } }));
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ type: 'shopify', base_url: emu.url, credentials: { access_token: true, webhook_secret: true } });
    shopId = r.body.id;
  });
});

describe('reading and changing a channel', () => {
  it('lists and reads channels; unknown or malformed ids are 404', async () => {
    const list = await call('GET', '/channels');
    expect(list.status).toBe(200);
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([shopId]);
    expect(list.body.next_cursor).toBeNull();
    expect((await call('GET', '/channels?type=shopify&status=connected')).body.data).toHaveLength(1);
    expect((await call('GET', '/channels?status=paused')).body.data).toHaveLength(0);
    expectInvalid(await call('GET', '/channels?status=sleeping'), 'status');
    expectInvalid(await call('GET', '/channels?limit=0'), 'limit');
    expectInvalid(await call('GET', '/channels?limit=501'), 'limit');
    expectInvalid(await call('GET', '/channels?limit=ten'), 'limit');
    expectInvalid(await call('GET', '/channels?cursor=%%%'), 'cursor');
    expectInvalid(await call('GET', '/channels?colour=red'));
    const one = await call('GET', `/channels/${shopId}`);
    expect(one.body.webhook_url).toBe(`${h.url}/webhooks/shopify/${shopId}`);
    for (const id of [ghost('ch'), ghost('item'), 'ch_nope', items['TEA-1']]) {
      expectError(await call('GET', `/channels/${id}`), 404, 'not_found');
      expectError(await call('PATCH', `/channels/${id}`, { name: 'x' }), 404, 'not_found');
      expectError(await call('DELETE', `/channels/${id}`), 404, 'not_found');
      for (const action of ['test', 'pause', 'resume', 'import', 'sync']) expectError(await call('POST', `/channels/${id}/${action}`), 404, 'not_found');
    }
  });

  it('patches name, URL, settings (merged; null removes) and the whole credential set', async () => {
    const before = await call('GET', `/channels/${shopId}`);
    const r1 = await call('PATCH', `/channels/${shopId}`, { name: 'Web shop UK', settings: { default_buffer: 1, location_id: 'gid://shopify/Location/1' } });
    expect(r1.status).toBe(200);
    expect(r1.body.name).toBe('Web shop UK');
    expect(r1.body.settings).toEqual({ location_ids: [tenant.locationId], default_buffer: 1, location_id: 'gid://shopify/Location/1' });
    expect(new Date(r1.body.updated_at).getTime()).toBeGreaterThan(new Date(before.body.updated_at).getTime());
    const r2 = await call('PATCH', `/channels/${shopId}`, { settings: { default_buffer: null, cap: 100 } });
    expect(r2.body.settings).toEqual({ location_ids: [tenant.locationId], location_id: 'gid://shopify/Location/1', cap: 100 });
    const r3 = await call('PATCH', `/channels/${shopId}`, { settings: { cap: null, location_id: null } });
    expect(r3.body.settings).toEqual({ location_ids: [tenant.locationId] });

    // Credentials are replaced as a set; the rotated token is what the adapter uses next.
    const r4 = await call('PATCH', `/channels/${shopId}`, { credentials: { access_token: TOKEN2, webhook_secret: HOOK2 } });
    expect(r4.status).toBe(200);
    expect(r4.body.credentials).toEqual({ access_token: true, webhook_secret: true });
    const { rows } = await h.testDb.db.query(`select credentials_enc from channels where id = $1`, [shopId]);
    expect(h.sc.ctx.sealer.open(rows[0].credentials_enc)).toEqual({ access_token: TOKEN2, webhook_secret: HOOK2 });
    await call('PATCH', `/channels/${shopId}`, { credentials: { access_token: TOKEN, webhook_secret: HOOK } });
  });

  it('refuses bad patches and changes nothing', async () => {
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    const cases: Array<[unknown, string | undefined]> = [
      [{}, undefined],
      [{ type: 'wix' }, undefined],
      [{ name: '' }, 'name'],
      [{ name: 'n'.repeat(300) }, 'name'],
      [{ base_url: 'mailto:x@example.com' }, 'base_url'],
      [{ credentials: { access_token: TOKEN } }, 'credentials.webhook_secret'], // a partial set
      [{ credentials: { access_token: TOKEN, webhook_secret: HOOK, api_key: 'x' } }, 'credentials'],
      [{ credentials: { access_token: 5, webhook_secret: HOOK } }, 'credentials.access_token'],
      [{ settings: { percent: -0.5 } }, 'settings.percent'],
      [{ settings: { bogus: 1 } }, 'settings'],
      [{ settings: { request_timeout_ms: 10 ** 9 } }, 'settings.request_timeout_ms'],
      [{ status: 'paused' }, undefined],
    ];
    for (const [body, field] of cases) expectInvalid(await call('PATCH', `/channels/${shopId}`, body), field);
    expectError(await call('PATCH', `/channels/${shopId}`, { settings: { location_ids: [ghost('loc')] } }), 404, 'not_found');
    expect(await snapshot(h.testDb.db, tenant.tenantId)).toEqual(before);
  });
});

describe('connection test', () => {
  it('answers ok with the account name', async () => {
    const r = await call('POST', `/channels/${shopId}/test`);
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(true);
    expect(typeof r.body.account).toBe('string');
  });

  it('reports refused credentials and an unreachable host as a 200 with ok: false', async () => {
    const wrong = await call(
      'POST',
      '/channels',
      shopifyBody({ name: 'Wrong token', credentials: { access_token: secret('shpat_WRONG'), webhook_secret: HOOK } }),
    );
    const r = await call('POST', `/channels/${wrong.body.id}/test`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: false, error: { kind: 'auth' } });
    expect(typeof r.body.error.message).toBe('string');
    // The import maps the same failure to a 502 with a stable code, and stores nothing.
    expectError(await call('POST', `/channels/${wrong.body.id}/import`), 502, 'channel_auth_failed');

    const down = await call('POST', '/channels', shopifyBody({ name: 'Nowhere', base_url: 'http://127.0.0.1:9' }));
    const d = await call('POST', `/channels/${down.body.id}/test`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ ok: false, error: { kind: 'transient' } });
    expectError(await call('POST', `/channels/${down.body.id}/import`), 502, 'channel_unreachable');
    const { rows } = await h.testDb.db.query(`select count(*)::int as n from listings where channel_id = any($1)`, [[wrong.body.id, down.body.id]]);
    expect(rows[0].n).toBe(0);
    for (const id of [wrong.body.id, down.body.id]) expect((await call('DELETE', `/channels/${id}`)).status).toBe(204);
  });

  it('reconnects a disconnected channel whose credentials work again', async () => {
    const db = h.testDb.db;
    await db.query(`update channels set status = 'disconnected', last_error = 'refused' where id = $1`, [shopId]);
    await raiseAlert(db, tenant.tenantId, { type: 'channel_auth', subject: shopId, message: 'refused' });
    expectError(await call('POST', `/channels/${shopId}/resume`), 409, 'conflict');
    expectError(await call('POST', `/channels/${shopId}/sync`), 409, 'conflict');
    const r = await call('POST', `/channels/${shopId}/test`);
    expect(r.body.ok).toBe(true);
    const ch = await call('GET', `/channels/${shopId}`);
    expect(ch.body).toMatchObject({ status: 'connected', last_error: null });
    const alerts = await call('GET', '/alerts?type=channel_auth');
    expect(alerts.body.data[0]).toMatchObject({ subject: shopId, status: 'resolved' });
  });
});

describe('import, listings and mapping', () => {
  let teaListing: string;
  let laterListing: string;

  it('imports every listing and matches by SKU without pushing', async () => {
    const r = await call('POST', `/channels/${shopId}/import`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ imported: 3, matched: 2, unmatched: 1 });
    expect((await call('GET', `/channels/${shopId}`)).body.listings).toEqual({ total: 3, matched: 2, unmatched: 1 });
    expect(held('TEA-1')).toBe(7);
    const all = await call('GET', `/listings?channel_id=${shopId}`);
    expect(all.body.data).toHaveLength(3);
    const tea = all.body.data.find((l: { external_sku: string }) => l.external_sku === 'TEA-1');
    expect(tea).toMatchObject({ channel_id: shopId, channel_type: 'shopify', item_id: items['TEA-1'], item_sku: 'TEA-1', state: 'in_sync', last_seen_qty: 7 });
    teaListing = tea.id;
    const unmatched = await call('GET', '/listings?state=unmatched');
    expect(unmatched.body.data.map((l: { external_sku: string }) => l.external_sku)).toEqual(['LATER-1']);
    laterListing = unmatched.body.data[0].id;
    expect((await call('GET', `/listings?item_id=${items['CAKE-1']}`)).body.data).toHaveLength(1);
    expect((await call('GET', `/listings/${teaListing}`)).body.id).toBe(teaListing);
  });

  it('pages listings with a cursor', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { body: { data: Array<{ id: string }>; next_cursor: string | null } } = await call(
        'GET',
        `/listings?limit=1${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(r.body.data.length).toBeLessThanOrEqual(1);
      ids.push(...r.body.data.map((l) => l.id));
      cursor = r.body.next_cursor;
    } while (cursor);
    expect(ids).toHaveLength(3);
    expect([...ids].sort()).toEqual(ids);
  });

  it('refuses bad filters and bad mappings, changing nothing', async () => {
    for (const q of ['state=lost', 'channel_id=item_x', 'item_id=123', 'limit=-1', 'limit=1e9', 'channels=1'])
      expectInvalid(await call('GET', `/listings?${q}`));
    const before = await snapshot(h.testDb.db, tenant.tenantId);
    expectError(await call('PATCH', `/listings/${laterListing}`, { item_id: ghost('item') }), 404, 'not_found');
    expectInvalid(await call('PATCH', `/listings/${laterListing}`, { item_id: 'TEA-1' }), 'item_id');
    expectInvalid(await call('PATCH', `/listings/${laterListing}`, {}), 'item_id');
    expectInvalid(await call('PATCH', `/listings/${laterListing}`, { item_id: items['TEA-1'], state: 'in_sync' }));
    expectInvalid(await call('PATCH', `/listings/${laterListing}`, { item_id: 7 }), 'item_id');
    for (const id of [ghost('lst'), 'lst_1', shopId]) {
      expectError(await call('GET', `/listings/${id}`), 404, 'not_found');
      expectError(await call('PATCH', `/listings/${id}`, { item_id: null }), 404, 'not_found');
      expectError(await call('POST', `/listings/${id}/sync`), 404, 'not_found');
    }
    expectInvalid(await call('POST', '/listings/auto-match', {}), 'channel_id');
    expectInvalid(await call('POST', '/listings/auto-match', { channel_id: shopId, force: true }));
    expectError(await call('POST', '/listings/auto-match', { channel_id: ghost('ch') }), 404, 'not_found');
    // An unmatched listing has nothing to push.
    expectError(await call('POST', `/listings/${laterListing}/sync`), 409, 'conflict');
    expect(await snapshot(h.testDb.db, tenant.tenantId)).toEqual(before);
  });

  it('maps and unmaps by hand, and auto-matches new items by SKU', async () => {
    const map = await call('PATCH', `/listings/${laterListing}`, { item_id: items['CAKE-1'] });
    expect(map.status).toBe(200);
    expect(map.body).toMatchObject({ item_id: items['CAKE-1'], item_sku: 'CAKE-1', state: 'in_sync' });
    const unmap = await call('PATCH', `/listings/${laterListing}`, { item_id: null });
    expect(unmap.body).toMatchObject({ item_id: null, state: 'unmatched' });
    expect((await call('POST', '/listings/auto-match', { channel_id: shopId })).body).toEqual({ matched: 0, unmatched: 1 });
    const later = await call('POST', '/items', { sku: 'LATER-1', name: 'Later' });
    items['LATER-1'] = later.body.id;
    expect((await call('POST', '/listings/auto-match', { channel_id: shopId })).body).toEqual({ matched: 1, unmatched: 0 });
    expect((await call('GET', `/listings/${laterListing}`)).body.item_id).toBe(later.body.id);
  });

  it("sync pushes the ledger's value to every matched listing", async () => {
    // The ledger holds nothing yet: an explicit sync tells the shop 0 for each matched item.
    const r = await call('POST', `/channels/${shopId}/sync`);
    expect(r.status).toBe(202);
    expect(r.body).toEqual({ queued: true, listings: 3 });
    await eventually(() => held('TEA-1') === 0 && held('CAKE-1') === 0 && held('LATER-1') === 0, 10_000, 'shop holds 0');
    await eventually(async () => (await call('GET', `/listings?channel_id=${shopId}&state=in_sync`)).body.data.length === 3, 10_000, 'listings in sync');
  });

  it('pause holds pushes back, resume sends them, listing sync pushes one', async () => {
    const paused = await call('POST', `/channels/${shopId}/pause`);
    expect(paused.body.status).toBe('paused');
    const adj = await call('POST', '/adjustments', { item_id: items['TEA-1'], location_id: tenant.locationId, qty_delta: 5, reason: 'receipt' });
    expect(adj.status).toBe(201);
    expectError(await call('POST', `/channels/${shopId}/sync`), 409, 'conflict');
    expectError(await call('POST', `/listings/${teaListing}/sync`), 409, 'conflict');
    await new Promise((r) => setTimeout(r, 300));
    expect(held('TEA-1')).toBe(0);
    const resumed = await call('POST', `/channels/${shopId}/resume`);
    expect(resumed.body.status).toBe('connected');
    await eventually(() => held('TEA-1') === 5, 10_000, 'shop holds 5 after resume');

    // Someone edits the shop by hand; we don't know, so a listing sync is what sends the value again
    // (the listing must also look stale to the engine: what it last saw is what it pushed).
    await h.testDb.db.query(`update listings set last_seen_qty = 4 where id = $1`, [teaListing]);
    await fetch(`${emu.url}/_control/accounts/shop-a/set`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'TEA-1', qty: 4 }),
    });
    const one = await call('POST', `/listings/${teaListing}/sync`);
    expect(one.status).toBe(202);
    await eventually(() => held('TEA-1') === 5, 10_000, 'listing sync restores 5');
  });

  it('a settings change that alters sellable quantities pushes them', async () => {
    const r = await call('PATCH', `/channels/${shopId}`, { settings: { default_buffer: 2 } });
    expect(r.status).toBe(200);
    await eventually(() => held('TEA-1') === 3, 10_000, 'buffer applied');
  });
});

describe('deleting a channel', () => {
  it('removes it and its listings; the ledger keeps its history', async () => {
    const movementsBefore = (await call('GET', '/movements')).body.data.length;
    expect((await call('DELETE', `/channels/${shopId}`)).status).toBe(204);
    expectError(await call('GET', `/channels/${shopId}`), 404, 'not_found');
    expectError(await call('DELETE', `/channels/${shopId}`), 404, 'not_found');
    expect((await call('GET', '/listings')).body.data).toEqual([]);
    expect((await call('GET', '/movements')).body.data.length).toBe(movementsBefore);
  });
});

describe('credentials never come back', () => {
  it('no response body of any route contains a secret', async () => {
    // Exercise the remaining read routes once more on a live channel.
    const again = await call('POST', '/channels', shopifyBody({ name: 'Again' }));
    await call('POST', `/channels/${again.body.id}/import`);
    await call('GET', '/channels');
    await call('GET', `/channels/${again.body.id}`);
    await call('GET', '/listings');
    await call('GET', '/sync-events');
    await call('GET', '/channel-types');
    expect(seen.length).toBeGreaterThan(100);
    for (const text of seen) for (const s of SECRETS) expect(text.includes(s), `a response contains ${s.slice(0, 12)}...`).toBe(false);
  });
});
