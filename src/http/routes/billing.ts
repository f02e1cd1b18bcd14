// Billing: the tenant's plan and standing (everyone reads it: the dashboard's banner and limits),
// and for owners Stripe Checkout to buy a plan and the Customer Portal to change or cancel it.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { PAID_PLANS, PLAN_NAMES } from '../../domain/plans.ts';
import type { AppContext } from '../../engine/context.ts';
import { BILLING_STATUSES, getBilling } from '../../services/billing.ts';
import { openPortal, startCheckout } from '../../services/billing-stripe.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody, named } from '../openapi.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { publicUrl } from './credentials.ts';

const TAG = 'billing';
const Billing = named(
  z.strictObject({
    plan: z.enum(PLAN_NAMES),
    status: z.enum(BILLING_STATUSES),
    trial_ends_at: timestamp,
    shop_limit: z.number().int().nullable().meta({ description: 'Connected channels allowed; null: no limit' }),
    shops_used: z.number().int(),
    lapsed_at: timestamp.nullable().meta({ description: 'When the trial ended or payment stopped' }),
    grace_ends_at: timestamp.nullable().meta({ description: 'When pushes stop (or stopped) unless paid' }),
    pushes_paused: z.boolean(),
    sync_paused: z.boolean().meta({ description: 'An operator paused all sync' }),
    has_subscription: z.boolean(),
  }),
  'Billing',
);
const Checkout = z.strictObject({ plan: z.enum(PAID_PLANS) });
const Url = z.strictObject({ url: z.string() });

export async function billingRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const stripe = () => {
    if (!ctx.billing) throw new ApiError(503, 'billing_not_configured', 'Billing is not set up on this StockClerk (no STRIPE_SECRET_KEY)');
    return ctx.billing;
  };

  app.get('/billing', doc({ summary: "The tenant's plan, limits and standing", tag: TAG, scope: 'read', responses: { 200: Billing } }), async (req) =>
    getBilling(ctx.db, req.auth.tenantId, ctx.config.billingGraceS),
  );

  app.post(
    '/billing/checkout',
    doc({
      summary: 'Start Stripe Checkout for a paid plan; answers the page to send the merchant to',
      tag: TAG,
      scope: 'owner',
      body: Checkout,
      responses: { 200: Url, 409: ErrorBody, 502: ErrorBody, 503: ErrorBody },
    }),
    async (req) => startCheckout(ctx.db, stripe(), scopeOf(req), parse(Checkout, req.body).plan, publicUrl(ctx)),
  );

  app.post(
    '/billing/portal',
    doc({
      summary: "Open Stripe's billing portal (change plan or card, cancel); answers the page to send the merchant to",
      tag: TAG,
      scope: 'owner',
      responses: { 200: Url, 409: ErrorBody, 502: ErrorBody, 503: ErrorBody },
    }),
    async (req) => openPortal(ctx.db, stripe(), scopeOf(req), publicUrl(ctx)),
  );
}
