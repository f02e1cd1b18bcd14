// TikTok Shop (marketplace, Partner API 202309 paths). Signed calls with the shop's cipher,
// absolute stock per SKU x warehouse, sales from orders (polled; signed webhooks signal and the
// order is re-read), connected by the seller's consent (oauth.ts), the token renewed by the
// adapter, and a catalog side publishing products with their variants as SKUs (catalog.ts).
import { defineChannel } from '../contract.ts';
import { TiktokShopAdapter } from './adapter.ts';
import { DEFAULT_API_BASE } from './client.ts';
import { TIKTOK_SHOP_CAPABILITIES } from './model.ts';
import { tiktokShopCredentials, tiktokShopSettings } from './settings.ts';
import { tiktokShopWebhook } from './webhook.ts';
import { authorizeUrl, DEFAULT_AUTHORIZE_BASE, exchangeCode } from './oauth.ts';

export { TiktokShopAdapter } from './adapter.ts';
export { TiktokShopCatalog } from './catalog.ts';
export { clearTiktokShopWebhookCaches } from './webhook.ts';

export const tiktokShopChannel = defineChannel({
  type: 'tiktok_shop',
  label: 'TikTok Shop',
  defaultBaseUrl: DEFAULT_API_BASE,
  credentials: tiktokShopCredentials,
  settings: tiktokShopSettings,
  connectSettings: ['warehouse_id'],
  capabilities: TIKTOK_SHOP_CAPABILITIES,
  webhook: tiktokShopWebhook,
  oauth: {
    defaultAuthorizeBase: DEFAULT_AUTHORIZE_BASE,
    pkce: false,
    authorizeUrl: ({ authorizeBase, app, state }) => authorizeUrl(authorizeBase, app.clientId, state),
    exchange: async ({ baseUrl, app, code }) => ({ credentials: await exchangeCode({ baseUrl, appKey: app.clientId, appSecret: app.clientSecret, code }) }),
  },
  createAdapter: (conn) => new TiktokShopAdapter(conn),
});
