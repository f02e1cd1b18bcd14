// The Etsy module against the Etsy emulator over real HTTP on 127.0.0.1 (no mocks): keys and
// tokens, token renewal, list / read / push, throttling, receipts polled, publishing a product
// with variants (the emulator's request log equals the plan, filled), and the OAuth connect flow.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEtsyEmulator, type EtsyAccount } from '../../../emulators/etsy/index.ts';
import type { Emulator, RecordedRequest } from '../../../emulators/kit/index.ts';
import { fillRequest, runPlan } from '../catalog.ts';
import { ChannelError, type ChannelAdapter, type ListingDraft, type PlannedRequest } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import type { EtsyAdapter } from './adapter.ts';
import { authorizeUrl, createPkce, etsyChannel, exchangeCode, tokenUrl } from './index.ts';

const KEY = 'testkeystring';
const SECRET = 'testsecret';
const USER_ID = 424242;
const SHOP_ID = 515151;
const REDIRECT = 'http://127.0.0.1:9/etsy/callback';
// A 1x1 PNG.
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d4948445200000001000000010806000000' + '1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082',
  'hex',
);

const emu: Emulator<EtsyAccount> = createEtsyEmulator();
/** The headers each /v3/application call came with (a test-only hook, registered before listen). */
const seen: Array<{ url: string; apiKey: string | undefined; auth: string | undefined }> = [];
emu.app.addHook('onRequest', async (req) => {
  if (req.url.startsWith('/v3/application')) seen.push({ url: req.url, apiKey: req.headers['x-api-key'] as string, auth: req.headers.authorization });
});

let images: http.Server;
let imageBase = '';

