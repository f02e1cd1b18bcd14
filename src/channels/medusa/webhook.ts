// Medusa webhooks in: what the StockClerk subscriber (peers/medusa/src/subscribers/stockclerk.ts)
// posts for each Medusa event it listens to, signed in the Standard Webhooks format with the
// channel's `webhook_secret` (whsec_...). Medusa's own payload is `{ id }` only; the subscriber
// adds `state`, what that id points to when it was read back at delivery:
//   order.placed   -> a sale of each reserved line (Medusa reserves at checkout; sellable drops then)
//   order.canceled -> the lines come back (Medusa drops the reservations or restocks)
//   inventory.inventory-level.created|updated -> a level event: sellable = stocked - reserved,
//        `raw` = stocked_quantity (what our pushes set). It only confirms our view (sales come
//        from orders), and it is how our own push echoes back.
//   inventory.reservation-item.* -> recorded, ignored (the level event carries the reserved change)
// The Admin API poll (adapter.ts pollEvents) finds the same orders with the same event ids.
import { z } from 'zod';
import { WebhookParseError, type InboundEvent, type IncomingWebhook, type VerifyResult, type WebhookHandler } from '../contract.ts';
import { parsePlatformJson } from '../json.ts';
import { verifyStandardWebhook } from '../signing.ts';

const Qty = z.number().int().min(0).max(1e12);

const LevelState = z.object({
  inventory_item_id: z.string().min(1),
  location_id: z.string().min(1),
  stocked_quantity: z.number().int(),
  reserved_quantity: z.number().int(),
  updated_at: z.string().optional(),
});

const OrderState = z.object({
  created_at: z.string().optional(),
  status: z.string().optional(),
  items: z.array(z.object({ id: z.string(), variant_id: z.string().nullable().optional(), sku: z.string().nullable().optional(), quantity: Qty })).max(1000),
  reservations: z
    .array(
      z.object({
        id: z.string(),
        line_item_id: z.string().nullable().optional(),
        inventory_item_id: z.string(),
        location_id: z.string(),
        quantity: Qty,
      }),
    )
    .max(1000),
});
export type MedusaOrderState = z.infer<typeof OrderState>;

const Body = z.object({ type: z.string().min(1).max(200), data: z.object({ id: z.string().min(1).max(200) }).passthrough(), state: z.unknown().optional() });

/** Event ids of orders: the webhook and the poll of one order dedupe on them. */
export const orderEventId = (orderId: string, what: 'placed' | 'canceled') => `order:${orderId}:${what}`;

/**
 * The lines of an order as StockClerk counts them: from its reservations where Medusa made any
 * (inventory item and location exact, kits' required quantities included), else by SKU.
 */
export function orderLines(o: MedusaOrderState): { lines: Array<{ externalId: string | null; sku: string | null; qty: number }>; location: string | null } {
  const skuByLine = new Map(o.items.map((i) => [i.id, i.sku ?? null]));
  if (o.reservations.length > 0) {
    return {
      lines: o.reservations
        .filter((r) => r.quantity > 0)
        .map((r) => ({ externalId: r.inventory_item_id, sku: (r.line_item_id && skuByLine.get(r.line_item_id)) || null, qty: r.quantity })),
      location: o.reservations[0]!.location_id,
    };
  }
  return { lines: o.items.filter((i) => i.sku && i.quantity > 0).map((i) => ({ externalId: null, sku: i.sku!, qty: i.quantity })), location: null };
}

export function orderEvent(orderId: string, what: 'placed' | 'canceled', o: MedusaOrderState): InboundEvent {
  const externalEventId = orderEventId(orderId, what);
  const occurredAt = o.created_at ?? new Date().toISOString();
  const { lines, location } = orderLines(o);
  if (lines.length === 0) return { kind: 'ignored', externalEventId, occurredAt, reason: 'no stocked lines' };
  return { kind: 'order', externalEventId, occurredAt, effect: what === 'placed' ? 'sale' : 'cancel', orderId, lines, externalLocationId: location };
}

export function levelEvent(levelId: string, l: z.infer<typeof LevelState>): InboundEvent {
  return {
    kind: 'level',
    // One id per state seen: a repeated delivery dedupes, a later change is a new event.
    externalEventId: `level:${levelId}:${l.updated_at ?? ''}:${l.stocked_quantity}:${l.reserved_quantity}`,
    occurredAt: l.updated_at ?? new Date().toISOString(),
    level: {
      externalId: l.inventory_item_id,
      externalLocationId: l.location_id,
      sku: null,
      qty: l.stocked_quantity - l.reserved_quantity,
      version: null,
      raw: l.stocked_quantity,
    },
  };
}

function bad(what: string, err: z.ZodError): never {
  throw new WebhookParseError(`${what}: ${err.issues.map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}`);
}

export const medusaWebhook: WebhookHandler = {
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
    const b = Body.safeParse(json);
    if (!b.success) bad('unexpected body', b.error);
    const { type, data, state } = b.data;
    const now = new Date().toISOString();
    const ignored = (reason: string): InboundEvent[] => [{ kind: 'ignored', externalEventId: `${type}:${data.id}`, occurredAt: now, reason }];
    if (type === 'order.placed' || type === 'order.canceled') {
      if (state == null) return ignored('order not found when delivered (the poll reads it)');
      const o = OrderState.safeParse(state);
      if (!o.success) bad('unexpected order state', o.error);
      return [orderEvent(data.id, type === 'order.placed' ? 'placed' : 'canceled', o.data)];
    }
    if (type === 'inventory.inventory-level.created' || type === 'inventory.inventory-level.updated') {
      if (state == null) return ignored('level gone when delivered');
      const l = LevelState.safeParse(state);
      if (!l.success) bad('unexpected level state', l.error);
      return [levelEvent(data.id, l.data)];
    }
    return ignored(`${type} not used (levels carry reservations)`);
  },
};
