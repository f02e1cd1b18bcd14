// The OpenAPI documents, one per audience (DOCUMENTS in src/http/openapi.ts): the integrators' at
// /api/v1/openapi.json, accounts at /api/v1/openapi/account.json, operators at
// /api/v1/openapi/operators.json, all offered at /docs; together covering every /api/v1 route the
// server registers, each once; the contract checker every suite runs behind (test/setup-contract.ts)
// really refuses what breaks the contract; X-Request-Id on every response.
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CHANNEL_TYPES } from '../../src/channels/registry.ts';
import { ApiDocs, doc, DOCUMENT_NAMES, DOCUMENTS, type DocumentName } from '../../src/http/openapi.ts';
import { Contract } from '../helpers/contract.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, type Call } from './support.ts';

let h: Harness;
let call: Call;
let spec: Record<string, any>;
const docs = {} as Record<DocumentName, Record<string, any>>;
const raw = {} as Record<DocumentName, string>;
const each = () => DOCUMENT_NAMES.map((n) => [n, docs[n]] as const);

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const t = await registerTenant(h.url, 'Spec Co');
  call = client(h.url, t.token);
  for (const n of DOCUMENT_NAMES) {
    raw[n] = await (await fetch(`${h.url}${DOCUMENTS[n].path}`)).text();
    docs[n] = JSON.parse(raw[n]) as Record<string, any>;
  }
  spec = docs.api;
});

afterAll(async () => {
  await h?.stop();
});

/** What every operation of every document must say (its summary, a success, its path parameters, its body). */
function checkOperation(method: string, path: string, op: any): void {
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
  if (
    ['post', 'patch'].includes(method) &&
    !path.includes('{id}/') &&
    !['/api/v1/guardian/runs', '/api/v1/auth/verify-email/resend', '/api/v1/billing/portal'].includes(path)
  ) {
    expect(op.requestBody, `${method} ${path} has a body schema`).toBeTruthy();
  }
}

