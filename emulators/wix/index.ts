// Wix Stores Catalog V3 emulator: inventory items (one per variant x location) with optimistic
// locking on `revision`, cursor-paged query, bulk update, Wix's error bodies and 429, and webhooks
// posted as RS256 JWTs the way Wix signs them (channel-apis.md section 2).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type AccountInput, type BaseAccount, type EmulatorSpec } from '../emulator-kit/index.ts';
import { WIX_STORES_APP_ID } from './adapter.ts';
import { signJwtRS256 } from './jwt.ts';

export const INVENTORY_FQDN = 'wix.stores.catalog.v3.inventory_item';
const QUANTITY_LIMIT = 99_999; // documented range of inventoryItem.quantity: -99999..99999

export interface WixItem {
  id: string;
  variantId: string;
  productId: string;
  locationId: string;
  quantity: number;
  revision: bigint;
  sku: string;
  name: string;
  createdDate: string;
  updatedDate: string;
}

export interface WixAccount extends BaseAccount {
  siteId: string;
  apiKey: string;
  instanceId: string;
  defaultLocationId: string;
  items: WixItem[];
  /** Signs when no webhookSecret (private key PEM) is set; nobody holds its public half, so such webhooks never verify. */
  fallbackPrivateKey: string | null;
  orderSeq: number;
}

/** An app key pair as Wix issues it (the app dashboard shows the public one). Hand the public PEM to the channel as `public_key`. */
export function generateWixKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** The inventory item as the REST API renders it (int64 as string, like every Wix int64). */
export function itemJson(it: WixItem): Record<string, unknown> {
  return {
    id: it.id,
    revision: it.revision.toString(),
    createdDate: it.createdDate,
    updatedDate: it.updatedDate,
    variantId: it.variantId,
    locationId: it.locationId,
    productId: it.productId,
    trackQuantity: true,
    quantity: it.quantity,
    availabilityStatus: it.quantity > 0 ? 'IN_STOCK' : 'OUT_OF_STOCK',
    preorderInfo: { enabled: false },
    // GUESS: the object documents a read-only `product` ("associated product and variant details");
    // the sub-field names name/variantName/variantSku follow the SDK types we recall, not a page we read.
    product: { name: it.name, variantName: null, variantSku: it.sku, variantVisible: true },
  };
}

function wixError(reply: FastifyReply, status: number, message: string, code: string, description = message): FastifyReply {
  return reply.code(status).send({ message, details: { applicationError: { code, description, data: {} } } });
}

function validationError(reply: FastifyReply, field: string, description: string): FastifyReply {
  return reply.code(400).send({
    message: description,
    details: { validationError: { fieldViolations: [{ field, description, violatedRule: 'VALIDATION', ruleName: 'INVALID', data: {} }] } },
  });
}

type Filter = Record<string, unknown>;
const FILTERABLE = new Set(['id', 'variantId', 'locationId', 'productId']);

/** Wix query-language subset: field: value | {$eq|$ne|$in}. Returns an error text for anything else. */
function compileFilter(filter: Filter | undefined): ((it: WixItem) => boolean) | string {
  const tests: Array<(it: WixItem) => boolean> = [];
  for (const [field, cond] of Object.entries(filter ?? {})) {
    if (!FILTERABLE.has(field)) return `unsupported filter field ${field}`;
    const get = (it: WixItem) => String(it[field as keyof WixItem]);
    if (typeof cond === 'string') {
      tests.push((it) => get(it) === cond);
      continue;
    }
    if (!cond || typeof cond !== 'object') return `bad filter on ${field}`;
    for (const [op, v] of Object.entries(cond)) {
      if (op === '$eq') tests.push((it) => get(it) === String(v));
      else if (op === '$ne') tests.push((it) => get(it) !== String(v));
      else if (op === '$in' && Array.isArray(v)) {
        const set = new Set(v.map(String));
        tests.push((it) => set.has(get(it)));
      } else return `unsupported operator ${op} on ${field}`;
    }
  }
  return (it) => tests.every((t) => t(it));
}

// The cursor carries the query it belongs to, as Wix cursors do (later pages send only the cursor).
function encodeCursor(c: { offset: number; filter: Filter | undefined }): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}
function decodeCursor(s: string): { offset: number; filter: Filter | undefined } | null {
  try {
    const c = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as { offset: number; filter?: Filter };
    return Number.isInteger(c.offset) && c.offset >= 0 ? { offset: c.offset, filter: c.filter } : null;
  } catch {
    return null;
  }
}

function findItem(acc: WixAccount, input: { externalId?: string; sku?: string }): WixItem | undefined {
  if (input.externalId) return acc.items.find((i) => i.id === input.externalId);
  // A storefront sale draws from the default location (Wix checkout always does).
  return acc.items.find((i) => i.sku === input.sku && i.locationId === acc.defaultLocationId);
}

