// The public landing page at / for signed-out visitors: what StockClerk does, the platforms it
// connects, the plans and prices, and the Enterprise enquiry form. Plans, prices and platforms
// come from GET /pricing (the plan definitions and the channel registry on the server), so this
// page never states a price or a platform the product does not.
import { useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { api, errorText, type Answer } from '../api.ts';
import { ErrorBox, Loading } from '../ui.tsx';

type Pricing = Answer<'/pricing'>;

const FEATURES: Array<[title: string, text: string]> = [
  [
    'One stock ledger',
    'Every sale, delivery, count and adjustment is one entry in a single ledger per business. Stock levels are computed from it, never guessed.',
  ],
  [
    'Seconds, not minutes',
    'A sale on any channel updates every other channel within seconds, where today’s sync tools wait 5 to 15 minutes and oversell in the gap.',
  ],
  ['The Guardian repairs drift', 'It re-reads every channel on a schedule and puts back the quantity the ledger says, whatever changed it by hand.'],
  [
    'Alerts that matter',
    'Low stock, out of stock, a failing sync or a broken connection: shown on the dashboard and sent by email, one by one or as a daily digest.',
  ],
  [
    'A REST API and signed webhooks',
    'Items, stock, orders, transfers and counts over a documented API with idempotency keys, plus signed webhooks when stock changes.',
  ],
];

const shopsText = (shops: number | null) => (shops === null ? 'As many shops as you need' : `Up to ${shops} shops`);

function Plans({ pricing }: { pricing: Pricing }) {
  return (
    <ul className="landing-plans" aria-label="Plans">
      {pricing.plans.map((p) => (
        <li key={p.name} className="card" data-testid="plan" data-plan={p.name}>
          <h3>{p.label}</h3>
          <p className="landing-price">{p.price}</p>
          <p>{shopsText(p.shops)}</p>
          {p.name === 'enterprise' ? (
            <a className="button" href="#enquiry">
              Enquire
            </a>
          ) : (
            <Link className="button primary" href="/signup">
              {p.name === 'trial' ? 'Start free trial' : `Start with ${p.label}`}
            </Link>
          )}
        </li>
      ))}
    </ul>
  );
}

function Platforms({ pricing }: { pricing: Pricing }) {
  const live = pricing.platforms.filter((p) => p.live);
  const coming = pricing.platforms.filter((p) => !p.live);
  return (
    <div className="landing-platforms">
      <h3>Connect today</h3>
      <ul className="plain-chips" data-testid="platforms-live">
        {live.map((p) => (
          <li key={p.label} className="chip live-chip">
            {p.label}
          </li>
        ))}
      </ul>
      {coming.length > 0 && (
        <>
          <h3>Coming next</h3>
          <ul className="plain-chips" data-testid="platforms-coming">
            {coming.map((p) => (
              <li key={p.label} className="chip">
                {p.label}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

function EnquiryForm() {
  const [f, setF] = useState({ name: '', email: '', company: '', shops: '', message: '', website: '' });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [sent, setSent] = useState<string | null>(null);
  const thanks = useRef<HTMLDivElement>(null);
  // Focus follows the form's answer, so a screen reader and a keyboard user land on it.
  useEffect(() => {
    if (sent) thanks.current?.focus();
  }, [sent]);
  const set = (k: keyof typeof f) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await api.post('/enquiries', {
        body: { name: f.name, email: f.email, company: f.company, message: f.message, website: f.website, ...(f.shops ? { shops: Number(f.shops) } : {}) },
      });
      setSent(f.email);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  if (sent) {
    return (
      <div className="card callout" role="status" tabIndex={-1} ref={thanks} data-testid="enquiry-sent">
        <h3>Thank you, we have your enquiry.</h3>
        <p>Someone from StockClerk will write to {sent} about an Enterprise plan.</p>
      </div>
    );
  }
  return (
    <form className="card" onSubmit={submit} aria-labelledby="enquiry-title">
      <div className="row wrap">
        <label>
          Your name
          <input name="name" autoComplete="name" required maxLength={200} value={f.name} onChange={set('name')} />
        </label>
        <label>
          Work email
          <input name="email" type="email" autoComplete="email" required maxLength={254} value={f.email} onChange={set('email')} />
        </label>
      </div>
      <div className="row wrap">
        <label>
          Company
          <input name="company" autoComplete="organization" required maxLength={200} value={f.company} onChange={set('company')} />
        </label>
        <label>
          Shops to connect <small>(optional)</small>
          <input name="shops" type="number" inputMode="numeric" min={1} max={100000} step={1} value={f.shops} onChange={set('shops')} />
        </label>
      </div>
      <label>
        What do you need?
        <textarea name="message" className="prose" rows={5} required maxLength={5000} value={f.message} onChange={set('message')} />
      </label>
      {/* A honeypot: hidden from people (and from screen readers and the tab order); a bot filling
          every field fills it, and the API then quietly drops the enquiry. */}
      <div className="hp" aria-hidden="true">
        <label>
          Website
          <input name="website" tabIndex={-1} autoComplete="off" value={f.website} onChange={set('website')} />
        </label>
      </div>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? 'Sending…' : 'Send enquiry'}
      </button>
    </form>
  );
}

export default function Landing() {
  const pricing = useQuery({ queryKey: ['pricing'], queryFn: () => api.get('/pricing'), staleTime: 3_600_000 });
  const trialDays = pricing.data?.trial_days;
  return (
    <div className="landing">
      <header className="landing-top">
        <span className="landing-brand">StockClerk</span>
        <nav aria-label="Account" className="row">
          <Link href="/login">Log in</Link>
          <Link className="button primary" href="/signup">
            Sign up
          </Link>
        </nav>
      </header>
      <main>
        <section className="landing-hero" aria-labelledby="hero-title">
          <h1 id="hero-title">One stock ledger for every place you sell</h1>
          <p className="landing-lead">
            Sell a sandwich on the till and your web shop and delivery apps know within seconds. StockClerk keeps one authoritative count of your stock and
            tells every channel what it may sell, so you stop overselling in the minutes other tools wait.
          </p>
          <div className="row wrap">
            <Link className="button primary" href="/signup">
              {trialDays ? `Start your ${trialDays}-day free trial` : 'Start your free trial'}
            </Link>
            <a className="button" href="#enquiry">
              Talk to us about Enterprise
            </a>
          </div>
        </section>

        <section aria-labelledby="features-title">
          <h2 id="features-title">What StockClerk does</h2>
          <ul className="landing-features">
            {FEATURES.map(([title, text]) => (
              <li key={title} className="card">
                <h3>{title}</h3>
                <p>{text}</p>
              </li>
            ))}
          </ul>
        </section>

        <section aria-labelledby="platforms-title" className="card">
          <h2 id="platforms-title">Where you sell</h2>
          {pricing.isPending ? (
            <Loading what="Loading" />
          ) : pricing.isError ? (
            <ErrorBox error={pricing.error} retry={() => pricing.refetch()} />
          ) : (
            <Platforms pricing={pricing.data} />
          )}
        </section>

        <section aria-labelledby="plans-title">
          <h2 id="plans-title">Plans and prices</h2>
          <p>A shop is one connected channel: a till, a web store or a delivery app.</p>
          {pricing.isPending ? (
            <Loading what="Loading plans" />
          ) : pricing.isError ? (
            <ErrorBox error={pricing.error} retry={() => pricing.refetch()} />
          ) : (
            <Plans pricing={pricing.data} />
          )}
        </section>

        <section aria-labelledby="enquiry-title" id="enquiry" className="landing-enquiry">
          <h2 id="enquiry-title">Enterprise enquiry</h2>
          <p>More shops, several brands, or your own terms? Tell us about your business and we will write back.</p>
          <EnquiryForm />
        </section>
      </main>
      <footer className="landing-foot">
        <small>
          StockClerk · <a href="/docs">API reference</a> · <Link href="/login">Log in</Link>
        </small>
      </footer>
    </div>
  );
}
