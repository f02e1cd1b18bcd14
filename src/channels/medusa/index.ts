// Medusa v2 channel: Admin REST API adapter, Standard Webhooks from the StockClerk subscriber
// (peers/medusa/src/subscribers/stockclerk.ts), polling of the Admin API's orders; tested against
// a real Medusa server (dev-server.ts, peers/medusa), not an emulator.
import { defineChannel } from '../contract.ts';
import { MedusaAdapter, medusaCapabilities } from './adapter.ts';
import { medusaCredentials, medusaSettings } from './settings.ts';
import { medusaWebhook } from './webhook.ts';

export const medusaChannel = defineChannel({
  type: 'medusa',
  label: 'Medusa',
  // Self-hosted: base_url is always given.
  defaultBaseUrl: null,
  credentials: medusaCredentials,
  settings: medusaSettings,
  connectSettings: ['stock_location_id'],
  capabilities: medusaCapabilities,
  webhook: medusaWebhook,
  createAdapter: (conn) => new MedusaAdapter(conn),
});
