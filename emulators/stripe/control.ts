// The /_control API: what Stripe's test clocks and Dashboard do for a tester, as plain JSON
// calls with no key. Loopback callers only (it can move money in the emulated account).
//   GET  /_control/prices                          seeded price ids by lookup key
//   POST /_control/subscriptions/:id/renew         {"outcome": "paid" | "failed"}: the period ends
//   POST /_control/subscriptions/:id/pay           pays the subscription's open invoice
//   POST /_control/subscriptions/:id/cancel        cancels now
//   POST /_control/invoices/:id/pay                pays that open invoice
//   POST /_control/customers/:id/charges           {"outcome": "paid" | "failed"}: how its renewals go under a test clock
//   GET  /_control/deliveries[?type=&status=&event_id=]   webhook deliveries, oldest first
//   POST /_control/drain                           waits until no delivery is queued or retrying
//   POST /_control/webhook                         {"url", "secret"} or null: the start option's endpoint
//   GET|POST /_control/knobs                       {latencyMs, errorRate, throttleRate}
//   POST /_control/faults                          {"status": 500 | 429, "count": n}: fail the next n calls
//   POST /_control/reset                           forget everything (seeded plans come back)
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cancelNow, payInvoice, renew } from './billing.ts';
import { AUTOMATIC, type StripeCore, type WebhookOption } from './core.ts';
import { clockTime } from './clocks.ts';
import { StripeApiError } from './errors.ts';
import { atTime } from './objects.ts';
import type { Faults } from './http.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function installControl(app: FastifyInstance, core: StripeCore, faults: Faults, setWebhook: (w: WebhookOption | null) => void): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/_control')) return;
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return reply.code(403).send({ error: 'control API is loopback only' });
  });
  const s = () => core.state;
  const json = (req: FastifyRequest) => (req.body && typeof req.body === 'object' ? (req.body as Record<string, unknown>) : {});
  const sub = (req: FastifyRequest, reply: FastifyReply) => {
    const x = s().subscriptions.get((req.params as { id: string }).id);
    if (!x) void reply.code(404).send({ error: `no subscription ${(req.params as { id: string }).id}` });
    return x;
  };
  // Billing refusals (renewing a canceled subscription, paying a paid invoice) answer 400 with Stripe's body.
  const guard = async <T>(reply: FastifyReply, fn: () => T) => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof StripeApiError) return reply.code(err.status).send({ error: err.body });
      throw err;
    }
  };

  app.get('/_control/prices', async () => ({ ...core.prices }));

  app.post('/_control/subscriptions/:id/renew', async (req, reply) => {
    const x = sub(req, reply);
    if (!x) return reply;
    const outcome = json(req).outcome ?? 'paid';
    if (outcome !== 'paid' && outcome !== 'failed') return reply.code(400).send({ error: 'outcome must be "paid" or "failed"' });
    return guard(reply, () => atTime(clockTime(core, x.customer), () => renew(core, x, outcome)));
  });

  app.post('/_control/subscriptions/:id/pay', async (req, reply) => {
    const x = sub(req, reply);
    if (!x) return reply;
    const inv = [...s().invoices.values()].reverse().find((i) => i.parent.subscription_details.subscription === x.id && i.status === 'open');
    if (!inv) return reply.code(400).send({ error: `subscription ${x.id} has no open invoice` });
    return guard(reply, () => ({ invoice: payInvoice(core, inv, AUTOMATIC), subscription: x }));
  });

  app.post('/_control/subscriptions/:id/cancel', async (req, reply) => {
    const x = sub(req, reply);
    if (!x) return reply;
    return cancelNow(core, x, AUTOMATIC);
  });

  app.post('/_control/invoices/:id/pay', async (req, reply) => {
    const inv = s().invoices.get((req.params as { id: string }).id);
    if (!inv) return reply.code(404).send({ error: 'no such invoice' });
    return guard(reply, () => payInvoice(core, inv, AUTOMATIC));
  });

  // How this customer's future charges go (renewals, also under a test clock): a stand-in for
  // attaching Stripe's always-failing test card.
  app.post('/_control/customers/:id/charges', async (req, reply) => {
    const id = (req.params as { id: string }).id;
    if (!s().customers.has(id)) return reply.code(404).send({ error: `no customer ${id}` });
    const outcome = json(req).outcome;
    if (outcome !== 'paid' && outcome !== 'failed') return reply.code(400).send({ error: 'outcome must be "paid" or "failed"' });
    s().chargeOutcome.set(id, outcome);
    core.touch();
    return { customer: id, outcome };
  });

  app.get('/_control/deliveries', async (req) => {
    const q = req.query as Record<string, string | undefined>;
    return {
      data: s().deliveries.filter(
        (d) => (!q.type || d.event_type === q.type) && (!q.status || d.status === q.status) && (!q.event_id || d.event_id === q.event_id),
      ),
    };
  });

  app.post('/_control/drain', async () => {
    await core.sender.drain();
    return { pending: s().deliveries.filter((d) => d.status === 'pending').length };
  });

  app.post('/_control/webhook', async (req, reply) => {
    const b = req.body as { url?: unknown; secret?: unknown } | null;
    if (b === null || (b && b.url === null)) {
      setWebhook(null);
      return { webhook: null };
    }
    if (!b || typeof b.url !== 'string' || typeof b.secret !== 'string') return reply.code(400).send({ error: 'body must be {"url", "secret"} or null' });
    setWebhook({ url: b.url, secret: b.secret });
    return { webhook: { url: b.url } };
  });

  app.get('/_control/knobs', async () => faults);
  app.post('/_control/knobs', async (req) => {
    const b = json(req);
    for (const k of ['latencyMs', 'errorRate', 'throttleRate'] as const) if (typeof b[k] === 'number') faults[k] = b[k];
    return faults;
  });
  app.post('/_control/faults', async (req, reply) => {
    const b = json(req);
    const status = b.status ?? 500;
    const count = b.count ?? 1;
    if ((status !== 500 && status !== 429) || typeof count !== 'number' || count < 0)
      return reply.code(400).send({ error: 'body must be {"status": 500 | 429, "count": n}' });
    for (let i = 0; i < count; i++) faults.failNext.push(status);
    return faults;
  });

  app.post('/_control/reset', async () => {
    core.reset();
    faults.failNext.length = 0;
    return { prices: { ...core.prices } };
  });
}
