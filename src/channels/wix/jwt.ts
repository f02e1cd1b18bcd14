// The compact-JWT pieces Wix webhooks need: Wix POSTs a whole JWT (RS256, the app's key pair) as
// the request body. Node's crypto does the RSA work; this file only splits and encodes.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';

const B64URL = /^[A-Za-z0-9_-]*$/;

export interface JwtParts {
  header: string;
  payload: string;
  signature: string;
}

/** Splits `h.p.s`; null when the text is not three base64url segments. */
export function splitJwt(text: string): JwtParts | null {
  const parts = text.trim().split('.');
  if (parts.length !== 3 || !parts.every((p) => B64URL.test(p))) return null;
  const [header, payload, signature] = parts as [string, string, string];
  return { header, payload, signature };
}

export function decodeSegment(seg: string): unknown {
  return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
}

function b64(obj: unknown): string {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

// PEM parsing is the slow part; a channel verifies thousands of webhooks with one key.
const keyCache = new Map<string, KeyObject>();
export function publicKeyFrom(pem: string): KeyObject {
  let k = keyCache.get(pem);
  if (!k) {
    k = createPublicKey(pem);
    if (keyCache.size > 256) keyCache.clear();
    keyCache.set(pem, k);
  }
  return k;
}

/** RS256 compact JWT over `payload` (used by the emulator and by tests forging edge cases). */
export function signJwtRS256(privateKeyPem: string, payload: unknown, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = sign('RSA-SHA256', Buffer.from(input), createPrivateKey(privateKeyPem)).toString('base64url');
  return `${input}.${sig}`;
}
