// Stripe's objects as the emulator serves them, shaped after the API reference for API version
// 2026-11-18 (the version the SDK pins). Only the fields a billing integration reads are filled
// with meaning; the rest carry Stripe's defaults (null, false, []) so the shapes stay whole.
// Since API 2025-03-31 the billing period lives on subscription items
// (`items.data[].current_period_start/end`), not on the subscription, and an invoice names its
// subscription under `parent.subscription_details.subscription`; this emulator follows that.

export const API_VERSION = '2026-11-18.endive';

export type Metadata = Record<string, string>;

/** Every Stripe object: an id, its `object` name, `created` in unix seconds, and the rest. */
export interface StripeObject {
  id: string;
  object: string;
  created: number;
  [field: string]: unknown;
}

export interface Customer extends StripeObject {
  object: 'customer';
  email: string | null;
  name: string | null;
  metadata: Metadata;
}

export interface Product extends StripeObject {
  object: 'product';
  name: string;
  active: boolean;
}

export interface Price extends StripeObject {
  object: 'price';
  active: boolean;
  currency: string;
  lookup_key: string | null;
  product: string;
  recurring: { interval: 'day' | 'week' | 'month' | 'year'; interval_count: number; usage_type: 'licensed'; meter: null; trial_period_days: null } | null;
  type: 'recurring' | 'one_time';
  unit_amount: number;
  nickname: string | null;
}

export interface LineItemInput {
  price: string;
  quantity: number;
}

export interface CheckoutSession extends StripeObject {
  object: 'checkout.session';
  mode: 'subscription' | 'payment' | 'setup';
  status: 'open' | 'complete' | 'expired';
  payment_status: 'paid' | 'unpaid' | 'no_payment_required';
  customer: string | null;
  customer_email: string | null;
  subscription: string | null;
  invoice: string | null;
  success_url: string | null;
  cancel_url: string | null;
  client_reference_id: string | null;
  metadata: Metadata;
  url: string | null;
  amount_total: number;
  currency: string;
}

/** Not part of the API response: what the session will put on the subscription it creates. */
export interface SessionExtras {
  lineItems: LineItemInput[];
  subscriptionMetadata: Metadata;
}

export interface SubscriptionItem extends StripeObject {
  object: 'subscription_item';
  price: Price;
  quantity: number;
  current_period_start: number;
  current_period_end: number;
  subscription: string;
}

export interface Subscription extends StripeObject {
  object: 'subscription';
  customer: string;
  status: 'incomplete' | 'incomplete_expired' | 'trialing' | 'active' | 'past_due' | 'canceled' | 'unpaid' | 'paused';
  items: { object: 'list'; data: SubscriptionItem[]; has_more: false; total_count: number; url: string };
  metadata: Metadata;
  cancel_at_period_end: boolean;
  cancel_at: number | null;
  canceled_at: number | null;
  ended_at: number | null;
  latest_invoice: string | null;
  billing_cycle_anchor: number;
  currency: string;
}

export interface Invoice extends StripeObject {
  object: 'invoice';
  customer: string;
  status: 'draft' | 'open' | 'paid' | 'uncollectible' | 'void';
  amount_due: number;
  amount_paid: number;
  amount_remaining: number;
  attempt_count: number;
  attempted: boolean;
  billing_reason: 'subscription_create' | 'subscription_cycle' | 'subscription_update' | 'manual';
  parent: { type: 'subscription_details'; quote_details: null; subscription_details: { metadata: Metadata; subscription: string } };
  status_transitions: { finalized_at: number | null; marked_uncollectible_at: number | null; paid_at: number | null; voided_at: number | null };
  next_payment_attempt: number | null;
  period_start: number;
  period_end: number;
}

export interface PortalSession extends StripeObject {
  object: 'billing_portal.session';
  customer: string;
  return_url: string | null;
  url: string;
}

export interface TestClock extends StripeObject {
  object: 'test_helpers.test_clock';
  frozen_time: number;
  name: string | null;
  status: 'ready' | 'advancing' | 'internal_failure';
}

export interface WebhookEndpoint extends StripeObject {
  object: 'webhook_endpoint';
  url: string;
  enabled_events: string[];
  status: 'enabled' | 'disabled';
  secret?: string;
}

export interface StripeEvent extends StripeObject {
  object: 'event';
  type: string;
  api_version: string;
  data: { object: StripeObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
}

// A test clock's simulated time, while billing code runs on its behalf (see clocks.ts). The
// billing functions are synchronous, so "the time now" can be set around one call.
let frozen: number | null = null;

/** Unix seconds: the wall clock, or the test clock's time inside `atTime`. */
export const now = () => frozen ?? Math.floor(Date.now() / 1000);

export function atTime<T>(t: number | null, fn: () => T): T {
  const prev = frozen;
  frozen = t;
  try {
    return fn();
  } finally {
    frozen = prev;
  }
}

/** Deep copy, so an event keeps the object as it was when the event happened. */
export const snapshot = <T>(o: T): T => structuredClone(o);

/** `anchor` plus `months` calendar months, clamped to the month's last day (Jan 31 + 1 -> Feb 28/29), as Stripe bills. */
export function addMonths(anchor: number, months: number): number {
  const d = new Date(anchor * 1000);
  const day = d.getUTCDate();
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(day, last));
  return Math.floor(target.getTime() / 1000);
}

/** The first period end after `after` on a monthly cycle from `anchor`. */
export function nextPeriodEnd(anchor: number, after: number): number {
  let n = 1;
  while (addMonths(anchor, n) <= after) n++;
  return addMonths(anchor, n);
}

/** A price as Stripe embeds it (legacy `plan` mirrors it on subscription items). */
export function planOf(p: Price): StripeObject {
  return {
    id: p.id,
    object: 'plan',
    active: p.active,
    amount: p.unit_amount,
    amount_decimal: String(p.unit_amount),
    billing_scheme: 'per_unit',
    created: p.created,
    currency: p.currency,
    interval: p.recurring?.interval ?? 'month',
    interval_count: p.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: p.nickname,
    product: p.product,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: 'licensed',
  };
}

export interface ListPage<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/**
 * Stripe's cursor pagination: newest first, `limit` 1..100 (default 10), `starting_after` /
 * `ending_before` an id in the list.
 */
export function paginate<T extends StripeObject>(all: T[], url: string, q: { limit?: string; starting_after?: string; ending_before?: string }): ListPage<T> {
  const rows = [...all].reverse();
  const limit = Math.min(100, Math.max(1, Number(q.limit ?? 10) || 10));
  let start = 0;
  let end = rows.length;
  if (q.starting_after) start = rows.findIndex((r) => r.id === q.starting_after) + 1;
  if (q.ending_before) {
    end = Math.max(
      0,
      rows.findIndex((r) => r.id === q.ending_before),
    );
    start = Math.max(0, end - limit);
  }
  const data = rows.slice(start, Math.min(end, start + limit));
  return { object: 'list', data, has_more: start + limit < end, url };
}
