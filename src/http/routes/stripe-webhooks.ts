// POST /webhooks/stripe: Stripe's events, verified with the official SDK on the raw body
// (STRIPE_WEBHOOK_SECRET; a bad or stale signature is 400 and nothing is stored). Each event id is
// recorded once; a new one queues the tenant's subscription read-back (src/engine/billing.ts) and,
// for a failed payment, a mail to the owners, in the same transaction. A repeat answers 200 and
// does nothing.
import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { recordStripeEvent } from '../../services/billing-stripe.ts';
import { ApiError } from '../errors.ts';

export async function stripeWebhookRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post('/webhooks/stripe', async (req, reply) => {
    const billing = ctx.billing;
    if (!billing) throw new ApiError(404, 'not_found', 'Billing is not set up on this StockClerk');
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const signature = req.headers['stripe-signature'];
    let event: Stripe.Event;
    try {
      // The SDK checks the HMAC and that the timestamp is within 5 minutes (replays refused).
      event = billing.stripe.webhooks.constructEvent(raw, typeof signature === 'string' ? signature : '', billing.webhookSecret);
    } catch (err) {
      throw new ApiError(400, 'invalid_signature', `Stripe signature refused: ${(err as Error).message}`);
    }
    const outcome = await withTx(ctx.db, (tx) =>
      recordStripeEvent(tx, event, { sealer: ctx.sealer, publicUrl: ctx.site.publicUrl, graceS: ctx.config.billingGraceS }),
    );
    ctx.jobs.nudgeRelay();
    return reply.code(200).send({ received: true, outcome });
  });
}
