// The billing job: after a Stripe event, read the tenant's subscription back from Stripe and apply
// it (src/services/billing-stripe.ts). Stripe may deliver events late, twice or out of order; the
// subscription it holds now is the answer whatever the order.
import type { TenantJob } from '../db/job-specs.ts';
import { withTx } from '../db/pool.ts';
import { applySubscription } from '../services/billing.ts';
import { readSubscription } from '../services/billing-stripe.ts';
import { systemScope } from '../services/scope.ts';
import type { AppContext } from './context.ts';

export async function billingSync(ctx: AppContext, p: TenantJob): Promise<void> {
  const billing = ctx.billing;
  if (!billing) return;
  // Read outside the transaction (a network call); apply inside, the tenant row locked.
  const state = await readSubscription(ctx.db, billing, p.tenantId);
  if (state) await withTx(ctx.db, (tx) => applySubscription(tx, systemScope(p.tenantId), state));
}
