// eBay's authorization code grant, as pure steps for a connect flow (the generic connect route
// calls these): the consent URL the seller is sent to, and the code exchange.
// Facts: developer.ebay.com/api-docs/static/oauth-consent-request.html (GET
// https://auth.ebay.com/oauth2/authorize?client_id&redirect_uri=<RuName>&response_type=code&scope&state),
// oauth-auth-code-grant-request.html (POST /identity/v1/oauth2/token, Basic client_id:client_secret,
// grant_type=authorization_code&code&redirect_uri=<RuName>; answer access_token, expires_in,
// refresh_token, refresh_token_expires_in).
import { ChannelError } from '../contract.ts';
import { basicAuth, httpCall } from '../http-client.ts';
import { trimBase } from '../adapter-kit.ts';

const SCOPE = 'https://api.ebay.com/oauth/api_scope';
/** What StockClerk asks a seller for: inventory (stock and publishing) and fulfillment (reading orders). */
export const EBAY_SCOPES: readonly string[] = [`${SCOPE}/sell.inventory`, `${SCOPE}/sell.fulfillment`];
/** eBay's consent host (the API host is api.ebay.com). */
export const EBAY_AUTH_BASE = 'https://auth.ebay.com';

export function consentUrl(opts: { authBase?: string; clientId: string; ruName: string; state: string; scopes?: readonly string[] }): string {
  const u = new URL(`${trimBase(opts.authBase ?? EBAY_AUTH_BASE)}/oauth2/authorize`);
  u.searchParams.set('client_id', opts.clientId);
  u.searchParams.set('redirect_uri', opts.ruName);
  u.searchParams.set('response_type', 'code');
  u.searchParams.set('scope', (opts.scopes ?? EBAY_SCOPES).join(' '));
  u.searchParams.set('state', opts.state);
  return u.toString();
}

/** What eBay's redirect to the accept URL carries: the code, if the seller agreed and `state` is ours. */
export function codeFromRedirect(location: string, expectedState: string): string {
  const u = new URL(location);
  if (u.searchParams.get('state') !== expectedState) throw new ChannelError('permanent', 'eBay consent: the state does not match this connect attempt');
  const code = u.searchParams.get('code');
  if (!code) throw new ChannelError('auth', `eBay consent was not given${u.searchParams.get('error') ? ` (${u.searchParams.get('error')})` : ''}`);
  return code;
}

/** Exchanges the consent code for the seller's tokens: the credentials a channel row stores. */
export async function exchangeCode(opts: {
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  ruName: string;
  code: string;
  timeoutMs?: number;
  now?: number;
}): Promise<{ access_token: string; access_expires_at: string; refresh_token: string }> {
  const res = await httpCall(
    {
      method: 'POST',
      url: `${trimBase(opts.baseUrl)}/identity/v1/oauth2/token`,
      headers: { authorization: basicAuth(opts.clientId, opts.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: opts.code, redirect_uri: opts.ruName }).toString(),
      timeoutMs: opts.timeoutMs ?? 15_000,
    },
    [400, 401],
  );
  const b = res.json<{ access_token?: string; expires_in?: number; refresh_token?: string; error?: string; error_description?: string }>();
  if (res.status !== 200 || !b.access_token || !b.refresh_token) {
    throw new ChannelError('auth', `eBay refused the authorization code: ${[b.error, b.error_description].filter(Boolean).join(': ') || res.status}`, {
      status: res.status,
    });
  }
  return {
    access_token: b.access_token,
    access_expires_at: new Date((opts.now ?? Date.now()) + (b.expires_in ?? 7200) * 1000).toISOString(),
    refresh_token: b.refresh_token,
  };
}
