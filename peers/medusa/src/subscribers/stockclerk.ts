// StockClerk's Medusa subscriber: tells StockClerk about stock-relevant Medusa events, signed as
// Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature `v1,<base64 HMAC-SHA256 of
// "id.timestamp.body">` with the channel's `whsec_` secret).
//
// Medusa's events carry only `{ id }`. StockClerk's webhook intake is synchronous and never calls
// the platform back, so the state is read here, at delivery time, through Medusa's own modules (the
// data the Admin API serves) and sent with the event: `data` is Medusa's payload unchanged, `state`
// what it points to now. StockClerk's poll of the Admin API is the safety net for lost deliveries.
//
// Configuration (environment): STOCKCLERK_WEBHOOK_URL, STOCKCLERK_WEBHOOK_SECRET. Unset: nothing is sent.
// Delivery: in process, best effort, a few retries with backoff (Medusa's local event bus has no outbox).
import { createHmac, randomUUID } from 'node:crypto';
import type { SubscriberArgs, SubscriberConfig } from '@medusajs/framework';
import { Modules } from '@medusajs/framework/utils';

const LEVEL_EVENTS = ['inventory.inventory-level.created', 'inventory.inventory-level.updated'];
const RESERVATION_EVENTS = ['inventory.reservation-item.created', 'inventory.reservation-item.deleted'];
const ORDER_EVENTS = ['order.placed', 'order.canceled'];

export function sign(secret: string, id: string, timestamp: string, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

async function deliver(url: string, secret: string, body: string): Promise<void> {
  const id = `msg_${randomUUID()}`;
  const base = Number(process.env.STOCKCLERK_RETRY_BASE_MS || 500);
  for (let attempt = 0; attempt < 5; attempt++) {
    // A fresh timestamp per attempt: StockClerk refuses deliveries older than 5 minutes.
    const ts = String(Math.floor(Date.now() / 1000));
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign(secret, id, ts, body) },
        body,
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429)) return;
    } catch {
      // network error or timeout: retried
    }
    await new Promise((r) => setTimeout(r, base * 2 ** attempt));
  }
}

type Container = SubscriberArgs<unknown>['container'];

async function stateOf(name: string, id: string, container: Container): Promise<unknown> {
  const inventory = container.resolve(Modules.INVENTORY);
  if (LEVEL_EVENTS.includes(name)) {
    const [l] = await inventory.listInventoryLevels({ id }, { take: 1 });
    if (!l) return null;
    return {
      inventory_item_id: l.inventory_item_id,
      location_id: l.location_id,
      stocked_quantity: Number(l.stocked_quantity),
      reserved_quantity: Number(l.reserved_quantity),
      updated_at: new Date(l.updated_at as unknown as string).toISOString(),
    };
  }
  if (ORDER_EVENTS.includes(name)) {
    const order = await container.resolve(Modules.ORDER).retrieveOrder(id, { relations: ['items'] });
    const items = (order.items ?? []) as Array<{ id: string; variant_id?: string | null; variant_sku?: string | null; quantity: unknown }>;
    const reservations = items.length ? await inventory.listReservationItems({ line_item_id: items.map((i) => i.id) }, { take: 1000 }) : [];
    return {
      created_at: new Date(order.created_at as unknown as string).toISOString(),
      status: order.status,
      items: items.map((i) => ({ id: i.id, variant_id: i.variant_id ?? null, sku: i.variant_sku ?? null, quantity: Number(i.quantity) })),
      reservations: reservations.map((r) => ({
        id: r.id,
        line_item_id: r.line_item_id ?? null,
        inventory_item_id: r.inventory_item_id,
        location_id: r.location_id,
        quantity: Number(r.quantity),
      })),
    };
  }
  return null;
}

export default async function stockclerkSubscriber({ event, container }: SubscriberArgs<{ id: string }>): Promise<void> {
  const url = process.env.STOCKCLERK_WEBHOOK_URL;
  const secret = process.env.STOCKCLERK_WEBHOOK_SECRET;
  if (!url || !secret) return;
  const id = event.data?.id;
  let state: unknown = null;
  try {
    if (typeof id === 'string') state = await stateOf(event.name, id, container);
  } catch {
    state = null; // gone already (deleted): the id alone is sent
  }
  const body = JSON.stringify({ type: event.name, data: event.data, state, sent_at: new Date().toISOString() });
  // Not awaited past the first attempt's scheduling: a slow receiver must not hold Medusa's bus.
  void deliver(url, secret, body);
}

export const config: SubscriberConfig = {
  event: [...LEVEL_EVENTS, ...RESERVATION_EVENTS, ...ORDER_EVENTS],
};
