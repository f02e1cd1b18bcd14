// eBay notifications in (Notification API; channel-apis.md section 7). Verified as eBay's own
// event-notification-nodejs-sdk does (lib/validator.js): X-EBAY-SIGNATURE is base64 JSON
// {alg, kid, signature, digest}; the public key for `kid` comes from
// GET /commerce/notification/v1/public_key/{kid} with an APPLICATION token (client_credentials),
// PEM armour without line breaks that we re-wrap, cached per kid; the DER ECDSA signature
// (base64) is checked with SHA-1 over the body.
// Endpoint validation: GET <endpoint>?challenge_code=X answered with
// {challengeResponse: hex SHA-256(challengeCode + verificationToken + endpoint)}.
//
// ORDER_CONFIRMATION carries the orderId and no line items (documented: "The seller looks up the
// orderId from the notification and then issues a GetOrders call"). An order event without its
// lines would be recorded under `order:<orderId>`, and the poll's complete event with the same id
// would then be dropped as a duplicate: the sale would be lost. So once a notification is
// verified, verify() reads that order with the seller's token (getOrder) and parse() emits the
// order's real lines under `order:<orderId>`, exactly as pollEvents does: whichever path sees the
// order first records it, the other is a duplicate. Where the order cannot be read in time
// (eBay down, token refused), parse() records the notification as `ignored` under its own
// notification id, and the order poll (same key as always) applies the sale. No line is invented.
import { createHash, createPublicKey, createVerify, type KeyObject } from 'node:crypto';
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { basicAuth, httpCall } from '../http-client.ts';
import { trimBase } from '../adapter-kit.ts';
import { headerValue } from '../signing.ts';
import { orderEvents, type ApiOrder } from './adapter.ts';
import { EbaySession } from './client.ts';
import { parsePlatformJson } from '../json.ts';

export const SIGNATURE_HEADER = 'x-ebay-signature';
export const ORDER_CONFIRMATION = 'ORDER_CONFIRMATION';
/** Public keys rarely change; eBay's SDK caches them (channel-apis.md: ~1 h). */
const KEY_TTL_MS = 60 * 60_000;
/** How long a verified notification's order waits for parse() (the same request, moments later). */
const ORDER_TTL_MS = 60_000;
const TIMEOUT_MS = 10_000;

const keys = new Map<string, { key: KeyObject; at: number }>();
const appTokens = new Map<string, { token: string; until: number }>();
const orders = new Map<string, { order: ApiOrder; at: number }>();

/** Test hook: forget cached keys, application tokens and orders. */
export function clearEbayWebhookCaches(): void {
  keys.clear();
  appTokens.clear();
  orders.clear();
}

async function appToken(base: string, clientId: string, secret: string): Promise<string> {
  const k = `${base}|${clientId}`;
  const hit = appTokens.get(k);
  if (hit && hit.until > Date.now()) return hit.token;
  const res = await httpCall({
    method: 'POST',
    url: `${base}/identity/v1/oauth2/token`,
    headers: { authorization: basicAuth(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'https://api.ebay.com/oauth/api_scope' }).toString(),
    timeoutMs: TIMEOUT_MS,
  });
  const t = res.json<{ access_token: string; expires_in?: number }>();
  appTokens.set(k, { token: t.access_token, until: Date.now() + ((t.expires_in ?? 7200) - 300) * 1000 });
  return t.access_token;
}

async function publicKey(base: string, kid: string, creds: Record<string, string>): Promise<KeyObject> {
  const k = `${base}|${kid}`;
  const hit = keys.get(k);
  if (hit && Date.now() - hit.at < KEY_TTL_MS) return hit.key;
  if (!creds.client_id || !creds.client_secret) throw new Error('no application keys');
  const token = await appToken(base, creds.client_id, creds.client_secret);
  const res = await httpCall({
    method: 'GET',
    url: `${base}/commerce/notification/v1/public_key/${encodeURIComponent(kid)}`,
    headers: { authorization: `Bearer ${token}` },
    timeoutMs: TIMEOUT_MS,
  });
  const raw = res.json<{ key?: string }>().key ?? '';
  // eBay serves the PEM without line breaks; the SDK puts them back before using it.
  const b64 = raw.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  const pem = `-----BEGIN PUBLIC KEY-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PUBLIC KEY-----\n`;
  const key = createPublicKey(pem);
  keys.set(k, { key, at: Date.now() });
  return key;
}

interface SignatureHeader {
  alg?: string;
  kid?: string;
  signature?: string;
  digest?: string;
}

interface Message {
  metadata?: { topic?: string };
  notification?: { notificationId?: string; eventDate?: string; data?: { orderId?: string } };
}

