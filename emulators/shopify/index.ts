// Shopify emulator: the GraphQL Admin API (2026-01) subset StockClerk uses, with Shopify's
// calculated-cost leaky bucket (200 + THROTTLED), changeFromQuantity compare-and-swap,
// @idempotent replay, and HMAC-signed REST-shaped webhooks (orders/create, inventory_levels/update).
// Facts: /work/shared/channel-apis.md section 1.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { Emulator, header, type AccountInput, type BaseAccount, type EmulatorSpec } from '../emulator-kit/index.ts';
import { hmacSha256 } from '../signing.ts';
import {
  execute, GqlError, parseOperation, Projected, projectValue, requestedCost,
  type ExecContext, type FieldNode, type GqlObject,
} from './gql-lite.ts';

export const API_VERSION = '2026-01';
export const LOCATION_GID = 'gid://shopify/Location/1';
const LOCATION_NUM = 1;
const MAX_SINGLE_QUERY_COST = 1000;
const DOC_URL = 'https://shopify.dev/api/usage/rate-limits';

// The 17 reasons from the 2025-01 schema (channel-apis.md, third-party generated list).
export const REASONS = new Set([
  'correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received',
  'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created',
  'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage',
]);
const ZERO_NAMES = new Set(['incoming', 'reserved', 'damaged', 'safety_stock', 'quality_control']);

interface Item {
  num: number;
  gid: string;
  sku: string;
  name: string;
  variantId: number;
  productId: number;
  levelNum: number;
  available: number;
  committed: number;
  updatedAt: string;
}

/** Shopify's GraphQL bucket is measured in cost points, not requests: requested cost is taken up front, the unused part refunded. */
class CostBucket {
  readonly max: number;
  readonly rate: number;
  private level: number;
  private last = Date.now();
  constructor(max: number, rate: number) {
    this.max = max;
    this.rate = rate;
    this.level = max;
  }
  available(): number {
    const now = Date.now();
    this.level = Math.min(this.max, this.level + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    return this.level;
  }
  take(cost: number): boolean {
    if (this.available() < cost) return false;
    this.level -= cost;
    return true;
  }
  refund(points: number): void {
    this.level = Math.min(this.max, this.available() + points);
  }
  status(): { maximumAvailable: number; currentlyAvailable: number; restoreRate: number } {
    return { maximumAvailable: this.max, currentlyAvailable: Math.floor(this.available()), restoreRate: this.rate };
  }
}

export interface ShopifyAccount extends BaseAccount {
  domain: string;
  items: Item[];
  byGid: Map<string, Item>;
  cost: CostBucket;
  idempotency: Map<string, { hash: string; result: unknown }>;
  clock: number;
  seq: number;
}

export interface ShopifyEmulatorOptions {
  /** Bucket size in cost points (Standard plan 1000). */
  maximumAvailable?: number;
  /** Points restored per second (Standard 100, Advanced 200, Plus 1000). */
  restoreRate?: number;
}

/** Every level change gets a strictly later timestamp, so versions order even within one millisecond. */
function stamp(acc: ShopifyAccount): string {
  acc.clock = Math.max(Date.now(), acc.clock + 1);
  return new Date(acc.clock).toISOString();
}

function throttledBody(requested: number, status: ReturnType<CostBucket['status']>): Record<string, unknown> {
  return {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: DOC_URL } }],
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status } },
  };
}

function findItem(acc: ShopifyAccount, input: { externalId?: string; sku?: string }): Item {
  const byId = input.externalId ? acc.byGid.get(toItemGid(input.externalId)) : undefined;
  const item = byId ?? (input.sku ? acc.items.find((i) => i.sku === input.sku) : undefined);
  if (!item) throw Object.assign(new Error(`no inventory item ${input.externalId ?? input.sku}`), { statusCode: 404 });
  return item;
}

function toItemGid(id: string): string {
  return /^\d+$/.test(id) ? `gid://shopify/InventoryItem/${id}` : id;
}

