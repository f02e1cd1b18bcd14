// Deliveroo channel: availability-only delivery platform (see adapter.ts for why there are no counts).
import { defineChannel } from '../contract.ts';
import { DELIVEROO_CAPABILITIES, DeliverooAdapter } from './adapter.ts';
import { deliverooCredentials, deliverooSettings } from './settings.ts';
import { deliverooWebhook } from './webhook.ts';

export const deliverooChannel = defineChannel({
  type: 'deliveroo',
  label: 'Deliveroo',
  defaultBaseUrl: 'https://api.developers.deliveroo.com',
  credentials: deliverooCredentials,
  settings: deliverooSettings,
  // Every call names the brand, site and menu: the connect form asks for them.
  connectSettings: ['brand_id', 'site_id', 'menu_id'],
  capabilities: DELIVEROO_CAPABILITIES,
  webhook: deliverooWebhook,
  createAdapter: (conn) => new DeliverooAdapter(conn),
});
