// Adapter <-> emulator over real HTTP on 127.0.0.1, plus a local receiver that checks what the
// emulator sends with the channel's own WebhookHandler.
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createSquareEmulator } from '../../../emulators/square/index.ts';
import { DEFAULT_KNOBS, type WriteRecord } from '../../../emulators/kit/index.ts';
import { applyChange } from '../../../emulators/square/store.ts';
import { ChannelError, type ChannelAdapter, type IncomingWebhook, type PushRequest, type RemoteListing } from '../contract.ts';
import { hmacSha256 } from '../signing.ts';
import { openAdapter } from '../registry.ts';
import { pushKey } from './adapter.ts';
import { squareChannelError } from './client.ts';
import { squareChannel } from './index.ts';
import { squareOAuth } from './auth.ts';
import { isNewerTimestamp, parseQuantity } from './model.ts';

const emu = createSquareEmulator();
const SIGNATURE_KEY = 'sig-key-test';
const TOKEN = 'EAAA-main-token';
const handler = squareChannel.webhook;
const ITEMS = Array.from({ length: 5 }, (_, i) => ({ sku: `SKU-${i + 1}`, name: `Item ${i + 1}`, qty: 10 + i }));

// Test-only hook (registered before listen): apply the next batch-create, then drop its answer
// (the "timed out but landed" case).
let loseWrites = 0;
emu.app.addHook('onSend', async (req, _reply, payload) => {
  if (req.url === '/v2/inventory/changes/batch-create' && loseWrites > 0) {
    loseWrites--;
    await new Promise((r) => setTimeout(r, 400));
    req.raw.socket.destroy();
  }
  return payload;
});

let receiver: FastifyInstance;
let hookUrl = '';
const received: IncomingWebhook[] = [];
let writes: WriteRecord[] = [];
emu.events.on('write', (w: WriteRecord) => writes.push(w));

