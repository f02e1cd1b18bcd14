// Small GraphQL clients for a Vendure dev server: the storefront checkout a shopper goes through
// and the admin calls a merchant makes (tests and the benchmark drive Vendure with these).
import type { VendureDevServer } from './dev-server.ts';

interface Gql<T> {
  data?: T;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** A GraphQL session that keeps the `vendure-auth-token` Vendure hands out. */
export class VendureSession {
  readonly url: string;
  token: string | null = null;
  constructor(url: string) {
    this.url = url;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test client of an untyped GraphQL API: callers name T where they read fields
  async call<T = any>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await fetch(this.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    const t = res.headers.get('vendure-auth-token');
    if (t) this.token = t;
    const body = (await res.json()) as Gql<T>;
    if (body.errors?.length) throw new Error(`Vendure: ${body.errors.map((e) => e.message).join('; ')}`);
    return body.data as T;
  }
}

export async function adminSession(v: VendureDevServer): Promise<VendureSession> {
  const s = new VendureSession(v.adminUrl);
  const r = await s.call(`mutation($u:String!,$p:String!){ login(username:$u,password:$p){ __typename } }`, {
    u: v.superadmin.username,
    p: v.superadmin.password,
  });
  if (r.login.__typename !== 'CurrentUser') throw new Error(`admin login failed: ${r.login.__typename}`);
  return s;
}

export interface VariantStock {
  id: string;
  sku: string;
  stockOnHand: number;
  stockAllocated: number;
}

export async function variantsBySku(admin: VendureSession): Promise<Map<string, VariantStock>> {
  const out = new Map<string, VariantStock>();
  for (let skip = 0; ; skip += 100) {
    const r = await admin.call(
      `query($skip:Int!){ productVariants(options:{skip:$skip,take:100,sort:{id:ASC}}){ totalItems items{ id sku stockLevels{ stockLocationId stockOnHand stockAllocated } } } }`,
      { skip },
    );
    for (const v of r.productVariants.items) {
      const l = v.stockLevels[0] ?? { stockOnHand: 0, stockAllocated: 0 };
      out.set(v.sku, { id: v.id, sku: v.sku, stockOnHand: l.stockOnHand, stockAllocated: l.stockAllocated });
    }
    if (skip + 100 >= r.productVariants.totalItems) return out;
  }
}

export async function variantStock(admin: VendureSession, variantId: string): Promise<VariantStock> {
  const r = await admin.call(`query($id:ID!){ productVariant(id:$id){ id sku stockLevels{ stockOnHand stockAllocated } } }`, { id: variantId });
  const l = r.productVariant.stockLevels[0];
  return { id: r.productVariant.id, sku: r.productVariant.sku, stockOnHand: l.stockOnHand, stockAllocated: l.stockAllocated };
}

/** A merchant's stock edit in the admin: set stockOnHand at the default location. */
export async function setStockOnHand(admin: VendureSession, variantId: string, stockOnHand: number): Promise<void> {
  await admin.call(`mutation($id:ID!,$n:Int!){ updateProductVariants(input:[{ id:$id, stockOnHand:$n }]){ id } }`, { id: variantId, n: stockOnHand });
}

export interface PlacedOrder {
  id: string;
  code: string;
  state: string;
  lineId: string;
  paymentId: string;
}

/** A guest checkout through the Shop API up to PaymentAuthorized (Vendure allocates stock here). */
export async function checkout(v: VendureDevServer, variantId: string, qty: number): Promise<PlacedOrder | { error: string }> {
  const shop = new VendureSession(v.shopUrl);
  const add = await shop.call(
    `mutation($v:ID!,$q:Int!){ addItemToOrder(productVariantId:$v, quantity:$q){ __typename ... on Order{ id } ... on ErrorResult{ errorCode } } }`,
    { v: variantId, q: qty },
  );
  if (add.addItemToOrder.__typename !== 'Order') return { error: add.addItemToOrder.errorCode };
  await shop.call(
    `mutation{ setCustomerForOrder(input:{emailAddress:"guest${Date.now()}${Math.random()}@example.com",firstName:"G",lastName:"Uest"}){ __typename } }`,
  );
  await shop.call(`mutation{ setOrderShippingAddress(input:{streetLine1:"1 Main St",countryCode:"GB"}){ __typename } }`);
  const methods = await shop.call(`{ eligibleShippingMethods{ id } }`);
  await shop.call(`mutation($id:[ID!]!){ setOrderShippingMethod(shippingMethodId:$id){ __typename } }`, { id: [methods.eligibleShippingMethods[0].id] });
  const tr = await shop.call(`mutation{ transitionOrderToState(state:"ArrangingPayment"){ __typename ... on OrderStateTransitionError{ transitionError } } }`);
  if (tr.transitionOrderToState.__typename !== 'Order') return { error: tr.transitionOrderToState.transitionError ?? tr.transitionOrderToState.__typename };
  const pay = await shop.call(
    `mutation{ addPaymentToOrder(input:{method:"standard-payment",metadata:{}}){ __typename ... on Order{ id code state lines{ id } payments{ id } } ... on ErrorResult{ errorCode message } } }`,
  );
  const o = pay.addPaymentToOrder;
  if (o.__typename !== 'Order') return { error: o.errorCode };
  return { id: o.id, code: o.code, state: o.state, lineId: o.lines[0].id, paymentId: o.payments[0].id };
}

/** Settles the payment and ships the line (Vendure writes the SALE movement at fulfilment). */
export async function settleAndFulfil(admin: VendureSession, order: PlacedOrder, qty: number): Promise<void> {
  const s = await admin.call(`mutation($id:ID!){ settlePayment(id:$id){ __typename ... on ErrorResult{ errorCode message } } }`, { id: order.paymentId });
  if (s.settlePayment.__typename !== 'Payment') throw new Error(`settlePayment: ${JSON.stringify(s.settlePayment)}`);
  const f = await admin.call(
    `mutation($line:ID!,$q:Int!){ addFulfillmentToOrder(input:{ lines:[{orderLineId:$line, quantity:$q}], handler:{ code:"manual-fulfillment",
       arguments:[{name:"method",value:"post"},{name:"trackingCode",value:"T1"}] } }){ __typename ... on ErrorResult{ errorCode message } } }`,
    { line: order.lineId, q: qty },
  );
  if (f.addFulfillmentToOrder.__typename !== 'Fulfillment') throw new Error(`addFulfillmentToOrder: ${JSON.stringify(f.addFulfillmentToOrder)}`);
}
