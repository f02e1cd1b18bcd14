// Wix adapter + webhook handler against the Wix emulator over real HTTP (127.0.0.1, port 0).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { importSPKI, jwtVerify } from 'jose';
import { request } from 'undici';
import { ChannelError, WebhookParseError, type IncomingWebhook, type InboundEvent, type RemoteListing } from '../contract.ts';
import { DEFAULT_KNOBS, type Emulator } from '../../../emulators/kit/index.ts';
import { createWixEmulator, generateWixKeyPair, type WixAccount } from '../../../emulators/wix/index.ts';
import { signJwtRS256 } from './jwt.ts';
import { wixChannel } from './index.ts';
import { openAdapter } from '../registry.ts';

const keys = generateWixKeyPair();
const otherKeys = generateWixKeyPair();
let emu: Emulator<WixAccount>;
let receiver: FastifyInstance;
let received: IncomingWebhook[] = [];
let acc: WixAccount;

const SITE = 'site-1';
const KEY = 'IST.key-1';
const creds = { api_key: KEY, site_id: SITE, public_key: keys.publicKey };

function adapter(settings: Record<string, unknown> = {}, credentials: Record<string, string> = creds) {
  return openAdapter(wixChannel, { channelId: 'ch_wix', baseUrl: emu.url, credentials, settings });
}

async function all(a = adapter({ page_size: 2 })): Promise<{ pages: number; items: RemoteListing[] }> {
  let pages = 0;
  const items: RemoteListing[] = [];
  for await (const p of a.listListings()) {
    pages++;
    items.push(...p);
  }
  return { pages, items };
}

async function caught(p: Promise<unknown>): Promise<ChannelError> {
  try {
    await p;
  } catch (e) {
    return e as ChannelError;
  }
  throw new Error('expected a ChannelError');
}

