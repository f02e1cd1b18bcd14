// eBay's Notification API side: signed JSON notifications, the public key that verifies them,
// the endpoint-validation challenge, and destinations / subscriptions.
// Signing follows eBay's own verifier (github.com/eBay/event-notification-nodejs-sdk,
// lib/validator.js): X-EBAY-SIGNATURE = base64(JSON {alg: "ecdsa", kid, signature, digest:
// "SHA1"}); the verifier fetches GET /commerce/notification/v1/public_key/{kid} with an
// application token, wraps `key` in PEM line breaks, and checks the DER ECDSA signature
// (base64) with SHA-1 over JSON.stringify(parsed body). The body is sent as exactly that string.
// Challenge (same SDK, validateEndpoint): hex SHA-256 of challengeCode + verificationToken + endpoint.
import { createHash, randomUUID, sign } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { EbayAccount, Order } from './account.ts';
import { jsonBody, origin, requireApp, requireUser, tokenOf } from './context.ts';
import { accessDenied, EbayError } from './errors.ts';
import type { Destination, Platform } from './platform.ts';

const BASE = '/commerce/notification/v1';
/** Documented seller topic (asyncapi/order_confirmation.yaml): one notification per order line item. */
export const ORDER_CONFIRMATION = 'ORDER_CONFIRMATION';
const TOPICS = new Set([ORDER_CONFIRMATION, 'MARKETPLACE_ACCOUNT_DELETION']);

// GUESS: the Notification API's errorIds other than 195000 (system error) were not readable here.
const notif = (status: number, errorId: number, message: string) =>
  new EbayError(status, [{ errorId, domain: 'API_NOTIFICATION', category: 'REQUEST', message }]);

/** The key as getPublicKey returns it: PEM armour with no line breaks (eBay's SDK re-inserts them). */
export function publicKeyResponse(platform: Platform): { key: string; algorithm: string; digest: string } {
  const b64 = platform.signingKey.publicKey.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  return { key: `-----BEGIN PUBLIC KEY-----${b64}-----END PUBLIC KEY-----`, algorithm: 'ECDSA', digest: 'SHA1' };
}

export function signatureHeader(platform: Platform, body: string): string {
  const signature = sign('sha1', Buffer.from(body, 'utf8'), platform.signingKey.privateKey).toString('base64');
  return Buffer.from(JSON.stringify({ alg: 'ecdsa', kid: platform.signingKey.kid, signature, digest: 'SHA1' }), 'utf8').toString('base64');
}

export function challengeResponse(code: string, verificationToken: string, endpoint: string): string {
  return createHash('sha256').update(code).update(verificationToken).update(endpoint).digest('hex');
}

/**
 * eBay's endpoint validation: GET <endpoint>?challenge_code=..., expecting 200 and
 * {"challengeResponse": hex} (marketplace-account-deletion page; eBay's SDK computes it).
 */
