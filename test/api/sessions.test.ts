// Sessions (issue 11, point 3): 15-minute access tokens, refresh tokens that work once and rotate,
// reuse that revokes the whole session, logout, and access tokens that name a user, tenant or
// session that is gone (or lack `exp`, or were issued in the future) answering 401, never 500.
// The live stream re-checks its credential: a revoked key or an ended session closes it (4401).
import { SignJWT, decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ tuning: { streamRecheckMs: 200 } });
});
afterAll(async () => {
  await h?.stop();
});

const PASSWORD = 'correct-horse-9';
const login = async (email: string) => api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } });
const refresh = async (token: string) => api(h.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: token } });
const me = async (token: string) => api(h.url, 'GET', '/api/v1/me', { token });

/** A token signed with the server's own key, with whatever claims a test needs. */
async function forge(claims: { sub?: string; tid?: string; sid?: string; iat?: number; exp?: number | null }): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ tid: claims.tid, sid: claims.sid })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('stockclerk')
    .setIssuedAt(claims.iat ?? now);
  if (claims.sub) jwt.setSubject(claims.sub);
  if (claims.exp !== null) jwt.setExpirationTime(claims.exp ?? now + 600);
  return jwt.sign(h.sc.ctx.jwtKey);
}

describe('sessions', () => {
  it('login answers a Bearer pair whose access token lives at most 15 minutes', async () => {
    const t = await registerTenant(h.url, 'Pair Co');
    const r = await login(t.email);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    expect(r.body.refresh_token).toMatch(/^scr_/);
    const claims = decodeJwt(r.body.access_token);
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(900);
    expect(claims.sid).toMatch(/^ses_/);
    expect((await me(r.body.access_token)).status).toBe(200);
    // Sign-up starts a session too.
    const reg = await api(h.url, 'POST', '/api/v1/auth/register', { body: { business_name: 'New', email: `n${Date.now()}@example.com`, password: PASSWORD } });
    expect(reg.status).toBe(201);
    expect(reg.body.refresh_token).toMatch(/^scr_/);
    expect((await refresh(reg.body.refresh_token)).status).toBe(200);
  });

  it('a refresh token works once: it rotates, and a reused one revokes the whole session (audited)', async () => {
    const t = await registerTenant(h.url, 'Rotate Co');
    const first = (await login(t.email)).body;
    const second = await refresh(first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first.refresh_token);
    expect((await me(second.body.access_token)).status).toBe(200);
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);

    // The first token again: theft. It is refused, and so is the newest token of its session.
    expectError(await refresh(first.refresh_token), 401, 'invalid_refresh_token');
    expectError(await refresh(third.body.refresh_token), 401, 'invalid_refresh_token');
    expectError(await me(third.body.access_token), 401, 'unauthorized');
    // Another session of the same user is untouched.
    const other = (await login(t.email)).body;
    expect((await me(other.access_token)).status).toBe(200);
    const audit = await client(h.url, other.access_token)('GET', '/audit-log?action=session.refresh_token_reused');
    expect(audit.status).toBe(200);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ resource_type: 'session', resource_id: decodeJwt(first.access_token).sid });
  });

  it('of two concurrent uses of one refresh token, one wins and the session is revoked', async () => {
    const t = await registerTenant(h.url, 'Race Co');
    const first = (await login(t.email)).body;
    const [a, b] = await Promise.all([refresh(first.refresh_token), refresh(first.refresh_token)]);
    expect([a.status, b.status].sort()).toEqual([200, 401]);
    const winner = a.status === 200 ? a : b;
    expectError(await refresh(winner.body.refresh_token), 401, 'invalid_refresh_token');
  });

  it('refuses unknown, malformed and missing refresh tokens with 4xx, never 500', async () => {
    expectError(await refresh(`scr_${'A'.repeat(43)}`), 401, 'invalid_refresh_token');
    expectError(await refresh('not-a-token'), 401, 'invalid_refresh_token');
    expectError(await api(h.url, 'POST', '/api/v1/auth/refresh', { body: {} }), 400, 'validation_failed');
    expectError(await api(h.url, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: 7 } }), 400, 'validation_failed');
  });

  it('logout revokes the session: its refresh token and its access token answer 401', async () => {
    const t = await registerTenant(h.url, 'Logout Co');
    const s = (await login(t.email)).body;
    const kept = (await login(t.email)).body;
    const out = await api(h.url, 'POST', '/api/v1/auth/logout', { token: s.access_token, body: { refresh_token: s.refresh_token } });
    expect(out.status).toBe(204);
    expectError(await refresh(s.refresh_token), 401, 'invalid_refresh_token');
    expectError(await me(s.access_token), 401, 'unauthorized');
    expect((await me(kept.access_token)).status).toBe(200);
    // Without a body too; and a key cannot log out.
    const s2 = (await login(t.email)).body;
    expect((await api(h.url, 'POST', '/api/v1/auth/logout', { token: s2.access_token })).status).toBe(204);
    expectError(await refresh(s2.refresh_token), 401, 'invalid_refresh_token');
    const key = (await client(h.url, kept.access_token)('POST', '/api-keys', { name: 'k', scopes: ['read'] })).body.key as string;
    expectError(await api(h.url, 'POST', '/api/v1/auth/logout', { token: key }), 400, 'not_a_session');
    // Logging out another session by its refresh token needs that session to be the caller's own.
    const t2 = await registerTenant(h.url, 'Stranger Co');
    const theirs = (await login(t2.email)).body;
    expect((await api(h.url, 'POST', '/api/v1/auth/logout', { token: kept.access_token, body: { refresh_token: theirs.refresh_token } })).status).toBe(204);
    expect((await refresh(theirs.refresh_token)).status).toBe(200);
  });

  it('access tokens that are not ours to honour answer 401, never 500', async () => {
    const a = await registerTenant(h.url, 'Claims A');
    const b = await registerTenant(h.url, 'Claims B');
    const good = decodeJwt((await login(a.email)).body.access_token) as { sub: string; tid: string; sid: string };
    const bUser = decodeJwt((await login(b.email)).body.access_token) as { sub: string; tid: string; sid: string };
    const now = Math.floor(Date.now() / 1000);
    const cases: Record<string, string> = {
      'no exp': await forge({ ...good, exp: null }),
      'iat in the future': await forge({ ...good, iat: now + 3600, exp: now + 4000 }),
      'older than 15 minutes': await forge({ ...good, iat: now - 1000, exp: now + 600 }),
      'a tenant that does not exist': await forge({ ...good, tid: `ten_${'0'.repeat(32)}` }),
      "another tenant's user": await forge({ ...good, sub: bUser.sub }),
      'a session that does not exist': await forge({ ...good, sid: `ses_${'0'.repeat(32)}` }),
      "another user's session": await forge({ ...good, sid: bUser.sid }),
      'no session': await forge({ sub: good.sub, tid: good.tid }),
      expired: await forge({ ...good, iat: now - 700, exp: now - 100 }),
    };
    for (const [what, token] of Object.entries(cases)) {
      for (const [method, path, body] of [
        ['GET', '/api/v1/me', undefined],
        ['GET', '/api/v1/items', undefined],
        ['POST', '/api/v1/items', { sku: `X-${what.length}`, name: 'x' }],
      ] as const) {
        const r = await api(h.url, method, path, { token, body });
        expect({ what, path, status: r.status, code: r.body?.error?.code }).toEqual({ what, path, status: 401, code: 'unauthorized' });
      }
    }
    const items = await h.sc.ctx.db.query(`select count(*)::int as n from items where tenant_id = any($1)`, [[a.tenantId, b.tenantId]]);
    expect(items.rows[0].n).toBe(0);
    // The token the claims came from is fine.
    expect((await me(await forge(good))).status).toBe(200);
  });

  it('a token accepted before stops being accepted once it expires (verified tokens are remembered only for their lifetime)', async () => {
    const t = await registerTenant(h.url, 'Expiry Co');
    const good = decodeJwt((await login(t.email)).body.access_token) as { sub: string; tid: string; sid: string };
    const now = Math.floor(Date.now() / 1000);
    // Expires 1 s from now; the server allows 5 s of clock skew past it.
    const shortLived = await forge({ ...good, iat: now, exp: now + 1 });
    expect((await me(shortLived)).status).toBe(200);
    expect((await me(shortLived)).status).toBe(200); // the remembered verification
    await new Promise((r) => setTimeout(r, (now + 1 + 5 + 1) * 1000 - Date.now()));
    expectError(await me(shortLived), 401, 'unauthorized');
  }, 15_000);

  it('a deleted user is 401 within seconds, even with a fresh access token', async () => {
    const t = await registerTenant(h.url, 'Gone Co');
    const s = (await login(t.email)).body;
    expect((await me(s.access_token)).status).toBe(200);
    // (Users are removed through the API in a later slice; the row going is what matters here.)
    const { sub } = decodeJwt(s.access_token);
    await h.sc.ctx.db.query(`delete from users where tenant_id = $1 and id = $2`, [t.tenantId, sub]);
    const deadline = Date.now() + 7_000;
    let status = 200;
    while (Date.now() < deadline && status === 200) {
      status = (await api(h.url, 'GET', '/api/v1/items', { token: s.access_token })).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 250));
    }
    expect(status).toBe(401);
    expectError(await api(h.url, 'POST', '/api/v1/items', { token: s.access_token, body: { sku: 'GONE-1', name: 'x' } }), 401, 'unauthorized');
    expectError(await refresh(s.refresh_token), 401, 'invalid_refresh_token');
  });
});

