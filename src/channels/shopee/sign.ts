// Shopee's two signatures (channel-apis.md section 8, from Shopee's API-calls and Push-Mechanism
// pages): a call's `sign` query parameter, and the `Authorization` header of a push.
import { createHmac, timingSafeEqual } from 'node:crypto';

/** hex HMAC-SHA256(partner_key, partner_id + api_path + timestamp [+ access_token + shop_id]); public (auth) calls stop after the timestamp. */
export function callSign(partnerKey: string, partnerId: string, apiPath: string, timestamp: number, shop?: { accessToken: string; shopId: string }): string {
  const msg = `${partnerId}${apiPath}${timestamp}${shop ? `${shop.accessToken}${shop.shopId}` : ''}`;
  return createHmac('sha256', partnerKey).update(msg).digest('hex');
}

/** hex HMAC-SHA256(partner_key, callback URL + "|" + raw body). */
export function pushSign(partnerKey: string, url: string, rawBody: Buffer): string {
  return createHmac('sha256', partnerKey).update(`${url}|`).update(rawBody).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a.trim().toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
