// Shopee (marketplace): signed Open Platform v2 calls, seller_stock written per model with
// update_stock, orders polled by update_time and announced by signed pushes (re-read through the
// API), the shop's token pair renewed by the adapter, and a catalog side publishing products as
// items whose variants are models (catalog.ts). Facts: channel-apis.md section 8.
import { defineChannel } from '../contract.ts';
import { ShopeeAdapter } from './adapter.ts';
import { shopeeOAuth } from './auth.ts';
import { SHOPEE_CAPABILITIES } from './model.ts';
import { shopeeCredentials, shopeeSettings } from './settings.ts';
import { shopeeWebhook } from './webhook.ts';

export { ShopeeAdapter, orderEvents } from './adapter.ts';
export { authorizeUrl, exchangeCode } from './auth.ts';
export { ShopeeCatalog } from './catalog.ts';
export { refreshTokens } from './client.ts';
export { modelRef, parseModelRef } from './model.ts';
export { clearShopeeWebhookCache } from './webhook.ts';

export const shopeeChannel = defineChannel({
  type: 'shopee',
  label: 'Shopee',
  defaultBaseUrl: 'https://partner.shopeemobile.com',
  credentials: shopeeCredentials,
  settings: shopeeSettings,
  connectSettings: [],
  capabilities: SHOPEE_CAPABILITIES,
  webhook: shopeeWebhook,
  // Connect by consent: the seller authorises the shop on Shopee's page (auth.ts).
  oauth: shopeeOAuth,
  createAdapter: (conn) => new ShopeeAdapter(conn),
});
