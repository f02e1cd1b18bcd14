// What connecting an eBay seller takes: the application's keys (client id / secret, from the
// developer portal), the seller's OAuth user token pair from the consent flow (oauth.ts), and the
// verification token eBay's endpoint challenge hashes. Settings: the marketplace and what a
// published offer needs (merchant location, business policies, category) beside the sync policy.
import { z } from 'zod';
import { credential, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { CATALOG_SETTINGS, channelSettings } from '../settings.ts';

export const ebayCredentials = z.strictObject({
  client_id: credential('App ID (client id)'),
  client_secret: secret('Cert ID (client secret)'),
  refresh_token: secret('Refresh token (from the consent flow)'),
  access_token: secret('User access token').optional(),
  /** ISO 8601 instant the access token stops working; renewed tokens are stored with it. */
  access_expires_at: credential('Access token expiry').optional(),
  verification_token: secret('Notification verification token').optional(),
});

export const ebaySettings = channelSettings({
  ...CATALOG_SETTINGS,
  marketplace_id: platformId
    .meta({ title: 'Marketplace', description: 'The eBay marketplace offers are listed on (EBAY_GB, EBAY_US, ...)' })
    .default('EBAY_GB'),
  content_language: z
    .string()
    .regex(/^[a-z]{2}-[A-Z]{2}$/, 'a locale such as en-GB')
    .meta({ title: 'Content language', description: 'Content-Language of inventory writes (the language titles are written in)' })
    .default('en-GB'),
  // Publishing an offer needs a merchant location, a category and the three business policies
  // (documented list of fields publishOffer demands). None has a sensible default: absent, eBay
  // refuses the publish and says which is missing.
  merchant_location_key: platformId.meta({ title: 'Merchant location key', description: 'Inventory location offers ship from' }).optional(),
  category_id: platformId.meta({ title: 'Default category id', description: 'eBay leaf category for products whose category is not an eBay id' }).optional(),
  fulfillment_policy_id: platformId.meta({ title: 'Fulfillment policy id', description: 'Business policy for shipping' }).optional(),
  payment_policy_id: platformId.meta({ title: 'Payment policy id', description: 'Business policy for payment' }).optional(),
  return_policy_id: platformId.meta({ title: 'Return policy id', description: 'Business policy for returns' }).optional(),
  request_timeout_ms: requestTimeoutMs(15_000),
});

export type EbaySettings = z.output<typeof ebaySettings>;
