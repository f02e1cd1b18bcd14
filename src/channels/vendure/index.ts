// Vendure channel: Admin GraphQL API adapter, Standard Webhooks from the StockClerk plugin
// (integrations/vendure-plugin), polling of the plugin's movement query; tested against a real
// Vendure server (dev-server.ts), not an emulator.
import { defineChannel } from '../contract.ts';
import { VendureAdapter, vendureCapabilities } from './adapter.ts';
import { vendureCredentials, vendureSettings } from './settings.ts';
import { vendureWebhook } from './webhook.ts';

export const vendureChannel = defineChannel({
  type: 'vendure',
  label: 'Vendure',
  // Self-hosted: base_url is always given.
  defaultBaseUrl: null,
  credentials: vendureCredentials,
  settings: vendureSettings,
  connectSettings: [],
  capabilities: vendureCapabilities,
  webhook: vendureWebhook,
  createAdapter: (conn) => new VendureAdapter(conn),
});
