// The SDK in sdk/ against a real StockClerk (harness: real HTTP, real Postgres): an item created
// idempotently (a lost answer is retried with the same key and replayed, not doubled), an update
// with If-Match that loses a race, re-reads and wins, a job driven to its end, and webhook
// signatures that the server's signer and the SDK's verifier agree on. Plus the retry rules
// against a scripted server (429 + Retry-After, 409 in progress, network errors).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStockClerk, retryingFetch, signWebhook, updateItem, verifyWebhook, waitForJob, type StockClerkClient } from '../../sdk/src/index.ts';
import { newStandardWebhookSecret, signStandardWebhook, standardWebhookHeaders, verifyStandardWebhook } from '../../src/channels/signing.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from '../api/support.ts';

let h: Harness;
let apiKey: string;
let tenant: Awaited<ReturnType<typeof registerTenant>>;

beforeAll(async () => {
  h = await startHarness();
  tenant = await registerTenant(h.url, 'SDK Co');
  const r = await client(h.url, tenant.token)('POST', '/api-keys', { name: 'sdk', scopes: ['read', 'write'] });
  expect(r.status).toBe(201);
  apiKey = r.body.key;
});

afterAll(async () => {
  await h?.stop();
});

describe('SDK against a real StockClerk', () => {
  it('creates an item exactly once when the first answer is lost (automatic Idempotency-Key, retried)', async () => {
    const keys: string[] = [];
    let dropped = 0;
    // A network that delivers the first POST but loses its answer.
    const lossy = async (req: Request) => {
      keys.push(req.headers.get('idempotency-key') ?? '');
      const res = await fetch(req);
      if (req.method === 'POST' && dropped++ === 0) throw new TypeError('fetch failed (answer lost)');
      return res;
    };
    const sc = createStockClerk({ baseUrl: h.url, apiKey, fetch: lossy as typeof fetch, retry: { baseDelayMs: 10 } });
    const { data, response } = await sc.POST('/api/v1/items', { body: { sku: 'SDK-1', name: 'Made by the SDK' } });
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(keys.length).toBe(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
    const list = await sc.GET('/api/v1/items', { params: { query: { q: 'SDK-1' } } });
    expect(list.data!.data.map((i) => i.id)).toEqual([data!.id]);
    // An explicit key is kept: the same create again is the same item.
    const again = await sc.POST('/api/v1/items', { body: { sku: 'SDK-2', name: 'Two' }, params: { header: { 'Idempotency-Key': 'sdk-two' } } });
    const twice = await sc.POST('/api/v1/items', { body: { sku: 'SDK-2', name: 'Two' }, params: { header: { 'Idempotency-Key': 'sdk-two' } } });
    expect(twice.data!.id).toBe(again.data!.id);
  });

  it('updates with If-Match: a 412 from a rival writer is re-read and retried, and nothing is lost', async () => {
    const sc = createStockClerk({ baseUrl: h.url, apiKey });
    const item = (await sc.POST('/api/v1/items', { body: { sku: 'SDK-ETAG', name: 'Original', low_stock_threshold: 1 } })).data!;
    const rival = createStockClerk({ baseUrl: h.url, apiKey });
    const seen: number[] = [];
    const out = await updateItem(sc, item.id, async (current) => {
      seen.push(current.version);
      if (seen.length === 1) {
        // Another writer changes the item between our read and our write.
        const r = await updateItem(rival, item.id, () => ({ low_stock_threshold: 7 }));
        expect(r.version).toBe(2);
      }
      return { name: 'Renamed' };
    });
    expect(seen).toEqual([1, 2]);
    expect(out).toMatchObject({ name: 'Renamed', low_stock_threshold: 7, version: 3 });
    // A stale ETag is a 412 the plain client sees as an error.
    const stale = await sc.PATCH('/api/v1/items/{id}', { params: { path: { id: item.id }, header: { 'If-Match': 'W/"1"' } }, body: { name: 'Lost' } });
    expect(stale.response.status).toBe(412);
    expect(stale.error).toMatchObject({ error: { code: 'precondition_failed' } });
  });

  it('runs an import job to its end and downloads the error report', async () => {
    const sc: StockClerkClient = createStockClerk({ baseUrl: h.url, apiKey });
    const started = await sc.POST('/api/v1/imports/items', { body: { csv: 'sku,name\nJ1,One\n,Nameless' } });
    expect(started.response.status).toBe(202);
    const job = await waitForJob(sc, started.data!.id, { intervalMs: 50 });
    expect(job).toMatchObject({ status: 'succeeded', progress: { rows_total: 2, rows_failed: 1 } });
    const file = await sc.GET('/api/v1/jobs/{id}/download', { params: { path: { id: job.id } }, parseAs: 'text' });
    expect(file.data).toBe('line,error\n3,sku is required\n');
  });
});

describe('webhook signatures', () => {
  it('the SDK verifies what the server signs, and signs what the server verifies', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.string({ maxLength: 500 }),
        fc.integer({ min: 8, max: 48 }),
        (id, ts, body, bytes) => {
          const secret = newStandardWebhookSecret(bytes);
          expect(signWebhook(secret, id, ts, body)).toBe(signStandardWebhook(secret, id, ts, body));
        },
      ),
    );
    const secret = newStandardWebhookSecret();
    const body = JSON.stringify({ type: 'stock.changed', data: { item_id: 'item_1', on_hand: 3 } });
    const headers = standardWebhookHeaders(secret, 'msg_1', body);
    expect(verifyWebhook(secret, headers, body)).toEqual({ ok: true });
    expect(verifyWebhook(secret, new Headers(headers), Buffer.from(body))).toEqual({ ok: true });
    expect(verifyWebhook(secret, headers, body + ' ')).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(newStandardWebhookSecret(), headers, body)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyWebhook(secret, { ...headers, 'webhook-signature': undefined }, body)).toEqual({ ok: false, reason: 'missing_signature' });
    expect(verifyWebhook(secret, headers, body, { now: new Date(Date.now() + 600_000) })).toEqual({ ok: false, reason: 'stale_timestamp' });
    // Rotation: two signatures, the old secret's first.
    const old = newStandardWebhookSecret();
    const ts = Number(headers['webhook-timestamp']);
    const both = { ...headers, 'webhook-signature': `${signWebhook(old, 'msg_1', ts, body)} ${headers['webhook-signature']}` };
    expect(verifyWebhook(secret, both, body)).toEqual({ ok: true });
    expect(verifyStandardWebhook(both, Buffer.from(body), secret, new Date())).toEqual({ ok: true });
  });
});

