// What connecting a Shopify shop takes: its credentials and the channel's settings.
// A shop has its own host (https://{shop}.myshopify.com), so there is no default base URL.
import { z } from 'zod';
import { platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const shopifyCredentials = z.strictObject({
  access_token: secret('Admin API access token'),
  webhook_secret: secret('App client secret (webhook signing key)'),
});

export const shopifySettings = channelSettings({
  location_id: platformId
    .meta({ title: 'Location', description: 'The Shopify location (GID) whose levels StockClerk reads and sets' })
    .default('gid://shopify/Location/1'),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type ShopifySettings = z.output<typeof shopifySettings>;
