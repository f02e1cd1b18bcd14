// Otter channel: availability-only restaurant aggregator (see adapter.ts for why there are no counts).
import { defineChannel } from '../contract.ts';
import { OTTER_CAPABILITIES, OtterAdapter } from './adapter.ts';
import { otterCredentials, otterSettings } from './settings.ts';
import { otterWebhook } from './webhook.ts';

export const otterChannel = defineChannel({
  type: 'otter',
  label: 'Otter',
  // Otter provisions the API host per partner ("https://{public-api-url}"): base_url is required.
  defaultBaseUrl: null,
  credentials: otterCredentials,
  settings: otterSettings,
  // Every call names the store (X-Store-Id): the connect form asks for it.
  connectSettings: ['store_id'],
  capabilities: OTTER_CAPABILITIES,
  webhook: otterWebhook,
  createAdapter: (conn) => new OtterAdapter(conn),
});
