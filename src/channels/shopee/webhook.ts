// Shopee pushes in (Push Mechanism page; channel-apis.md section 8). Verified as Shopee documents:
// header `Authorization` = hex HMAC-SHA256(partner_key, callback URL + "|" + raw body), compared in
// constant time. GUESS: Shopee documents no freshness rule for pushes; the body's `timestamp` is
// held to the same 5 minutes as API calls, so a captured push cannot be replayed later (a push
// Shopee retries after that is refused, and the order poll picks its order up).
//
// A push only says something changed (code 3: order {ordersn, status}); it is not trusted for the
// lines. Once verified, the order is read through the API (get_order_detail) with the stored token
// pair, and parse() emits the same events, under the same ids (`order:<order_sn>`), as the order
// poll: whichever path sees the order first records it, the other is a duplicate. When the order
// cannot be read now (Shopee down, the token due for renewal), the push is recorded as `ignored`
// under its own id and the poll applies the order. No line is ever taken from the push body.
import { createHash } from 'node:crypto';
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { headerValue } from '../signing.ts';
import { loadSettings } from '../settings.ts';
import { orderEvents, ShopeeAdapter } from './adapter.ts';
import type { OrderDetail } from './model.ts';
import { shopeeSettings } from './settings.ts';
import { pushSign, sameHex } from './sign.ts';
import { parsePlatformJson } from '../json.ts';

/** Push codes (Push Mechanism page): 3 = order status update. */
export const ORDER_STATUS_PUSH = 3;
const TOLERANCE_S = 300;
/** How long a verified push's order waits for parse() (the same request, moments later). */
const ORDER_TTL_MS = 60_000;

/** Orders read for verified pushes, keyed by the push's own bytes (parse() has no credentials; two shops' orders never meet). */
const orders = new Map<string, { order: OrderDetail; at: number }>();
const bodyKey = (raw: Buffer) => createHash('sha256').update(raw).digest('hex');

export function clearShopeeWebhookCache(): void {
  orders.clear();
}

interface Push {
  shop_id?: number;
  code?: number;
  timestamp?: number;
  data?: { ordersn?: string; status?: string; update_time?: number };
}

function readPush(raw: Buffer): Push {
  try {
    const m = parsePlatformJson(raw.toString('utf8')) as unknown;
    if (m && typeof m === 'object' && !Array.isArray(m)) return m as Push;
  } catch {
    /* below */
  }
  throw new WebhookParseError('Shopee push body is not a JSON object');
}

export const shopeeWebhook: WebhookHandler = {
  async verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date, channel?: { baseUrl: string }): Promise<VerifyResult> {
    const sig = headerValue(req.headers, 'authorization');
    if (!sig) return { ok: false, reason: 'missing_signature' };
    if (!credentials.partner_key || !sameHex(sig, pushSign(credentials.partner_key, req.url, req.rawBody))) return { ok: false, reason: 'bad_signature' };
    let push: Push;
    try {
      push = readPush(req.rawBody);
    } catch {
      return { ok: false, reason: 'bad_signature' };
    }
    if (typeof push.timestamp !== 'number' || Math.abs(now.getTime() / 1000 - push.timestamp) > TOLERANCE_S) return { ok: false, reason: 'stale_timestamp' };
    // Another shop's push signed with the same partner key is not this channel's.
    if (push.shop_id !== undefined && credentials.shop_id && String(push.shop_id) !== credentials.shop_id) return { ok: false, reason: 'bad_signature' };

    const sn = push.code === ORDER_STATUS_PUSH ? push.data?.ordersn : undefined;
    const key = bodyKey(req.rawBody);
    if (sn && channel && !orders.has(key)) {
      try {
        const adapter = new ShopeeAdapter({ channelId: '', baseUrl: channel.baseUrl, credentials, settings: loadSettings(shopeeSettings, {}) }, Date.now, {
          renew: false,
        });
        const order = (await adapter.orderDetails([sn]))[0];
        if (order?.order_sn === sn) {
          for (const [k, v] of orders) if (Date.now() - v.at > ORDER_TTL_MS) orders.delete(k);
          orders.set(key, { order, at: Date.now() });
        }
      } catch {
        // Left to the order poll.
      }
    }
    return { ok: true };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    const p = readPush(req.rawBody);
    const occurredAt = new Date((typeof p.timestamp === 'number' ? p.timestamp : Date.now() / 1000) * 1000).toISOString();
    const pushId = `push:${bodyKey(req.rawBody).slice(0, 32)}`;
    if (p.code !== ORDER_STATUS_PUSH) return [{ kind: 'ignored', externalEventId: pushId, occurredAt, reason: `push code ${String(p.code)}` }];
    const sn = p.data?.ordersn;
    if (typeof sn !== 'string' || !sn) throw new WebhookParseError('Shopee order push without data.ordersn');
    const hit = orders.get(bodyKey(req.rawBody));
    if (hit?.order.order_sn === sn) {
      const events = orderEvents(hit.order);
      if (events.length) return events;
      return [{ kind: 'ignored', externalEventId: pushId, occurredAt, reason: `order ${sn} is ${hit.order.order_status ?? 'unknown'}: nothing sold yet` }];
    }
    return [{ kind: 'ignored', externalEventId: pushId, occurredAt, reason: `order ${sn} could not be read now; the order poll applies it` }];
  },
};
