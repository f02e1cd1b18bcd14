// Shopify channel: GraphQL Admin API adapter, HMAC webhooks, and the emulator used by tests and the demo.
import type { ChannelModule } from '../contract.ts';
import { createShopifyAdapter, shopifyCapabilities } from './adapter.ts';
import { shopifyWebhook } from './webhook.ts';

export const shopifyChannel: ChannelModule = {
  type: 'shopify',
  capabilities: shopifyCapabilities,
  createAdapter: createShopifyAdapter,
  webhook: shopifyWebhook,
  credentialFields: [
    { name: 'access_token', label: 'Admin API access token', secret: true, required: true },
    { name: 'webhook_secret', label: 'App client secret (webhook signing key)', secret: true, required: true },
  ],
};
