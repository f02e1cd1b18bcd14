// StockClerk plugin for Vendure 3 (plain CommonJS: no build step, drop it into any Vendure project).
//
//   const { StockClerkPlugin } = require('@stockclerk/vendure-plugin');
//   plugins: [StockClerkPlugin.init({ webhookUrl: 'https://stockclerk.example/webhooks/vendure/ch_...', secret: 'whsec_...' })]
//
// Vendure sends no webhooks of its own. This plugin subscribes to StockMovementEvent (allocation,
// sale, cancellation, release, return, adjustment), which Vendure publishes after the transaction
// commits, and POSTs each event to StockClerk signed in the Standard Webhooks format
// (webhook-id / webhook-timestamp / webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>").
// Failed deliveries are retried with exponential backoff. Deliveries live in memory: if Vendure
// stops while one is pending, StockClerk's poll of the `stockClerkMovements` Admin API query (added
// below) and its Guardian's read-back recover it.
const crypto = require('node:crypto');
const {
  Allow,
  Ctx,
  EventBus,
  Logger,
  Permission,
  PluginCommonModule,
  ProcessContext,
  ProductVariant,
  StockLevel,
  StockMovement,
  StockMovementEvent,
  TransactionalConnection,
  VendurePlugin,
} = require('@vendure/core');
const { Args, Query, Resolver } = require('@nestjs/graphql');
const { In, MoreThan } = require('typeorm');

const LOG_CTX = 'StockClerkPlugin';
const DEFAULTS = { maxAttempts: 8, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 10_000 };

/** Standard Webhooks signature: the secret is `whsec_` + base64 key bytes. */
function sign(secret, id, timestamp, body) {
  const key = Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');
  return 'v1,' + crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** The wire shape of one movement, shared by the webhook body and the poll query. */
async function describeMovements(connection, movements) {
  const variantIds = [...new Set(movements.map((m) => String(m.productVariant?.id ?? m.productVariantId)))];
  const variants = variantIds.length
    ? await connection.rawConnection.getRepository(ProductVariant).find({ where: { id: In(variantIds) }, select: ['id', 'sku'], withDeleted: true })
    : [];
  const skuOf = new Map(variants.map((v) => [String(v.id), v.sku]));
  // Adjustments are compared by absolute level on StockClerk's side (echo or manual edit), so
  // they carry the level as it is now.
  const adj = movements.filter((m) => m.type === 'ADJUSTMENT');
  const levels = adj.length
    ? await connection.rawConnection
        .getRepository(StockLevel)
        .find({ where: { productVariantId: In([...new Set(adj.map((m) => String(m.productVariant?.id ?? m.productVariantId)))]) } })
    : [];
  const levelOf = new Map(levels.map((l) => [`${l.productVariantId}|${l.stockLocationId}`, l]));
  return movements.map((m) => {
    const variantId = String(m.productVariant?.id ?? m.productVariantId);
    const level = m.type === 'ADJUSTMENT' ? levelOf.get(`${variantId}|${m.stockLocationId}`) : undefined;
    return {
      id: String(m.id),
      type: m.type,
      quantity: m.quantity,
      variantId,
      sku: skuOf.get(variantId) ?? null,
      stockLocationId: m.stockLocationId == null ? null : String(m.stockLocationId),
      orderLineId: m.orderLineId == null ? (m.orderLine?.id == null ? null : String(m.orderLine.id)) : String(m.orderLineId),
      stockOnHand: level ? level.stockOnHand : null,
      stockAllocated: level ? level.stockAllocated : null,
      createdAt: new Date(m.createdAt ?? Date.now()).toISOString(),
    };
  });
}

class StockClerkPlugin {
  static init(options) {
    StockClerkPlugin.options = { ...DEFAULTS, ...options };
    return StockClerkPlugin;
  }

  constructor(eventBus, processContext, connection) {
    this.eventBus = eventBus;
    this.processContext = processContext;
    this.connection = connection;
    this.inFlight = new Set();
    this.subscription = null;
  }

  onApplicationBootstrap() {
    // The worker process has its own EventBus: subscribing there too would send every event twice.
    if (this.processContext.isWorker) return;
    const o = StockClerkPlugin.options;
    if (!o || !o.webhookUrl || !o.secret) {
      Logger.warn('StockClerkPlugin has no webhookUrl/secret: stock movements are not sent', LOG_CTX);
      return;
    }
    this.subscription = this.eventBus.ofType(StockMovementEvent).subscribe((event) => {
      const p = this.deliver(event).catch((err) => Logger.error(`StockClerk delivery failed: ${err && err.message}`, LOG_CTX));
      this.inFlight.add(p);
      p.finally(() => this.inFlight.delete(p));
    });
  }

  async onApplicationShutdown() {
    if (this.subscription) this.subscription.unsubscribe();
    // Give deliveries in their first attempt a moment; retries beyond that are recovered by polling.
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, 2000))]);
  }

  async deliver(event) {
    const o = StockClerkPlugin.options;
    const movements = await describeMovements(this.connection, event.stockMovements || []);
    if (movements.length === 0) return;
    const body = JSON.stringify({ type: 'stock.movements', data: { movements } });
    const id = `msg_vendure_${movements.map((m) => m.id).join('_')}`.slice(0, 200);
    for (let attempt = 1; ; attempt++) {
      // A fresh timestamp (and so signature) per attempt, as Standard Webhooks senders do.
      const ts = String(Math.floor(Date.now() / 1000));
      let status = 0;
      try {
        const res = await fetch(o.webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sign(o.secret, id, ts, body) },
          body,
          signal: AbortSignal.timeout(o.timeoutMs),
        });
        status = res.status;
        await res.arrayBuffer().catch(() => {});
        if (res.ok) return;
        // 4xx other than 408/429 will not get better by retrying (bad secret, unknown channel).
        if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
          Logger.error(`StockClerk refused ${id}: HTTP ${status}`, LOG_CTX);
          return;
        }
      } catch {
        // A network error or timeout (status stays 0): retried below like a 5xx.
      }
      if (attempt >= o.maxAttempts) {
        Logger.error(`StockClerk delivery ${id} gave up after ${attempt} attempts (last HTTP ${status || 'network error'})`, LOG_CTX);
        return;
      }
      const delay = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
