// What connecting a Vendure server takes: an administrator's login for the Admin API and the
// StockClerk plugin's signing secret; settings: the Admin API path and the stock location to sell.
// Vendure is self-hosted, so there is no default base URL.
import { z } from 'zod';
import { credential, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const vendureCredentials = z.strictObject({
  username: credential('Administrator username'),
  password: secret('Administrator password'),
  webhook_secret: secret('Plugin signing secret (whsec_...)'),
});

export const vendureSettings = channelSettings({
  admin_api_path: z
    .string()
    .regex(/^[A-Za-z0-9._~/-]{1,200}$/, 'a URL path')
    .meta({ title: 'Admin API path', description: 'Path of the Admin API under the base URL' })
    .default('admin-api'),
  stock_location_id: platformId
    .meta({ title: 'Stock location', description: "The Vendure stock location StockClerk reads and writes; absent = Vendure's first" })
    .optional(),
  request_timeout_ms: requestTimeoutMs(15_000),
});

export type VendureSettings = z.output<typeof vendureSettings>;