function adapter(credentials: Record<string, string> = { access_token: TOKEN }, settings: Record<string, unknown> = {}): ChannelAdapter {
  return openAdapter(squareChannel, { channelId: 'ch_sq', baseUrl: emu.url, credentials, settings });
}
async function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}`, ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}
async function rejection(p: Promise<unknown>): Promise<ChannelError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ChannelError);
  return err as ChannelError;
}
async function all(a: ChannelAdapter): Promise<RemoteListing[][]> {
  const pages: RemoteListing[][] = [];
  for await (const p of a.listListings()) pages.push(p);
  return pages;
}
const qtyOf = (sku: string) => emu.spec.state(emu.accounts.get('main')!).find((s) => s.sku === sku)!.qty;
async function waitFor<T>(fn: () => T | undefined, what: string, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  receiver = Fastify();
  receiver.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  receiver.post('/webhooks/square/:id', async (req) => {
    received.push({ headers: req.headers, rawBody: req.body as Buffer, url: `${hookUrl.replace(/\/webhooks.*$/, '')}${req.url}` });
    return { ok: true };
  });
  const base = (await receiver.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  hookUrl = `${base}/webhooks/square/ch_sq`;
  await emu.listen();
});
afterAll(async () => {
  await emu.close();
  await receiver.close();
});
beforeEach(() => {
  emu.knobs = { ...DEFAULT_KNOBS };
  emu.addAccount({
    id: 'main',
    credentials: { access_token: TOKEN },
    webhookUrl: hookUrl,
    webhookSecret: SIGNATURE_KEY,
    items: ITEMS,
    ...{ catalogPageSize: 2 },
  } as never);
  received.length = 0;
  writes = [];
});

describe('Square quantities and timestamps', () => {
  it('reads decimal strings exactly; fractions floor to whole units', () => {
    expect(parseQuantity('12')).toBe(12);
    expect(parseQuantity('12.00000')).toBe(12);
    expect(parseQuantity('2.5')).toBe(2);
    expect(parseQuantity('-0.5')).toBe(-1);
    expect(parseQuantity('-3')).toBe(-3);
    expect(parseQuantity('1e3')).toBeNull();
    expect(parseQuantity(7)).toBeNull();
    expect(isNewerTimestamp('2026-01-01T00:00:00.002Z', '2026-01-01T00:00:00.001Z')).toBe(true);
    expect(isNewerTimestamp('2026-01-01T00:00:00.001Z', '2026-01-01T00:00:00.001Z')).toBe(false);
    expect(isNewerTimestamp('2026-01-01T00:00:00.001Z', null)).toBe(true);
  });
});

describe('Square adapter against the emulator', () => {
  it('imports listings across several catalog and count pages, sku -> variation id at the location', async () => {
    const a = adapter({ access_token: TOKEN }, { page_size: 1 });
    emu.knobs.recordRequests = true;
    emu.requests.length = 0;
    const pages = await all(a);
    // 5 items, 2 per catalog page -> 3 pages; counts read one per page (page_size 1) -> several count calls per page.
    expect(pages.length).toBe(3);
    const listings = pages.flat();
    expect(listings.map((l) => [l.sku, l.qty])).toEqual(ITEMS.map((i) => [i.sku, i.qty]));
    const acc = emu.accounts.get('main')!;
    expect(listings.map((l) => l.externalId)).toEqual(acc.variations.map((v) => v.id));
    expect(new Set(listings.map((l) => l.externalLocationId))).toEqual(new Set([acc.locations[0]!.id]));
    expect(listings.every((l) => typeof l.version === 'string')).toBe(true);
    const countCalls = emu.requests.filter((r) => r.url === '/v2/inventory/counts/batch-retrieve');
    expect(countCalls.length).toBeGreaterThanOrEqual(5);
    expect(countCalls.some((r) => typeof (r.body as { cursor?: string }).cursor === 'string')).toBe(true);
    expect(emu.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect((await a.testConnection()).ok).toBe(true);
  });

  it('pushes PHYSICAL_COUNT changes (quantity as a string) under a key derived from the push; a retry is replayed, not applied twice', async () => {
    const a = adapter();
    const [l1, l2] = (await all(a)).flat();
    emu.knobs.recordRequests = true;
    emu.requests.length = 0;
    const reqs: PushRequest[] = [
      {
        listingId: 'lst_1',
        externalId: l1!.externalId,
        externalLocationId: l1!.externalLocationId,
        qty: 4,
        known: { qty: 10, version: l1!.version! },
        idempotencyKey: 'lst_1:3:4',
      },
      {
        listingId: 'lst_2',
        externalId: l2!.externalId,
        externalLocationId: l2!.externalLocationId,
        qty: 0,
        known: { qty: 11, version: l2!.version! },
        idempotencyKey: 'lst_2:7:0',
      },
    ];
    const out = await a.pushLevels(reqs);
    expect(out.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(qtyOf('SKU-1')).toBe(4);
    expect(qtyOf('SKU-2')).toBe(0);
    const write = emu.requests.find((r) => r.url === '/v2/inventory/changes/batch-create')!.body as any;
    expect(write.idempotency_key).toBe(pushKey(reqs));
    expect(write.changes[0]).toMatchObject({
      type: 'PHYSICAL_COUNT',
      physical_count: { catalog_object_id: l1!.externalId, location_id: l1!.externalLocationId, state: 'IN_STOCK', quantity: '4' },
    });
    expect(Date.parse(write.changes[0].physical_count.occurred_at)).toBeGreaterThan(0);
    const first = out[0] as Extract<(typeof out)[0], { outcome: 'ok' }>;
    expect(first.version).toEqual(expect.any(String));
    expect(writes.length).toBe(2);

    // The same push sent again (the answer was lost): the same key and body, replayed by Square.
    const again = await post('/v2/inventory/changes/batch-create', write);
    expect(again.status).toBe(200);
    expect(writes.length).toBe(2);
    // The same key with another body is refused as Square documents.
    const other = await post('/v2/inventory/changes/batch-create', {
      ...write,
      changes: [{ ...write.changes[0], physical_count: { ...write.changes[0].physical_count, quantity: '9' } }],
    });
    expect(other.status).toBe(400);
    expect(other.body.errors[0]).toMatchObject({ category: 'INVALID_REQUEST_ERROR', code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(qtyOf('SKU-1')).toBe(4);
  });

  it('a key an earlier process used with another occurred_at is refused; the push goes out again under its own key', async () => {
    const a = adapter();
    const [l1] = (await all(a)).flat();
    const req: PushRequest = {
      listingId: 'lst_9',
      externalId: l1!.externalId,
      externalLocationId: l1!.externalLocationId,
      qty: 7,
      known: { qty: 10, version: null },
      idempotencyKey: 'lst_9:1:7',
    };
    const earlier = await post('/v2/inventory/changes/batch-create', {
      idempotency_key: pushKey([req]),
      changes: [
        {
          type: 'PHYSICAL_COUNT',
          physical_count: {
            catalog_object_id: l1!.externalId,
            location_id: l1!.externalLocationId,
            state: 'IN_STOCK',
            quantity: '8',
            occurred_at: new Date().toISOString(),
          },
        },
      ],
    });
    expect(earlier.status).toBe(200);
    // Square holds 8 after that; we believe 8 too (the earlier process's push went through).
    const out = await a.pushLevels([{ ...req, known: { qty: 8, version: null } }]);
    expect(out[0]!.outcome).toBe('ok');
    expect(qtyOf('SKU-1')).toBe(7);
  });

  it('a push whose answer was lost is sent again as it was, at once and on the next push: Square replays it, and a sale since is not taken for ours', async () => {
    const a = adapter({ access_token: TOKEN }, { request_timeout_ms: 300 });
    const [l1, l2] = (await all(a)).flat();
    emu.recording = true;
    emu.received.length = 0;
    // One lost answer: the same batch goes again at once and Square replays its answer.
    const req2: PushRequest = {
      listingId: 'lst_2',
      externalId: l2!.externalId,
      externalLocationId: l2!.externalLocationId,
      qty: 6,
      known: { qty: 11, version: l2!.version! },
      idempotencyKey: 'lst_2:5:6',
    };
    loseWrites = 1;
    expect(await a.pushLevels([req2])).toMatchObject([{ outcome: 'ok', qty: 6 }]);
    const sent = emu.received.filter((r) => r.url.endsWith('/v2/inventory/changes/batch-create'));
    expect(sent).toHaveLength(2);
    expect(sent[1]!.body).toEqual(sent[0]!.body);
    expect(writes).toHaveLength(1);

    // Every try of the push lost: it fails, and the next push of the same request sends that batch again.
    const req: PushRequest = {
      listingId: 'lst_1',
      externalId: l1!.externalId,
      externalLocationId: l1!.externalLocationId,
      qty: 4,
      known: { qty: 10, version: l1!.version! },
      idempotencyKey: 'lst_1:5:4',
    };
    loseWrites = 4;
    expect((await rejection(a.pushLevels([req]))).kind).toBe('transient');
    expect(qtyOf('SKU-1')).toBe(4);
    await fetch(`${emu.url}/_control/accounts/main/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SKU-1', qty: 1 }),
    });
    writes = [];
    emu.received.length = 0;
    const out = await a.pushLevels([req]);
    // Our count of 4 landed; the sale since (3) is left to its own notification.
    expect(out[0]).toMatchObject({ outcome: 'ok', qty: 4 });
    expect(writes).toEqual([]);
    expect(qtyOf('SKU-1')).toBe(3);
    // No read first: the batch went again byte for byte under its key.
    expect(emu.received.map((r) => r.url)).toEqual([`${emu.url}/v2/inventory/changes/batch-create`]);
    emu.recording = false;
  });

  it('a count a sale moved since we last saw it is not counted over: stale, with the fresh count', async () => {
    const a = adapter();
    const [l1] = (await all(a)).flat();
    await fetch(`${emu.url}/_control/accounts/main/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SKU-1', qty: 2 }),
    });
    writes = [];
    const out = await a.pushLevels([
      {
        listingId: 'lst_1',
        externalId: l1!.externalId,
        externalLocationId: l1!.externalLocationId,
        qty: 5,
        known: { qty: 10, version: l1!.version! },
        idempotencyKey: 'k',
      },
    ]);
    expect(out[0]!.outcome).toBe('stale');
    expect((out[0] as Extract<(typeof out)[0], { outcome: 'stale' }>).remote.qty).toBe(8);
    expect(writes).toEqual([]);
    expect(qtyOf('SKU-1')).toBe(8);
    // A value the count already holds is not written again.
    const same = await a.pushLevels([
      {
        listingId: 'lst_1',
        externalId: l1!.externalId,
        externalLocationId: l1!.externalLocationId,
        qty: 8,
        known: { qty: 8, version: null },
        idempotencyKey: 'k2',
      },
    ]);
    expect(same[0]).toMatchObject({ outcome: 'ok', unchanged: true, qty: 8 });
    expect(writes).toEqual([]);
  });

  it('a sale that occurred after our count but reached Square first stays applied; the push leaves it to the notification', async () => {
    const a = adapter();
    const [l1] = (await all(a)).flat();
    // A sale rung up a moment after the count our push carries (occurred_at ordering), already at Square.
    applyChange(emu.accounts.get('main')!, l1!.externalId, l1!.externalLocationId!, { kind: 'adjustment', qty: -1, at: Date.now() + 5000 });
    const out = await a.pushLevels([
      {
        listingId: 'lst_1',
        externalId: l1!.externalId,
        externalLocationId: l1!.externalLocationId,
        qty: 6,
        known: { qty: 9, version: null },
        idempotencyKey: 'late',
      },
    ]);
    // Square re-sequenced: 6 counted, then the later sale -> 5. Our push did write 6; the version is
    // left unset so the notification of 5 reads as the sale it is, not as our echo.
    expect(out[0]).toMatchObject({ outcome: 'ok', qty: 6, version: null });
    expect(qtyOf('SKU-1')).toBe(5);
  });

  it('maps 429 RATE_LIMITED (with Retry-After), auth errors, server errors and refusals to ChannelError kinds', async () => {
    const a = adapter();
    emu.knobs.throttleRate = 1;
    const throttled = await rejection(a.readListings([{ externalId: 'X', externalLocationId: 'L' }]));
    expect(throttled.kind).toBe('rate_limited');
    expect(throttled.retryAfterMs).toBe(1000);
    expect(throttled.message).toContain('RATE_LIMITED');
    emu.knobs.throttleRate = 0;

    // The seller's own budget: a burst past it is answered 429 too.
    const burst = await Promise.allSettled(Array.from({ length: 30 }, () => a.readListings([{ externalId: 'X', externalLocationId: 'L' }])));
    const limited = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as ChannelError);
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.every((e) => e.kind === 'rate_limited')).toBe(true);
    emu.knobs.enforceRateLimit = false;

    const unauth = await rejection(adapter({ access_token: 'wrong' }).testConnection());
    expect(unauth.kind).toBe('auth');
    expect(unauth.message).toContain('UNAUTHORIZED');

    emu.knobs.errorRate = 1;
    expect((await rejection(a.testConnection())).kind).toBe('transient');
    emu.knobs.errorRate = 0;

    // An unknown variation: Square refuses the request (400 NOT_FOUND): failed, not retried.
    const [l1] = (await all(a)).flat();
    const out = await a.pushLevels([
      {
        listingId: 'lst_x',
        externalId: 'NOSUCHVARIATION',
        externalLocationId: l1!.externalLocationId,
        qty: 3,
        known: { qty: null, version: null },
        idempotencyKey: 'x',
      },
    ]);
    expect(out[0]).toMatchObject({ outcome: 'failed', retryable: false });
    expect((out[0] as { error: string }).error).toContain('NOT_FOUND');

    const bad = await post('/v2/inventory/counts/batch-retrieve', { cursor: 'bogus' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].code).toBe('INVALID_CURSOR');
  });

  it('classifies Square error codes', () => {
    expect(squareChannelError('x', 401, [{ code: 'ACCESS_TOKEN_EXPIRED', category: 'AUTHENTICATION_ERROR' }]).kind).toBe('auth');
    expect(squareChannelError('x', 403, [{ code: 'INSUFFICIENT_SCOPES', category: 'AUTHENTICATION_ERROR' }]).kind).toBe('auth');
    expect(squareChannelError('x', 429, [{ code: 'RATE_LIMITED', category: 'RATE_LIMIT_ERROR' }], '3').retryAfterMs).toBe(3000);
    expect(squareChannelError('x', 503, [{ code: 'SERVICE_UNAVAILABLE', category: 'API_ERROR' }]).kind).toBe('transient');
    expect(squareChannelError('x', 400, [{ code: 'INVALID_VALUE', category: 'INVALID_REQUEST_ERROR' }]).kind).toBe('permanent');
    expect(squareChannelError('x', 404, [{ code: 'NOT_FOUND', category: 'INVALID_REQUEST_ERROR' }]).kind).toBe('permanent');
  });

  it('polls counts changed since the cursor, under the ids the notifications give them', async () => {
    const a = adapter();
    const first = await a.pollEvents!(null);
    expect(first.events).toEqual([]);
    expect(first.cursor).toEqual(expect.any(String));
    await fetch(`${emu.url}/_control/accounts/main/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SKU-3', qty: 1 }),
    });
    const next = await a.pollEvents!(first.cursor);
    // The counts calculated since the cursor (and, read again, those just before it: same ids).
    const sold = emu.accounts.get('main')!.variations[2]!.id;
    const ev = next.events.find((e) => e.kind === 'level' && e.level.externalId === sold)!;
    expect(next.events.filter((e) => e.kind === 'level' && e.level.externalId === sold)).toHaveLength(1);
    expect(ev.kind === 'level' && ev.level.qty).toBe(11);
    const hook = await waitFor(() => received[0], 'the notification');
    const fromHook = handler.parse(hook);
    expect(fromHook.map((e) => e.externalEventId)).toEqual([ev.externalEventId]);
    expect(isNewerTimestamp(next.cursor, first.cursor)).toBe(true);
  });
});

