// Otter webhooks in. Body: the reference's EventNotification {eventId, eventTime, eventType,
// metadata: {storeId, applicationId, resourceId, resourceHref, payload}}.
//
// Signature. Seed 000 says Otter webhooks are HMAC-SHA1. Otter's own API reference (Public API
// overview, "Webhook": developer-guides.tryotter.com/api-reference, read through the
// api-evangelist/otter mirror) says: "Every webhook is signed using HMAC-SHA256 that is present in
// the header `X-HMAC-SHA256`, and you can also authenticate the requests using Basic Auth, Bearer
// Token or HMAC-SHA1 (legacy)". We follow the reference: X-HMAC-SHA256 = HMAC-SHA256(key = the
// webhook secret, message = the raw body). The seed's SHA-1 is the legacy scheme, still accepted.
// GUESS: the digest encoding (the Webhook Authentication Guide is not in any corpus): base64 or
// hex are both accepted (the same MAC either way). GUESS: a legacy SHA-1 signature arrives as
// `Authorization: MAC <digest>`, the header the reference's example request shows.
// Otter signs no timestamp, so there is no staleness check: a replayed delivery is caught by the
// (channel, externalEventId) dedupe, whose keys are per order (and per event for the rest).
import { createHmac } from 'node:crypto';
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { headerValue, safeEqual } from '../signing.ts';
import { parsePlatformJson } from '../json.ts';

/** The fields of the reference's Order this channel reads. */
export interface OtterOrderBody {
  externalIdentifiers?: { id?: unknown };
  status?: unknown;
  items?: unknown;
  orderedAt?: unknown;
}

function digestMatches(algorithm: 'sha256' | 'sha1', secret: string, rawBody: Buffer, sent: string): boolean {
  const mac = createHmac(algorithm, secret).update(rawBody).digest();
  const s = sent.trim();
  // Both comparisons always run: which encoding matched says nothing about the secret.
  const b64 = safeEqual(mac.toString('base64'), s);
  const hex = safeEqual(mac.toString('hex'), s.toLowerCase());
  return b64 || hex;
}

function orderLines(order: OtterOrderBody, required: boolean): Array<{ externalId: string; qty: number }> {
  if (!Array.isArray(order.items)) {
    if (required) throw new WebhookParseError('order.items must be an array');
    return [];
  }
  return order.items.map((it: { id?: unknown; quantity?: unknown }) => {
    const qty = it?.quantity;
    if (typeof qty !== 'number' || !Number.isInteger(qty) || qty <= 0) throw new WebhookParseError('order item quantity must be a positive integer');
    // GUESS: the line's `id` is the menu item id (the listing's externalId). Modifiers are not stock lines.
    if (typeof it.id !== 'string' || !it.id) throw new WebhookParseError('order item id missing');
    return { externalId: it.id, qty };
  });
}

/**
 * The events one Order stands for, keyed per order so a webhook, its retries and the order feed
 * count it once. A live order is a sale (`order:<id>:new`). A cancelled or rejected order is that
 * sale AND its cancellation (`order:<id>:canceled`): if the sale was counted, its key dedupes and
 * the stock comes back; if it never was (its webhook lost), the pair moves nothing.
 */
export function orderEvents(order: OtterOrderBody, storeId: string | null, when: string): InboundEvent[] {
  const id = order.externalIdentifiers?.id;
  if (typeof id !== 'string' || !id) throw new WebhookParseError('order externalIdentifiers.id missing');
  const orderedAt = typeof order.orderedAt === 'string' && order.orderedAt ? order.orderedAt : when;
  const sale: InboundEvent = {
    kind: 'order',
    effect: 'sale',
    externalEventId: `order:${id}:new`,
    occurredAt: orderedAt,
    orderId: id,
    lines: orderLines(order, true),
    externalLocationId: storeId,
  };
  if (order.status === 'CANCELED' || order.status === 'REJECTED') {
    const at = Number.isFinite(Date.parse(when)) ? when : orderedAt;
    return [sale, { ...sale, effect: 'cancel', externalEventId: `order:${id}:canceled`, occurredAt: at }];
  }
  return [sale];
}

export const otterWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>): VerifyResult {
    const sha256 = headerValue(req.headers, 'x-hmac-sha256');
    const auth = headerValue(req.headers, 'authorization');
    const legacy = auth && /^MAC\s+/i.test(auth) ? auth.replace(/^MAC\s+/i, '') : undefined;
    if (!sha256 && !legacy) return { ok: false, reason: 'missing_signature' };
    const secret = credentials.webhook_secret;
    if (!secret) return { ok: false, reason: 'bad_signature' };
    // The current scheme decides when present; the legacy one only stands alone.
    const ok = sha256 ? digestMatches('sha256', secret, req.rawBody, sha256) : digestMatches('sha1', secret, req.rawBody, legacy!);
    return ok ? { ok: true } : { ok: false, reason: 'bad_signature' };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    let payload: unknown;
    try {
      payload = parsePlatformJson(req.rawBody.toString('utf8'));
    } catch {
      throw new WebhookParseError('body is not JSON');
    }
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new WebhookParseError('body is not an object');
    const p = payload as { eventId?: unknown; eventTime?: unknown; eventType?: unknown; metadata?: { storeId?: unknown; payload?: unknown } };
    const eventType = typeof p.eventType === 'string' ? p.eventType : null;
    const eventId = typeof p.eventId === 'string' || typeof p.eventId === 'number' ? String(p.eventId) : null;
    if (!eventType || !eventId) throw new WebhookParseError('eventId and eventType are required');
    const eventTime = typeof p.eventTime === 'string' && p.eventTime ? p.eventTime : new Date().toISOString();
    const store = p.metadata?.storeId;
    const storeId = typeof store === 'string' || typeof store === 'number' ? String(store) : null;

    // Manager Orders Webhooks: orders.new_order and orders.update carry the full Order.
    if (eventType === 'orders.new_order' || eventType === 'orders.update') {
      const order = p.metadata?.payload;
      if (!order || typeof order !== 'object' || Array.isArray(order)) throw new WebhookParseError(`${eventType}: metadata.payload must be an order`);
      const events = orderEvents(order as OtterOrderBody, storeId, eventTime);
      // A new order is only ever a sale, whatever its status field says.
      if (eventType === 'orders.new_order') return events.slice(0, 1);
      // An update that cancels: the pair (sale, cancel). Any other update moves nothing: the sale
      // is counted from orders.new_order, or from the order feed when that webhook is lost (the
      // feed knows which orders predate the connection; an update does not). GUESS: item edits
      // after placement (PUT .../items) are not followed.
      if (events.length === 2) return events;
      const status = typeof (order as OtterOrderBody).status === 'string' ? String((order as OtterOrderBody).status) : 'unknown';
      return [{ kind: 'ignored', externalEventId: `${eventType}:${eventId}`, occurredAt: eventTime, reason: `order status ${status} does not move stock` }];
    }
    // Everything else (orders.cancel_order intents carry no items; confirm/ready/fulfilled, menus,
    // storefront, ping): verified and recorded, nothing to apply. Stock comes back on the
    // orders.update that says CANCELED, which carries the items.
    return [{ kind: 'ignored', externalEventId: `${eventType}:${eventId}`, occurredAt: eventTime, reason: `event ${eventType} is not acted on` }];
  },
};
