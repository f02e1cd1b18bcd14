// What connecting a Shopee shop takes. Credentials: the partner app's partner_id and partner_key
// (every call is signed with the key), the shop_id the authorisation answered, and the shop's token
// pair (access 4 h, refresh 30 days; a refresh hands out a new pair). `access_expires_at` is an
// ISO 8601 UTC time the adapter writes after a refresh; unreadable = renew on the first refusal.
import { z } from 'zod';
import { credential, requestTimeoutMs, secret } from '../fields.ts';
import { channelSettings } from '../settings.ts';

export const shopeeCredentials = z.strictObject({
  partner_id: credential('Partner id (Open Platform app)'),
  partner_key: secret('Partner key'),
  shop_id: credential('Shop id'),
  access_token: secret('Access token'),
  refresh_token: secret('Refresh token'),
  access_expires_at: credential('Access token expiry (ISO 8601 UTC time)').optional(),
});

export const shopeeSettings = channelSettings({
  request_timeout_ms: requestTimeoutMs(10_000),
});

export type ShopeeSettings = z.output<typeof shopeeSettings>;
