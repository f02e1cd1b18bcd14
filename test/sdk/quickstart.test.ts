// examples/quickstart against a real StockClerk: from an API key to stock received, and, where the
// server has outbound webhooks (POST /api/v1/webhook-endpoints), to a received webhook whose
// signature verifies. Without that feature the script must still run to that point and say so.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quickstart } from '../../examples/quickstart/quickstart.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client } from '../api/support.ts';

let h: Harness;
let apiKey: string;

beforeAll(async () => {
  h = await startHarness();
  const t = await registerTenant(h.url, 'Quickstart Co');
  apiKey = (await client(h.url, t.token)('POST', '/api-keys', { name: 'quickstart', scopes: ['read', 'write', 'admin'] })).body.key;
});

afterAll(async () => {
  await h?.stop();
});

describe('examples/quickstart', () => {
  it('goes from an API key to stock on hand, and to a verified webhook where the server sends them', async () => {
    const lines: string[] = [];
    const r = await quickstart({ url: h.url, apiKey, timeoutMs: 30_000 }, (s) => lines.push(s));
    expect(r.onHand).toBe(10);
    expect(lines.some((l) => l.startsWith('4. received 10'))).toBe(true);
    const hasWebhooks =
      ((await (await fetch(`${h.url}/api/v1/openapi.json`)).json()) as { paths: Record<string, unknown> }).paths['/api/v1/webhook-endpoints'] !== undefined;
    if (hasWebhooks) expect(r.webhook).toMatchObject({ status: 'received', type: 'stock.changed', verified: true });
    else expect(r.webhook).toMatchObject({ status: 'unavailable' });
  });

  it('runs as a script', async () => {
    const script = path.resolve('examples/quickstart/quickstart.ts');
    const run = await promisify(execFile)(process.execPath, [script], { env: { ...process.env, STOCKCLERK_URL: h.url, STOCKCLERK_API_KEY: apiKey } }).catch(
      (e: { code: number; stdout: string }) => e,
    );
    expect(run.stdout).toMatch(/^1\. key accepted/m);
    expect(run.stdout).toMatch(/^4\. received 10: on hand 10$/m);
  });
});
