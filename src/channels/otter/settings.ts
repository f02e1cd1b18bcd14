// What connecting an Otter store takes: the application's OAuth2 client credentials (Application
// ID + client secret from Otter's Developer Portal), the webhook secret Otter signs webhooks with,
// and the store id every call names in X-Store-Id. Otter's API host is provisioned per partner
// ("https://{public-api-url}"), so the channel's base_url is required. The access token the
// adapter fetches is kept beside the credentials (access_token, access_expires_at) so a restart
// reuses it instead of asking for a new one.
import { z } from 'zod';
import { credential, pageSize, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const otterCredentials = z.strictObject({
  client_id: credential('Application ID (client_id)'),
  client_secret: secret('Client secret'),
  webhook_secret: secret('Webhook secret'),
  access_token: secret('Access token (fetched by StockClerk)').optional(),
  access_expires_at: credential('Access token expiry (ISO 8601 UTC time)').optional(),
});

/** The scopes the adapter's calls need (each endpoint's `security` in the reference). */
export const OTTER_SCOPES = 'menus.read manager.menus manager.orders';

export const otterSettings = channelSettings({
  store_id: platformId.meta({ title: 'Store ID', description: 'The store id sent as X-Store-Id on every call' }).optional(),
  scope: z
    .string()
    .trim()
    .min(1)
    .max(1000)
    .meta({ title: 'OAuth scopes', description: 'Space-separated scopes requested with each token' })
    .default(OTTER_SCOPES),
  page_size: pageSize(50, 100),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type OtterSettings = z.output<typeof otterSettings>;
