// Wix Stores (Catalog V3 inventory items): adapter, webhook handler and capabilities.
// Credentials: api_key + site_id for the REST API, public_key (the app's RSA public key PEM) for webhooks.
// Settings read: location_id (only that location's items), page_size (query page, default 100),
// request_timeout_ms (default 10000).
import type { ChannelModule } from '../contract.ts';
import { WIX_CAPABILITIES, WixAdapter } from './adapter.ts';
import { wixWebhook } from './webhook.ts';

export const wixChannel: ChannelModule = {
  type: 'wix',
  capabilities: WIX_CAPABILITIES,
  createAdapter: (conn) => new WixAdapter(conn),
  webhook: wixWebhook,
  credentialFields: [
    { name: 'api_key', label: 'API key', secret: true, required: true },
    { name: 'site_id', label: 'Site ID', secret: false, required: true },
    { name: 'public_key', label: 'App public key (PEM, for webhooks)', secret: false, required: true },
  ],
};
