// POST /webhooks/stripe: Stripe's events, verified with the official SDK on the raw body
// (STRIPE_WEBHOOK_SECRET; a bad or stale signature is 400 and nothing is stored). Each event id is
// recorded once; a new one queues the tenant's subscription read-back (src/engine/billing.ts) and,
// for a failed payment, a mail to the owners, in the same transaction. A repeat answers 200 and
// does nothing.
import type { FastifyInstance } from 'fastify';
import type Stripe from 'stripe';
import { billingSyncJob } from '../../db/job-specs.ts';
import { addJobs } from '../../db/jobs.ts';
import { withTx } from '../../db/pool.ts';
import type { AppContext } from '../../engine/context.ts';
import { queueMail } from '../../mail/outbox.ts';
import { paymentFailedMail } from '../../mail/templates.ts';
import { tenantOfEvent } from '../../services/billing-stripe.ts';
import { ApiError } from '../errors.ts';

/** The events that can change a tenant's plan or standing. Others are recorded and acknowledged. */
const RELEVANT = new Set([
  'checkout.session.completed',
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.paid',
  'invoice.payment_failed',
]);

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
    const outcome = await withTx(ctx.db, async (tx) => {
      const tenantId = RELEVANT.has(event.type) ? await tenantOfEvent(tx, event) : null;
      const { rowCount } = await tx.query(`insert into stripe_events (id, type, tenant_id) values ($1, $2, $3) on conflict (id) do nothing`, [
        event.id,
        event.type,
        tenantId,
      ]);
      if (!rowCount) return 'duplicate';
      if (!tenantId) return 'recorded';
      await addJobs(tx, [billingSyncJob(tenantId)]);
      if (event.type === 'invoice.payment_failed') {
        const { rows } = await tx.query<{ email: string; tenant: string }>(
          `select u.email, t.name as tenant from users u join tenants t on t.id = u.tenant_id where u.tenant_id = $1 and u.role = 'owner'`,
          [tenantId],
        );
        await queueMail(
          tx,
          ctx.sealer,
          rows.map((r) => paymentFailedMail({ to: r.email, tenantName: r.tenant, publicUrl: ctx.site.publicUrl, graceS: ctx.config.billingGraceS })),
        );
      }
      return 'applied';
    });
    ctx.jobs.nudgeRelay();
    return reply.code(200).send({ received: true, outcome });
  });
}
