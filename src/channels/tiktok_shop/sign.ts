// TikTok Shop's request and webhook signatures on StockClerk's side (channel-apis.md section 8;
// the emulator has its own copy, written separately: DESIGN.md invariant 9).
import { hmacSha256 } from '../signing.ts';

/**
 * `sign` query parameter: hex HMAC-SHA256(app_secret, app_secret + path + sorted "{k}{v}" of every
 * query parameter except sign and access_token + raw JSON body + app_secret).
 */
export function signRequest(appSecret: string, path: string, query: Record<string, string>, body: string): string {
  const keys = Object.keys(query)
    .filter((k) => k !== 'sign' && k !== 'access_token')
    .sort();
  let msg = appSecret + path;
  for (const k of keys) msg += k + query[k];
  return hmacSha256(appSecret, msg + body + appSecret, 'hex');
}

/** Webhook `Authorization` header: hex HMAC-SHA256(app_secret, app_key + raw body). */
export function signWebhook(appKey: string, appSecret: string, rawBody: Buffer | string): string {
  return hmacSha256(appSecret, Buffer.concat([Buffer.from(appKey), Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody)]), 'hex');
}
