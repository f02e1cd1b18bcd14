// How Wix signs a webhook (channel-apis.md section 2, "Webhooks"): the whole POST body is a
// compact JWT, RS256 with the app's RSA key pair (the app dashboard shows the public half).
// Written here from the JWT/JWS format itself (RFC 7515 compact serialisation: base64url of the
// header, ".", base64url of the payload, ".", base64url of the RSASSA-PKCS1-v1_5 SHA-256
// signature over the first two parts), with node:crypto doing the RSA.
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** An app key pair as Wix issues it. Hand the public PEM to the channel as `public_key`. */
export function generateWixKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

const keys = new Map<string, KeyObject>();
function privateKey(pem: string): KeyObject {
  let k = keys.get(pem);
  if (!k) {
    k = createPrivateKey(pem);
    if (keys.size > 256) keys.clear();
    keys.set(pem, k);
  }
  return k;
}

const segment = (obj: unknown) => Buffer.from(JSON.stringify(obj), 'utf8').toString('base64url');

export function jwtRs256(privateKeyPem: string, payload: unknown): string {
  const input = `${segment({ alg: 'RS256', typ: 'JWT' })}.${segment(payload)}`;
  const sig = sign('sha256', Buffer.from(input, 'ascii'), privateKey(privateKeyPem)).toString('base64url');
  return `${input}.${sig}`;
}
