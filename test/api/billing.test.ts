// Plans and Stripe webhooks (issue 12, points 1 and 2): a new tenant is on a 14-day trial with 3
// shops; a channel beyond the plan is 403 plan_limit naming the plan that allows it; an operator
// sets Enterprise limits; the Guardian's shortest interval follows the plan. Stripe events are
// verified on the raw body with the official SDK's scheme (signed here by its test helper), refused
// when tampered, stale or wrongly signed, and applied once per event id. Checkout and the Customer
// Portal run against the Stripe emulator (emulators/stripe/), whose signed webhooks come back here.
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe/index.ts';
import { setPlan } from '../../src/services/billing.ts';
import { systemScope } from '../../src/services/scope.ts';
import { waitForMail } from '../helpers/mail.ts';
import { api, eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

const SECRET = 'whsec_test_billing_0123456789';
let h: Harness;
let emu: StripeEmulator;
const stripe = new Stripe('sk_test_x');
beforeAll(async () => {
  // Billing on, against the Stripe emulator (prices found by lookup key); its webhooks, signed with
  // SECRET, come to this StockClerk once it listens.
  emu = await startStripeEmulator();
  h = await startHarness({
    mail: true,
    config: { stripe: { secretKey: 'sk_test_emulator', webhookSecret: SECRET, apiBase: emu.url, prices: {} } },
  });
  emu.setWebhook({ url: `${h.url}/webhooks/stripe`, secret: SECRET });
});
afterAll(async () => {
  await h?.stop();
  await emu?.close();
});

const channel = (call: ReturnType<typeof client>, i: number) =>
  call('POST', '/channels', { type: 'eposnow', name: `Till ${i}`, base_url: 'http://127.0.0.1:9', credentials: { api_key: `k${i}`, api_secret: `s${i}` } });

describe('plans and limits', () => {
  it('a new tenant is on a 14-day trial with 3 shops', async () => {
    const t = await registerTenant(h.url, 'Trial Co');
    const b = await api(h.url, 'GET', '/api/v1/billing', { token: t.token });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({
      plan: 'trial',
      status: 'trialing',
      shop_limit: 3,
      shops_used: 0,
      pushes_paused: false,
      sync_paused: false,
      lapsed_at: null,
    });
    const days = (Date.parse(b.body.trial_ends_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(13.9);
    expect(days).toBeLessThanOrEqual(14);
  });

  it('refuses a fourth shop with plan_limit and what would allow it; a paused channel frees one, resuming it counts again', async () => {
    const t = await registerTenant(h.url, 'Limit Co');
    const call = client(h.url, t.token);
    const ids: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const r = await channel(call, i);
      expect(r.status).toBe(201);
      ids.push(r.body.id);
    }
    const fourth = await channel(call, 4);
    expectError(fourth, 403, 'plan_limit');
    expect(fourth.body.error.details).toMatchObject({ plan: 'trial', shop_limit: 3, shops_used: 3, upgrade_to: 'growth' });
    expect((await call('GET', '/channels')).body.data).toHaveLength(3);

    expect((await call('POST', `/channels/${ids[0]}/pause`)).status).toBe(200);
    expect((await call('GET', '/billing')).body.shops_used).toBe(2);
    const replacement = await channel(call, 5);
    expect(replacement.status).toBe(201);
    expectError(await call('POST', `/channels/${ids[0]}/resume`), 403, 'plan_limit');

    // Starter: the same 3 shops; the refusal names Growth as the way up.
    await setPlan(h.sc.ctx.db, systemScope(t.tenantId), 'starter', null);
    const onStarter = await channel(call, 7);
    expectError(onStarter, 403, 'plan_limit');
    expect(onStarter.body.error.details).toMatchObject({ plan: 'starter', shop_limit: 3, shops_used: 3, upgrade_to: 'growth' });

    // Growth: 10 shops.
    await setPlan(h.sc.ctx.db, systemScope(t.tenantId), 'growth', null);
    expect((await call('POST', `/channels/${ids[0]}/resume`)).status).toBe(200);
    expect((await channel(call, 6)).status).toBe(201);
    expect((await call('GET', '/billing')).body).toMatchObject({ plan: 'growth', shop_limit: 10, shops_used: 5 });
  });

  it('an operator sets Enterprise with its own shop limit; only operators may', async () => {
    const t = await registerTenant(h.url, 'Big Co');
    const call = client(h.url, t.token);
    expectError(await call('POST', `/admin/tenants/${t.tenantId}/plan`, { plan: 'enterprise', shop_limit: 1 }), 403, 'forbidden');
    await setPlan(h.sc.ctx.db, systemScope(t.tenantId), 'enterprise', 1);
    expect((await channel(call, 1)).status).toBe(201);
    expectError(await channel(call, 2), 403, 'plan_limit');
    expect((await call('GET', '/billing')).body).toMatchObject({ plan: 'enterprise', status: 'active', shop_limit: 1 });
  });

  it("holds the Guardian's interval to the plan's shortest", async () => {
    const t = await registerTenant(h.url, 'Guard Co');
    const r = await api(h.url, 'PATCH', '/api/v1/tenant', { token: t.token, body: { guardian_interval_s: 120 }, headers: { 'if-match': '*' } });
    expectError(r, 403, 'plan_limit');
    expect(r.body.error.details).toMatchObject({ guardian_min_s: 300 });
    await setPlan(h.sc.ctx.db, systemScope(t.tenantId), 'growth', null);
    const ok = await api(h.url, 'PATCH', '/api/v1/tenant', { token: t.token, body: { guardian_interval_s: 120 }, headers: { 'if-match': '*' } });
    expect(ok.status).toBe(200);
  });

  it('a lapsed plan shows when pushes stop, and that they have', async () => {
    const t = await registerTenant(h.url, 'Lapsed Co');
    await h.sc.ctx.db.query(`update tenants set trial_ends_at = now() - interval '2 days' where id = $1`, [t.tenantId]);
    let b = (await api(h.url, 'GET', '/api/v1/billing', { token: t.token })).body;
    expect(b.pushes_paused).toBe(false);
    expect(Date.parse(b.grace_ends_at) - Date.now()).toBeGreaterThan(4.9 * 86_400_000);
    await h.sc.ctx.db.query(`update tenants set trial_ends_at = now() - interval '8 days' where id = $1`, [t.tenantId]);
    b = (await api(h.url, 'GET', '/api/v1/billing', { token: t.token })).body;
    expect(b.pushes_paused).toBe(true);
  });
});

describe('Stripe webhooks', () => {
  const eventOf = (id: string, type: string, object: Record<string, unknown>) =>
    JSON.stringify({
      id,
      object: 'event',
      type,
      api_version: '2026-11-18',
      created: Math.floor(Date.now() / 1000),
      data: { object },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
    });
  const post = (payload: string, signature: string) =>
    fetch(`${h.url}/webhooks/stripe`, { method: 'POST', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload });
  const sign = (payload: string, opts: { secret?: string; timestamp?: number } = {}) =>
    stripe.webhooks.generateTestHeaderString({ payload, secret: opts.secret ?? SECRET, timestamp: opts.timestamp });
  const stored = async (id: string) => (await h.sc.ctx.db.query(`select 1 from stripe_events where id = $1`, [id])).rowCount;

  it('records a signed event once; the same event again changes nothing', async () => {
    const payload = eventOf(`evt_${Date.now()}`, 'customer.created', { id: 'cus_nobody', object: 'customer' });
    const first = await post(payload, sign(payload));
    expect(first.status).toBe(200);
    expect((await first.json()) as object).toMatchObject({ received: true, outcome: 'recorded' });
    const again = await post(payload, sign(payload));
    expect(again.status).toBe(200);
    expect((await again.json()) as object).toMatchObject({ outcome: 'duplicate' });
    expect(await stored(JSON.parse(payload).id)).toBe(1);
  });

  it('refuses a wrong secret, a tampered body, a stale timestamp and no signature, storing nothing', async () => {
    const id = `evt_bad_${Date.now()}`;
    const payload = eventOf(id, 'invoice.paid', { id: 'in_1', object: 'invoice', customer: 'cus_x' });
    const cases = [
      post(payload, sign(payload, { secret: 'whsec_wrong' })),
      post(payload.replace('in_1', 'in_2'), sign(payload)),
      post(payload, sign(payload, { timestamp: Math.floor(Date.now() / 1000) - 600 })),
      post(payload, ''),
    ];
    for (const r of await Promise.all(cases)) {
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('invalid_signature');
    }
    expect(await stored(id)).toBe(0);
  });

  it('a failed payment mails the owners once and queues the read-back of the subscription', async () => {
    const t = await registerTenant(h.url, 'Failing Co');
    const customer = `cus_fail_${Date.now()}`;
    await h.sc.ctx.db.query(`update tenants set stripe_customer_id = $2 where id = $1`, [t.tenantId, customer]);
    const payload = eventOf(`evt_fail_${Date.now()}`, 'invoice.payment_failed', { id: 'in_9', object: 'invoice', customer });
    expect(((await (await post(payload, sign(payload))).json()) as { outcome: string }).outcome).toBe('applied');
    expect(((await (await post(payload, sign(payload))).json()) as { outcome: string }).outcome).toBe('duplicate');
    const mail = await waitForMail(h.mailApi!, t.email, /payment failed/i);
    expect(mail.text).toContain('keeps recording your sales');
    await new Promise((r) => setTimeout(r, 500));
    const sent = (await (await fetch(h.mailApi!)).json()) as Array<{ subject: string; to: Array<{ address: string }> }>;
    expect(sent.filter((m) => m.to[0]!.address === t.email && /payment failed/i.test(m.subject))).toHaveLength(1);
    const { rows } = await h.sc.ctx.db.query(`select tenant_id from stripe_events where id = $1`, [JSON.parse(payload).id]);
    expect(rows[0].tenant_id).toBe(t.tenantId);
  });
});

describe('the customer portal', () => {
  const billing = async (call: ReturnType<typeof client>) => (await call('GET', '/billing')).body as { plan: string; status: string };
  const page = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('is 409 no_subscription before any checkout, and for owners only', async () => {
    const t = await registerTenant(h.url, 'Portal-less Co');
    const r = await client(h.url, t.token)('POST', '/billing/portal');
    expectError(r, 409, 'no_subscription');
    expect(r.body.error.message).toMatch(/choose a plan first/i);
    const key = await client(h.url, t.token)('POST', '/api-keys', { name: 'admin key', scopes: ['read', 'write', 'admin'] });
    expectError(await client(h.url, key.body.key)('POST', '/billing/portal'), 403, 'insufficient_scope');
  });

  it('after a paid checkout opens the portal, where switching to starter and cancelling come back through the signed webhooks', async () => {
    const t = await registerTenant(h.url, 'Portal Co');
    const call = client(h.url, t.token);
    const co = await call('POST', '/billing/checkout', { plan: 'growth' });
    expect(co.status, JSON.stringify(co.body)).toBe(200);
    expect((await page(co.body.url, { outcome: 'paid' })).status).toBe(200);
    await eventually(async () => (await billing(call)).plan === 'growth', 10_000, 'the plan to become growth');

    const portal = await call('POST', '/billing/portal');
    expect(portal.status).toBe(200);
    expect(Object.keys(portal.body)).toEqual(['url']);
    expect(portal.body.url).toMatch(new RegExp(`^${emu.url}/portal/bps_`));
    // The portal sends the merchant back to the dashboard's billing page.
    expect(await (await fetch(portal.body.url)).text()).toContain('/billing');

    const sw = await page(portal.body.url, { action: 'switch', price: emu.prices.stockclerk_starter });
    expect(sw.status).toBe(200);
    await eventually(async () => (await billing(call)).plan === 'starter', 10_000, 'the plan to become starter');
    expect(await billing(call)).toMatchObject({ plan: 'starter', status: 'active' });

    expect((await page(portal.body.url, { action: 'cancel' })).status).toBe(200);
    await eventually(async () => (await billing(call)).status === 'canceled', 10_000, 'billing to be canceled');
  }, 30_000);

  it('without Stripe set up answers 503 billing_not_configured, as checkout does', async () => {
    const bare = await startHarness({ worker: false });
    try {
      const t = await registerTenant(bare.url, 'No Stripe Co');
      const call = client(bare.url, t.token);
      expectError(await call('POST', '/billing/checkout', { plan: 'starter' }), 503, 'billing_not_configured');
      expectError(await call('POST', '/billing/portal'), 503, 'billing_not_configured');
    } finally {
      await bare.stop();
    }
  });
});
