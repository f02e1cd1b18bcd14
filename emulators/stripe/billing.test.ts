// The Stripe emulator driven the way StockClerk drives Stripe: the official SDK as the client,
// hosted pages posted to like a browser, webhooks received on a local server and verified with
// the SDK's own verifier (which proves the emulator signs with Stripe's scheme).
import Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStripeEmulator, type StripeEmulator } from './index.ts';
import { startReceiver, type Receiver } from './testing.ts';

const SECRET = 'whsec_test_billing_secret';
let emu: StripeEmulator;
let rx: Receiver;
let stripe: Stripe;

beforeAll(async () => {
  rx = await startReceiver();
  emu = await startStripeEmulator({ port: 0, webhook: { url: rx.url, secret: SECRET } });
  stripe = new Stripe('sk_test_emulator_billing', { host: '127.0.0.1', port: emu.port, protocol: 'http' });
});
afterAll(async () => {
  await emu.close();
  await rx.close();
});
beforeEach(() => {
  rx.received.length = 0;
});
afterEach(async () => {
  await emu.drain();
});

/** Every received webhook, verified with the SDK (throws on a bad signature), as events. */
function verified(): Stripe.Event[] {
  return rx.received.map((r) => stripe.webhooks.constructEvent(r.body, r.signature, SECRET));
}