function bump(it: WixItem, qty: number): void {
  it.quantity = qty;
  it.revision += 1n;
  it.updatedDate = new Date().toISOString();
}

/** Wraps one standardised event the way Wix does: JWT{data: json{eventType, instanceId, data: json(event), identity: json}}. */
function sendEvent(emu: Emulator<WixAccount>, acc: WixAccount, eventType: string, event: Record<string, unknown>): void {
  if (!acc.webhookUrl) return; // nothing subscribed: skip the RSA signing
  const key = acc.webhookSecret || (acc.fallbackPrivateKey ??= generateWixKeyPair().privateKey);
  const iat = Math.floor(Date.now() / 1000);
  const envelope = {
    eventType,
    instanceId: acc.instanceId,
    data: JSON.stringify(event),
    identity: JSON.stringify({ identityType: 'APP' }),
  };
  // GUESS: Wix's exp window is not documented; one hour covers the emulator's retry schedule.
  const body = signJwtRS256(key, { data: JSON.stringify(envelope), iat, exp: iat + 3600 });
  // GUESS: content type of Wix webhook posts is not documented; the body is plain JWT text.
  emu.sendWebhook(acc, { headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
}

function sendItemUpdated(emu: Emulator<WixAccount>, acc: WixAccount, it: WixItem): void {
  sendEvent(emu, acc, `${INVENTORY_FQDN}_updated`, {
    id: randomUUID(),
    entityFqdn: INVENTORY_FQDN,
    slug: 'updated',
    entityId: it.id,
    updatedEvent: { currentEntityAsJson: JSON.stringify(itemJson(it)) },
    eventTime: it.updatedDate,
  });
}

const spec: EmulatorSpec<WixAccount> = {
  type: 'wix',
  // 200 requests per minute per site, the whole minute's quota available at once.
  rateLimit: { perSecond: 200 / 60, burst: 200 },

  createAccount(input: AccountInput, base: BaseAccount): WixAccount {
    const defaultLocationId = randomUUID();
    const now = new Date().toISOString();
    return {
      ...base,
      apiKey: input.credentials.api_key ?? '',
      siteId: input.credentials.site_id ?? input.id,
      instanceId: randomUUID(),
      defaultLocationId,
      fallbackPrivateKey: null,
      orderSeq: 10000,
      items: input.items.map((i) => ({
        id: i.externalId ?? randomUUID(),
        variantId: randomUUID(),
        productId: randomUUID(),
        locationId: defaultLocationId,
        quantity: i.qty,
        revision: 1n,
        sku: i.sku,
        name: i.name,
        createdDate: now,
        updatedDate: now,
      })),
    };
  },

  authenticate(req: FastifyRequest, accounts: Map<string, WixAccount>): WixAccount | null {
    const key = header(req, 'authorization');
    const site = header(req, 'wix-site-id');
    const acc = key ? [...accounts.values()].find((a) => a.apiKey === key) : undefined;
    if (!acc) return null;
    // API keys are account-level: the site header picks the site; without it (or for another site) Wix answers 403.
    if (!site || site !== acc.siteId) {
      (req as FastifyRequest & { wixForbidden?: boolean }).wixForbidden = true;
      return null;
    }
    return acc;
  },

  unauthorized(reply: FastifyReply): FastifyReply {
    if ((reply.request as FastifyRequest & { wixForbidden?: boolean }).wixForbidden) {
      // GUESS: the applicationError codes for auth failures are not documented.
      return wixError(reply, 403, 'Forbidden: wix-site-id header missing or not accessible with this key', 'FORBIDDEN');
    }
    return wixError(reply, 401, 'Unauthorized', 'UNAUTHENTICATED');
  },

  throttled(reply: FastifyReply): FastifyReply {
    // GUESS: Wix does not document a Retry-After header, so none is sent.
    return wixError(reply, 429, 'Resource exhausted', 'RESOURCE_EXHAUSTED', 'Too many requests: 200 requests per minute per site');
  },

  serverError(reply: FastifyReply): FastifyReply {
    return wixError(reply, 500, 'Internal error', 'INTERNAL');
  },

  routes(app, emu): void {
    app.post('/stores/v3/inventory-items/query', async (req, reply) => {
      const acc = emu.account(req);
      const q = ((req.body ?? {}) as { query?: { filter?: Filter; cursorPaging?: { limit?: number; cursor?: string | null } } }).query ?? {};
      const limit = q.cursorPaging?.limit ?? 100;
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return validationError(reply, 'query.cursorPaging.limit', 'limit must be 1..1000');
      let offset = 0;
      let filter = q.filter;
      if (q.cursorPaging?.cursor) {
        const c = decodeCursor(q.cursorPaging.cursor);
        if (!c) return validationError(reply, 'query.cursorPaging.cursor', 'invalid cursor');
        ({ offset, filter } = c);
      }
      const match = compileFilter(filter);
      if (typeof match === 'string') return validationError(reply, 'query.filter', match);
      const all = acc.items.filter(match);
      const page = all.slice(offset, offset + limit);
      const hasNext = offset + limit < all.length;
      return {
        inventoryItems: page.map(itemJson),
        pagingMetadata: {
          count: page.length,
          cursors: hasNext ? { next: encodeCursor({ offset: offset + limit, filter }) } : {},
          hasNext,
        },
      };
    });

    app.post('/stores/v3/bulk/inventory-items/update', async (req, reply) => {
      const acc = emu.account(req);
      const body = (req.body ?? {}) as { inventoryItems?: Array<{ inventoryItem?: { id?: string; revision?: string | number; quantity?: number } }>; returnEntity?: boolean };
      const list = body.inventoryItems;
      if (!Array.isArray(list) || list.length < 1 || list.length > 1000) return validationError(reply, 'inventoryItems', 'inventoryItems must hold 1..1000 items');
      for (const [i, m] of list.entries()) {
        const inv = m.inventoryItem;
        if (!inv?.id) return validationError(reply, `inventoryItems[${i}].inventoryItem.id`, 'id is required');
        if (inv.revision === undefined || !/^\d+$/.test(String(inv.revision))) return validationError(reply, `inventoryItems[${i}].inventoryItem.revision`, 'revision is required');
        if (inv.quantity !== undefined && (!Number.isInteger(inv.quantity) || Math.abs(inv.quantity) > QUANTITY_LIMIT)) {
          return validationError(reply, `inventoryItems[${i}].inventoryItem.quantity`, `quantity must be an integer within +-${QUANTITY_LIMIT}`);
        }
      }
      let ok = 0;
      const results = list.map((m, originalIndex) => {
        const inv = m.inventoryItem!;
        const it = acc.items.find((x) => x.id === inv.id);
        const fail = (code: string, description: string) => ({ itemMetadata: { id: inv.id, originalIndex, success: false, error: { code, description, data: {} } } });
        if (!it) return fail('INVENTORY_ITEM_NOT_FOUND', `inventory item ${inv.id} not found`); // GUESS: per-item error code
        // Optimistic locking (documented); GUESS: the per-item error code for a stale revision.
        if (BigInt(inv.revision!) !== it.revision) return fail('REVISION_MISMATCH', `revision ${inv.revision} is stale (current ${it.revision})`);
        if (inv.quantity !== undefined) {
          bump(it, inv.quantity);
          emu.recordWrite(acc.id, it.id, it.quantity);
          sendItemUpdated(emu, acc, it);
        }
        ok++;
        return { itemMetadata: { id: it.id, originalIndex, success: true }, ...(body.returnEntity ? { item: itemJson(it) } : {}) };
      });
      return { results, bulkActionMetadata: { totalSuccesses: ok, totalFailures: list.length - ok, undetailedFailures: 0 } };
    });
  },

  async sale(emu, acc, input) {
    const it = findItem(acc, input);
    if (!it) return { ok: false, error: 'no such inventory item' };
    // Wix checkout will not sell more than a tracked item holds.
    if (it.quantity < input.qty) return { ok: false, error: 'out_of_stock', quantity: it.quantity };
    bump(it, it.quantity - input.qty);
    const orderId = randomUUID();
    const order = {
      id: orderId,
      number: String(++acc.orderSeq),
      createdDate: it.updatedDate,
      status: 'APPROVED',
      paymentStatus: 'PAID',
      lineItems: [
        {
          id: randomUUID(),
          productName: { original: it.name },
          quantity: input.qty,
          catalogReference: { catalogItemId: it.productId, appId: WIX_STORES_APP_ID, options: { variantId: it.variantId } },
          // GUESS: sku under physicalProperties (eCom line item) is from memory, not a page we read.
          physicalProperties: { sku: it.sku, shippable: true },
        },
      ],
    };
    sendEvent(emu, acc, 'wix.ecom.v1.order_created', {
      id: randomUUID(),
      entityFqdn: 'wix.ecom.v1.order',
      slug: 'created',
      entityId: orderId,
      createdEvent: { entityAsJson: JSON.stringify(order) },
      eventTime: it.updatedDate,
    });
    sendItemUpdated(emu, acc, it);
    return { ok: true, orderId, item: itemJson(it) };
  },

  async setLevel(emu, acc, input) {
    const it = findItem(acc, input);
    if (!it) return { ok: false, error: 'no such inventory item' };
    bump(it, input.qty);
    sendItemUpdated(emu, acc, it);
    return { ok: true, item: itemJson(it) };
  },

  state(acc) {
    return acc.items.map((i) => ({ externalId: i.id, sku: i.sku, name: i.name, qty: i.quantity, available: null }));
  },
};

/**
 * Account input: credentials {api_key, site_id}; webhookSecret = the app's PRIVATE key PEM (from
 * generateWixKeyPair), whose public half the channel holds as `public_key`.
 */
export function createWixEmulator(): Emulator<WixAccount> {
  return new Emulator(spec);
}
