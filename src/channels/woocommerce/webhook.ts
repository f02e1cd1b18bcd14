// WooCommerce webhooks in, verified as WooCommerce signs them (core WC_Webhook::generate_signature;
// channel-apis.md section 5): X-WC-Webhook-Signature = base64(HMAC-SHA256(key = the webhook's
// secret, message = the raw body as sent)), compared in constant time. The secret is the one the
// merchant typed into the webhook (core HTML-decodes its stored copy before signing, giving back
// what was typed).
//
// WooCommerce sends no timestamp, so nothing can be refused as stale. Replays and duplicates are
// handled by the event ids instead: an order's sale is `order:<id>` and its return
// `order:<id>:cancel` whatever delivered them (order.created, order.updated, a replay of either, or
// the order poll), so the same order never moves stock twice. X-WC-Webhook-Delivery-ID is NOT a
// safe key on its own: core derives it from the webhook id and the current second, so two
// different deliveries of one webhook within a second share it; it only names ignored deliveries
// (with a digest of the body).
//
// On creation WooCommerce pings the URL with an unsigned form post `webhook_id=N` that must be
// answered 200: it is accepted and nothing is stored.
import { createHash } from 'node:crypto';
import { WebhookParseError, type InboundEvent, type IncomingWebhook, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { parsePlatformJson } from '../json.ts';
import { hmacSha256, headerValue, safeEqual } from '../signing.ts';
import { ApiOrder, orderEvents } from './model.ts';

const PING = /^webhook_id=\d{1,20}$/;
/**
 * A sale is taken from a webhook only when WooCommerce took the stock this recently. GUESS: 15
 * minutes covers Action Scheduler's usual delay; older ones (a merchant completing an order placed
 * before StockClerk was connected, a delivery held up for long) are left to the order poll, which
 * counts everything paid since it began and nothing before.
 */
const FRESH_S = 15 * 60;

/** WooCommerce's creation ping: no topic, no signature, body `webhook_id=N`. */
function isPing(req: IncomingWebhook): boolean {
  return headerValue(req.headers, 'x-wc-webhook-topic') === undefined && PING.test(req.rawBody.toString('utf8').trim());
}

function deliveryKey(req: IncomingWebhook): string {
  const hook = headerValue(req.headers, 'x-wc-webhook-id') ?? '?';
  const delivery = headerValue(req.headers, 'x-wc-webhook-delivery-id') ?? '?';
  return `delivery:${hook}:${delivery}:${createHash('sha256').update(req.rawBody).digest('hex').slice(0, 16)}`;
}

function readJson(req: IncomingWebhook, topic: string): unknown {
  try {
    return parsePlatformJson(req.rawBody.toString('utf8'));
  } catch {
    throw new WebhookParseError(`${topic}: body is not JSON`);
  }
}

export const woocommerceWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>): VerifyResult {
    const sig = headerValue(req.headers, 'x-wc-webhook-signature');
    if (!sig) return isPing(req) ? { ok: true } : { ok: false, reason: 'missing_signature' };
    const secret = credentials.webhook_secret;
    if (!secret) return { ok: false, reason: 'bad_signature' };
    return safeEqual(hmacSha256(secret, req.rawBody, 'base64'), sig.trim()) ? { ok: true } : { ok: false, reason: 'bad_signature' };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    const topic = headerValue(req.headers, 'x-wc-webhook-topic');
    if (topic === undefined) {
      if (isPing(req)) return [];
      throw new WebhookParseError('missing X-WC-Webhook-Topic');
    }
    const occurredAt = new Date().toISOString();
    if (topic === 'order.created' || topic === 'order.updated' || topic === 'order.restored') {
      const r = ApiOrder.safeParse(readJson(req, topic));
      if (!r.success) throw new WebhookParseError(`${topic}: unexpected body: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
      const events = orderEvents(r.data, Math.floor(Date.now() / 1000) - FRESH_S);
      if (events.length) return events;
      return [
        { kind: 'ignored', externalEventId: deliveryKey(req), occurredAt, reason: `order ${r.data.id} is ${r.data.status}: no stock change to take from it` },
      ];
    }
    readJson(req, topic); // a garbled body is reported, not silently recorded
    // GUESS: trashing or deleting an order gives no stock back in WooCommerce (cancelling does, and arrives as order.updated).
    return [{ kind: 'ignored', externalEventId: deliveryKey(req), occurredAt, reason: `topic ${topic} not used` }];
  },
};
