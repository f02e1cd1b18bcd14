// Webhook delivery the way Stripe documents it (docs.stripe.com/webhooks): a POST of the event
// JSON to each enabled endpoint, signed in the `Stripe-Signature` header as
//   t=<unix seconds>,v1=<hex HMAC-SHA256 over "<t>.<raw body>" keyed with the endpoint's whsec_ secret>
// re-signed with a fresh timestamp on every attempt, and retried while the endpoint does not
// answer 2xx. This file computes the signature itself (invariant 9: never the SDK's helper).
import { createHmac } from 'node:crypto';
import { Agent, request } from 'undici';
import { newId } from './ids.ts';
import type { StripeEvent } from './objects.ts';

export function signatureHeader(secret: string, payload: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

// GUESS: Stripe retries a failed delivery for up to three days with exponential backoff (live
// mode). An emulator that drives tests retries quickly instead: 6 attempts, waiting
// 250 ms, 0.5 s, 1 s, 2 s, 4 s between them (~8 s in all), then gives the delivery up.
export const RETRY_DELAYS_MS = [250, 500, 1000, 2000, 4000];

export interface DeliveryRecord {
  id: string;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created: number;
  delivered_at: number | null;
  /** Deliveries with one key go out one after another, in the order their events happened. */
  order_key: string;
}

export interface Target {
  id: string;
  url: string;
  secret: string;
}

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 16 });

export class WebhookSender {
  private readonly queues = new Map<string, Promise<void>>();
  private stopped = false;
  private readonly onChange: () => void;
  private readonly eventOf: (id: string) => StripeEvent | undefined;

  constructor(eventOf: (id: string) => StripeEvent | undefined, onChange: () => void) {
    this.eventOf = eventOf;
    this.onChange = onChange;
  }

  /**
   * Queues one event for one endpoint. Deliveries sharing `rec.order_key` (one subscription's
   * events) are sent strictly in order: the next waits until the previous was delivered or
   * given up, so a receiver sees checkout.session.completed before customer.subscription.created.
   */
  enqueue(rec: DeliveryRecord, target: () => Target | undefined): void {
    if (this.stopped) return;
    const key = `${rec.endpoint_id}\n${rec.order_key}`;
    const prev = this.queues.get(key) ?? Promise.resolve();
    const next = prev.then(() => this.deliver(rec, target));
    this.queues.set(key, next);
    void next.finally(() => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    });
  }

  static record(event: StripeEvent, endpoint: Target, orderKey: string): DeliveryRecord {
    return {
      id: newId('whd'), // GUESS: delivery attempts have no public object in Stripe's API; the id is ours.
      event_id: event.id,
      event_type: event.type,
      endpoint_id: endpoint.id,
      url: endpoint.url,
      status: 'pending',
      attempts: 0,
      last_status_code: null,
      last_error: null,
      created: Math.floor(Date.now() / 1000),
      delivered_at: null,
      order_key: orderKey,
    };
  }

  /** Waits until nothing is queued or being retried. */
  async drain(): Promise<void> {
    while (this.queues.size > 0) await Promise.allSettled([...this.queues.values()]);
  }

  /** No new attempts (the emulator is closing); pending deliveries stay pending in the state file. */
  stop(): void {
    this.stopped = true;
  }

  private async deliver(rec: DeliveryRecord, target: () => Target | undefined): Promise<void> {
    const event = this.eventOf(rec.event_id);
    if (!event) return;
    // Stripe posts pretty-printed JSON; the signature covers these exact bytes.
    const body = JSON.stringify(event, null, 2);
    for (let attempt = rec.attempts; attempt <= RETRY_DELAYS_MS.length; attempt++) {
      if (this.stopped) return;
      const t = target();
      if (!t) {
        rec.status = 'failed';
        rec.last_error = 'endpoint removed';
        this.onChange();
        return;
      }
      rec.url = t.url;
      rec.attempts++;
      try {
        const res = await request(t.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json; charset=utf-8',
            'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
            'stripe-signature': signatureHeader(t.secret, body, Math.floor(Date.now() / 1000)),
          },
          body,
          dispatcher: agent,
          headersTimeout: 10_000,
          bodyTimeout: 10_000,
        });
        await res.body.dump();
        rec.last_status_code = res.statusCode;
        rec.last_error = res.statusCode >= 200 && res.statusCode < 300 ? null : `HTTP ${res.statusCode}`;
      } catch (err) {
        rec.last_status_code = null;
        rec.last_error = (err as Error).message;
      }
      if (rec.last_error === null) {
        rec.status = 'delivered';
        rec.delivered_at = Math.floor(Date.now() / 1000);
        event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
        this.onChange();
        return;
      }
      this.onChange();
      const wait = RETRY_DELAYS_MS[attempt];
      if (wait === undefined) break;
      await new Promise((r) => setTimeout(r, wait).unref());
    }
    if (!this.stopped) {
      rec.status = 'failed';
      this.onChange();
    }
  }
}
