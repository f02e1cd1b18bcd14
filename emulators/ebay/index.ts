// eBay emulator: the seller-side REST APIs a stock sync and a catalog publisher use, written from
// eBay's documentation (DESIGN.md invariant 9; guesses are marked GUESS in the code).
//
// Modelled
// - OAuth 2.0 (oauth.ts): consent page GET/POST /oauth2/authorize (client_id, redirect_uri = the
//   application's RuName, response_type=code, scope, state) redirecting to the RuName's accept URL
//   with code + state; POST /identity/v1/oauth2/token (Basic client_id:client_secret, form body) for
//   authorization_code (access 7,200 s + refresh 18 months), refresh_token (new access token, same
//   or fewer scopes) and client_credentials (application token). Expired or unknown bearer tokens
//   answer 401 / errorId 1001; a token without the method's scope answers 403 / errorId 1100.
//   https://developer.ebay.com/api-docs/static/oauth-auth-code-grant-request.html
//   https://developer.ebay.com/api-docs/static/oauth-refresh-token-request.html
//   https://developer.ebay.com/api-docs/static/oauth-redirect-uri.html
// - Sell Inventory API /sell/inventory/v1 (inventory.ts), from eBay's v1.13 OpenAPI document
//   (sell_inventory_v1_oas3.json): inventory items (PUT/GET/DELETE, paged GET, bulk create/replace
//   and bulk get, 25 max), inventory item groups (variantSKUs, variesBy), offers (create, getOffers
//   by sku, get/update/delete, publish -> listingId, publish_by_inventory_item_group, withdraw,
//   withdraw_by_inventory_item_group), bulk_update_price_quantity (25 max; listing quantity =
//   min(offer availableQuantity, item shipToLocationAvailability.quantity); 250 revisions per
//   listing per calendar day). Error bodies {errors: [{errorId, domain, category, message,
//   parameters}]} with the document's errorIds. Content-Language is required where documented;
//   writes need Content-Type: application/json.
//   https://developer.ebay.com/api-docs/sell/static/inventory/bulk-updates.html
// - Fulfillment API GET /sell/fulfillment/v1/order (filter creationdate / lastmodifieddate /
//   orderfulfillmentstatus, limit/offset, orderIds) and /order/{orderId} (fulfillment.ts), from the
//   v1.11 OpenAPI document: how the seller's application reads sales.
// - Notification API (notify.ts): ORDER_CONFIRMATION notifications (a documented seller topic:
//   asyncapi/order_confirmation.yaml) signed ECDSA P-256 / SHA-1 as eBay's own verifier checks them
//   (github.com/eBay/event-notification-nodejs-sdk); GET /commerce/notification/v1/public_key/{kid}
//   (application token); destinations (endpoint-validation challenge on create) and subscriptions.
//   https://developer.ebay.com/api-docs/commerce/notification/resources/public_key/methods/getPublicKey
//   https://developer.ebay.com/marketplace-account-deletion (challenge_code, challengeResponse)
// - Call limits (platform.ts): a daily budget per application per API (Pacific calendar day), the
//   documented OAuth grant budgets, and a short-term per-seller bucket; 429 / errorId 2001 when
//   spent, counted in stats.throttled. https://developer.ebay.com/api-docs/static/oauth-rate-limits.html
//
// Control API (beyond the kit's /_control): /_control/tokens (TTL, expire all access tokens),
// /_control/limits (budgets, advanceDays), /_control/usage/:clientId, /_control/reset,
// /_control/accounts/:id/destination (set the notification target after passing the challenge),
// /_control/accounts/:id/token (a user token without the consent page), /_control/accounts/:id/listings.
//
// GUESSes (each marked in the code): the Inventory/Fulfillment daily numbers (2,000,000 / 100,000),
// the short-term limit (50/s, burst 100), the 429 body (errorId 2001) and Retry-After, Pacific
// "day", 201-vs-204 on create/replace, the errorIds for missing Content-Language / Content-Type /
// bad JSON / >25 price-quantity requests / the 251st revision (25019) / a duplicate offer (25002),
// getOffers without sku refused and with unknown sku 404, 200-vs-207 on bulk calls, which fields
// publishing demands, SKU characters beyond alphanumerics, token and code formats, the code TTL
// (299 s), the consent page's HTML and decline redirect, ORDER_CONFIRMATION's data fields besides
// orderId, the Notification API errorIds other than 195000, and that a sale decrements both the
// item quantity and the offer's availableQuantity.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type EmulatorOptions, type EmulatorSpec, type ItemState } from '../kit/index.ts';
import {
  createSeller,
  listingQuantity,
  liveOffers,
  loadSeller,
  nextId,
  saveSeller,
  DEFAULT_PRICE,
  type EbayAccount,
  type Offer,
  type Order,
} from './account.ts';
import { setToken, tokenOf } from './context.ts';
import { EbayError, invError, invalidToken, sendEbayError, tooManyRequests, type EbayErrorDetail } from './errors.ts';
import { installFulfillment } from './fulfillment.ts';
import { installInventory } from './inventory.ts';
import { installNotifications, notifyOrder, validateEndpoint } from './notify.ts';
import { installOAuth, USER_SCOPES } from './oauth.ts';
import { Platform, type Budget, type EbayLimits } from './platform.ts';

