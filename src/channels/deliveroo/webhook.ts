// Deliveroo webhooks in: Order Events (order.new, order.status_update) and the legacy POS
// events (new_order, cancel_order). Signature = lower-case hex HMAC-SHA256 keyed with the
// webhook secret (not the API secret) over `guid + " " + raw body`, or `guid + " \n " + raw body`
// for the legacy events. Deliveroo sends no timestamp, so there is no staleness check: a
// replayed delivery is caught by the (channel, externalEventId) dedupe instead.
import { createHmac } from 'node:crypto';
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { headerValue, safeEqual } from '../signing.ts';
import { parsePlatformJson } from '../json.ts';

const LEGACY_EVENTS: ReadonlySet<string> = new Set(['new_order', 'cancel_order']);

export function deliverooSignature(secret: string, guid: string, rawBody: Buffer, legacy: boolean): string {
  // Over the raw bytes: re-encoding the body as a string could alter non-UTF-8 input.
  return createHmac('sha256', secret)
    .update(`${guid}${legacy ? ' \n ' : ' '}`)
    .update(rawBody)
    .digest('hex');
}

/** The event name decides the signing format; an unreadable body gets the current one (and fails parse later). */
function eventName(rawBody: Buffer): string | null {
  try {
    const ev = (parsePlatformJson(rawBody.toString('utf8')) as { event?: unknown } | null)?.event;
    return typeof ev === 'string' ? ev : null;
  } catch {
    return null;
  }
}

interface OrderBody {
  id?: unknown;
  location_id?: unknown;
  status?: unknown;
  status_log?: unknown;
  items?: unknown;
}

function orderLines(order: OrderBody, required: boolean): Array<{ sku: string | null; qty: number }> {
  if (!Array.isArray(order.items)) {
    if (required) throw new WebhookParseError('order.items must be an array');
    return [];
  }
  return order.items.map((it: { pos_item_id?: unknown; quantity?: unknown }) => {
    const qty = it?.quantity;
    if (typeof qty !== 'number' || !Number.isInteger(qty) || qty <= 0) throw new WebhookParseError('order item quantity must be a positive integer');
    // pos_item_id is the PLU mapped on the menu = our SKU; an unmapped item has none (the Watcher reports it).
    // Modifiers (shape UNCONFIRMED) are not stock lines.
    const sku = typeof it.pos_item_id === 'string' && it.pos_item_id ? it.pos_item_id : null;
    return { sku, qty };
  });
}

/** When the order reached `status`, from its status_log (the documented source of truth). */
function statusAt(order: OrderBody, status: string): string {
  const log = Array.isArray(order.status_log) ? (order.status_log as Array<{ at?: unknown; status?: unknown }>) : [];
  const hit = [...log].reverse().find((e) => e?.status === status && typeof e.at === 'string') ?? log.find((e) => typeof e?.at === 'string');
  // No log: the delivery time is the best we have (occurredAt orders events; it is not a dedupe key).
  return typeof hit?.at === 'string' ? hit.at : new Date().toISOString();
}

export const deliverooWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>): VerifyResult {
    const guid = headerValue(req.headers, 'x-deliveroo-sequence-guid');
    const sig = headerValue(req.headers, 'x-deliveroo-hmac-sha256');
    if (!guid || !sig) return { ok: false, reason: 'missing_signature' };
    const secret = credentials.webhook_secret;
    if (!secret) return { ok: false, reason: 'bad_signature' };
    const legacy = LEGACY_EVENTS.has(eventName(req.rawBody) ?? '');
    const expected = deliverooSignature(secret, guid, req.rawBody, legacy);
    return safeEqual(expected, sig.trim().toLowerCase()) ? { ok: true } : { ok: false, reason: 'bad_signature' };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    let payload: unknown;
    try {
      payload = parsePlatformJson(req.rawBody.toString('utf8'));
    } catch {
      throw new WebhookParseError('body is not JSON');
    }
    if (!payload || typeof payload !== 'object' || Array.isArray(payload)) throw new WebhookParseError('body is not an object');
    const p = payload as { event?: unknown; body?: { order?: OrderBody }; order?: OrderBody; location_id?: unknown };
    const event = typeof p.event === 'string' ? p.event : null;
    const guid = headerValue(req.headers, 'x-deliveroo-sequence-guid') ?? 'none';

    // Order Events nest the order under body.order; legacy POS events carry it at the top level.
    const legacy = event !== null && LEGACY_EVENTS.has(event);
    const isOrderEvent = event === 'order.new' || event === 'order.status_update' || legacy;
    if (!isOrderEvent) {
      // Rider, menu and future events: verified and recorded, nothing to apply.
      const kind = event ?? headerValue(req.headers, 'x-deliveroo-payload-type') ?? 'unknown';
      return [{ kind: 'ignored', externalEventId: `${kind}:${guid}`, occurredAt: new Date().toISOString(), reason: `event ${kind} is not acted on` }];
    }
    const order = legacy ? p.order : p.body?.order;
    if (!order || typeof order !== 'object' || typeof order.id !== 'string' || !order.id) throw new WebhookParseError(`${event}: order.id missing`);
    const orderId = order.id;
    const loc = legacy ? p.location_id : order.location_id;
    const externalLocationId = typeof loc === 'string' || typeof loc === 'number' ? String(loc) : null;

    // Dedupe keys are order id + transition, not the sequence guid: a sale is counted once even if
    // it arrives as both order.new and a legacy new_order, or is re-sent under a new guid.
    if (event === 'order.new' || event === 'new_order') {
      return [
        {
          kind: 'order',
          effect: 'sale',
          externalEventId: `order:${orderId}:new`,
          occurredAt: statusAt(order, 'placed'),
          orderId,
          lines: orderLines(order, true),
          externalLocationId,
        },
      ];
    }
    const status = event === 'cancel_order' ? 'canceled' : order.status;
    if (typeof status !== 'string') throw new WebhookParseError('order.status missing');
    // A rejected order (by the restaurant, or auto-rejected after 10 min) is never made, so its
    // stock comes back like a cancel. Both share one key so an order is given back at most once.
    if (status === 'canceled' || status === 'rejected') {
      // GUESS: status_update carries the full order (items included), like order.new; the docs show one body shape.
      return [
        {
          kind: 'order',
          effect: 'cancel',
          externalEventId: `order:${orderId}:canceled`,
          occurredAt: statusAt(order, status),
          orderId,
          lines: orderLines(order, false),
          externalLocationId,
        },
      ];
    }
    return [
      {
        kind: 'ignored',
        externalEventId: `order:${orderId}:${status}`,
        occurredAt: statusAt(order, status),
        reason: `order status ${status} does not move stock`,
      },
    ];
  },
};
