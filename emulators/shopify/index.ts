// Shopify emulator: the GraphQL Admin API (2026-01) subset StockClerk uses, with Shopify's
// calculated-cost leaky bucket (200 + THROTTLED), changeFromQuantity compare-and-swap,
// @idempotent replay, and HMAC-signed REST-shaped webhooks (orders/create, inventory_levels/update).
// Facts: /work/shared/channel-apis.md section 1.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, jsonInteger, type AccountInput, type BaseAccount, type EmulatorOptions, type EmulatorSpec } from '../kit/index.ts';
import { API_VERSION, CostBucket, createShop, findItem, loadShop, saveShop, stamp, type ShopifyAccount } from './account.ts';
import { execute, GqlError, parseOperation, requestedCost, type ExecContext, type FieldNode, type GqlObject } from './graphql.ts';
import { installRoutes } from './install.ts';
import { levelWebhook, sendTopic } from './notify.ts';
import { queryRoot } from './objects.ts';
import { setQuantities } from './set-quantities.ts';

export { API_VERSION, LOCATION_GID, type ShopifyAccount } from './account.ts';
export { REASONS } from './set-quantities.ts';

const MAX_SINGLE_QUERY_COST = 1000;
// Order and line item ids are 64-bit, as Shopify issues them: these bases are the ids in the
// orders/create example payload of Shopify's webhooks reference (shopify.dev/docs/api/webhooks,
// topic orders/create; the same body "Send test notification" delivers): order
// 820982911946154508, line item 866550311766439020, both above 2^53.
const ORDER_ID_BASE = 820_982_911_946_154_508n;
const LINE_ITEM_ID_BASE = 866_550_311_766_439_020n;
const DOC_URL = 'https://shopify.dev/api/usage/rate-limits';

export interface ShopifyEmulatorOptions extends EmulatorOptions {
  /** Bucket size in cost points (Standard plan 1000). */
  maximumAvailable?: number;
  /** Points restored per second (Standard 100, Advanced 200, Plus 1000). */
  restoreRate?: number;
}

function throttledBody(requested: number, status: ReturnType<CostBucket['status']>): Record<string, unknown> {
  return {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: DOC_URL } }],
    extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: status } },
  };
}

export function createShopifyEmulator(opts: ShopifyEmulatorOptions = {}): Emulator<ShopifyAccount> {
  const maximumAvailable = opts.maximumAvailable ?? 1000;
  const restoreRate = opts.restoreRate ?? 100;
  const bucket = () => new CostBucket(maximumAvailable, restoreRate);
  const spec: EmulatorSpec<ShopifyAccount> = {
    platform: 'shopify',
    // Shopify limits GraphQL by cost points, which the kit's per-request bucket cannot express;
    // it is set out of reach and the route runs the real cost bucket (respecting enforceRateLimit).
    rateLimit: { perSecond: 100_000, burst: 100_000 },
    createAccount: (input: AccountInput, base: BaseAccount) => createShop(input, base, bucket()),
    saveAccount: saveShop,
    loadAccount: (saved, base) => loadShop(saved, base, bucket()),
    authenticate(req, accounts) {
      // The install flow's pages and token exchange carry no token: the shop in the path names the account.
      const oauth = /^\/shops\/([^/?]+)\/admin\/oauth\//.exec(req.url);
      if (oauth) {
        for (const acc of accounts.values()) if (acc.domain === decodeURIComponent(oauth[1]!)) return acc;
        return null;
      }
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
      installRoutes(app, emu);
      // A shop's API lives on its own host (https://{shop}/admin/api/...); the emulator serves every
      // shop at its root (the token names the shop) and under /shops/{shop} (the install flow's base).
      const graphql = async (req: FastifyRequest, reply: FastifyReply) => {
        const acc = emu.account(req);
        const shop = (req.params as { shop?: string }).shop;
        if (shop !== undefined && shop !== acc.domain)
          return reply.code(401).send({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
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
          return {
            errors: [
              {
                message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).`,
                extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_SINGLE_QUERY_COST },
              },
            ],
          };
        }
        if (emu.knobs.enforceRateLimit && !acc.cost.take(requested)) {
          emu.stats.throttled++;
          return throttledBody(requested, acc.cost.status());
        }
        const ctx: ExecContext = { cost: 0, mutation: op.type === 'mutation' };
        const root: GqlObject =
          op.type === 'query'
            ? queryRoot(acc)
            : {
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
      };
      app.post('/admin/api/:version/graphql.json', graphql);
      app.post('/shops/:shop/admin/api/:version/graphql.json', graphql);
    },
    async sale(emu, acc, input) {
      const item = findItem(acc, input);
      // Shopify moves ordered units from available to committed; on_hand drops at fulfilment.
      // The emulator lets available go negative (an oversell, as with "continue selling").
      item.available -= input.qty;
      item.committed += input.qty;
      item.updatedAt = stamp(acc);
      const orderId = String(ORDER_ID_BASE + BigInt(++acc.seq));
      const lineItemId = String(LINE_ITEM_ID_BASE + BigInt(acc.seq));
      const now = new Date().toISOString();
      sendTopic(emu, acc, 'orders/create', {
        id: jsonInteger(orderId),
        admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
        name: `#${1000 + acc.seq}`,
        order_number: 1000 + acc.seq,
        created_at: now,
        updated_at: now,
        processed_at: now,
        test: false,
        cancelled_at: null,
        cancel_reason: null,
        financial_status: 'paid',
        fulfillment_status: null,
        source_name: 'web',
        location_id: null,
        currency: 'USD',
        line_items: [
          {
            id: jsonInteger(lineItemId),
            admin_graphql_api_id: `gid://shopify/LineItem/${lineItemId}`,
            variant_id: jsonInteger(item.variantId),
            product_id: jsonInteger(item.productId),
            sku: item.sku,
            quantity: input.qty,
            current_quantity: input.qty,
            fulfillable_quantity: input.qty,
            fulfillment_service: 'manual',
            fulfillment_status: null,
            variant_inventory_management: 'shopify',
            requires_shipping: true,
            gift_card: false,
            name: item.name,
            title: item.name,
            price: '10.00',
          },
        ],
        fulfillments: [],
        refunds: [],
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
  return new Emulator(spec, opts);
}
