// What happens in a Stripe account when money moves: a Checkout payment that starts a
// subscription, renewals that succeed or fail, a late payment, a plan switch and a cancellation.
// Each function changes the objects and emits the events Stripe documents for that moment
// (docs.stripe.com/billing/subscriptions/webhooks), in the order written here.
import { AUTOMATIC, type Cause, type StripeCore } from './core.ts';
import { invalidRequest, noSuch } from './errors.ts';
import { newId } from './ids.ts';
import {
  addMonths,
  nextPeriodEnd,
  now,
  planOf,
  type CheckoutSession,
  type Customer,
  type Invoice,
  type Price,
  type Subscription,
  type SubscriptionItem,
} from './objects.ts';

export function makeCustomer(input: { email?: string | null; name?: string | null; metadata?: Record<string, string>; description?: string | null }): Customer {
  return {
    id: newId('cus', 14),
    object: 'customer',
    address: null,
    balance: 0,
    created: now(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: input.description ?? null,
    email: input.email ?? null,
    invoice_prefix: newId('x', 8).slice(2).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: input.metadata ?? {},
    name: input.name ?? null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

function subscriptionItem(sub: string, price: Price, quantity: number, start: number, end: number): SubscriptionItem {
  return {
    id: newId('si', 14),
    object: 'subscription_item',
    billing_thresholds: null,
    created: now(),
    current_period_start: start,
    current_period_end: end,
    discounts: [],
    metadata: {},
    plan: planOf(price),
    price: structuredClone(price),
    quantity,
    subscription: sub,
    tax_rates: [],
  };
}

function total(sub: Subscription): number {
  return sub.items.data.reduce((s, i) => s + i.price.unit_amount * i.quantity, 0);
}

const periodOf = (sub: Subscription) => ({ start: sub.items.data[0]!.current_period_start, end: sub.items.data[0]!.current_period_end });

function makeInvoice(core: StripeCore, sub: Subscription, reason: Invoice['billing_reason']): Invoice {
  const t = now();
  const customer = core.state.customers.get(sub.customer);
  const { start, end } = periodOf(sub);
  const id = newId('in');
  const amount = total(sub);
  const number = `${(customer?.invoice_prefix as string | undefined) ?? 'EMU'}-${String(core.state.invoiceNumber++).padStart(4, '0')}`;
  return {
    id,
    object: 'invoice',
    account_country: 'GB',
    account_name: 'StockClerk (emulated)',
    amount_due: amount,
    amount_overpaid: 0,
    amount_paid: 0,
    amount_remaining: amount,
    amount_shipping: 0,
    attempt_count: 0,
    attempted: false,
    auto_advance: true,
    automatic_tax: { enabled: false, liability: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: reason,
    collection_method: 'charge_automatically',
    created: t,
    currency: sub.currency,
    customer: sub.customer,
    customer_email: customer?.email ?? null,
    customer_name: customer?.name ?? null,
    default_payment_method: null,
    description: null,
    discounts: [],
    due_date: null,
    effective_at: t,
    ending_balance: 0,
    hosted_invoice_url: `${core.url}/invoice/${id}`,
    invoice_pdf: null,
    lines: {
      object: 'list',
      data: sub.items.data.map((i) => ({
        id: newId('il', 14),
        object: 'line_item',
        amount: i.price.unit_amount * i.quantity,
        currency: sub.currency,
        description: `${i.quantity} × ${i.price.nickname ?? 'Subscription'} (at ${(i.price.unit_amount / 100).toFixed(2)} / ${i.price.recurring?.interval ?? 'month'})`,
        discount_amounts: [],
        discountable: true,
        discounts: [],
        invoice: id,
        livemode: false,
        metadata: {},
        parent: {
          type: 'subscription_item_details',
          invoice_item_details: null,
          subscription_item_details: {
            invoice_item: null,
            proration: false,
            proration_details: { credited_items: null },
            subscription: sub.id,
            subscription_item: i.id,
          },
        },
        period: { start, end },
        pretax_credit_amounts: [],
        pricing: { type: 'price_details', price_details: { price: i.price.id, product: i.price.product }, unit_amount_decimal: String(i.price.unit_amount) },
        quantity: i.quantity,
        subtotal: i.price.unit_amount * i.quantity,
        taxes: [],
      })),
      has_more: false,
      total_count: sub.items.data.length,
      url: `/v1/invoices/${id}/lines`,
    },
    livemode: false,
    metadata: {},
    next_payment_attempt: null,
    number,
    parent: { type: 'subscription_details', quote_details: null, subscription_details: { metadata: { ...sub.metadata }, subscription: sub.id } },
    period_start: start,
    period_end: end,
    // GUESS: a subscription invoice covers the period it opens (Stripe bills in advance).
    status: 'open',
    status_transitions: { finalized_at: t, marked_uncollectible_at: null, paid_at: null, voided_at: null },
    subtotal: amount,
    subtotal_excluding_tax: amount,
    test_clock: (sub.test_clock as string | null | undefined) ?? null,
    total: amount,
    total_excluding_tax: amount,
    total_taxes: [],
    webhooks_delivered_at: null,
  };
}

function markPaid(inv: Invoice): void {
  inv.status = 'paid';
  inv.amount_paid = inv.amount_due;
  inv.amount_remaining = 0;
  inv.attempt_count += 1;
  inv.attempted = true;
  inv.next_payment_attempt = null;
  inv.status_transitions.paid_at = now();
}

/** invoice.created, invoice.finalized, then paid (invoice.paid, invoice.payment_succeeded) or failed (invoice.payment_failed). */
function billInvoice(core: StripeCore, sub: Subscription, reason: Invoice['billing_reason'], paid: boolean, cause: Cause): Invoice {
  const inv = makeInvoice(core, sub, reason);
  core.state.invoices.set(inv.id, inv);
  sub.latest_invoice = inv.id;
  // GUESS: the created/finalized pair is emitted with the invoice already finalized; Stripe
  // sends invoice.created on the draft (about an hour before finalizing, for renewals).
  core.emit('invoice.created', { ...inv, status: 'draft', status_transitions: { ...inv.status_transitions, finalized_at: null } }, cause);
  core.emit('invoice.finalized', inv, cause);
  if (paid) {
    markPaid(inv);
    core.emit('invoice.paid', inv, cause);
    core.emit('invoice.payment_succeeded', inv, cause);
  } else {
    inv.attempt_count += 1;
    inv.attempted = true;
    // GUESS: Smart Retries' next attempt; here 3 days later (Stripe's default schedule varies).
    inv.next_payment_attempt = now() + 3 * 86400;
    core.emit('invoice.payment_failed', inv, cause);
  }
  return inv;
}

/**
 * The customer paid on the hosted Checkout page: the customer (made from the session's email
 * when it named none), an active subscription for one month, its paid first invoice, and the
 * events checkout.session.completed, customer.subscription.created, invoice.created,
 * invoice.finalized, invoice.paid, invoice.payment_succeeded, in that order.
 */
export function completeCheckout(core: StripeCore, session: CheckoutSession): void {
  // GUESS: the order. Stripe does not promise delivery order, and in production the
  // subscription's and invoice's events are often created before checkout.session.completed;
  // this emulator sends the session first so a receiver always sees them in one sequence.
  const extras = core.state.sessionExtras.get(session.id);
  if (!extras) throw invalidRequest(`Checkout session ${session.id} has no line items`);
  const t = now();
  let customerId = session.customer;
  if (!customerId) {
    const c = makeCustomer({ email: session.customer_email });
    core.state.customers.set(c.id, c);
    customerId = c.id;
    core.emit('customer.created', c, AUTOMATIC);
  }
  const subId = newId('sub');
  const end = addMonths(t, 1);
  const prices = extras.lineItems.map((li) => core.state.prices.get(li.price));
  if (prices.some((p) => !p)) throw noSuch('price', extras.lineItems[0]!.price, 'line_items', 400);
  const sub: Subscription = {
    id: subId,
    object: 'subscription',
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor: t,
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: 'classic' },
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, reason: null },
    collection_method: 'charge_automatically',
    created: t,
    currency: prices[0]!.currency,
    customer: customerId,
    days_until_due: null,
    default_payment_method: newId('pm'),
    default_source: null,
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: { account_tax_ids: null, issuer: { type: 'self' } },
    items: {
      object: 'list',
      data: extras.lineItems.map((li, i) => subscriptionItem(subId, prices[i]!, li.quantity, t, end)),
      has_more: false,
      total_count: extras.lineItems.length,
      url: `/v1/subscription_items?subscription=${subId}`,
    },
    latest_invoice: null,
    livemode: false,
    metadata: { ...extras.subscriptionMetadata },
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: 'off' },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    start_date: t,
    status: 'active',
    test_clock: (core.state.customers.get(customerId)?.test_clock as string | null | undefined) ?? null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { missing_payment_method: 'create_invoice' } },
    trial_start: null,
  };
  core.state.subscriptions.set(sub.id, sub);
  const inv = makeInvoice(core, sub, 'subscription_create');
  markPaid(inv);
  core.state.invoices.set(inv.id, inv);
  sub.latest_invoice = inv.id;
  const customer = core.state.customers.get(customerId);
  Object.assign(session, {
    status: 'complete',
    payment_status: 'paid',
    url: null, // documented: only present while the session is open
    customer: customerId,
    subscription: sub.id,
    invoice: inv.id,
    customer_details: {
      address: null,
      email: customer?.email ?? session.customer_email,
      name: customer?.name ?? null,
      phone: null,
      tax_exempt: 'none',
      tax_ids: [],
    },
  });
  core.emit('checkout.session.completed', session, AUTOMATIC);
  core.emit('customer.subscription.created', sub, AUTOMATIC);
  core.emit('invoice.created', { ...inv, status: 'draft', amount_paid: 0, amount_remaining: inv.amount_due }, AUTOMATIC);
  core.emit('invoice.finalized', { ...inv, status: 'open', amount_paid: 0, amount_remaining: inv.amount_due }, AUTOMATIC);
  core.emit('invoice.paid', inv, AUTOMATIC);
  core.emit('invoice.payment_succeeded', inv, AUTOMATIC);
}

