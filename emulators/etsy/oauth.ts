// Etsy's OAuth 2.0 authorization-code grant with PKCE (developers.etsy.com/documentation/essentials/authentication):
// the consent page at /oauth/connect (www.etsy.com on the real platform), the redirect back with
// `code` and `state`, and POST /v3/public/oauth/token for grant_type=authorization_code (checked
// against the S256 code_challenge) and grant_type=refresh_token. Tokens look like Etsy's:
// `<numeric user id>.<opaque>`; access tokens live 3600 s, refresh tokens 90 days (issue #116).
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { EtsyAccount } from './shop.ts';

/** Scopes the authorization server knows (OAS securitySchemes.oauth2). */
export const SCOPES = new Set([
  'address_r',
  'address_w',
  'billing_r',
  'cart_r',
  'cart_w',
  'email_r',
  'favorites_r',
  'favorites_w',
  'feedback_r',
  'listings_d',
  'listings_r',
  'listings_w',
  'profile_r',
  'profile_w',
  'recommend_r',
  'recommend_w',
  'shops_r',
  'shops_w',
  'transactions_r',
  'transactions_w',
]);

export interface Token {
  userId: number;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

interface Code {
  clientId: string;
  redirectUri: string;
  scopes: string[];
  challenge: string;
  userId: number;
  expiresAt: number;
}

const REFRESH_TTL_MS = 90 * 86_400_000;
// GUESS: how long an authorization code stays valid and that it works once (RFC 6749 advises <= 10 min).
const CODE_TTL_MS = 10 * 60_000;

export class TokenStore {
  ttlSec: number;
  readonly access = new Map<string, Token>();
  readonly refresh = new Map<string, Token>();
  /** Refresh tokens already exchanged: Etsy names them "revoked" (issue #519). */
  readonly revoked = new Set<string>();
  readonly codes = new Map<string, Code>();
  issued = 0;

  constructor(ttlSec: number) {
    this.ttlSec = ttlSec;
  }

  issue(userId: number, clientId: string, scopes: string[]): Record<string, unknown> {
    const mint = () => `${userId}.${randomBytes(40).toString('base64url')}`;
    const access_token = mint();
    const refresh_token = mint();
    this.access.set(access_token, { userId, clientId, scopes, expiresAt: Date.now() + this.ttlSec * 1000 });
    this.refresh.set(refresh_token, { userId, clientId, scopes, expiresAt: Date.now() + REFRESH_TTL_MS });
    this.issued++;
    return { access_token, token_type: 'Bearer', expires_in: this.ttlSec, refresh_token };
  }

  save(): unknown {
    const live = (m: Map<string, Token>) => [...m].filter(([, t]) => t.expiresAt > Date.now());
    return { ttlSec: this.ttlSec, access: live(this.access), refresh: live(this.refresh), revoked: [...this.revoked], issued: this.issued };
  }

  load(saved: unknown): void {
    const s = (saved ?? {}) as { access?: Array<[string, Token]>; refresh?: Array<[string, Token]>; revoked?: string[]; issued?: number };
    for (const [k, t] of s.access ?? []) this.access.set(k, t);
    for (const [k, t] of s.refresh ?? []) this.refresh.set(k, t);
    for (const k of s.revoked ?? []) this.revoked.add(k);
    this.issued = s.issued ?? 0;
  }

