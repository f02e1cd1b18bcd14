// The emulator's API surface through the official SDK: keys, Stripe's error shapes,
// Idempotency-Key replay, fault knobs, customers, and the account surviving a restart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStripeEmulator, type StripeEmulator } from './index.ts';
import { startReceiver } from './testing.ts';

let emu: StripeEmulator;
let stripe: Stripe;
const sdk = (key: string, opts: Partial<Stripe.StripeConfig> = {}) => new Stripe(key, { host: '127.0.0.1', port: emu.port, protocol: 'http', ...opts });

beforeAll(async () => {
  emu = await startStripeEmulator();
  stripe = sdk('sk_test_emulator_api');
});
afterAll(async () => {
  await emu.close();
});

const control = (p: string, body: unknown) =>
  fetch(`${emu.url}/_control${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('authentication', () => {
  it('refuses a bad key and a missing key with 401', async () => {
    await expect(sdk('sk_live_not_here').customers.create({ email: 'a@b.test' })).rejects.toMatchObject({
      type: 'StripeAuthenticationError',
      statusCode: 401,
      raw: { message: expect.stringMatching(/^Invalid API Key provided: sk_live_\*+here$/) as unknown },
    });
    await expect(sdk('nonsense').customers.list()).rejects.toMatchObject({ statusCode: 401 });
    const res = await fetch(`${emu.url}/v1/customers`);
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/^You did not provide an API key/);
  });

  it('accepts HTTP Basic with the key as user name, as Stripe documents', async () => {
    const res = await fetch(`${emu.url}/v1/customers`, { headers: { authorization: `Basic ${Buffer.from('sk_test_basic_key:').toString('base64')}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('list');
  });

  it('with secretKey set, only that key opens the account', async () => {
    const pinned = await startStripeEmulator({ secretKey: 'sk_test_only_this' });
    try {
      const c = (key: string) => new Stripe(key, { host: '127.0.0.1', port: pinned.port, protocol: 'http' });
      await expect(c('sk_test_something_else').customers.list()).rejects.toMatchObject({ statusCode: 401 });
      expect((await c('sk_test_only_this').customers.list()).object).toBe('list');
    } finally {
      await pinned.close();
    }
  });
});

describe('errors', () => {
  it('answers a missing parameter with 400 parameter_missing and the param', async () => {
    await expect(stripe.prices.create({ product: 'prod_x', unit_amount: 100 } as Stripe.PriceCreateParams)).rejects.toMatchObject({
      type: 'StripeInvalidRequestError',
      statusCode: 400,
      code: 'parameter_missing',
      param: 'currency',
      raw: { message: 'Missing required param: currency.', type: 'invalid_request_error' },
    });
    await expect(stripe.checkout.sessions.create({ mode: 'subscription', success_url: 'http://x.test/ok' })).rejects.toMatchObject({
      statusCode: 400,
      param: 'line_items',
    });
    await expect(
      stripe.checkout.sessions.create({
        mode: 'subscription',
        customer: 'cus_missing',
        line_items: [{ price: emu.prices.stockclerk_starter!, quantity: 1 }],
        success_url: 'http://x.test/ok',
      }),
    ).rejects.toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'customer' });
  });

  it('answers an unknown id with 404 resource_missing', async () => {
    for (const call of [
      () => stripe.customers.retrieve('cus_nope'),
      () => stripe.subscriptions.retrieve('sub_nope'),
      () => stripe.invoices.retrieve('in_nope'),
      () => stripe.checkout.sessions.retrieve('cs_test_nope'),
    ]) {
      await expect(call()).rejects.toMatchObject({ type: 'StripeInvalidRequestError', statusCode: 404, code: 'resource_missing', param: 'id' });
    }
    await expect(stripe.customers.retrieve('cus_nope')).rejects.toMatchObject({ raw: { message: "No such customer: 'cus_nope'" } });
    const res = await fetch(`${emu.url}/v1/not_a_thing`, { headers: { authorization: 'Bearer sk_test_emulator_api' } });
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/^Unrecognized request URL/);
  });
});

