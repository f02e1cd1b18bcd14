// Connecting a shop by the seller's consent. StockClerk's app (app_key = OAuthApp.clientId,
// app_secret = clientSecret) sends the seller to TikTok Shop's authorize page; TikTok sends them
// back to the redirect URL registered for the app in Partner Center with `code` and `state`; the
// code is exchanged on the auth host (GET /api/v2/token/get, grant_type=authorized_code) for the
// token pair. The redirect URL is not sent: TikTok uses the registered one.
// GUESS: the legacy authorize address <auth host>/oauth/authorize?app_key=&state= (newer apps are
// sent to services.tiktokshop.com/open/authorize?service_id=, a service id StockClerk's app config
// does not hold yet).
import { ChannelError } from '../contract.ts';
import { httpCall } from '../http-client.ts';
import { authBaseFor, DEFAULT_AUTH_BASE, envelopeOf, type Envelope } from './client.ts';

export const DEFAULT_AUTHORIZE_BASE = DEFAULT_AUTH_BASE;

export function authorizeUrl(authorizeBase: string, appKey: string, state: string): string {
  return `${authorizeBase.replace(/\/+$/, '')}/oauth/authorize?${new URLSearchParams({ app_key: appKey, state })}`;
}

/** The auth code exchanged: the credentials a channel row keeps. */
export async function exchangeCode(input: {
  baseUrl: string;
  appKey: string;
  appSecret: string;
  code: string;
  timeoutMs?: number;
}): Promise<Record<string, string>> {
  const q = new URLSearchParams({ app_key: input.appKey, app_secret: input.appSecret, auth_code: input.code, grant_type: 'authorized_code' });
  const res = await httpCall(
    { method: 'GET', url: `${authBaseFor(input.baseUrl)}/api/v2/token/get?${q}`, timeoutMs: input.timeoutMs ?? 10_000 },
    [400, 401, 403],
  );
  const env = envelopeOf(res);
  if (res.status !== 200 || env.code !== 0)
    throw new ChannelError('auth', `TikTok Shop refused the authorization code: ${env.message}`, { status: res.status });
  const d = res.json<Envelope<{ access_token: string; access_token_expire_in: number; refresh_token: string }>>().data;
  return {
    app_key: input.appKey,
    app_secret: input.appSecret,
    access_token: d.access_token,
    refresh_token: d.refresh_token,
    // access_token_expire_in is a unix time in seconds.
    access_expires_at: new Date(d.access_token_expire_in * 1000).toISOString(),
  };
}
