// Installing StockClerk on a Shopify shop: Shopify's authorization code grant for a non-embedded
// app (shopify.dev, "Implement authorization code grant manually"):
// 1. Installing from the App Store or an install link, Shopify sends the merchant to our app URL
//    (GET /install/shopify) with `shop`, `timestamp` and `hmac` (+ `host`): hmac is the hex
//    HMAC-SHA256, keyed with the app's client secret, of every other query parameter sorted by
//    name and joined as `name=value` with `&`. `shop` must be a myshopify.com domain.
// 2. We send the merchant to https://{shop}/admin/oauth/authorize (client_id, scope, redirect_uri,
//    state); no grant_options[]=per-user, so the token is an offline (shop) token.
// 3. Shopify sends them back with code, hmac, shop, state, timestamp (+ host): the same hmac check,
//    and the shop must be the one we asked for.
// 4. POST https://{shop}/admin/oauth/access_token {client_id, client_secret, code} answers
//    {access_token, scope}. GUESS: offline tokens do not expire (Shopify's newer expiring offline
//    tokens are opt-in with `expiring=1`, which we do not send).
// Webhooks are signed with the same client secret, which is what the channel keeps as webhook_secret.
import { ChannelError, type OAuthFlow } from '../contract.ts';
import { httpCall } from '../http-client.ts';
import { hmacSha256, safeEqual } from '../signing.ts';

/** What StockClerk reads and writes (inventory, the products it lists, orders for sales, locations). */
export const SHOPIFY_SCOPES = 'read_products,read_inventory,write_inventory,read_orders,read_locations';

/** GUESS: Shopify documents no maximum age for a launch's timestamp; older than a day is refused. */
const LAUNCH_MAX_AGE_S = 24 * 60 * 60;
const SHOP_DOMAIN = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;

export function checkShop(shop: string): string | null {
  const s = shop.trim().toLowerCase();
  return SHOP_DOMAIN.test(s) ? s : null;
}

/** Shopify's query hmac: every parameter but hmac, sorted by name, `k=v` joined with `&`, HMAC-SHA256 hex. */
export function queryHmac(query: Record<string, string>, secret: string): string {
  const message = Object.keys(query)
    .filter((k) => k !== 'hmac' && k !== 'signature')
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join('&');
  return hmacSha256(secret, message, 'hex');
}

function checkSigned(query: Record<string, string>, secret: string): void {
  if (!query.hmac) throw new Error('no hmac');
  if (!safeEqual(queryHmac(query, secret), query.hmac.toLowerCase())) throw new Error('hmac does not match');
}

export const shopifyOAuth: OAuthFlow = {
  defaultAuthorizeBase: 'https://{account}',
  defaultApiBase: 'https://{account}',
  pkce: false,
  account: { label: 'Shopify shop (name.myshopify.com)', check: checkShop },

  verifyLaunch(query, app, now) {
    checkSigned(query, app.clientSecret);
    const ts = Number(query.timestamp);
    if (!Number.isInteger(ts) || Math.abs(now.getTime() / 1000 - ts) > LAUNCH_MAX_AGE_S) throw new Error('stale or missing timestamp');
    const shop = checkShop(query.shop ?? '');
    if (!shop) throw new Error('shop is not a myshopify.com domain');
    return { account: shop };
  },

  authorizeUrl({ authorizeBase, app, state }) {
    const q = new URLSearchParams({ client_id: app.clientId, scope: SHOPIFY_SCOPES, redirect_uri: app.redirectUri, state });
    return `${authorizeBase}/admin/oauth/authorize?${q.toString()}`;
  },

  async exchange({ baseUrl, app, code, query, account }) {
    try {
      checkSigned(query, app.clientSecret);
    } catch (err) {
      throw new ChannelError('auth', `Shopify's redirect failed its check: ${(err as Error).message}`);
    }
    if (!account || checkShop(query.shop ?? '') !== account)
      throw new ChannelError('auth', `Shopify sent back another shop than ${account ?? 'the one asked for'}`);
    const res = await httpCall({
      method: 'POST',
      url: `${baseUrl}/admin/oauth/access_token`,
      headers: { accept: 'application/json' },
      body: { client_id: app.clientId, client_secret: app.clientSecret, code },
      timeoutMs: 10_000,
    });
    let token: unknown = null;
    try {
      token = res.json<{ access_token?: unknown }>().access_token;
    } catch {
      // not JSON: refused below
    }
    if (res.status !== 200 || typeof token !== 'string' || !token)
      throw new ChannelError(res.status >= 500 ? 'transient' : 'auth', `Shopify refused the code (${res.status})`, { status: res.status });
    return { credentials: { access_token: token, webhook_secret: app.clientSecret } };
  },
};
