// The eBay module against the eBay emulator over real HTTP (no mocks): stock side, token renewal,
// order poll and notifications (one event id for both), catalog plans run for real, OAuth.
import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createEbayEmulator, type EbayAccount, type EbayEmulatorOptions } from '../../../emulators/ebay/index.ts';
import type { Emulator } from '../../../emulators/kit/index.ts';
import { fillRequest, runPlan } from '../catalog.ts';
import { ChannelError, type ChannelAdapter, type InboundEvent, type ListingDraft, type PushRequest } from '../contract.ts';
import { openAdapter } from '../registry.ts';
import { ebayChannel } from './index.ts';
import { codeFromRedirect, consentUrl, exchangeCode } from './oauth.ts';
import { clearEbayWebhookCaches, ebayWebhook } from './webhook.ts';

const CLIENT = {
  client_id: 'StockCle-app-PRD-1',
  client_secret: 'PRD-secret-1',
  ru_name: 'StockClerk-StockCle-app-PR-abcde',
  accept_url: 'https://app.example/ebay/accepted',
  username: 'mugshop',
};
const SETTINGS = {
  marketplace_id: 'EBAY_GB',
  merchant_location_key: 'warehouse-1',
  category_id: '15687',
  fulfillment_policy_id: 'f-1',
  payment_policy_id: 'p-1',
  return_policy_id: 'r-1',
};

let emu: Emulator<EbayAccount>;
let tokens: { access_token: string; refresh_token: string; expires_in: number };

