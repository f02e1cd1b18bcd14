// Hardened edges (issue 11, point 5, first part): logins and sign-ups throttled per email and per
// IP (429 with Retry-After, shared through Postgres), X-Forwarded-For ignored unless TRUST_PROXY
// says, /metrics for this machine only or behind METRICS_TOKEN; logins and failed logins audited.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt } from '../helpers/browser.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

let h: Harness;
beforeAll(async () => {
  await ensureWebBuilt(); // the dashboard's pages are among the HTML checked below
  h = await startHarness({
    worker: false,
    config: { host: '0.0.0.0', metricsToken: null, authThrottle: { failuresPerEmail: 10, attemptsPerIp: 40, mailsPerEmail: 3, windowS: 900 } },
  });
});
afterAll(async () => {
  await h?.stop();
});

const PASSWORD = 'correct-horse-9';
const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password }, headers });

describe('login throttling', () => {
  it('10 failed logins for one email: the next login is 429 with Retry-After, the right password too; other emails go on', async () => {
    const t = await registerTenant(h.url, 'Guessed Co');
    const other = await registerTenant(h.url, 'Other Co');
    for (let i = 0; i < 10; i++) expectError(await login(t.email, `wrong-password-${i}`), 401, 'invalid_credentials');
    const refused = await login(t.email, PASSWORD);
    expectError(refused, 429, 'too_many_attempts');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(90); // one failure's worth of the 15-minute window
    expect(refused.body.error.details.retry_after_s).toBe(retryAfter);
    // Case and spaces do not make another email.
    expectError(await login(` ${t.email.toUpperCase()} `, PASSWORD), 429, 'too_many_attempts');
    expect((await login(other.email, PASSWORD)).status).toBe(200);

    // The failures and the logins are in the tenant's audit log, with the request that made them.
    const audit = await client(h.url, t.token)('GET', '/audit-log?action=user.login_failed&limit=50');
    expect(audit.body.data).toHaveLength(10);
    expect(audit.body.data[0]).toMatchObject({ actor_type: 'user', resource_type: 'user', changes: { reason: 'wrong_password' } });
    expect(audit.body.data[0].request_id).toBeTruthy();
    const ok = await client(h.url, other.token)('GET', '/audit-log?action=user.logged_in');
    expect(ok.body.data).toHaveLength(1);
    // The bucket holds a hash, never the address.
    const { rows } = await h.sc.ctx.db.query<{ key_id: string }>(`select key_id from api_key_buckets where key_id like 'auth:email:%'`);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.map((r) => r.key_id).join()).not.toContain('@');
  });

  it('one IP gets attemptsPerIp sign-ups and logins per window, whatever X-Forwarded-For claims (TRUST_PROXY is off)', async () => {
    const t = await registerTenant(h.url, 'Busy Co'); // the attempts above and this one count too
    let status = 0;
    let n = 0;
    for (; n < 60; n++) {
      const r = await login(t.email, PASSWORD, { 'x-forwarded-for': `203.0.113.${n}` });
      status = r.status;
      if (status === 429) {
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(r.body.error.code).toBe('too_many_attempts');
        break;
      }
      expect(status).toBe(200);
    }
    expect(status).toBe(429);
    expect(n).toBeLessThan(40);
    const signup = await api(h.url, 'POST', '/api/v1/auth/register', {
      body: { business_name: 'Late', email: `late${Date.now()}@example.com`, password: PASSWORD },
    });
    expectError(signup, 429, 'too_many_attempts');
  });
});

describe('/metrics', () => {
  it('answers callers on this machine', async () => {
    const r = await fetch(`${h.url}/metrics`);
    expect(r.status).toBe(200);
    expect(await r.text()).toContain('# TYPE');
  });

  it('refuses a caller from another address', async () => {
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    // This machine and CI have one; without any there is no other address to call from.
    expect(external, 'a non-loopback IPv4 address on this machine').toBeTruthy();
    const port = new URL(h.url).port;
    const r = await fetch(`http://${external}:${port}/metrics`);
    expect(r.status).toBe(403);
    expect(((await r.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    // The API itself is served there as usual.
    expect((await fetch(`http://${external}:${port}/healthz`)).status).toBe(200);
  });

  it('with METRICS_TOKEN, wants the token from everyone', async () => {
    const g = await startHarness({ worker: false, config: { metricsToken: 'scrape-secret-123' } });
    try {
      expect((await fetch(`${g.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${g.url}/metrics`, { headers: { authorization: 'Bearer wrong-secret-123' } })).status).toBe(401);
      const ok = await fetch(`${g.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret-123' } });
      expect(ok.status).toBe(200);
    } finally {
      await g.stop();
    }
  });
});

describe('security headers and CORS', () => {
  it('every HTML page carries a Content-Security-Policy and nosniff; so does the API', async () => {
    for (const path of ['/', '/items', '/docs']) {
      const r = await fetch(`${h.url}${path}`);
      expect({ path, status: r.status, type: r.headers.get('content-type')?.split(';')[0] }).toEqual({ path, status: 200, type: 'text/html' });
      expect(r.headers.get('content-security-policy')).toMatch(/default-src 'self'.*script-src 'self'/);
      expect(r.headers.get('content-security-policy')).not.toContain('upgrade-insecure-requests');
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    }
    const apiRes = await fetch(`${h.url}/api/v1/openapi.json`);
    expect(apiRes.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('CORS is closed by default', async () => {
    const pre = await fetch(`${h.url}/api/v1/items`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${h.url}/api/v1/openapi.json`, { headers: { origin: 'https://shop.example' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('CORS_ORIGINS opens it to the origins it lists, and only those', async () => {
    const g = await startHarness({ worker: false, config: { corsOrigins: ['https://shop.example'] } });
    try {
      const preflight = (origin: string) =>
        fetch(`${g.url}/api/v1/items`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
        });
      const ok = await preflight('https://shop.example');
      expect(ok.status).toBeLessThan(300);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect((await preflight('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await g.stop();
    }
  });
});