function itemsSnapshot(sub: Subscription): Record<string, unknown> {
  return structuredClone({ items: sub.items });
}

/** A session past `expires_at` (24 hours) expires: checkout.session.expired. */
export function expireIfDue(core: StripeCore, session: CheckoutSession, force = false, cause: Cause = AUTOMATIC): void {
  if (session.status !== 'open' || (!force && now() < (session.expires_at as number))) return;
  session.status = 'expired';
  session.url = null;
  core.emit('checkout.session.expired', session, cause);
}

/** Cancels now: status canceled, ended; customer.subscription.deleted. */
export function cancelNow(
  core: StripeCore,
  sub: Subscription,
  cause: Cause,
  reason: 'cancellation_requested' | 'payment_failed' = 'cancellation_requested',
): Subscription {
  if (sub.status === 'canceled') return sub;
  const t = now();
  sub.status = 'canceled';
  sub.canceled_at = t;
  sub.ended_at = t;
  sub.cancel_at_period_end = false;
  sub.cancellation_details = { comment: null, feedback: null, reason };
  core.emit('customer.subscription.deleted', sub, cause);
  return sub;
}

/**
 * The period ends (what a test clock advancing past `current_period_end` does): the period
 * moves one month, a `subscription_cycle` invoice is billed and paid or failed.
 * Paid: invoice.created, invoice.finalized, invoice.paid, invoice.payment_succeeded,
 * customer.subscription.updated (period). Failed: invoice.created, invoice.finalized,
 * invoice.payment_failed, customer.subscription.updated (status past_due and period).
 * A subscription set to cancel at period end is canceled instead (customer.subscription.deleted).
 */
