// Verifying StockClerk's webhooks (Standard Webhooks: standardwebhooks.com). Headers webhook-id,
// webhook-timestamp (unix seconds) and webhook-signature, a space-separated list of
// "v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>"; the secret is "whsec_" + base64 key.
// The same algorithm as the server's src/channels/signing.ts, copied (the SDK stands alone); a test
// checks that the two agree.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const WEBHOOK_TOLERANCE_S = 5 * 60;

export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export type WebhookVerification = { ok: true } | { ok: false; reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' };

function key(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const h = headers as Record<string, string | string[] | undefined>;
  const v = h[name] ?? h[Object.keys(h).find((k) => k.toLowerCase() === name) ?? ''];
  return Array.isArray(v) ? v[0] : v;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** The `v1,<base64>` signature of one delivery. */
export function signWebhook(secret: string, id: string, timestampS: number, body: string | Uint8Array): string {
  return `v1,${createHmac('sha256', key(secret)).update(`${id}.${timestampS}.`).update(body).digest('base64')}`;
}

/**
 * Checks a delivery's signature against the RAW body (the bytes received, before any JSON
 * parsing). During a secret rotation several signatures are sent: any valid one is enough.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  rawBody: string | Uint8Array,
  opts: { now?: Date; toleranceS?: number } = {},
): WebhookVerification {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) return { ok: false, reason: 'missing_signature' };
  const now = (opts.now ?? new Date()).getTime() / 1000;
  const t = Number(ts);
  if (!/^\d{1,12}$/.test(ts) || Math.abs(now - t) > (opts.toleranceS ?? WEBHOOK_TOLERANCE_S)) return { ok: false, reason: 'stale_timestamp' };
  const expected = signWebhook(secret, id, t, rawBody);
  return sigs.split(' ').some((s) => s.startsWith('v1,') && safeEqual(s, expected)) ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
