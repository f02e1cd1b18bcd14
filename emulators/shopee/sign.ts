// Shopee's signatures, written from Shopee's documentation (Open Platform v2 "API calls" and "Push
// Mechanism" pages, channel-apis.md section 8), never from StockClerk's adapter (DESIGN.md 9).
//
// - API call: `sign` = hex HMAC-SHA256(key = partner_key, message = partner_id + api_path +
//   timestamp [+ access_token + shop_id]); public calls (auth) stop after the timestamp.
// - Push: header `Authorization` = hex HMAC-SHA256(key = partner_key, message = callback URL + "|" + raw body).
import { createHmac, timingSafeEqual } from 'node:crypto';

export function apiSign(
  partnerKey: string,
  partnerId: string,
  path: string,
  timestamp: number | string,
  accessToken?: string,
  shopId?: string | number,
): string {
  const base = `${partnerId}${path}${timestamp}${accessToken ?? ''}${shopId ?? ''}`;
  return createHmac('sha256', partnerKey).update(base).digest('hex');
}

export function pushSign(partnerKey: string, callbackUrl: string, rawBody: string): string {
  return createHmac('sha256', partnerKey).update(`${callbackUrl}|${rawBody}`).digest('hex');
}

/** Constant-time comparison of two hex signatures (a different length is simply unequal). */
export function sameSign(a: string, b: string): boolean {
  const x = Buffer.from(a.toLowerCase());
  const y = Buffer.from(b.toLowerCase());
  return x.length === y.length && timingSafeEqual(x, y);
}
