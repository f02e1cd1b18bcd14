// Shopify webhooks in: HMAC-SHA256 of the raw body (base64, key = app client secret) in
// X-Shopify-Hmac-Sha256; the body is the REST resource for the topic. Orders are the sale
// source; inventory_levels/update becomes a level event that only confirms (invariant 5).
import { z } from 'zod';
import { WebhookParseError, type InboundEvent, type IncomingWebhook, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { hmacSha256, headerValue, safeEqual } from '../signing.ts';
import { numericId, parsePlatformJson } from '../json.ts';

// Shopify retries a failed delivery 8 times over 4 hours with the original payload and a
// Triggered-At of the original event, so 5 hours admits every genuine retry and drops anything
// older (the Guardian's read-back repairs whatever such a late event would have told us).
// The header is not covered by the HMAC, so this filters late retries; it is not replay protection.
const MAX_AGE_MS = 5 * 60 * 60 * 1000;
const MAX_SKEW_MS = 5 * 60 * 1000;

// Shopify's REST ids are 64-bit: read exactly (src/channels/json.ts), kept as strings.
const id = numericId;

const LevelBody = z.looseObject({
  inventory_item_id: id,
  location_id: id,
  available: z.number().int().nullable(),
  updated_at: z.string(),
});

const OrderBody = z.looseObject({
  id,
  admin_graphql_api_id: z.string().optional(),
  created_at: z.string().optional(),
  cancelled_at: z.string().nullable().optional(),
  location_id: id.nullable().optional(),
  line_items: z.array(
    z.looseObject({
      id,
      sku: z.string().nullable().optional(),
      quantity: z.number().int(),
      gift_card: z.boolean().optional(),
    }),
  ),
  refunds: z
    .array(
      z.looseObject({
        restock: z.boolean().optional(),
        refund_line_items: z.array(
          z.looseObject({
            line_item_id: id,
            quantity: z.number().int(),
            restock_type: z.string().nullable().optional(),
            location_id: id.nullable().optional(),
          }),
        ),
      }),
    )
    .optional(),
});
type Order = z.infer<typeof OrderBody>;

const itemGid = (n: string) => `gid://shopify/InventoryItem/${n}`;
const locationGid = (n: string) => `gid://shopify/Location/${n}`;

function parseBody<T>(schema: z.ZodType<T>, raw: Buffer, topic: string): T {
  let json: unknown;
  try {
    json = parsePlatformJson(raw.toString('utf8'));
  } catch {
    throw new WebhookParseError(`${topic}: body is not JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw new WebhookParseError(`${topic}: unexpected body: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
  return r.data;
}

function orderGid(o: Order): string {
  return o.admin_graphql_api_id ?? `gid://shopify/Order/${o.id}`;
}

/** A sale: every stock-bearing line by sku (line items carry variant ids, not inventory item ids). */
function saleEvents(o: Order, eventId: string, occurredAt: string): InboundEvent[] {
  // Gift cards hold no stock; a line with no sku cannot be matched to an item.
  const lines = o.line_items.filter((l) => !l.gift_card && l.sku && l.quantity > 0).map((l) => ({ externalId: null, sku: l.sku ?? null, qty: l.quantity }));
  if (lines.length === 0) return [{ kind: 'ignored', externalEventId: eventId, occurredAt, reason: 'order has no stock-bearing lines' }];
  // GUESS: which location a web order decrements is not documented; POS orders carry location_id.
  const loc = o.location_id ? locationGid(o.location_id) : null;
  return [{ kind: 'order', externalEventId: eventId, occurredAt, effect: 'sale', orderId: orderGid(o), lines, externalLocationId: loc }];
}

/** A cancellation gives stock back only for restocked refund lines, grouped by the location they went back to. */
function cancelEvents(o: Order, eventId: string, occurredAt: string): InboundEvent[] {
  const skuOf = new Map(o.line_items.map((l) => [l.id, l.sku ?? null]));
  const byLoc = new Map<string, Array<{ externalId: null; sku: string | null; qty: number }>>();
  for (const refund of o.refunds ?? []) {
    for (const rl of refund.refund_line_items) {
      // GUESS: restock_type 'no_restock' (or absent with restock false) means the units did not return to stock.
      const restocked = rl.restock_type ? rl.restock_type !== 'no_restock' : refund.restock === true;
      const sku = skuOf.get(rl.line_item_id);
      if (!restocked || !sku || rl.quantity <= 0) continue;
      const loc = rl.location_id ?? '';
      byLoc.set(loc, [...(byLoc.get(loc) ?? []), { externalId: null, sku, qty: rl.quantity }]);
    }
  }
  if (byLoc.size === 0) return [{ kind: 'ignored', externalEventId: eventId, occurredAt, reason: 'cancelled without restock' }];
  // One event per location; the ids stay stable across duplicate deliveries.
  return [...byLoc].map(([loc, lines]) => ({
    kind: 'order' as const,
    externalEventId: byLoc.size === 1 ? eventId : `${eventId}:${loc || 'none'}`,
    occurredAt,
    effect: 'cancel' as const,
    orderId: orderGid(o),
    lines,
    externalLocationId: loc ? locationGid(loc) : null,
  }));
}

export const shopifyWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date): VerifyResult {
    const sig = headerValue(req.headers, 'x-shopify-hmac-sha256');
    if (!sig) return { ok: false, reason: 'missing_signature' };
    const secret = credentials.webhook_secret;
    if (!secret) return { ok: false, reason: 'bad_signature' };
    if (!safeEqual(hmacSha256(secret, req.rawBody, 'base64'), sig.trim())) return { ok: false, reason: 'bad_signature' };
    const triggeredAt = headerValue(req.headers, 'x-shopify-triggered-at');
    // GUESS: deliveries without the header (older API versions) are accepted on the signature alone.
    if (triggeredAt !== undefined) {
      const t = Date.parse(triggeredAt);
      const age = now.getTime() - t;
      if (!Number.isFinite(t) || age > MAX_AGE_MS || -age > MAX_SKEW_MS) return { ok: false, reason: 'stale_timestamp' };
    }
    return { ok: true };
  },

  // app/uninstalled: the merchant removed our app from the shop (its token is revoked with it).
  isUninstall: (req: IncomingWebhook) => headerValue(req.headers, 'x-shopify-topic') === 'app/uninstalled',

  parse(req: IncomingWebhook): InboundEvent[] {
    const topic = headerValue(req.headers, 'x-shopify-topic');
    if (!topic) throw new WebhookParseError('missing X-Shopify-Topic');
    // Event-Id is Shopify's dedupe key (the same event to several subscriptions shares it).
    const eventId = headerValue(req.headers, 'x-shopify-event-id') ?? headerValue(req.headers, 'x-shopify-webhook-id');
    if (!eventId) throw new WebhookParseError('missing X-Shopify-Event-Id and X-Shopify-Webhook-Id');
    const fallbackAt = headerValue(req.headers, 'x-shopify-triggered-at') ?? new Date().toISOString();

    if (topic === 'inventory_levels/update') {
      const b = parseBody(LevelBody, req.rawBody, topic);
      return [
        {
          kind: 'level',
          externalEventId: eventId,
          occurredAt: b.updated_at,
          level: {
            externalId: itemGid(b.inventory_item_id),
            externalLocationId: locationGid(b.location_id),
            sku: null,
            qty: b.available,
            version: b.updated_at,
          },
        },
      ];
    }
    if (topic === 'orders/create') {
      const o = parseBody(OrderBody, req.rawBody, topic);
      return saleEvents(o, eventId, o.created_at ?? fallbackAt);
    }
    if (topic === 'orders/cancelled') {
      const o = parseBody(OrderBody, req.rawBody, topic);
      return cancelEvents(o, eventId, o.cancelled_at ?? fallbackAt);
    }
    // Other topics are still read as JSON so a garbled body is reported, not silently recorded.
    parseBody(z.unknown(), req.rawBody, topic);
    return [{ kind: 'ignored', externalEventId: eventId, occurredAt: fallbackAt, reason: `topic ${topic} not used` }];
  },
};