beforeAll(async () => {
  await emu.listen();
  images = http.createServer((req, res) => {
    if (req.url === '/media/tee.png') res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => images.listen(0, '127.0.0.1', r));
  imageBase = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await emu.close();
  await new Promise((r) => images.close(r));
});

async function control(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${emu.url}/_control${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(res.status).toBeLessThan(300);
  return res.json();
}

/** Etsy's API called directly (the test's own hands on the platform, not the adapter). */
async function etsy(method: string, path: string, token: string, body?: unknown): Promise<any> {
  const res = await fetch(`${emu.url}/v3/application${path}`, {
    method,
    headers: { 'x-api-key': `${KEY}:${SECRET}`, authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
}

let tokens: Tokens;
let saved: Array<Record<string, string>>;

async function openShop(items: Array<{ sku: string; name: string; qty: number }> = []): Promise<void> {
  await control('/reset', {});
  await control('/accounts', {
    id: 'shop',
    credentials: { keystring: KEY, shared_secret: SECRET, user_id: String(USER_ID), shop_id: String(SHOP_ID) },
    shop_name: 'TestCrafts',
    currency_code: 'USD',
    rate_limit: { per_second: 1000, per_day: 1_000_000 },
    items,
  });
  tokens = await control('/accounts/shop/token', {});
}

function credentials(extra: Record<string, string> = {}): Record<string, string> {
  return {
    keystring: KEY,
    shared_secret: SECRET,
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    access_expires_at: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
    ...extra,
  };
}

function adapter(creds: Record<string, string> = credentials(), settings: Record<string, unknown> = {}): EtsyAdapter {
  return openAdapter(etsyChannel, {
    channelId: 'ch_etsy',
    baseUrl: emu.url,
    credentials: creds,
    settings,
    saveCredentials: async (c) => void saved.push(c),
  }) as EtsyAdapter;
}

async function rejection(p: Promise<unknown>): Promise<ChannelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  return err as ChannelError;
}

async function all(a: ChannelAdapter) {
  const out = [];
  for await (const page of a.listListings()) out.push(...page);
  return out;
}

/** A tee with Size S/M/L at different prices, published with the test's own calls to Etsy. */
async function teeListing(): Promise<number> {
  const t = tokens.access_token;
  const l = await etsy('POST', `/shops/${SHOP_ID}/listings`, t, {
    quantity: 1,
    title: 'Tee',
    description: 'A tee',
    price: 10,
    who_made: 'i_did',
    when_made: 'made_to_order',
    taxonomy_id: 482,
  });
  const size = (v: string) => [{ property_id: 100, property_name: 'Size', values: [v] }];
  await etsy('PUT', `/listings/${l.listing_id}/inventory`, t, {
    products: [
      { sku: 'TEE-S', property_values: size('S'), offerings: [{ price: 10, quantity: 3, is_enabled: true }] },
      { sku: 'TEE-M', property_values: size('M'), offerings: [{ price: 11.5, quantity: 5, is_enabled: true }] },
      { sku: 'TEE-L', property_values: size('L'), offerings: [{ price: 12.99, quantity: 7, is_enabled: true }] },
    ],
    price_on_property: [100],
    quantity_on_property: [100],
    sku_on_property: [100],
  });
  await control(`/accounts/shop/listings/${l.listing_id}/edit`, { state: 'active' });
  return l.listing_id as number;
}

const offerings = async (listingId: number) =>
  ((await etsy('GET', `/listings/${listingId}/inventory`, tokens.access_token)).products as any[]).map((p) => [
    p.sku,
    p.offerings[0].quantity,
    p.offerings[0].price.amount,
  ]);

beforeEach(async () => {
  saved = [];
  seen.length = 0;
  emu.knobs = { ...emu.knobs, recordRequests: false };
  await openShop([{ sku: 'MUG', name: 'Mug', qty: 4 }]);
});

describe('keys and tokens', () => {
  it('sends x-api-key keystring:shared_secret and the bearer token on every call', async () => {
    const a = adapter();
    expect(await a.testConnection()).toEqual({ ok: true, account: `Etsy shop ${SHOP_ID} (user ${USER_ID})` });
    await all(a);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    for (const s of seen) {
      expect(s.apiKey).toBe(`${KEY}:${SECRET}`);
      expect(s.auth).toBe(`Bearer ${tokens.access_token}`);
    }
    // The emulator enforces both: a wrong secret or a bad token is an auth failure.
    expect((await rejection(adapter(credentials({ shared_secret: 'wrong' })).testConnection())).kind).toBe('auth');
    const forged = credentials({ access_token: `${USER_ID}.forged`, refresh_token: 'nope' });
    expect((await rejection(adapter(forged).testConnection())).kind).toBe('auth');
  });

  it('renews the token shortly before it expires, and stores the rotated pair', async () => {
    const a = adapter(credentials({ access_expires_at: new Date(Date.now() + 30_000).toISOString() }));
    await a.testConnection();
    expect(saved).toHaveLength(1);
    expect(saved[0]!.refresh_token).not.toBe(tokens.refresh_token);
    expect(saved[0]!.access_token).not.toBe(tokens.access_token);
    expect(Date.parse(saved[0]!.access_expires_at!)).toBeGreaterThan(Date.now() + 3_000_000);
    expect(saved[0]).toMatchObject({ keystring: KEY, shared_secret: SECRET });
    // The call itself went out with the new token; the old refresh token is spent.
    expect(seen.at(-1)!.auth).toBe(`Bearer ${saved[0]!.access_token}`);
    const old = await fetch(`${emu.url}/v3/public/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: KEY, refresh_token: tokens.refresh_token }).toString(),
    });
    expect(old.status).toBe(400);
    // A token that is still good for long is not renewed.
    saved = [];
    await adapter().testConnection();
    expect(saved).toEqual([]);
  });

  it('a token that expired early (expiry unknown) is renewed on the 401 and the call retried', async () => {
    await control('/tokens', { expire: true });
    const a = adapter(credentials({ access_expires_at: 'not a time' }));
    expect((await a.testConnection()).ok).toBe(true);
    expect(saved).toHaveLength(1);
  });

  it('calls made together renew the token once (the used refresh token dies with the first renewal)', async () => {
    const soon = credentials({ access_expires_at: new Date(Date.now() + 1000).toISOString() });
    const a = adapter(soon);
    await Promise.all([a.testConnection(), a.testConnection(), a.testConnection()]);
    expect(saved).toHaveLength(1);
    saved = [];
    await control('/tokens', { expire: true });
    // Expired early: all three meet the 401; one renews, the others retry with its token.
    const b = adapter(credentials({ access_token: a.client.credentials.access_token!, refresh_token: a.client.credentials.refresh_token! }));
    await Promise.all([b.testConnection(), b.testConnection(), b.testConnection()]);
    expect(saved).toHaveLength(1);
  });

  it('a refused refresh is an auth error (the channel-auth alert)', async () => {
    await control('/tokens', { revoke: true });
    const a = adapter(credentials({ access_expires_at: new Date(Date.now() - 1000).toISOString() }));
    const err = await rejection(a.testConnection());
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/refused to renew the access token.*invalid_grant/);
    expect(saved).toEqual([]);
  });

  it('429 with retry-after is rate_limited with retryAfterMs', async () => {
    await control('/accounts/shop/rate-limit', { per_second: 2, reset: true });
    const a = adapter();
    await a.testConnection();
    await a.testConnection();
    const err = await rejection(a.testConnection());
    expect(err.kind).toBe('rate_limited');
    expect(err.retryAfterMs).toBe(1000);
  });
});

describe('stock side', () => {
  it('lists every variant as <listing_id>:<sku> with its quantity; reads some back', async () => {
    const tee = await teeListing();
    const mug = Number((await control('/accounts/shop/state')).items.find((i: any) => i.sku === 'MUG').externalId);
    const a = adapter();
    const listed = await all(a);
    expect(listed.map((l) => [l.externalId, l.sku, l.qty]).sort()).toEqual(
      [
        [`${mug}:MUG`, 'MUG', 4],
        [`${tee}:TEE-L`, 'TEE-L', 7],
        [`${tee}:TEE-M`, 'TEE-M', 5],
        [`${tee}:TEE-S`, 'TEE-S', 3],
      ].sort(),
    );
    expect(listed.find((l) => l.sku === 'MUG')!.name).toBe('Mug');
    const read = await a.readListings([{ externalId: `${tee}:TEE-M` }, { externalId: `${mug}:MUG` }, { externalId: '999:NOPE' }, { externalId: 'junk' }]);
    expect(read.map((r) => [r.externalId, r.qty]).sort()).toEqual([
      [`${mug}:MUG`, 4],
      [`${tee}:TEE-M`, 5],
    ]);
  });

  it('a push changes exactly the SKU’s offering quantity and keeps the other variations and prices', async () => {
    const tee = await teeListing();
    const before = await offerings(tee);
    const a = adapter();
    const push = (externalId: string, qty: number, listingId = 'lst_1') => ({
      listingId,
      externalId,
      qty,
      known: { qty: null, version: null },
      idempotencyKey: `k${qty}`,
    });
    const r = await a.pushLevels([push(`${tee}:TEE-M`, 9)]);
    expect(r).toEqual([{ listingId: 'lst_1', outcome: 'ok', qty: 9, version: null }]);
    expect(await offerings(tee)).toEqual(before.map(([sku, q, p]) => [sku, sku === 'TEE-M' ? 9 : q, p]));
    expect(before.map((b) => b[2])).toEqual([1000, 1150, 1299]);

    // Already held: reported unchanged, and no PUT goes out.
    emu.knobs = { ...emu.knobs, recordRequests: true };
    emu.requests.length = 0;
    const again = await a.pushLevels([push(`${tee}:TEE-M`, 9)]);
    expect(again[0]).toMatchObject({ outcome: 'ok', qty: 9, unchanged: true });
    expect(emu.requests.map((q) => q.method)).toEqual(['GET']);

    // Two variants of one listing share one GET and one PUT; an unknown SKU fails alone.
    emu.requests.length = 0;
    const both = await a.pushLevels([push(`${tee}:TEE-S`, 0, 'a'), push(`${tee}:TEE-L`, 1, 'b'), push(`${tee}:TEE-XL`, 1, 'c')]);
    expect(both.map((x) => x.outcome)).toEqual(['ok', 'ok', 'failed']);
    expect(emu.requests.map((q) => q.method)).toEqual(['GET', 'PUT']);
    expect(await offerings(tee)).toEqual([
      ['TEE-S', 0, 1000],
      ['TEE-M', 9, 1150],
      ['TEE-L', 1, 1299],
    ]);
  });

  it('a listing whose variants share one quantity gets its quantity split by SKU on push', async () => {
    const t = tokens.access_token;
    const l = await etsy('POST', `/shops/${SHOP_ID}/listings`, t, {
      quantity: 1,
      title: 'Cap',
      description: 'Cap',
      price: 8,
      who_made: 'i_did',
      when_made: 'made_to_order',
      taxonomy_id: 1,
    });
    const colour = (v: string) => [{ property_id: 200, property_name: 'Colour', values: [v] }];
    await etsy('PUT', `/listings/${l.listing_id}/inventory`, t, {
      products: [
        { sku: 'CAP-R', property_values: colour('Red'), offerings: [{ price: 8, quantity: 6, is_enabled: true }] },
        { sku: 'CAP-B', property_values: colour('Blue'), offerings: [{ price: 8, quantity: 6, is_enabled: true }] },
      ],
      sku_on_property: [200],
    });
    const r = await adapter().pushLevels([
      { listingId: 'x', externalId: `${l.listing_id}:CAP-R`, qty: 2, known: { qty: null, version: null }, idempotencyKey: 'k' },
    ]);
    expect(r[0]!.outcome).toBe('ok');
    expect(await offerings(l.listing_id)).toEqual([
      ['CAP-R', 2, 800],
      ['CAP-B', 6, 800],
    ]);
  });
});

describe('receipts polled', () => {
  const sale = (sku: string, qty = 1) => control('/accounts/shop/sale', { sku, qty });

  it('one order event per receipt since the cursor: nothing replayed, nothing skipped in the same second', async () => {
    await control('/accounts/shop/set', { sku: 'MUG', qty: 500 });
    const mug = Number((await control('/accounts/shop/state')).items[0].externalId);
    const old = await sale('MUG', 2);
    await sale('MUG', 1);
    const a = adapter();
    // Start: history is not replayed.
    const start = await a.pollEvents(null);
    expect(start.events).toEqual([]);

    // Early in a second, so the next sales, polls and sales all share it.
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 10));
    const s1 = await sale('MUG', 3);
    const p1 = await a.pollEvents(start.cursor);
    expect(p1.events).toEqual([
      {
        kind: 'order',
        effect: 'sale',
        externalEventId: `receipt:${s1.receipt_id}`,
        orderId: String(s1.receipt_id),
        occurredAt: expect.any(String),
        lines: [{ externalId: `${mug}:MUG`, sku: 'MUG', qty: 3 }],
      },
    ]);
    const s2 = await sale('MUG', 1);
    const p2 = await a.pollEvents(p1.cursor);
    expect(s2.receipt.updated_timestamp).toBe(s1.receipt.updated_timestamp);
    expect(p2.events.map((e) => e.externalEventId)).toEqual([`receipt:${s2.receipt_id}`]);
    const p3a = await a.pollEvents(p2.cursor);
    expect(p3a.events).toEqual([]);

    // An order from before the watch began, shipped now: modified, so listed again, but its sale was
    // counted by the import and is not applied again.
    const seller = (await control('/accounts/shop/token', { scopes: ['transactions_r', 'transactions_w'] })).access_token as string;
    const shipped = await etsy('PUT', `/shops/${SHOP_ID}/receipts/${old.receipt_id}`, seller, { was_shipped: true });
    expect(shipped.is_shipped).toBe(true);
    const p3 = await a.pollEvents(p3a.cursor);
    expect(p3.events).toEqual([]);

    // More than a page (100) of receipts: all of them, once.
    const ids = [];
    for (let i = 0; i < 105; i++) ids.push((await sale('MUG', 1)).receipt_id);
    const p4 = await a.pollEvents(p3.cursor);
    expect(p4.events.map((e) => e.externalEventId)).toEqual(ids.map((id) => `receipt:${id}`));
    expect((await a.pollEvents(p4.cursor)).events).toEqual([]);
  });

  it('an empty shop starts from the beginning: its first receipt is not missed', async () => {
    await openShop([{ sku: 'CUP', name: 'Cup', qty: 5 }]);
    const a = adapter();
    const start = await a.pollEvents(null);
    const s = await sale('CUP', 2);
    expect((await a.pollEvents(start.cursor)).events.map((e) => e.externalEventId)).toEqual([`receipt:${s.receipt_id}`]);
  });
});

describe('catalog side', () => {
  const draft = (over: Partial<ListingDraft> = {}): ListingDraft => ({
    productId: 'prd_1',
    title: 'Linen tee',
    description: 'Soft linen',
    brand: null,
    category: '482',
    attributes: {},
    currency: 'USD',
    options: [{ name: 'Size', values: ['S', 'M', 'L'] }],
    images: [{ id: 'img_1', url: `${imageBase}/media/tee.png`, contentType: 'image/png' }],
    variants: [
      { itemId: 'i1', sku: 'LT-S', optionValues: { Size: 'S' }, priceMinor: 1250, qty: 3 },
      { itemId: 'i2', sku: 'LT-M', optionValues: { Size: 'M' }, priceMinor: 1300, qty: 5 },
      { itemId: 'i3', sku: 'LT-L', optionValues: { Size: 'L' }, priceMinor: 1425, qty: 0 },
    ],
    ...over,
  });

  /** What the emulator received, in the plan's terms (form bodies arrive as strings). */
  const asReceived = (r: PlannedRequest) => {
    const url = r.url.slice(emu.url.length);
    if (r.upload) return { method: r.method, url, contentType: 'multipart/form-data' };
    if (r.method === 'GET') return { method: r.method, url, contentType: null, body: null };
    if (r.method === 'PUT') return { method: r.method, url, contentType: 'application/json', body: r.body };
    const form = Object.fromEntries(Object.entries(r.body as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
    return { method: r.method, url, contentType: 'application/x-www-form-urlencoded', body: form };
  };
  const received = (q: RecordedRequest) =>
    q.contentType === 'multipart/form-data'
      ? { method: q.method, url: q.url, contentType: q.contentType }
      : { method: q.method, url: q.url, contentType: q.contentType, body: q.body };

  it('publish 3 variants + 1 image: the dry run is what goes out, and the listing is active with the right offerings', async () => {
    const a = adapter();
    const plan = a.catalog.plan('publish', draft(), null);
    // Pure: planning twice gives the same requests, and nothing was sent.
    expect(a.catalog.plan('publish', draft(), null).requests).toEqual(plan.requests);
    expect(seen).toEqual([]);
    expect(plan.requests.map((r) => `${r.method} ${r.url.slice(emu.url.length)}`)).toEqual([
      'GET /v3/application/users/me',
      'POST /v3/application/shops/{{shop_id}}/listings',
      'POST /v3/application/shops/{{shop_id}}/listings/{{listing_id}}/images',
      'PUT /v3/application/listings/{{listing_id}}/inventory',
      'PATCH /v3/application/shops/{{shop_id}}/listings/{{listing_id}}',
    ]);

    emu.knobs = { ...emu.knobs, recordRequests: true };
    emu.requests.length = 0;
    const captured = await runPlan(a.catalog, plan.requests);
    expect(captured.shop_id).toBe(String(SHOP_ID));
    expect(emu.requests.map(received)).toEqual(plan.requests.map((r) => asReceived(fillRequest(r, captured))));
    expect(emu.requests.every((q) => q.status < 300)).toBe(true);

    const { ref, listings } = plan.outcome(captured);
    const id = Number(captured.listing_id);
    expect(ref).toEqual({ externalId: String(id), refs: { shop_id: String(SHOP_ID) } });
    expect(listings).toEqual([
      { sku: 'LT-S', externalId: `${id}:LT-S` },
      { sku: 'LT-M', externalId: `${id}:LT-M` },
      { sku: 'LT-L', externalId: `${id}:LT-L` },
    ]);
    const l = await etsy('GET', `/listings/${id}?includes=Inventory,Images`, tokens.access_token);
    expect(l).toMatchObject({ state: 'active', title: 'Linen tee', description: 'Soft linen', taxonomy_id: 482, has_variations: true });
    expect(l.images).toHaveLength(1);
    expect(
      l.inventory.products.map((p: any) => [
        p.sku,
        p.property_values[0].property_name,
        p.property_values[0].values[0],
        p.offerings[0].price.amount,
        p.offerings[0].quantity,
      ]),
    ).toEqual([
      ['LT-S', 'Size', 'S', 1250, 3],
      ['LT-M', 'Size', 'M', 1300, 5],
      ['LT-L', 'Size', 'L', 1425, 0],
    ]);
    // The stock side tracks what the catalog side published.
    expect((await a.readListings(listings)).map((r) => [r.externalId, r.qty])).toEqual(listings.map((x, i) => [x.externalId, [3, 5, 0][i]]));

    // update: a new title (and the inventory again); delist and relist flip the state.
    const run = async (action: 'update' | 'delist' | 'relist', d = draft()) => {
      const p = a.catalog.plan(action, d, ref);
      expect(p.requests.some((r) => r.url.includes('users/me'))).toBe(false); // the shop id is in the ref
      await runPlan(a.catalog, p.requests);
      expect(p.outcome({}).ref).toEqual(ref);
      return etsy('GET', `/listings/${id}`, tokens.access_token);
    };
    expect((await run('update', draft({ title: 'Linen tee, washed' }))).title).toBe('Linen tee, washed');
    expect((await run('delist')).state).toBe('inactive');
    expect((await run('relist')).state).toBe('active');
  });

  it('a merchant-fixable refusal is permanent with Etsy’s text; plans refuse what Etsy cannot take', async () => {
    const a = adapter({ ...credentials() }, { shop_id: SHOP_ID });
    const plan = a.catalog.plan('publish', draft({ variants: draft().variants.map((v) => ({ ...v, priceMinor: 0 })) }), null);
    expect(plan.requests[0]!.url).toBe(`${emu.url}/v3/application/shops/${SHOP_ID}/listings`);
    const err = await rejection(runPlan(a.catalog, plan.requests));
    expect(err.kind).toBe('permanent');
    expect(err.message).toBe('Create the draft listing: Etsy refused it: price must be a positive number');
    expect(() => a.catalog.plan('publish', draft({ images: [] }), null)).toThrow(/at least one image/);
    expect(() => a.catalog.plan('delist', draft(), null)).toThrow(/not published/);
  });

  it('recover: the drafts a lost create made are those with its fields since it went out, oldest first', async () => {
    const a = adapter({ ...credentials() }, { shop_id: SHOP_ID });
    const create = a.catalog.plan('publish', draft({ title: 'Oak board' }), null).requests[0]!;
    expect(create.recoverable).toBe(true);
    const since = new Date(Date.now() - 1000);
    expect(await a.catalog.recover!(create, since)).toEqual([]);
    const first = (await a.catalog.send(create)) as { listing_id: number };
    const second = (await a.catalog.send(create)) as { listing_id: number };
    // Not ours: another price, another title, and the same create published all the way (active).
    await a.catalog.send({ ...create, body: { ...(create.body as object), price: 99 } });
    await a.catalog.send({ ...create, body: { ...(create.body as object), title: 'Oak board, large' } });
    const full = a.catalog.plan('publish', draft({ title: 'Oak board' }), null);
    await runPlan(a.catalog, full.requests);
    const found = (await a.catalog.recover!(create, since)) as Array<{ listing_id: number; state: string }>;
    expect(found.map((l) => [l.listing_id, l.state])).toEqual([
      [first.listing_id, 'draft'],
      [second.listing_id, 'draft'],
    ]);
    // Drafts made before the attempt went out (beyond the clock slack) are not its doing.
    expect(await a.catalog.recover!(create, new Date(Date.now() + 10 * 60_000))).toEqual([]);
    // Only a create is recovered.
    expect(await a.catalog.recover!(full.requests.at(-1)!, since)).toEqual([]);
  });

  it('readFields: a title edited on Etsy, the price when variants agree (null when they differ)', async () => {
    const a = adapter();
    const plan = a.catalog.plan('publish', draft(), null);
    const { ref } = plan.outcome(await runPlan(a.catalog, plan.requests));
    await control(`/accounts/shop/listings/${ref.externalId}/edit`, { title: 'Edited on Etsy' });
    const mug = (await control('/accounts/shop/state')).items.find((i: any) => i.sku === 'MUG').externalId as string;
    expect(await a.catalog.readFields([ref, { externalId: mug, refs: {} }, { externalId: '1', refs: {} }])).toEqual([
      { externalId: ref.externalId, title: 'Edited on Etsy', description: 'Soft linen', priceMinor: null },
      { externalId: mug, title: 'Mug', description: 'Mug', priceMinor: 1000 },
      { externalId: '1', title: null, description: null, priceMinor: null },
    ]);
  });
});

describe('OAuth connect flow', () => {
  async function consent(url: string): Promise<URL> {
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!.replaceAll('&amp;', '&');
    const allow = await fetch(new URL(action, url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `user_id=${USER_ID}&decision=allow`,
      redirect: 'manual',
    });
    expect(allow.status).toBe(302);
    return new URL(allow.headers.get('location')!);
  }

  it('authorize URL -> consent Allow -> code -> exchange gives working tokens; a wrong verifier is refused', async () => {
    const pkce = createPkce();
    expect(pkce.verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    const url = authorizeUrl({ baseUrl: emu.url, keystring: KEY, redirectUri: REDIRECT, state: 'st-1', codeChallenge: pkce.challenge });
    expect(new URL(url).searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl({ baseUrl: 'https://openapi.etsy.com', keystring: KEY, redirectUri: REDIRECT, state: 's', codeChallenge: pkce.challenge })).toMatch(
      /^https:\/\/www\.etsy\.com\/oauth\/connect\?response_type=code&client_id=testkeystring&/,
    );
    expect(tokenUrl('https://openapi.etsy.com')).toBe('https://api.etsy.com/v3/public/oauth/token');
    expect(tokenUrl(emu.url)).toBe(`${emu.url}/v3/public/oauth/token`);
    const back = await consent(url);
    expect(`${back.origin}${back.pathname}`).toBe(REDIRECT);
    expect(back.searchParams.get('state')).toBe('st-1');
    const code = back.searchParams.get('code')!;

    const wrong = await rejection(exchangeCode({ baseUrl: emu.url, keystring: KEY, redirectUri: REDIRECT, code, codeVerifier: createPkce().verifier }));
    expect(wrong.kind).toBe('auth');
    expect(wrong.message).toMatch(/code_verifier is invalid/);

    const got = await exchangeCode({ baseUrl: emu.url, keystring: KEY, redirectUri: REDIRECT, code, codeVerifier: pkce.verifier });
    expect(Date.parse(got.access_expires_at)).toBeGreaterThan(Date.now());
    const a = adapter({ keystring: KEY, shared_secret: SECRET, ...got });
    expect((await a.testConnection()).account).toContain(String(SHOP_ID));
  });
});

describe('webhooks', () => {
  it('Etsy sends none: everything is refused as unsigned and nothing is parsed', async () => {
    const req = { headers: {}, rawBody: Buffer.from('{}'), url: 'http://x/webhooks/etsy/ch_1' };
    expect(await etsyChannel.webhook.verify(req, {}, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    expect(etsyChannel.webhook.parse(req)).toEqual([]);
  });
});

afterEach(() => {
  emu.knobs = { ...emu.knobs, recordRequests: false };
});
