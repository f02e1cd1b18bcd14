// StockClerk's side of Stripe, through the official SDK: Checkout for a paid plan, the Customer
// Portal for changes and cancellation, and reading a tenant's subscription back after a webhook.
// The same code talks to Stripe or to the emulator (emulators/stripe/) `npm start` runs without
// STRIPE_SECRET_KEY: only the SDK's host/port/protocol differ.
import Stripe from 'stripe';
import { AppError } from '../domain/errors.ts';
import { PAID_PLANS, type PaidPlan, type PlanName } from '../domain/plans.ts';
import type { SubscriptionState } from './billing.ts';
import type { Q, Scope } from './scope.ts';
import { billingSyncJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Sealer } from '../db/crypto.ts';
import { queueMail } from '../mail/outbox.ts';
import { paymentFailedMail } from '../mail/templates.ts';

export interface StripeSettings {
  secretKey: string;
  webhookSecret: string;
  /** The API's address when it is not api.stripe.com (the emulator), e.g. http://127.0.0.1:12111. */
  apiBase: string | null;
  /** Price ids per plan; a plan left out is looked up by its lookup key (`stockclerk_<plan>`). */
  prices: Partial<Record<PaidPlan, string>>;
}

/** Everything billing needs from Stripe, built once per process. */
export class StripeBilling {
  readonly stripe: Stripe;
  readonly webhookSecret: string;
  private readonly configured: Partial<Record<PaidPlan, string>>;
  private resolved: Promise<Record<PaidPlan, string>> | null = null;

  constructor(s: StripeSettings) {
    const base = s.apiBase ? new URL(s.apiBase) : null;
    this.stripe = new Stripe(s.secretKey, {
      maxNetworkRetries: 2,
      timeout: 15_000,
      ...(base
        ? {
            host: base.hostname,
            port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
            protocol: base.protocol.replace(':', '') as 'http' | 'https',
          }
        : {}),
    });
    this.webhookSecret = s.webhookSecret;
    this.configured = s.prices;
  }

  /** The price of each paid plan: configured, else found by lookup key (once; a failure is tried again next time). */
  prices(): Promise<Record<PaidPlan, string>> {
    this.resolved ??= (async () => {
      const missing = PAID_PLANS.filter((p) => !this.configured[p]);
      const found: Partial<Record<PaidPlan, string>> = { ...this.configured };
      if (missing.length) {
        const list = await this.stripe.prices.list({ lookup_keys: missing.map((p) => `stockclerk_${p}`), active: true, limit: 10 });
        for (const price of list.data) {
          const plan = PAID_PLANS.find((p) => `stockclerk_${p}` === price.lookup_key);
          if (plan) found[plan] = price.id;
        }
      }
      for (const p of PAID_PLANS) if (!found[p]) throw new Error(`no Stripe price for the ${p} plan (set STRIPE_PRICE_${p.toUpperCase()})`);
      return found as Record<PaidPlan, string>;
    })().catch((err: unknown) => {
      this.resolved = null;
      throw err;
    });
    return this.resolved;
  }

  async planOfPrice(priceId: string): Promise<PlanName | null> {
    const prices = await this.prices();
    return PAID_PLANS.find((p) => prices[p] === priceId) ?? null;
  }
}

const unavailable = (err: unknown) =>
  new AppError(502, 'billing_unavailable', `Stripe did not answer as expected: ${(err as Error).message}. Nothing was charged; try again.`);

/** The tenant's Stripe customer, made on first need (an idempotency key per tenant: a retry makes no second one). */
async function customerOf(q: Q, billing: StripeBilling, tenantId: string): Promise<string> {
  const { rows } = await q.query<{ stripe_customer_id: string | null; name: string; email: string | null }>(
    `select t.stripe_customer_id, t.name, (select email from users u where u.tenant_id = t.id and u.role = 'owner' order by created_at limit 1) as email
     from tenants t where t.id = $1`,
    [tenantId],
  );
  const t = rows[0]!;
  if (t.stripe_customer_id) return t.stripe_customer_id;
  const customer = await billing.stripe.customers
    .create({ name: t.name, email: t.email ?? undefined, metadata: { tenant_id: tenantId } }, { idempotencyKey: `stockclerk-customer-${tenantId}` })
    .catch((err: unknown) => {
      throw unavailable(err);
    });
  await q.query(`update tenants set stripe_customer_id = coalesce(stripe_customer_id, $2) where id = $1`, [tenantId, customer.id]);
  return customer.id;
}

/** A Checkout Session for a paid plan; the merchant pays on Stripe's page and comes back to /billing. */
export async function startCheckout(q: Q, billing: StripeBilling, scope: Scope, plan: PaidPlan, publicUrl: string): Promise<{ url: string }> {
  const { rows } = await q.query<{ billing_status: string; stripe_subscription_id: string | null }>(
    `select billing_status, stripe_subscription_id from tenants where id = $1`,
    [scope.tenantId],
  );
  if (rows[0]?.stripe_subscription_id && rows[0].billing_status !== 'canceled') {
    throw new AppError(409, 'already_subscribed', 'This account already has a subscription: change the plan in the billing portal');
  }
  const price = (await billing.prices().catch((err: unknown) => Promise.reject(unavailable(err))))[plan];
  const customer = await customerOf(q, billing, scope.tenantId);
  const session = await billing.stripe.checkout.sessions
    .create({
      mode: 'subscription',
      customer,
      line_items: [{ price, quantity: 1 }],
      success_url: `${publicUrl}/billing?checkout=success`,
      cancel_url: `${publicUrl}/billing?checkout=cancelled`,
      client_reference_id: scope.tenantId,
      metadata: { tenant_id: scope.tenantId, plan },
      subscription_data: { metadata: { tenant_id: scope.tenantId, plan } },
    })
    .catch((err: unknown) => {
      throw unavailable(err);
    });
  if (!session.url) throw unavailable(new Error('the checkout session has no url'));
  return { url: session.url };
}

