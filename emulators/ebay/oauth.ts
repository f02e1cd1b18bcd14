// eBay OAuth 2.0 (developer.ebay.com/api-docs/static/oauth-*.html): the consent page a seller
// signs in to (auth.ebay.com/oauth2/authorize, emulated at /oauth2/authorize), the token endpoint
// (POST /identity/v1/oauth2/token, Basic client_id:client_secret, form-encoded) with the
// authorization_code, refresh_token and client_credentials grants.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { EbayAccount } from './account.ts';
import type { Budget, Platform } from './platform.ts';

export const SCOPE_BASE = 'https://api.ebay.com/oauth/api_scope';
/** Scopes this emulator grants (a subset of eBay's; every one is a real eBay scope). */
export const USER_SCOPES = new Set([
  SCOPE_BASE,
  `${SCOPE_BASE}/sell.inventory`,
  `${SCOPE_BASE}/sell.inventory.readonly`,
  `${SCOPE_BASE}/sell.fulfillment`,
  `${SCOPE_BASE}/sell.fulfillment.readonly`,
  `${SCOPE_BASE}/sell.account`,
  `${SCOPE_BASE}/sell.account.readonly`,
  `${SCOPE_BASE}/commerce.notification.subscription`,
  `${SCOPE_BASE}/commerce.notification.subscription.readonly`,
]);
const APP_SCOPES = new Set([SCOPE_BASE]);

const splitScopes = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

// Consent-page errors: eBay answers bad authorize parameters with this JSON (seen in
// matecsaj/ebay_rest#35), not with a redirect.
function invalidRequest(reply: FastifyReply): FastifyReply {
  return reply.code(400).send({ error_id: 'invalid_request', error_description: 'Input request parameters are invalid.', http_status_code: 400 });
}

function tokenError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  return reply.code(status).send({ error, error_description: description });
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The sellers who registered this application (same client_id) and the RuName they redirect to. */
function sellersOf(emu: Emulator<EbayAccount>, clientId: string): EbayAccount[] {
  return [...emu.accounts.values()].filter((a) => a.credentials.client_id === clientId);
}

interface AuthorizeQuery {
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  scope?: string;
  state?: string;
}

/** Checks the authorize parameters; the RuName (redirect_uri) must be the application's. */
function checkAuthorize(emu: Emulator<EbayAccount>, q: AuthorizeQuery): { sellers: EbayAccount[]; scopes: string[] } | null {
  if (!q.client_id || !q.redirect_uri || q.response_type !== 'code') return null;
  const sellers = sellersOf(emu, q.client_id).filter((a) => a.credentials.ru_name === q.redirect_uri);
  const scopes = splitScopes(q.scope);
  if (sellers.length === 0 || scopes.length === 0 || scopes.some((s) => !USER_SCOPES.has(s))) return null;
  return { sellers, scopes };
}

/** Adds query parameters to a URL that may already carry some. */
function withQuery(url: string, params: Record<string, string | undefined>): string {
  const u = new URL(url);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) u.searchParams.set(k, v);
  return u.toString();
}