export function renew(core: StripeCore, sub: Subscription, outcome: 'paid' | 'failed'): { subscription: Subscription; invoice: Invoice | null } {
  if (sub.status === 'canceled') throw invalidRequest(`Subscription ${sub.id} is canceled`, 'subscription');
  if (sub.cancel_at_period_end) return { subscription: cancelNow(core, sub, AUTOMATIC), invoice: null };
  const before = { items: structuredClone(sub.items), latest_invoice: sub.latest_invoice };
  const { end } = periodOf(sub);
  const nextEnd = nextPeriodEnd(sub.billing_cycle_anchor, end);
  for (const i of sub.items.data) {
    i.current_period_start = end;
    i.current_period_end = nextEnd;
  }
  // GUESS: the order. Stripe emits customer.subscription.updated for the new period when it
  // creates the renewal invoice; here it follows the payment outcome so one update carries both
  // the period and (on failure) the status change.
  const invoice = billInvoice(core, sub, 'subscription_cycle', outcome === 'paid', AUTOMATIC);
  const previous: Record<string, unknown> = { items: before.items, latest_invoice: before.latest_invoice };
  if (outcome === 'failed' && sub.status !== 'past_due') {
    previous.status = sub.status;
    sub.status = 'past_due';
  }
  core.emit('customer.subscription.updated', sub, AUTOMATIC, previous);
  return { subscription: sub, invoice };
}