function sendTopic(emu: Emulator<ShopifyAccount>, acc: ShopifyAccount, topic: string, payload: unknown): void {
  const body = JSON.stringify(payload);
  const headers: Record<string, string> = {
    'X-Shopify-Topic': topic,
    'X-Shopify-Shop-Domain': acc.domain,
    'X-Shopify-API-Version': API_VERSION,
    'X-Shopify-Webhook-Id': randomUUID(),
    'X-Shopify-Event-Id': randomUUID(),
    'X-Shopify-Triggered-At': new Date().toISOString(),
  };
  if (acc.webhookSecret) headers['X-Shopify-Hmac-Sha256'] = hmacSha256(acc.webhookSecret, body, 'base64');
  emu.sendWebhook(acc, { headers, body });
}

function levelWebhook(emu: Emulator<ShopifyAccount>, acc: ShopifyAccount, item: Item): void {
  sendTopic(emu, acc, 'inventory_levels/update', {
    inventory_item_id: item.num,
    location_id: LOCATION_NUM,
    available: item.available,
    updated_at: item.updatedAt,
    admin_graphql_api_id: `gid://shopify/InventoryLevel/${item.levelNum}?inventory_item_id=${item.num}`,
  });
}

// ---- GraphQL object graph -----------------------------------------------------------------

function locationObj(acc: ShopifyAccount): GqlObject {
  return {
    __typename: 'Location',
    id: LOCATION_GID,
    name: 'Shop location',
    inventoryLevels: (args: Record<string, unknown>) => levelConnection(acc, args),
    inventoryLevel: (args: Record<string, unknown>) => {
      const item = acc.byGid.get(String(args.inventoryItemId));
      return item ? levelObj(acc, item) : null;
    },
  };
}

function itemObj(acc: ShopifyAccount, item: Item): GqlObject {
  return {
    __typename: 'InventoryItem',
    id: item.gid,
    sku: item.sku,
    tracked: true,
    variant: { __typename: 'ProductVariant', id: `gid://shopify/ProductVariant/${item.variantId}`, displayName: item.name, sku: item.sku },
    inventoryLevel: (args: Record<string, unknown>) => (args.locationId === LOCATION_GID ? levelObj(acc, item) : null),
  };
}

function levelObj(acc: ShopifyAccount, item: Item): GqlObject {
  return {
    __typename: 'InventoryLevel',
    id: `gid://shopify/InventoryLevel/${item.levelNum}?inventory_item_id=${item.num}`,
    updatedAt: item.updatedAt,
    item: () => itemObj(acc, item),
    location: () => locationObj(acc),
    quantities: (args: Record<string, unknown>) => {
      if (!Array.isArray(args.names)) throw new GqlError("Field 'quantities' is missing required arguments: names", { code: 'missingRequiredArguments' });
      return args.names.map((n) => ({ __typename: 'InventoryQuantity', name: n, quantity: quantityOf(item, String(n)), updatedAt: item.updatedAt }));
    },
  };
}

function quantityOf(item: Item, name: string): number {
  if (name === 'available') return item.available;
  if (name === 'committed') return item.committed;
  if (name === 'on_hand') return item.available + item.committed;
  if (ZERO_NAMES.has(name)) return 0;
  throw new GqlError(`Invalid quantity name: ${name}`, { code: 'argumentLiteralsIncompatible' }); // GUESS: exact error text
}

function levelConnection(acc: ShopifyAccount, args: Record<string, unknown>): GqlObject {
  const first = args.first;
  if (typeof first !== 'number') throw new GqlError('you must provide one of first or last', { code: 'argumentLiteralsIncompatible' });
  if (first > 250) throw new GqlError('The first argument must be at most 250', { code: 'argumentLiteralsIncompatible' }); // GUESS: wording
  let start = 0;
  if (typeof args.after === 'string') {
    const after = Number(Buffer.from(args.after, 'base64url').toString());
    if (!Number.isInteger(after)) throw new GqlError('Invalid cursor for current pagination sort.', { code: 'invalidCursor' }); // GUESS: code
    start = acc.items.findIndex((i) => i.num > after);
    if (start < 0) start = acc.items.length;
  }
  const page = acc.items.slice(start, start + first);
  const cursor = (i: Item) => Buffer.from(String(i.num)).toString('base64url');
  const last = page[page.length - 1];
  return {
    __typename: 'InventoryLevelConnection',
    nodes: page.map((i) => levelObj(acc, i)),
    edges: page.map((i) => ({ __typename: 'InventoryLevelEdge', cursor: cursor(i), node: levelObj(acc, i) })),
    pageInfo: {
      __typename: 'PageInfo',
      hasNextPage: start + first < acc.items.length,
      hasPreviousPage: start > 0,
      startCursor: page[0] ? cursor(page[0]) : null,
      endCursor: last ? cursor(last) : null,
    },
  };
}