export function installOAuth(
  app: FastifyInstance,
  emu: Emulator<EbayAccount>,
  platform: Platform,
  spend: (req: FastifyRequest, reply: FastifyReply, b: Budget) => boolean,
): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });

  // The consent page: the seller signs in (here: picks which of the application's sellers they
  // are) and agrees to the scopes. GUESS: the page itself is ours; only its parameters and the
  // redirect it ends in are eBay's.
  app.get('/oauth2/authorize', async (req, reply) => {
    const q = req.query as AuthorizeQuery;
    const ok = checkAuthorize(emu, q);
    if (!ok) return invalidRequest(reply);
    const action = `/oauth2/authorize?${new URLSearchParams(q as Record<string, string>).toString()}`;
    const options = ok.sellers.map((s) => `<option value="${esc(s.username)}">${esc(s.username)}</option>`).join('');
    const scopes = ok.scopes.map((s) => `<li>${esc(s)}</li>`).join('');
    return reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Grant application access</title></head>
<body><h1>Grant application access</h1>
<form method="post" action="${esc(action)}">
<label>Signed in as <select name="username">${options}</select></label>
<p>The application asks for:</p><ul>${scopes}</ul>
<button type="submit" name="decision" value="agree">Agree</button>
<button type="submit" name="decision" value="disagree">No thanks</button>
</form></body></html>`);
  });

  app.post('/oauth2/authorize', async (req, reply) => {
    const q = req.query as AuthorizeQuery;
    const ok = checkAuthorize(emu, q);
    if (!ok) return invalidRequest(reply);
    const b = (req.body ?? {}) as { username?: string; decision?: string };
    const seller = ok.sellers.find((s) => s.username === b.username) ?? (ok.sellers.length === 1 ? ok.sellers[0] : undefined);
    if (!seller) return invalidRequest(reply);
    const accept = seller.credentials.accept_url;
    if (!accept) return invalidRequest(reply);
    if (b.decision !== 'agree') {
      // GUESS: a declined consent goes to the RuName's decline URL with error=access_denied (OAuth 2.0, RFC 6749 4.1.2.1).
      return reply.redirect(withQuery(seller.credentials.decline_url ?? accept, { state: q.state, error: 'access_denied' }), 302);
    }
    const code = platform.issueCode({ clientId: q.client_id!, accountId: seller.id, scopes: ok.scopes, ruName: q.redirect_uri! });
    // Documented: the accept URL receives state and code; GUESS: expires_in carries the code's lifetime.
    return reply.redirect(withQuery(accept, { state: q.state, code, expires_in: String(platform.limits.authCodeTtlSec) }), 302);
  });

  app.post('/identity/v1/oauth2/token', async (req, reply) => {
    const acc = emu.account(req);
    const clientId = acc.credentials.client_id ?? '';
    if (!String(req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
      // Documented: Content-Type must be application/x-www-form-urlencoded. GUESS: the error text.
      return tokenError(reply, 400, 'invalid_request', 'request is missing a required parameter or malformed.');
    }
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    const grant = b.grant_type;
    if (grant !== 'authorization_code' && grant !== 'refresh_token' && grant !== 'client_credentials') {
      return tokenError(reply, 400, 'unsupported_grant_type', 'grant type in request is not supported by the authorization server');
    }
    if (!spend(req, reply, grant)) return reply;
    const ttl = platform.limits.accessTokenTtlSec;

    if (grant === 'client_credentials') {
      const scopes = splitScopes(b.scope);
      if (scopes.length === 0 || scopes.some((s) => !APP_SCOPES.has(s))) {
        return tokenError(reply, 400, 'invalid_scope', 'The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client');
      }
      const token = platform.issueAccess('application', clientId, null, scopes);
      return { access_token: token, expires_in: ttl, token_type: 'Application Access Token' };
    }

    if (grant === 'authorization_code') {
      const c = b.code ? platform.codes.get(b.code) : undefined;
      // Codes are single use (an OAuth 2.0 rule eBay follows: a second exchange fails).
      if (b.code) platform.codes.delete(b.code);
      if (!c || c.clientId !== clientId || c.expiresAt <= Date.now()) {
        return tokenError(reply, 400, 'invalid_grant', 'the provided authorization grant code is invalid or was issued to another client');
      }
      if (b.redirect_uri !== c.ruName)
        return tokenError(reply, 400, 'invalid_grant', 'the provided authorization grant code is invalid or was issued to another client');
      const access = platform.issueAccess('user', clientId, c.accountId, c.scopes);
      const refresh = platform.issueRefresh(clientId, c.accountId, c.scopes);
      return {
        access_token: access,
        expires_in: ttl,
        refresh_token: refresh,
        refresh_token_expires_in: platform.limits.refreshTokenTtlSec,
        token_type: 'User Access Token',
      };
    }

    // refresh_token: a new access token with the original scopes or a subset of them (documented).
    const g = b.refresh_token ? platform.refreshGrants.get(b.refresh_token) : undefined;
    if (!g || g.clientId !== clientId || g.expiresAt <= Date.now() || !emu.accounts.has(g.accountId)) {
      return tokenError(reply, 400, 'invalid_grant', 'the provided authorization refresh token is invalid or was issued to another client');
    }
    const asked = splitScopes(b.scope);
    if (asked.some((s) => !g.scopes.includes(s))) {
      return tokenError(reply, 400, 'invalid_scope', 'The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client');
    }
    const token = platform.issueAccess('user', clientId, g.accountId, asked.length ? asked : g.scopes);
    return { access_token: token, expires_in: ttl, token_type: 'User Access Token' };
  });
}
