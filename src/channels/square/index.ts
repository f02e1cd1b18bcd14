// Square (Inventory, Catalog and Locations APIs): adapter, webhook handler, capabilities, and the
// seller's consent (OAuth code flow, auth.ts).
import { defineChannel } from '../contract.ts';
import { SQUARE_CAPABILITIES, SquareAdapter } from './adapter.ts';
import { squareOAuth } from './auth.ts';
import { squareCredentials, squareSettings } from './settings.ts';
import { squareWebhook } from './webhook.ts';

export const squareChannel = defineChannel({
  type: 'square',
  label: 'Square',
  defaultBaseUrl: 'https://connect.squareup.com',
  credentials: squareCredentials,
  settings: squareSettings,
  connectSettings: ['location_id'],
  capabilities: SQUARE_CAPABILITIES,
  webhook: squareWebhook,
  oauth: squareOAuth,
  createAdapter: (conn) => new SquareAdapter(conn),
});
