// Deliveroo channel: availability-only delivery platform (see adapter.ts for why there are no counts).
import type { ChannelModule } from '../contract.ts';
import { DELIVEROO_CAPABILITIES, DeliverooAdapter } from './adapter.ts';
import { deliverooWebhook } from './webhook.ts';

export const deliverooChannel: ChannelModule = {
  type: 'deliveroo',
  capabilities: DELIVEROO_CAPABILITIES,
  createAdapter: (conn) => new DeliverooAdapter(conn),
  webhook: deliverooWebhook,
  credentialFields: [
    { name: 'client_id', label: 'Client ID', secret: false, required: true },
    { name: 'client_secret', label: 'Client secret', secret: true, required: true },
    // Webhooks are signed with this, not with the API secret.
    { name: 'webhook_secret', label: 'Webhook secret', secret: true, required: true },
  ],
};
