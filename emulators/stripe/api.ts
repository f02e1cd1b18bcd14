// Stripe's v1 API, the part a subscription integration uses: customers, products and prices,
// Checkout Sessions, billing portal sessions, subscriptions, invoices, events and webhook
// endpoints. Paths, parameters and answers follow the API reference (docs.stripe.com/api).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cancelNow, expireIfDue, makeCustomer, payInvoice } from './billing.ts';
import type { StripeCore } from './core.ts';
import { invalidParam, invalidRequest, missingParam, noSuch } from './errors.ts';
import { bool, list, obj, str, type FormValue, type Params } from './form.ts';
import { causeOf } from './http.ts';
import { newId } from './ids.ts';
import {
  now,
  paginate,
  planOf,
  snapshot,
  type CheckoutSession,
  type LineItemInput,
  type Metadata,
  type StripeObject,
  type Subscription,
  type WebhookEndpoint,
} from './objects.ts';
import { makePrice, makeProduct } from './state.ts';

const body = (req: FastifyRequest): Params => (req.body && typeof req.body === 'object' ? (req.body as Params) : {});
const query = (req: FastifyRequest): Params => (req.query && typeof req.query === 'object' ? (req.query as Params) : {});
const idOf = (req: FastifyRequest): string => (req.params as { id: string }).id;

function required(p: Params, key: string): string {
  const v = str(p, key);
  if (v === undefined || v === '') throw missingParam(key);
  return v;
}

function integer(v: FormValue | undefined, param: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^-?\d+$/.test(v))
    throw invalidParam(param, `Invalid integer: ${typeof v === 'string' ? v : '(object)'}`, 'parameter_invalid_integer');
  return Number(v);
}

/** Stripe's metadata update: keys merge, an empty value removes its key, `metadata=` (empty) clears all. */
export function mergeMetadata(current: Metadata, input: FormValue | undefined): Metadata {
  if (input === undefined) return current;
  if (input === '') return {};
  const m = obj(input);
  if (!m) throw invalidParam('metadata', 'Invalid metadata: must be an object', 'parameter_invalid_string');
  const out = { ...current };
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== 'string') throw invalidParam(`metadata[${k}]`, 'Invalid metadata value: must be a string', 'parameter_invalid_string');
    if (v === '') delete out[k];
    else out[k] = v;
  }
  return out;
}

/** `expand[]`: replaces an id at each dotted path with the object it names (lists expand `data.x`). */
function expand<T extends object>(core: StripeCore, o: T, params: Params): T {
  const paths = (list(params.expand) ?? []).filter((p): p is string => typeof p === 'string');
  if (paths.length === 0) return o;
  const out = snapshot(o) as Record<string, unknown>;
  for (const path of paths) {
    const walk = (node: unknown, parts: string[]): void => {
      if (!node || typeof node !== 'object' || parts.length === 0) return;
      const n = node as Record<string, unknown>;
      if (parts[0] === 'data' && Array.isArray(n.data)) {
        for (const row of n.data) walk(row, parts.slice(1));
        return;
      }
      const [head, ...rest] = parts as [string, ...string[]];
      if (rest.length === 0) {
        if (head === 'line_items' && n.object === 'checkout.session') n.line_items = lineItems(core, String(n.id));
        else if (typeof n[head] === 'string') n[head] = snapshot(core.state.find(n[head]) ?? n[head]);
        return;
      }
      if (typeof n[head] === 'string') n[head] = snapshot(core.state.find(n[head]) ?? n[head]);
      walk(n[head], rest);
    };
    walk(out, path.split('.'));
  }
  return out as T;
}

function lineItems(core: StripeCore, sessionId: string): Record<string, unknown> {
  const extras = core.state.sessionExtras.get(sessionId);
  const data = (extras?.lineItems ?? []).map((li, i) => {
    const price = core.state.prices.get(li.price)!;
    const amount = price.unit_amount * li.quantity;
    const product = core.state.products.get(price.product);
    return {
      id: `li_${sessionId.slice(3, 20)}${i}`,
      object: 'item',
      amount_discount: 0,
      amount_subtotal: amount,
      amount_tax: 0,
      amount_total: amount,
      currency: price.currency,
      description: product?.name ?? price.nickname ?? '',
      price: snapshot(price),
      quantity: li.quantity,
    };
  });
  return { object: 'list', data, has_more: false, url: `/v1/checkout/sessions/${sessionId}/line_items` };
}

