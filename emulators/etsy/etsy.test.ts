// The Etsy emulator over real HTTP, the way an adapter will meet it: OAuth with PKCE, keys and
// tokens, publishing a listing with variants, receipts, quotas and the platform's memory.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../kit/index.ts';
import { createEtsyEmulator, type EtsyAccount } from './index.ts';

const KEY = 'emukeystring1';
const SECRET = 'sekret';
const API_KEY = `${KEY}:${SECRET}`;
const SHOP_ID = 55501;
const USER_ID = 77701;
const REDIRECT = 'http://127.0.0.1:9/callback';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etsy-emu-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

type Res = { status: number; body: any; headers: Headers };

async function call(
  emu: Emulator<EtsyAccount>,
  method: string,
  url: string,
  opts: { body?: unknown; token?: string | null; apiKey?: string | null; form?: boolean } = {},
): Promise<Res> {
  const headers: Record<string, string> = {};
  const apiKey = opts.apiKey === undefined ? API_KEY : opts.apiKey;
  if (apiKey) headers['x-api-key'] = apiKey;
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: RequestInit['body'];
  if (opts.body instanceof FormData) body = opts.body;
  else if (opts.body !== undefined && opts.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(opts.body as Record<string, string>).toString();
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${emu.url}${url}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* html */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

const control = (emu: Emulator<EtsyAccount>, url: string, body?: unknown) => call(emu, body === undefined ? 'GET' : 'POST', url, { body, apiKey: null });

async function openShop(emu: Emulator<EtsyAccount>, extra: Record<string, unknown> = {}, items: unknown[] = []): Promise<void> {
  const r = await control(emu, '/_control/accounts', {
    id: 'shop',
    credentials: { keystring: KEY, shared_secret: SECRET, user_id: String(USER_ID), shop_id: String(SHOP_ID) },
    shop_name: 'EmuCrafts',
    // Out of the way of tests that are not about quotas (those set their own).
    rate_limit: { per_second: 1000, per_day: 100_000 },
    currency_code: 'GBP',
    items,
    ...extra,
  });
  expect(r.status).toBe(201);
}

const pkce = () => {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** Consent page -> Allow -> code; returns the code the redirect carried. */
async function authorize(emu: Emulator<EtsyAccount>, challenge: string, scope = 'listings_r listings_w listings_d transactions_r'): Promise<string> {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: KEY,
    redirect_uri: REDIRECT,
    scope,
    state: 'st-123',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const page = await call(emu, 'GET', `/oauth/connect?${q}`, { apiKey: null });
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toMatch(/text\/html/);
  expect(page.body).toContain('Allow Access');
  const action = /<form method="post" action="([^"]+)"/.exec(page.body as string)![1]!.replaceAll('&amp;', '&');
  const res = await fetch(`${emu.url}${action}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `user_id=${USER_ID}&decision=allow`,
    redirect: 'manual',
  });
  expect(res.status).toBe(302);
  const loc = new URL(res.headers.get('location')!);
  expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
  expect(loc.searchParams.get('state')).toBe('st-123');
  return loc.searchParams.get('code')!;
}

const exchange = (emu: Emulator<EtsyAccount>, code: string, verifier: string) =>
  call(emu, 'POST', '/v3/public/oauth/token', {
    apiKey: null,
    form: true,
    body: { grant_type: 'authorization_code', client_id: KEY, redirect_uri: REDIRECT, code, code_verifier: verifier },
  });

async function token(emu: Emulator<EtsyAccount>): Promise<string> {
  const r = await control(emu, '/_control/accounts/shop/token', {});
  return r.body.access_token as string;
}

let emu: Emulator<EtsyAccount>;
beforeEach(async () => {
  emu = createEtsyEmulator();
  await emu.listen();
});
afterEach(async () => {
  await emu.close();
});

describe('OAuth 2.0 with PKCE', () => {
  it('consent, code, token: the token is <user_id>.<opaque> and opens the seller endpoints', async () => {
    await openShop(emu);
    const { verifier, challenge } = pkce();
    const code = await authorize(emu, challenge);
    const r = await exchange(emu, code, verifier);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(r.body.access_token).toMatch(new RegExp(`^${USER_ID}\\.`));
    expect(r.body.refresh_token).toMatch(new RegExp(`^${USER_ID}\\.`));
    const me = await call(emu, 'GET', '/v3/application/users/me', { token: r.body.access_token });
    expect(me.body).toEqual({ user_id: USER_ID, shop_id: SHOP_ID });
    // A code works once.
    expect((await exchange(emu, code, verifier)).body.error).toBe('invalid_grant');
  });

  it('a wrong code_verifier is refused and the code is not spent by it', async () => {
    await openShop(emu);
    const { verifier, challenge } = pkce();
    const code = await authorize(emu, challenge);
    const wrong = await exchange(emu, code, pkce().verifier);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ error: 'invalid_grant', error_description: 'code_verifier is invalid' });
    expect((await exchange(emu, code, verifier)).status).toBe(200);
  });

  it('Deny and a bad challenge method come back on the redirect; an unknown client gets Etsy’s page', async () => {
    await openShop(emu);
    const q = (extra: Record<string, string>) =>
      new URLSearchParams({
        response_type: 'code',
        client_id: KEY,
        redirect_uri: REDIRECT,
        scope: 'listings_r',
        state: 's',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
        ...extra,
      });
    const plain = await call(emu, 'GET', `/oauth/connect?${q({ code_challenge_method: 'plain' })}`, { apiKey: null });
    expect(plain.status).toBe(302);
    expect(new URL(plain.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    const deny = await fetch(`${emu.url}/oauth/connect?${q({})}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'decision=deny',
      redirect: 'manual',
    });
    expect(new URL(deny.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    expect((await call(emu, 'GET', `/oauth/connect?${q({ client_id: 'nobody' })}`, { apiKey: null })).status).toBe(400);
  });

  it('refresh hands out a new pair and revokes the used refresh token; an expired access token is invalid_token', async () => {
    await openShop(emu);
    const { verifier, challenge } = pkce();
    const first = (await exchange(emu, await authorize(emu, challenge), verifier)).body;
    expect((await control(emu, '/_control/tokens', { expire: true })).status).toBe(200);
    const expired = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/receipts`, { token: first.access_token });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({ error: 'invalid_token', error_description: 'access token is expired' });
    const refresh = (rt: string) =>
      call(emu, 'POST', '/v3/public/oauth/token', { apiKey: null, body: { grant_type: 'refresh_token', client_id: KEY, refresh_token: rt } });
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.expires_in).toBe(3600);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/receipts`, { token: second.body.access_token })).status).toBe(200);
    expect((await refresh(first.refresh_token)).body).toEqual({ error: 'invalid_grant', error_description: 'refresh_token is revoked' });
  });

  it('tokens expire on their own after expires_in', async () => {
    await emu.close();
    emu = createEtsyEmulator({ tokenTtlSec: 1 });
    await emu.listen();
    await openShop(emu);
    const t = await token(emu);
    expect((await call(emu, 'GET', '/v3/application/users/me', { token: t })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call(emu, 'GET', '/v3/application/users/me', { token: t })).body.error_description).toBe('access token is expired');
  });
});

