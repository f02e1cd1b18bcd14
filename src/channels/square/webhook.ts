// Square webhooks in (channel-apis.md section 4; Square's "Validate notifications" page): header
// `x-square-hmacsha256-signature` = base64 HMAC-SHA256, keyed with the subscription's signature key,
// over the notification URL exactly as registered followed by the raw body. The URL is the one the
// request reached (/webhooks/square/{channelId} on our public base URL), or the channel's
// `notification_url` credential where a proxy in front of us changes it. Compared in constant time.
//
// Square sends no timestamp header, so there is no staleness window to enforce: a replayed
// notification is harmless because every event it carries is recorded under an id (the count and
// the instant Square calculated it) that the first delivery already recorded, and Square's own
// `event_id` names the notification for the events we do not act on.
//
// inventory.count.updated carries the new absolute counts: each IN_STOCK count becomes a level
// event (the sales source is 'levels'). Every other type is recorded and ignored.
import { WebhookParseError, type IncomingWebhook, type InboundEvent, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { parsePlatformJson } from '../json.ts';
import { headerValue, hmacSha256, safeEqual } from '../signing.ts';
import { countEvent } from './adapter.ts';
import type { InventoryCount } from './model.ts';

export const SIGNATURE_HEADER = 'x-square-hmacsha256-signature';
export const COUNT_UPDATED = 'inventory.count.updated';

interface Notification {
  merchant_id?: string;
  type?: string;
  event_id?: string;
  created_at?: string;
  data?: { type?: string; id?: string; object?: { inventory_counts?: InventoryCount[] } };
}

function read(raw: Buffer): Notification {
  try {
    const m = parsePlatformJson(raw.toString('utf8'));
    if (m && typeof m === 'object' && !Array.isArray(m)) return m as Notification;
  } catch {
    /* below */
  }
  throw new WebhookParseError('Square notification body is not a JSON object');
}

/** The signature Square sends for this body posted to `url`. */
export function squareSignature(signatureKey: string, url: string, rawBody: Buffer | string): string {
  return hmacSha256(signatureKey, Buffer.concat([Buffer.from(url, 'utf8'), Buffer.isBuffer(rawBody) ? rawBody : Buffer.from(rawBody, 'utf8')]), 'base64');
}

export const squareWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>): VerifyResult {
    const sig = headerValue(req.headers, SIGNATURE_HEADER);
    if (!sig) return { ok: false, reason: 'missing_signature' };
    const key = credentials.webhook_signature_key;
    if (!key) return { ok: false, reason: 'bad_signature' };
    const url = credentials.notification_url || req.url;
    if (!safeEqual(sig, squareSignature(key, url, req.rawBody))) return { ok: false, reason: 'bad_signature' };
    // One seller's notification is not another's, even under one application's signature key.
    if (credentials.merchant_id) {
      const n = read(req.rawBody);
      if (n.merchant_id !== undefined && n.merchant_id !== credentials.merchant_id) return { ok: false, reason: 'bad_signature' };
    }
    return { ok: true };
  },

  // The seller revoked StockClerk's access (Square's oauth.authorization.revoked): every token is dead.
  isUninstall: (req: IncomingWebhook) => {
    try {
      return read(req.rawBody).type === 'oauth.authorization.revoked';
    } catch {
      return false;
    }
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    const n = read(req.rawBody);
    if (typeof n.event_id !== 'string' || !n.event_id) throw new WebhookParseError('Square notification without event_id');
    const at = typeof n.created_at === 'string' && Number.isFinite(Date.parse(n.created_at)) ? new Date(n.created_at).toISOString() : new Date().toISOString();
    const ignored = (reason: string): InboundEvent[] => [{ kind: 'ignored', externalEventId: `event:${n.event_id}`, occurredAt: at, reason }];
    if (n.type !== COUNT_UPDATED) return ignored(`type ${String(n.type)}`);
    const counts = n.data?.object?.inventory_counts;
    if (!Array.isArray(counts)) throw new WebhookParseError('inventory.count.updated without data.object.inventory_counts');
    const events = counts.map((c) => countEvent(c, at)).filter((e): e is InboundEvent => e !== null);
    return events.length ? events : ignored('no IN_STOCK count in the notification');
  },
};