export async function validateEndpoint(
  endpoint: string,
  verificationToken: string,
): Promise<{ ok: boolean; expected: string; got: string | null; status: number | null }> {
  const code = randomUUID().replace(/-/g, '');
  const expected = challengeResponse(code, verificationToken, endpoint);
  const url = new URL(endpoint);
  url.searchParams.set('challenge_code', code);
  try {
    const res = await fetch(url, { method: 'GET', headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    let got: string | null = null;
    try {
      got = (JSON.parse(text) as { challengeResponse?: string }).challengeResponse ?? null;
    } catch {
      got = null;
    }
    return { ok: res.status === 200 && got === expected, expected, got, status: res.status };
  } catch {
    return { ok: false, expected, got: null, status: null };
  }
}

/** Posts one signed notification (the kit's deliveries add delay, duplicates and retries). */
export function sendNotification(
  emu: Emulator<EbayAccount>,
  platform: Platform,
  acc: EbayAccount,
  url: string,
  topic: string,
  data: unknown,
  eventDate: string,
): void {
  const message = {
    metadata: { topic, schemaVersion: '1.0', deprecated: false },
    notification: {
      notificationId: `${randomUUID()}_${randomUUID()}`,
      eventDate,
      publishDate: new Date().toISOString(),
      // GUESS: retries of one notification keep the count at 1 (the body is signed once).
      publishAttemptCount: 1,
      data,
    },
  };
  const body = JSON.stringify(message);
  emu.sendWebhook(acc, { url, headers: { 'content-type': 'application/json', 'x-ebay-signature': signatureHeader(platform, body) }, body });
}

/** Where the account's ORDER_CONFIRMATION notifications go: its subscriptions, plus the control API's target. */
function targets(acc: EbayAccount, platform: Platform, topic: string): string[] {
  const urls = new Set<string>();
  for (const s of acc.subscriptions.values()) {
    const d = platform.destinations.get(s.destinationId);
    if (s.topicId === topic && s.status === 'ENABLED' && d?.status === 'ENABLED') urls.add(d.endpoint);
  }
  if (acc.webhookUrl) urls.add(acc.webhookUrl);
  return [...urls];
}

/**
 * A sale's notifications. Documented: one ORDER_CONFIRMATION per line item; the seller then
 * reads the order with getOrders using the orderId. GUESS: the data fields besides orderId.
 */
export function notifyOrder(emu: Emulator<EbayAccount>, platform: Platform, acc: EbayAccount, order: Order): void {
  const urls = targets(acc, platform, ORDER_CONFIRMATION);
  for (const line of order.lineItems) {
    const data = {
      orderId: order.orderId,
      legacyOrderId: order.legacyOrderId,
      lineItemId: line.lineItemId,
      listingId: line.legacyItemId,
      sellerId: acc.username,
    };
    for (const url of urls) sendNotification(emu, platform, acc, url, ORDER_CONFIRMATION, data, order.creationDate);
  }
}

const destinationJson = (d: Destination) => ({
  destinationId: d.destinationId,
  name: d.name,
  status: d.status,
  deliveryConfig: { endpoint: d.endpoint, verificationToken: d.verificationToken },
});

export function installNotifications(app: FastifyInstance, emu: Emulator<EbayAccount>, platform: Platform): void {
  app.get(`${BASE}/public_key/:kid`, async (req) => {
    // Documented: getPublicKey needs an application access token (client credentials grant).
    requireApp(req);
    const { kid } = req.params as { kid: string };
    if (kid !== platform.signingKey.kid) throw notif(404, 195001, `Public key ${kid} not found.`);
    return publicKeyResponse(platform);
  });

  // Destinations belong to the application (documented: created with a client-credentials token).
  app.post(`${BASE}/destination`, async (req, reply) => {
    requireApp(req);
    const b = jsonBody(req) as { name?: unknown; status?: unknown; deliveryConfig?: { endpoint?: unknown; verificationToken?: unknown } };
    const endpoint = b.deliveryConfig?.endpoint;
    const token = b.deliveryConfig?.verificationToken;
    if (typeof endpoint !== 'string' || !/^https?:\/\//.test(endpoint)) throw notif(400, 195003, 'Please provide a valid endpoint.');
    // GUESS: the verification token rule (32-80 characters of [A-Za-z0-9_-]) is the marketplace-account-deletion page's as we remember it.
    if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{32,80}$/.test(token)) throw notif(400, 195004, 'Please provide a valid verification token.');
    // eBay verifies the endpoint before accepting it.
    const check = await validateEndpoint(endpoint, token);
    if (!check.ok) throw notif(400, 195005, `Challenge verification failed for endpoint ${endpoint}.`);
    const d: Destination = {
      destinationId: randomUUID(),
      clientId: tokenOf(req)!.clientId,
      name: typeof b.name === 'string' ? b.name : 'destination',
      status: b.status === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      endpoint,
      verificationToken: token,
    };
    platform.destinations.set(d.destinationId, d);
    emu.touch();
    return reply
      .code(201)
      .header('location', `${origin(req)}${BASE}/destination/${d.destinationId}`)
      .send();
  });

  app.get(`${BASE}/destination`, async (req) => {
    requireApp(req);
    const mine = [...platform.destinations.values()].filter((d) => d.clientId === tokenOf(req)!.clientId);
    return { total: mine.length, href: `${origin(req)}${req.url}`, limit: mine.length, destinations: mine.map(destinationJson) };
  });

  app.get(`${BASE}/destination/:id`, async (req) => {
    requireApp(req);
    const d = platform.destinations.get((req.params as { id: string }).id);
    if (!d || d.clientId !== tokenOf(req)!.clientId) throw notif(404, 195006, 'Destination not found.');
    return destinationJson(d);
  });

  app.delete(`${BASE}/destination/:id`, async (req, reply) => {
    requireApp(req);
    const d = platform.destinations.get((req.params as { id: string }).id);
    if (!d || d.clientId !== tokenOf(req)!.clientId) throw notif(404, 195006, 'Destination not found.');
    platform.destinations.delete(d.destinationId);
    return reply.code(204).send();
  });

  // ORDER_CONFIRMATION is a user topic: subscribed with the seller's user token.
  const SUB_SCOPES = ['https://api.ebay.com/oauth/api_scope/commerce.notification.subscription'];
  app.post(`${BASE}/subscription`, async (req, reply) => {
    const t = tokenOf(req);
    if (!t) throw accessDenied();
    requireUser(req, SUB_SCOPES);
    const acc = emu.account(req);
    const b = jsonBody(req) as { topicId?: unknown; status?: unknown; destinationId?: unknown; payload?: Record<string, unknown> };
    if (typeof b.topicId !== 'string' || !TOPICS.has(b.topicId)) throw notif(400, 195007, 'Invalid topicId.');
    const d = typeof b.destinationId === 'string' ? platform.destinations.get(b.destinationId) : undefined;
    if (!d || d.clientId !== t.clientId) throw notif(400, 195008, 'Invalid destinationId.');
    const subscriptionId = randomUUID();
    acc.subscriptions.set(subscriptionId, {
      subscriptionId,
      topicId: b.topicId,
      status: b.status === 'DISABLED' ? 'DISABLED' : 'ENABLED',
      destinationId: d.destinationId,
      payload: b.payload ?? { format: 'JSON', schemaVersion: '1.0', deliveryProtocol: 'HTTPS' },
    });
    return reply
      .code(201)
      .header('location', `${origin(req)}${BASE}/subscription/${subscriptionId}`)
      .send();
  });

  app.get(`${BASE}/subscription`, async (req) => {
    requireUser(req, [...SUB_SCOPES, `${SUB_SCOPES[0]}.readonly`]);
    const subs = [...emu.account(req).subscriptions.values()];
    return { total: subs.length, href: `${origin(req)}${req.url}`, limit: subs.length, subscriptions: subs };
  });

  app.delete(`${BASE}/subscription/:id`, async (req, reply) => {
    requireUser(req, SUB_SCOPES);
    const acc = emu.account(req);
    if (!acc.subscriptions.delete((req.params as { id: string }).id)) throw notif(404, 195009, 'Subscription not found.');
    return reply.code(204).send();
  });
}