function queryRoot(acc: ShopifyAccount): GqlObject {
  const node = (id: unknown): GqlObject | null => {
    if (id === LOCATION_GID) return locationObj(acc);
    const item = acc.byGid.get(String(id));
    return item ? itemObj(acc, item) : null;
  };
  return {
    __typename: 'QueryRoot',
    shop: { __typename: 'Shop', id: 'gid://shopify/Shop/1', name: acc.id, myshopifyDomain: acc.domain },
    location: (args: Record<string, unknown>) => (args.id === LOCATION_GID ? locationObj(acc) : null),
    inventoryItem: (args: Record<string, unknown>) => {
      const item = acc.byGid.get(String(args.id));
      if (!item && !String(args.id).startsWith('gid://shopify/InventoryItem/')) throw new GqlError('Invalid id: ' + String(args.id), { code: 'argumentLiteralsIncompatible' });
      return item ? itemObj(acc, item) : null;
    },
    node: (args: Record<string, unknown>) => node(args.id),
    nodes: (args: Record<string, unknown>) => {
      if (!Array.isArray(args.ids) || args.ids.length > 250) throw new GqlError('nodes(ids:) takes at most 250 ids', { code: 'MAX_INPUT_SIZE_EXCEEDED' }); // GUESS: wording
      return args.ids.map(node);
    },
  };
}

// ---- inventorySetQuantities ---------------------------------------------------------------

interface QtyInput {
  inventoryItemId?: unknown;
  locationId?: unknown;
  quantity?: unknown;
  changeFromQuantity?: unknown;
  compareQuantity?: unknown;
}
interface SetInput {
  name?: unknown;
  reason?: unknown;
  referenceDocumentUri?: unknown;
  ignoreCompareQuantity?: unknown;
  quantities?: QtyInput[];
}
type UserError = { __typename: 'InventorySetQuantitiesUserError'; code: string; field: string[] | null; message: string };

function userError(code: string, field: string[] | null, message: string): UserError {
  return { __typename: 'InventorySetQuantitiesUserError', code, field, message };
}

