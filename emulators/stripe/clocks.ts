// Test clocks (docs.stripe.com/billing/testing/test-clocks): a clock holds a simulated time;
// customers made with `test_clock` live on it, and advancing it runs what would happen to their
// subscriptions meanwhile: every period end passed renews (invoice paid or failed, per the
// customer's charge outcome set through POST /_control/customers/:id/charges), and a
// subscription set to cancel at period end ends.
//   POST   /v1/test_helpers/test_clocks            {frozen_time, name?}
//   GET    /v1/test_helpers/test_clocks[/:id]
//   POST   /v1/test_helpers/test_clocks/:id/advance {frozen_time}
//   DELETE /v1/test_helpers/test_clocks/:id
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { renew } from './billing.ts';
import { AUTOMATIC, type StripeCore } from './core.ts';
import { invalidParam, missingParam, noSuch } from './errors.ts';
import { str, type Params } from './form.ts';
import { causeOf } from './http.ts';
import { newId } from './ids.ts';
import { atTime, now, paginate, type TestClock } from './objects.ts';

const body = (req: FastifyRequest): Params => (req.body && typeof req.body === 'object' ? (req.body as Params) : {});
const idOf = (req: FastifyRequest): string => (req.params as { id: string }).id;

function unix(p: Params, key: string): number {
  const v = str(p, key);
  if (v === undefined || v === '') throw missingParam(key);
  if (!/^\d+$/.test(v)) throw invalidParam(key, `Invalid integer: ${v}`, 'parameter_invalid_integer');
  return Number(v);
}

/** The simulated time a customer lives in: its clock's, or null for the wall clock. */
export function clockTime(core: StripeCore, customerId: string | null): number | null {
  const clockId = customerId ? core.state.customers.get(customerId)?.test_clock : null;
  return typeof clockId === 'string' ? (core.state.testClocks.get(clockId)?.frozen_time ?? null) : null;
}

/** Moves the clock to `to`, renewing each of its customers' subscriptions at every period end passed, in time order. */
export function advance(core: StripeCore, clock: TestClock, to: number): void {
  const customers = new Set([...core.state.customers.values()].filter((c) => c.test_clock === clock.id).map((c) => c.id));
  for (;;) {
    // The earliest period end due next across the clock's subscriptions.
    const due = [...core.state.subscriptions.values()]
      .filter((s) => customers.has(s.customer) && (s.status === 'active' || s.status === 'past_due' || s.status === 'trialing'))
      .map((s) => ({ s, end: s.items.data[0]!.current_period_end }))
      .filter((x) => x.end <= to)
      .sort((a, b) => a.end - b.end)[0];
    if (!due) break;
    clock.frozen_time = due.end;
    atTime(due.end, () => renew(core, due.s, core.state.chargeOutcome.get(due.s.customer) ?? 'paid'));
  }
  clock.frozen_time = to;
}

export function installClocks(app: FastifyInstance, core: StripeCore): void {
  const get = (id: string) => {
    const c = core.state.testClocks.get(id);
    if (!c) throw noSuch('test_helpers.test_clock', id);
    return c;
  };

  app.post('/v1/test_helpers/test_clocks', async (req) => {
    const p = body(req);
    const clock: TestClock = {
      id: newId('clock'),
      object: 'test_helpers.test_clock',
      created: now(),
      deletes_after: now() + 30 * 86400, // documented: clocks are deleted 30 days after creation
      frozen_time: unix(p, 'frozen_time'),
      livemode: false,
      name: str(p, 'name') ?? null,
      status: 'ready',
      status_details: {},
    };
    core.state.testClocks.set(clock.id, clock);
    core.touch();
    return clock;
  });
  app.get('/v1/test_helpers/test_clocks/:id', async (req) => get(idOf(req)));
  app.get('/v1/test_helpers/test_clocks', async (req) =>
    paginate([...core.state.testClocks.values()], '/v1/test_helpers/test_clocks', req.query as Record<string, string>),
  );
  app.delete('/v1/test_helpers/test_clocks/:id', async (req) => {
    const clock = get(idOf(req));
    core.state.testClocks.delete(clock.id);
    core.touch();
    return { id: clock.id, object: 'test_helpers.test_clock', deleted: true };
  });
  app.post('/v1/test_helpers/test_clocks/:id/advance', async (req) => {
    const clock = get(idOf(req));
    const to = unix(body(req), 'frozen_time');
    if (to <= clock.frozen_time)
      throw invalidParam('frozen_time', 'The frozen time must be after the current frozen time of the test clock.', 'parameter_invalid_integer');
    // GUESS: Stripe answers `advancing` at once and works in the background, announcing
    // test_helpers.test_clock.ready when done. Here the work is done before the answer, which
    // still says `advancing` (as Stripe's would); the clock is `ready` by the next retrieve.
    core.emit('test_helpers.test_clock.advancing', { ...clock, status: 'advancing' }, causeOf(req));
    advance(core, clock, to);
    core.emit('test_helpers.test_clock.ready', clock, AUTOMATIC);
    core.touch();
    return { ...clock, status: 'advancing' };
  });
}
