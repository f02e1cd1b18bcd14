// TikTok Shop webhooks in (channel-apis.md section 8): body {type, tts_notification_id, shop_id,
// timestamp, data}, header Authorization = hex HMAC-SHA256(app_secret, app_key + raw body)
// (from code; TikTok's page unread, so UNCONFIRMED). The body's timestamp is checked too: one
// older than five minutes is refused as stale (GUESS: TikTok states no window; retries of a
// failed delivery come within minutes).
//
// A webhook only signals. Type 1 (ORDER_STATUS_CHANGE) names an order: once the signature holds,
// verify() reads that order through the API (Get Order Detail, the seller's token) and parse()
// emits it under `order:<id>`, the key the order poll uses, so whichever hears the order first
// records it and the other is a duplicate. When the order cannot be read in time (TikTok down, a
// token that expired), the notification is recorded as `ignored` under its own id and the poll
// applies the sale. No line is taken from the notification itself.
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { headerValue, safeEqual } from '../signing.ts';
import { envelopeOf, signedCall, type Envelope } from './client.ts';
import { orderEvent, type ApiOrder } from './model.ts';
import { signWebhook } from './sign.ts';
import { parsePlatformJson } from '../json.ts';

const STALE_S = 300;
const TIMEOUT_MS = 5000;
/** How long a verified notification's order waits for parse() (the same request, moments later). */
const ORDER_TTL_MS = 60_000;
export const ORDER_STATUS_CHANGE = 1;

interface Notification {
  type: number;
  tts_notification_id: string;
  shop_id?: string;
  timestamp: number;
  data?: { order_id?: string; order_status?: string };
}

const orders = new Map<string, { order: ApiOrder; at: number }>();
const ciphers = new Map<string, string>();

/** Test hook: forget cached orders and ciphers. */
export function clearTiktokShopWebhookCaches(): void {
  orders.clear();
  ciphers.clear();
}

function read(raw: Buffer): Notification | null {
  try {
    const b = parsePlatformJson(raw.toString('utf8')) as Partial<Notification>;
    if (typeof b.type !== 'number' || typeof b.timestamp !== 'number' || b.tts_notification_id === undefined) return null;
    return { ...b, tts_notification_id: String(b.tts_notification_id) } as Notification;
  } catch {
    return null;
  }
}

/** The notification's order through the API; null when it cannot be read now (the poll will). */
async function fetchOrder(baseUrl: string, creds: Record<string, string>, orderId: string): Promise<ApiOrder | null> {
  try {
    const key = `${creds.app_key}\u0000${creds.access_token}`;
    let cipher = ciphers.get(key);
    if (!cipher) {
      const res = await signedCall(baseUrl, creds, null, { method: 'GET', path: '/authorization/202309/shops' }, TIMEOUT_MS);
      if (res.status !== 200 || envelopeOf(res).code !== 0) return null;
      cipher = res.json<Envelope<{ shops?: Array<{ cipher: string }> }>>().data.shops?.[0]?.cipher;
      if (!cipher) return null;
      ciphers.set(key, cipher);
    }
    const res = await signedCall(baseUrl, creds, cipher, { method: 'GET', path: '/order/202309/orders', query: { ids: orderId } }, TIMEOUT_MS);
    if (res.status !== 200 || envelopeOf(res).code !== 0) return null;
    return res.json<Envelope<{ orders?: ApiOrder[] }>>().data.orders?.find((o) => o.id === orderId) ?? null;
  } catch {
    return null;
  }
}

export const tiktokShopWebhook: WebhookHandler = {
  async verify(req, credentials, now, channel): Promise<VerifyResult> {
    const sig = headerValue(req.headers, 'authorization');
    if (!sig) return { ok: false, reason: 'missing_signature' };
    if (!credentials.app_key || !credentials.app_secret) return { ok: false, reason: 'bad_signature' };
    if (!safeEqual(sig.trim().toLowerCase(), signWebhook(credentials.app_key, credentials.app_secret, req.rawBody)))
      return { ok: false, reason: 'bad_signature' };
    const n = read(req.rawBody);
    if (!n) return { ok: false, reason: 'bad_signature' }; // signed but unreadable: refused all the same
    if (Math.abs(now.getTime() / 1000 - n.timestamp) > STALE_S) return { ok: false, reason: 'stale_timestamp' };
    const orderId = n.data?.order_id;
    if (n.type === ORDER_STATUS_CHANGE && orderId && channel) {
      const order = await fetchOrder(channel.baseUrl, credentials, String(orderId));
      const t = Date.now();
      for (const [k, v] of orders) if (t - v.at > ORDER_TTL_MS) orders.delete(k);
      if (order) orders.set(order.id, { order, at: t });
    }
    return { ok: true };
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    const n = read(req.rawBody);
    if (!n) throw new WebhookParseError('not a TikTok Shop notification');
    const occurredAt = new Date(n.timestamp * 1000).toISOString();
    const id = `notification:${n.tts_notification_id}`;
    if (n.type !== ORDER_STATUS_CHANGE) return [{ kind: 'ignored', externalEventId: id, occurredAt, reason: `notification type ${n.type}` }];
    const cached = n.data?.order_id ? orders.get(String(n.data.order_id)) : undefined;
    const e = cached ? orderEvent(cached.order) : null;
    if (e) return [e];
    return [
      {
        kind: 'ignored',
        externalEventId: id,
        occurredAt,
        reason: cached ? `order status ${cached.order.status}` : 'order not readable now: the poll applies it',
      },
    ];
  },
};