describe('idempotency', () => {
  it('replays the first response to a repeated key and refuses the key with other parameters', async () => {
    const a = await stripe.customers.create({ email: 'idem@shop.test', metadata: { tenant_id: 't_9' } }, { idempotencyKey: 'key-1' });
    const b = await stripe.customers.create({ email: 'idem@shop.test', metadata: { tenant_id: 't_9' } }, { idempotencyKey: 'key-1' });
    expect(b.id).toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(a.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect((await stripe.customers.list({ email: 'idem@shop.test' })).data).toHaveLength(1);
    await expect(stripe.customers.create({ email: 'other@shop.test' }, { idempotencyKey: 'key-1' })).rejects.toMatchObject({
      type: 'StripeIdempotencyError',
      statusCode: 400,
    });
    // A key is the caller's: the same key under another API key is a new request.
    const c = await sdk('sk_test_other_key').customers.create({ email: 'idem@shop.test', metadata: { tenant_id: 't_9' } }, { idempotencyKey: 'key-1' });
    expect(c.id).not.toBe(a.id);
  });

  it('a refused request is not kept: the key can be used again once the parameters are right', async () => {
    await expect(stripe.prices.create({ product: 'prod_x', unit_amount: 1 } as Stripe.PriceCreateParams, { idempotencyKey: 'key-2' })).rejects.toMatchObject({
      statusCode: 400,
    });
    const prod = await stripe.products.create({ name: 'Extra' });
    const p = await stripe.prices.create({ product: prod.id, unit_amount: 1, currency: 'gbp' }, { idempotencyKey: 'key-2' });
    expect(p).toMatchObject({ unit_amount: 1, currency: 'gbp', type: 'one_time', product: prod.id });
    expect(p.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    // ...and from then on it replays that success.
    const again = await stripe.prices.create({ product: prod.id, unit_amount: 1, currency: 'gbp' }, { idempotencyKey: 'key-2' });
    expect(again.id).toBe(p.id);
  });
});

describe('fault knobs', () => {
  it('fails the next calls with Stripe’s 500 and 429, then recovers; the SDK retries a 500 with its idempotency key', async () => {
    const noRetry = sdk('sk_test_emulator_api', { maxNetworkRetries: 0 });
    expect((await control('/faults', { status: 500, count: 1 })).status).toBe(200);
    await expect(noRetry.customers.create({ email: 'f@shop.test' })).rejects.toMatchObject({ type: 'StripeAPIError', statusCode: 500 });
    await control('/faults', { status: 429, count: 1 });
    await expect(noRetry.customers.list()).rejects.toMatchObject({ type: 'StripeRateLimitError', statusCode: 429 });
    await control('/faults', { status: 500, count: 1 });
    const retried = sdk('sk_test_emulator_api', { maxNetworkRetries: 2 });
    const c = await retried.customers.create({ email: 'retry@shop.test' });
    expect((await stripe.customers.list({ email: 'retry@shop.test' })).data.map((x) => x.id)).toEqual([c.id]);
  });

  it('adds latency when asked', async () => {
    await control('/knobs', { latencyMs: 150 });
    const t = Date.now();
    await stripe.customers.list({ limit: 1 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(140);
    await control('/knobs', { latencyMs: 0 });
  });
});

describe('customers', () => {
  it('creates, retrieves and updates email, name and metadata (an empty value removes a key)', async () => {
    const c = await stripe.customers.create({ email: 'a@shop.test', name: 'A', metadata: { tenant_id: 't_1', keep: 'x' } });
    expect(c.id).toMatch(/^cus_/);
    expect(c).toMatchObject({ object: 'customer', email: 'a@shop.test', name: 'A', metadata: { tenant_id: 't_1', keep: 'x' }, livemode: false });
    const u = await stripe.customers.update(c.id, { email: 'b@shop.test', name: 'B', metadata: { keep: '', plan: 'growth' } });
    expect(u).toMatchObject({ email: 'b@shop.test', name: 'B', metadata: { tenant_id: 't_1', plan: 'growth' } });
    expect(u.metadata).not.toHaveProperty('keep');
    expect(await stripe.customers.retrieve(c.id)).toMatchObject({ email: 'b@shop.test' });
  });

  it('lists newest first with cursor pagination', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await stripe.customers.create({ email: `page${i}@shop.test` })).id);
    const first = await stripe.customers.list({ limit: 2 });
    expect(first.data.map((c) => c.id)).toEqual([ids[2], ids[1]]);
    expect(first.has_more).toBe(true);
    const next = await stripe.customers.list({ limit: 1, starting_after: ids[1] });
    expect(next.data.map((c) => c.id)).toEqual([ids[0]]);
  });
});

describe('state across restarts', () => {
  it('keeps customers, subscriptions, events and the seeded price ids; webhooks resume', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stripe-emu-'));
    const rx = await startReceiver();
    try {
      const first = await startStripeEmulator({ stateDir: dir, webhook: { url: rx.url, secret: 'whsec_restart' } });
      const s1 = new Stripe('sk_test_restart', { host: '127.0.0.1', port: first.port, protocol: 'http' });
      const prices = { ...first.prices };
      const cus = await s1.customers.create({ email: 'keep@shop.test' }, { idempotencyKey: 'restart-key' });
      const cs = await s1.checkout.sessions.create({
        mode: 'subscription',
        customer: cus.id,
        line_items: [{ price: prices.stockclerk_growth!, quantity: 1 }],
        success_url: 'http://x.test/ok',
      });
      await fetch(cs.url!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"outcome":"paid"}' });
      await first.drain();
      const subId = (await s1.checkout.sessions.retrieve(cs.id)).subscription as string;
      await first.close();
      expect(fs.existsSync(path.join(dir, 'stripe-state.json'))).toBe(true);

      const second = await startStripeEmulator({ stateDir: dir, webhook: { url: rx.url, secret: 'whsec_restart' } });
      try {
        const s2 = new Stripe('sk_test_restart', { host: '127.0.0.1', port: second.port, protocol: 'http' });
        expect(second.prices).toEqual(prices);
        expect((await s2.customers.retrieve(cus.id)).id).toBe(cus.id);
        expect(await s2.subscriptions.retrieve(subId)).toMatchObject({ status: 'active', items: { data: [{ price: { id: prices.stockclerk_growth } }] } });
        expect((await s2.invoices.list({ subscription: subId })).data).toHaveLength(1);
        expect((await s2.events.list({ type: 'checkout.session.completed' })).data).toHaveLength(1);
        // The idempotency record survived too.
        expect((await s2.customers.create({ email: 'keep@shop.test' }, { idempotencyKey: 'restart-key' })).id).toBe(cus.id);
        rx.received.length = 0;
        await fetch(`${second.url}/_control/subscriptions/${subId}/renew`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"outcome":"failed"}',
        });
        await rx.waitFor((r) => r.some((x) => x.type === 'customer.subscription.updated'));
        expect(s2.webhooks.constructEvent(rx.received.at(-1)!.body, rx.received.at(-1)!.signature, 'whsec_restart').data.object).toMatchObject({
          id: subId,
          status: 'past_due',
        });
      } finally {
        await second.close();
      }
    } finally {
      await rx.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
