// The OpenAPI document: served at /api/v1/openapi.json (3.1) and /docs, covering every /api/v1
// route the server registers; the contract checker every suite runs behind (test/setup-contract.ts)
// really refuses what breaks the contract; X-Request-Id on every response.
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiDocs, doc } from '../../src/http/openapi.ts';
import { Contract } from '../helpers/contract.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, type Call } from './support.ts';

let h: Harness;
let call: Call;
let spec: Record<string, any>;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const t = await registerTenant(h.url, 'Spec Co');
  call = client(h.url, t.token);
  spec = (await (await fetch(`${h.url}/api/v1/openapi.json`)).json()) as Record<string, any>;
});

afterAll(async () => {
  await h?.stop();
});

describe('the document', () => {
  it('is OpenAPI 3.1 and documents every /api/v1 route the server has, with responses for each', async () => {
    expect(spec.openapi).toBe('3.1.0');
    const routes = new Set<string>();
    const inlined = new Contract(spec).doc;
    for (const [path, item] of Object.entries(inlined.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(item)) {
        routes.add(`${method.toUpperCase()} ${path}`);
        expect(op.summary, `${method} ${path}`).toBeTruthy();
        expect(
          Object.keys(op.responses).some((s) => Number(s) < 400),
          `${method} ${path} has a success response`,
        ).toBe(true);
        for (const p of path.match(/\{(\w+)\}/g) ?? []) {
          expect(
            op.parameters.some((x: any) => x.in === 'path' && `{${x.name}}` === p),
            `${method} ${path} documents ${p}`,
          ).toBe(true);
        }
        if (['post', 'patch'].includes(method) && !path.includes('{id}/') && !['/api/v1/guardian/runs', '/api/v1/auth/verify-email/resend'].includes(path)) {
          expect(op.requestBody, `${method} ${path} has a body schema`).toBeTruthy();
        }
      }
    }
    for (const r of [
      'GET /api/v1/items',
      'POST /api/v1/items',
      'PATCH /api/v1/items/{id}',
      'DELETE /api/v1/locations/{id}',
      'GET /api/v1/stock-levels/{item_id}/{location_id}',
      'GET /api/v1/movements',
      'POST /api/v1/adjustments',
      'POST /api/v1/stock-counts',
      'POST /api/v1/api-keys',
      'GET /api/v1/audit-log',
      'GET /api/v1/reports/low-stock',
      'GET /api/v1/channels',
      'GET /api/v1/me',
    ]) {
      expect(routes.has(r), r).toBe(true);
    }
    // Every route Fastify registered under /api/v1 (but the document itself) is in the document.
    const registered = h.sc.app!.apiDocs.routes;
    expect(registered.length).toBeGreaterThan(30);
    for (const r of registered) expect(routes.has(`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`), `${r.method} ${r.url}`).toBe(true);
    // Request schemas come from the zod schemas the routes validate with.
    const create = inlined.paths['/api/v1/items'].post.requestBody.content['application/json'].schema;
    expect(create.required).toEqual(['sku', 'name']);
    expect(create.properties.sku).toMatchObject({ type: 'string', minLength: 1, maxLength: 100 });
    const patch = inlined.paths['/api/v1/items/{id}'].patch;
    expect(patch.parameters.find((p: any) => p.name === 'If-Match')).toMatchObject({ in: 'header', required: true });
    expect(Object.keys(patch.responses)).toEqual(['200', '4XX']);
    expect(patch.responses['4XX']['x-statuses']).toEqual(expect.arrayContaining([404, 409, 412, 428]));
    expect(spec.paths['/api/v1/api-keys'].post['x-required-scope']).toBe('admin');
  });

  it('is a valid OpenAPI 3.1 document (checked against the specification\u2019s own JSON Schema)', async () => {
    const validator = new Validator();
    const res = await validator.validate(structuredClone(spec));
    expect(res.errors ?? [], String(JSON.stringify(res.errors)).slice(0, 3000)).toEqual([]);
    expect(res.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    // The validator does refuse a broken document (a response without its description).
    const broken = structuredClone(spec);
    delete broken.paths['/api/v1/items'].get.responses['200'].description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('stays small enough to be passed whole as one shell argument (Linux caps one at 128 KiB)', async () => {
    const served = await (await fetch(`${h.url}/api/v1/openapi.json`)).text();
    // What repeats is written once in components (see hoist() in openapi.ts), and each operation
    // refers to one 4XX response naming all its client errors. The hard cap is 128 KiB (one argv
    // string; the acceptance check 03-openapi passes it so): 116 KB on 2026-12-04, 127 KB on
    // 2026-12-05 with accounts and billing. The next operations need the document split (paths
    // here, schemas in a second document referred to by URL) or this fails: the margin is ~3 KB.
    expect(Buffer.byteLength(served)).toBeLessThan(125 * 1024);
    expect(spec.components.parameters['items.id']).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(spec.paths['/api/v1/items/{id}'].get.parameters).toContainEqual({ $ref: '#/components/parameters/items.id' });
    // Statuses any operation may answer are its 4XX, which says which they are.
    expect(spec.components.responses.Error4XX['x-statuses']).toEqual([400, 401, 403, 413, 415, 429]);
    // An operation's own client errors are named by its 4XX response (one reference, not one per status).
    const patch = spec.paths['/api/v1/items/{id}'].patch.responses;
    expect(Object.keys(patch)).toEqual(['200', '4XX']);
    const own = spec.components.responses[patch['4XX'].$ref.split('/').at(-1)];
    expect(own['x-statuses']).toEqual([400, 401, 403, 404, 409, 412, 413, 415, 428, 429]);
    expect(own.description).toMatch(/412 .*precondition/i);
    expect(Object.keys(spec.paths['/api/v1/locations'].get.responses)).toEqual(['200', '4XX']);
  });

  it('serves an interactive reference at /docs over the same document', async () => {
    const page = await fetch(`${h.url}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
    const json = await (await fetch(`${h.url}/docs/json`)).json();
    expect(json).toEqual(spec);
  });

  it('refuses to start with an undocumented /api/v1 route', async () => {
    const app = Fastify();
    new ApiDocs().install(app);
    app.get('/api/v1/fine', doc({ summary: 'ok', tag: 't', responses: { 200: z.object({}) } }), async () => ({}));
    expect(() => app.get('/api/v1/secret', async () => ({}))).toThrow(/no OpenAPI description/);
    await app.close();
  });
});

describe('the contract checker', () => {
  const headers = (h: Record<string, string> = {}) => new Headers({ 'x-request-id': 'r1', ...h });
  it('accepts a documented exchange and refuses an undocumented status, a wrong body, an unknown route and a missing X-Request-Id', () => {
    const c = new Contract(spec);
    const base = 'http://x/api/v1';
    const err = (code: string, rid = 'r1') => JSON.stringify({ error: { code, message: 'm', details: null, request_id: rid } });
    expect(c.check({ method: 'GET', url: `${base}/locations`, status: 200, headers: headers(), responseText: '{"data":[],"next_cursor":null}' })).toEqual([]);
    expect(c.check({ method: 'GET', url: `${base}/locations`, status: 500, headers: headers(), responseText: err('internal_error') })[0]).toMatch(
      /not documented/,
    );
    expect(
      c.check({ method: 'GET', url: `${base}/locations`, status: 200, headers: headers(), responseText: '{"data":[{"id":1}],"next_cursor":null}' })[0],
    ).toMatch(/does not match/);
    expect(
      c.check({ method: 'GET', url: `${base}/locations`, status: 200, headers: headers(), responseText: '{"data":[],"next_cursor":null,"extra":1}' })[0],
    ).toMatch(/does not match/);
    expect(c.check({ method: 'GET', url: `${base}/nowhere`, status: 200, headers: headers(), responseText: '{}' })[0]).toMatch(/no such operation/);
    expect(
      c.check({
        method: 'GET',
        url: `${base}/nowhere`,
        status: 404,
        headers: headers(),
        responseText: JSON.stringify({ error: { code: 'not_found', message: 'No route GET /api/v1/nowhere', details: null, request_id: 'r1' } }),
      }),
    ).toEqual([]);
    expect(c.check({ method: 'GET', url: `${base}/locations`, status: 401, headers: new Headers(), responseText: err('unauthorized') })[0]).toMatch(
      /X-Request-Id/,
    );
    expect(c.check({ method: 'GET', url: `${base}/locations`, status: 401, headers: headers(), responseText: err('unauthorized', 'other') })[0]).toMatch(
      /request_id/,
    );
    // 4XX stands for the statuses it names, no others: a 412 from a route without If-Match is not in the contract.
    expect(c.check({ method: 'GET', url: `${base}/locations`, status: 429, headers: headers(), responseText: err('rate_limited') })).toEqual([]);
    expect(c.check({ method: 'GET', url: `${base}/locations`, status: 412, headers: headers(), responseText: err('precondition_failed') })[0]).toMatch(
      /not documented/,
    );
    // A 2xx answer to a request the document refuses means the document and the route disagree.
    expect(
      c.check({ method: 'GET', url: `${base}/locations?limit=9999`, status: 200, headers: headers(), responseText: '{"data":[],"next_cursor":null}' })[0],
    ).toMatch(/refuses/);
    expect(
      c.check({ method: 'GET', url: `${base}/locations?color=red`, status: 200, headers: headers(), responseText: '{"data":[],"next_cursor":null}' })[0],
    ).toMatch(/undocumented query/);
    // A single resource without its documented ETag.
    const loc = { id: `loc_${'0'.repeat(32)}`, name: 'x', version: 1, created_at: new Date().toISOString(), items_stocked: 0, on_hand: 0 };
    expect(c.check({ method: 'GET', url: `${base}/locations/${loc.id}`, status: 200, headers: headers(), responseText: JSON.stringify(loc) })[0]).toMatch(
      /ETag/,
    );
    expect(
      c.check({ method: 'GET', url: `${base}/locations/${loc.id}`, status: 200, headers: headers({ etag: '"v1"' }), responseText: JSON.stringify(loc) }),
    ).toEqual([]);
  });

  it('is what the suites run behind: a broken exchange fails the fetch itself', async () => {
    // /api/v1/stream is documented as a WebSocket upgrade (101) only: a plain GET's 404 is not in the contract.
    await expect(fetch(`${h.url}/api/v1/stream`)).rejects.toThrow(/contract broken/);
    const { violations } = await import('../setup-contract.ts');
    expect(violations.splice(0).length).toBeGreaterThan(0);
  });
});

describe('request ids and errors', () => {
  it('answers every response with X-Request-Id, honouring a sane incoming one, and puts it in errors', async () => {
    const mine = await fetch(`${h.url}/api/v1/items`, { headers: { 'x-request-id': 'abc-123.XYZ_9' } });
    expect(mine.headers.get('x-request-id')).toBe('abc-123.XYZ_9');
    const error = await (await fetch(`${h.url}/api/v1/items`, { headers: { 'x-request-id': 'abc-124' } })).json();
    expect(error).toEqual({ error: { code: 'unauthorized', message: expect.any(String), details: null, request_id: 'abc-124' } });
    for (const bad of ['has space', 'x'.repeat(101), 'semi;colon']) {
      const r = await fetch(`${h.url}/api/v1/items`, { headers: { 'x-request-id': bad } });
      expect(r.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const none = await call('GET', '/no-such-thing');
    expect(none.status).toBe(404);
    expect(none.body.error).toMatchObject({ code: 'not_found', request_id: none.headers.get('x-request-id') });
    for (const p of ['/healthz', '/docs', '/api/v1/openapi.json']) expect((await fetch(h.url + p)).headers.get('x-request-id'), p).toBeTruthy();
  });
});
