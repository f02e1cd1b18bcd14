// What connecting a Wix site takes: an API key and the site it acts on for the REST API (or, for a
// site that installed the app from Wix, its OAuth tokens: oauth.ts), the app's public key (PEM) for webhooks; settings: the location to sell, the query page size, the timeout.
import { z } from 'zod';
import { credential, pageSize, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const wixCredentials = z
  .strictObject({
    api_key: secret('API key').optional(),
    site_id: credential('Site ID').optional(),
    public_key: credential('App public key (PEM, for webhooks)'),
    // Set by installing the app from Wix (oauth.ts), not typed in: the app instance's OAuth tokens
    // and the app keys that renew them.
    access_token: secret('OAuth access token (set by installing from Wix)').optional(),
    refresh_token: secret('OAuth refresh token (set by installing from Wix)').optional(),
    access_expires_at: credential('Access token expiry (ISO 8601 UTC time)').optional(),
    instance_id: credential('App instance ID (set by installing from Wix)').optional(),
    app_id: credential('App ID (set by installing from Wix)').optional(),
    app_secret: secret('App secret (set by installing from Wix)').optional(),
  })
  .refine(
    (c) => (c.api_key !== undefined && c.site_id !== undefined) || (c.refresh_token !== undefined && c.app_id !== undefined && c.app_secret !== undefined),
    {
      message: 'Give api_key and site_id (or install the app from Wix, which sets its tokens)',
      path: ['api_key'],
    },
  );

export const wixSettings = channelSettings({
  location_id: platformId.meta({ title: 'Location', description: "Only this Wix location's inventory items; absent = every location" }).optional(),
  // Catalog V3 queries return at most 1000 items a page.
  page_size: pageSize(100, 1000),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type WixSettings = z.output<typeof wixSettings>;
