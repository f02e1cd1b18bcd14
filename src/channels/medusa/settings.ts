// What connecting a Medusa v2 server takes: an Admin API credential (a secret API key `sk_...`,
// or an admin user's email and password) and the signing secret the StockClerk subscriber uses
// (peers/medusa/src/subscribers/stockclerk.ts); settings: the stock location to sell from.
// Medusa is self-hosted, so there is no default base URL.
import { z } from 'zod';
import { credential, pageSize, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const medusaCredentials = z
  .strictObject({
    api_key: secret('Secret API key (sk_...)').optional(),
    email: credential('Admin user email (instead of an API key)').optional(),
    password: secret('Admin user password').optional(),
    webhook_secret: secret('Subscriber signing secret (whsec_...)'),
  })
  .refine((c) => Boolean(c.api_key) || (Boolean(c.email) && Boolean(c.password)), {
    message: 'an API key, or an admin email and password',
  });

export const medusaSettings = channelSettings({
  stock_location_id: platformId
    .meta({ title: 'Stock location', description: "The Medusa stock location StockClerk reads and writes (sloc_...); absent = Medusa's first" })
    .optional(),
  page_size: pageSize(100, 1000),
  request_timeout_ms: requestTimeoutMs(15_000),
});

export type MedusaSettings = z.output<typeof medusaSettings>;