const control = async (path: string, body: unknown = {}) => {
  const res = await fetch(`${emu.url}/_control${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

async function checkout(plan: 'stockclerk_starter' | 'stockclerk_growth' = 'stockclerk_starter') {
  const customer = await stripe.customers.create({ email: 'owner@shop.test', name: 'Corner Shop', metadata: { tenant_id: 't_1' } });
  const session = await stripe.checkout.sessions.create({
    mode: 'subscription',
    customer: customer.id,
    line_items: [{ price: emu.prices[plan]!, quantity: 1 }],
    success_url: 'http://app.test/billing?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://app.test/billing?cancelled=1',
    client_reference_id: 't_1',
    metadata: { tenant_id: 't_1', plan: 'starter' },
    subscription_data: { metadata: { tenant_id: 't_1' } },
  });
  return { customer, session };
}

async function pay(url: string, outcome: 'paid' | 'declined') {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ outcome }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function paidSubscription() {
  const { customer, session } = await checkout();
  await pay(session.url!, 'paid');
  await rx.waitFor((r) => r.some((x) => x.type === 'invoice.payment_succeeded'));
  const s = await stripe.checkout.sessions.retrieve(session.id);
  rx.received.length = 0;
  return { customer, session: s, subscription: await stripe.subscriptions.retrieve(s.subscription as string) };
}

describe('seeded plans', () => {
  it('lists the two monthly GBP prices by lookup key', async () => {
    const prices = await stripe.prices.list({ lookup_keys: ['stockclerk_starter', 'stockclerk_growth'], active: true, expand: ['data.product'] });
    const byKey = Object.fromEntries(prices.data.map((p) => [p.lookup_key, p]));
    expect(Object.keys(byKey).sort()).toEqual(['stockclerk_growth', 'stockclerk_starter']);
    expect(byKey.stockclerk_starter).toMatchObject({
      id: emu.prices.stockclerk_starter,
      unit_amount: 5000,
      currency: 'gbp',
      type: 'recurring',
      recurring: { interval: 'month', interval_count: 1 },
    });
    expect(byKey.stockclerk_growth).toMatchObject({ id: emu.prices.stockclerk_growth, unit_amount: 10000, currency: 'gbp' });
    expect((byKey.stockclerk_starter!.product as Stripe.Product).name).toBe('StockClerk');
    expect((await stripe.prices.list({ lookup_keys: ['stockclerk_growth'] })).data.map((p) => p.id)).toEqual([emu.prices.stockclerk_growth]);
  });
});

describe('hosted checkout', () => {
  it('creates an open session whose url serves a page with the plan, price and both buttons', async () => {
    const { customer, session } = await checkout();
    expect(session.id).toMatch(/^cs_test_/);
    expect(session).toMatchObject({
      object: 'checkout.session',
      mode: 'subscription',
      status: 'open',
      payment_status: 'unpaid',
      customer: customer.id,
      client_reference_id: 't_1',
      amount_total: 5000,
      currency: 'gbp',
      subscription: null,
    });
    expect(session.url).toBe(`${emu.url}/checkout/${session.id}`);
    const html = await (await fetch(session.url!)).text();
    expect(html).toContain('£50.00');
    expect(html).toContain('StockClerk');
    expect(html).toMatch(/value="paid"/);
    expect(html).toMatch(/value="declined"/);
    const items = await stripe.checkout.sessions.listLineItems(session.id);
    expect(items.data[0]).toMatchObject({ quantity: 1, amount_total: 5000, price: { id: emu.prices.stockclerk_starter } });
  });

  it('paid: completes the session, starts an active monthly subscription and a paid invoice, and sends signed webhooks in order', async () => {
    const { customer, session } = await checkout();
    const res = await pay(session.url!, 'paid');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'complete', redirect_url: `http://app.test/billing?session=${session.id}` });

    await rx.waitFor((r) => r.some((x) => x.type === 'invoice.payment_succeeded'));
    const events = verified();
    const types: string[] = events.map((e) => e.type);
    const at = (t: string) => types.indexOf(t);
    expect(at('checkout.session.completed')).toBeGreaterThanOrEqual(0);
    expect(at('checkout.session.completed')).toBeLessThan(at('customer.subscription.created'));
    expect(at('customer.subscription.created')).toBeLessThan(at('invoice.paid'));
    for (const e of events) {
      expect(e).toMatchObject({ object: 'event', livemode: false, api_version: expect.any(String) as unknown });
      expect(e.id).toMatch(/^evt_/);
    }

    const done = await stripe.checkout.sessions.retrieve(session.id);
    expect(done).toMatchObject({ status: 'complete', payment_status: 'paid', customer: customer.id });
    const completed = events.find((e) => e.type === 'checkout.session.completed')!.data.object as Stripe.Checkout.Session;
    expect(completed).toMatchObject({
      id: session.id,
      client_reference_id: 't_1',
      metadata: { tenant_id: 't_1', plan: 'starter' },
      subscription: done.subscription,
      status: 'complete',
    });

    const sub = await stripe.subscriptions.retrieve(done.subscription as string);
    expect(sub.id).toMatch(/^sub_/);
    expect(sub).toMatchObject({ status: 'active', customer: customer.id, metadata: { tenant_id: 't_1' }, cancel_at_period_end: false });
    const item = sub.items.data[0]!;
    expect(item.price.id).toBe(emu.prices.stockclerk_starter);
    const days = (item.current_period_end - item.current_period_start) / 86400;
    expect(days).toBeGreaterThanOrEqual(28);
    expect(days).toBeLessThanOrEqual(31);
    const created = events.find((e) => e.type === 'customer.subscription.created')!.data.object as Stripe.Subscription;
    expect(created).toMatchObject({ id: sub.id, status: 'active', metadata: { tenant_id: 't_1' } });

    const invoices = await stripe.invoices.list({ subscription: sub.id });
    expect(invoices.data).toHaveLength(1);
    const inv = invoices.data[0]!;
    expect(inv.id).toMatch(/^in_/);
    expect(inv).toMatchObject({
      status: 'paid',
      amount_paid: 5000,
      amount_remaining: 0,
      customer: customer.id,
      billing_reason: 'subscription_create',
      currency: 'gbp',
    });
    expect(inv.parent?.subscription_details?.subscription).toBe(sub.id);
    const paidEvent = events.find((e) => e.type === 'invoice.paid')!.data.object as Stripe.Invoice;
    expect(paidEvent).toMatchObject({ id: inv.id, status: 'paid' });

    // Every event is also readable through the API, as delivered.
    const fetched = await stripe.events.retrieve(events[0]!.id);
    expect(fetched.type).toBe(events[0]!.type);
    const listed = await stripe.events.list({ type: 'invoice.paid', limit: 100 });
    expect(listed.data.map((e) => e.id)).toContain(events.find((e) => e.type === 'invoice.paid')!.id);

    // Paying again changes nothing: no second subscription, no more webhooks.
    await emu.drain();
    const n = rx.received.length;
    expect((await pay(session.url!, 'paid')).body).toMatchObject({ status: 'complete', subscription: sub.id });
    await emu.drain();
    expect(rx.received.length).toBe(n);
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(1);
  });

  it('a form post from the Pay button answers 303 to success_url', async () => {
    const { session } = await checkout();
    const res = await fetch(session.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=paid',
      redirect: 'manual',
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(`http://app.test/billing?session=${session.id}`);
    expect((await stripe.checkout.sessions.retrieve(session.id)).status).toBe('complete');
  });

  it('declined: card_declined, nothing created, no webhooks, the session stays open and can still be paid', async () => {
    const { customer, session } = await checkout();
    const res = await pay(session.url!, 'declined');
    expect(res.body).toMatchObject({ status: 'open', error: { type: 'card_error', code: 'card_declined' } });
    const form = await fetch(session.url!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'outcome=declined',
      redirect: 'manual',
    });
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('Your card was declined.');
    await emu.drain();
    expect(rx.received.filter((r) => r.type !== 'customer.created')).toEqual([]);
    expect(await stripe.checkout.sessions.retrieve(session.id)).toMatchObject({ status: 'open', payment_status: 'unpaid', subscription: null });
    expect((await stripe.subscriptions.list({ customer: customer.id, status: 'all' })).data).toHaveLength(0);
    expect((await stripe.invoices.list({ customer: customer.id })).data).toHaveLength(0);
    expect((await pay(session.url!, 'paid')).body).toMatchObject({ status: 'complete' });
  });
});

