// The emulated Stripe account at run time: its state, where its webhooks go, and how a change
// becomes an event. API routes, the hosted pages and the control API all change the account
// through here (and billing.ts), so every change is saved and announced the same way.
import { StateFile } from '../kit/state.ts';
import { newId } from './ids.ts';
import { API_VERSION, now, snapshot, type Invoice, type StripeEvent, type StripeObject } from './objects.ts';
import { seed, StripeState } from './state.ts';
import { WebhookSender, type Target } from './deliveries.ts';

/** The request that caused an event (`null`s for automatic ones: renewals, test-clock moves). */
export interface Cause {
  id: string | null;
  idempotency_key: string | null;
}

export const AUTOMATIC: Cause = { id: null, idempotency_key: null };

export interface WebhookOption {
  url: string;
  secret: string;
}

// The start option's endpoint has a fixed id: it is not an object the account created.
const START_ENDPOINT = 'we_start_option';

export class StripeCore {
  state: StripeState;
  /** Seeded price ids by lookup key. */
  readonly prices: Record<string, string>;
  url = '';
  webhook: WebhookOption | null;
  readonly sender: WebhookSender;
  private readonly file: StateFile | null;

  constructor(opts: { stateFile: string | null; webhook: WebhookOption | null }) {
    this.file = opts.stateFile ? new StateFile(opts.stateFile, () => this.state.toJSON()) : null;
    this.state = StripeState.load(this.file ? this.file.read() : null, opts.stateFile ?? 'state');
    this.prices = seed(this.state);
    this.webhook = opts.webhook;
    this.sender = new WebhookSender(
      (id) => this.state.events.get(id),
      () => this.touch(),
    );
    this.touch();
  }

  /** Re-queues deliveries a previous run left pending (the account outlives our process). */
  resumeDeliveries(): void {
    for (const rec of this.state.deliveries) if (rec.status === 'pending') this.sender.enqueue(rec, () => this.target(rec.endpoint_id));
  }

  /** Hosted-page urls saved by an earlier run point at its port; they move to this run's url. */
  rebase(): void {
    for (const cs of this.state.sessions.values()) if (cs.status === 'open') cs.url = `${this.url}/checkout/${cs.id}`;
    for (const ps of this.state.portalSessions.values()) ps.url = `${this.url}/portal/${ps.id}`;
    for (const inv of this.state.invoices.values()) inv.hosted_invoice_url = `${this.url}/invoice/${inv.id}`;
    this.touch();
  }

  touch(): void {
    this.file?.touch();
  }

  async flush(): Promise<void> {
    await this.file?.flush();
  }

  /** Everything forgotten; the seeded plans come back (with new ids). */
  reset(): void {
    this.state = new StripeState();
    Object.assign(this.prices, seed(this.state));
    this.touch();
  }

  targets(): Array<Target & { events: string[] }> {
    const out: Array<Target & { events: string[] }> = [];
    if (this.webhook) out.push({ id: START_ENDPOINT, url: this.webhook.url, secret: this.webhook.secret, events: ['*'] });
    for (const e of this.state.endpoints.values()) if (e.status === 'enabled') out.push({ id: e.id, url: e.url, secret: e.secret, events: e.enabled_events });
    return out;
  }

  private target(id: string): Target | undefined {
    return this.targets().find((t) => t.id === id);
  }

  /**
   * Records an event holding a copy of `object` as it is now, and queues it for every endpoint
   * enabled for its type. Events about one subscription are delivered in the order emitted.
   */
  emit(type: string, object: StripeObject, cause: Cause, previous?: Record<string, unknown>): StripeEvent {
    const targets = this.targets().filter((t) => t.events.includes('*') || t.events.includes(type));
    const event: StripeEvent = {
      id: newId('evt'),
      object: 'event',
      api_version: API_VERSION,
      created: now(),
      data: { object: snapshot(object), ...(previous ? { previous_attributes: previous } : {}) },
      livemode: false,
      pending_webhooks: targets.length,
      request: { ...cause },
      type,
    };
    this.state.events.set(event.id, event);
    const key = orderKey(object);
    for (const t of targets) {
      const rec = WebhookSender.record(event, t, key);
      this.state.deliveries.push(rec);
      this.sender.enqueue(rec, () => this.target(t.id));
    }
    this.touch();
    return event;
  }
}

/** Events about one subscription share a delivery queue; others queue by customer, or alone. */
function orderKey(o: StripeObject): string {
  if (o.object === 'subscription') return o.id;
  if (o.object === 'invoice') return (o as Invoice).parent?.subscription_details?.subscription ?? o.id;
  if (o.object === 'checkout.session' && typeof o.subscription === 'string') return o.subscription;
  if (typeof o.customer === 'string') return o.customer;
  return o.id;
}
