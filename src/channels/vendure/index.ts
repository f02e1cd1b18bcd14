// Vendure channel: Admin GraphQL API adapter, Standard Webhooks from the StockClerk plugin
// (integrations/vendure-plugin), polling of the plugin's movement query; tested against a real
// Vendure server (dev-server.ts), not an emulator.
import type { ChannelModule } from '../contract.ts';
import { createVendureAdapter, vendureCapabilities } from './adapter.ts';
import { vendureWebhook } from './webhook.ts';

export const vendureChannel: ChannelModule = {
  type: 'vendure',
  capabilities: vendureCapabilities,
  createAdapter: createVendureAdapter,
  webhook: vendureWebhook,
  credentialFields: [
    { name: 'username', label: 'Administrator username', secret: false, required: true },
    { name: 'password', label: 'Administrator password', secret: true, required: true },
    { name: 'webhook_secret', label: 'Plugin signing secret (whsec_...)', secret: true, required: true },
  ],
};
