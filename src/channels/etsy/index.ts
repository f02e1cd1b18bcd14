// Etsy (marketplace). Absolute stock writes by whole-inventory replace per listing, sales polled
// from receipts (no webhooks), OAuth 2.0 + PKCE tokens renewed by the adapter, and a catalog side
// that publishes products as listings with variations.
import { defineChannel } from '../contract.ts';
import { EtsyAdapter } from './adapter.ts';
import { ETSY_CAPABILITIES } from './model.ts';
import { etsyCredentials, etsySettings } from './settings.ts';
import { etsyWebhook } from './webhook.ts';
import { authorizeUrl, exchangeCode } from './oauth.ts';

export { EtsyAdapter } from './adapter.ts';
export { EtsyCatalog } from './catalog.ts';
export {
  authorizeUrl,
  consentOrigin,
  createPkce,
  createState,
  ETSY_SCOPES,
  exchangeCode,
  pkceChallenge,
  refreshTokens,
  tokenUrl,
  type EtsyTokens,
} from './oauth.ts';
export { parseVariantId, variantId } from './model.ts';

export const etsyChannel = defineChannel({
  type: 'etsy',
  label: 'Etsy',
  defaultBaseUrl: 'https://openapi.etsy.com',
  credentials: etsyCredentials,
  settings: etsySettings,
  // shop_id is read from getMe when absent: the connect form asks for nothing beside the credentials.
  connectSettings: [],
  capabilities: ETSY_CAPABILITIES,
  webhook: etsyWebhook,
  oauth: {
    defaultAuthorizeBase: 'https://www.etsy.com',
    pkce: true,
    authorizeUrl: ({ authorizeBase, app, state, codeChallenge }) =>
      authorizeUrl({ baseUrl: authorizeBase, keystring: app.clientId, redirectUri: app.redirectUri, state, codeChallenge: codeChallenge ?? '' }),
    // The channel keeps the app's key pair (every call's x-api-key) beside the seller's tokens;
    // the shop is found with getMe when the adapter first needs it.
    exchange: async ({ baseUrl, app, code, codeVerifier }) => ({
      credentials: {
        keystring: app.clientId,
        shared_secret: app.clientSecret,
        ...(await exchangeCode({ baseUrl, keystring: app.clientId, redirectUri: app.redirectUri, code, codeVerifier: codeVerifier ?? '' })),
      },
    }),
  },
  createAdapter: (conn) => new EtsyAdapter(conn),
});
