// The eBay emulator over real HTTP, checked against eBay's documented behaviour (and, for
// notification signatures, the way eBay's own Node SDK verifies them).
import { createHash, createVerify } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../kit/index.ts';
import { createEbayEmulator, type EbayAccount } from './index.ts';

const CLIENT = {
  client_id: 'StockCle-app-PRD-1',
  client_secret: 'PRD-secret-1',
  ru_name: 'StockClerk-StockCle-app-PR-abcde',
  accept_url: 'https://app.example/ebay/accepted',
};
const INV = 'https://api.ebay.com/oauth/api_scope/sell.inventory';
const FUL = 'https://api.ebay.com/oauth/api_scope/sell.fulfillment';
const basic = `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`;

let emu: Emulator<EbayAccount>;

async function call(method: string, url: string, opts: { body?: unknown; token?: string; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...(opts.headers ?? {}) };
  if (opts.body !== undefined) headers['content-type'] ??= 'application/json';
  const res = await fetch(`${emu.url}${url}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), redirect: 'manual' });
  const text = await res.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers };
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

async function tokenCall(fields: Record<string, string>) {
  const res = await fetch(`${emu.url}/identity/v1/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
    body: form(fields),
  });
  return { status: res.status, body: (await res.json()) as any };
}

async function userToken(id = 'seller-1'): Promise<string> {
  return (await call('POST', `/_control/accounts/${id}/token`)).body.access_token;
}

const lang = { 'content-language': 'en-US' };

async function startWith(items = [{ sku: 'MUG-1', name: 'Mug', qty: 10 }], opts = {}) {
  emu = createEbayEmulator(opts);
  await emu.listen();
  emu.addAccount({ id: 'seller-1', credentials: { ...CLIENT, username: 'mugshop' }, items });
}

afterEach(async () => {
  await emu?.close();
});

