// Vendure channel, the parts that need no server: Standard Webhooks signing (ours and the
// plugin's agree, and match the specification's published example), the movement -> event
// mapping, and the per-variant write serialisation.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { newStandardWebhookSecret, signStandardWebhook, standardWebhookHeaders, verifyStandardWebhook } from '../signing.ts';
import { VariantLocks } from './adapter.ts';
import { movementEvents, vendureWebhook } from './webhook.ts';

const require = createRequire(import.meta.url);

describe('Standard Webhooks signatures', () => {
  it('matches the example in the Standard Webhooks specification', () => {
    // standard-webhooks/standard-webhooks, spec/standard-webhooks.md ("Signature scheme").
    const sig = signStandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
    expect(sig).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('verifies what it signs, including what the Vendure plugin signs', () => {
    const secret = newStandardWebhookSecret();
    const body = Buffer.from('{"type":"stock.movements","data":{"movements":[]}}');
    const now = new Date();
    expect(verifyStandardWebhook(standardWebhookHeaders(secret, 'msg_1', body, now), body, secret, now)).toEqual({ ok: true });
    // The plugin is plain JS that runs inside Vendure; it must produce the same bytes.
    const plugin = require('../../../integrations/vendure-plugin/index.js') as { sign(secret: string, id: string, ts: string, body: string): string };
    const ts = Math.floor(now.getTime() / 1000);
    expect(plugin.sign(secret, 'msg_1', String(ts), body.toString())).toBe(signStandardWebhook(secret, 'msg_1', ts, body));
  });

  it('rejects a tampered body, a wrong secret, a stale timestamp and missing headers', () => {
    const secret = newStandardWebhookSecret();
    const body = Buffer.from('{"a":1}');
    const now = new Date();
    const h = standardWebhookHeaders(secret, 'msg_2', body, now);
    expect(verifyStandardWebhook(h, Buffer.from('{"a":2}'), secret, now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyStandardWebhook(h, body, newStandardWebhookSecret(), now)).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verifyStandardWebhook(h, body, secret, new Date(now.getTime() + 6 * 60_000))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(verifyStandardWebhook({ ...h, 'webhook-signature': undefined }, body, secret, now)).toEqual({ ok: false, reason: 'missing_signature' });
    // Several signatures (secret rotation): one valid is enough.
    const rotated = { ...h, 'webhook-signature': `v1,AAAA ${h['webhook-signature']}` };
    expect(verifyStandardWebhook(rotated, body, secret, now)).toEqual({ ok: true });
  });
});

describe('Vendure movements -> events', () => {
  const base = { variantId: '7', sku: 'SKU-1-7', stockLocationId: '1', orderLineId: '3', createdAt: '2026-11-24T00:00:00.000Z' };
  it('maps allocation, sale, release, cancellation and adjustment', () => {
    const events = movementEvents([
      { ...base, id: '10', type: 'ALLOCATION', quantity: 2 },
      { ...base, id: '11', type: 'SALE', quantity: -2 },
      { ...base, id: '12', type: 'RELEASE', quantity: 1 },
      { ...base, id: '13', type: 'CANCELLATION', quantity: 1 },
      { ...base, id: '14', type: 'ADJUSTMENT', quantity: -5, orderLineId: null, stockOnHand: 40, stockAllocated: 3 },
    ]);
    expect(events.map((e) => [e.externalEventId, e.kind === 'order' ? e.effect : e.kind])).toEqual([
      ['movement:10', 'reserve'],
      ['movement:11', 'sale'],
      ['movement:12', 'release'],
      ['movement:13', 'cancel'],
      ['movement:14', 'level'],
    ]);
    expect(events[1]).toMatchObject({ consumesReservation: true, lines: [{ externalId: '7', sku: 'SKU-1-7', qty: 2 }], externalLocationId: '1' });
    expect(events[4]).toMatchObject({ level: { externalId: '7', externalLocationId: '1', qty: 37, version: '14' }, change: { delta: -5 } });
  });

  it("refuses a body that is not the plugin's shape", () => {
    const req = (body: string) => ({ headers: {}, rawBody: Buffer.from(body), url: 'http://x/webhooks/vendure/ch_1' });
    expect(() => vendureWebhook.parse(req('not json'))).toThrow(/not JSON/);
    expect(() => vendureWebhook.parse(req('{"type":"stock.movements","data":{"movements":[{"id":"x"}]}}'))).toThrow(/unexpected body/);
  });
});

describe('VariantLocks', () => {
  it('never runs two calls on one variant at once, and lets other variants through', async () => {
    const locks = new VariantLocks();
    const inFlight = new Map<string, number>();
    let maxSame = 0;
    let overlapOthers = false;
    const order: string[] = [];
    const work = (ids: string[], tag: string) =>
      locks.run(ids, async () => {
        for (const id of ids) inFlight.set(id, (inFlight.get(id) ?? 0) + 1);
        maxSame = Math.max(maxSame, ...ids.map((id) => inFlight.get(id)!));
        if ([...inFlight].some(([id, n]) => n > 0 && !ids.includes(id))) overlapOthers = true;
        await new Promise((r) => setTimeout(r, 5));
        order.push(tag);
        for (const id of ids) inFlight.set(id, inFlight.get(id)! - 1);
      });
    await Promise.all([work(['1', '2'], 'a'), work(['2', '3'], 'b'), work(['4'], 'c'), work(['1'], 'd'), work(['3', '1'], 'e')]);
    expect(maxSame).toBe(1);
    expect(overlapOthers).toBe(true); // '4' ran beside 'a'
    // Calls on a shared variant run in the order they were made.
    expect(order.indexOf('a')).toBeLessThan(order.indexOf('b'));
    expect(order.indexOf('b')).toBeLessThan(order.indexOf('e'));
    expect(order.indexOf('d')).toBeLessThan(order.indexOf('e'));
    expect(locks.size).toBe(0);
  });
});