async function waitFor<T>(fn: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function parsed(): InboundEvent[] {
  return received.flatMap((w) => wixChannel.webhook.parse(w));
}

/** A webhook body as Wix builds it, for forging edge cases. */
function wixBody(event: Record<string, unknown>, eventType: string, opts: { key?: string; iat?: number; exp?: number } = {}): string {
  const iat = opts.iat ?? Math.floor(Date.now() / 1000);
  const envelope = { eventType, instanceId: 'inst', data: JSON.stringify(event), identity: '{}' };
  return signJwtRS256(opts.key ?? keys.privateKey, { data: JSON.stringify(envelope), iat, exp: opts.exp ?? iat + 3600 });
}
const hook = (body: string): IncomingWebhook => ({ headers: {}, rawBody: Buffer.from(body), url: 'http://x/webhooks/wix/ch' });

beforeAll(async () => {
  receiver = Fastify();
  receiver.removeAllContentTypeParsers();
  receiver.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  receiver.post('/hook', async (req) => {
    received.push({ headers: req.headers, rawBody: req.body as Buffer, url: 'http://127.0.0.1/hook' });
    return { ok: true };
  });
  const hookUrl = await receiver.listen({ port: 0, host: '127.0.0.1' });
  emu = createWixEmulator();
  await emu.listen();
  acc = emu.addAccount({
    id: 'acc1',
    credentials: { api_key: KEY, site_id: SITE },
    webhookUrl: `${hookUrl}/hook`,
    webhookSecret: keys.privateKey,
    items: ['A', 'B', 'C', 'D', 'E'].map((s, i) => ({ sku: `SKU-${s}`, name: `Item ${s}`, qty: 10 + i })),
  });
});

afterAll(async () => {
  await emu.drain();
  await emu.close();
  await receiver.close();
});

describe('wix adapter', () => {
  it('testConnection succeeds; a bad key is auth/401; a missing site header is auth/403', async () => {
    expect(await adapter().testConnection()).toEqual({ ok: true, account: SITE });
    const bad = await caught(adapter({}, { ...creds, api_key: 'nope' }).testConnection());
    expect(bad).toBeInstanceOf(ChannelError);
    expect([bad.kind, bad.status]).toEqual(['auth', 401]);
    const noSite = await caught(adapter({}, { ...creds, site_id: '' }).testConnection());
    expect([noSite.kind, noSite.status]).toEqual(['auth', 403]);
  });

  it('listListings follows cursors across pages and maps the V3 item', async () => {
    const { pages, items } = await all();
    expect(pages).toBe(3); // 5 items, 2 per page
    expect(items.map((i) => i.sku)).toEqual(['SKU-A', 'SKU-B', 'SKU-C', 'SKU-D', 'SKU-E']);
    expect(new Set(items.map((i) => i.externalId)).size).toBe(5);
    expect(items[0]).toMatchObject({ qty: 10, version: '1', externalLocationId: acc.defaultLocationId, name: 'Item A' });
  });

  it('filters on settings.location_id', async () => {
    expect((await all(adapter({ location_id: acc.defaultLocationId }))).items).toHaveLength(5);
    expect((await all(adapter({ location_id: '00000000-0000-0000-0000-00000000dead' }))).items).toHaveLength(0);
  });

  it('readListings fetches by id', async () => {
    const ids = acc.items.slice(1, 3).map((i) => i.id);
    const got = await adapter().readListings(ids.map((externalId) => ({ externalId })));
    expect(got.map((g) => g.externalId).sort()).toEqual([...ids].sort());
  });

  it('pushLevels writes absolute quantities with the revision and returns the new revision', async () => {
    const writes: string[] = [];
    const onWrite = (w: { externalId: string }) => writes.push(w.externalId);
    emu.events.on('write', onWrite);
    const [a, b] = acc.items;
    const res = await adapter().pushLevels([
      { listingId: 'l1', externalId: a!.id, qty: 3, known: { qty: 10, version: '1' }, idempotencyKey: 'k1' },
      { listingId: 'l2', externalId: b!.id, qty: 0, known: { qty: 11, version: '1' }, idempotencyKey: 'k2' },
    ]);
    emu.events.off('write', onWrite);
    expect(res).toEqual([
      { listingId: 'l1', outcome: 'ok', qty: 3, version: '2' },
      { listingId: 'l2', outcome: 'ok', qty: 0, version: '2' },
    ]);
    expect(
      emu.spec
        .state(acc)
        .slice(0, 2)
        .map((s) => s.qty),
    ).toEqual([3, 0]);
    expect(writes).toEqual([a!.id, b!.id]);
  });

  it('a stale revision is not applied and comes back as stale with a fresh read', async () => {
    const c = acc.items[2]!;
    await request(`${emu.url}/_control/accounts/acc1/set`, {
      method: 'POST',
      body: JSON.stringify({ externalId: c.id, qty: 7 }),
      headers: { 'content-type': 'application/json' },
    });
    const [r] = await adapter().pushLevels([{ listingId: 'l3', externalId: c.id, qty: 20, known: { qty: 12, version: '1' }, idempotencyKey: 'k3' }]);
    expect(r).toMatchObject({ outcome: 'stale', remote: { externalId: c.id, qty: 7, version: '2' } });
    expect(c.quantity).toBe(7);
  });

  it('without a known revision: reads first; pushes when the quantity is as believed, else stale', async () => {
    const d = acc.items[3]!;
    const [ok] = await adapter().pushLevels([{ listingId: 'l4', externalId: d.id, qty: 5, known: { qty: null, version: null }, idempotencyKey: 'k4' }]);
    expect(ok).toEqual({ listingId: 'l4', outcome: 'ok', qty: 5, version: '2' });
    const [stale] = await adapter().pushLevels([{ listingId: 'l4', externalId: d.id, qty: 9, known: { qty: 6, version: null }, idempotencyKey: 'k5' }]);
    expect(stale).toMatchObject({ outcome: 'stale', remote: { qty: 5 } });
    expect(d.quantity).toBe(5);
  });

  it('one bad listing fails alone: unknown id and out-of-range qty; the rest apply', async () => {
    const e = acc.items[4]!;
    const res = await adapter().pushLevels([
      { listingId: 'x', externalId: 'no-such-item', qty: 1, known: { qty: 1, version: '1' }, idempotencyKey: 'x' },
      { listingId: 'big', externalId: e.id, qty: 100_000, known: { qty: 14, version: '1' }, idempotencyKey: 'b' },
      { listingId: 'e', externalId: e.id, qty: 13, known: { qty: 14, version: '1' }, idempotencyKey: 'e' },
    ]);
    expect(res[0]).toMatchObject({ listingId: 'x', outcome: 'failed', retryable: false });
    expect(res[1]).toMatchObject({ listingId: 'big', outcome: 'failed', retryable: false });
    expect(res[2]).toEqual({ listingId: 'e', outcome: 'ok', qty: 13, version: '2' });
  });

  it('isNewer compares int64 revisions numerically', () => {
    const a = adapter();
    expect(a.isNewer('10', '9')).toBe(true);
    expect(a.isNewer('9', '10')).toBe(false);
    expect(a.isNewer('9223372036854775807', '9223372036854775806')).toBe(true);
    expect(a.isNewer('1', null)).toBe(true);
    expect(a.isNewer(null, '1')).toBe(false);
  });

  it("the site's 200/minute limit answers Wix's 429 and maps to rate_limited without Retry-After", async () => {
    emu.addAccount({ id: 'busy', credentials: { api_key: 'busy-key', site_id: 'busy-site' }, items: [{ sku: 'Z', name: 'Z', qty: 1 }] });
    const h = { authorization: 'busy-key', 'wix-site-id': 'busy-site', 'content-type': 'application/json' };
    const statuses = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const r = await request(`${emu.url}/stores/v3/inventory-items/query`, { method: 'POST', headers: h, body: '{"query":{}}' });
        await r.body.dump();
        return r.statusCode;
      }),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    // The bucket refills 200 per 60 s (one call per 300 ms): on a loaded machine the burst can take
    // long enough to earn a call or two back, so the next few calls must meet the limit.
    let raw = await request(`${emu.url}/stores/v3/inventory-items/query`, { method: 'POST', headers: h, body: '{"query":{}}' });
    for (let i = 0; i < 10 && raw.statusCode === 200; i++) {
      await raw.body.dump();
      raw = await request(`${emu.url}/stores/v3/inventory-items/query`, { method: 'POST', headers: h, body: '{"query":{}}' });
    }
    expect(raw.statusCode).toBe(429);
    expect(raw.headers['retry-after']).toBeUndefined();
    expect(await raw.body.json()).toMatchObject({ message: 'Resource exhausted', details: { applicationError: { code: 'RESOURCE_EXHAUSTED' } } });
    const err = await caught(adapter({}, { api_key: 'busy-key', site_id: 'busy-site' }).testConnection());
    expect([err.kind, err.status, err.retryAfterMs]).toEqual(['rate_limited', 429, null]);
  });

  it('5xx knob -> transient; timeout knob -> transient', async () => {
    try {
      emu.knobs = { ...DEFAULT_KNOBS, errorRate: 1 };
      const e5 = await caught(adapter().testConnection());
      expect([e5.kind, e5.status]).toEqual(['transient', 500]);
      emu.knobs = { ...DEFAULT_KNOBS, timeoutRate: 1, timeoutHangMs: 300 };
      const t0 = Date.now();
      const et = await caught(adapter({ request_timeout_ms: 100 }).testConnection());
      expect(et.kind).toBe('transient');
      expect(Date.now() - t0).toBeLessThan(290);
    } finally {
      emu.knobs = { ...DEFAULT_KNOBS };
    }
  });
});