function validate(acc: ShopifyAccount, input: SetInput): UserError[] {
  const errs: UserError[] = [];
  if (input.name !== 'available' && input.name !== 'on_hand') errs.push(userError('INVALID_NAME', ['input', 'name'], 'The quantity name must be either \'available\' or \'on_hand\'.'));
  if (typeof input.reason !== 'string' || !REASONS.has(input.reason)) errs.push(userError('INVALID_REASON', ['input', 'reason'], 'The specified reason is invalid.'));
  if (input.referenceDocumentUri != null && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(String(input.referenceDocumentUri))) {
    errs.push(userError('INVALID_REFERENCE_DOCUMENT', ['input', 'referenceDocumentUri'], 'The reference document URI is invalid.'));
  }
  const seen = new Set<string>();
  (input.quantities ?? []).forEach((q, i) => {
    const at = (f: string) => ['input', 'quantities', String(i), f];
    const item = acc.byGid.get(String(q.inventoryItemId));
    if (!item) return errs.push(userError('INVALID_INVENTORY_ITEM', at('inventoryItemId'), 'The specified inventory item could not be found.'));
    if (q.locationId !== LOCATION_GID) return errs.push(userError('INVALID_LOCATION', at('locationId'), 'The specified location could not be found.'));
    const pair = `${item.gid}|${String(q.locationId)}`;
    if (seen.has(pair)) return errs.push(userError('NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR', at('inventoryItemId'), 'The combination of inventoryItemId and locationId must be unique.'));
    seen.add(pair);
    const qty = q.quantity;
    if (typeof qty !== 'number' || !Number.isInteger(qty)) return errs.push(userError('INVALID_QUANTITY_NEGATIVE', at('quantity'), 'The quantity must be an integer.')); // GUESS: GraphQL would reject this as a type error
    if (qty > 1_000_000_000) return errs.push(userError('INVALID_QUANTITY_TOO_HIGH', at('quantity'), 'The quantity can\'t be higher than 1,000,000,000.'));
    if (qty < -1_000_000_000) return errs.push(userError('INVALID_QUANTITY_TOO_LOW', at('quantity'), 'The quantity can\'t be lower than -1,000,000,000.'));
    // GUESS: negative targets rejected (the doc lists the code; which names allow negatives is not documented).
    if (qty < 0) return errs.push(userError('INVALID_QUANTITY_NEGATIVE', at('quantity'), 'The quantity can\'t be negative.'));
    if (input.name !== 'available' && input.name !== 'on_hand') return undefined;
    const current = quantityOf(item, input.name);
    // GUESS (2026-01 interplay): changeFromQuantity, when the key is present, wins (null opts out);
    // else the pre-2026-04 compareQuantity rules apply.
    if ('changeFromQuantity' in q) {
      if (q.changeFromQuantity !== null && q.changeFromQuantity !== current) {
        errs.push(userError('CHANGE_FROM_QUANTITY_STALE', at('changeFromQuantity'), 'The changeFromQuantity does not match the current quantity.'));
      }
    } else if (q.compareQuantity !== undefined && q.compareQuantity !== null) {
      if (q.compareQuantity !== current) errs.push(userError('COMPARE_QUANTITY_STALE', at('compareQuantity'), 'The compareQuantity argument no longer matches the persisted quantity.'));
    } else if (input.ignoreCompareQuantity !== true) {
      errs.push(userError('COMPARE_QUANTITY_REQUIRED', at('compareQuantity'), 'The compareQuantity value is required unless ignoreCompareQuantity is true.'));
    }
    return undefined;
  });
  return errs;
}

function setQuantities(emu: Emulator<ShopifyAccount>, acc: ShopifyAccount, args: Record<string, unknown>, field: FieldNode, ctx: ExecContext, path: Array<string | number>): unknown {
  const input = (args.input ?? {}) as SetInput;
  if (!Array.isArray(input.quantities)) throw new GqlError("Variable $input of type InventorySetQuantitiesInput! was provided invalid value for quantities", { code: 'INVALID_VARIABLE' });
  // Input limits: array inputs hold at most 250 entries (GUESS: code and wording of the error).
  if (input.quantities.length > 250) {
    throw new GqlError(`The input array size of ${input.quantities.length} is greater than the maximum allowed of 250.`, { code: 'MAX_INPUT_SIZE_EXCEEDED' }, path);
  }
  const key = field.directives.idempotent?.key;
  const hash = createHash('sha256').update(JSON.stringify(input)).digest('hex');
  const project = (payload: unknown) => projectValue(payload, field.selections ?? [], path, ctx);
  if (typeof key === 'string') {
    const prev = acc.idempotency.get(key);
    if (prev && prev.hash !== hash) {
      return { __typename: 'InventorySetQuantitiesPayload', inventoryAdjustmentGroup: null, userErrors: [
        userError('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', null, 'The same idempotency key was used with different parameters.'),
      ] };
    }
    // Same key, same input: the original answer, nothing applied again, no webhooks.
    if (prev) return new Projected(prev.result);
  }
  const errors = validate(acc, input);
  let group: GqlObject | null = null;
  // GUESS: the mutation is all-or-nothing; any userError leaves every quantity untouched.
  if (errors.length === 0) {
    const changes: GqlObject[] = [];
    const name = String(input.name);
    for (const q of input.quantities) {
      const item = acc.byGid.get(String(q.inventoryItemId)) as Item;
      const target = q.quantity as number;
      const delta = target - quantityOf(item, name);
      // GUESS: a set to the current value changes nothing (no new updatedAt, no webhook, no change row).
      if (delta !== 0) {
        item.available += delta; // setting on_hand moves available too: committed stays put
        item.updatedAt = stamp(acc);
        const names = name === 'available' ? ['available', 'on_hand'] : ['on_hand', 'available'];
        for (const n of names) {
          changes.push({ __typename: 'InventoryChange', name: n, delta, quantityAfterChange: quantityOf(item, n), ledgerDocumentUri: null,
            item: () => itemObj(acc, item), location: () => locationObj(acc) });
        }
        levelWebhook(emu, acc, item);
      }
      emu.recordWrite(acc.id, item.gid, item.available);
    }
    group = { __typename: 'InventoryAdjustmentGroup', id: `gid://shopify/InventoryAdjustmentGroup/${++acc.seq}`, createdAt: new Date().toISOString(),
      reason: input.reason, referenceDocumentUri: input.referenceDocumentUri ?? null, changes };
  }
  const result = project({ __typename: 'InventorySetQuantitiesPayload', inventoryAdjustmentGroup: group, userErrors: errors });
  if (typeof key === 'string') {
    // GUESS: Shopify's retention window is not in our notes; keep the newest 10,000 keys.
    if (acc.idempotency.size >= 10_000) acc.idempotency.delete(acc.idempotency.keys().next().value as string);
    acc.idempotency.set(key, { hash, result });
  }
  return new Projected(result);
}