  clear(): void {
    this.access.clear();
    this.refresh.clear();
    this.revoked.clear();
    this.codes.clear();
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ENTITIES[c]!);

type Q = Record<string, string | undefined>;

/** What /oauth/connect was asked for, checked; `page` = an error shown on Etsy's own page (nowhere safe to redirect). */
function checkConnect(
  emu: Emulator<EtsyAccount>,
  q: Q,
): { page: string } | { redirect: string; error?: [string, string]; apps: EtsyAccount[]; scopes: string[] } {
  const apps = [...emu.accounts.values()].filter((a) => a.keystring === q.client_id);
  if (!q.client_id || apps.length === 0) return { page: 'client_id is not a known app keystring' };
  const redirect = q.redirect_uri ?? '';
  let url: URL | null;
  try {
    url = new URL(redirect);
  } catch {
    url = null;
  }
  // Etsy wants https; the emulator also takes http on loopback so a local callback can receive the code.
  const local = url !== null && url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  if (!url || (url.protocol !== 'https:' && !local)) return { page: 'redirect_uri must be an https:// URL' };
  const registered = apps.flatMap((a) => a.redirectUris);
  if (registered.length > 0 && !registered.includes(redirect)) return { page: 'redirect_uri is not registered for this app' };
  const scopes = (q.scope ?? '').split(/[\s+]+/).filter(Boolean);
  // GUESS: the error codes Etsy puts on the redirect (RFC 6749 4.1.2.1 names used).
  if (q.response_type !== 'code') return { redirect, error: ['unsupported_response_type', 'response_type must be code'], apps, scopes };
  if (scopes.length === 0 || scopes.some((s) => !SCOPES.has(s))) return { redirect, error: ['invalid_scope', 'scope must list known scopes'], apps, scopes };
  if (!q.state) return { redirect, error: ['invalid_request', 'state is required'], apps, scopes };
  if (!q.code_challenge || !/^[A-Za-z0-9_-]{43}$/.test(q.code_challenge)) {
    return { redirect, error: ['invalid_request', 'code_challenge is required (base64url SHA-256 of the code_verifier)'], apps, scopes };
  }
  if (q.code_challenge_method !== 'S256') return { redirect, error: ['invalid_request', 'code_challenge_method must be S256'], apps, scopes };
  return { redirect, apps, scopes };
}

function back(reply: FastifyReply, redirect: string, params: Record<string, string | undefined>): FastifyReply {
  const url = new URL(redirect);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return reply.code(302).header('location', url.toString()).send();
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export function installOAuth(app: FastifyInstance, emu: Emulator<EtsyAccount>, store: TokenStore): void {
  app.get('/oauth/connect', async (req, reply) => {
    const q = req.query as Q;
    const c = checkConnect(emu, q);
    if ('page' in c)
      return reply
        .code(400)
        .type('text/html')
        .send(`<!doctype html><title>Etsy</title><p>${esc(c.page)}</p>`);
    if (c.error) return back(reply, c.redirect, { error: c.error[0], error_description: c.error[1], state: q.state });
    // The seller signs in and picks the shop (several shops may use one app); Allow or Deny.
    const action = `/oauth/connect?${new URLSearchParams(q as Record<string, string>).toString()}`;
    const choices = c.apps.map(
      (a, i) => `<label><input type="radio" name="user_id" value="${a.userId}"${i === 0 ? ' checked' : ''}> ${esc(a.shopName)}</label>`,
    );
    const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>Etsy - Grant access</title></head>
<body>
<h1>An app would like to connect to your Etsy account</h1>
<p>It asks to:</p>
<ul>${c.scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<form method="post" action="${esc(action)}">
${choices.join('<br>\n')}
<p><button type="submit" name="decision" value="allow">Allow Access</button>
<button type="submit" name="decision" value="deny">Deny</button></p>
</form>
</body></html>`;
    return reply.type('text/html').send(html);
  });

  app.post('/oauth/connect', async (req, reply) => {
    const q = req.query as Q;
    const c = checkConnect(emu, q);
    if ('page' in c)
      return reply
        .code(400)
        .type('text/html')
        .send(`<!doctype html><title>Etsy</title><p>${esc(c.page)}</p>`);
    if (c.error) return back(reply, c.redirect, { error: c.error[0], error_description: c.error[1], state: q.state });
    const form = (req.body ?? {}) as Q;
    if (form.decision !== 'allow') return back(reply, c.redirect, { error: 'access_denied', error_description: 'The user denied the request', state: q.state });
    const acc = c.apps.find((a) => String(a.userId) === form.user_id) ?? c.apps[0]!;
    const code = randomBytes(32).toString('base64url');
    store.codes.set(code, {
      clientId: acc.keystring,
      redirectUri: c.redirect,
      scopes: c.scopes,
      challenge: q.code_challenge!,
      userId: acc.userId,
      expiresAt: Date.now() + CODE_TTL_MS,
    });
    return back(reply, c.redirect, { code, state: q.state });
  });

  // GUESS: the token endpoint's error bodies follow RFC 6749 ({error, error_description}, 400);
  // the refresh_token wording is Etsy's (issue #519), the others are ours.
  app.post('/v3/public/oauth/token', async (req, reply) => {
    const b = (req.body ?? {}) as Q;
    const bad = (error: string, error_description: string, code = 400) => reply.code(code).send({ error, error_description });
    const apps = [...emu.accounts.values()].filter((a) => a.keystring === b.client_id);
    if (!b.client_id || apps.length === 0) return bad('invalid_client', 'client_id is not a known app keystring', 401);
    if (b.grant_type === 'authorization_code') {
      const code = b.code ? store.codes.get(b.code) : undefined;
      if (!code || code.expiresAt <= Date.now()) return bad('invalid_grant', 'code is invalid or expired');
      if (code.clientId !== b.client_id) return bad('invalid_grant', 'code was issued to another client');
      if (code.redirectUri !== b.redirect_uri) return bad('invalid_grant', 'redirect_uri does not match the authorization request');
      const v = b.code_verifier ?? '';
      if (!/^[A-Za-z0-9._~-]{43,128}$/.test(v)) return bad('invalid_request', 'code_verifier must be 43-128 characters of [A-Za-z0-9-._~]');
      if (s256(v) !== code.challenge) return bad('invalid_grant', 'code_verifier is invalid');
      store.codes.delete(b.code!);
      return store.issue(code.userId, code.clientId, code.scopes);
    }
    if (b.grant_type === 'refresh_token') {
      const rt = b.refresh_token ?? '';
      if (store.revoked.has(rt)) return bad('invalid_grant', 'refresh_token is revoked');
      const t = store.refresh.get(rt);
      if (!t || t.clientId !== b.client_id) return bad('invalid_grant', 'refresh_token is invalid');
      if (t.expiresAt <= Date.now()) return bad('invalid_grant', 'refresh_token is expired');
      // Each refresh hands out a new refresh token too (issue #353); the used one stops working
      // (GUESS: third-party clients report this; Etsy's page does not say).
      store.refresh.delete(rt);
      store.revoked.add(rt);
      return store.issue(t.userId, t.clientId, t.scopes);
    }
    return bad('unsupported_grant_type', 'grant_type must be authorization_code or refresh_token');
  });
}