function get<T>(m: Map<string, T>, kind: string, id: string): T {
  const o = m.get(id);
  if (!o) throw noSuch(kind, id);
  return o;
}

export function installApi(app: FastifyInstance, core: StripeCore): void {
  const s = () => core.state;
  const listOf = <T extends StripeObject>(rows: T[], url: string, req: FastifyRequest) =>
    expand(core, paginate(rows, url, query(req) as Record<string, string>), query(req));

  // ---- customers
  app.post('/v1/customers', async (req) => {
    const p = body(req);
    const clock = str(p, 'test_clock');
    if (clock !== undefined && !s().testClocks.has(clock)) throw noSuch('test_helpers.test_clock', clock, 'test_clock', 400);
    const c = makeCustomer({
      email: str(p, 'email') ?? null,
      name: str(p, 'name') ?? null,
      description: str(p, 'description') ?? null,
      metadata: mergeMetadata({}, p.metadata),
    });
    if (clock !== undefined) c.test_clock = clock;
    s().customers.set(c.id, c);
    core.emit('customer.created', c, causeOf(req));
    return expand(core, c, p);
  });
  app.get('/v1/customers/:id', async (req) => expand(core, get(s().customers, 'customer', idOf(req)), query(req)));
  app.post('/v1/customers/:id', async (req) => {
    const c = get(s().customers, 'customer', idOf(req));
    const p = body(req);
    const previous: Record<string, unknown> = {};
    for (const f of ['email', 'name', 'description'] as const) {
      const v = str(p, f);
      if (v !== undefined && v !== c[f]) {
        previous[f] = c[f];
        c[f] = v === '' ? null : v;
      }
    }
    if (p.metadata !== undefined) {
      previous.metadata = c.metadata;
      c.metadata = mergeMetadata(c.metadata, p.metadata);
    }
    if (Object.keys(previous).length > 0) core.emit('customer.updated', c, causeOf(req), previous);
    return expand(core, c, p);
  });
  app.get('/v1/customers', async (req) => {
    const email = str(query(req), 'email');
    return listOf(
      [...s().customers.values()].filter((c) => email === undefined || c.email === email),
      '/v1/customers',
      req,
    );
  });

  // ---- products and prices
  app.post('/v1/products', async (req) => {
    const p = body(req);
    const prod = makeProduct(required(p, 'name'), {
      description: str(p, 'description') ?? null,
      metadata: mergeMetadata({}, p.metadata),
      active: bool(p.active) ?? true,
    });
    s().products.set(prod.id, prod);
    core.emit('product.created', prod, causeOf(req));
    return prod;
  });
  app.get('/v1/products/:id', async (req) => get(s().products, 'product', idOf(req)));
  app.get('/v1/products', async (req) => {
    const active = bool(query(req).active);
    return listOf(
      [...s().products.values()].filter((p) => active === undefined || p.active === active),
      '/v1/products',
      req,
    );
  });

  app.post('/v1/prices', async (req) => {
    const p = body(req);
    const currency = required(p, 'currency');
    let product = str(p, 'product');
    const productData = obj(p.product_data);
    if (product !== undefined) get(s().products, 'product', product);
    else if (productData) {
      const name = str(productData, 'name');
      if (!name) throw missingParam('product_data[name]');
      const prod = makeProduct(name);
      s().products.set(prod.id, prod);
      product = prod.id;
    } else throw missingParam('product');
    const unitAmount = integer(p.unit_amount, 'unit_amount');
    if (unitAmount === undefined) throw missingParam('unit_amount');
    const recurring = obj(p.recurring);
    const interval = recurring ? str(recurring, 'interval') : undefined;
    if (recurring && !interval) throw missingParam('recurring[interval]');
    if (interval && !['day', 'week', 'month', 'year'].includes(interval))
      throw invalidParam('recurring[interval]', `Invalid recurring[interval]: must be one of day, week, month, or year`, 'parameter_invalid_empty');
    const lookupKey = str(p, 'lookup_key');
    if (lookupKey) {
      const holder = [...s().prices.values()].find((x) => x.lookup_key === lookupKey);
      if (holder) {
        // Documented: transfer_lookup_key moves the key from the price that holds it.
        if (bool(p.transfer_lookup_key)) holder.lookup_key = null;
        else throw invalidParam('lookup_key', `A price (\`${holder.id}\`) already uses that lookup key.`, 'lookup_key_already_exists');
      }
    }
    const price = makePrice({
      product,
      unit_amount: unitAmount,
      currency,
      interval: (interval as 'day' | 'week' | 'month' | 'year' | undefined) ?? null,
      interval_count: recurring ? integer(recurring.interval_count, 'recurring[interval_count]') : undefined,
      lookup_key: lookupKey ?? null,
      nickname: str(p, 'nickname') ?? null,
      metadata: mergeMetadata({}, p.metadata),
    });
    s().prices.set(price.id, price);
    core.emit('price.created', price, causeOf(req));
    return expand(core, price, p);
  });
  app.get('/v1/prices/:id', async (req) => expand(core, get(s().prices, 'price', idOf(req)), query(req)));
  app.post('/v1/prices/:id', async (req) => {
    const price = get(s().prices, 'price', idOf(req));
    const p = body(req);
    const active = bool(p.active);
    if (active !== undefined) price.active = active;
    if (str(p, 'nickname') !== undefined) price.nickname = str(p, 'nickname') || null;
    if (p.metadata !== undefined) price.metadata = mergeMetadata(price.metadata as Metadata, p.metadata);
    core.emit('price.updated', price, causeOf(req));
    return price;
  });
  app.get('/v1/prices', async (req) => {
    const q = query(req);
    const active = bool(q.active);
    const keys = list(q.lookup_keys);
    const product = str(q, 'product');
    const type = str(q, 'type');
    return listOf(
      [...s().prices.values()].filter(
        (p) =>
          (active === undefined || p.active === active) &&
          (keys === undefined || (p.lookup_key !== null && keys.includes(p.lookup_key))) &&
          (product === undefined || p.product === product) &&
          (type === undefined || p.type === type),
      ),
      '/v1/prices',
      req,
    );
  });

  // ---- Checkout Sessions
  app.post('/v1/checkout/sessions', async (req) => {
    const p = body(req);
    const mode = required(p, 'mode');
    // GUESS: payment and setup modes are not emulated; StockClerk sells subscriptions only.
    if (mode !== 'subscription') throw invalidParam('mode', `The emulator supports mode=subscription only (got ${mode}).`, 'parameter_invalid_empty');
    const customer = str(p, 'customer') ?? null;
    if (customer !== null && !s().customers.has(customer)) throw noSuch('customer', customer, 'customer', 400);
    const raw = p.line_items;
    if (raw === undefined) throw missingParam('line_items');
    const items: LineItemInput[] = (list(raw) ?? []).map((li, i) => {
      const o = obj(li);
      if (!o) throw invalidParam(`line_items[${i}]`, `Invalid object`, 'parameter_invalid_empty');
      const price = str(o, 'price');
      if (!price) throw missingParam(`line_items[${i}][price]`);
      const pr = s().prices.get(price);
      if (!pr) throw noSuch('price', price, `line_items[${i}][price]`, 400);
      if (!pr.active)
        throw invalidParam(`line_items[${i}][price]`, `The price specified is inactive. This field only accepts active prices.`, 'price_inactive');
      return { price, quantity: integer(o.quantity, `line_items[${i}][quantity]`) ?? 1 };
    });
    if (items.length === 0) throw missingParam('line_items');
    if (!items.some((li) => s().prices.get(li.price)!.type === 'recurring')) {
      throw invalidParam('line_items', 'You must provide at least one recurring price in `subscription` mode when using prices.', 'parameter_invalid_empty');
    }
    const subData = obj(p.subscription_data) ?? {};
    const first = s().prices.get(items[0]!.price)!;
    const id = newId('cs_test', 58);
    const t = now();
    const amount = items.reduce((sum, li) => sum + s().prices.get(li.price)!.unit_amount * li.quantity, 0);
    const cust = customer ? s().customers.get(customer) : undefined;
    const session: CheckoutSession = {
      id,
      object: 'checkout.session',
      adaptive_pricing: null,
      after_expiration: null,
      allow_promotion_codes: bool(p.allow_promotion_codes) ?? null,
      amount_subtotal: amount,
      amount_total: amount,
      automatic_tax: { enabled: false, liability: null, provider: null, status: null },
      billing_address_collection: null,
      cancel_url: str(p, 'cancel_url') ?? null,
      client_reference_id: str(p, 'client_reference_id') ?? null,
      client_secret: null,
      consent: null,
      consent_collection: null,
      created: t,
      currency: first.currency,
      custom_fields: [],
      custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
      customer,
      customer_creation: customer ? null : 'always',
      customer_details: cust ? { address: null, email: cust.email, name: cust.name, phone: null, tax_exempt: 'none', tax_ids: null } : null,
      customer_email: str(p, 'customer_email') ?? null,
      discounts: [],
      expires_at: t + 24 * 3600,
      invoice: null,
      invoice_creation: null,
      livemode: false,
      locale: null,
      metadata: mergeMetadata({}, p.metadata),
      mode: 'subscription',
      payment_intent: null,
      payment_link: null,
      payment_method_collection: 'always',
      payment_method_types: ['card'],
      payment_status: 'unpaid',
      recovered_from: null,
      setup_intent: null,
      shipping_address_collection: null,
      shipping_cost: null,
      shipping_options: [],
      status: 'open',
      submit_type: null,
      subscription: null,
      success_url: str(p, 'success_url') ?? null,
      total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
      ui_mode: 'hosted',
      url: `${core.url}/checkout/${id}`,
    };
    s().sessions.set(id, session);
    s().sessionExtras.set(id, { lineItems: items, subscriptionMetadata: mergeMetadata({}, subData.metadata) });
    core.touch();
    return expand(core, session, p);
  });
  app.get('/v1/checkout/sessions/:id', async (req) => {
    const session = get(s().sessions, 'checkout.session', idOf(req));
    expireIfDue(core, session);
    return expand(core, session, query(req));
  });
  app.get('/v1/checkout/sessions/:id/line_items', async (req) => lineItems(core, get(s().sessions, 'checkout.session', idOf(req)).id));
  app.get('/v1/checkout/sessions', async (req) => {
    const q = query(req);
    const customer = str(q, 'customer');
    const sub = str(q, 'subscription');
    return listOf(
      [...s().sessions.values()].filter((x) => (customer === undefined || x.customer === customer) && (sub === undefined || x.subscription === sub)),
      '/v1/checkout/sessions',
      req,
    );
  });
  app.post('/v1/checkout/sessions/:id/expire', async (req) => {
    const session = get(s().sessions, 'checkout.session', idOf(req));
    if (session.status !== 'open')
      throw invalidRequest(`Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`);
    session.status = 'expired';
    session.url = null;
    core.emit('checkout.session.expired', session, causeOf(req));
    return session;
  });

  // ---- Customer portal
  app.post('/v1/billing_portal/sessions', async (req) => {
    const p = body(req);
    const customer = required(p, 'customer');
    if (!s().customers.has(customer)) throw noSuch('customer', customer, 'customer', 400);
    const id = newId('bps', 24);
    const session = {
      id,
      object: 'billing_portal.session' as const,
      configuration: 'bpc_emulator_default', // GUESS: one default portal configuration, fixed id
      created: now(),
      customer,
      customer_account: null,
      flow: null,
      livemode: false,
      locale: null,
      on_behalf_of: null,
      return_url: str(p, 'return_url') ?? null,
      url: `${core.url}/portal/${id}`,
    };
    s().portalSessions.set(id, session);
    core.touch();
    return session;
  });

  // ---- subscriptions
  app.get('/v1/subscriptions/:id', async (req) => expand(core, get(s().subscriptions, 'subscription', idOf(req)), query(req)));
  app.get('/v1/subscriptions', async (req) => {
    const q = query(req);
    const customer = str(q, 'customer');
    const status = str(q, 'status');
    const price = str(q, 'price');
    // Documented: without `status`, canceled subscriptions are left out; `all` includes them.
    return listOf(
      [...s().subscriptions.values()].filter(
        (x) =>
          (customer === undefined || x.customer === customer) &&
          (status === 'all' || (status === undefined ? x.status !== 'canceled' : x.status === status)) &&
          (price === undefined || x.items.data.some((i) => i.price.id === price)),
      ),
      '/v1/subscriptions',
      req,
    );
  });
  app.post('/v1/subscriptions/:id', async (req) => updateSubscription(core, get(s().subscriptions, 'subscription', idOf(req)), req));
  app.delete('/v1/subscriptions/:id', async (req) => cancelNow(core, get(s().subscriptions, 'subscription', idOf(req)), causeOf(req)));

  // ---- invoices
  app.get('/v1/invoices/:id', async (req) => expand(core, get(s().invoices, 'invoice', idOf(req)), query(req)));
  app.get('/v1/invoices', async (req) => {
    const q = query(req);
    const customer = str(q, 'customer');
    const sub = str(q, 'subscription');
    const status = str(q, 'status');
    return listOf(
      [...s().invoices.values()].filter(
        (i) =>
          (customer === undefined || i.customer === customer) &&
          (sub === undefined || i.parent.subscription_details.subscription === sub) &&
          (status === undefined || i.status === status),
      ),
      '/v1/invoices',
      req,
    );
  });
  app.post('/v1/invoices/:id/pay', async (req) => payInvoice(core, get(s().invoices, 'invoice', idOf(req)), causeOf(req)));

  // ---- events
  app.get('/v1/events/:id', async (req) => get(s().events, 'event', idOf(req)));
  app.get('/v1/events', async (req) => {
    const q = query(req);
    const type = str(q, 'type');
    const types = list(q.types);
    const match = (t: string) =>
      (type === undefined || (type.endsWith('.*') ? t.startsWith(type.slice(0, -1)) : t === type)) && (types === undefined || types.includes(t));
    return listOf(
      [...s().events.values()].filter((e) => match(e.type)),
      '/v1/events',
      req,
    );
  });

  // ---- webhook endpoints
  const publicEndpoint = (e: WebhookEndpoint) => {
    const { secret: _secret, ...rest } = e;
    return rest;
  };
  app.post('/v1/webhook_endpoints', async (req) => {
    const p = body(req);
    const url = required(p, 'url');
    const events = list(p.enabled_events)?.filter((x): x is string => typeof x === 'string');
    if (!events || events.length === 0) throw missingParam('enabled_events');
    const e = {
      id: newId('we', 24),
      object: 'webhook_endpoint' as const,
      api_version: str(p, 'api_version') ?? null,
      application: null,
      created: now(),
      description: str(p, 'description') ?? null,
      enabled_events: events,
      livemode: false,
      metadata: mergeMetadata({}, p.metadata),
      secret: newId('whsec', 32),
      status: 'enabled' as const,
      url,
    };
    s().endpoints.set(e.id, e);
    core.touch();
    return e; // the secret is shown once, on creation
  });
  app.get('/v1/webhook_endpoints/:id', async (req) => publicEndpoint(get(s().endpoints, 'webhook_endpoint', idOf(req))));
  app.get('/v1/webhook_endpoints', async (req) => {
    const page = paginate([...s().endpoints.values()], '/v1/webhook_endpoints', query(req) as Record<string, string>);
    return { ...page, data: page.data.map(publicEndpoint) };
  });
  app.post('/v1/webhook_endpoints/:id', async (req) => {
    const e = get(s().endpoints, 'webhook_endpoint', idOf(req));
    const p = body(req);
    if (str(p, 'url')) e.url = str(p, 'url')!;
    const events = list(p.enabled_events)?.filter((x): x is string => typeof x === 'string');
    if (events && events.length > 0) e.enabled_events = events;
    const disabled = bool(p.disabled);
    if (disabled !== undefined) e.status = disabled ? 'disabled' : 'enabled';
    core.touch();
    return publicEndpoint(e);
  });
  app.delete('/v1/webhook_endpoints/:id', async (req) => {
    const e = get(s().endpoints, 'webhook_endpoint', idOf(req));
    s().endpoints.delete(e.id);
    core.touch();
    return { id: e.id, object: 'webhook_endpoint', deleted: true };
  });
}