export type { EbayAccount, Order, Offer } from './account.ts';
export { DEFAULT_LIMITS, type EbayLimits } from './platform.ts';
export { challengeResponse, ORDER_CONFIRMATION } from './notify.ts';

export interface EbayEmulatorOptions extends EmulatorOptions {
  /** Budgets and token lifetimes (defaults: DEFAULT_LIMITS). Also POST /_control/limits. */
  limits?: Partial<EbayLimits>;
}

type Marked = FastifyRequest & { ebayAuthFailure?: 'consent' | 'client' | 'token' };

const fail = (statusCode: number, message: string): Error => Object.assign(new Error(message), { statusCode });

function budgetFor(path: string): Budget | null {
  if (path.startsWith('/sell/inventory/')) return 'inventory';
  if (path.startsWith('/sell/fulfillment/')) return 'fulfillment';
  if (path.startsWith('/commerce/notification/')) return 'notification';
  return null;
}

/** The system error each API documents (25001 Inventory, 30500 Fulfillment, 195000 Notification). */
function systemError(path: string): EbayError {
  const d: EbayErrorDetail = path.startsWith('/sell/fulfillment/')
    ? { errorId: 30500, domain: 'API_FULFILLMENT', category: 'APPLICATION', message: 'System error' }
    : path.startsWith('/commerce/notification/')
      ? { errorId: 195000, domain: 'API_NOTIFICATION', category: 'APPLICATION', message: 'There was a problem with an eBay internal system or process.' }
      : { errorId: 25001, domain: 'API_INVENTORY', subdomain: 'Selling', category: 'APPLICATION', message: 'A system error has occurred.' };
  return new EbayError(500, [d]);
}