describe('keys and tokens on /v3/application', () => {
  it('x-api-key missing, without the shared secret, or unknown: 403 with Etsy’s error; a seller call without a bearer: 401', async () => {
    await openShop(emu);
    const t = await token(emu);
    const missing = await call(emu, 'GET', '/v3/application/users/me', { apiKey: null, token: t });
    expect(missing.status).toBe(403);
    expect(missing.body).toEqual({ error: "Invalid API key: should be in the format 'keystring:shared_secret'." });
    expect((await call(emu, 'GET', '/v3/application/users/me', { apiKey: KEY, token: t })).body).toEqual({
      error: 'Shared secret is required in x-api-key header.',
    });
    expect((await call(emu, 'GET', '/v3/application/users/me', { apiKey: 'nope:x', token: t })).body).toEqual({ error: 'Invalid API key' });
    const noBearer = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/listings`);
    expect(noBearer.status).toBe(401);
    expect((await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/listings`, { token: `${USER_ID}.forged` })).body.error).toBe('invalid_token');
    expect((await call(emu, 'GET', '/v3/application/openapi-ping')).status).toBe(200);
  });

  it('a token without the scope is refused', async () => {
    await openShop(emu);
    const t = (await control(emu, '/_control/accounts/shop/token', { scopes: ['listings_r'] })).body.access_token;
    const r = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/receipts`, { token: t });
    expect(r.status).toBe(403);
    expect(r.body.error).toBe('insufficient_scope');
  });
});

const SIZES = [
  ['S', 'TEE-S', 12.5, 3],
  ['M', 'TEE-M', 13, 5],
  ['L', 'TEE-L', 14.25, 0],
] as const;
const variants = (sizes: ReadonlyArray<readonly [string, string, number, number]>, colour = 'Blue') => ({
  products: sizes.map(([size, sku, price, quantity]) => ({
    sku,
    property_values: [
      { property_id: 100, property_name: 'Size', scale_id: null, value_ids: [], values: [size] },
      { property_id: 200, property_name: 'Primary color', scale_id: null, values: [colour] },
    ],
    offerings: [{ price, quantity, is_enabled: true }],
  })),
  price_on_property: [100],
  quantity_on_property: [100],
  sku_on_property: [100],
});

describe('publishing a listing', () => {
  async function draft(t: string): Promise<number> {
    const r = await call(emu, 'POST', `/v3/application/shops/${SHOP_ID}/listings`, {
      token: t,
      form: true,
      body: { quantity: '8', title: 'Linen tee', description: 'Soft linen', price: '12.50', who_made: 'i_did', when_made: 'made_to_order', taxonomy_id: '482' },
    });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      state: 'draft',
      shop_id: SHOP_ID,
      user_id: USER_ID,
      quantity: 8,
      price: { amount: 1250, divisor: 100, currency_code: 'GBP' },
    });
    return r.body.listing_id as number;
  }

  it('draft -> image -> 3 variants -> active; GET shapes; updateListing ignores quantity/price', async () => {
    await openShop(emu);
    const t = await token(emu);
    const missing = await call(emu, 'POST', `/v3/application/shops/${SHOP_ID}/listings`, { token: t, body: { title: 'x' } });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatch(/Missing Input Parameter: \[quantity, description, price, who_made, when_made, taxonomy_id\]/);
    const id = await draft(t);

    // Not active without a photo.
    const early = await call(emu, 'PATCH', `/v3/application/shops/${SHOP_ID}/listings/${id}`, { token: t, form: true, body: { state: 'active' } });
    expect(early.status).toBe(400);
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000003200000025808060000000000000000', 'hex');
    const form = new FormData();
    form.append('image', new Blob([png], { type: 'image/png' }), 'tee.png');
    form.append('alt_text', 'A tee');
    const img = await call(emu, 'POST', `/v3/application/shops/${SHOP_ID}/listings/${id}/images`, { token: t, body: form });
    expect(img.status).toBe(201);
    expect(img.body).toMatchObject({ listing_id: id, rank: 1, full_width: 800, full_height: 600, alt_text: 'A tee' });
    const images = await call(emu, 'GET', `/v3/application/listings/${id}/images`, { token: t });
    expect(images.body.count).toBe(1);
    expect(images.body.results[0].listing_image_id).toBe(img.body.listing_image_id);

    const put = await call(emu, 'PUT', `/v3/application/listings/${id}/inventory`, { token: t, body: variants(SIZES) });
    expect(put.status).toBe(200);
    const inv = await call(emu, 'GET', `/v3/application/listings/${id}/inventory`, { token: t });
    expect(inv.status).toBe(200);
    expect(inv.body.products).toHaveLength(3);
    expect(inv.body.price_on_property).toEqual([100]);
    expect(inv.body.sku_on_property).toEqual([100]);
    const m = inv.body.products.find((p: { sku: string }) => p.sku === 'TEE-M');
    expect(m).toMatchObject({
      is_deleted: false,
      property_values: [
        { property_id: 100, values: ['M'] },
        { property_id: 200, values: ['Blue'] },
      ],
    });
    expect(typeof m.product_id).toBe('number');
    expect(m.property_values[0].value_ids).toHaveLength(1);
    expect(m.offerings).toEqual([
      {
        offering_id: expect.any(Number),
        quantity: 5,
        is_enabled: true,
        is_deleted: false,
        price: { amount: 1300, divisor: 100, currency_code: 'GBP' },
        readiness_state_id: null,
      },
    ]);

    const patched = await call(emu, 'PATCH', `/v3/application/shops/${SHOP_ID}/listings/${id}`, {
      token: t,
      form: true,
      body: { state: 'active', title: 'Linen tee, blue', quantity: '99', price: '1.00' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ state: 'active', title: 'Linen tee, blue', quantity: 8, price: { amount: 1250 }, has_variations: true });
    // Public read with the key alone once active; listings by state with Etsy's envelope.
    expect((await call(emu, 'GET', `/v3/application/listings/${id}?includes=Inventory,Images`)).body.inventory.products).toHaveLength(3);
    const listed = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/listings?state=active&limit=10&offset=0`, { token: t });
    expect(listed.body.count).toBe(1);
    expect(listed.body.results[0].listing_id).toBe(id);
    expect((await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/listings?state=draft`, { token: t })).body).toEqual({ count: 0, results: [] });
    expect((await control(emu, '/_control/accounts/shop/state')).body.items.map((i: { sku: string; qty: number }) => [i.sku, i.qty])).toEqual([
      ['TEE-S', 3],
      ['TEE-M', 5],
      ['TEE-L', 0],
    ]);

    expect((await call(emu, 'DELETE', `/v3/application/listings/${id}`, { token: t })).status).toBe(204);
    expect((await call(emu, 'GET', `/v3/application/listings/${id}`)).status).toBe(404);
  });

  it('PUT refuses read-only fields, Money prices, inconsistent *_on_property and missing combinations', async () => {
    await openShop(emu);
    const t = await token(emu);
    const id = await draft(t);
    const put = (body: unknown) => call(emu, 'PUT', `/v3/application/listings/${id}/inventory`, { token: t, body });
    const inv = (await call(emu, 'GET', `/v3/application/listings/${id}/inventory`, { token: t })).body;
    // Sending GET's answer back as-is is the classic mistake (issue #159).
    const asIs = await put(inv);
    expect(asIs.status).toBe(400);
    expect(asIs.body.error).toMatch(/product_id is read-only/);
    const base = variants(SIZES);
    const withOfferingId = structuredClone(base) as any;
    withOfferingId.products[0].offerings[0].offering_id = 1;
    expect((await put(withOfferingId)).body.error).toMatch(/offering_id is read-only/);
    const moneyPrice = structuredClone(base) as any;
    moneyPrice.products[0].offerings[0].price = { amount: 1250, divisor: 100, currency_code: 'GBP' };
    expect((await put(moneyPrice)).body.error).toMatch(/price must be a number/);
    expect((await put({ ...base, price_on_property: [] })).body.error).toMatch(/different prices but price_on_property is empty/);
    expect((await put({ ...base, sku_on_property: [] })).body.error).toMatch(/different skus/);
    expect((await put({ ...base, quantity_on_property: [300] })).body.error).toMatch(/names property 300/);
    const tooMany = structuredClone(base) as any;
    tooMany.products[0].offerings[0].quantity = 1000;
    expect((await put(tooMany)).body.error).toMatch(/between 0 and 999/);
    // Two colours x three sizes needs six products.
    const partial = variants(SIZES);
    partial.products.push(...variants([SIZES[0]], 'Red').products);
    expect((await put(partial)).body.error).toBe('All combinations of property values must be supplied');
    expect((await put({ products: [] })).body.error).toBe('Missing Input Parameter: [products].');
    // Nothing changed by the refused writes.
    expect((await call(emu, 'GET', `/v3/application/listings/${id}/inventory`, { token: t })).body).toEqual(inv);
  });

  it('PUT replaces the whole set: a variant left out is gone, and ids are new on every write', async () => {
    await openShop(emu);
    const t = await token(emu);
    const id = await draft(t);
    const put = (body: unknown) => call(emu, 'PUT', `/v3/application/listings/${id}/inventory`, { token: t, body });
    const first = (await put(variants(SIZES))).body;
    const second = (await put(variants([SIZES[0], SIZES[1]]))).body;
    expect(second.products.map((p: { sku: string }) => p.sku)).toEqual(['TEE-S', 'TEE-M']);
    const ids = (inv: any) => inv.products.flatMap((p: any) => [p.product_id, p.offerings[0].offering_id]);
    expect(ids(second).some((x: number) => ids(first).includes(x))).toBe(false);
    // Value ids stay with their (property, value).
    expect(second.products[0].property_values[0].value_ids).toEqual(first.products[0].property_values[0].value_ids);
    expect((await call(emu, 'GET', `/v3/application/listings/${id}`, { token: t })).body.quantity).toBe(8);
  });

  it('a title edited on Etsy shows in the API', async () => {
    await openShop(emu, {}, [{ sku: 'MUG', name: 'Mug', qty: 4 }]);
    const listingId = Number((await control(emu, '/_control/accounts/shop/state')).body.items[0].externalId);
    const edited = await control(emu, `/_control/accounts/shop/listings/${listingId}/edit`, { title: 'Mug (seller edit)' });
    expect(edited.status).toBe(200);
    const got = await call(emu, 'GET', `/v3/application/listings/${listingId}`);
    expect(got.body.title).toBe('Mug (seller edit)');
    expect(got.body.last_modified_timestamp).toBeGreaterThanOrEqual(got.body.creation_timestamp);
  });
});

describe('sales and receipts', () => {
  it('a sale makes a paid receipt with the transaction and lowers the offering; state shows it', async () => {
    await openShop(emu, {}, [
      { sku: 'MUG', name: 'Mug', qty: 4 },
      { sku: 'BOWL', name: 'Bowl', qty: 1 },
    ]);
    const t = await token(emu);
    const sale = await control(emu, '/_control/accounts/shop/sale', { sku: 'MUG', qty: 3 });
    expect(sale.status).toBe(200);
    expect(sale.body.qty).toBe(1);
    expect((await control(emu, '/_control/accounts/shop/sale', { sku: 'MUG', qty: 2 })).status).toBe(409);
    await control(emu, '/_control/accounts/shop/sale', { sku: 'BOWL', qty: 1 });
    expect((await control(emu, '/_control/accounts/shop/state')).body.items.map((i: { sku: string; qty: number }) => [i.sku, i.qty])).toEqual([
      ['MUG', 1],
      ['BOWL', 0],
    ]);
    const r = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/receipts?was_paid=true`, { token: t });
    expect(r.body.count).toBe(2);
    const mugReceipt = r.body.results.find((x: any) => x.transactions[0].sku === 'MUG');
    expect(mugReceipt).toMatchObject({ receipt_id: sale.body.receipt_id, is_paid: true, status: 'paid', seller_user_id: USER_ID });
    expect(mugReceipt.transactions[0]).toMatchObject({ listing_id: sale.body.listing_id, sku: 'MUG', quantity: 3, price: { amount: 1000, divisor: 100 } });
    expect(typeof mugReceipt.transactions[0].product_id).toBe('number');
    // Sold out: the listing leaves the active list.
    const active = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/listings?state=sold_out`, { token: t });
    expect(active.body.results.map((l: { title: string }) => l.title)).toEqual(['Bowl']);
  });

  it('receipts page by offset and filter by min_last_modified (a poller’s cursor)', async () => {
    await openShop(emu, {}, [{ sku: 'MUG', name: 'Mug', qty: 50 }]);
    const t = await token(emu);
    for (let i = 0; i < 5; i++) await control(emu, '/_control/accounts/shop/sale', { sku: 'MUG', qty: 1 });
    const since = Math.floor(Date.now() / 1000) + 1;
    await new Promise((r) => setTimeout(r, since * 1000 - Date.now() + 20));
    for (let i = 0; i < 3; i++) await control(emu, '/_control/accounts/shop/sale', { sku: 'MUG', qty: 2 });
    const url = (q: string) => `/v3/application/shops/${SHOP_ID}/receipts?${q}`;
    const p1 = await call(emu, 'GET', url('limit=2&offset=0&sort_on=created&sort_order=asc'), { token: t });
    const p2 = await call(emu, 'GET', url('limit=2&offset=2&sort_on=created&sort_order=asc'), { token: t });
    expect(p1.body.count).toBe(8);
    expect(p1.body.results).toHaveLength(2);
    const seen = [...p1.body.results, ...p2.body.results].map((r: { receipt_id: number }) => r.receipt_id);
    expect(new Set(seen).size).toBe(4);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    const fresh = await call(emu, 'GET', url(`min_last_modified=${since}&limit=100`), { token: t });
    expect(fresh.body.count).toBe(3);
    expect(fresh.body.results.every((r: any) => r.transactions[0].quantity === 2)).toBe(true);
    expect((await call(emu, 'GET', url('limit=101'), { token: t })).status).toBe(400);
  });
});

describe('rate limits', () => {
  it('every answer carries the quota headers; 429 + retry-after past the per-second quota', async () => {
    await openShop(emu, { rate_limit: { per_second: 3, per_day: 1000 } });
    const first = await call(emu, 'GET', '/v3/application/openapi-ping');
    expect(first.headers.get('x-limit-per-second')).toBe('3');
    expect(first.headers.get('x-remaining-this-second')).toBe('2');
    expect(first.headers.get('x-limit-per-day')).toBe('1000');
    expect(first.headers.get('x-remaining-today')).toBe('999');
    await call(emu, 'GET', '/v3/application/openapi-ping');
    await call(emu, 'GET', '/v3/application/openapi-ping');
    const over = await call(emu, 'GET', '/v3/application/openapi-ping');
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('1');
    expect(over.headers.get('x-remaining-this-second')).toBe('0');
    expect(emu.stats.throttled).toBe(1);
    await new Promise((r) => setTimeout(r, 1050));
    expect((await call(emu, 'GET', '/v3/application/openapi-ping')).status).toBe(200);
  });

  it('a seller’s token has its own quota (per OAuth access token), apart from the key-only calls', async () => {
    await openShop(emu, { rate_limit: { per_second: 2, per_day: 1000 } });
    const t = await token(emu);
    for (let i = 0; i < 2; i++) expect((await call(emu, 'GET', '/v3/application/openapi-ping')).status).toBe(200);
    expect((await call(emu, 'GET', '/v3/application/openapi-ping')).status).toBe(429);
    // The key alone is spent for this second; the seller's calls draw on their own.
    const me = await call(emu, 'GET', '/v3/application/users/me', { token: t });
    expect(me.status).toBe(200);
    expect(me.headers.get('x-remaining-this-second')).toBe('1');
    expect((await call(emu, 'GET', '/v3/application/users/me', { token: t })).status).toBe(200);
    expect((await call(emu, 'GET', '/v3/application/users/me', { token: t })).status).toBe(429);
  });

  it('the per-day quota is a sliding 24 h, per key, and its retry-after says hours', async () => {
    await openShop(emu, { rate_limit: { per_second: 100, per_day: 4 } });
    for (let i = 0; i < 4; i++) expect((await call(emu, 'GET', '/v3/application/openapi-ping')).status).toBe(200);
    const over = await call(emu, 'GET', '/v3/application/openapi-ping');
    expect(over.status).toBe(429);
    expect(over.headers.get('x-remaining-today')).toBe('0');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(86_000);
    const stats = (await control(emu, '/_control/stats')).body;
    expect(stats.throttled).toBe(1);
    // Raising the quota lets the app in again.
    await control(emu, '/_control/accounts/shop/rate-limit', { per_day: 10 });
    expect((await call(emu, 'GET', '/v3/application/openapi-ping')).headers.get('x-remaining-today')).toBe('5');
  });
});

describe('persistence', () => {
  it('listings, inventory, receipts, tokens and ids survive a restart', async () => {
    const file = path.join(dir, 'etsy.json');
    await emu.close();
    emu = createEtsyEmulator({ stateFile: file });
    await emu.listen();
    await openShop(emu, {}, [{ sku: 'MUG', name: 'Mug', qty: 4 }]);
    const t = await token(emu);
    const sale = (await control(emu, '/_control/accounts/shop/sale', { sku: 'MUG', qty: 1 })).body;
    await emu.close();

    emu = createEtsyEmulator({ stateFile: file });
    await emu.listen();
    expect((await control(emu, '/_control/accounts/shop/state')).body.items).toMatchObject([{ sku: 'MUG', qty: 3 }]);
    const receipts = await call(emu, 'GET', `/v3/application/shops/${SHOP_ID}/receipts`, { token: t });
    expect(receipts.status).toBe(200);
    expect(receipts.body.results.map((r: { receipt_id: number }) => r.receipt_id)).toEqual([sale.receipt_id]);
    const next = (await control(emu, '/_control/accounts/shop/sale', { sku: 'MUG', qty: 1 })).body;
    expect(next.receipt_id).toBeGreaterThan(sale.receipt_id);
    expect(next.qty).toBe(2);
  });
});
