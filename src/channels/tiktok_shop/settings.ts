// What connecting a TikTok Shop takes. Credentials: the app's key and secret (every call is signed
// with the secret: sign.ts) and the seller's token pair from the authorization flow
// (x-tts-access-token on every call; renewed with the refresh token before it expires, the new
// pair stored through ChannelConnection.saveCredentials).
//
// Settings: how catalog conflicts are settled, the default category for publishing, the warehouse stock is read from and written to (absent = each SKU's first warehouse,
// as Get Product lists them), the shop among those the grant covers (absent = the first one Get
// Authorized Shops answers), and the per-call timeout.
import { z } from 'zod';
import { credential, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { CATALOG_SETTINGS, channelSettings } from '../settings.ts';

export const tiktokShopCredentials = z.strictObject({
  app_key: credential('App key'),
  app_secret: secret('App secret'),
  access_token: secret('Access token'),
  refresh_token: secret('Refresh token'),
  access_expires_at: credential('Access token expiry (ISO 8601 UTC time)').optional(),
});

export const tiktokShopSettings = channelSettings({
  ...CATALOG_SETTINGS,
  warehouse_id: platformId
    .meta({ title: 'Warehouse id', description: "The TikTok Shop warehouse whose stock StockClerk keeps; absent = each SKU's first warehouse" })
    .optional(),
  shop_id: platformId.meta({ title: 'Shop id', description: 'The authorized shop to use; absent = the first the grant covers' }).optional(),
  category_id: z
    .string()
    .regex(/^\d{1,12}$/, 'a TikTok Shop category id (digits)')
    .meta({ title: 'Default category id', description: 'TikTok Shop leaf category for products whose category is not one; absent = a guessed default' })
    .optional(),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type TiktokShopSettings = z.output<typeof tiktokShopSettings>;