Reflect.defineMetadata('design:paramtypes', [EventBus, ProcessContext, TransactionalConnection], StockClerkPlugin);

/** Admin API query StockClerk polls as the safety net: movements after an id, oldest first. */
class StockClerkMovementsResolver {
  constructor(connection) {
    this.connection = connection;
  }

  async stockClerkMovements(ctx, args) {
    const take = Math.min(500, Math.max(1, Number(args.take) || 100));
    const after = Number(args.afterId) || 0;
    // Movements younger than 2 s are left for the next poll: a transaction that took a lower id
    // may still be uncommitted, and the cursor must not pass it.
    const rows = await this.connection.rawConnection.getRepository(StockMovement).find({
      where: { id: MoreThan(after) },
      relations: { productVariant: true },
      order: { id: 'ASC' },
      take,
    });
    const settled = [];
    for (const r of rows) {
      if (Date.now() - new Date(r.createdAt).getTime() < 2000) break;
      settled.push(r);
    }
    return describeMovements(this.connection, settled);
  }
}
Reflect.defineMetadata('design:paramtypes', [TransactionalConnection], StockClerkMovementsResolver);
Reflect.defineMetadata('design:paramtypes', [Object, Object], StockClerkMovementsResolver.prototype, 'stockClerkMovements');
{
  const proto = StockClerkMovementsResolver.prototype;
  const d = Object.getOwnPropertyDescriptor(proto, 'stockClerkMovements');
  Ctx()(proto, 'stockClerkMovements', 0);
  Args()(proto, 'stockClerkMovements', 1);
  Allow(Permission.ReadCatalog)(proto, 'stockClerkMovements', d);
  Query()(proto, 'stockClerkMovements', d);
  Resolver()(StockClerkMovementsResolver);
}

const ADMIN_SCHEMA = `
  type StockClerkMovement {
    id: ID!
    type: String!
    quantity: Int!
    variantId: ID!
    sku: String
    stockLocationId: ID
    orderLineId: ID
    stockOnHand: Int
    stockAllocated: Int
    createdAt: String!
  }
  extend type Query {
    stockClerkMovements(afterId: ID, take: Int): [StockClerkMovement!]!
  }
`;

VendurePlugin({
  imports: [PluginCommonModule],
  adminApiExtensions: { schema: require('graphql').parse(ADMIN_SCHEMA), resolvers: [StockClerkMovementsResolver] },
  compatibility: '^3.0.0',
})(StockClerkPlugin);

module.exports = { StockClerkPlugin, sign };