async function control(path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${emu.url}/_control${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return res.json();
}

async function start(items: Array<{ sku: string; name: string; qty: number }>, opts: EbayEmulatorOptions = {}) {
  emu = createEbayEmulator(opts);
  await emu.listen();
  emu.addAccount({ id: 'seller-1', credentials: CLIENT, items });
  tokens = await control('/accounts/seller-1/token', {});
  clearEbayWebhookCaches();
}

function channelCredentials(extra: Record<string, string> = {}): Record<string, string> {
  return {
    client_id: CLIENT.client_id,
    client_secret: CLIENT.client_secret,
    refresh_token: tokens.refresh_token,
    access_token: tokens.access_token,
    access_expires_at: new Date(Date.now() + tokens.expires_in * 1000).toISOString(),
    verification_token: 'verification_token_0123456789_abcdefghij',
    ...extra,
  };
}

function adapter(extra: Record<string, string> = {}, saved: Array<Record<string, string>> = []): ChannelAdapter {
  return openAdapter(ebayChannel, {
    channelId: 'ch_ebay',
    baseUrl: emu.url,
    credentials: channelCredentials(extra),
    settings: SETTINGS,
    saveCredentials: async (c) => {
      saved.push(c);
    },
  });
}

const items = (n: number, qty = 10) => Array.from({ length: n }, (_, i) => ({ sku: `SKU-${String(i).padStart(3, '0')}`, name: `Item ${i}`, qty }));
const push = (sku: string, qty: number, i = 0): PushRequest => ({
  listingId: `lst_${i}_${sku}`,
  externalId: sku,
  qty,
  known: { qty: null, version: null },
  idempotencyKey: `${sku}:${qty}`,
});
const stateQty = async () => new Map(((await control('/accounts/seller-1/state')).items as Array<{ sku: string; qty: number }>).map((i) => [i.sku, i.qty]));
const asJson = (v: unknown) => JSON.parse(JSON.stringify(v ?? null));

afterEach(async () => {
  await emu?.close();
});

describe('stock side', () => {
  it('lists every inventory item page by page, reads some, and pushes in bulk calls of at most 25 setting item and offer quantities', async () => {
    await start(items(130));
    const a = adapter();
    const pages: number[] = [];
    const all = [];
    for await (const page of a.listListings()) {
      pages.push(page.length);
      all.push(...page);
    }
    expect(pages).toEqual([100, 30]);
    expect(all[0]).toMatchObject({ externalId: 'SKU-000', sku: 'SKU-000', name: 'Item 0', qty: 10 });
    expect(new Set(all.map((l) => l.externalId)).size).toBe(130);

    const read = await a.readListings(['SKU-001', 'SKU-129', 'NOPE'].map((externalId) => ({ externalId })));
    expect(read.map((l) => [l.externalId, l.qty])).toEqual([
      ['SKU-001', 10],
      ['SKU-129', 10],
    ]);

    // Quantities above the offers' 10: visible on the listing only when BOTH levels were set (min rule).
    const reqs = items(30).map((it, i) => push(it.sku, 20 + i, i));
    emu.recording = true;
    const results = await a.pushLevels(reqs);
    emu.recording = false;
    expect(results.every((r) => r.outcome === 'ok')).toBe(true);
    const bulk = emu.received.filter((r) => r.url.endsWith('/bulk_update_price_quantity'));
    expect(bulk.map((r) => (r.body as { requests: unknown[] }).requests.length)).toEqual([25, 5]);
    const first = (bulk[0]!.body as { requests: Array<{ sku: string; shipToLocationAvailability: { quantity: number }; offers: unknown[] }> }).requests[0]!;
    expect(first).toMatchObject({ sku: 'SKU-000', shipToLocationAvailability: { quantity: 20 }, offers: [{ availableQuantity: 20 }] });
    const q = await stateQty();
    for (const [i, it] of items(30).entries()) expect(q.get(it.sku)).toBe(20 + i);
    // Offer ids are cached: a second push reads no offers again.
    emu.received.length = 0;
    emu.recording = true;
    await a.pushLevels([push('SKU-000', 3)]);
    emu.recording = false;
    expect(emu.received.map((r) => new URL(r.url).pathname)).toEqual(['/sell/inventory/v1/bulk_update_price_quantity']);
    expect((await stateQty()).get('SKU-000')).toBe(3);
  });

  it('a spent call limit (429 / errorId 2001) is rate_limited with Retry-After', async () => {
    await start(items(2), { limits: { inventoryPerDay: 1 } });
    const a = adapter();
    await a.testConnection();
    const err = await a.readListings([{ externalId: 'SKU-000' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChannelError);
    expect(err).toMatchObject({ kind: 'rate_limited', status: 429 });
    expect((err as ChannelError).retryAfterMs).toBeGreaterThan(0);
  });

  it('the 251st revision of a listing in a day is a clear, non-retryable failure; other SKUs still go through', async () => {
    await start(items(2), { limits: { revisionsPerListingPerDay: 3 } });
    const a = adapter();
    for (let i = 0; i < 3; i++) expect((await a.pushLevels([push('SKU-000', 5 + i)]))[0]!.outcome).toBe('ok');
    const [blocked, other] = await a.pushLevels([push('SKU-000', 1, 0), push('SKU-001', 4, 1)]);
    expect(blocked).toMatchObject({ outcome: 'failed', retryable: false });
    expect((blocked as { error: string }).error).toMatch(/250 revisions .* per calendar day.*tomorrow/);
    expect(other).toMatchObject({ outcome: 'ok', qty: 4 });
    const q = await stateQty();
    expect([q.get('SKU-000'), q.get('SKU-001')]).toEqual([7, 4]);
  });

  it('renews the access token before it expires and stores it; a refused refresh is an auth error', async () => {
    await start(items(1));
    const saved: Array<Record<string, string>> = [];
    // Expires in a minute: inside the renewal margin.
    const a = adapter({ access_expires_at: new Date(Date.now() + 60_000).toISOString() }, saved);
    emu.recording = true;
    await a.testConnection();
    emu.recording = false;
    expect(emu.received.map((r) => new URL(r.url).pathname)).toEqual(['/identity/v1/oauth2/token', '/sell/inventory/v1/inventory_item']);
    expect(emu.received[0]!.body).toMatchObject({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    expect(saved).toHaveLength(1);
    expect(saved[0]!.access_token).not.toBe(tokens.access_token);
    expect(Date.parse(saved[0]!.access_expires_at!)).toBeGreaterThan(Date.now() + 7000_000);
    expect(saved[0]!.refresh_token).toBe(tokens.refresh_token);
    // The stored token is used from then on: no second renewal.
    await a.testConnection();
    expect(saved).toHaveLength(1);

    // A token eBay no longer takes (no expiry known): renewed on the 401 and the call retried.
    const b = adapter({ access_token: 'revoked', access_expires_at: '' });
    await expect(b.testConnection()).resolves.toMatchObject({ ok: true });

    const refused = adapter({ access_token: '', access_expires_at: '', refresh_token: 'v^1.1#not-a-refresh-token' });
    await expect(refused.testConnection()).rejects.toMatchObject({ kind: 'auth' });
    expect((await refused.testConnection().catch((e: Error) => e.message)) as string).toMatch(/reconnect/);
  });
});

/** Receives the emulator's notifications (ECDSA-signed ORDER_CONFIRMATION). */
async function receiver() {
  const got: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(parts) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`;
  return { got, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('sales: order poll and ORDER_CONFIRMATION notifications', () => {
  it('two sellers whose orders share an id each get their own order from their notification', async () => {
    await start(items(2));
    const rx = await receiver();
    try {
      emu.addAccount({ id: 'seller-2', credentials: { ...CLIENT, username: 'cupshop' }, items: [0, 1].map((i) => ({ sku: `CUP-${i}`, name: 'Cup', qty: 9 })) });
      const t2 = await control('/accounts/seller-2/token', {});
      for (const id of ['seller-1', 'seller-2']) emu.accounts.get(id)!.webhookUrl = rx.url;
      const s1 = await control('/accounts/seller-1/sale', { sku: 'SKU-000', qty: 1 });
      const s2 = await control('/accounts/seller-2/sale', { sku: 'CUP-1', qty: 4 });
      // Each seller's ids count on their own: the emulator gives both orders the same id.
      expect(s2.orderId).toBe(s1.orderId);
      await emu.drain();
      expect(rx.got).toHaveLength(2);
      const sellerCreds = [channelCredentials(), channelCredentials({ access_token: t2.access_token, refresh_token: t2.refresh_token })];
      const parsed = [];
      for (const [i, n] of rx.got.entries()) {
        const req = { headers: n.headers, rawBody: n.body, url: 'https://sc.example/webhooks/ebay/ch' };
        const mine = JSON.parse(n.body.toString()).notification.data.sellerId === 'cupshop' ? sellerCreds[1]! : sellerCreds[0]!;
        expect(await ebayWebhook.verify(req, mine, new Date(), { baseUrl: emu.url }), `notification ${i}`).toEqual({ ok: true });
        parsed.push(...ebayWebhook.parse(req));
      }
      const lines = parsed.map((e) => (e.kind === 'order' ? e.lines : null));
      expect(lines).toEqual(expect.arrayContaining([[{ externalId: 'SKU-000', sku: 'SKU-000', qty: 1 }], [{ externalId: 'CUP-1', sku: 'CUP-1', qty: 4 }]]));
    } finally {
      await rx.close();
    }
  });

  it('polls orders modified since the cursor: nothing before the first poll, none replayed, none skipped', async () => {
    await start(items(3));
    const a = adapter();
    await control('/accounts/seller-1/sale', { sku: 'SKU-000', qty: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const first = await a.pollEvents!(null);
    expect(first.events).toEqual([]);
    const s1 = await control('/accounts/seller-1/sale', { sku: 'SKU-001', qty: 2 });
    const s2 = await control('/accounts/seller-1/sale', { sku: 'SKU-002', qty: 3 });
    const second = await a.pollEvents!(first.cursor);
    expect(second.events).toEqual([
      {
        kind: 'order',
        externalEventId: `order:${s1.orderId}`,
        occurredAt: s1.order.creationDate,
        effect: 'sale',
        orderId: s1.orderId,
        lines: [{ externalId: 'SKU-001', sku: 'SKU-001', qty: 2 }],
      },
      expect.objectContaining({ externalEventId: `order:${s2.orderId}`, lines: [{ externalId: 'SKU-002', sku: 'SKU-002', qty: 3 }] }),
    ]);
    expect((await a.pollEvents!(second.cursor)).events).toEqual([]);
    const s3 = await control('/accounts/seller-1/sale', { sku: 'SKU-000', qty: 1 });
    const third = await a.pollEvents!(second.cursor);
    expect(third.events.map((e) => e.externalEventId)).toEqual([`order:${s3.orderId}`]);
  });

  it('a genuine notification verifies and parses to the same event the poll gives; tampering and a missing header are refused', async () => {
    await start(items(2));
    const rx = await receiver();
    try {
      emu.accounts.get('seller-1')!.webhookUrl = rx.url;
      const a = adapter();
      const { cursor } = await a.pollEvents!(null);
      const sale = await control('/accounts/seller-1/sale', { sku: 'SKU-001', qty: 2 });
      await emu.drain();
      expect(rx.got).toHaveLength(1);
      const n = rx.got[0]!;
      const incoming = (body: Buffer, headers = n.headers) => ({ headers, rawBody: body, url: 'https://sc.example/webhooks/ebay/ch_ebay' });
      const creds = channelCredentials();
      const channel = { baseUrl: emu.url };

      expect(await ebayWebhook.verify(incoming(n.body), creds, new Date(), channel)).toEqual({ ok: true });
      const fromWebhook = ebayWebhook.parse(incoming(n.body));
      const fromPoll = (await a.pollEvents!(cursor)).events;
      expect(fromWebhook).toEqual(fromPoll);
      expect(fromWebhook[0]).toMatchObject({ kind: 'order', externalEventId: `order:${sale.orderId}`, lines: [{ sku: 'SKU-001', qty: 2 }] });

      const tampered = Buffer.from(n.body.toString('utf8').replace(sale.orderId, '99-99999-99999'));
      expect(await ebayWebhook.verify(incoming(tampered), creds, new Date(), channel)).toEqual({ ok: false, reason: 'bad_signature' });
      const sig = JSON.parse(Buffer.from(String(n.headers['x-ebay-signature']), 'base64').toString('utf8'));
      const forged = Buffer.from(JSON.stringify({ ...sig, signature: Buffer.from('not a signature').toString('base64') })).toString('base64');
      expect(await ebayWebhook.verify(incoming(n.body, { ...n.headers, 'x-ebay-signature': forged }), creds, new Date(), channel)).toEqual({
        ok: false,
        reason: 'bad_signature',
      });
      expect(await ebayWebhook.verify(incoming(n.body, { ...n.headers, 'x-ebay-signature': 'garbage' }), creds, new Date(), channel)).toMatchObject({
        ok: false,
      });
      const { 'x-ebay-signature': _drop, ...unsigned } = n.headers;
      expect(await ebayWebhook.verify(incoming(n.body, unsigned), creds, new Date(), channel)).toEqual({ ok: false, reason: 'missing_signature' });

      // The key was fetched once (cached by kid) with an application token.
      emu.received.length = 0;
      emu.recording = true;
      clearEbayWebhookCaches();
      const seller = channelCredentials({ access_token: 'revoked', access_expires_at: '', refresh_token: 'gone' });
      expect(await ebayWebhook.verify(incoming(n.body), seller, new Date(), channel)).toEqual({ ok: true });
      expect(await ebayWebhook.verify(incoming(n.body), seller, new Date(), channel)).toEqual({ ok: true });
      emu.recording = false;
      expect(emu.received.filter((r) => r.url.includes('/public_key/'))).toHaveLength(1);
      expect(emu.received.find((r) => r.url.endsWith('/oauth2/token'))?.body).toMatchObject({ grant_type: 'client_credentials' });
      // The order could not be read (the seller's token is refused): no lines are invented; the
      // notification is recorded under its own id and the poll's `order:` event applies the sale.
      const fallback = ebayWebhook.parse(incoming(n.body)) as InboundEvent[];
      expect(fallback).toEqual([expect.objectContaining({ kind: 'ignored', externalEventId: expect.stringMatching(/^notification:/) })]);
    } finally {
      await rx.close();
    }
  });
});

const image = { id: 'img_1', url: 'https://sc.example/media/img_1.jpg', contentType: 'image/jpeg' };
const shirt = (title = 'Organic cotton shirt'): ListingDraft => ({
  productId: 'prod_0123456789abcdef0123456789abcdef',
  title,
  description: 'A shirt in three colours',
  brand: 'Acme',
  category: 'Shirts',
  attributes: { Material: 'Cotton' },
  currency: 'GBP',
  options: [{ name: 'Colour', values: ['Red', 'Green', 'Blue'] }],
  images: [image],
  variants: ['Red', 'Green', 'Blue'].map((c, i) => ({
    itemId: `item_${i}`,
    sku: `SHIRT-${c.toUpperCase()}`,
    optionValues: { Colour: c },
    priceMinor: 1999 + i * 100,
    qty: 3 + i,
  })),
});

describe('catalog side', () => {
  it('publishes a 3-variant product exactly as planned, then updates, reads, delists and relists it', async () => {
    await start([]);
    const a = adapter();
    const cat = a.catalog!;
    const draft = shirt();
    emu.recording = true;
    const plan = cat.plan('publish', draft, null);
    // Planning is pure: nothing was sent, and the same draft plans the same requests.
    expect(emu.received).toEqual([]);
    expect(asJson(cat.plan('publish', draft, null).requests)).toEqual(asJson(plan.requests));
    expect(plan.requests.map((r) => `${r.method} ${new URL(r.url).pathname}`)).toEqual([
      'POST /sell/inventory/v1/bulk_create_or_replace_inventory_item',
      `PUT /sell/inventory/v1/inventory_item_group/${draft.productId}`,
      'POST /sell/inventory/v1/offer',
      'POST /sell/inventory/v1/offer',
      'POST /sell/inventory/v1/offer',
      'POST /sell/inventory/v1/offer/publish_by_inventory_item_group',
    ]);
    const captured = await runPlan(cat, plan.requests);
    emu.recording = false;
    // The dry run is the real run: what the emulator received is the plan, placeholders filled, in order.
    expect(emu.received.map((r) => asJson({ method: r.method, url: r.url, body: r.body }))).toEqual(
      plan.requests.map((r) => fillRequest(r, captured)).map((r) => asJson({ method: r.method, url: r.url, body: r.body })),
    );
    const { ref, listings } = plan.outcome(captured);
    expect(listings).toEqual(draft.variants.map((v) => ({ sku: v.sku, externalId: v.sku })));
    expect(ref.externalId).toMatch(/^\d+$/);
    expect(ref.refs.group).toBe(draft.productId);
    const acc = emu.accounts.get('seller-1')!;
    for (const v of draft.variants) expect(acc.offers.get(ref.refs[`offer:${v.sku}`]!)?.sku).toBe(v.sku);

    const live = (await control('/accounts/seller-1/listings')).listings as Array<{
      listingId: string;
      status: string;
      groupKey: string;
      variations: Array<{ sku: string; quantity: number; offerId: string }>;
    }>;
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ listingId: ref.externalId, status: 'ACTIVE', groupKey: draft.productId });
    expect(live[0]!.variations.map((v) => [v.sku, v.quantity])).toEqual([
      ['SHIRT-RED', 3],
      ['SHIRT-GREEN', 4],
      ['SHIRT-BLUE', 5],
    ]);
    const prices = live[0]!.variations.map((v) => (acc.offers.get(v.offerId)!.body.pricingSummary as { price: unknown }).price);
    expect(prices).toEqual([
      { value: '19.99', currency: 'GBP' },
      { value: '20.99', currency: 'GBP' },
      { value: '21.99', currency: 'GBP' },
    ]);
    const item = acc.items.get('SHIRT-GREEN')!.body as { product: { aspects: Record<string, string[]>; imageUrls: string[] } };
    expect(item.product).toMatchObject({ aspects: { Colour: ['Green'], Material: ['Cotton'], Brand: ['Acme'] }, imageUrls: [image.url] });
    expect(await cat.readFields([ref])).toEqual([{ externalId: ref.externalId, title: draft.title, description: draft.description, priceMinor: null }]);

    // Update: a new title reaches the live listing; one price for all variants reads back as one price.
    const renamed = { ...shirt('Organic cotton shirt, slim fit'), variants: draft.variants.map((v) => ({ ...v, priceMinor: 2500 })) };
    const update = cat.plan('update', renamed, ref);
    expect(update.requests.some((r) => r.method === 'POST' && r.url.endsWith('/offer'))).toBe(false);
    const updated = update.outcome(await runPlan(cat, update.requests));
    expect(updated.ref).toEqual(ref);
    expect(acc.groups.get(draft.productId)!.body.title).toBe('Organic cotton shirt, slim fit');
    expect(await cat.readFields([ref])).toEqual([
      { externalId: ref.externalId, title: 'Organic cotton shirt, slim fit', description: draft.description, priceMinor: 2500 },
    ]);

    // The seller renames it on eBay's side: readFields reports what eBay holds now.
    const put = await fetch(`${emu.url}/sell/inventory/v1/inventory_item_group/${draft.productId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', 'content-language': 'en-GB' },
      body: JSON.stringify({ ...asJson(acc.groups.get(draft.productId)!.body), title: 'Edited in Seller Hub', variantSKUs: draft.variants.map((v) => v.sku) }),
    });
    expect(put.status).toBe(204);
    expect((await cat.readFields([ref]))[0]!.title).toBe('Edited in Seller Hub');

    // Delist withdraws the group's listing; relist publishes it again.
    await runPlan(cat, cat.plan('delist', renamed, ref).requests);
    const ended = (await control('/accounts/seller-1/listings')).listings;
    expect(ended.find((l: { listingId: string }) => l.listingId === ref.externalId).status).toBe('ENDED');
    const relist = cat.plan('relist', renamed, ref);
    const back = relist.outcome(await runPlan(cat, relist.requests));
    const after = (await control('/accounts/seller-1/listings')).listings as Array<{ listingId: string; status: string; variations: unknown[] }>;
    expect(after.find((l) => l.listingId === back.ref.externalId)).toMatchObject({ status: 'ACTIVE', variations: expect.any(Array) });
    expect(after.find((l) => l.listingId === back.ref.externalId)!.variations).toHaveLength(3);
  });

  it('publishes a single-variant product with createOffer and publishOffer, the offer id filled in from the answer', async () => {
    await start([]);
    const cat = adapter().catalog!;
    const mug: ListingDraft = {
      ...shirt('Stoneware mug'),
      productId: 'prod_mug',
      options: [],
      variants: [{ itemId: 'item_mug', sku: 'MUG-1', optionValues: {}, priceMinor: 1500, qty: 7 }],
    };
    const plan = cat.plan('publish', mug, null);
    expect(plan.requests.map((r) => `${r.method} ${r.url.slice(emu.url.length)}`)).toEqual([
      'PUT /sell/inventory/v1/inventory_item/MUG-1',
      'POST /sell/inventory/v1/offer',
      'POST /sell/inventory/v1/offer/{{offer_0}}/publish',
    ]);
    emu.recording = true;
    const captured = await runPlan(cat, plan.requests);
    emu.recording = false;
    expect(emu.received.map((r) => asJson({ method: r.method, url: r.url, body: r.body }))).toEqual(
      plan.requests.map((r) => fillRequest(r, captured)).map((r) => asJson({ method: r.method, url: r.url, body: r.body })),
    );
    const { ref, listings } = plan.outcome(captured);
    expect(listings).toEqual([{ sku: 'MUG-1', externalId: 'MUG-1' }]);
    expect(ref.refs).toEqual({ 'offer:MUG-1': captured.offer_0 });
    const state = await stateQty();
    expect(state.get('MUG-1')).toBe(7);
    expect(await cat.readFields([ref])).toEqual([{ externalId: ref.externalId, title: 'Stoneware mug', description: mug.description, priceMinor: 1500 }]);
    await runPlan(cat, cat.plan('delist', mug, ref).requests);
    expect((await control('/accounts/seller-1/listings')).listings[0].status).toBe('ENDED');
  });

  it("a refusal the merchant can fix is a permanent error carrying eBay's message", async () => {
    await start([]);
    const a = openAdapter(ebayChannel, { channelId: 'ch', baseUrl: emu.url, credentials: channelCredentials(), settings: { category_id: '15687' } });
    const mug: ListingDraft = { ...shirt('Mug'), options: [], variants: [{ itemId: 'i', sku: 'MUG-2', optionValues: {}, priceMinor: 900, qty: 1 }] };
    const err = await runPlan(a.catalog!, a.catalog!.plan('publish', mug, null).requests).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'permanent' });
    expect((err as Error).message).toMatch(/merchantLocationKey is missing/);
    expect((err as Error).message).toMatch(/fulfillmentPolicyId is missing/);
  });
});

