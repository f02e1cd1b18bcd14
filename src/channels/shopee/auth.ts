// Shop authorisation (Shopee's "authorization and authentication" flow, channel-apis.md section 8):
// the seller opens the partner app's signed auth_partner link, logs in and picks a shop; Shopee
// redirects to our `redirect` with `code` and `shop_id`; the code (single use, minutes) is exchanged
// with POST /api/v2/auth/token/get for the shop's token pair (access 4 h, refresh 30 days).
// The generic consent routes (src/http/routes/oauth.ts) drive it through `shopeeOAuth`: the partner
// app's id and key are the configured client id and secret; Shopee's link carries no `state`
// parameter, so ours rides in the redirect URL's query. GUESS: Shopee keeps the redirect's own query
// and appends code and shop_id to it (its docs show the redirect only as a bare URL).
import { trimBase } from '../adapter-kit.ts';
import type { OAuthFlow } from '../contract.ts';
import { API, publicCall } from './client.ts';
import { callSign } from './sign.ts';

export interface PartnerApp {
  partnerId: string;
  partnerKey: string;
}

/** The signed link a seller opens. Its timestamp is checked like any call's: valid for 5 minutes. */
export function authorizeUrl(input: PartnerApp & { baseUrl: string; redirect: string; now?: number }): string {
  const ts = Math.floor((input.now ?? Date.now()) / 1000);
  const path = `${API}/shop/auth_partner`;
  const q = new URLSearchParams({
    partner_id: input.partnerId,
    timestamp: String(ts),
    sign: callSign(input.partnerKey, input.partnerId, path, ts),
    redirect: input.redirect,
  });
  return `${trimBase(input.baseUrl)}${path}?${q.toString()}`;
}

/** The code from the redirect exchanged: the credentials a Shopee channel row holds. */
export async function exchangeCode(
  input: PartnerApp & { baseUrl: string; code: string; shopId: string; timeoutMs?: number; now?: () => number },
): Promise<Record<string, string>> {
  const now = input.now ?? Date.now;
  const r = await publicCall<{ access_token: string; refresh_token: string; expire_in: number }>(
    input.baseUrl,
    { partner_id: input.partnerId, partner_key: input.partnerKey },
    '/auth/token/get',
    { code: input.code, shop_id: Number(input.shopId), partner_id: Number(input.partnerId) },
    input.timeoutMs ?? 10_000,
    now,
  );
  return {
    partner_id: input.partnerId,
    partner_key: input.partnerKey,
    shop_id: input.shopId,
    access_token: r.access_token,
    refresh_token: r.refresh_token,
    access_expires_at: new Date(now() + r.expire_in * 1000).toISOString(),
  };
}

export const shopeeOAuth: OAuthFlow = {
  defaultAuthorizeBase: 'https://partner.shopeemobile.com',
  pkce: false,
  authorizeUrl: ({ authorizeBase, app, state }) => {
    const redirect = new URL(app.redirectUri);
    redirect.searchParams.set('state', state);
    return authorizeUrl({ baseUrl: authorizeBase, partnerId: app.clientId, partnerKey: app.clientSecret, redirect: redirect.toString() });
  },
  exchange: async ({ baseUrl, app, code, params }) => {
    const shopId = params.shop_id;
    // GUESS: a main (merchant) account authorisation sends main_account_id instead; not supported yet.
    if (!shopId || !/^\d{1,20}$/.test(shopId)) throw new Error('Shopee sent no shop_id with the code (a merchant-account authorisation is not supported yet)');
    return { credentials: await exchangeCode({ baseUrl, partnerId: app.clientId, partnerKey: app.clientSecret, code, shopId }) };
  },
};
