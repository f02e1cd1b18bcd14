// Etsy's OAuth 2.0 authorization-code grant with PKCE (developers.etsy.com/documentation/essentials/authentication),
// as pure helpers the connect route (built elsewhere) and the adapter share:
//  1. createPkce(): a code_verifier and its S256 code_challenge;
//  2. authorizeUrl(): where to send the seller (https://www.etsy.com/oauth/connect on the real
//     platform, the emulator's own /oauth/connect elsewhere) with response_type=code, client_id
//     (the keystring), redirect_uri, scope, state, code_challenge, code_challenge_method=S256;
//  3. exchangeCode(): POST /v3/public/oauth/token (grant_type=authorization_code, code_verifier);
//  4. refreshTokens(): the same endpoint with grant_type=refresh_token (Etsy rotates the refresh
//     token: the answer carries a new one and the used one stops working).
// Both token calls send application/x-www-form-urlencoded, as Etsy's examples do.
import { createHash, randomBytes } from 'node:crypto';
import { ChannelError } from '../contract.ts';
import { trimBase } from '../adapter-kit.ts';
import { httpCall } from '../http-client.ts';

/** What StockClerk asks a seller for: read and write listings (stock, publishing), read receipts (sales). */
export const ETSY_SCOPES = ['listings_r', 'listings_w', 'transactions_r', 'shops_r'] as const;

/** Hosts of Etsy's real API; their consent page lives on www.etsy.com. */
const REAL_API_HOSTS = new Set(['openapi.etsy.com', 'api.etsy.com']);

export interface Pkce {
  verifier: string;
  challenge: string;
}

/** S256 of a verifier, base64url without padding (RFC 7636). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A fresh verifier (64 base64url characters, within RFC 7636's 43..128) and its challenge. */
export function createPkce(): Pkce {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: pkceChallenge(verifier) };
}

/** A random `state` to tie the redirect back to the request that started it. */
export function createState(): string {
  return randomBytes(16).toString('base64url');
}

/** The consent page's origin for an API base URL (the real API -> www.etsy.com; an emulator serves its own). */
export function consentOrigin(apiBaseUrl: string): string {
  const u = new URL(apiBaseUrl);
  return REAL_API_HOSTS.has(u.hostname) ? 'https://www.etsy.com' : trimBase(`${u.protocol}//${u.host}`);
}

export function authorizeUrl(input: {
  /** The channel's base URL (https://openapi.etsy.com, or an emulator). */
  baseUrl: string;
  keystring: string;
  redirectUri: string;
  state: string;
  codeChallenge: string;
  scopes?: readonly string[];
}): string {
  const q = new URLSearchParams({
    response_type: 'code',
    client_id: input.keystring,
    redirect_uri: input.redirectUri,
    scope: (input.scopes ?? ETSY_SCOPES).join(' '),
    state: input.state,
    code_challenge: input.codeChallenge,
    code_challenge_method: 'S256',
  });
  return `${consentOrigin(input.baseUrl)}/oauth/connect?${q.toString()}`;
}

/** The token pair as the channel's credentials hold it (settings.ts). */
export interface EtsyTokens {
  access_token: string;
  refresh_token: string;
  /** ISO 8601 UTC. */
  access_expires_at: string;
}

/**
 * The token endpoint: Etsy documents https://api.etsy.com/v3/public/oauth/token (Authentication
 * page), so the real API hosts post there; an emulator serves it on its own host.
 */
export function tokenUrl(baseUrl: string): string {
  const origin = REAL_API_HOSTS.has(new URL(baseUrl).hostname) ? 'https://api.etsy.com' : trimBase(baseUrl);
  return `${origin}/v3/public/oauth/token`;
}

async function tokenCall(baseUrl: string, form: Record<string, string>, what: string, timeoutMs: number, now: () => number): Promise<EtsyTokens> {
  const res = await httpCall(
    {
      method: 'POST',
      url: tokenUrl(baseUrl),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
      timeoutMs,
    },
    [400, 401, 403],
  );
  if (res.status >= 400) {
    let reason = res.text.slice(0, 200);
    try {
      const b = res.json<{ error?: string; error_description?: string }>();
      reason = [b.error, b.error_description].filter(Boolean).join(': ') || reason;
    } catch {
      /* not JSON: keep the text */
    }
    throw new ChannelError('auth', `Etsy refused to ${what} (${reason}): connect the shop again`, { status: res.status });
  }
  const b = res.json<{ access_token?: unknown; refresh_token?: unknown; expires_in?: unknown }>();
  if (typeof b.access_token !== 'string' || typeof b.refresh_token !== 'string') {
    throw new ChannelError('transient', `Etsy's token answer has no token pair (${what})`);
  }
  const ttl = typeof b.expires_in === 'number' && b.expires_in > 0 ? b.expires_in : 3600;
  return { access_token: b.access_token, refresh_token: b.refresh_token, access_expires_at: new Date(now() + ttl * 1000).toISOString() };
}

/** The code the consent page redirected back with -> a token pair. A wrong verifier or a used code -> ChannelError('auth'). */
export function exchangeCode(input: {
  baseUrl: string;
  keystring: string;
  redirectUri: string;
  code: string;
  codeVerifier: string;
  timeoutMs?: number;
  now?: () => number;
}): Promise<EtsyTokens> {
  return tokenCall(
    input.baseUrl,
    {
      grant_type: 'authorization_code',
      client_id: input.keystring,
      redirect_uri: input.redirectUri,
      code: input.code,
      code_verifier: input.codeVerifier,
    },
    'accept the authorization code',
    input.timeoutMs ?? 10_000,
    input.now ?? Date.now,
  );
}

/** A new token pair from the refresh token (which Etsy then revokes). Refused -> ChannelError('auth'). */
export function refreshTokens(input: {
  baseUrl: string;
  keystring: string;
  refreshToken: string;
  timeoutMs?: number;
  now?: () => number;
}): Promise<EtsyTokens> {
  return tokenCall(
    input.baseUrl,
    { grant_type: 'refresh_token', client_id: input.keystring, refresh_token: input.refreshToken },
    'renew the access token',
    input.timeoutMs ?? 10_000,
    input.now ?? Date.now,
  );
}