describe('session expiry', () => {
  it('an expired session cannot be paid and sends checkout.session.expired', async () => {
    const { session } = await checkout();
    const expired = await stripe.checkout.sessions.expire(session.id);
    expect(expired).toMatchObject({ status: 'expired', url: null });
    await rx.waitFor((r) => r.some((x) => x.type === 'checkout.session.expired'));
    expect(verified().find((e) => e.type === 'checkout.session.expired')!.data.object).toMatchObject({ id: session.id, status: 'expired' });
    expect((await pay(session.url!, 'paid')).status).toBe(410);
    expect((await stripe.checkout.sessions.retrieve(session.id)).subscription).toBeNull();
    await expect(stripe.checkout.sessions.expire(session.id)).rejects.toMatchObject({ statusCode: 400 });
  });
});

describe('renewals (control API)', () => {
  it('failed renewal -> past_due with an open invoice; paying it -> active again; a paid renewal advances the period', async () => {
    const { subscription } = await paidSubscription();
    const end1 = subscription.items.data[0]!.current_period_end;

    const failed = await control(`/subscriptions/${subscription.id}/renew`, { outcome: 'failed' });
    expect(failed.status).toBe(200);
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.updated'));
    let events = verified();
    expect(events.map((e) => e.type)).toEqual(['invoice.created', 'invoice.finalized', 'invoice.payment_failed', 'customer.subscription.updated']);
    const upd = events[3]!;
    expect(upd.data.object).toMatchObject({ id: subscription.id, status: 'past_due' });
    expect(upd.data.previous_attributes).toMatchObject({ status: 'active' });
    const pastDue = await stripe.subscriptions.retrieve(subscription.id);
    expect(pastDue.status).toBe('past_due');
    expect(pastDue.items.data[0]!.current_period_start).toBe(end1);
    const open = await stripe.invoices.list({ subscription: subscription.id, status: 'open' });
    expect(open.data).toHaveLength(1);
    expect(open.data[0]).toMatchObject({ status: 'open', amount_paid: 0, amount_remaining: 5000, billing_reason: 'subscription_cycle', attempted: true });
    expect((await stripe.subscriptions.list({ status: 'past_due', customer: subscription.customer as string })).data.map((s) => s.id)).toEqual([
      subscription.id,
    ]);

    rx.received.length = 0;
    expect((await control(`/subscriptions/${subscription.id}/pay`)).status).toBe(200);
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.updated'));
    events = verified();
    expect(events.map((e) => e.type)).toEqual(['invoice.paid', 'invoice.payment_succeeded', 'customer.subscription.updated']);
    expect(events[2]!.data).toMatchObject({ object: { status: 'active' }, previous_attributes: { status: 'past_due' } });
    expect((await stripe.invoices.retrieve(open.data[0]!.id)).status).toBe('paid');
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('active');
    // Paying a paid invoice is refused the way Stripe refuses it.
    expect((await control(`/invoices/${open.data[0]!.id}/pay`)).status).toBe(400);

    rx.received.length = 0;
    await control(`/subscriptions/${subscription.id}/renew`, { outcome: 'paid' });
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.updated'));
    events = verified();
    expect(events.map((e) => e.type)).toEqual([
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
      'customer.subscription.updated',
    ]);
    const renewed = await stripe.subscriptions.retrieve(subscription.id);
    expect(renewed.status).toBe('active');
    expect(renewed.items.data[0]!.current_period_start).toBeGreaterThan(end1);
    expect((await stripe.invoices.list({ subscription: subscription.id })).data.map((i) => i.status)).toEqual(['paid', 'paid', 'paid']);
  });

  it('cancel through the control API sends customer.subscription.deleted', async () => {
    const { subscription } = await paidSubscription();
    expect((await control(`/subscriptions/${subscription.id}/cancel`)).body).toMatchObject({ status: 'canceled' });
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.deleted'));
    expect(verified().map((e) => e.type)).toEqual(['customer.subscription.deleted']);
    expect((await control(`/subscriptions/${subscription.id}/renew`, { outcome: 'paid' })).status).toBe(400);
  });

  it('a subscription set to cancel at period end ends at renewal', async () => {
    const { subscription } = await paidSubscription();
    const upd = await stripe.subscriptions.update(subscription.id, { cancel_at_period_end: true });
    expect(upd).toMatchObject({ cancel_at_period_end: true, cancel_at: subscription.items.data[0]!.current_period_end, status: 'active' });
    await control(`/subscriptions/${subscription.id}/renew`, { outcome: 'paid' });
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.deleted'));
    expect(verified().map((e) => e.type)).toEqual(['customer.subscription.updated', 'customer.subscription.deleted']);
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
  });
});