describe('retry rules', () => {
  let server: http.Server;
  let base = '';
  const script: Array<{ status: number; headers?: Record<string, string>; body?: unknown }> = [];
  const got: Array<{ method: string; key: string | undefined; at: number }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      got.push({ method: req.method!, key: req.headers['idempotency-key'] as string | undefined, at: Date.now() });
      req.resume();
      const next = script.shift() ?? { status: 200, body: { ok: true } };
      if (next.status === 0) return req.socket.destroy();
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body ?? {}));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const go = (method: string, attempts = 5) =>
    retryingFetch(fetch, { baseDelayMs: 5, attempts })(new Request(`${base}/x`, { method, body: method === 'GET' ? undefined : '{}' }));

  it('POST: one key across 429 (honouring Retry-After), 409 in progress and a dropped connection', async () => {
    got.length = 0;
    script.push(
      { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'rate_limited' } } },
      { status: 409, body: { error: { code: 'idempotency_key_in_use' } } },
      { status: 0 },
      { status: 201, body: { id: 'x' } },
    );
    const res = await go('POST');
    expect(res.status).toBe(201);
    expect(got.length).toBe(4);
    expect(new Set(got.map((g) => g.key)).size).toBe(1);
    expect(got[1]!.at - got[0]!.at).toBeGreaterThanOrEqual(900);
  });

  it('does not retry a conflict that is an answer, nor a PATCH after a dropped connection; gives up after the attempts', async () => {
    got.length = 0;
    script.push({ status: 409, body: { error: { code: 'insufficient_stock' } } });
    expect((await go('POST')).status).toBe(409);
    expect(got.length).toBe(1);
    script.push({ status: 0 });
    await expect(go('PATCH')).rejects.toThrow();
    expect(got.length).toBe(2);
    script.push({ status: 503 }, { status: 503 }, { status: 503 });
    expect((await go('GET', 3)).status).toBe(503);
    expect(got.length).toBe(5);
  });
});
