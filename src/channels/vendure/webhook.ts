// Vendure webhooks in: what integrations/vendure-plugin posts, one body per StockMovementEvent,
// signed in the Standard Webhooks format with the channel's `webhook_secret` (whsec_...).
// The same movement shape comes back from the plugin's `stockClerkMovements` poll query, so one
// mapping serves both:
//   ALLOCATION (+q)   -> reserve q (an order placed, not yet fulfilled)
//   RELEASE (+q)      -> release q (an allocated order cancelled before fulfilment)
//   SALE (-q)         -> sale of q that also releases its allocation (Vendure decrements both)
//   CANCELLATION (+q) -> return q (a fulfilled line cancelled; stock back on hand)
//   RETURN (+q)       -> return q
//   ADJUSTMENT (±d)   -> a level event with the level after it and the delta: our own push echoing
//                        back, a merchant's manual edit, or drift (decided by the Watcher).
import { z } from 'zod';
import { WebhookParseError, type InboundEvent, type IncomingWebhook, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { verifyStandardWebhook } from '../signing.ts';
import { parsePlatformJson } from '../json.ts';

export const VendureMovement = z.object({
  id: z.string().regex(/^\d+$/),
  type: z.enum(['ADJUSTMENT', 'ALLOCATION', 'RELEASE', 'SALE', 'CANCELLATION', 'RETURN']),
  quantity: z.number().int(),
  variantId: z.string().min(1),
  sku: z.string().nullable().optional(),
  stockLocationId: z.string().nullable().optional(),
  orderLineId: z.string().nullable().optional(),
  stockOnHand: z.number().int().nullable().optional(),
  stockAllocated: z.number().int().nullable().optional(),
  createdAt: z.string().optional(),
});
export type VendureMovement = z.infer<typeof VendureMovement>;

const Body = z.object({ type: z.string(), data: z.object({ movements: z.array(VendureMovement).max(1000) }) });

/** Event ids are Vendure's movement ids: a webhook and a poll of the same movement dedupe. */
export const movementEventId = (id: string) => `movement:${id}`;

export function movementEvents(movements: VendureMovement[]): InboundEvent[] {
  return movements.map((m): InboundEvent => {
    const externalEventId = movementEventId(m.id);
    const occurredAt = m.createdAt ?? new Date().toISOString();
    const loc = m.stockLocationId ?? null;
    const line = { externalId: m.variantId, sku: m.sku ?? null, qty: Math.abs(m.quantity) };
    const orderId = m.orderLineId ? `order-line:${m.orderLineId}` : `movement:${m.id}`;
    if (m.type === 'ADJUSTMENT') {
      if (m.stockOnHand == null) return { kind: 'ignored', externalEventId, occurredAt, reason: 'adjustment without a level' };
      return {
        kind: 'level',
        externalEventId,
        occurredAt,
        level: {
          externalId: m.variantId,
          externalLocationId: loc,
          sku: m.sku ?? null,
          qty: m.stockOnHand - (m.stockAllocated ?? 0),
          version: m.id,
          raw: m.stockOnHand,
        },
        change: { delta: m.quantity },
      };
    }
    if (m.quantity === 0) return { kind: 'ignored', externalEventId, occurredAt, reason: 'zero quantity' };
    const effect = m.type === 'ALLOCATION' ? 'reserve' : m.type === 'RELEASE' ? 'release' : m.type === 'SALE' ? 'sale' : 'cancel';
    return { kind: 'order', externalEventId, occurredAt, effect, consumesReservation: m.type === 'SALE', orderId, lines: [line], externalLocationId: loc };
  });
}

export const vendureWebhook: WebhookHandler = {
  verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date): VerifyResult {
    return verifyStandardWebhook(req.headers, req.rawBody, credentials.webhook_secret, now);
  },

  parse(req: IncomingWebhook): InboundEvent[] {
    let json: unknown;
    try {
      json = parsePlatformJson(req.rawBody.toString('utf8'));
    } catch {
      throw new WebhookParseError('body is not JSON');
    }
    const r = Body.safeParse(json);
    if (!r.success) throw new WebhookParseError(`unexpected body: ${r.error.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
    if (r.data.type !== 'stock.movements')
      return [
        { kind: 'ignored', externalEventId: `type:${r.data.type}:${Date.now()}`, occurredAt: new Date().toISOString(), reason: `type ${r.data.type} not used` },
      ];
    return movementEvents(r.data.data.movements);
  },
};