describe('customer portal', () => {
  it('switches plan and cancels from the portal page', async () => {
    const { customer, subscription } = await paidSubscription();
    const portal = await stripe.billingPortal.sessions.create({ customer: customer.id, return_url: 'http://app.test/billing' });
    expect(portal.id).toMatch(/^bps_/);
    expect(portal.url).toBe(`${emu.url}/portal/${portal.id}`);
    const html = await (await fetch(portal.url)).text();
    expect(html).toContain('Switch to Growth');
    expect(html).toContain('Cancel subscription');

    const sw = await fetch(portal.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'switch', price: emu.prices.stockclerk_growth }),
    });
    expect(sw.status).toBe(200);
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.updated'));
    const upd = verified().find((e) => e.type === 'customer.subscription.updated')!;
    expect((upd.data.object as Stripe.Subscription).items.data[0]!.price.id).toBe(emu.prices.stockclerk_growth);
    const prev = upd.data.previous_attributes as { items: Stripe.ApiList<Stripe.SubscriptionItem> };
    expect(prev.items.data[0]!.price.id).toBe(emu.prices.stockclerk_starter);
    expect((await stripe.subscriptions.retrieve(subscription.id)).items.data[0]!.price.id).toBe(emu.prices.stockclerk_growth);

    rx.received.length = 0;
    const cancel = await fetch(portal.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `action=cancel&subscription=${subscription.id}`,
      redirect: 'manual',
    });
    expect(cancel.status).toBe(303);
    expect(cancel.headers.get('location')).toBe('http://app.test/billing');
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.deleted'));
    expect(verified()[0]!.data.object).toMatchObject({ id: subscription.id, status: 'canceled' });
    expect((await stripe.subscriptions.retrieve(subscription.id)).status).toBe('canceled');
    expect((await stripe.subscriptions.list({ customer: customer.id })).data).toHaveLength(0);
  });
});

describe('subscriptions API', () => {
  it('updates items and metadata, then cancels with DELETE, each with its event', async () => {
    const { subscription } = await paidSubscription();
    const itemId = subscription.items.data[0]!.id;
    const upd = await stripe.subscriptions.update(subscription.id, {
      items: [{ id: itemId, price: emu.prices.stockclerk_growth }],
      metadata: { plan: 'growth' },
    });
    expect(upd.items.data).toHaveLength(1);
    expect(upd.items.data[0]).toMatchObject({ id: itemId, price: { id: emu.prices.stockclerk_growth } });
    expect(upd.metadata).toEqual({ tenant_id: 't_1', plan: 'growth' });
    const del = await stripe.subscriptions.cancel(subscription.id);
    expect(del).toMatchObject({ status: 'canceled' });
    expect(del.canceled_at).toEqual(expect.any(Number));
    await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.deleted'));
    const events = verified();
    expect(events.map((e) => e.type)).toEqual(['customer.subscription.updated', 'customer.subscription.deleted']);
    expect(events[0]!.data.previous_attributes).toMatchObject({ metadata: { tenant_id: 't_1' } });
    expect(events[0]!.request?.idempotency_key).toMatch(/./);
    await expect(stripe.subscriptions.update(subscription.id, { items: [{ id: itemId, price: emu.prices.stockclerk_starter }] })).rejects.toMatchObject({
      statusCode: 400,
    });
  });
});

