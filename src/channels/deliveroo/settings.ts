// What connecting a Deliveroo site takes: OAuth2 client credentials, the webhook secret (webhooks
// are signed with it, not with the API secret), and the brand, site and menu ids in settings.
import { z } from 'zod';
import { credential, httpUrl, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const deliverooCredentials = z.strictObject({
  client_id: credential('Client ID'),
  client_secret: secret('Client secret'),
  webhook_secret: secret('Webhook secret'),
});

export const deliverooSettings = channelSettings({
  brand_id: platformId.meta({ title: 'Brand ID' }).optional(),
  site_id: platformId.meta({ title: 'Site ID' }).optional(),
  menu_id: platformId.meta({ title: 'Menu ID' }).optional(),
  auth_base_url: httpUrl
    .meta({ title: 'OAuth host', description: 'Where tokens are requested (https://auth.developers.deliveroo.com in production); absent = the API base URL' })
    .optional(),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type DeliverooSettings = z.output<typeof deliverooSettings>;
