// Signature primitives shared by the webhook verifiers and the emulators that sign.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export function hmacSha256(key: string | Buffer, data: string | Buffer, encoding: 'hex' | 'base64'): string {
  return createHmac('sha256', key).update(data).digest(encoding);
}

/** Constant-time string comparison; false (not a throw) on different lengths. */
export function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

// Standard Webhooks (standardwebhooks.com): headers webhook-id, webhook-timestamp (unix seconds)
// and webhook-signature, a space-separated list of "v1,<base64 HMAC-SHA256 of id.timestamp.body>";
// the secret is "whsec_" + base64 key bytes. Shared by inbound verifiers (Vendure plugin) and
// StockClerk's own outbound webhooks.

/** Standard Webhooks allows five minutes either way by default. */
export const STANDARD_WEBHOOK_TOLERANCE_S = 5 * 60;

function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/** A new signing secret in the Standard Webhooks format. */
export function newStandardWebhookSecret(bytes = 24): string {
  return `whsec_${randomBytes(bytes).toString('base64')}`;
}

export function signStandardWebhook(secret: string, id: string, timestampS: number, body: string | Buffer): string {
  const mac = createHmac('sha256', standardKey(secret)).update(`${id}.${timestampS}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** Headers for one delivery. */
export function standardWebhookHeaders(secret: string, id: string, body: string | Buffer, now = new Date()): Record<string, string> {
  const ts = Math.floor(now.getTime() / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(ts), 'webhook-signature': signStandardWebhook(secret, id, ts, body) };
}

export function verifyStandardWebhook(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  secret: string | undefined,
  now: Date,
  toleranceS = STANDARD_WEBHOOK_TOLERANCE_S,
): { ok: true } | { ok: false; reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' } {
  const id = headerValue(headers, 'webhook-id');
  const ts = headerValue(headers, 'webhook-timestamp');
  const sigs = headerValue(headers, 'webhook-signature');
  if (!id || !ts || !sigs) return { ok: false, reason: 'missing_signature' };
  if (!secret) return { ok: false, reason: 'bad_signature' };
  const t = Number(ts);
  if (!/^\d{1,12}$/.test(ts) || Math.abs(now.getTime() / 1000 - t) > toleranceS) return { ok: false, reason: 'stale_timestamp' };
  const expected = signStandardWebhook(secret, id, t, rawBody);
  // Several signatures may be sent during secret rotation: any valid v1 one is enough.
  const ok = sigs.split(' ').some((s) => s.startsWith('v1,') && safeEqual(s, expected));
  return ok ? { ok: true } : { ok: false, reason: 'bad_signature' };
}
