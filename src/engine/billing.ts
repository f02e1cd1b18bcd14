// The billing job: after a Stripe event, read the tenant's subscription back from Stripe and apply
// it (src/services/billing-stripe.ts). Stripe may deliver events late, twice or out of order; the
// subscription it holds now is the answer whatever the order.
import type { TenantJob } from '../db/job-specs.ts';
import { withTx } from '../db/pool.ts';
import { queueMail } from '../mail/outbox.ts';
import { pushesPausedMail, trialEndedMail, trialEndingMail } from '../mail/templates.ts';
import { applySubscription, LAPSED_SQL, pushesPausedSql } from '../services/billing.ts';
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

/** How long before a trial ends its owners are told. */
export const TRIAL_REMINDER_DAYS = 3;

// Each notice: which tenants are due it, and the period it is about (a new trial end or a new lapse
// is a new period, so it mails again; the same one never twice: billing_notices' primary key).
const NOTICES = {
  trial_ending: {
    due: `t.billing_status = 'trialing' and t.trial_ends_at > now() and t.trial_ends_at <= now() + make_interval(days => ${TRIAL_REMINDER_DAYS})`,
    period: `t.trial_ends_at::text`,
  },
  // Only while the grace period runs: past it, the pushes_paused notice says what matters.
  trial_ended: { due: `t.billing_status = 'trialing' and t.trial_ends_at <= now() and not ${pushesPausedSql('$1')}`, period: `t.trial_ends_at::text` },
  pushes_paused: { due: `t.billing_status <> 'active' and ${pushesPausedSql('$1')}`, period: `${LAPSED_SQL}::text` },
} as const;

/**
 * The periodic billing mails to a tenant's owners: the trial ends in a few days, the trial has
 * ended (with the date pushes stop), and pushes have stopped. Each at most once per period.
 */
export async function billingNotices(ctx: AppContext): Promise<void> {
  const graceS = ctx.config.billingGraceS;
  const publicUrl = ctx.site.publicUrl;
  for (const [kind, n] of Object.entries(NOTICES)) {
    await withTx(ctx.db, async (tx) => {
      const { rows } = await tx.query<{ email: string; tenant: string; trial_ends_at: Date; grace_ends_at: Date }>(
        `with due as (
           insert into billing_notices (tenant_id, kind, period)
           select t.id, $2, ${n.period} from tenants t where ${n.due}
           on conflict do nothing returning tenant_id)
         select u.email, t.name as tenant, t.trial_ends_at, ${LAPSED_SQL} + make_interval(secs => $1) as grace_ends_at
         from due join tenants t on t.id = due.tenant_id join users u on u.tenant_id = t.id and u.role = 'owner'`,
        [graceS, kind],
      );
      const mails = rows.map((r) =>
        kind === 'trial_ending'
          ? trialEndingMail({ to: r.email, publicUrl, tenantName: r.tenant, trialEndsAt: r.trial_ends_at })
          : kind === 'trial_ended'
            ? trialEndedMail({ to: r.email, publicUrl, tenantName: r.tenant, graceEndsAt: r.grace_ends_at })
            : pushesPausedMail({ to: r.email, publicUrl, tenantName: r.tenant }),
      );
      await queueMail(tx, ctx.sealer, mails);
    });
  }
}