describe('the live stream re-checks its credential', () => {
  /** Opens a stream; resolves with the close code once it closes (after hello). */
  const streamUntilClosed = (q: string) =>
    new Promise<{ hello: boolean; code: number }>((resolve, reject) => {
      const ws = new WebSocket(`${h.url.replace('http', 'ws')}/api/v1/stream?${q}`);
      let hello = false;
      const opened = new Promise<void>((r) => {
        ws.onmessage = (m) => {
          if (JSON.parse(String(m.data)).type === 'hello') {
            hello = true;
            r();
          }
        };
      });
      ws.onclose = (e) => resolve({ hello, code: e.code });
      ws.onerror = () => undefined;
      setTimeout(() => reject(new Error('the stream stayed open')), 10_000).unref?.();
      streams.push({ ws, opened });
    });
  const streams: Array<{ ws: WebSocket; opened: Promise<void> }> = [];

  it('closes with 4401 once its API key is revoked', async () => {
    const t = await registerTenant(h.url, 'Stream Key Co');
    const owner = client(h.url, t.token);
    const created = (await owner('POST', '/api-keys', { name: 'live', scopes: ['read'] })).body;
    const closed = streamUntilClosed(`token=${created.key}`);
    await streams.at(-1)!.opened;
    expect((await owner('DELETE', `/api-keys/${created.id}`, undefined, { 'if-match': '*' })).status).toBe(204);
    expect(await closed).toEqual({ hello: true, code: 4401 });
  });

  it('closes with 4401 once its session is logged out', async () => {
    const t = await registerTenant(h.url, 'Stream Session Co');
    const s = (await login(t.email)).body;
    const closed = streamUntilClosed(`token=${s.access_token}`);
    await streams.at(-1)!.opened;
    expect((await api(h.url, 'POST', '/api/v1/auth/logout', { token: s.access_token })).status).toBe(204);
    expect(await closed).toEqual({ hello: true, code: 4401 });
  });
});
