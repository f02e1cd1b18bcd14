// What connecting a Shopee shop takes. Credentials: the partner app's partner_id and partner_key
// (every call is signed with the key), the shop_id the authorisation answered, and the shop's token
// pair (access 4 h, refresh 30 days; a refresh hands out a new pair). `access_expires_at` is an
// ISO 8601 UTC time the adapter writes after a refresh; unreadable = renew on the first refusal.
//
// Settings for publishing (catalog.ts): how catalog conflicts are settled, the Shopee category for
// products whose own category is not a Shopee id, the shipping channel new items are enabled on
// (add_item requires logistic_info), and the parcel weight for products that do not say theirs.
import { z } from 'zod';
import { credential, requestTimeoutMs, secret } from '../fields.ts';
import { CATALOG_SETTINGS, channelSettings } from '../settings.ts';

export const shopeeCredentials = z.strictObject({
  partner_id: credential('Partner id (Open Platform app)'),
  partner_key: secret('Partner key'),
  shop_id: credential('Shop id'),
  access_token: secret('Access token'),
  refresh_token: secret('Refresh token'),
  access_expires_at: credential('Access token expiry (ISO 8601 UTC time)').optional(),
});

const shopeeId = (what: string) => z.string().regex(/^\d{1,12}$/, `a Shopee ${what} id (digits)`);

export const shopeeSettings = channelSettings({
  ...CATALOG_SETTINGS,
  category_id: shopeeId('category')
    .meta({ title: 'Default category id', description: 'Shopee leaf category for products whose category is not one; absent = a guessed default' })
    .optional(),
  logistic_id: shopeeId('logistics channel')
    .meta({
      title: 'Shipping channel id',
      description: 'The logistics channel (v2.logistics.get_channel_list) new items ship with; absent = a guessed default',
    })
    .optional(),
  weight_kg: z
    .number()
    .positive()
    .max(1000)
    .meta({ title: 'Default parcel weight (kg)', description: "Weight Shopee is told for products whose attributes give none (attribute 'weight_kg')" })
    .default(0.5),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type ShopeeSettings = z.output<typeof shopeeSettings>;
