// What connecting an Epos Now account takes: the key and secret of a REST API device (Basic auth),
// settings: the location to stock, the timeout.
import { z } from 'zod';
import { credential, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const eposnowCredentials = z.strictObject({
  api_key: credential('API key (Back Office > Web Integrations > REST API device)'),
  api_secret: secret('API secret'),
  merchant_id: credential('Merchant ID (set by installing from the Epos Now App Store)').optional(),
  // No webhook secret: Epos Now signs nothing. Its webhooks go to the channel's secret URL
  // (webhook_url, generated on connecting) and are only hints re-read through the API (webhook.ts).
});

export const eposnowSettings = channelSettings({
  // A numeric id; a string is accepted as typed into a form (the adapter reads it as a number).
  location_id: z
    .union([platformId, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)])
    .meta({ title: 'Location', description: "The Epos Now location this channel stocks; absent = the account's first location" })
    .optional(),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type EposnowSettings = z.output<typeof eposnowSettings>;
