// What connecting a Square seller takes: an access token (a personal token, or the OAuth pair with
// its expiry), the webhook subscription's signature key; settings: the location to stock, the page
// size of count reads, the timeout.
import { z } from 'zod';
import { credential, pageSize, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const squareCredentials = z.strictObject({
  access_token: secret('Access token'),
  // The webhook subscription's signature key (Developer Console > Webhooks > Subscriptions).
  // Without it every webhook fails verification and the counts poll carries sales.
  webhook_signature_key: secret('Webhook signature key').optional(),
  // The notification URL exactly as registered in the subscription, where it differs from the URL
  // the request reached us at (a proxy in front of StockClerk). Square signs over it.
  notification_url: credential('Notification URL as registered (when behind a proxy)').optional(),
  // OAuth (an app install): the pair renews itself before `access_expires_at`.
  refresh_token: secret('Refresh token').optional(),
  access_expires_at: credential('Access token expiry (ISO 8601)').optional(),
  client_id: credential('Application ID').optional(),
  client_secret: secret('Application secret').optional(),
  merchant_id: credential('Merchant ID').optional(),
});

export const squareSettings = channelSettings({
  location_id: platformId.meta({ title: 'Location', description: "Only this Square location's counts; absent = every active location" }).optional(),
  // BatchRetrieveInventoryCounts takes `limit` 1..1000 (default 1000).
  page_size: pageSize(1000, 1000),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type SquareSettings = z.output<typeof squareSettings>;