// ---- the spec -----------------------------------------------------------------------------

export function createShopifyEmulator(opts: ShopifyEmulatorOptions = {}): Emulator<ShopifyAccount> {
  const maximumAvailable = opts.maximumAvailable ?? 1000;
  const restoreRate = opts.restoreRate ?? 100;
  const spec: EmulatorSpec<ShopifyAccount> = {
    type: 'shopify',
    // Shopify limits GraphQL by cost points, which the kit's per-request bucket cannot express;
    // it is set out of reach and the route runs the real cost bucket (respecting enforceRateLimit).
    rateLimit: { perSecond: 100_000, burst: 100_000 },
    createAccount(input: AccountInput, base: BaseAccount): ShopifyAccount {
      const acc: ShopifyAccount = {
        ...base, domain: `${input.id}.myshopify.com`, items: [], byGid: new Map(),
        cost: new CostBucket(maximumAvailable, restoreRate), idempotency: new Map(), clock: 0, seq: 0,
      };
      let next = 1001;
      for (const it of input.items) {
        const m = it.externalId ? /(\d+)$/.exec(it.externalId) : null;
        const num = m ? Number(m[1]) : next;
        next = Math.max(next, num) + 1;
        const item: Item = { num, gid: `gid://shopify/InventoryItem/${num}`, sku: it.sku, name: it.name, variantId: 40_000 + num,
          productId: 70_000 + num, levelNum: 900_000 + num, available: it.qty, committed: 0, updatedAt: stamp(acc) };
        acc.items.push(item);
        acc.byGid.set(item.gid, item);
      }
      acc.items.sort((a, b) => a.num - b.num);
      return acc;
    },
    authenticate(req, accounts) {
      const token = header(req, 'x-shopify-access-token');
      if (!token) return null;
      for (const acc of accounts.values()) if (acc.credentials.access_token === token) return acc;
      return null;
    },
    unauthorized: (reply: FastifyReply) => reply.code(401).send({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' }),
    // The kit's throttle knob: Shopify's real answer is 200 + THROTTLED. With nothing left and
    // requested = retryAfter x restoreRate, a client's (requested - available) / rate gives back retryAfterSec.
    throttled: (reply: FastifyReply, retryAfterSec: number) =>
      reply.code(200).send(throttledBody(retryAfterSec * restoreRate, { maximumAvailable, currentlyAvailable: 0, restoreRate })),
    serverError: (reply: FastifyReply) => reply.code(503).send({ errors: 'Service Unavailable' }), // GUESS: body text
    routes(app, emu) {
      app.post('/admin/api/:version/graphql.json', async (req, reply) => {
        const acc = emu.account(req);
        void reply.header('x-shopify-api-version', API_VERSION);
        const body = (req.body ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
        if (typeof body.query !== 'string') return reply.code(400).send({ errors: { query: 'Required parameter missing or invalid' } }); // GUESS: body
        const variables = (body.variables && typeof body.variables === 'object' ? body.variables : {}) as Record<string, unknown>;
        const gqlErr = (e: unknown) => {
          if (!(e instanceof GqlError)) throw e;
          return { errors: [{ message: e.message, ...(e.path ? { path: e.path } : {}), extensions: e.extensions }] };
        };
        let op;
        try {
          op = parseOperation(body.query, variables, typeof body.operationName === 'string' ? body.operationName : null);
        } catch (e) {
          return gqlErr(e);
        }
        const requested = requestedCost(op.selections, op.type);
        if (requested > MAX_SINGLE_QUERY_COST) {
          return { errors: [{ message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).`,
            extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_SINGLE_QUERY_COST } }] };
        }
        if (emu.knobs.enforceRateLimit && !acc.cost.take(requested)) {
          emu.stats.throttled++;
          return throttledBody(requested, acc.cost.status());
        }
        const ctx: ExecContext = { cost: 0, mutation: op.type === 'mutation' };
        const root: GqlObject = op.type === 'query' ? queryRoot(acc) : {
          __typename: 'Mutation',
          inventorySetQuantities: (args: Record<string, unknown>, field: FieldNode, c: ExecContext, path: Array<string | number>) =>
            setQuantities(emu, acc, args, field, c, path),
        };
        let data;
        try {
          data = execute(root, op, ctx);
        } catch (e) {
          if (emu.knobs.enforceRateLimit) acc.cost.refund(requested);
          return gqlErr(e);
        }
        if (emu.knobs.enforceRateLimit) acc.cost.refund(Math.max(0, requested - ctx.cost));
        return { data, extensions: { cost: { requestedQueryCost: requested, actualQueryCost: ctx.cost, throttleStatus: acc.cost.status() } } };
      });
    },
    async sale(emu, acc, input) {
      const item = findItem(acc, input);
      // Shopify moves ordered units from available to committed; on_hand drops at fulfilment.
      // The emulator lets available go negative (an oversell, as with "continue selling").
      item.available -= input.qty;
      item.committed += input.qty;
      item.updatedAt = stamp(acc);
      const orderId = 5_000_000 + ++acc.seq;
      const now = new Date().toISOString();
      sendTopic(emu, acc, 'orders/create', {
        id: orderId, admin_graphql_api_id: `gid://shopify/Order/${orderId}`, name: `#${1000 + acc.seq}`, order_number: 1000 + acc.seq,
        created_at: now, updated_at: now, processed_at: now, test: false, cancelled_at: null, cancel_reason: null,
        financial_status: 'paid', fulfillment_status: null, source_name: 'web', location_id: null, currency: 'USD',
        line_items: [{
          id: orderId * 10 + 1, admin_graphql_api_id: `gid://shopify/LineItem/${orderId * 10 + 1}`, variant_id: item.variantId,
          product_id: item.productId, sku: item.sku, quantity: input.qty, current_quantity: input.qty, fulfillable_quantity: input.qty,
          fulfillment_service: 'manual', fulfillment_status: null, variant_inventory_management: 'shopify', requires_shipping: true,
          gift_card: false, name: item.name, title: item.name, price: '10.00',
        }],
        fulfillments: [], refunds: [],
      });
      levelWebhook(emu, acc, item);
      return { order_id: orderId, externalId: item.gid, sku: item.sku, qty: item.available, version: item.updatedAt };
    },
    async setLevel(emu, acc, input) {
      const item = findItem(acc, input);
      item.available = input.qty;
      item.updatedAt = stamp(acc);
      levelWebhook(emu, acc, item);
      return { externalId: item.gid, sku: item.sku, qty: item.available, version: item.updatedAt };
    },
    state: (acc) => acc.items.map((i) => ({ externalId: i.gid, sku: i.sku, name: i.name, qty: i.available, available: null })),
  };
  return new Emulator(spec);
}
