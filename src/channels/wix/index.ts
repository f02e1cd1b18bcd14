// Wix Stores (Catalog V3 inventory items): adapter, webhook handler and capabilities; installing
// the app from Wix (oauth.ts) connects a site with OAuth tokens instead of an API key.
import { defineChannel } from '../contract.ts';
import { WIX_CAPABILITIES, WixAdapter } from './adapter.ts';
import { wixOAuth } from './oauth.ts';
import { wixCredentials, wixSettings } from './settings.ts';
import { wixWebhook } from './webhook.ts';

export const wixChannel = defineChannel({
  type: 'wix',
  label: 'Wix',
  defaultBaseUrl: 'https://www.wixapis.com',
  credentials: wixCredentials,
  settings: wixSettings,
  connectSettings: [],
  capabilities: WIX_CAPABILITIES,
  webhook: wixWebhook,
  oauth: wixOAuth,
  createAdapter: (conn) => new WixAdapter(conn),
});
