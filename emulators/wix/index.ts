// Wix Stores Catalog V3 emulator: inventory items (one per variant x location) with optimistic
// locking on `revision`, cursor-paged query, bulk update, Wix's error bodies and 429, and webhooks
// posted as RS256 JWTs the way Wix signs them (channel-apis.md section 2).
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type EmulatorOptions, type EmulatorSpec } from '../kit/index.ts';
import { bump, compileFilter, createSite, decodeCursor, encodeCursor, findItem, itemJson, loadSite, saveSite, type Filter, type WixAccount } from './items.ts';
import { installRoutes } from './install.ts';
import { sendEvent, sendItemUpdated } from './notify.ts';

export { itemJson, type WixAccount, type WixItem } from './items.ts';
export { INVENTORY_FQDN } from './notify.ts';
export { generateWixKeyPair } from './rs256.ts';

const QUANTITY_LIMIT = 99_999; // documented range of inventoryItem.quantity: -99999..99999
/** catalogReference.appId of Wix Stores on eCom order lines (channel-apis.md section 2, "Orders"). */
const WIX_STORES_APP_ID = '215238eb-22a5-4c36-9e7b-e7c08025e04e';

function wixError(reply: FastifyReply, status: number, message: string, code: string, description = message): FastifyReply {
  return reply.code(status).send({ message, details: { applicationError: { code, description, data: {} } } });
}

function validationError(reply: FastifyReply, field: string, description: string): FastifyReply {
  return reply.code(400).send({
    message: description,
    details: { validationError: { fieldViolations: [{ field, description, violatedRule: 'VALIDATION', ruleName: 'INVALID', data: {} }] } },
  });
}

const spec: EmulatorSpec<WixAccount> = {
  platform: 'wix',
  // 200 requests per minute per site, the whole minute's quota available at once.
  rateLimit: { perSecond: 200 / 60, burst: 200 },
  createAccount: createSite,
  saveAccount: saveSite,
  loadAccount: loadSite,

  authenticate(req: FastifyRequest, accounts: Map<string, WixAccount>): WixAccount | null {
    // The install handshake (install.ts) carries no site credential: the installer finds the site
    // from its install token, the token endpoint from the code or refresh token in its body.
    // GUESS (emulator artefact): these are attributed to the first site for the kit's knobs.
    if (req.url.startsWith('/installer/') || req.url.split('?')[0] === '/oauth/access') return accounts.values().next().value ?? null;
    const key = header(req, 'authorization');
    // An installed app's access token names its site (no wix-site-id); an expired one is refused.
    const granted = key ? [...accounts.values()].find((a) => a.appGrant?.accessToken === key) : undefined;
    if (granted) return granted.appGrant!.accessExp > Date.now() ? granted : null;
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
    installRoutes(app, emu);
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
      const body = (req.body ?? {}) as {
        inventoryItems?: Array<{ inventoryItem?: { id?: string; revision?: string | number; quantity?: number } }>;
        returnEntity?: boolean;
      };
      const list = body.inventoryItems;
      if (!Array.isArray(list) || list.length < 1 || list.length > 1000)
        return validationError(reply, 'inventoryItems', 'inventoryItems must hold 1..1000 items');
      for (const [i, m] of list.entries()) {
        const inv = m.inventoryItem;
        if (!inv?.id) return validationError(reply, `inventoryItems[${i}].inventoryItem.id`, 'id is required');
        if (inv.revision === undefined || !/^\d+$/.test(String(inv.revision)))
          return validationError(reply, `inventoryItems[${i}].inventoryItem.revision`, 'revision is required');
        if (inv.quantity !== undefined && (!Number.isInteger(inv.quantity) || Math.abs(inv.quantity) > QUANTITY_LIMIT)) {
          return validationError(reply, `inventoryItems[${i}].inventoryItem.quantity`, `quantity must be an integer within +-${QUANTITY_LIMIT}`);
        }
      }
      let ok = 0;
      const results = list.map((m, originalIndex) => {
        const inv = m.inventoryItem!;
        const it = acc.items.find((x) => x.id === inv.id);
        const fail = (code: string, description: string) => ({
          itemMetadata: { id: inv.id, originalIndex, success: false, error: { code, description, data: {} } },
        });
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
export function createWixEmulator(opts: EmulatorOptions = {}): Emulator<WixAccount> {
  return new Emulator(spec, opts);
}
