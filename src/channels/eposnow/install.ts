// Installing StockClerk from the Epos Now App Store. Epos Now publishes no documentation of how
// an App Store app is installed (searched for this work: developer.eposnowhq.com documents the
// REST API devices, Basic auth with a key and secret per device, and beta webhooks, nothing about
// app installs; channel-apis.md section 3; a secondary source only says API devices are
// "provisioned via the Epos Now AppStore": api-evangelist/epos-now plans/epos-now-plans-pricing.yml,
// citing https://www.eposnow.com/us/store/software/apps/api/). So the flow below is modelled on what Epos Now
// does document (an API device = key + secret, Basic auth) and on the common app-store pattern
// (Shopify's and Wix's), every step a GUESS:
// 1. GUESS: the merchant clicks Install on StockClerk's App Store page; Epos Now opens our app's
//    install URL (GET /install/eposnow) with `merchant_id`, `install_ref` (one install, one
//    reference), `timestamp` (unix seconds) and `signature`: the hex HMAC-SHA256, keyed with our
//    app's secret, of every other query parameter sorted by name and joined as `k=v` with `&`
//    (Shopify's launch recipe). Older than LAUNCH_MAX_AGE_S, or unsigned, or altered: refused.
// 2. StockClerk has the merchant sign up or in (the generic install hand-off), then sends them to
//    Epos Now's authorize page with our app id, redirect_uri, state and the install reference.
//    GUESS: the merchant agreed to the app's permissions when they clicked Install, so Epos Now
//    sends them straight back to redirect_uri with a one-time `code` and our `state`.
// 3. GUESS: POST {api}/oauth/token {client_id, client_secret, code, redirect_uri} answers the API
//    device Epos Now made for our app on the merchant's account: {api_key, api_secret, ...}. The
//    credentials travel server to server only, to the holder of our app secret; the channel keeps
//    them (sealed, like every credential) and the adapter uses them as it does pasted device keys.
// Epos Now installs start only from its side (`installOnly`): without an install reference there
// is no merchant to name, so the connect form keeps the pasted device keys as its way in.
// Uninstalling (webhook.ts, isUninstall) and revoked device keys (401, the adapter's 'auth' error)
// both disconnect the channel.
import { trimBase } from '../adapter-kit.ts';
import { ChannelError, type OAuthFlow } from '../contract.ts';
import { httpCall } from '../http-client.ts';
import { hmacSha256, safeEqual } from '../signing.ts';

/** GUESS: how long an Epos Now launch stays good (Epos Now documents none); 10 minutes either way. */
export const LAUNCH_MAX_AGE_S = 10 * 60;
/** GUESS: Epos Now's App Store host (its back office is www.eposnowhq.com). */
const DEFAULT_AUTHORIZE_BASE = 'https://www.eposnowhq.com';
const REF = /^[A-Za-z0-9_-]{8,128}$/;
const MERCHANT = /^[A-Za-z0-9_-]{1,64}$/;

/** GUESS: the launch signature: every parameter but `signature`, sorted by name, `k=v` joined with `&`, HMAC-SHA256 hex. */
export function launchSignature(query: Record<string, string>, secret: string): string {
  const message = Object.keys(query)
    .filter((k) => k !== 'signature')
    .sort()
    .map((k) => `${k}=${query[k]}`)
    .join('&');
  return hmacSha256(secret, message, 'hex');
}

interface DeviceAnswer {
  api_key?: unknown;
  api_secret?: unknown;
}

export const eposnowOAuth: OAuthFlow = {
  defaultAuthorizeBase: DEFAULT_AUTHORIZE_BASE,
  pkce: false,
  installOnly: true,
  // The merchant the signed launch named (kept with the device keys at the exchange): an install
  // again after an uninstall brings back the same channel. Pasted device keys name none.
  accountOf: (credentials) => credentials.merchant_id || null,

  verifyLaunch(query, app, now) {
    const given = query.signature ?? '';
    if (!given) throw new Error('no signature');
    if (!safeEqual(launchSignature(query, app.clientSecret), given.toLowerCase())) throw new Error('signature does not match');
    const ts = Number(query.timestamp);
    if (!Number.isInteger(ts) || Math.abs(now.getTime() / 1000 - ts) > LAUNCH_MAX_AGE_S) throw new Error('stale or missing timestamp');
    const ref = query.install_ref ?? '';
    if (!REF.test(ref)) throw new Error('no install reference');
    const merchant = query.merchant_id ?? '';
    if (!MERCHANT.test(merchant)) throw new Error('no merchant');
    // The reference travels (sealed in the ticket) to the authorize page, which spends it: a
    // launch replayed after the install finished connects nothing (Epos Now refuses the reference).
    return { account: null, launch: { install_ref: ref, merchant_id: merchant } };
  },

  authorizeUrl({ authorizeBase, app, state, launch }) {
    // GUESS: the path and parameter names of Epos Now's app authorize page.
    const q = new URLSearchParams({
      client_id: app.clientId,
      redirect_uri: app.redirectUri,
      state,
      ...(launch?.install_ref ? { install_ref: launch.install_ref } : {}),
      ...(launch?.merchant_id ? { merchant_id: launch.merchant_id } : {}),
    });
    return `${trimBase(authorizeBase)}/appstore/authorize?${q.toString()}`;
  },

  async exchange({ baseUrl, app, code, launch }) {
    const res = await httpCall(
      {
        method: 'POST',
        url: `${trimBase(baseUrl)}/oauth/token`,
        headers: { accept: 'application/json', 'content-type': 'application/json' },
        body: { client_id: app.clientId, client_secret: app.clientSecret, code, redirect_uri: app.redirectUri },
        timeoutMs: 10_000,
      },
      [400, 401, 403, 404, 409, 429],
    );
    let b: DeviceAnswer = {};
    try {
      b = res.json<DeviceAnswer>();
    } catch {
      // not JSON: refused below
    }
    if (res.status !== 200 || typeof b.api_key !== 'string' || !b.api_key || typeof b.api_secret !== 'string' || !b.api_secret) {
      const why = res.text.slice(0, 200) || String(res.status);
      throw new ChannelError(
        res.status >= 500 ? 'transient' : 'auth',
        `Epos Now refused the install code (${res.status}: ${why}): install again from the App Store`,
        {
          status: res.status,
        },
      );
    }
    return { credentials: { api_key: b.api_key, api_secret: b.api_secret, ...(launch?.merchant_id ? { merchant_id: launch.merchant_id } : {}) } };
  },
};