/**
 * The Customer Portal, where the merchant changes plan or card, or cancels. What they do there comes
 * back as Stripe webhooks (applied by the billing_sync job), never from this call. 409 before any
 * checkout: without a customer there is nothing for the portal to manage.
 */
export async function openPortal(q: Q, billing: StripeBilling, scope: Scope, publicUrl: string): Promise<{ url: string }> {
  const { rows } = await q.query<{ stripe_customer_id: string | null }>(`select stripe_customer_id from tenants where id = $1`, [scope.tenantId]);
  const customer = rows[0]?.stripe_customer_id;
  if (!customer)
    throw new AppError(409, 'no_subscription', 'Choose a plan first: the billing portal manages an existing subscription (POST /api/v1/billing/checkout)');
  const session = await billing.stripe.billingPortal.sessions.create({ customer, return_url: `${publicUrl}/billing` }).catch((err: unknown) => {
    throw unavailable(err);
  });
  return { url: session.url };
}

/** The subscription Stripe holds for the tenant now (the billing_sync job applies it with applySubscription); null without a customer. */
export async function readSubscription(q: Q, billing: StripeBilling, tenantId: string): Promise<SubscriptionState | null> {
  const { rows } = await q.query<{ stripe_customer_id: string | null }>(`select stripe_customer_id from tenants where id = $1`, [tenantId]);
  const customer = rows[0]?.stripe_customer_id;
  if (!customer) return null;
  const subs = await billing.stripe.subscriptions.list({ customer, status: 'all', limit: 10 });
  // The one that matters: a live one if any (newest first), else the newest that ended.
  const live = ['active', 'trialing', 'past_due', 'unpaid'];
  const sub = subs.data.find((s) => live.includes(s.status)) ?? subs.data[0] ?? null;
  const priceId = sub?.items.data[0]?.price.id ?? null;
  return { subscriptionId: sub?.id ?? null, status: sub?.status ?? null, plan: priceId ? await billing.planOfPrice(priceId) : null };
}

/** The tenant a Stripe event is about: by its customer (set before any checkout), else the checkout's client_reference_id. */
export async function tenantOfEvent(q: Q, event: Stripe.Event): Promise<string | null> {
  const o = event.data.object as { object?: string; id?: string; customer?: string | { id: string } | null; client_reference_id?: string | null };
  const customer = o.object === 'customer' ? o.id : typeof o.customer === 'string' ? o.customer : (o.customer?.id ?? null);
  if (customer) {
    const { rows } = await q.query<{ id: string }>(`select id from tenants where stripe_customer_id = $1`, [customer]);
    if (rows[0]) return rows[0].id;
  }
  if (o.client_reference_id) {
    const { rows } = await q.query<{ id: string }>(`update tenants set stripe_customer_id = coalesce(stripe_customer_id, $2) where id = $1 returning id`, [
      o.client_reference_id,
      customer,
    ]);
    return rows[0]?.id ?? null;
  }
  return null;
}

/** The events that can change a tenant's plan or standing. Others are recorded and acknowledged. */
const RELEVANT = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
]);

export type StripeEventOutcome = 'duplicate' | 'recorded' | 'applied';

/**
 * A verified Stripe event, in the caller's transaction: recorded once by its id; a new relevant one
 * queues the tenant's subscription read-back and, for a failed payment, a mail to the owners.
 */
export async function recordStripeEvent(
  q: Q,
  event: Stripe.Event,
  mail: { sealer: Sealer; publicUrl: string | null; graceS: number },
): Promise<StripeEventOutcome> {
  const tenantId = RELEVANT.has(event.type) ? await tenantOfEvent(q, event) : null;
  const { rowCount } = await q.query(`insert into stripe_events (id, type, tenant_id) values ($1, $2, $3) on conflict (id) do nothing`, [
    event.id,
    event.type,
    tenantId,
  ]);
  if (!rowCount) return 'duplicate';
  if (!tenantId) return 'recorded';
  await addJobs(q, [billingSyncJob(tenantId)]);
  if (event.type === 'invoice.payment_failed') {
    const { rows } = await q.query<{ email: string; tenant: string }>(
      `select u.email, t.name as tenant from users u join tenants t on t.id = u.tenant_id where u.tenant_id = $1 and u.role = 'owner'`,
      [tenantId],
    );
    await queueMail(
      q,
      mail.sealer,
      rows.map((r) => paymentFailedMail({ to: r.email, tenantName: r.tenant, publicUrl: mail.publicUrl, graceS: mail.graceS })),
    );
  }
  return 'applied';
}