function readMessage(raw: Buffer): Message {
  try {
    const m = parsePlatformJson(raw.toString('utf8')) as unknown;
    if (m && typeof m === 'object' && !Array.isArray(m)) return m as Message;
  } catch {
    /* below */
  }
  throw new WebhookParseError('eBay notification body is not a JSON object');
}

/**
 * The order a verified notification announced is kept under the notification's own bytes (signed
 * by eBay, unique by notificationId), not under the orderId: parse() has no credentials, and two
 * sellers' order ids must never meet in this cache (tenant isolation).
 */
const bodyKey = (raw: Buffer): string => createHash('sha256').update(raw).digest('hex');

function prune(now: number): void {
  for (const [k, v] of orders) if (now - v.at > ORDER_TTL_MS) orders.delete(k);
}

export const ebayWebhook: WebhookHandler = {
  async verify(req: IncomingWebhook, credentials: Record<string, string>, _now: Date, channel?: { baseUrl: string }): Promise<VerifyResult> {
    const header = headerValue(req.headers, SIGNATURE_HEADER);
    if (!header) return { ok: false, reason: 'missing_signature' };
    let sig: SignatureHeader;
    try {
      sig = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as SignatureHeader;
    } catch {
      return { ok: false, reason: 'bad_signature' };
    }
    if (!sig || typeof sig.kid !== 'string' || typeof sig.signature !== 'string' || String(sig.alg).toLowerCase() !== 'ecdsa') {
      return { ok: false, reason: 'bad_signature' };
    }
    const base = trimBase(channel?.baseUrl ?? 'https://api.ebay.com');
    let key: KeyObject;
    try {
      key = await publicKey(base, sig.kid, credentials);
    } catch {
      // No key, no proof: refused (eBay retries a refused notification).
      return { ok: false, reason: 'bad_signature' };
    }
    const digest = (sig.digest ?? 'SHA1').toLowerCase() === 'sha1' ? 'sha1' : null;
    if (!digest) return { ok: false, reason: 'bad_signature' };
    const check = (data: Buffer | string) => {
      try {
        return createVerify(digest).update(data).verify(key, sig.signature!, 'base64');
      } catch {
        return false;
      }
    };
    // The raw body; else the SDK's own form, JSON.stringify of the parsed body (what eBay signs).
    let ok = check(req.rawBody);
    let message: Message | null;
    try {
      message = parsePlatformJson(req.rawBody.toString('utf8')) as Message;
    } catch {
      message = null;
    }
    if (!ok && message) ok = check(JSON.stringify(message));
    if (!ok) return { ok: false, reason: 'bad_signature' };

    // Genuine: fetch the order it announces (see the header comment).
    const orderId = message?.metadata?.topic === ORDER_CONFIRMATION ? message.notification?.data?.orderId : undefined;
    const noticeKey = bodyKey(req.rawBody);
    if (orderId && !orders.has(noticeKey)) {
      try {
        const session = new EbaySession(base, credentials, TIMEOUT_MS);
        const { body } = await session.call({ method: 'GET', url: `/sell/fulfillment/v1/order/${encodeURIComponent(orderId)}` });
        const order = body as ApiOrder;
        if (order?.orderId === orderId) {
          prune(Date.now());
          orders.set(noticeKey, { order, at: Date.now() });
        }
      } catch {
        // Left to the order poll.
      }
    }
    return { ok: true };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    const m = readMessage(req.rawBody);
    const n = m.notification;
    const id = n?.notificationId;
    if (typeof id !== 'string' || !id) throw new WebhookParseError('eBay notification without notificationId');
    const occurredAt = typeof n?.eventDate === 'string' ? n.eventDate : new Date().toISOString();
    const topic = m.metadata?.topic ?? 'unknown';
    if (topic !== ORDER_CONFIRMATION) return [{ kind: 'ignored', externalEventId: `notification:${id}`, occurredAt, reason: `topic ${topic}` }];
    const orderId = n?.data?.orderId;
    if (typeof orderId !== 'string' || !orderId) throw new WebhookParseError('ORDER_CONFIRMATION without data.orderId');
    const hit = orders.get(bodyKey(req.rawBody));
    if (hit?.order.orderId === orderId) return orderEvents(hit.order);
    return [
      { kind: 'ignored', externalEventId: `notification:${id}`, occurredAt, reason: `order ${orderId} could not be read now; the order poll applies it` },
    ];
  },

  challenge(query, credentials, url) {
    const code = query.challenge_code;
    const token = credentials.verification_token;
    if (!code || !token) return null;
    return { challengeResponse: createHash('sha256').update(code).update(token).update(url).digest('hex') };
  },
};
