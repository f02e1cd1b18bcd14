// WooCommerce channel: REST API v3 adapter (consumer key/secret), HMAC-signed order webhooks and
// the order poll as their safety net. Facts: channel-apis.md section 5.
import { defineChannel } from '../contract.ts';
import { WoocommerceAdapter } from './adapter.ts';
import { WOOCOMMERCE_CAPABILITIES } from './model.ts';
import { woocommerceCredentials, woocommerceSettings } from './settings.ts';
import { woocommerceWebhook } from './webhook.ts';

export const woocommerceChannel = defineChannel({
  type: 'woocommerce',
  label: 'WooCommerce',
  // Every store is its own site: base_url (https://shop.example.com) is always given.
  defaultBaseUrl: null,
  credentials: woocommerceCredentials,
  settings: woocommerceSettings,
  connectSettings: [],
  capabilities: WOOCOMMERCE_CAPABILITIES,
  webhook: woocommerceWebhook,
  createAdapter: (conn) => new WoocommerceAdapter(conn),
});
