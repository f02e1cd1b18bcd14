// Shopify channel: GraphQL Admin API adapter and HMAC webhooks. Facts: channel-apis.md section 1.
import { defineChannel } from '../contract.ts';
import { ShopifyAdapter, shopifyCapabilities } from './adapter.ts';
import { shopifyOAuth } from './oauth.ts';
import { shopifyCredentials, shopifySettings } from './settings.ts';
import { shopifyWebhook } from './webhook.ts';

export const shopifyChannel = defineChannel({
  type: 'shopify',
  label: 'Shopify',
  // One host per shop: base_url is always given.
  defaultBaseUrl: null,
  credentials: shopifyCredentials,
  settings: shopifySettings,
  connectSettings: [],
  capabilities: shopifyCapabilities,
  webhook: shopifyWebhook,
  // Installed from Shopify's side or connected from the dashboard by consent (oauth.ts); pasting a token still works.
  oauth: shopifyOAuth,
  createAdapter: (conn) => new ShopifyAdapter(conn),
});
