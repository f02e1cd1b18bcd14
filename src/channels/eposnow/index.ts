// Epos Now (till / POS). Delta-only stock writes, till sales as Transactions (webhook + poll).
import type { ChannelModule } from '../contract.ts';
import { EposnowAdapter } from './adapter.ts';
import { EPOSNOW_CAPABILITIES } from './model.ts';
import { eposnowWebhook } from './webhook.ts';

export const eposnowChannel: ChannelModule = {
  type: 'eposnow',
  capabilities: EPOSNOW_CAPABILITIES,
  createAdapter: (conn) => new EposnowAdapter(conn),
  webhook: eposnowWebhook,
  credentialFields: [
    { name: 'api_key', label: 'API key (Back Office > Web Integrations > REST API device)', secret: false, required: true },
    { name: 'api_secret', label: 'API secret', secret: true, required: true },
    // Webhooks are in beta and unsigned in the vendor docs (our signing is a GUESS): without a
    // secret, webhook deliveries fail verification and the Watcher's Transaction poll carries sales.
    { name: 'webhook_secret', label: 'Webhook signing secret', secret: true, required: false },
  ],
};
