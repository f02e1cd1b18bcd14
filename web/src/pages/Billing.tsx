// Billing: the plan, its standing and shops, the plans on offer, and the way to pay. Buying goes
// through Stripe's hosted Checkout: POST /billing/checkout answers its page, the browser goes
// there, and Stripe sends it back to /billing?checkout=success (or =cancelled). The plan changes
// only when Stripe's webhook has been applied, a moment after the return, so the page polls
// until it sees the plan it went to buy. Only the owner may buy (the route's scope is `owner`);
// admins see the page and are told so.
import { useEffect, useState } from 'react';
import { useLocation, useSearch } from 'wouter';
import { ApiError, api, errorText } from '../api.ts';
import { PLANS, ShopsUsed, dateTime, dateOnly, planLabel, standingOf, useBilling, type Billing, type PlanName } from '../billing.tsx';
import { useCan } from '../hooks.ts';
import { Badge, ErrorBox, Loading, PageHeader } from '../ui.tsx';

/** The plan a checkout went for, kept across the trip to Stripe's page and back. */
const PENDING_KEY = 'stockclerk.checkout';
/** How long the page waits for Stripe's webhook before saying it is taking a while. */
const CONFIRM_PATIENCE_MS = 60_000;

const STATUS_TEXT: Record<Billing['status'], string> = { trialing: 'trial', active: 'active', past_due: 'payment failed', canceled: 'ended' };
const STATUS_BADGE: Record<Billing['status'], string> = { trialing: 'info', active: 'ok', past_due: 'failed', canceled: 'paused' };

const money = (pence: number) => new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP', maximumFractionDigits: 0 }).format(pence / 100);

function pendingPlan(): PlanName | null {
  const p = sessionStorage.getItem(PENDING_KEY);
  return p && p in PLANS ? (p as PlanName) : null;
}

/** Bought and applied: the plan that was paid for (or any paid plan, when the tab forgot which) is active. */
const confirmed = (b: Billing, wanted: PlanName | null) => b.status === 'active' && b.has_subscription && (wanted === null || b.plan === wanted);

export default function BillingPage() {
  const owner = useCan('owner');
  const checkout = new URLSearchParams(useSearch()).get('checkout');
  const [, navigate] = useLocation();
  const [wanted] = useState(pendingPlan);
  // Back from paying: read the standing every second until Stripe's webhook has been applied.
  const [returned, setReturned] = useState<'confirming' | 'confirmed' | null>(checkout === 'success' ? 'confirming' : null);
  const waiting = returned === 'confirming';
  const [slow, setSlow] = useState(false);
  const q = useBilling({ poll: waiting ? 1_000 : false });
  const done = waiting && q.data !== undefined && confirmed(q.data, wanted);
  useEffect(() => {
    if (!done) return;
    setReturned('confirmed');
    sessionStorage.removeItem(PENDING_KEY);
    // Off the return address: reloading the page later must not wait for a payment again.
    navigate('/billing', { replace: true });
  }, [done, navigate]);
  useEffect(() => {
    if (!waiting) return;
    const t = setTimeout(() => setSlow(true), CONFIRM_PATIENCE_MS);
    return () => clearTimeout(t);
  }, [waiting]);
  if (q.isPending) return <Loading what="Loading billing" />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => q.refetch()} />;
  const b = q.data;
  return (
    <div>
      <PageHeader title="Billing">{owner && b.has_subscription && <ManageSubscription />}</PageHeader>
      {returned === 'confirming' && <Confirming slow={slow} />}
      {returned === 'confirmed' && <Confirmed billing={b} />}
      {checkout === 'cancelled' && (
        <p className="card callout" role="status" data-testid="checkout-message">
          Checkout cancelled: nothing was charged and your plan is unchanged.
        </p>
      )}
      <Current billing={b} owner={owner} />
      <Plans billing={b} owner={owner} />
    </div>
  );
}

function Confirming({ slow }: { slow: boolean }) {
  return (
    <p className="card callout" role="status" data-testid="checkout-message" data-state="confirming">
      <span className="spinner" aria-hidden /> Confirming your payment with Stripe…{' '}
      {slow && <>This is taking longer than usual. The page updates by itself once Stripe confirms; nothing more is charged if you wait.</>}
    </p>
  );
}

function Confirmed({ billing }: { billing: Billing }) {
  return (
    <p className="card callout ok" role="status" data-testid="checkout-message" data-state="confirmed">
      Payment confirmed: you're on the <strong>{planLabel(billing.plan)}</strong> plan, with {billing.shop_limit ?? 'unlimited'} shops.
    </p>
  );
}

