// What connecting a Wix site takes: an API key and the site it acts on for the REST API, the app's
// public key (PEM) for webhooks; settings: the location to sell, the query page size, the timeout.
import { z } from 'zod';
import { credential, pageSize, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const wixCredentials = z.strictObject({
  api_key: secret('API key'),
  site_id: credential('Site ID'),
  public_key: credential('App public key (PEM, for webhooks)'),
});

export const wixSettings = channelSettings({
  location_id: platformId.meta({ title: 'Location', description: "Only this Wix location's inventory items; absent = every location" }).optional(),
  // Catalog V3 queries return at most 1000 items a page.
  page_size: pageSize(100, 1000),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type WixSettings = z.output<typeof wixSettings>;