describe('Square notifications', () => {
  it('a sale sends inventory.count.updated signed over URL + body; it verifies and parses to the new count', async () => {
    await fetch(`${emu.url}/_control/accounts/main/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SKU-2', qty: 3 }),
    });
    const hook = await waitFor(() => received[0], 'the notification');
    const creds = { access_token: TOKEN, webhook_signature_key: SIGNATURE_KEY };
    expect(hook.headers['x-square-hmacsha256-signature']).toBe(hmacSha256(SIGNATURE_KEY, hook.url + hook.rawBody.toString('utf8'), 'base64'));
    expect(await handler.verify(hook, creds, new Date())).toEqual({ ok: true });
    const events = handler.parse(hook);
    expect(events).toHaveLength(1);
    const ev = events[0]!;
    expect(ev.kind).toBe('level');
    if (ev.kind !== 'level') return;
    expect(ev.level.qty).toBe(8);
    expect(ev.level.externalId).toBe(emu.accounts.get('main')!.variations[1]!.id);
    expect(ev.externalEventId).toMatch(/^count:/);
    // A redelivery (same bytes) gives the same event ids: the Watcher stores it once.
    expect(handler.parse({ ...hook }).map((e) => e.externalEventId)).toEqual([ev.externalEventId]);
  });

  it('refuses tampered, wrongly keyed, wrongly addressed and unsigned notifications', async () => {
    await fetch(`${emu.url}/_control/accounts/main/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'SKU-1', qty: 1 }),
    });
    const hook = await waitFor(() => received[0], 'the notification');
    const creds = { access_token: TOKEN, webhook_signature_key: SIGNATURE_KEY };
    const tampered = { ...hook, rawBody: Buffer.from(hook.rawBody.toString('utf8').replace('"quantity":"9"', '"quantity":"90"')) };
    expect(tampered.rawBody.equals(hook.rawBody)).toBe(false);
    expect(await handler.verify(tampered, creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await handler.verify(hook, { ...creds, webhook_signature_key: 'other' }, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await handler.verify(hook, { access_token: TOKEN }, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await handler.verify({ ...hook, url: hook.url.replace('ch_sq', 'ch_other') }, creds, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
    // Behind a proxy: the URL as registered is what Square signed.
    expect(await handler.verify({ ...hook, url: 'https://proxy.invalid/x' }, { ...creds, notification_url: hook.url }, new Date())).toEqual({ ok: true });
    const { 'x-square-hmacsha256-signature': _sig, ...unsigned } = hook.headers;
    expect(await handler.verify({ ...hook, headers: unsigned }, creds, new Date())).toEqual({ ok: false, reason: 'missing_signature' });
    // Another seller's notification under the same application key.
    expect(await handler.verify(hook, { ...creds, merchant_id: 'MOTHER' }, new Date())).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('ignores other notification types; refuses bodies it cannot read', () => {
    const body = Buffer.from(JSON.stringify({ merchant_id: 'M', type: 'order.created', event_id: 'e-1', created_at: '2026-01-01T00:00:00Z', data: {} }));
    expect(handler.parse({ headers: {}, rawBody: body, url: 'x' })).toEqual([
      { kind: 'ignored', externalEventId: 'event:e-1', occurredAt: '2026-01-01T00:00:00.000Z', reason: 'type order.created' },
    ]);
    expect(() => handler.parse({ headers: {}, rawBody: Buffer.from('[1]'), url: 'x' })).toThrow();
  });
});

describe('Square OAuth tokens', () => {
  const app = { clientId: 'sq0idp-app', clientSecret: 'sq0csp-secret', redirectUri: 'https://stockclerk.invalid/oauth/callback/square' };
  const connect = async () => {
    emu.addAccount({
      id: 'oauth',
      credentials: { access_token: 'EAAA-personal-2', client_id: app.clientId, client_secret: app.clientSecret, redirect_uri: app.redirectUri },
      items: ITEMS,
    });
    const { code } = (await (await fetch(`${emu.url}/_control/accounts/oauth/code`, { method: 'POST' })).json()) as { code: string };
    return (await squareOAuth.exchange({ baseUrl: emu.url, app, code, codeVerifier: null, params: {}, query: {}, account: null })).credentials;
  };

  it('the code becomes a 30-day access token and a refresh token; a spent code is refused', async () => {
    const creds = await connect();
    expect(creds).toMatchObject({ client_id: app.clientId, client_secret: app.clientSecret, merchant_id: emu.accounts.get('oauth')!.merchantId });
    const days = (Date.parse(creds.access_expires_at!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
    expect((await adapter(creds).testConnection()).ok).toBe(true);
    expect(squareOAuth.authorizeUrl({ authorizeBase: emu.url, app, state: 'st-1', codeChallenge: null, account: null })).toContain(
      '/oauth2/authorize?client_id=sq0idp-app',
    );
  });

  it('an access token refused as expired is renewed with the refresh token and the call sent again; the new one is stored', async () => {
    const creds = await connect();
    const saved: Array<Record<string, string>> = [];
    const a = openAdapter(squareChannel, {
      channelId: 'ch_sq',
      baseUrl: emu.url,
      credentials: creds,
      settings: {},
      saveCredentials: async (c) => void saved.push(c),
    });
    expect((await a.testConnection()).ok).toBe(true);
    await fetch(`${emu.url}/_control/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await a.testConnection()).ok).toBe(true);
    expect(saved).toHaveLength(1);
    expect(saved[0]!.access_token).not.toBe(creds.access_token);
    // Code flow: Square answers a refresh with the same refresh token.
    expect(saved[0]!.refresh_token).toBe(creds.refresh_token);
    // A token near its recorded expiry is renewed before the call.
    const b = openAdapter(squareChannel, {
      channelId: 'ch_sq',
      baseUrl: emu.url,
      credentials: { ...saved[0]!, access_expires_at: new Date(Date.now() + 1000).toISOString() },
      settings: {},
      saveCredentials: async (c) => void saved.push(c),
    });
    expect((await b.testConnection()).ok).toBe(true);
    expect(saved).toHaveLength(2);
    // A refresh token Square no longer knows: the channel's consent is gone (auth).
    const c = adapter({ ...creds, refresh_token: 'EQAA-unknown', access_expires_at: new Date(Date.now() - 1000).toISOString() });
    expect((await rejection(c.testConnection())).kind).toBe('auth');
  });
});
