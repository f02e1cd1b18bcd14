// Signature primitives shared by the webhook verifiers and the emulators that sign.
import { createHmac, timingSafeEqual } from 'node:crypto';

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