describe('OAuth connect steps', () => {
  it('consent page -> agree -> redirect with code -> exchange -> a working channel', async () => {
    await start(items(1));
    const url = consentUrl({ authBase: emu.url, clientId: CLIENT.client_id, ruName: CLIENT.ru_name, state: 'st-42' });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('Agree');
    // The browser submits the page's form (its action is the same authorize URL).
    const action = /<form method="post" action="([^"]+)"/.exec(html)![1]!.replace(/&#38;/g, '&');
    const agreed = await fetch(new URL(action, emu.url), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: CLIENT.username, decision: 'agree' }).toString(),
      redirect: 'manual',
    });
    expect(agreed.status).toBe(302);
    const location = agreed.headers.get('location')!;
    expect(location.startsWith(CLIENT.accept_url)).toBe(true);
    expect(() => codeFromRedirect(location, 'other-state')).toThrow(/state/);
    const code = codeFromRedirect(location, 'st-42');
    const creds = await exchangeCode({ baseUrl: emu.url, clientId: CLIENT.client_id, clientSecret: CLIENT.client_secret, ruName: CLIENT.ru_name, code });
    expect(Date.parse(creds.access_expires_at)).toBeGreaterThan(Date.now());
    const a = openAdapter(ebayChannel, {
      channelId: 'ch',
      baseUrl: emu.url,
      credentials: { client_id: CLIENT.client_id, client_secret: CLIENT.client_secret, ...creds },
      settings: {},
    });
    await expect(a.testConnection()).resolves.toMatchObject({ ok: true });
    const orders = await a.pollEvents!(null);
    expect(orders.events).toEqual([]);
    // Codes are single use.
    await expect(
      exchangeCode({ baseUrl: emu.url, clientId: CLIENT.client_id, clientSecret: CLIENT.client_secret, ruName: CLIENT.ru_name, code }),
    ).rejects.toMatchObject({ kind: 'auth' });
  });
});