/**
 * POST /v1/subscriptions/:id: `items` (change an item's price or quantity by its `id`, add one
 * without an id, remove one with `deleted`), `cancel_at_period_end`, `metadata`. One
 * customer.subscription.updated carries every change, with the old values in previous_attributes.
 */
function updateSubscription(core: StripeCore, sub: Subscription, req: FastifyRequest): Subscription {
  const p = body(req);
  if (sub.status === 'canceled' && (p.items !== undefined || p.cancel_at_period_end !== undefined)) {
    throw invalidRequest('A canceled subscription can only update its cancellation_details and metadata.');
  }
  const previous: Record<string, unknown> = {};
  if (p.items !== undefined) {
    const before = snapshot(sub.items);
    const period = { start: sub.items.data[0]!.current_period_start, end: sub.items.data[0]!.current_period_end };
    (list(p.items) ?? []).forEach((raw, i) => {
      const o = obj(raw) ?? {};
      const itemId = str(o, 'id');
      const priceId = str(o, 'price');
      const price = priceId ? core.state.prices.get(priceId) : undefined;
      if (priceId && !price) throw noSuch('price', priceId, `items[${i}][price]`, 400);
      const quantity = integer(o.quantity, `items[${i}][quantity]`);
      if (itemId) {
        const item = sub.items.data.find((x) => x.id === itemId);
        if (!item) throw noSuch('subscription item', itemId, `items[${i}][id]`, 400);
        if (bool(o.deleted)) {
          sub.items.data = sub.items.data.filter((x) => x !== item);
          return;
        }
        if (price) {
          item.price = snapshot(price);
          item.plan = planOf(price);
        }
        if (quantity !== undefined) item.quantity = quantity;
        return;
      }
      if (!price) throw missingParam(`items[${i}][price]`);
      sub.items.data.push({
        id: newId('si', 14),
        object: 'subscription_item',
        billing_thresholds: null,
        created: now(),
        current_period_start: period.start,
        current_period_end: period.end,
        discounts: [],
        metadata: {},
        plan: planOf(price),
        price: snapshot(price),
        quantity: quantity ?? 1,
        subscription: sub.id,
        tax_rates: [],
      });
    });
    if (sub.items.data.length === 0) throw invalidParam('items', 'A subscription must have at least one active plan.', 'parameter_invalid_empty');
    sub.items.total_count = sub.items.data.length;
    // GUESS: no proration invoice for a mid-period change (see billing.ts switchPrice).
    previous.items = before;
  }
  if (p.metadata !== undefined) {
    previous.metadata = sub.metadata;
    sub.metadata = mergeMetadata(sub.metadata, p.metadata);
  }
  const cape = bool(p.cancel_at_period_end);
  if (cape !== undefined && cape !== sub.cancel_at_period_end) {
    previous.cancel_at_period_end = sub.cancel_at_period_end;
    previous.cancel_at = sub.cancel_at;
    sub.cancel_at_period_end = cape;
    sub.cancel_at = cape ? sub.items.data[0]!.current_period_end : null;
    sub.canceled_at = cape ? now() : null;
  }
  if (Object.keys(previous).length > 0) core.emit('customer.subscription.updated', sub, causeOf(req), previous);
  return expand(core, sub, p);
}
