// Everything the emulated Stripe account holds, and its JSON form for the state file (written
// through the kit's StateFile: debounced, atomic, flushed on close). Maps keep insertion order,
// which is creation order: lists read them newest first.
import { newId } from './ids.ts';
import {
  now,
  type CheckoutSession,
  type Customer,
  type Invoice,
  type PortalSession,
  type Price,
  type Product,
  type SessionExtras,
  type StripeEvent,
  type StripeObject,
  type Subscription,
  type TestClock,
  type WebhookEndpoint,
} from './objects.ts';
import type { DeliveryRecord } from './deliveries.ts';

export const PLATFORM = 'stripe';
export const STATE_FORMAT = 1;

/** A response kept for an Idempotency-Key: replayed for 24 hours to the same key and parameters. */
export interface SavedResponse {
  fingerprint: string;
  status: number;
  body: string;
  at: number;
}

export class StripeState {
  customers = new Map<string, Customer>();
  products = new Map<string, Product>();
  prices = new Map<string, Price>();
  sessions = new Map<string, CheckoutSession>();
  sessionExtras = new Map<string, SessionExtras>();
  portalSessions = new Map<string, PortalSession>();
  subscriptions = new Map<string, Subscription>();
  invoices = new Map<string, Invoice>();
  events = new Map<string, StripeEvent>();
  /** Endpoints made through POST /v1/webhook_endpoints (the start option's endpoint is not kept: it comes with each start). */
  endpoints = new Map<string, WebhookEndpoint & { secret: string }>();
  /** Keyed `<api key>\n<Idempotency-Key>`: keys are per account, and each API key stands for the one account here. */
  idempotency = new Map<string, SavedResponse>();
  testClocks = new Map<string, TestClock>();
  /** How a customer's charges go from now on (POST /_control/customers/:id/charges); absent = they succeed. */
  chargeOutcome = new Map<string, 'paid' | 'failed'>();
  deliveries: DeliveryRecord[] = [];
  invoiceNumber = 1;

  /** Any object by id (for `expand[]`), whatever its kind. */
  find(id: string): StripeObject | undefined {
    for (const m of [this.customers, this.products, this.prices, this.subscriptions, this.invoices, this.sessions]) {
      const o = (m as Map<string, StripeObject>).get(id);
      if (o) return o;
    }
    return undefined;
  }

  toJSON(): unknown {
    const arr = <T>(m: Map<string, T>) => [...m.entries()];
    return {
      format: STATE_FORMAT,
      platform: PLATFORM,
      savedAt: new Date().toISOString(),
      customers: arr(this.customers),
      products: arr(this.products),
      prices: arr(this.prices),
      sessions: arr(this.sessions),
      sessionExtras: arr(this.sessionExtras),
      portalSessions: arr(this.portalSessions),
      subscriptions: arr(this.subscriptions),
      invoices: arr(this.invoices),
      events: arr(this.events),
      endpoints: arr(this.endpoints),
      idempotency: arr(this.idempotency),
      testClocks: arr(this.testClocks),
      chargeOutcome: arr(this.chargeOutcome),
      deliveries: this.deliveries,
      invoiceNumber: this.invoiceNumber,
    };
  }

  static load(raw: unknown, where: string): StripeState {
    const s = new StripeState();
    if (raw === null) return s;
    const r = raw as Record<string, unknown>;
    // Someone else's file at this path is a configuration mistake, not something to overwrite.
    if (r.platform !== PLATFORM) throw new Error(`${where} holds ${String(r.platform)} state, not ${PLATFORM}`);
    if (r.format !== STATE_FORMAT) throw new Error(`${where}: unknown state format ${String(r.format)}`);
    const fill = <T>(m: Map<string, T>, key: string) => {
      for (const [k, v] of (r[key] as Array<[string, T]> | undefined) ?? []) m.set(k, v);
    };
    fill(s.customers, 'customers');
    fill(s.products, 'products');
    fill(s.prices, 'prices');
    fill(s.sessions, 'sessions');
    fill(s.sessionExtras, 'sessionExtras');
    fill(s.portalSessions, 'portalSessions');
    fill(s.subscriptions, 'subscriptions');
    fill(s.invoices, 'invoices');
    fill(s.events, 'events');
    fill(s.endpoints, 'endpoints');
    fill(s.idempotency, 'idempotency');
    fill(s.testClocks, 'testClocks');
    fill(s.chargeOutcome, 'chargeOutcome');
    s.deliveries = (r.deliveries as DeliveryRecord[] | undefined) ?? [];
    s.invoiceNumber = Number(r.invoiceNumber ?? 1);
    return s;
  }
}

export function makeProduct(name: string, extra: Partial<Product> = {}): Product {
  const t = now();
  return {
    id: newId('prod', 14),
    object: 'product',
    active: true,
    created: t,
    default_price: null,
    description: null,
    images: [],
    livemode: false,
    marketing_features: [],
    metadata: {},
    name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    type: 'service',
    unit_label: null,
    updated: t,
    url: null,
    ...extra,
  };
}

export function makePrice(input: {
  product: string;
  unit_amount: number;
  currency: string;
  interval: 'day' | 'week' | 'month' | 'year' | null;
  interval_count?: number;
  lookup_key?: string | null;
  nickname?: string | null;
  metadata?: Record<string, string>;
}): Price {
  return {
    id: newId('price'),
    object: 'price',
    active: true,
    billing_scheme: 'per_unit',
    created: now(),
    currency: input.currency.toLowerCase(),
    custom_unit_amount: null,
    livemode: false,
    lookup_key: input.lookup_key ?? null,
    metadata: input.metadata ?? {},
    nickname: input.nickname ?? null,
    product: input.product,
    recurring: input.interval
      ? { interval: input.interval, interval_count: input.interval_count ?? 1, usage_type: 'licensed', meter: null, trial_period_days: null }
      : null,
    tax_behavior: 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: input.interval ? 'recurring' : 'one_time',
    unit_amount: input.unit_amount,
    unit_amount_decimal: String(input.unit_amount),
  };
}

/** The lookup keys of the seeded plans; StockClerk finds their prices by these. */
export const SEEDED_PLANS = [
  { lookup_key: 'stockclerk_starter', nickname: 'Starter', unit_amount: 5000 },
  { lookup_key: 'stockclerk_growth', nickname: 'Growth', unit_amount: 10000 },
] as const;

/**
 * On a fresh account: the product "StockClerk" with its two monthly GBP prices. A restored
 * account keeps the ones it has (same ids as before the restart); a missing one is added.
 */
export function seed(s: StripeState): Record<string, string> {
  const byKey = (k: string) => [...s.prices.values()].find((p) => p.lookup_key === k);
  let product = [...s.products.values()].find((p) => p.name === 'StockClerk');
  if (!product) {
    product = makeProduct('StockClerk', { description: 'Inventory sync for every channel you sell on.' });
    s.products.set(product.id, product);
  }
  const ids: Record<string, string> = {};
  for (const plan of SEEDED_PLANS) {
    let price = byKey(plan.lookup_key);
    if (!price) {
      price = makePrice({
        product: product.id,
        unit_amount: plan.unit_amount,
        currency: 'gbp',
        interval: 'month',
        lookup_key: plan.lookup_key,
        nickname: plan.nickname,
      });
      s.prices.set(price.id, price);
    }
    ids[plan.lookup_key] = price.id;
  }
  if (!product.default_price) product.default_price = ids.stockclerk_starter;
  return ids;
}
