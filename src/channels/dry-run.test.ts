// The dry-run hold in httpCall: writes are written down and not sent; reads (GraphQL queries too) go out.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRun, NOT_SENT } from './dry-run.ts';
import { httpCall } from './http-client.ts';

let server: http.Server;
let url: string;
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('dryRun', () => {
  it('sends reads, holds writes, and leaves calls outside it alone', async () => {
    seen.length = 0;
    const run = await dryRun(async () => {
      await httpCall({ method: 'GET', url: `${url}/items/1` });
      await httpCall({ method: 'POST', url: `${url}/graphql`, body: { query: 'query Q { shop { id } }' } });
      await httpCall({ method: 'PUT', url: `${url}/items/1`, body: { qty: 3 } }).catch((e: Error) => expect(e.message).toBe(NOT_SENT));
      await httpCall({ method: 'POST', url: `${url}/graphql`, body: JSON.stringify({ query: '# set\n mutation M { set(q: 1) }' }) }).catch(() => null);
      await httpCall({ method: 'POST', url: `${url}/upload`, body: new Uint8Array(5) }).catch(() => null);
      return 'done';
    });
    expect(run).toMatchObject({ reads: 2, result: 'done', error: null });
    expect(run.held).toEqual([
      { method: 'PUT', url: `${url}/items/1`, body: { qty: 3 } },
      { method: 'POST', url: `${url}/graphql`, body: { query: '# set\n mutation M { set(q: 1) }' } },
      { method: 'POST', url: `${url}/upload`, body: { bytes: 5 } },
    ]);
    expect(seen).toEqual(['GET /items/1', 'POST /graphql']);
    // Outside a dry run a write goes out.
    await httpCall({ method: 'PUT', url: `${url}/items/1`, body: { qty: 3 } });
    expect(seen.at(-1)).toBe('PUT /items/1');
  });

  it("reports the adapter's own failure, not the hold", async () => {
    const held = await dryRun(() => httpCall({ method: 'DELETE', url: `${url}/x` }));
    expect(held).toMatchObject({ error: null, result: null });
    const failed = await dryRun(() => httpCall({ method: 'GET', url: 'http://127.0.0.1:9/nothing', timeoutMs: 2000 }));
    expect(failed.error).toMatch(/GET \/nothing/);
  });
});