export function createEbayEmulator(opts: EbayEmulatorOptions = {}): Emulator<EbayAccount> {
  const platform = new Platform(opts.limits);

  const byClient = (accounts: Map<string, EbayAccount>, clientId: string | undefined) =>
    [...accounts.values()].filter((a) => clientId !== undefined && a.credentials.client_id === clientId);

  const findLive = (acc: EbayAccount, input: { externalId?: string; sku?: string }): Offer => {
    let sku = input.sku ?? input.externalId;
    if (sku && !acc.items.has(sku)) sku = [...acc.offers.values()].find((o) => o.listingId === sku)?.sku;
    if (!sku || !acc.items.has(sku)) throw fail(404, `no inventory item ${input.sku ?? input.externalId}`);
    const offer = liveOffers(acc, sku)[0];
    if (!offer) throw fail(409, `SKU ${sku} has no live listing (publish an offer first)`);
    return offer;
  };

  const spec: EmulatorSpec<EbayAccount> = {
    platform: 'ebay',
    // GUESS: eBay documents daily call limits, not a short-term rate; this bucket stands for the
    // burst protection every gateway has (per seller).
    rateLimit: { perSecond: 50, burst: 100 },
    createAccount: createSeller,
    saveAccount: saveSeller,
    loadAccount: loadSeller,
    saveShared: () => platform.save(),
    loadShared: (saved) => platform.load(saved),

    authenticate(req, accounts) {
      const path = req.url.split('?')[0] ?? '';
      const m = req as Marked;
      if (path === '/oauth2/authorize') {
        // The consent page is public; the application it is for must exist.
        const acc = byClient(accounts, (req.query as { client_id?: string }).client_id)[0];
        if (!acc) m.ebayAuthFailure = 'consent';
        return acc ?? null;
      }
      const auth = header(req, 'authorization') ?? '';
      if (path === '/identity/v1/oauth2/token') {
        m.ebayAuthFailure = 'client';
        if (!auth.startsWith('Basic ')) return null;
        const decoded = Buffer.from(auth.slice(6), 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 1) return null;
        const [id, secret] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
        return byClient(accounts, id).find((a) => a.credentials.client_secret === secret) ?? null;
      }
      m.ebayAuthFailure = 'token';
      const match = /^Bearer\s+(.+)$/i.exec(auth);
      const t = match ? platform.tokens.get(match[1]!.trim()) : undefined;
      if (!t || t.expiresAt <= Date.now()) return null;
      setToken(req, t);
      const acc = t.accountId ? accounts.get(t.accountId) : byClient(accounts, t.clientId)[0];
      // A user token outlives nothing: a seller the platform no longer knows has no valid tokens.
      if (!acc || acc.credentials.client_id !== t.clientId) return null;
      return acc;
    },

    unauthorized(reply: FastifyReply) {
      const why = (reply.request as Marked).ebayAuthFailure;
      if (why === 'consent') {
        return reply.code(400).send({ error_id: 'invalid_request', error_description: 'Input request parameters are invalid.', http_status_code: 400 });
      }
      // Documented OAuth 2.0 answer for bad client credentials on the token endpoint.
      if (why === 'client') return reply.code(401).send({ error: 'invalid_client', error_description: 'client authentication failed' });
      return sendEbayError(reply, invalidToken());
    },
    throttled: (reply, retryAfterSec) => sendEbayError(reply, tooManyRequests(retryAfterSec)),
    serverError: (reply) => sendEbayError(reply, systemError(reply.request.url)),

    routes(app, emu) {
      // Empty JSON bodies (publish, withdraw) are fine; anything else must parse.
      app.removeContentTypeParser('application/json');
      app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
        const text = body as string;
        if (text.trim() === '') return done(null, undefined);
        try {
          done(null, JSON.parse(text) as unknown);
        } catch {
          done(Object.assign(new Error('invalid JSON'), { statusCode: 400, code: 'EBAY_BAD_JSON' }), undefined);
        }
      });

      app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
        if (err instanceof EbayError) return sendEbayError(reply, err);
        const status = err.statusCode ?? 500;
        if (req.url.startsWith('/_control')) return reply.code(status).send({ error: err.message });
        if (status === 415) {
          // Documented: writes need Content-Type: application/json. GUESS: the status and errorId of the refusal.
          return sendEbayError(reply, invError(415, 25709, 'Invalid value for header Content-Type. Use application/json.', { fieldName: 'Content-Type' }));
        }
        if (status >= 400 && status < 500) {
          // GUESS: the gateway's answer to a body it cannot read (errorId 2004 "Invalid request").
          return sendEbayError(
            reply,
            new EbayError(400, [
              { errorId: 2004, domain: 'ACCESS', category: 'REQUEST', message: 'Invalid request', longMessage: `The request has errors. ${err.message}` },
            ]),
          );
        }
        return sendEbayError(reply, systemError(req.url));
      });

      app.setNotFoundHandler((req, reply) => {
        if (req.url.startsWith('/_control')) return reply.code(404).send({ error: 'not found' });
        // GUESS: eBay's gateway answer for an unknown resource.
        return sendEbayError(reply, new EbayError(404, [{ errorId: 2002, domain: 'ACCESS', category: 'REQUEST', message: 'Resource not found' }]));
      });

      /** Counts one call against the application's daily budget; false after answering 429. */
      const spend = (req: FastifyRequest, reply: FastifyReply, b: Budget): boolean => {
        if (!emu.knobs.enforceRateLimit) return true;
        const clientId = tokenOf(req)?.clientId ?? emu.account(req).credentials.client_id ?? '';
        if (platform.spend(clientId, b)) return true;
        emu.stats.throttled++;
        const sec = platform.secondsToTomorrow();
        void sendEbayError(reply, tooManyRequests(sec, `The daily call limit of ${platform.budgetOf(b)} for this application has been reached.`));
        return false;
      };
      app.addHook('preHandler', async (req, reply) => {
        const b = budgetFor(req.url);
        if (b && !spend(req, reply, b)) return reply;
      });

      installOAuth(app, emu, platform, spend);
      installInventory(app, emu, platform);
      installFulfillment(app, emu);
      installNotifications(app, emu, platform);

      // ---- control API beyond the kit's
      const accountOr404 = (id: string) => {
        const acc = emu.accounts.get(id);
        if (!acc) throw fail(404, `no account ${id}`);
        return acc;
      };
      app.post('/_control/tokens', async (req) => {
        const b = (req.body ?? {}) as { access_ttl_sec?: number; expire_access_tokens?: boolean; revoke?: boolean };
        if (typeof b.access_ttl_sec === 'number' && b.access_ttl_sec > 0) platform.limits.accessTokenTtlSec = b.access_ttl_sec;
        if (b.expire_access_tokens) platform.expireAccessTokens();
        if (b.revoke) {
          platform.tokens.clear();
          platform.refreshGrants.clear();
        }
        return { access_ttl_sec: platform.limits.accessTokenTtlSec, tokens: platform.tokens.size, refresh_tokens: platform.refreshGrants.size };
      });
      app.get('/_control/limits', async () => ({ ...platform.limits, dayShift: platform.dayShift, today: platform.today() }));
      app.post('/_control/limits', async (req) => {
        const b = (req.body ?? {}) as Partial<EbayLimits> & { advanceDays?: number };
        const { advanceDays, ...limits } = b;
        platform.limits = { ...platform.limits, ...limits };
        if (typeof advanceDays === 'number') platform.dayShift += advanceDays;
        return { ...platform.limits, dayShift: platform.dayShift, today: platform.today() };
      });
      app.get('/_control/usage/:clientId', async (req) => platform.usageOf((req.params as { clientId: string }).clientId));
      app.post('/_control/reset', async () => {
        emu.accounts.clear();
        platform.reset();
        emu.touch();
        return { ok: true };
      });
      app.post('/_control/accounts/:id/destination', async (req) => {
        const acc = accountOr404((req.params as { id: string }).id);
        const b = (req.body ?? {}) as { url?: string; verificationToken?: string };
        if (!b.url || !b.verificationToken) throw fail(400, 'url and verificationToken are required');
        const check = await validateEndpoint(b.url, b.verificationToken);
        if (check.ok) {
          acc.webhookUrl = b.url;
          acc.webhookSecret = b.verificationToken;
          emu.touch();
        }
        return check;
      });
      app.post('/_control/accounts/:id/token', async (req) => {
        const acc = accountOr404((req.params as { id: string }).id);
        const clientId = acc.credentials.client_id ?? '';
        const scopes = [...USER_SCOPES];
        return {
          access_token: platform.issueAccess('user', clientId, acc.id, scopes),
          expires_in: platform.limits.accessTokenTtlSec,
          refresh_token: platform.issueRefresh(clientId, acc.id, scopes),
          refresh_token_expires_in: platform.limits.refreshTokenTtlSec,
          token_type: 'User Access Token',
        };
      });
      app.get('/_control/accounts/:id/listings', async (req) => {
        const acc = accountOr404((req.params as { id: string }).id);
        const day = platform.today();
        return {
          listings: [...acc.listings.values()].map((l) => ({
            listingId: l.listingId,
            status: l.status,
            groupKey: l.groupKey,
            revisionsToday: l.revisionDay === day ? l.revisions : 0,
            variations: l.offerIds.map((id) => {
              const o = acc.offers.get(id)!;
              return { offerId: id, sku: o.sku, quantity: listingQuantity(acc, o), soldQuantity: o.soldQuantity };
            }),
          })),
        };
      });
    },

    async sale(emu, acc, input) {
      const offer = findLive(acc, input);
      const item = acc.items.get(offer.sku)!;
      const qty = Math.max(1, Math.floor(input.qty));
      const available = listingQuantity(acc, offer);
      // A buyer cannot buy more than the listing offers.
      if (available < qty) throw fail(409, `out of stock: listing ${offer.listingId} offers ${available}`);
      // GUESS: eBay keeps the inventory model in step with sales: the item's ship-to-home quantity and the offer's availableQuantity both drop.
      item.quantity -= qty;
      const shipTo = (item.body.availability ??= {}) as { shipToLocationAvailability?: Record<string, unknown> };
      shipTo.shipToLocationAvailability = { ...(shipTo.shipToLocationAvailability ?? {}), quantity: item.quantity };
      if (offer.availableQuantity !== null) offer.availableQuantity = Math.max(0, offer.availableQuantity - qty);
      offer.soldQuantity += qty;
      const price = ((offer.body.pricingSummary as { price?: { value: string; currency: string } } | undefined)?.price ?? DEFAULT_PRICE) as {
        value: string;
        currency: string;
      };
      const cost = { value: (Number(price.value) * qty).toFixed(2), currency: price.currency };
      const now = new Date().toISOString();
      const n = nextId(acc, 100_000_000_000);
      const listing = acc.listings.get(offer.listingId!)!;
      const order: Order = {
        // The new (2019) order id format: "NN-NNNNN-NNNNN". GUESS: digits only.
        orderId: `${n.slice(0, 2)}-${n.slice(2, 7)}-${n.slice(7, 12)}`,
        legacyOrderId: `${offer.listingId}-${nextId(acc, 2_000_000_000_000)}`,
        creationDate: now,
        lastModifiedDate: now,
        orderFulfillmentStatus: 'NOT_STARTED',
        orderPaymentStatus: 'PAID',
        sellerId: acc.username,
        buyer: { username: `buyer_${n.slice(-5)}` },
        pricingSummary: { priceSubtotal: cost, total: cost },
        cancelStatus: { cancelState: 'NONE_REQUESTED', cancelRequests: [] },
        salesRecordReference: String(1000 + acc.orders.length + 1),
        lineItems: [
          {
            lineItemId: nextId(acc, 10_000_000_000_000),
            legacyItemId: offer.listingId!,
            // Documented: returned for multiple-variation listings only. GUESS: its value.
            ...(listing.groupKey ? { legacyVariationId: String(600_000_000_000 + (Number(offer.offerId) % 1_000_000_000)) } : {}),
            sku: offer.sku,
            title: String((item.body.product as { title?: string } | undefined)?.title ?? offer.sku),
            quantity: qty,
            lineItemCost: cost,
            total: cost,
            lineItemFulfillmentStatus: 'NOT_STARTED',
            listingMarketplaceId: offer.marketplaceId,
            purchaseMarketplaceId: offer.marketplaceId,
            soldFormat: offer.format,
          },
        ],
      };
      acc.orders.push(order);
      notifyOrder(emu, platform, acc, order);
      return { ok: true, orderId: order.orderId, order, sku: offer.sku, listingId: offer.listingId, qty: listingQuantity(acc, offer) };
    },

    // The seller edits the quantity in Seller Hub: the item and every live offer take it. No notification (no topic for it).
    async setLevel(_emu, acc, input) {
      const sku = input.sku ?? input.externalId;
      const item = sku ? acc.items.get(sku) : undefined;
      if (!item) throw fail(404, `no inventory item ${sku}`);
      item.quantity = Math.max(0, Math.floor(input.qty));
      const shipTo = (item.body.availability ??= {}) as { shipToLocationAvailability?: Record<string, unknown> };
      shipTo.shipToLocationAvailability = { ...(shipTo.shipToLocationAvailability ?? {}), quantity: item.quantity };
      for (const o of liveOffers(acc, item.sku)) if (o.availableQuantity !== null) o.availableQuantity = item.quantity;
      const live = liveOffers(acc, item.sku)[0];
      return { ok: true, sku: item.sku, qty: live ? listingQuantity(acc, live) : item.quantity };
    },

    // What the platform sells now per SKU: the live listing's quantity (min rule) or, unlisted, the item's.
    state(acc): ItemState[] {
      return [...acc.items.values()].map((i) => {
        const live = liveOffers(acc, i.sku)[0];
        return {
          externalId: i.sku,
          sku: i.sku,
          name: String((i.body.product as { title?: string } | undefined)?.title ?? i.sku),
          qty: live ? listingQuantity(acc, live) : i.quantity,
          available: null,
        };
      });
    },
  };

  return new Emulator(spec, opts);
}
