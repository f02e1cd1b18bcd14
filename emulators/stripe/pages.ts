// Stripe's hosted pages, small: the Checkout page a customer pays on, the customer portal where
// they switch plan or cancel, and an invoice page. Real Stripe takes card details here; the
// emulator offers a Pay and a Decline button instead (Stripe's test cards 4242... and
// 4000 0000 0000 0002 play the same two parts). Each page is also driven by a JSON POST, for
// tests and scripts:
//   POST /checkout/:id  {"outcome": "paid" | "declined"}
//   POST /portal/:id    {"action": "switch", "price": "price_..."} | {"action": "cancel", "at_period_end"?: true}
// A form post from the page's buttons answers 303 to the merchant's URL, like Stripe's redirect.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cancelNow, completeCheckout, expireIfDue, setCancelAtPeriodEnd, switchPrice } from './billing.ts';
import { AUTOMATIC, type StripeCore } from './core.ts';
import { CARD_DECLINED, StripeApiError } from './errors.ts';
import { atTime, type CheckoutSession, type Price, type Subscription } from './objects.ts';
import { clockTime } from './clocks.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const money = (amount: number, currency: string) =>
  new Intl.NumberFormat('en-GB', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>
body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1a1f36}
.card{border:1px solid #e3e8ee;border-radius:8px;padding:1.5rem}.muted{color:#697386}
button{font-size:1rem;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #635bff;margin:.25rem .25rem 0 0;cursor:pointer}
.pay{background:#635bff;color:#fff}.decline{background:#fff;color:#c0123c;border-color:#c0123c}
.error{color:#c0123c;font-weight:600}.test{background:#fff4e5;padding:.3rem .6rem;border-radius:4px;font-size:.8rem}
</style></head><body><p class="test">Test mode · Stripe emulator</p>${body}</body></html>`;
}

/** Form posts come as application/x-www-form-urlencoded (parsed in http.ts), JSON posts as JSON. */
function isForm(req: FastifyRequest): boolean {
  return (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
}

const field = (req: FastifyRequest, name: string): string | undefined => {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : undefined;
};

function notFound(reply: FastifyReply, what: string): FastifyReply {
  return reply
    .code(404)
    .type('text/html')
    .send(page('Not found', `<h1>Not found</h1><p>${esc(what)}</p>`));
}

export function installPages(app: FastifyInstance, core: StripeCore): void {
  const s = () => core.state;

  const checkoutHtml = (cs: CheckoutSession, error: string | null) => {
    const items = s().sessionExtras.get(cs.id)?.lineItems ?? [];
    const rows = items
      .map((li) => {
        const p = s().prices.get(li.price);
        const name = p ? (s().products.get(p.product)?.name ?? 'Subscription') : li.price;
        const plan = p?.nickname ? ` ${esc(p.nickname)}` : '';
        return `<p><strong>${esc(name)}${plan}</strong>${li.quantity > 1 ? ` × ${li.quantity}` : ''}<br>${p ? `${esc(money(p.unit_amount * li.quantity, p.currency))} per ${esc(p.recurring?.interval ?? 'once')}` : ''}</p>`;
      })
      .join('');
    const state =
      cs.status === 'open'
        ? `${error ? `<p class="error" role="alert" data-code="card_declined">${esc(error)}</p>` : ''}
<form method="post"><button class="pay" name="outcome" value="paid">Pay ${esc(money(cs.amount_total, cs.currency))}</button><button class="decline" name="outcome" value="declined">Decline</button></form>
${cs.cancel_url ? `<p><a href="${esc(cs.cancel_url)}">Cancel and return</a></p>` : ''}`
        : `<p>This Checkout Session is ${esc(cs.status)}${cs.payment_status === 'paid' ? ' and paid' : ''}.</p>`;
    return page(
      'Checkout',
      `<div class="card"><h1>Subscribe</h1>${rows}<p class="muted">${esc(s().customers.get(cs.customer ?? '')?.email ?? cs.customer_email ?? '')}</p>${state}</div>`,
    );
  };

  app.get('/checkout/:id', async (req, reply) => {
    const cs = s().sessions.get((req.params as { id: string }).id);
    if (!cs) return notFound(reply, 'No such Checkout Session.');
    expireIfDue(core, cs);
    return reply.type('text/html').send(checkoutHtml(cs, null));
  });

  app.post('/checkout/:id', async (req, reply) => {
    const cs = s().sessions.get((req.params as { id: string }).id);
    const form = isForm(req);
    if (!cs)
      return form
        ? notFound(reply, 'No such Checkout Session.')
        : reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing', message: 'No such checkout.session' } });
    const outcome = field(req, 'outcome');
    if (outcome !== 'paid' && outcome !== 'declined') {
      const msg = 'outcome must be "paid" or "declined"';
      return form
        ? reply.code(400).type('text/html').send(checkoutHtml(cs, msg))
        : reply.code(400).send({ error: { type: 'invalid_request_error', message: msg, param: 'outcome' } });
    }
    expireIfDue(core, cs);
    if (cs.status === 'expired') {
      const msg = 'This Checkout Session has expired.';
      return form
        ? reply.code(410).type('text/html').send(checkoutHtml(cs, msg))
        : reply.code(410).send({ status: cs.status, error: { type: 'invalid_request_error', message: msg } });
    }
    // A second Pay on a completed session changes nothing (Stripe shows the session as done).
    // A test-clock customer subscribes at the clock's time.
    if (cs.status === 'open' && outcome === 'paid') atTime(clockTime(core, cs.customer), () => completeCheckout(core, cs));
    if (cs.status === 'open') {
      // Declined: nothing is created and the session stays open for another try.
      // GUESS: the JSON answer for a decline is 200 with Stripe's card_error inside (this is the
      // page's answer, not an API call; the API would say 402).
      return form
        ? reply.type('text/html').send(checkoutHtml(cs, CARD_DECLINED.message))
        : { status: cs.status, payment_status: cs.payment_status, redirect_url: null, error: CARD_DECLINED };
    }
    const redirect = (cs.success_url ?? `${core.url}/checkout/${cs.id}`).replace('{CHECKOUT_SESSION_ID}', cs.id);
    if (form) return reply.code(303).header('location', redirect).send();
    return { status: cs.status, payment_status: cs.payment_status, subscription: cs.subscription, redirect_url: redirect };
  });

  const live = (customer: string) =>
    [...s().subscriptions.values()].filter((x) => x.customer === customer && x.status !== 'canceled' && x.status !== 'incomplete_expired');
  const plans = (): Price[] => [...s().prices.values()].filter((p) => p.active && p.type === 'recurring');

  const portalHtml = (id: string, customer: string, returnUrl: string | null, note: string | null) => {
    const subs = live(customer);
    const body = subs.length
      ? subs
          .map((sub) => {
            const item = sub.items.data[0]!;
            const options = plans()
              .filter((p) => p.id !== item.price.id)
              .map(
                (p) =>
                  `<form method="post"><input type="hidden" name="subscription" value="${esc(sub.id)}"><input type="hidden" name="price" value="${esc(p.id)}"><button name="action" value="switch">Switch to ${esc(p.nickname ?? p.id)} (${esc(money(p.unit_amount, p.currency))}/${esc(p.recurring?.interval)})</button></form>`,
              )
              .join('');
            const renews = new Date(item.current_period_end * 1000).toISOString().slice(0, 10);
            return `<div class="card"><h2>${esc(item.price.nickname ?? 'Plan')} · ${esc(money(item.price.unit_amount * item.quantity, item.price.currency))}/${esc(item.price.recurring?.interval)}</h2>
<p class="muted">Status: ${esc(sub.status)}${sub.cancel_at_period_end ? ` · cancels on ${renews}` : ` · renews on ${renews}`}</p>${options}
<form method="post"><input type="hidden" name="subscription" value="${esc(sub.id)}"><button class="decline" name="action" value="cancel">Cancel subscription</button></form></div>`;
          })
          .join('')
      : '<p>No active subscription.</p>';
    return page(
      'Billing',
      `<h1>Manage your subscription</h1>${note ? `<p role="status">${esc(note)}</p>` : ''}${body}${returnUrl ? `<p><a href="${esc(returnUrl)}">Return</a></p>` : ''}<p class="muted" data-portal="${esc(id)}"></p>`,
    );
  };

  app.get('/portal/:id', async (req, reply) => {
    const ps = s().portalSessions.get((req.params as { id: string }).id);
    if (!ps) return notFound(reply, 'No such portal session.');
    return reply.type('text/html').send(portalHtml(ps.id, ps.customer, ps.return_url, null));
  });

  app.post('/portal/:id', async (req, reply) => {
    const ps = s().portalSessions.get((req.params as { id: string }).id);
    const form = isForm(req);
    const refuse = (status: number, message: string, param?: string) =>
      form
        ? reply
            .code(status)
            .type('text/html')
            .send(page('Billing', `<p class="error">${esc(message)}</p>`))
        : reply.code(status).send({ error: { type: 'invalid_request_error', message, ...(param ? { param } : {}) } });
    if (!ps) return refuse(404, 'No such portal session.');
    const action = field(req, 'action');
    const subs = live(ps.customer);
    const wanted = field(req, 'subscription');
    const sub: Subscription | undefined = wanted ? subs.find((x) => x.id === wanted) : subs[0];
    if (!sub) return refuse(400, wanted ? `No such subscription for this customer: '${wanted}'` : 'This customer has no active subscription.', 'subscription');
    // GUESS: portal changes are attributed to no API request (the customer made them on Stripe's page).
    try {
      if (action === 'switch') {
        const price = s().prices.get(field(req, 'price') ?? '');
        if (!price || !plans().includes(price)) return refuse(400, `No such price: '${field(req, 'price') ?? ''}'`, 'price');
        if (price.id !== sub.items.data[0]!.price.id) switchPrice(core, sub, price, AUTOMATIC);
      } else if (action === 'cancel') {
        // GUESS: the portal cancels at once by default here (customer.subscription.deleted);
        // Stripe's portal configuration defaults to cancelling at period end. Post
        // at_period_end=true for that (customer.subscription.updated, cancel_at_period_end).
        if (field(req, 'at_period_end') === 'true') setCancelAtPeriodEnd(core, sub, true, AUTOMATIC);
        else cancelNow(core, sub, AUTOMATIC);
      } else return refuse(400, 'action must be "switch" or "cancel"', 'action');
    } catch (err) {
      if (err instanceof StripeApiError) return refuse(err.status, err.body.message);
      throw err;
    }
    const redirect = ps.return_url ?? `${core.url}/portal/${ps.id}`;
    if (form) return reply.code(303).header('location', redirect).send();
    return {
      status: sub.status,
      subscription: sub.id,
      price: sub.items.data[0]!.price.id,
      cancel_at_period_end: sub.cancel_at_period_end,
      redirect_url: redirect,
    };
  });

  app.get('/invoice/:id', async (req, reply) => {
    const inv = s().invoices.get((req.params as { id: string }).id);
    if (!inv) return notFound(reply, 'No such invoice.');
    return reply
      .type('text/html')
      .send(
        page(
          `Invoice ${inv.number}`,
          `<div class="card"><h1>Invoice ${esc(inv.number)}</h1><p>${esc(money(inv.amount_due, String(inv.currency)))} · ${esc(inv.status)}</p></div>`,
        ),
      );
  });
}