function Current({ billing: b, owner }: { billing: Billing; owner: boolean }) {
  const s = standingOf(b);
  const pct = b.shop_limit ? Math.min(100, Math.round((b.shops_used / b.shop_limit) * 100)) : 0;
  return (
    <section className="card" aria-label="Current plan" data-testid="current-plan">
      <h2>
        <span>
          {planLabel(b.plan)} plan <Badge value={STATUS_BADGE[b.status]} label={STATUS_TEXT[b.status]} />
        </span>
      </h2>
      {b.status === 'trialing' && !b.lapsed_at && <p>Free trial until {dateOnly(b.trial_ends_at)}.</p>}
      {s.kind === 'grace' && (
        <p className="warn-text">
          Pushes to your channels stop on {dateTime(s.until)} unless {s.why === 'past_due' ? 'the payment is made' : 'you choose a plan'}.
          {owner && s.why === 'past_due' && ' Pay the open invoice or change the card in Manage subscription.'}
        </p>
      )}
      {s.kind === 'paused' && (
        <p className="bad-text">
          Pushes to your channels are paused until payment (since {b.grace_ends_at ? dateTime(b.grace_ends_at) : 'the grace period ended'}); sales are still
          recorded.
        </p>
      )}
      {b.sync_paused && <p className="bad-text">StockClerk's operators have paused all sync for this account. Contact us.</p>}
      <div className="shops">
        <p>
          <ShopsUsed billing={b} /> connected
        </p>
        {b.shop_limit !== null && (
          <div
            className={`bar ${b.shops_used >= b.shop_limit ? 'full' : ''}`}
            role="progressbar"
            aria-label="Shops used"
            aria-valuemin={0}
            aria-valuemax={b.shop_limit}
            aria-valuenow={b.shops_used}
          >
            <span style={{ width: `${pct}%` }} />
          </div>
        )}
      </div>
    </section>
  );
}

function Plans({ billing: b, owner }: { billing: Billing; owner: boolean }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<PlanName | null>(null);
  // A live subscription changes plan in Stripe's portal; Checkout would refuse (409 already_subscribed).
  const subscribed = b.has_subscription && b.status !== 'canceled';
  const buy = async (plan: 'starter' | 'growth') => {
    setBusy(plan);
    setError(null);
    try {
      const { url } = await api.post('/billing/checkout', { body: { plan } });
      sessionStorage.setItem(PENDING_KEY, plan);
      window.location.assign(url);
    } catch (err) {
      setError(errorText(err));
      setBusy(null);
    }
  };
  const rank = (p: string) => ['trial', 'starter', 'growth', 'enterprise'].indexOf(p);
  return (
    <section aria-label="Plans">
      <h2>Plans</h2>
      {!owner && <p className="small">Only the account owner can change the plan.</p>}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="cards plans">
        {(['starter', 'growth', 'enterprise'] as const).map((p) => {
          const spec = PLANS[p];
          const current = b.plan === p;
          return (
            <div key={p} className={`card plan ${current ? 'current' : ''}`} data-testid={`plan-${p}`}>
              <h3>
                {spec.label} {current && <Badge value="active" label="your plan" />}
              </h3>
              <p className="price">{spec.monthlyPence === null ? 'Contact us' : <>{money(spec.monthlyPence)}/month</>}</p>
              <p>{spec.shops === null ? 'As many shops as you need, with your own limits and terms' : `${spec.shops} shops`}</p>
              {p === 'enterprise' ? (
                <p className="small">Talk to us about more than {PLANS.growth.shops} shops.</p>
              ) : current && b.status === 'active' ? null : !owner ? null : subscribed ? (
                <p className="small">Change plan with Manage subscription.</p>
              ) : (
                <button className={current ? '' : 'primary'} disabled={busy !== null} onClick={() => void buy(p)}>
                  {busy === p
                    ? 'Opening checkout…'
                    : current
                      ? `Renew ${spec.label}`
                      : rank(p) > rank(b.plan)
                        ? `Upgrade to ${spec.label}`
                        : `Choose ${spec.label}`}
                </button>
              )}
            </div>
          );
        })}
      </div>
    </section>
  );
}

/** The Stripe Customer Portal: change plan, card or cancel, on Stripe's page. */
function ManageSubscription() {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const open = async () => {
    setBusy(true);
    setError(null);
    try {
      // Not yet in the typed schema: the route is being restored (routes/billing.ts).
      const { url } = await api<{ url: string }>('POST', '/billing/portal');
      window.location.assign(url);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 404
          ? 'Managing your subscription online is not available yet. Contact us to change your card, plan or to cancel.'
          : `Could not open the subscription page: ${errorText(err)}`,
      );
      setBusy(false);
    }
  };
  return (
    <span className="manage">
      <button onClick={() => void open()} disabled={busy}>
        {busy ? 'Opening…' : 'Manage subscription'}
      </button>
      {error && (
        <span className="form-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