describe('OAuth authorization code grant', () => {
  beforeEach(() => startWith());

  it('consent page -> code -> user token + refresh token; refresh; expiry answers 401 / 1001', async () => {
    const q = form({ client_id: CLIENT.client_id, redirect_uri: CLIENT.ru_name, response_type: 'code', scope: `${INV} ${FUL}`, state: 'xyz-1' });
    const page = await call('GET', `/oauth2/authorize?${q}`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Agree');
    expect(page.body).toContain('mugshop');

    const agreed = await fetch(`${emu.url}/oauth2/authorize?${q}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ username: 'mugshop', decision: 'agree' }),
      redirect: 'manual',
    });
    expect(agreed.status).toBe(302);
    const back = new URL(agreed.headers.get('location')!);
    expect(back.origin + back.pathname).toBe(CLIENT.accept_url);
    expect(back.searchParams.get('state')).toBe('xyz-1');
    const code = back.searchParams.get('code')!;

    const tok = await tokenCall({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.ru_name });
    expect(tok.status).toBe(200);
    expect(tok.body).toMatchObject({ expires_in: 7200, refresh_token_expires_in: 47_304_000, token_type: 'User Access Token' });
    // Codes are single use.
    expect((await tokenCall({ grant_type: 'authorization_code', code, redirect_uri: CLIENT.ru_name })).body.error).toBe('invalid_grant');

    expect((await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: tok.body.access_token })).status).toBe(200);

    await call('POST', '/_control/tokens', { body: { expire_access_tokens: true } });
    const expired = await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: tok.body.access_token });
    expect(expired.status).toBe(401);
    expect(expired.body.errors[0]).toMatchObject({ errorId: 1001, domain: 'OAuth', message: 'Invalid access token' });

    const refreshed = await tokenCall({ grant_type: 'refresh_token', refresh_token: tok.body.refresh_token, scope: INV });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBeUndefined();
    expect((await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: refreshed.body.access_token })).status).toBe(200);
    // The narrowed token lacks the fulfillment scope: 403 / 1100.
    const denied = await call('GET', '/sell/fulfillment/v1/order', { token: refreshed.body.access_token });
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0].errorId).toBe(1100);
    // A scope beyond the grant is refused.
    expect(
      (await tokenCall({ grant_type: 'refresh_token', refresh_token: tok.body.refresh_token, scope: 'https://api.ebay.com/oauth/api_scope/sell.marketing' }))
        .body.error,
    ).toBe('invalid_scope');
  });

  it('rejects a wrong RuName, wrong client secret and a wrong content type', async () => {
    const bad = await call(
      'GET',
      `/oauth2/authorize?${form({ client_id: CLIENT.client_id, redirect_uri: 'https://evil.example', response_type: 'code', scope: INV })}`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error_id).toBe('invalid_request');
    const wrong = await fetch(`${emu.url}/identity/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:nope`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=https://api.ebay.com/oauth/api_scope',
    });
    expect(wrong.status).toBe(401);
    const json = await fetch(`${emu.url}/identity/v1/oauth2/token`, {
      method: 'POST',
      headers: { authorization: basic, 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(json.status).toBe(400);
  });
});

describe('Sell Inventory API', () => {
  beforeEach(() => startWith([]));

  const product = (title: string, color: string) => ({
    product: { title, description: `${title} description`, imageUrls: ['https://example.com/a.jpg'], aspects: { Color: [color] } },
    condition: 'NEW',
    availability: { shipToLocationAvailability: { quantity: 5 } },
  });
  const offer = (sku: string) => ({
    sku,
    marketplaceId: 'EBAY_US',
    format: 'FIXED_PRICE',
    availableQuantity: 5,
    categoryId: '15687',
    merchantLocationKey: 'warehouse-1',
    listingDescription: 'A shirt',
    listingPolicies: { fulfillmentPolicyId: 'f1', paymentPolicyId: 'p1', returnPolicyId: 'r1' },
    pricingSummary: { price: { value: '19.99', currency: 'USD' } },
  });

  it('item / group / offer / publish round trip with a 3-variant group', async () => {
    const t = await userToken();
    const colors = ['Red', 'Green', 'Blue'];
    // Content-Language is required; Content-Type must be JSON.
    const noLang = await call('PUT', '/sell/inventory/v1/inventory_item/TS-RED', { token: t, body: product('Shirt red', 'Red') });
    expect(noLang.status).toBe(400);
    expect(noLang.body.errors[0].errorId).toBe(25709);
    const notJson = await call('PUT', '/sell/inventory/v1/inventory_item/TS-RED', { token: t, headers: { ...lang, 'content-type': 'text/plain' }, body: 'x' });
    expect(notJson.status).toBe(415);

    for (const c of colors) {
      const r = await call('PUT', `/sell/inventory/v1/inventory_item/TS-${c.toUpperCase()}`, { token: t, headers: lang, body: product(`Shirt ${c}`, c) });
      expect(r.status).toBe(201);
    }
    const again = await call('PUT', '/sell/inventory/v1/inventory_item/TS-RED', { token: t, headers: lang, body: product('Shirt Red', 'Red') });
    expect(again.status).toBe(204);
    const skus = colors.map((c) => `TS-${c.toUpperCase()}`);
    const group = {
      title: 'Shirt',
      description: 'A shirt in three colours',
      imageUrls: ['https://example.com/g.jpg'],
      variantSKUs: skus,
      variesBy: { specifications: [{ name: 'Color', values: colors }] },
    };
    expect((await call('PUT', '/sell/inventory/v1/inventory_item_group/SHIRT', { token: t, headers: lang, body: group })).status).toBe(201);
    const g = await call('GET', '/sell/inventory/v1/inventory_item_group/SHIRT', { token: t });
    expect(g.body).toMatchObject({ inventoryItemGroupKey: 'SHIRT', variantSKUs: skus, variesBy: group.variesBy });

    const offerIds: string[] = [];
    for (const sku of skus) {
      const r = await call('POST', '/sell/inventory/v1/offer', { token: t, headers: lang, body: offer(sku) });
      expect(r.status).toBe(201);
      offerIds.push(r.body.offerId);
    }
    const dup = await call('POST', '/sell/inventory/v1/offer', { token: t, headers: lang, body: offer(skus[0]!) });
    expect(dup.body.errors[0]).toMatchObject({ errorId: 25002, parameters: [{ name: 'offerId', value: offerIds[0] }] });
    // A variation is not published on its own.
    expect((await call('POST', `/sell/inventory/v1/offer/${offerIds[0]}/publish`, { token: t })).status).toBe(400);

    const pub = await call('POST', '/sell/inventory/v1/offer/publish_by_inventory_item_group', {
      token: t,
      body: { inventoryItemGroupKey: 'SHIRT', marketplaceId: 'EBAY_US' },
    });
    expect(pub.status).toBe(200);
    const listingId = pub.body.listingId as string;
    expect(listingId).toMatch(/^\d+$/);
    const offers = await call('GET', `/sell/inventory/v1/offer?sku=${skus[1]}`, { token: t });
    expect(offers.body.offers[0]).toMatchObject({
      offerId: offerIds[1],
      status: 'PUBLISHED',
      listing: { listingId, listingStatus: 'ACTIVE', soldQuantity: 0 },
    });
    const item = await call('GET', `/sell/inventory/v1/inventory_item/${skus[2]}`, { token: t });
    expect(item.body).toMatchObject({ sku: skus[2], availability: { shipToLocationAvailability: { quantity: 5 } }, inventoryItemGroupKeys: ['SHIRT'] });

    // A single-SKU listing: publish needs the documented fields.
    await call('PUT', '/sell/inventory/v1/inventory_item/HAT', {
      token: t,
      headers: lang,
      body: { product: { title: 'Hat' }, availability: { shipToLocationAvailability: { quantity: 2 } } },
    });
    const hat = (
      await call('POST', '/sell/inventory/v1/offer', { token: t, headers: lang, body: { sku: 'HAT', marketplaceId: 'EBAY_US', format: 'FIXED_PRICE' } })
    ).body.offerId;
    const incomplete = await call('POST', `/sell/inventory/v1/offer/${hat}/publish`, { token: t });
    expect(incomplete.status).toBe(400);
    expect(incomplete.body.errors.map((e: { errorId: number }) => e.errorId)).toContain(25017);
    await call('PUT', '/sell/inventory/v1/inventory_item/HAT', {
      token: t,
      headers: lang,
      body: { ...product('Hat', 'Black'), availability: { shipToLocationAvailability: { quantity: 2 } } },
    });
    await call('PUT', `/sell/inventory/v1/offer/${hat}`, { token: t, headers: lang, body: offer('HAT') });
    const hatPub = await call('POST', `/sell/inventory/v1/offer/${hat}/publish/`, { token: t });
    expect(hatPub.status).toBe(200);
    const withdrawn = await call('POST', `/sell/inventory/v1/offer/${hat}/withdraw`, { token: t });
    expect(withdrawn.body.listingId).toBe(hatPub.body.listingId);
    expect((await call('GET', `/sell/inventory/v1/offer/${hat}`, { token: t })).body.status).toBe('UNPUBLISHED');

    const state = await call('GET', '/_control/accounts/seller-1/state');
    expect(state.body.items.filter((i: { sku: string }) => skus.includes(i.sku)).map((i: { qty: number }) => i.qty)).toEqual([5, 5, 5]);
  });

  it('bulk price/quantity: 26 requests refused, listing quantity = min rule, 250 revisions a day', async () => {
    const t = await userToken();
    await call('PUT', '/sell/inventory/v1/inventory_item/MUG', { token: t, headers: lang, body: product('Mug', 'White') });
    const offerId = (await call('POST', '/sell/inventory/v1/offer', { token: t, headers: lang, body: offer('MUG') })).body.offerId;
    const listingId = (await call('POST', `/sell/inventory/v1/offer/${offerId}/publish`, { token: t })).body.listingId;

    const many = Array.from({ length: 26 }, (_, i) => ({ sku: `S${i}`, shipToLocationAvailability: { quantity: 1 } }));
    const tooMany = await call('POST', '/sell/inventory/v1/bulk_update_price_quantity', { token: t, body: { requests: many } });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors[0].domain).toBe('API_INVENTORY');

    const upd = (item: number, offerQty: number) =>
      call('POST', '/sell/inventory/v1/bulk_update_price_quantity', {
        token: t,
        body: { requests: [{ sku: 'MUG', shipToLocationAvailability: { quantity: item }, offers: [{ offerId, availableQuantity: offerQty }] }] },
      });
    const ok = await upd(8, 3);
    expect(ok.status).toBe(200);
    expect(ok.body.responses).toEqual([{ sku: 'MUG', offerId, statusCode: 200 }]);
    const qtyOf = async () => (await call('GET', '/_control/accounts/seller-1/state')).body.items.find((i: { sku: string }) => i.sku === 'MUG').qty;
    expect(await qtyOf()).toBe(3); // min(offer 3, item 8)
    await upd(2, 9);
    expect(await qtyOf()).toBe(2); // min(offer 9, item 2)

    // An offer of another SKU is refused per entry (207).
    await call('PUT', '/sell/inventory/v1/inventory_item/CUP', { token: t, headers: lang, body: product('Cup', 'White') });
    const mixed = await call('POST', '/sell/inventory/v1/bulk_update_price_quantity', {
      token: t,
      body: { requests: [{ sku: 'CUP', offers: [{ offerId, availableQuantity: 1 }] }] },
    });
    expect(mixed.status).toBe(207);
    expect(mixed.body.responses[0].statusCode).toBe(400);

    // 250 calls in a row would meet the short-term bucket first; this test is about the revision count.
    await call('POST', '/_control/knobs', { body: { enforceRateLimit: false } });
    // 2 revisions so far; 248 more are allowed today, the 251st is refused and changes nothing.
    for (let i = 0; i < 248; i++) expect((await upd(10, 10 + i)).status).toBe(200);
    const blocked = await upd(1, 1);
    expect(blocked.status).toBe(207);
    expect(blocked.body.responses[0]).toMatchObject({ statusCode: 400, errors: [{ errorId: 25019 }] });
    expect(await qtyOf()).toBe(10);
    const listings = (await call('GET', '/_control/accounts/seller-1/listings')).body.listings;
    expect(listings.find((l: { listingId: string }) => l.listingId === listingId).revisionsToday).toBe(250);
    // Tomorrow the listing can be revised again.
    await call('POST', '/_control/limits', { body: { advanceDays: 1 } });
    expect((await upd(4, 4)).status).toBe(200);
    expect(await qtyOf()).toBe(4);
  });

  it('getInventoryItems pages with eBay offset paging (offset = page number, follow next)', async () => {
    const t = await userToken();
    const requests = Array.from({ length: 25 }, (_, i) => ({ sku: `P${String(i).padStart(2, '0')}`, locale: 'en_US', ...product(`P${i}`, 'Red') }));
    const bulk = await call('POST', '/sell/inventory/v1/bulk_create_or_replace_inventory_item', { token: t, body: { requests } });
    expect(bulk.status).toBe(200);
    expect(bulk.body.responses).toHaveLength(25);
    const over = await call('POST', '/sell/inventory/v1/bulk_create_or_replace_inventory_item', {
      token: t,
      body: { requests: [...requests, { sku: 'X', locale: 'en_US' }] },
    });
    expect(over.body.errors[0].errorId).toBe(25727);
    const first = await call('GET', '/sell/inventory/v1/inventory_item?limit=10', { token: t });
    expect(first.body).toMatchObject({ total: 25, limit: 10, size: 3 });
    expect(first.body.inventoryItems).toHaveLength(10);
    expect(first.body.prev).toBeUndefined();
    const seen: string[] = [];
    let next: string | undefined = first.body.href;
    while (next) {
      const u = new URL(next);
      const p = await call('GET', u.pathname + u.search, { token: t });
      seen.push(...p.body.inventoryItems.map((i: { sku: string }) => i.sku));
      next = p.body.next;
    }
    expect(seen).toEqual(requests.map((r) => r.sku));
    expect((await call('GET', '/sell/inventory/v1/inventory_item?limit=101', { token: t })).body.errors[0].errorId).toBe(25706);
    const got = await call('POST', '/sell/inventory/v1/bulk_get_inventory_item', { token: t, body: { requests: [{ sku: 'P00' }, { sku: 'NOPE' }] } });
    expect(got.status).toBe(207);
    expect(got.body.responses.map((r: { statusCode: number }) => r.statusCode)).toEqual([200, 404]);
    expect((await call('GET', '/sell/inventory/v1/inventory_item/NOPE', { token: t })).body.errors[0].errorId).toBe(25710);
  });
});

/** A receiver that answers eBay's challenge and collects notifications. */
function receiver(verificationToken: string) {
  const got: Array<{ headers: http.IncomingHttpHeaders; body: string }> = [];
  let endpoint = '';
  const server = http.createServer((req, res) => {
    const u = new URL(req.url!, 'http://x');
    if (req.method === 'GET') {
      const code = u.searchParams.get('challenge_code') ?? '';
      const hash = createHash('sha256').update(code).update(verificationToken).update(endpoint).digest('hex');
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ challengeResponse: hash }));
      return;
    }
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      res.writeHead(204).end();
    });
  });
  return {
    got,
    start: async () => {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}/ebay/notifications`;
      return endpoint;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('sales, notifications and orders', () => {
  beforeEach(() => startWith());
  const TOKEN = 'verification_token_0123456789_abcdefghij';

  it('the challenge is answered as eBay computes it; a bad answer is refused', async () => {
    const rx = receiver(TOKEN);
    const endpoint = await rx.start();
    try {
      const ok = await call('POST', '/_control/accounts/seller-1/destination', { body: { url: endpoint, verificationToken: TOKEN } });
      expect(ok.body.ok).toBe(true);
      const bad = await call('POST', '/_control/accounts/seller-1/destination', { body: { url: endpoint, verificationToken: `${TOKEN}x` } });
      expect(bad.body.ok).toBe(false);
      // The Notification API's own destination endpoint runs the same challenge (application token).
      const app = await tokenCall({ grant_type: 'client_credentials', scope: 'https://api.ebay.com/oauth/api_scope' });
      const dest = await call('POST', '/commerce/notification/v1/destination', {
        token: app.body.access_token,
        body: { name: 'sc', status: 'ENABLED', deliveryConfig: { endpoint, verificationToken: TOKEN } },
      });
      expect(dest.status).toBe(201);
      expect(dest.headers.get('location')).toMatch(/\/destination\/[\w-]+$/);
    } finally {
      await rx.close();
    }
  });

  it('a sale creates an order readable through getOrders, changes state, and its ORDER_CONFIRMATION verifies with the served key', async () => {
    const rx = receiver(TOKEN);
    const endpoint = await rx.start();
    try {
      // Subscribe the way an application does: destination (app token) + subscription (user token).
      const app = (await tokenCall({ grant_type: 'client_credentials', scope: 'https://api.ebay.com/oauth/api_scope' })).body.access_token;
      const dest = await call('POST', '/commerce/notification/v1/destination', {
        token: app,
        body: { name: 'sc', deliveryConfig: { endpoint, verificationToken: TOKEN } },
      });
      const destinationId = dest.headers.get('location')!.split('/').pop();
      const t = await userToken();
      const sub = await call('POST', '/commerce/notification/v1/subscription', {
        token: t,
        body: { topicId: 'ORDER_CONFIRMATION', status: 'ENABLED', destinationId, payload: { format: 'JSON', schemaVersion: '1.0', deliveryProtocol: 'HTTPS' } },
      });
      expect(sub.status).toBe(201);

      const from = new Date(Date.now() - 1000).toISOString();
      const sale = await call('POST', '/_control/accounts/seller-1/sale', { body: { sku: 'MUG-1', qty: 3 } });
      expect(sale.body.qty).toBe(7);
      expect((await call('GET', '/_control/accounts/seller-1/state')).body.items).toEqual([expect.objectContaining({ sku: 'MUG-1', qty: 7 })]);
      expect((await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: t })).body.availability.shipToLocationAvailability.quantity).toBe(7);

      const to = new Date(Date.now() + 1000).toISOString();
      const filter = encodeURIComponent(`lastmodifieddate:[${from}..${to}]`);
      const orders = await call('GET', `/sell/fulfillment/v1/order?filter=${filter}&limit=10&offset=0`, { token: t });
      expect(orders.status).toBe(200);
      expect(orders.body).toMatchObject({ total: 1, limit: 10, offset: 0 });
      const order = orders.body.orders[0];
      expect(order.orderId).toBe(sale.body.orderId);
      expect(order.lineItems[0]).toMatchObject({ sku: 'MUG-1', quantity: 3, legacyItemId: sale.body.listingId });
      const earlier = encodeURIComponent(`lastmodifieddate:[${new Date(Date.now() - 60_000).toISOString()}..${from}]`);
      expect((await call('GET', `/sell/fulfillment/v1/order?filter=${earlier}`, { token: t })).body.total).toBe(0);
      expect((await call('GET', '/sell/fulfillment/v1/order?filter=nope:[x]', { token: t })).body.errors[0].errorId).toBe(30700);

      await emu.drain();
      expect(rx.got).toHaveLength(1);
      const n = rx.got[0]!;
      const message = JSON.parse(n.body);
      expect(message.metadata.topic).toBe('ORDER_CONFIRMATION');
      expect(message.notification.data.orderId).toBe(order.orderId);
      // Verify as eBay's SDK does: decode the header, fetch the key by kid with an app token,
      // re-insert PEM line breaks, ECDSA/SHA-1 over JSON.stringify(message).
      const sig = JSON.parse(Buffer.from(String(n.headers['x-ebay-signature']), 'base64').toString('ascii'));
      expect(sig).toMatchObject({ alg: 'ecdsa', digest: 'SHA1' });
      const key = await call('GET', `/commerce/notification/v1/public_key/${sig.kid}`, { token: app });
      expect(key.body).toMatchObject({ algorithm: 'ECDSA', digest: 'SHA1' });
      const pem = key.body.key
        .replace(/-----BEGIN PUBLIC KEY-----/, '-----BEGIN PUBLIC KEY-----\n')
        .replace(/-----END PUBLIC KEY-----/, '\n-----END PUBLIC KEY-----');
      const verifier = createVerify('sha1');
      verifier.update(JSON.stringify(message));
      expect(verifier.verify(pem, sig.signature, 'base64')).toBe(true);
      const tampered = createVerify('sha1');
      tampered.update(JSON.stringify({ ...message, metadata: { ...message.metadata, topic: 'X' } }));
      expect(tampered.verify(pem, sig.signature, 'base64')).toBe(false);
      // The public key needs an application token, not a user token.
      expect((await call('GET', `/commerce/notification/v1/public_key/${sig.kid}`, { token: t })).status).toBe(403);

      // The listing cannot sell more than it offers.
      expect((await call('POST', '/_control/accounts/seller-1/sale', { body: { sku: 'MUG-1', qty: 8 } })).status).toBe(409);
    } finally {
      await rx.close();
    }
  });
});

describe('call limits and persistence', () => {
  it('a spent daily budget answers 429 with eBay errors and is counted', async () => {
    await startWith(undefined, { limits: { inventoryPerDay: 3 } });
    const t = await userToken();
    for (let i = 0; i < 3; i++) expect((await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: t })).status).toBe(200);
    const over = await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: t });
    expect(over.status).toBe(429);
    expect(over.body.errors[0]).toMatchObject({ errorId: 2001, domain: 'ACCESS' });
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(emu.stats.throttled).toBe(1);
    // Other APIs have their own budget; the next day the budget is fresh.
    expect((await call('GET', '/sell/fulfillment/v1/order', { token: t })).status).toBe(200);
    expect((await call('GET', `/_control/usage/${CLIENT.client_id}`)).body).toMatchObject({ inventory: 3, fulfillment: 1 });
    await call('POST', '/_control/limits', { body: { advanceDays: 1 } });
    expect((await call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: t })).status).toBe(200);
  });

  it('the short-term bucket throttles a burst', async () => {
    await startWith();
    const t = await userToken();
    // Well past the burst (100 at 50/s): a loaded machine spreading the calls out refills some.
    const codes = await Promise.all(
      Array.from({ length: 300 }, () => call('GET', '/sell/inventory/v1/inventory_item/MUG-1', { token: t }).then((r) => r.status)),
    );
    expect(codes).toContain(429);
    expect(emu.stats.throttled).toBeGreaterThan(0);
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ebay-emu-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('items, offers, orders, tokens, subscriptions and the signing key survive a restart', async () => {
    const file = path.join(dir, 'ebay.json');
    emu = createEbayEmulator({ stateFile: file });
    await emu.listen();
    emu.addAccount({ id: 'seller-1', credentials: { ...CLIENT }, items: [{ sku: 'MUG-1', name: 'Mug', qty: 10 }] });
    const tok = (await call('POST', '/_control/accounts/seller-1/token')).body;
    const app = (await tokenCall({ grant_type: 'client_credentials', scope: 'https://api.ebay.com/oauth/api_scope' })).body.access_token;
    const kidBefore = (emu as unknown as { spec: { saveShared: () => { signingKey: { kid: string } } } }).spec.saveShared().signingKey.kid;
    const sale = (await call('POST', '/_control/accounts/seller-1/sale', { body: { sku: 'MUG-1', qty: 2 } })).body;
    await call('PUT', '/sell/inventory/v1/inventory_item/NEW-1', { token: tok.access_token, headers: lang, body: { product: { title: 'New' } } });
    await emu.close();

    emu = createEbayEmulator({ stateFile: file });
    await emu.listen();
    const state = (await call('GET', '/_control/accounts/seller-1/state')).body.items;
    expect(state.map((i: { sku: string; qty: number }) => [i.sku, i.qty])).toEqual([
      ['MUG-1', 8],
      ['NEW-1', 0],
    ]);
    // The same access token, refresh token and orders work after the restart.
    const orders = await call('GET', `/sell/fulfillment/v1/order?orderIds=${sale.orderId}`, { token: tok.access_token });
    expect(orders.body.orders[0].orderId).toBe(sale.orderId);
    expect((await tokenCall({ grant_type: 'refresh_token', refresh_token: tok.refresh_token })).status).toBe(200);
    expect((await call('GET', `/commerce/notification/v1/public_key/${kidBefore}`, { token: app })).status).toBe(200);
    // Ids keep counting: the next order is a new one.
    const next = (await call('POST', '/_control/accounts/seller-1/sale', { body: { sku: 'MUG-1', qty: 1 } })).body;
    expect(next.orderId).not.toBe(sale.orderId);
  });
});