describe('wix webhooks', () => {
  it('a sale sends order_created and inventory_item_updated, signed so jose and our handler accept them', async () => {
    await emu.drain();
    received = [];
    const a = acc.items[0]!; // qty 3, revision 2 after the push test
    const sale = await request(`${emu.url}/_control/accounts/acc1/sale`, {
      method: 'POST',
      body: JSON.stringify({ sku: 'SKU-A', qty: 2 }),
      headers: { 'content-type': 'application/json' },
    });
    expect(await sale.body.json()).toMatchObject({ ok: true });
    await waitFor(() => (received.length >= 2 ? true : undefined));
    for (const w of received) {
      expect(wixChannel.webhook.verify(w, creds, new Date())).toEqual({ ok: true });
      // Independent check of the signing: a stock JWT library verifies it with the public key.
      await jwtVerify(w.rawBody.toString(), await importSPKI(keys.publicKey, 'RS256'), { algorithms: ['RS256'] });
    }
    const events = parsed();
    const order = events.find((e) => e.kind === 'order');
    const level = events.find((e) => e.kind === 'level');
    expect(order).toMatchObject({ effect: 'sale', lines: [{ externalId: null, sku: 'SKU-A', qty: 2 }], externalLocationId: null });
    expect(level).toMatchObject({ level: { externalId: a.id, sku: 'SKU-A', qty: 1, version: '3', externalLocationId: acc.defaultLocationId } });
    expect(order!.externalEventId).not.toBe(level!.externalEventId);
    expect(a.quantity).toBe(1);
  });

  it('rejects tampered, unsigned, wrong-key, alg-none and stale bodies', async () => {
    const body = wixBody({ id: 'e1', slug: 'updated' }, 'wix.stores.catalog.v3.inventory_item_updated');
    const [h, p, s] = body.split('.') as [string, string, string];
    expect(wixChannel.webhook.verify(hook(body), creds, new Date())).toEqual({ ok: true });
    const forged = Buffer.from(Buffer.from(p, 'base64url').toString().replace('e1', 'e2')).toString('base64url');
    expect(wixChannel.webhook.verify(hook(`${h}.${forged}.${s}`), creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    // Flip one character of the signature's body (not its last, whose low bits base64url may ignore).
    const flipped = s.slice(0, 10) + (s[10] === 'A' ? 'B' : 'A') + s.slice(11);
    expect(wixChannel.webhook.verify(hook(`${h}.${p}.${flipped}`), creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(wixChannel.webhook.verify(hook(`${h}.${p}.`), creds, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    expect(wixChannel.webhook.verify(hook('{"data":"{}"}'), creds, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    expect(wixChannel.webhook.verify(hook(''), creds, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    const wrongKey = wixBody({ id: 'e1' }, 'x', { key: otherKeys.privateKey });
    expect(wixChannel.webhook.verify(hook(wrongKey), creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.${s}`;
    expect(wixChannel.webhook.verify(hook(none), creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    // Correctly signed, but the header names another algorithm: only RS256 is accepted.
    const rs512 = signJwtRS256(keys.privateKey, { data: '{}', iat: Math.floor(Date.now() / 1000) }, { alg: 'RS512' });
    expect(wixChannel.webhook.verify(hook(rs512), creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    const nowS = Math.floor(Date.now() / 1000);
    const expired = wixBody({ id: 'e1' }, 'x', { iat: nowS - 7200, exp: nowS - 3600 });
    expect(wixChannel.webhook.verify(hook(expired), creds, new Date())).toEqual({ ok: false, reason: 'stale_timestamp' });
    const future = wixBody({ id: 'e1' }, 'x', { iat: nowS + 600 });
    expect(wixChannel.webhook.verify(hook(future), creds, new Date())).toEqual({ ok: false, reason: 'stale_timestamp' });
    // The same genuine delivery, checked two hours later, is past its exp.
    expect(wixChannel.webhook.verify(hook(body), creds, new Date(Date.now() + 2 * 3600_000))).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('malformed bodies throw WebhookParseError', () => {
    const notJson = signJwtRS256(keys.privateKey, { data: '{not json', iat: 1, exp: 2 });
    expect(() => wixChannel.webhook.parse(hook(notJson))).toThrow(WebhookParseError);
    expect(() => wixChannel.webhook.parse(hook('{"x":1}'))).toThrow(WebhookParseError);
    const noId = wixBody({ slug: 'created' }, 'wix.ecom.v1.order_created');
    expect(() => wixChannel.webhook.parse(hook(noId))).toThrow(WebhookParseError);
  });

  it('parses order_canceled as cancel, skips non-Stores lines, ignores other topics', () => {
    const order = {
      id: 'o1',
      lineItems: [
        { quantity: 2, catalogReference: { appId: '215238eb-22a5-4c36-9e7b-e7c08025e04e' }, physicalProperties: { sku: 'SKU-B' } },
        { quantity: 1, catalogReference: { appId: 'some-bookings-app' } },
      ],
    };
    const cancel = wixBody({ id: 'ev-c', slug: 'canceled', actionEvent: { bodyAsJson: JSON.stringify({ order }) } }, 'wix.ecom.v1.order_canceled');
    expect(wixChannel.webhook.parse(hook(cancel))).toEqual([
      expect.objectContaining({ kind: 'order', externalEventId: 'ev-c', effect: 'cancel', orderId: 'o1', lines: [{ externalId: null, sku: 'SKU-B', qty: 2 }] }),
    ]);
    const other = wixBody({ id: 'ev-x', slug: 'updated' }, 'wix.stores.catalog.v3.product_updated');
    expect(wixChannel.webhook.parse(hook(other))).toEqual([expect.objectContaining({ kind: 'ignored', externalEventId: 'ev-x' })]);
  });

  it('duplicateRate=1 delivers the same externalEventId twice', async () => {
    await emu.drain();
    received = [];
    emu.knobs = { ...DEFAULT_KNOBS, duplicateRate: 1 };
    try {
      await request(`${emu.url}/_control/accounts/acc1/set`, {
        method: 'POST',
        body: JSON.stringify({ sku: 'SKU-B', qty: 40 }),
        headers: { 'content-type': 'application/json' },
      });
      await waitFor(() => (received.length >= 2 ? true : undefined));
      await emu.drain();
    } finally {
      emu.knobs = { ...DEFAULT_KNOBS };
    }
    const events = parsed();
    expect(events).toHaveLength(2);
    expect(events[0]!.externalEventId).toBe(events[1]!.externalEventId);
    expect(events[0]).toMatchObject({ kind: 'level', level: { sku: 'SKU-B', qty: 40 } });
  });
});

describe('a site that installed the app from Wix (OAuth tokens instead of an API key)', () => {
  const APP = { app_id: 'a1b2c3d4-0000-4000-8000-000000000001', app_secret: 'app-secret-unit' };
  let grantSite: WixAccount;

  beforeAll(async () => {
    const r = await request(`${emu.url}/_control/apps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...APP, app_url: 'http://127.0.0.1:1/install/wix' }),
    });
    expect(r.statusCode).toBe(200);
    await r.body.text();
    grantSite = emu.addAccount({
      id: 'installed-site',
      credentials: { api_key: 'not-used', site_id: 'installed-site' },
      items: [{ sku: 'OA-1', name: 'Tea', qty: 6 }],
    });
  });

  function grant(accessExp: number, refreshToken = 'OAUTH2.refresh-1') {
    grantSite.appGrant = { appId: APP.app_id, accessToken: `OAUTH2.access-${Math.random()}`, accessExp, refreshToken };
    return grantSite.appGrant;
  }
  function oauthAdapter(credentials: Record<string, string>, saved: Array<Record<string, string>> = []) {
    return openAdapter(wixChannel, {
      channelId: 'ch_wix_oauth',
      baseUrl: emu.url,
      credentials: { public_key: keys.publicKey, instance_id: grantSite.instanceId, ...APP, ...credentials },
      settings: {},
      saveCredentials: async (c) => void saved.push(c),
    });
  }

  it('reads with the access token alone (no wix-site-id) and renews it shortly before it expires, storing the new one', async () => {
    const g = { ...grant(Date.now() + 30_000) }; // the emulator changes its own copy
    const saved: Array<Record<string, string>> = [];
    const a = oauthAdapter(
      { access_token: g.accessToken, refresh_token: g.refreshToken, access_expires_at: new Date(Date.now() + 30_000).toISOString() },
      saved,
    );
    const { items } = await all(a);
    expect(items.map((i) => i.sku)).toEqual(['OA-1']);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.access_token).toBe(grantSite.appGrant!.accessToken);
    expect(saved[0]!.access_token).not.toBe(g.accessToken);
    expect(saved[0]!.refresh_token).toBe(g.refreshToken); // Wix's refresh token does not change
    expect(Date.parse(saved[0]!.access_expires_at!)).toBeGreaterThan(Date.now() + 60_000);
  });

  it('a token that expired early (expiry unknown) is renewed on the 401 and the call retried', async () => {
    const g = grant(0);
    const a = oauthAdapter({ access_token: g.accessToken, refresh_token: g.refreshToken });
    await expect(a.testConnection()).resolves.toMatchObject({ ok: true, account: grantSite.instanceId });
  });

  it('a refused renewal is an auth error (the channel-auth alert)', async () => {
    const g = grant(0, 'OAUTH2.live-refresh');
    const a = oauthAdapter({ access_token: g.accessToken, refresh_token: 'OAUTH2.revoked' });
    const err = await caught(a.testConnection());
    expect(err).toBeInstanceOf(ChannelError);
    expect(err.kind).toBe('auth');
    expect(err.message).toMatch(/refused to renew the access token/);
  });

  it('an API key channel must name its site; an installed one needs its refresh token and app keys', () => {
    const c = wixChannel.credentials;
    expect(c.safeParse({ api_key: 'k', public_key: 'p' }).success).toBe(false);
    expect(c.safeParse({ access_token: 't', public_key: 'p' }).success).toBe(false);
    expect(c.safeParse({ refresh_token: 'r', app_id: 'a', app_secret: 's', public_key: 'p' }).success).toBe(true);
    expect(c.safeParse({ api_key: 'k', site_id: 's', public_key: 'p' }).success).toBe(true);
  });

  it("a channel installed from Wix takes only its own app instance's webhooks", () => {
    const now = new Date();
    const body = hook(wixBody({ appId: APP.app_id }, 'AppRemoved')); // instanceId "inst"
    expect(wixChannel.webhook.verify(body, { public_key: keys.publicKey, instance_id: 'inst' }, now)).toEqual({ ok: true });
    expect(wixChannel.webhook.verify(body, { public_key: keys.publicKey, instance_id: 'another-instance' }, now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    // A channel connected with an API key knows no instance: unchanged.
    expect(wixChannel.webhook.verify(body, { public_key: keys.publicKey }, now)).toEqual({ ok: true });
  });

  it('App Removed is an uninstall; Stores events are not', () => {
    expect(wixChannel.webhook.isUninstall!(hook(wixBody({ appId: APP.app_id }, 'AppRemoved')))).toBe(true);
    expect(wixChannel.webhook.isUninstall!(hook(wixBody({ id: 'e1' }, 'wix.stores.catalog.v3.inventory_item_updated')))).toBe(false);
    expect(wixChannel.webhook.isUninstall!(hook('not a jwt'))).toBe(false);
  });
});