describe('the document', () => {
  it('is OpenAPI 3.1 and documents every /api/v1 route the server has, each in exactly one document, with responses for each', async () => {
    const routes = new Set<string>();
    const twice: string[] = [];
    for (const [name, d] of each()) {
      expect(d.openapi, name).toBe('3.1.0');
      const inlined = new Contract(d).doc;
      for (const [path, item] of Object.entries(inlined.paths as Record<string, Record<string, any>>)) {
        for (const [method, op] of Object.entries(item)) {
          const key = `${method.toUpperCase()} ${path}`;
          if (routes.has(key)) twice.push(key);
          routes.add(key);
          checkOperation(method, path, op);
        }
      }
    }
    expect(twice).toEqual([]);
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
      'POST /api/v1/billing/portal',
      'GET /api/v1/admin/tenants',
    ]) {
      expect(routes.has(r), r).toBe(true);
    }
    // Every route Fastify registered under /api/v1 (but the document itself) is in the document.
    const registered = h.sc.app!.apiDocs.routes;
    expect(registered.length).toBeGreaterThan(30);
    for (const r of registered) expect(routes.has(`${r.method} ${r.url.replace(/:(\w+)/g, '{$1}')}`), `${r.method} ${r.url}`).toBe(true);
    // Request schemas come from the zod schemas the routes validate with.
    const inlined = new Contract(spec).doc;
    const create = inlined.paths['/api/v1/items'].post.requestBody.content['application/json'].schema;
    expect(create.required).toEqual(['sku', 'name']);
    expect(create.properties.sku).toMatchObject({ type: 'string', minLength: 1, maxLength: 100 });
    const patch = inlined.paths['/api/v1/items/{id}'].patch;
    expect(patch.parameters.find((p: any) => p.name === 'If-Match')).toMatchObject({ in: 'header', required: true });
    expect(Object.keys(patch.responses)).toEqual(['200', '503', '4XX']);
    expect(patch.responses['503'].description).toMatch(/database_unavailable/);
    expect(patch.responses['4XX']['x-statuses']).toEqual(expect.arrayContaining([404, 409, 412, 428]));
    expect(spec.paths['/api/v1/api-keys'].post['x-required-scope']).toBe('admin');
  });

  it('is a valid OpenAPI 3.1 document, each of them (checked against the specification\u2019s own JSON Schema)', async () => {
    for (const [name, d] of each()) {
      const validator = new Validator();
      const res = await validator.validate(structuredClone(d));
      expect(res.errors ?? [], `${name}: ${String(JSON.stringify(res.errors)).slice(0, 3000)}`).toEqual([]);
      expect(res.valid, name).toBe(true);
      expect(validator.version, name).toBe('3.1');
    }
    // The validator does refuse a broken document (a response without its description).
    const broken = structuredClone(spec);
    delete broken.paths['/api/v1/items'].get.responses['200'].description;
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  it('each stays small enough to be passed whole as one shell argument (Linux caps one at 128 KiB)', async () => {
    // What repeats is written once in components (see hoist() in openapi.ts), and each operation
    // refers to one 4XX response naming all its client errors. The hard cap is 128 KiB (one argv
    // string; the acceptance check 03-openapi passes the integrators' document so): one document
    // was 127 KB on 2026-12-05, so it was split by audience (DOCUMENTS). On 2026-12-06: api 99.4 KB,
    // account 30 KB, operators 7 KB; the catalog (issue 13) got its own from the start. A budget failing here means a new tag needs a document of its
    // own (one line in DOCUMENT_OF_TAG), not a bigger budget: ~700 bytes per operation.
    // Each channel module also adds its create body and settings component to the integrators'
    // document (POST /channels is one body per type): ~1.8 KB for Etsy on 2026-12-05. Adding a
    // platform is its folder plus one registry line (invariant 8), so the api budget grows by 2 KiB
    // per type beyond the five it was set with, and stays under the hard cap.
    const perChannel = 2 * 1024 * Math.max(0, CHANNEL_TYPES.length - 5);
    // Every operation refers to Error503 (the database away for a moment: 2026-12-07, ~47 bytes
    // an operation, 3.5 KB on the integrators' document).
    const every503 = 4 * 1024;
    const budget: Record<DocumentName, number> = {
      api: Math.min(100 * 1024 + perChannel + every503, 127 * 1024),
      account: 48 * 1024,
      operators: 24 * 1024,
      catalog: 64 * 1024,
    };
    for (const n of DOCUMENT_NAMES) expect(Buffer.byteLength(raw[n]), `${n} document bytes`).toBeLessThan(budget[n]);
    expect(spec.components.parameters['items.id']).toMatchObject({ name: 'id', in: 'path', required: true });
    expect(spec.paths['/api/v1/items/{id}'].get.parameters).toContainEqual({ $ref: '#/components/parameters/items.id' });
    // Statuses any operation may answer are its 4XX, which says which they are.
    expect(spec.components.responses.Error4XX['x-statuses']).toEqual([400, 401, 403, 413, 415, 429]);
    // An operation's own client errors are named by its 4XX response (one reference, not one per status).
    const patch = spec.paths['/api/v1/items/{id}'].patch.responses;
    expect(Object.keys(patch)).toEqual(['200', '503', '4XX']);
    const own = spec.components.responses[patch['4XX'].$ref.split('/').at(-1)];
    expect(own['x-statuses']).toEqual([400, 401, 403, 404, 409, 412, 413, 415, 428, 429]);
    expect(own.description).toMatch(/412 .*precondition/i);
    expect(Object.keys(spec.paths['/api/v1/locations'].get.responses)).toEqual(['200', '503', '4XX']);
  });

  it('serves an interactive reference at /docs offering every document', async () => {
    const page = await fetch(`${h.url}/docs`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/swagger/i);
    const json = await (await fetch(`${h.url}/docs/json`)).json();
    expect(json).toEqual(spec);
    // Swagger UI's selector lists each document (its `urls`), the integrators' first.
    const init = await (await fetch(`${h.url}/docs/static/swagger-initializer.js`)).text();
    for (const n of DOCUMENT_NAMES) expect(init, n).toContain(JSON.stringify(DOCUMENTS[n].path));
    expect(init).toContain('"urls.primaryName":"Integrators (API keys)"');
  });

  it('refers only to components that exist, by names any tool resolves, and names each operation once', async () => {
    const ids = new Map<string, string>();
    for (const [name, d] of each()) {
      // Component names: the specification's own pattern for a component key.
      for (const [kind, entries] of Object.entries(d.components as Record<string, object>)) {
        for (const key of Object.keys(entries)) expect(key, `${name}: components.${kind}.${key}`).toMatch(/^[a-zA-Z0-9._-]+$/);
      }
      // Every $ref is local and resolves in the same document (each document stands alone).
      const walk = (node: unknown, at: string): void => {
        if (Array.isArray(node)) return node.forEach((n, i) => walk(n, `${at}/${i}`));
        if (!node || typeof node !== 'object') return;
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref') {
            expect(v, `${name} ${at}`).toMatch(/^#\/components\/[a-zA-Z]+\/[a-zA-Z0-9._-]+$/);
            const [, , kind, key] = (v as string).split('/');
            expect(d.components[kind!]?.[key!], `${name} ${at}: ${v} resolves`).toBeDefined();
          } else walk(v, `${at}/${k}`);
        }
      };
      walk(d, '#');
      // No component is left over that no operation reaches (but the headers said for reference).
      const used = JSON.stringify({ paths: d.paths, components: { ...d.components, headers: {} } });
      for (const [kind, entries] of Object.entries(d.components as Record<string, object>)) {
        if (kind === 'securitySchemes' || kind === 'headers') continue;
        for (const key of Object.keys(entries)) expect(used.includes(`"#/components/${kind}/${key}"`), `${name}: ${kind}.${key} is used`).toBe(true);
      }
      // Tags: exactly those of its operations.
      const opTags = new Set<string>();
      for (const [path, item] of Object.entries(d.paths as Record<string, Record<string, any>>)) {
        for (const [method, op] of Object.entries(item)) {
          opTags.add(op.tags[0]);
          const other = ids.get(op.operationId);
          expect(other, `operationId ${op.operationId} of ${method} ${path} (${name}) is also ${other}`).toBeUndefined();
          ids.set(op.operationId, `${method} ${path} (${name})`);
        }
      }
      expect(d.tags.map((t: { name: string }) => t.name).sort(), name).toEqual([...opTags].sort());
    }
  });

  it('splits by audience: the integrators\u2019 holds what an API key can call, the console its own', async () => {
    const scopes = (d: Record<string, any>) =>
      Object.entries(d.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
        Object.entries(item).map(([method, op]) => ({
          path,
          method,
          tag: op.tags[0] as string,
          scope: op.security ? 'none' : (op['x-required-scope'] ?? (method === 'get' ? 'read' : 'write')),
        })),
      );
    for (const op of scopes(docs.api)) expect(['none', 'read', 'write', 'admin'], `${op.method} ${op.path}`).toContain(op.scope);
    for (const op of scopes(docs.operators)) expect(op.path, op.path).toMatch(/^\/api\/v1\/admin\//);
    expect([...new Set(scopes(docs.account).map((o) => o.tag))].sort()).toEqual(['auth', 'billing', 'dashboard', 'enquiries', 'oauth', 'users']);
    expect([...new Set(scopes(docs.catalog).map((o) => o.tag))].sort()).toEqual(['conflicts', 'extension-tokens', 'products', 'publishing', 'sync-rules']);
    // The resources the outside check (03-openapi) looks for are the integrators'.
    const paths = Object.keys(docs.api.paths).join(' ');
    for (const n of [
      'items',
      'locations',
      'stock',
      'movements',
      'adjustments',
      'transfers',
      'purchase',
      'sales',
      'reservations',
      'webhook',
      'jobs',
      'audit',
      'reports',
      'api-keys',
    ]) {
      expect(paths, n).toMatch(new RegExp(n));
    }
    // Each document names where the others are.
    for (const [name, d] of each())
      for (const other of DOCUMENT_NAMES.filter((o) => o !== name)) expect(d.info.description, name).toContain(DOCUMENTS[other].path);
  });

  it('refuses to start with an undocumented /api/v1 route', async () => {
    const app = Fastify();
    new ApiDocs().install(app);
    app.get('/api/v1/fine', doc({ summary: 'ok', tag: 't', responses: { 200: z.object({}) } }), async () => ({}));
    expect(() => app.get('/api/v1/secret', async () => ({}))).toThrow(/no OpenAPI description/);
    // Nor with an operation no API key may call in the integrators' document (a tag left out of DOCUMENT_OF_TAG).
    expect(() =>
      app.post(
        '/api/v1/admin/new-console-thing',
        doc({ summary: 'x', tag: 'not-in-the-map', scope: 'operator', responses: { 200: z.object({}) } }),
        async () => ({}),
      ),
    ).toThrow(/DOCUMENT_OF_TAG/);
    app.post('/api/v1/admin/tenants/x', doc({ summary: 'x', tag: 'operators', scope: 'operator', responses: { 200: z.object({}) } }), async () => ({}));
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
