// Medusa channel, the parts that need no server: Standard Webhooks verification (and that the
// subscriber running inside Medusa signs the same bytes), the event -> InboundEvent mapping, and
// bodies the parser refuses. The real-server tests are test/e2e/medusa.test.ts.
import { describe, expect, it } from 'vitest';
import { newStandardWebhookSecret, signStandardWebhook, standardWebhookHeaders } from '../signing.ts';
import { medusaInstalled } from './dev-server.ts';
import { medusaWebhook } from './webhook.ts';

const req = (body: string, headers: Record<string, string> = {}) => ({ headers, rawBody: Buffer.from(body), url: 'http://x/webhooks/medusa/ch_1' });

describe('Medusa webhook signatures', () => {
  const secret = newStandardWebhookSecret();
  const body = '{"type":"order.placed","data":{"id":"order_1"},"state":null}';
  const now = new Date();

  it('accepts a valid delivery; refuses tampered, wrong-secret, stale and unsigned ones', () => {
    const h = standardWebhookHeaders(secret, 'msg_1', body, now);
    expect(medusaWebhook.verify(req(body, h), { webhook_secret: secret }, now)).toEqual({ ok: true });
    expect(medusaWebhook.verify(req(body.replace('order_1', 'order_2'), h), { webhook_secret: secret }, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(medusaWebhook.verify(req(body, h), { webhook_secret: newStandardWebhookSecret() }, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(medusaWebhook.verify(req(body, h), { webhook_secret: secret }, new Date(now.getTime() + 5 * 60_000 + 1000))).toEqual({
      ok: false,
      reason: 'stale_timestamp',
    });
    expect(medusaWebhook.verify(req(body), { webhook_secret: secret }, now)).toEqual({ ok: false, reason: 'missing_signature' });
  });

  it.skipIf(!medusaInstalled())('the subscriber inside Medusa signs exactly what we verify', async () => {
    // A path in a variable: the root typecheck must not follow it into Medusa's own dependencies.
    const file = '../../../peers/medusa/src/subscribers/stockclerk.ts';
    const sub = (await import(file)) as { sign(s: string, id: string, ts: string, body: string): string };
    const ts = Math.floor(now.getTime() / 1000);
    expect(sub.sign(secret, 'msg_1', String(ts), body)).toBe(signStandardWebhook(secret, 'msg_1', ts, body));
    // The specification's published example.
    expect(sub.sign('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', '1614265330', '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });
});

describe('Medusa events -> InboundEvents', () => {
  const order = {
    created_at: '2026-12-04T10:00:00.000Z',
    status: 'pending',
    items: [
      { id: 'ordli_1', variant_id: 'variant_1', sku: 'MUG-1', quantity: 2 },
      { id: 'ordli_2', variant_id: 'variant_2', sku: 'CAP-1', quantity: 1 },
    ],
    reservations: [
      { id: 'res_1', line_item_id: 'ordli_1', inventory_item_id: 'iitem_1', location_id: 'sloc_1', quantity: 2 },
      { id: 'res_2', line_item_id: 'ordli_2', inventory_item_id: 'iitem_2', location_id: 'sloc_1', quantity: 1 },
    ],
  };
  const parse = (o: unknown) => medusaWebhook.parse(req(JSON.stringify(o)));

  it('order.placed is one sale of the reserved lines; order.canceled gives them back; same ids as the poll', () => {
    const [placed] = parse({ type: 'order.placed', data: { id: 'order_1' }, state: order });
    expect(placed).toEqual({
      kind: 'order',
      externalEventId: 'order:order_1:placed',
      occurredAt: order.created_at,
      effect: 'sale',
      orderId: 'order_1',
      lines: [
        { externalId: 'iitem_1', sku: 'MUG-1', qty: 2 },
        { externalId: 'iitem_2', sku: 'CAP-1', qty: 1 },
      ],
      externalLocationId: 'sloc_1',
    });
    const [canceled] = parse({ type: 'order.canceled', data: { id: 'order_1' }, state: { ...order, reservations: [] } });
    expect(canceled).toMatchObject({
      externalEventId: 'order:order_1:canceled',
      effect: 'cancel',
      lines: [{ externalId: null, sku: 'MUG-1', qty: 2 }, { sku: 'CAP-1' }],
    });
  });

  it('a level is stocked - reserved, with stocked as the raw value our pushes set', () => {
    const [ev] = parse({
      type: 'inventory.inventory-level.updated',
      data: { id: 'ilev_1' },
      state: { inventory_item_id: 'iitem_1', location_id: 'sloc_1', stocked_quantity: 10, reserved_quantity: 3, updated_at: '2026-12-04T10:00:01.000Z' },
    });
    expect(ev).toMatchObject({
      kind: 'level',
      externalEventId: 'level:ilev_1:2026-12-04T10:00:01.000Z:10:3',
      level: { externalId: 'iitem_1', externalLocationId: 'sloc_1', qty: 7, raw: 10, version: null },
    });
    expect(ev).not.toHaveProperty('change');
  });

  it('reservation events and vanished objects are recorded as ignored', () => {
    expect(parse({ type: 'inventory.reservation-item.created', data: { id: 'res_1' }, state: null })[0]).toMatchObject({ kind: 'ignored' });
    expect(parse({ type: 'order.placed', data: { id: 'order_9' }, state: null })[0]).toMatchObject({ kind: 'ignored' });
  });

  it('refuses bodies that are not the subscriber’s shape', () => {
    expect(() => medusaWebhook.parse(req('not json'))).toThrow(/not JSON/);
    expect(() => parse({ type: 'order.placed' })).toThrow(/unexpected body/);
    expect(() => parse({ type: 'order.placed', data: { id: 'o' }, state: { items: [{ id: 'l', quantity: -1 }], reservations: [] } })).toThrow(/order state/);
    expect(() => parse({ type: 'inventory.inventory-level.updated', data: { id: 'l' }, state: { stocked_quantity: 'x' } })).toThrow(/level state/);
  });
});
