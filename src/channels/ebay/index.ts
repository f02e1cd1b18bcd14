// eBay channel: Sell Inventory API adapter (stock and catalog), Fulfillment API order poll,
// Notification API ORDER_CONFIRMATION (ECDSA) with the endpoint challenge, OAuth connect helpers.
// Facts: channel-apis.md section 7.
import { defineChannel } from '../contract.ts';
import { EBAY_CAPABILITIES, EbayAdapter } from './adapter.ts';
import { EBAY_AUTH_BASE, consentUrl, exchangeCode } from './oauth.ts';
import { ebayCredentials, ebaySettings } from './settings.ts';
import { ebayWebhook } from './webhook.ts';

export const ebayChannel = defineChannel({
  type: 'ebay',
  label: 'eBay',
  defaultBaseUrl: 'https://api.ebay.com',
  credentials: ebayCredentials,
  settings: ebaySettings,
  connectSettings: ['marketplace_id', 'merchant_location_key', 'fulfillment_policy_id', 'payment_policy_id', 'return_policy_id'],
  capabilities: EBAY_CAPABILITIES,
  webhook: ebayWebhook,
  // Connect by consent: eBay's redirect_uri is the application's RuName (OAuthApp.redirectUri, set
  // with OAUTH_EBAY_REDIRECT_URI), which eBay maps to our callback; no PKCE. The channel keeps the
  // app's client id and secret beside the seller's tokens: the refresh grant is signed with them.
  oauth: {
    defaultAuthorizeBase: EBAY_AUTH_BASE,
    redirectIsName: true,
    pkce: false,
    authorizeUrl: ({ authorizeBase, app, state }) => consentUrl({ authBase: authorizeBase, clientId: app.clientId, ruName: app.redirectUri, state }),
    exchange: async ({ baseUrl, app, code }) => ({
      credentials: {
        client_id: app.clientId,
        client_secret: app.clientSecret,
        ...(await exchangeCode({ baseUrl, clientId: app.clientId, clientSecret: app.clientSecret, ruName: app.redirectUri, code })),
      },
    }),
  },
  createAdapter: (conn) => new EbayAdapter(conn),
});