describe('webhook delivery', () => {
  it('retries a failing endpoint with backoff and keeps one subscription’s events in order', async () => {
    const { session } = await checkout();
    await emu.drain();
    rx.received.length = 0;
    rx.failNext(2);
    await pay(session.url!, 'paid');
    await rx.waitFor((r) => r.some((x) => x.type === 'invoice.payment_succeeded'));
    const types = verified().map((e) => e.type);
    expect(types).toEqual([
      'checkout.session.completed',
      'customer.subscription.created',
      'invoice.created',
      'invoice.finalized',
      'invoice.paid',
      'invoice.payment_succeeded',
    ]);
    const res = await fetch(`${emu.url}/_control/deliveries?type=checkout.session.completed`);
    const { data } = (await res.json()) as { data: Array<{ event_id: string; status: string; attempts: number }> };
    const mine = data.at(-1)!;
    expect(mine).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('endpoints made through the API get a whsec_ secret and only their enabled events', async () => {
    const other = await startReceiver();
    try {
      const ep = await stripe.webhookEndpoints.create({ url: other.url, enabled_events: ['invoice.paid'] });
      expect(ep.secret).toMatch(/^whsec_/);
      const { session } = await checkout();
      await pay(session.url!, 'paid');
      await other.waitFor((r) => r.length >= 1);
      await emu.drain();
      expect(other.received.map((r) => r.type)).toEqual(['invoice.paid']);
      expect(stripe.webhooks.constructEvent(other.received[0]!.body, other.received[0]!.signature, ep.secret!).type).toBe('invoice.paid');
      expect(() => stripe.webhooks.constructEvent(other.received[0]!.body, other.received[0]!.signature, SECRET)).toThrow();
      await stripe.webhookEndpoints.del(ep.id);
    } finally {
      await other.close();
    }
  });
});

describe('test clocks', () => {
  it('advancing past period ends renews at the clock’s time; a failing card leaves the subscription past_due', async () => {
    const start = Math.floor(Date.UTC(2027, 0, 15, 12) / 1000);
    const clock = await stripe.testHelpers.testClocks.create({ frozen_time: start, name: 'renewals' });
    expect(clock).toMatchObject({ object: 'test_helpers.test_clock', status: 'ready', frozen_time: start });
    expect(clock.id).toMatch(/^clock_/);
    const customer = await stripe.customers.create({ email: 'clock@shop.test', test_clock: clock.id });
    const session = await stripe.checkout.sessions.create({
      mode: 'subscription',
      customer: customer.id,
      line_items: [{ price: emu.prices.stockclerk_starter!, quantity: 1 }],
      success_url: 'http://app.test/ok',
      subscription_data: { metadata: { tenant_id: 't_clock' } },
    });
    await pay(session.url!, 'paid');
    const subId = (await stripe.checkout.sessions.retrieve(session.id)).subscription as string;
    let sub = await stripe.subscriptions.retrieve(subId);
    expect(sub.test_clock).toBe(clock.id);
    expect(sub.start_date).toBe(start);
    expect(sub.items.data[0]!.current_period_end).toBe(Math.floor(Date.UTC(2027, 1, 15, 12) / 1000));

    // One month and a day later: one paid renewal.
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: Math.floor(Date.UTC(2027, 1, 16) / 1000) });
    expect((await stripe.testHelpers.testClocks.retrieve(clock.id)).status).toBe('ready');
    sub = await stripe.subscriptions.retrieve(subId);
    expect(sub.status).toBe('active');
    expect(sub.items.data[0]!.current_period_end).toBe(Math.floor(Date.UTC(2027, 2, 15, 12) / 1000));
    let invoices = await stripe.invoices.list({ subscription: subId });
    expect(invoices.data.map((i) => [i.billing_reason, i.status])).toEqual([
      ['subscription_cycle', 'paid'],
      ['subscription_create', 'paid'],
    ]);
    expect(invoices.data[0]!.created).toBe(Math.floor(Date.UTC(2027, 1, 15, 12) / 1000));

    // The card starts failing; the next period end leaves an open invoice and past_due.
    await control(`/customers/${customer.id}/charges`, { outcome: 'failed' });
    await stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: Math.floor(Date.UTC(2027, 2, 20) / 1000) });
    sub = await stripe.subscriptions.retrieve(subId);
    expect(sub.status).toBe('past_due');
    invoices = await stripe.invoices.list({ subscription: subId, status: 'open' });
    expect(invoices.data).toHaveLength(1);
    await emu.drain();
    const types = verified()
      .filter((e) => e.type.startsWith('invoice.payment_failed') || e.type === 'test_helpers.test_clock.ready')
      .map((e) => e.type);
    expect(types).toContain('invoice.payment_failed');
    await expect(stripe.testHelpers.testClocks.advance(clock.id, { frozen_time: start })).rejects.toMatchObject({ statusCode: 400, param: 'frozen_time' });
  });
});
