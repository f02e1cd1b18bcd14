// What connecting an Etsy shop takes. Credentials: the app's API key (keystring + shared secret,
// sent together as `x-api-key: keystring:shared_secret` on every call) and the seller's OAuth 2.0
// token pair from the PKCE connect flow (oauth.ts). Etsy's access tokens live one hour and every
// refresh hands out a new refresh token, so the adapter renews them and stores the new pair
// (ChannelConnection.saveCredentials).
//
// `access_expires_at` is an ISO 8601 UTC time (what the adapter writes after a refresh). A value
// that does not parse is read as "unknown": the token is then renewed on the first 401 instead of
// shortly before it expires. It is a plain string field so the connect form can be filled from
// whatever the connect route stored.
//
// Settings: shop_id (optional: when absent the adapter asks getMe, GET /v3/application/users/me,
// which answers the token's user_id and shop_id, so the connect form need not ask for it), the
// publishing defaults Etsy requires on every new listing, and the per-call timeout.
import { z } from 'zod';
import { credential, platformId, requestTimeoutMs, secret } from '../fields.ts';
import { CATALOG_SETTINGS, channelSettings } from '../settings.ts';

export const etsyCredentials = z.strictObject({
  keystring: credential('API keystring (Your apps > keystring, the OAuth client_id)'),
  shared_secret: secret('Shared secret'),
  access_token: secret('OAuth access token'),
  refresh_token: secret('OAuth refresh token'),
  access_expires_at: credential('Access token expiry (ISO 8601 UTC time)').optional(),
});

// who_made values from Etsy's createDraftListing reference.
export const WHO_MADE = ['i_did', 'someone_else', 'collective'] as const;

export const etsySettings = channelSettings({
  ...CATALOG_SETTINGS,
  shop_id: z
    .union([platformId, z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)])
    .meta({ title: 'Shop id', description: "The Etsy shop's numeric id; absent = the shop of the connected seller (getMe)" })
    .optional(),
  taxonomy_id: z
    .number()
    .int()
    .min(1)
    .meta({
      title: 'Default category (taxonomy id)',
      description: "Etsy seller taxonomy id for products whose category is not one; absent = 1 (a guess: Etsy's first top-level category)",
    })
    .optional(),
  who_made: z.enum(WHO_MADE).meta({ title: 'Who made it', description: "Etsy's who_made on new listings" }).default('i_did'),
  when_made: z
    .string()
    .regex(/^(made_to_order|\d{4}_\d{4}|before_\d{4}|\d{3}0s)$/, 'an Etsy when_made value such as made_to_order or 2020_2026')
    .meta({ title: 'When it was made', description: "Etsy's when_made on new listings" })
    .default('made_to_order'),
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type EtsySettings = z.output<typeof etsySettings>;
