// TikTok Shop's request and webhook signatures, written on the platform's side from its
// documentation (channel-apis.md section 8; Partner Center "Sign your API request"): never
// imported from StockClerk's adapter (DESIGN.md invariant 9).
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Request sign: hex HMAC-SHA256 keyed with the app secret over
 * app_secret + path + every query parameter but `sign` and `access_token`, sorted by name, as
 * `{name}{value}` + the raw body (non-multipart) + app_secret.
 */
export function requestSign(appSecret: string, path: string, query: Record<string, string>, rawBody: string): string {
  const params = Object.keys(query)
    .filter((k) => k !== 'sign' && k !== 'access_token')
    .sort()
    .map((k) => `${k}${query[k]}`)
    .join('');
  return createHmac('sha256', appSecret).update(`${appSecret}${path}${params}${rawBody}${appSecret}`).digest('hex');
}

/** Webhook `Authorization` header: hex HMAC-SHA256(app_secret, app_key + raw body). */
export function webhookSign(appKey: string, appSecret: string, rawBody: string): string {
  return createHmac('sha256', appSecret).update(`${appKey}${rawBody}`).digest('hex');
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