/** The open invoice is paid (a retry succeeded or the customer paid it): invoice.paid, invoice.payment_succeeded, then the subscription back to active. */
export function payInvoice(core: StripeCore, inv: Invoice, cause: Cause): Invoice {
  if (inv.status === 'paid') throw invalidRequest('Invoice is already paid.');
  if (inv.status !== 'open') throw invalidRequest(`You can only pay an invoice that is open. This invoice is ${inv.status}.`);
  markPaid(inv);
  core.emit('invoice.paid', inv, cause);
  core.emit('invoice.payment_succeeded', inv, cause);
  const sub = core.state.subscriptions.get(inv.parent.subscription_details.subscription);
  if (sub && (sub.status === 'past_due' || sub.status === 'unpaid')) {
    const was = sub.status;
    sub.status = 'active';
    core.emit('customer.subscription.updated', sub, cause, { status: was });
  }
  return inv;
}

/** Switches every item to `price` (one-item subscriptions: the plan). No proration invoice. */
export function switchPrice(core: StripeCore, sub: Subscription, price: Price, cause: Cause, quantity?: number): Subscription {
  if (sub.status === 'canceled') throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
  // GUESS: proration. Stripe's default (create_prorations) adds proration items to the next
  // invoice; the emulator bills none, so the next renewal costs the new price exactly.
  const before = itemsSnapshot(sub);
  const item = sub.items.data[0]!;
  item.price = structuredClone(price);
  item.plan = planOf(price);
  if (quantity !== undefined) item.quantity = quantity;
  core.emit('customer.subscription.updated', sub, cause, before);
  return sub;
}

export function setCancelAtPeriodEnd(core: StripeCore, sub: Subscription, value: boolean, cause: Cause): Subscription {
  if (sub.cancel_at_period_end === value) return sub;
  const previous = { cancel_at_period_end: sub.cancel_at_period_end, cancel_at: sub.cancel_at, canceled_at: sub.canceled_at };
  sub.cancel_at_period_end = value;
  sub.cancel_at = value ? periodOf(sub).end : null;
  sub.canceled_at = value ? now() : null;
  sub.cancellation_details = { comment: null, feedback: null, reason: value ? 'cancellation_requested' : null };
  core.emit('customer.subscription.updated', sub, cause, previous);
  return sub;
}
