// Etsy Open API v3 emulator, written from Etsy's documentation (never from StockClerk's adapter).
//
// What is modelled
// - Base /v3/application. Every call needs `x-api-key: <keystring>:<shared_secret>` (Request
//   Standards page; the shared secret is enforced since 2026-02-09, etsy/open-api discussion #1529);
//   seller endpoints also need `Authorization: Bearer <user_id>.<token>` with the endpoint's scope.
// - OAuth 2.0 authorization code + PKCE (oauth.ts): /oauth/connect consent page (Allow / Deny),
//   redirect with code + state, POST /v3/public/oauth/token (authorization_code with code_verifier
//   checked against the S256 challenge; refresh_token, rotating). Access tokens 3600 s; an expired
//   one -> 401 {error: "invalid_token", error_description: "access token is expired"} (issues #370, #519).
// - Listings: createDraftListing (POST /shops/{shop_id}/listings -> draft, with its inventory record
//   created from quantity + price), getListing, updateListing (PATCH; quantity/price ignored, as the
//   2022-06-06 release notes say; state active|inactive; active needs an image, per "image_ids
//   required for active listings" in Etsy's processing-profiles guide), deleteListing,
//   getListingsByShop ({count, results}, state/limit/offset), uploadListingImage (multipart),
//   getListingImages, getMe, openapi-ping.
// - Inventory (inventory.ts): getListingInventory (price as Money {amount, divisor, currency_code})
//   and updateListingInventory (whole-set replace, float price, read-only fields refused,
//   *_on_property rules, new product/offering ids on every write).
// - Receipts: getShopReceipts (min/max_created, min/max_last_modified, was_paid, was_shipped,
//   sort_on/sort_order, limit/offset) with transactions (listing_id, product_id, sku, quantity);
//   updateShopReceipt (was_shipped / was_paid), which modifies a receipt as shipping an order does.
//   Etsy documents no webhooks for sales or stock, so none are sent: clients poll receipts by
//   min_last_modified (channel-apis.md section 7: "Webhooks: UNCONFIRMED").
// - Rate limits (limits.ts): per API key for calls with the key alone and per OAuth access token for
//   calls with a seller's token (Rate Limits page), per second and per sliding 24 h (10 QPS / 10,000 QPD by
//   default, per account via rate_limit or /_control/accounts/:id/rate-limit), x-limit-* headers on
//   every /v3/application answer, 429 + retry-after; each 429 counts in the kit's stats.throttled.
// - Control API: the kit's (accounts, sale, set, state, knobs, stats) plus edit-on-Etsy
//   (/_control/accounts/:id/listings/:listing_id/edit), rate-limit, tokens (ttl / expire / revoke),
//   a direct token for tests (/_control/accounts/:id/token) and reset. State persists through the
//   kit's state file, including issued tokens, the id counter and the day quota used.
//
// Sources: developers.etsy.com (Request Standards, Authentication, Rate Limits, Listings tutorial,
// processing profiles guide); Etsy's OAS (github.com/etsy/open-api openapi.json, 2021-06: request
// and response schemas, scopes, receipt filters); release notes 3.0.0 2022-06-06 and 2025-01-06;
// etsy/open-api issues #116 #134 #159 #168 #195 #337 #353 #370 #432 #495 #519 #523 and discussion
// #1529; x-api-key error texts from anitabyte/etsyv3#31 and HelpCode-ai/anythingmcp#637.
//
// GUESSes (each is also marked `GUESS:` where it is made)
// - Error bodies and statuses Etsy does not document: a missing x-api-key (403, format text); an
//   unknown key (403 "Invalid API key"); a missing bearer (401 "Missing authorization header");
//   a missing scope (403 insufficient_scope); another seller's shop or listing (403); not found (404).
// - 429 body; whether a refused call uses quota (no); the per-second window is a sliding 1 s.
// - OAuth: the redirect error codes, the code lifetime (10 min, single use), the token endpoint's
//   other error texts, that a used refresh token is revoked at once, http allowed on loopback.
// - Inventory: offering quantity 0..999, price <= 50,000, one offering per product, at most two
//   variation properties, one value per property, "all combinations must be supplied" (a v2 text),
//   at least one enabled offering, the error texts.
// - Listings: seeded listings' price (10.00) and photo; the auto active <-> sold_out switch;
//   activation with no stock refused; at most 10 images (the 2021 OAS text); the when_made list
//   (decades and year ranges accepted by pattern); title <= 140 chars; tags <= 13; image URLs on a
//   made-up host. createDraftListing does not require shipping_profile_id / readiness_state_id
//   (Etsy now requires them for physical listings: not modelled).
// - Non-active listings are visible through getListing / getListingImages only with the owner's token.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { DEFAULT_KNOBS, Emulator, header, type BaseAccount, type EmulatorOptions, type EmulatorSpec, type ItemState } from '../kit/index.ts';
import { InventoryError, MAX_QUANTITY, parseInventory } from './inventory.ts';
import { RateLimiter } from './limits.ts';
import { installOAuth, TokenStore, type Token } from './oauth.ts';
import {
  createShop,
  groupKey,
  imageJson,
  inventoryJson,
  listingJson,
  listingQuantity,
  loadShop,
  newListing,
  now,
  receiptJson,
  saveShop,
  setGroupQuantity,
  settleState,
  type EtsyAccount,
  type EtsyAccountInput,
  type Listing,
  type Receipt,
} from './shop.ts';

export type { EtsyAccount, EtsyAccountInput, Listing, Product, Receipt } from './shop.ts';
export { SCOPES } from './oauth.ts';

export interface EtsyEmulatorOptions extends EmulatorOptions {
  /** Access token lifetime; Etsy's is 3600 s. Tests shorten it (also POST /_control/tokens {ttl_sec}). */
  tokenTtlSec?: number;
  /** Refuse an x-api-key without `:shared_secret` (Etsy does since 2026-02-09). Default true. */
  requireSharedSecret?: boolean;
}

const BASE = '/v3/application';
// GUESS: the image count ceiling, from the 2021 OAS ("up to 10 images").
const MAX_IMAGES = 10;
const WHO_MADE = new Set(['i_did', 'someone_else', 'collective']);
// GUESS: the year-range values move with the calendar (2020_2021 in 2021's OAS); any range or decade is taken.
const WHEN_MADE = /^(made_to_order|\d{4}_\d{4}|before_\d{4}|\d{3}0s)$/;
const LISTING_STATES = new Set(['active', 'inactive', 'sold_out', 'draft', 'expired']);

/** Who a request is, as the onRequest hook worked it out. */
interface Caller {
  keyError: string | null;
  token: Token | null;
  tokenError: 'missing' | 'expired' | 'invalid' | null;
}
type Marked = FastifyRequest & { etsy?: Caller };

class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    super(String(body.error));
    this.status = status;
    this.body = body;
  }
}
const err = (status: number, error: string, extra: Record<string, unknown> = {}) => new HttpError(status, { error, ...extra });

// Form bodies keep repeated keys as arrays (tags=a&tags=b), the way PHP-style clients send lists.
function parseForm(text: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    const key = k.endsWith('[]') ? k.slice(0, -2) : k;
    const prev = out[key];
    out[key] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

const intOf = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return null;
};
const numOf = (v: unknown): number | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return null;
};
const boolOf = (v: unknown): boolean | null => {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === '1' || v === 1) return true;
  if (v === 'false' || v === '0' || v === 0) return false;
  return null;
};
const listOf = (v: unknown): string[] | null => {
  if (Array.isArray(v)) return v.map(String);
  if (typeof v === 'string') return v === '' ? [] : v.split(',').map((s) => s.trim());
  return null;
};

function pathId(params: unknown, name: string): number {
  const v = (params as Record<string, string>)[name];
  const n = intOf(v);
  // GUESS: the 400 text for a malformed id.
  if (n === null || n < 1) throw err(400, `Expected int value for '${name}' (got '${v}')`);
  return n;
}

function pageOf(q: Record<string, string | undefined>): { limit: number; offset: number } {
  const limit = q.limit === undefined ? 25 : intOf(q.limit);
  const offset = q.offset === undefined ? 0 : intOf(q.offset);
  if (limit === null || limit < 1 || limit > 100) throw err(400, 'limit must be an integer between 1 and 100');
  if (offset === null || offset < 0) throw err(400, 'offset must be a non-negative integer');
  return { limit, offset };
}

export function createEtsyEmulator(opts: EtsyEmulatorOptions = {}): Emulator<EtsyAccount> {
  const requireSecret = opts.requireSharedSecret ?? true;
  const tokens = new TokenStore(opts.tokenTtlSec ?? 3600);
  const limiter = new RateLimiter();
  // One id sequence for everything Etsy numbers (users, shops, listings, products, receipts...).
  let nextId = 1_000_000_001;
  const ids = { next: () => nextId++ };

  const caller = (req: FastifyRequest): Caller => (req as Marked).etsy ?? { keyError: null, token: null, tokenError: 'missing' };
  const pathOf = (req: FastifyRequest) => req.url.split('?')[0] ?? '';
  const isOAuth = (path: string) => path === '/oauth/connect' || path === '/v3/public/oauth/token';

  const spec: EmulatorSpec<EtsyAccount> = {
    platform: 'etsy',
    // Etsy's limits are per API key and per day as well as per second, which the kit's per-account
    // bucket cannot express: it is set out of reach and limits.ts runs Etsy's (respecting enforceRateLimit).
    rateLimit: { perSecond: 1_000_000, burst: 1_000_000 },
    createAccount: (input: EtsyAccountInput, base: BaseAccount) => createShop(input, base, ids),
    saveAccount: saveShop,
    loadAccount: loadShop,
    saveShared: () => ({ nextId, tokens: tokens.save(), quota: limiter.save() }),
    loadShared(saved) {
      const s = saved as { nextId?: number; tokens?: unknown; quota?: Record<string, number[]> };
      nextId = Math.max(nextId, s.nextId ?? 0);
      tokens.load(s.tokens);
      limiter.load(s.quota);
    },

    authenticate(req, accounts) {
      const path = pathOf(req);
      const all = [...accounts.values()];
      // The consent page and the token endpoint take no x-api-key (the client_id names the app); the
      // routes check the client themselves, from the query or the form body the hook cannot see yet.
      if (isOAuth(path)) return all[0] ?? null;
      const c: Caller = { keyError: null, token: null, tokenError: null };
      (req as Marked).etsy = c;
      const key = header(req, 'x-api-key');
      // GUESS: the answer to a missing header (Etsy's documented format text reused).
      if (!key) return ((c.keyError = "Invalid API key: should be in the format 'keystring:shared_secret'."), null);
      const colon = key.indexOf(':');
      const [keystring, secret] = colon < 0 ? [key, null] : [key.slice(0, colon), key.slice(colon + 1)];
      const apps = all.filter((a) => a.keystring === keystring);
      // GUESS: 403 + "Invalid API key" for an unknown key (issue #561 quotes the text; #498 saw a 400).
      if (apps.length === 0) return ((c.keyError = 'Invalid API key'), null);
      if (secret === null && requireSecret) return ((c.keyError = 'Shared secret is required in x-api-key header.'), null);
      if (secret !== null && !apps.some((a) => a.sharedSecret === secret)) return ((c.keyError = 'Invalid API key'), null);
      const auth = header(req, 'authorization') ?? '';
      if (!/^bearer /i.test(auth)) c.tokenError = 'missing';
      else {
        const raw = auth.slice(7).trim();
        const t = tokens.access.get(raw);
        if (!t || t.clientId !== keystring) c.tokenError = 'invalid';
        else if (t.expiresAt <= Date.now()) {
          tokens.access.delete(raw);
          c.tokenError = 'expired';
        } else c.token = t;
      }
      return (c.token && apps.find((a) => a.userId === c.token!.userId)) || apps[0]!;
    },

    unauthorized(reply: FastifyReply) {
      const req = reply.request;
      if (isOAuth(pathOf(req))) return reply.code(401).send({ error: 'invalid_client', error_description: 'client_id is not a known app keystring' });
      return reply.code(403).send({ error: caller(req).keyError ?? 'Invalid API key' });
    },
    throttled(reply, retryAfterSec) {
      // GUESS: the 429 body text; the status and retry-after header are documented.
      return reply.code(429).header('retry-after', String(retryAfterSec)).send({ error: 'You have exceeded your quota of requests' });
    },
    serverError: (reply) => reply.code(500).send({ error: 'Server Error' }), // the body Etsy answered in issue #549

    routes(app, emu) {
      app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => done(null, parseForm(body as string)));
      app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
      app.setErrorHandler((e, _req, reply) => {
        if (e instanceof HttpError) return reply.code(e.status).send(e.body);
        if (e instanceof InventoryError) return reply.code(400).send({ error: e.message });
        const status = (e as { statusCode?: number }).statusCode ?? 500;
        if (status >= 500) return reply.code(500).send({ error: 'Server Error' });
        return reply.code(status).send({ error: (e as Error).message });
      });

      // Etsy's quota, after the kit's hook has authenticated the call and drawn its faults.
      app.addHook('onRequest', async (req, reply) => {
        if (!pathOf(req).startsWith(`${BASE}/`) || reply.sent) return;
        const acc = emu.account(req);
        if (!acc) return;
        // "These limits apply per API Key for public authentication and per OAuth access token for
        // private authentication" (Rate Limits page). GUESS: "per access token" is read as per seller
        // grant (app + user), so the hourly token renewal does not hand out a fresh day's quota.
        const token = caller(req).token;
        const v = limiter.take(quotaKey(acc.keystring, token?.userId ?? null), acc.limits, emu.knobs.enforceRateLimit);
        void reply.headers(v.headers);
        if (!v.ok) {
          emu.stats.throttled++;
          return spec.throttled(reply, v.retryAfter);
        }
      });

      installOAuth(app, emu, tokens);

      /** The seller behind the bearer token, holding `scope`; throws Etsy's answer otherwise. */
      const seller = (req: FastifyRequest, scope: string | null): { acc: EtsyAccount; token: Token } => {
        const c = caller(req);
        if (!c.token) {
          if (c.tokenError === 'expired') throw err(401, 'invalid_token', { error_description: 'access token is expired' });
          if (c.tokenError === 'invalid') throw err(401, 'invalid_token', { error_description: 'access token is invalid' });
          throw err(401, 'Missing authorization header'); // GUESS: status (text from Granga/etsy-ts#15)
        }
        // GUESS: the answer to a token without the endpoint's scope.
        if (scope && !c.token.scopes.includes(scope)) throw err(403, 'insufficient_scope', { error_description: `This request requires the ${scope} scope` });
        return { acc: emu.account(req), token: c.token };
      };
      const ownShop = (acc: EtsyAccount, shopId: number): void => {
        // GUESS: 404 / 403 texts for someone else's or no shop.
        if (![...emu.accounts.values()].some((a) => a.shopId === shopId)) throw err(404, `Shop ${shopId} not found`);
        if (acc.shopId !== shopId) throw err(403, 'You do not have permission to access this shop');
      };
      const find = (listingId: number): { acc: EtsyAccount; listing: Listing } | null => {
        for (const acc of emu.accounts.values()) {
          const listing = acc.listings.find((l) => l.listing_id === listingId);
          if (listing) return { acc, listing };
        }
        return null;
      };
      const notFound = (id: number) => err(404, `Listing ${id} not found`); // GUESS: text
      /** A listing of the caller's own shop (seller endpoints). */
      const ownListing = (req: FastifyRequest, scope: string, shopId: number | null = null) => {
        const { acc } = seller(req, scope);
        if (shopId !== null) ownShop(acc, shopId);
        const id = pathId(req.params, 'listing_id');
        const hit = find(id);
        if (!hit) throw notFound(id);
        if (hit.acc !== acc) throw err(403, 'You do not have permission to access this listing'); // GUESS
        return { acc, listing: hit.listing };
      };
      /** A listing anyone with the app key may see: active ones, or any of the caller's own. */
      const visibleListing = (req: FastifyRequest) => {
        const id = pathId(req.params, 'listing_id');
        const hit = find(id);
        const mine = hit && caller(req).token?.userId === hit.acc.userId;
        if (!hit || (!mine && hit.listing.state !== 'active')) throw notFound(id);
        return hit;
      };
      const includesOf = (q: Record<string, string | undefined>) => new Set((listOf(q.includes) ?? []).map((s) => s.toLowerCase()));
      const touch = (l: Listing) => (l.updated = Math.max(now(), l.updated));

      app.get(`${BASE}/openapi-ping`, async (req) => ({ application_id: Number.parseInt(emu.account(req).keystring.replace(/\W/g, '').slice(0, 8), 36) || 1 }));

      app.get(`${BASE}/users/me`, async (req) => {
        const { acc } = seller(req, null);
        return { user_id: acc.userId, shop_id: acc.shopId };
      });

      // createDraftListing
      app.post(`${BASE}/shops/:shop_id/listings`, async (req, reply) => {
        const { acc } = seller(req, 'listings_w');
        ownShop(acc, pathId(req.params, 'shop_id'));
        const b = (req.body ?? {}) as Record<string, unknown>;
        const required = ['quantity', 'title', 'description', 'price', 'who_made', 'when_made', 'taxonomy_id'];
        const missing = required.filter((k) => b[k] === undefined || b[k] === null || b[k] === '');
        if (missing.length) throw err(400, `Missing Input Parameter: [${missing.join(', ')}].`);
        const quantity = intOf(b.quantity);
        if (quantity === null || quantity < 1 || quantity > MAX_QUANTITY) throw err(400, `quantity must be an integer between 1 and ${MAX_QUANTITY}`);
        const price = numOf(b.price);
        if (price === null || price <= 0) throw err(400, 'price must be a positive number');
        const title = String(b.title).trim();
        if (!title || title.length > 140) throw err(400, 'title must be 1..140 characters'); // GUESS: 140
        if (!WHO_MADE.has(String(b.who_made))) throw err(400, `who_made must be one of ${[...WHO_MADE].join(', ')}`);
        if (!WHEN_MADE.test(String(b.when_made))) throw err(400, `when_made '${String(b.when_made)}' is not a valid value`);
        const taxonomy = intOf(b.taxonomy_id);
        if (taxonomy === null || taxonomy < 1) throw err(400, 'taxonomy_id must be a positive integer');
        const type = b.type === undefined ? 'physical' : String(b.type);
        if (!['physical', 'download', 'both'].includes(type)) throw err(400, 'type must be physical, download or both');
        const tags = b.tags === undefined ? [] : listOf(b.tags);
        if (!tags || tags.length > 13) throw err(400, 'tags must be a list of at most 13 strings'); // GUESS: 13
        const listing = newListing(ids, {
          title,
          description: String(b.description),
          who_made: String(b.who_made),
          when_made: String(b.when_made),
          taxonomy_id: taxonomy,
        });
        listing.type = type;
        listing.tags = tags;
        listing.materials = listOf(b.materials) ?? [];
        listing.is_supply = boolOf(b.is_supply) ?? false;
        listing.should_auto_renew = boolOf(b.should_auto_renew) ?? false;
        listing.is_taxable = boolOf(b.is_taxable) ?? true;
        listing.is_personalizable = boolOf(b.is_personalizable) ?? false;
        listing.shipping_profile_id = intOf(b.shipping_profile_id);
        // Creating the draft also creates its inventory record (release notes 2022-06-06).
        listing.products = [
          {
            product_id: ids.next(),
            sku: '',
            property_values: [],
            offering: { offering_id: ids.next(), price: Math.round(price * 100), quantity, is_enabled: true, readiness_state_id: intOf(b.readiness_state_id) },
          },
        ];
        acc.listings.push(listing);
        return reply.code(201).send(listingJson(acc, listing));
      });

      // getListingsByShop
      app.get(`${BASE}/shops/:shop_id/listings`, async (req) => {
        const { acc } = seller(req, 'listings_r');
        ownShop(acc, pathId(req.params, 'shop_id'));
        const q = req.query as Record<string, string | undefined>;
        const state = q.state ?? 'active';
        if (!LISTING_STATES.has(state)) throw err(400, `state must be one of ${[...LISTING_STATES].join(', ')}`);
        const { limit, offset } = pageOf(q);
        const sortOn = q.sort_on ?? 'created';
        const order = (q.sort_order ?? 'desc').toLowerCase();
        if (!['created', 'price', 'updated', 'score'].includes(sortOn)) throw err(400, 'sort_on must be created, price, updated or score');
        if (!['asc', 'ascending', 'desc', 'descending', 'up', 'down'].includes(order)) throw err(400, 'sort_order must be asc or desc');
        const key = (l: Listing) => (sortOn === 'updated' ? l.updated : sortOn === 'price' ? Math.min(...l.products.map((p) => p.offering.price)) : l.created);
        const dir = ['asc', 'ascending', 'up'].includes(order) ? 1 : -1;
        const all = acc.listings.filter((l) => l.state === state).sort((a, b) => dir * (key(a) - key(b) || a.listing_id - b.listing_id));
        const inc = includesOf(q);
        return { count: all.length, results: all.slice(offset, offset + limit).map((l) => listingJson(acc, l, inc)) };
      });

      // getListing
      app.get(`${BASE}/listings/:listing_id`, async (req) => {
        const { acc, listing } = visibleListing(req);
        return listingJson(acc, listing, includesOf(req.query as Record<string, string | undefined>));
      });

      // updateListing
      app.patch(`${BASE}/shops/:shop_id/listings/:listing_id`, async (req) => {
        const { acc, listing } = ownListing(req, 'listings_w', pathId(req.params, 'shop_id'));
        const b = (req.body ?? {}) as Record<string, unknown>;
        // quantity and price are ignored, not refused: "It will simply ignore those parameters" (release notes 2022-06-06).
        if (b.title !== undefined) {
          const t = String(b.title).trim();
          if (!t || t.length > 140) throw err(400, 'title must be 1..140 characters');
          listing.title = t;
        }
        if (b.description !== undefined) listing.description = String(b.description);
        if (b.who_made !== undefined) {
          if (!WHO_MADE.has(String(b.who_made))) throw err(400, `who_made must be one of ${[...WHO_MADE].join(', ')}`);
          listing.who_made = String(b.who_made);
        }
        if (b.when_made !== undefined) {
          if (!WHEN_MADE.test(String(b.when_made))) throw err(400, `when_made '${String(b.when_made)}' is not a valid value`);
          listing.when_made = String(b.when_made);
        }
        if (b.taxonomy_id !== undefined) {
          const t = intOf(b.taxonomy_id);
          if (t === null || t < 1) throw err(400, 'taxonomy_id must be a positive integer');
          listing.taxonomy_id = t;
        }
        if (b.tags !== undefined) {
          const tags = listOf(b.tags);
          if (!tags || tags.length > 13) throw err(400, 'tags must be a list of at most 13 strings');
          listing.tags = tags;
        }
        if (b.materials !== undefined) listing.materials = listOf(b.materials) ?? [];
        for (const f of ['should_auto_renew', 'is_taxable', 'is_supply', 'is_personalizable'] as const) {
          if (b[f] === undefined) continue;
          const v = boolOf(b[f]);
          if (v === null) throw err(400, `${f} must be a boolean`);
          listing[f] = v;
        }
        if (b.shipping_profile_id !== undefined) listing.shipping_profile_id = intOf(b.shipping_profile_id);
        if (b.state !== undefined) {
          const want = String(b.state);
          if (want === 'active') {
            // "image_ids required for active listings" (processing-profiles guide); GUESS: the error text.
            if (listing.images.length === 0) throw err(400, 'A listing must have at least one image to be activated');
            if (listingQuantity(listing) === 0) throw err(400, 'A listing with no quantity cannot be activated'); // GUESS
            if (listing.state !== 'active') listing.state_changed = now();
            listing.state = 'active';
          } else if (want === 'inactive') {
            // GUESS: a draft cannot be deactivated (it was never active).
            if (listing.state === 'draft') throw err(400, 'A draft listing cannot be made inactive');
            if (listing.state !== 'inactive') listing.state_changed = now();
            listing.state = 'inactive';
          } else throw err(400, 'state must be active or inactive');
        }
        touch(listing);
        return listingJson(acc, listing);
      });

      // deleteListing
      app.delete(`${BASE}/listings/:listing_id`, async (req, reply) => {
        const { acc, listing } = ownListing(req, 'listings_d');
        acc.listings = acc.listings.filter((l) => l !== listing);
        return reply.code(204).send();
      });

      // uploadListingImage: multipart `image` (a file) or `listing_image_id` (re-use one), rank, alt_text.
      app.post(`${BASE}/shops/:shop_id/listings/:listing_id/images`, async (req, reply) => {
        const { listing } = ownListing(req, 'listings_w', pathId(req.params, 'shop_id'));
        let fields: Record<string, unknown> = {};
        let file: { bytes: Uint8Array; type: string } | null = null;
        if (Buffer.isBuffer(req.body)) {
          let form: FormData;
          try {
            form = await new Response(new Uint8Array(req.body), { headers: { 'content-type': header(req, 'content-type') ?? '' } }).formData();
          } catch {
            throw err(400, 'Malformed multipart/form-data body');
          }
          for (const [k, v] of form) {
            if (typeof v === 'string') fields[k] = v;
            else if (k === 'image') file = { bytes: new Uint8Array(await v.arrayBuffer()), type: v.type };
          }
        } else fields = (req.body ?? {}) as Record<string, unknown>;
        const reuse = fields.listing_image_id === undefined ? null : intOf(fields.listing_image_id);
        if (!file && reuse === null) throw err(400, 'Missing Input Parameter: [image].'); // GUESS: text
        if (file && (file.bytes.length === 0 || !/^image\/(jpeg|png|gif)$/.test(file.type))) throw err(400, 'image must be a JPEG, PNG or GIF file'); // GUESS
        if (reuse !== null && !listing.images.some((i) => i.listing_image_id === reuse)) throw err(404, `Image ${reuse} not found on this listing`); // GUESS
        if (reuse !== null)
          return reply.code(201).send(
            imageJson(
              listing,
              listing.images.find((i) => i.listing_image_id === reuse)!,
            ),
          );
        if (listing.images.length >= MAX_IMAGES) throw err(400, `A listing can have at most ${MAX_IMAGES} images`);
        const dims = file ? pngSize(file.bytes) : null;
        const rank = intOf(fields.rank) ?? listing.images.length + 1;
        const img = {
          listing_image_id: ids.next(),
          rank,
          created: now(),
          width: dims?.[0] ?? null,
          height: dims?.[1] ?? null,
          bytes: file?.bytes.length ?? 0,
          alt_text: fields.alt_text ? String(fields.alt_text) : null,
        };
        // A new image at rank r pushes the ones at r and after down by one.
        for (const i of listing.images) if (i.rank >= rank) i.rank++;
        listing.images.push(img);
        listing.images.sort((a, c) => a.rank - c.rank).forEach((i, n) => (i.rank = n + 1));
        touch(listing);
        return reply.code(201).send(imageJson(listing, img));
      });

      // getListingImages
      app.get(`${BASE}/listings/:listing_id/images`, async (req) => {
        const { listing } = visibleListing(req);
        return { count: listing.images.length, results: listing.images.map((i) => imageJson(listing, i)) };
      });

      // getListingInventory
      app.get(`${BASE}/listings/:listing_id/inventory`, async (req) => {
        const { acc, listing } = ownListing(req, 'listings_r');
        return inventoryJson(listing, acc.currency);
      });

      // updateListingInventory: the body replaces every product (a product left out is deleted).
      app.put(`${BASE}/listings/:listing_id/inventory`, async (req) => {
        const { acc, listing } = ownListing(req, 'listings_w');
        const next = parseInventory(req.body, ids, listing);
        Object.assign(listing, next);
        settleState(listing);
        touch(listing);
        for (const p of listing.products) emu.recordWrite(acc.id, `${listing.listing_id}:${p.sku}`, p.offering.quantity);
        return inventoryJson(listing, acc.currency);
      });

      // getShopReceipts
      app.get(`${BASE}/shops/:shop_id/receipts`, async (req) => {
        const { acc } = seller(req, 'transactions_r');
        ownShop(acc, pathId(req.params, 'shop_id'));
        const q = req.query as Record<string, string | undefined>;
        const { limit, offset } = pageOf(q);
        const bound = (name: string): number | null => {
          if (q[name] === undefined) return null;
          const v = intOf(q[name]);
          // The OAS gives these a minimum of 946684800 (2000-01-01).
          if (v === null || v < 946684800) throw err(400, `${name} must be a unix timestamp >= 946684800`);
          return v;
        };
        const [minC, maxC, minM, maxM] = [bound('min_created'), bound('max_created'), bound('min_last_modified'), bound('max_last_modified')];
        const flag = (name: string): boolean | null => {
          if (q[name] === undefined) return null;
          const v = boolOf(q[name]);
          if (v === null) throw err(400, `${name} must be true or false`);
          return v;
        };
        const [paid, shipped] = [flag('was_paid'), flag('was_shipped')];
        const sortOn = q.sort_on ?? 'created';
        if (!['created', 'updated', 'receipt_id'].includes(sortOn)) throw err(400, 'sort_on must be created, updated or receipt_id');
        const dir = ['asc', 'ascending', 'up'].includes((q.sort_order ?? 'desc').toLowerCase()) ? 1 : -1;
        const key = (r: Receipt) => (sortOn === 'updated' ? r.updated : sortOn === 'receipt_id' ? r.receipt_id : r.created);
        // GUESS: the bounds are inclusive.
        const all = acc.receipts
          .filter(
            (r) =>
              (minC === null || r.created >= minC) &&
              (maxC === null || r.created <= maxC) &&
              (minM === null || r.updated >= minM) &&
              (maxM === null || r.updated <= maxM) &&
              (paid === null || r.is_paid === paid) &&
              (shipped === null || r.is_shipped === shipped),
          )
          .sort((a, b) => dir * (key(a) - key(b) || a.receipt_id - b.receipt_id));
        return { count: all.length, results: all.slice(offset, offset + limit).map((r) => receiptJson(acc, r)) };
      });

      // getShopReceipt
      app.get(`${BASE}/shops/:shop_id/receipts/:receipt_id`, async (req) => {
        const { acc } = seller(req, 'transactions_r');
        ownShop(acc, pathId(req.params, 'shop_id'));
        const id = pathId(req.params, 'receipt_id');
        const r = acc.receipts.find((x) => x.receipt_id === id);
        if (!r) throw err(404, `Receipt ${id} not found`);
        return receiptJson(acc, r);
      });

      // updateShopReceipt (OAS: PUT /shops/{shop_id}/receipts/{receipt_id}, form fields was_shipped /
      // was_paid, scope transactions_w): the seller marks an order shipped or paid, which modifies it.
      app.put(`${BASE}/shops/:shop_id/receipts/:receipt_id`, async (req) => {
        const { acc } = seller(req, 'transactions_w');
        ownShop(acc, pathId(req.params, 'shop_id'));
        const id = pathId(req.params, 'receipt_id');
        const r = acc.receipts.find((x) => x.receipt_id === id);
        if (!r) throw err(404, `Receipt ${id} not found`);
        const b = (req.body ?? {}) as Record<string, unknown>;
        for (const [field, key] of [
          ['was_shipped', 'is_shipped'],
          ['was_paid', 'is_paid'],
        ] as const) {
          if (b[field] === undefined) continue;
          const v = boolOf(b[field]);
          if (v === null) throw err(400, `${field} must be a boolean`);
          r[key] = v;
        }
        // GUESS: the status text a shipped receipt shows ("completed" is among the OAS status values).
        if (r.is_shipped && r.status === 'paid') r.status = 'completed';
        r.updated = Math.max(now(), r.updated);
        return receiptJson(acc, r);
      });

      // ---- control API beyond the kit's -------------------------------------------------------
      const accountOr404 = (req: FastifyRequest): EtsyAccount => {
        const acc = emu.accounts.get((req.params as { id: string }).id);
        if (!acc) throw err(404, 'no such account');
        return acc;
      };

      // The seller edits a listing on etsy.com (title, description, state): how a catalog conflict arises.
      app.post('/_control/accounts/:id/listings/:listing_id/edit', async (req) => {
        const acc = accountOr404(req);
        const id = pathId(req.params, 'listing_id');
        const listing = acc.listings.find((l) => l.listing_id === id);
        if (!listing) throw notFound(id);
        const b = (req.body ?? {}) as { title?: string; description?: string; state?: string };
        if (b.title !== undefined) listing.title = b.title;
        if (b.description !== undefined) listing.description = b.description;
        if (b.state !== undefined) {
          if (!LISTING_STATES.has(b.state)) throw err(400, 'bad state');
          listing.state = b.state as Listing['state'];
          listing.state_changed = now();
        }
        touch(listing);
        emu.touch();
        return listingJson(acc, listing);
      });

      // The app's quota (Etsy raises it on request); `reset: true` forgets the calls counted so far.
      app.post('/_control/accounts/:id/rate-limit', async (req) => {
        const acc = accountOr404(req);
        const b = (req.body ?? {}) as { per_second?: number; per_day?: number; reset?: boolean };
        for (const a of emu.accounts.values()) {
          if (a.keystring !== acc.keystring) continue;
          if (typeof b.per_second === 'number' && b.per_second > 0) a.limits.perSecond = b.per_second;
          if (typeof b.per_day === 'number' && b.per_day > 0) a.limits.perDay = b.per_day;
        }
        if (b.reset) limiter.clearApp(acc.keystring);
        emu.touch();
        return { per_second: acc.limits.perSecond, per_day: acc.limits.perDay };
      });

      // A token pair for the account without the browser dance (tests that are not about OAuth).
      app.post('/_control/accounts/:id/token', async (req) => {
        const acc = accountOr404(req);
        const b = (req.body ?? {}) as { scopes?: string[] };
        const res = tokens.issue(acc.userId, acc.keystring, b.scopes ?? ['listings_r', 'listings_w', 'listings_d', 'transactions_r', 'shops_r']);
        emu.touch();
        return res;
      });

      app.get('/_control/tokens', async () => ({ ttl_sec: tokens.ttlSec, issued: tokens.issued }));
      // ttl_sec: lifetime of tokens issued from now on; expire: every access token issued so far
      // expires now (refresh tokens keep working); revoke: every token and refresh token is gone.
      app.post('/_control/tokens', async (req) => {
        const b = (req.body ?? {}) as { ttl_sec?: number; expire?: boolean; revoke?: boolean };
        if (typeof b.ttl_sec === 'number' && b.ttl_sec > 0) tokens.ttlSec = b.ttl_sec;
        if (b.expire) for (const t of tokens.access.values()) t.expiresAt = Date.now() - 1;
        if (b.revoke) tokens.clear();
        emu.touch();
        return { ttl_sec: tokens.ttlSec, issued: tokens.issued };
      });

      // Forget every account, token and quota count (ids keep counting up, so none is reused).
      app.post('/_control/reset', async () => {
        emu.accounts.clear();
        tokens.clear();
        limiter.clear();
        emu.knobs = { ...DEFAULT_KNOBS };
        emu.touch();
        return { ok: true };
      });
    },

    async sale(emu, acc, input) {
      const qty = Math.floor(input.qty);
      if (!(qty >= 1)) throw err(400, 'qty must be a positive integer');
      const listingId = input.externalId ? intOf(input.externalId.split(':')[0]) : null;
      const candidates = acc.listings.filter((l) => l.state === 'active' && (listingId === null || l.listing_id === listingId));
      let hit: { listing: Listing; product: Listing['products'][number] } | null = null;
      for (const listing of candidates) {
        const product = listing.products.find((p) => p.offering.is_enabled && (input.sku === undefined || p.sku === input.sku));
        if (product) {
          hit = { listing, product };
          break;
        }
      }
      if (!hit) throw err(404, `no active listing sells ${input.sku ?? input.externalId}`);
      const { listing, product } = hit;
      // Etsy's checkout never sells more than the offering holds.
      if (product.offering.quantity < qty) throw err(409, 'out_of_stock', { quantity: product.offering.quantity });
      const t = now();
      setGroupQuantity(listing, product, product.offering.quantity - qty);
      settleState(listing, t);
      listing.updated = Math.max(t, listing.updated);
      const receipt: Receipt = {
        receipt_id: ids.next(),
        buyer_user_id: ids.next(),
        created: t,
        updated: t,
        is_paid: true,
        is_shipped: false,
        status: 'paid',
        transactions: [
          {
            transaction_id: ids.next(),
            listing_id: listing.listing_id,
            product_id: product.product_id,
            sku: product.sku,
            title: listing.title,
            quantity: qty,
            price: product.offering.price,
            created: t,
            variations: product.property_values.map((v) => ({
              property_id: v.property_id,
              value_id: v.value_ids[0] ?? null,
              formatted_name: v.property_name ?? String(v.property_id),
              formatted_value: v.values[0] ?? '',
            })),
          },
        ],
      };
      acc.receipts.push(receipt);
      emu.recordWrite(acc.id, `${listing.listing_id}:${product.sku}`, product.offering.quantity);
      return {
        receipt_id: receipt.receipt_id,
        listing_id: listing.listing_id,
        sku: product.sku,
        qty: product.offering.quantity,
        receipt: receiptJson(acc, receipt),
      };
    },

    async setLevel(emu, acc, input) {
      const qty = Math.floor(input.qty);
      if (!(qty >= 0 && qty <= MAX_QUANTITY)) throw err(400, `qty must be 0..${MAX_QUANTITY}`);
      const listingId = input.externalId ? intOf(input.externalId.split(':')[0]) : null;
      let n = 0;
      for (const listing of acc.listings) {
        if (listingId !== null && listing.listing_id !== listingId) continue;
        for (const p of listing.products) {
          if (input.sku !== undefined && p.sku !== input.sku) continue;
          setGroupQuantity(listing, p, qty);
          n++;
        }
        if (n) {
          settleState(listing);
          listing.updated = Math.max(now(), listing.updated);
        }
      }
      if (!n) throw err(404, `no product with sku ${input.sku ?? input.externalId}`);
      return { sku: input.sku ?? null, qty, products: n };
    },

    // Per SKU: products sharing a quantity group hold one count; separate groups and listings add up.
    state(acc): ItemState[] {
      const out = new Map<string, ItemState>();
      for (const l of acc.listings) {
        const seen = new Set<string>();
        for (const p of l.products) {
          const g = `${p.sku}\u0000${groupKey(p, l.quantity_on_property)}`;
          if (seen.has(g)) continue;
          seen.add(g);
          const prev = out.get(p.sku);
          if (prev) prev.qty = (prev.qty ?? 0) + p.offering.quantity;
          else out.set(p.sku, { externalId: String(l.listing_id), sku: p.sku || null, name: l.title, qty: p.offering.quantity, available: null });
        }
      }
      return [...out.values()];
    },
  };
  return new Emulator(spec, opts);
}

/** The quota a call draws on: the app key's own, or the seller grant's (app key + user) when it carries a token. */
function quotaKey(keystring: string, userId: number | null): string {
  return userId === null ? keystring : `${keystring}\u0000user:${userId}`;
}

/** Width and height from a PNG's IHDR chunk (other formats: unknown). */
function pngSize(b: Uint8Array): [number, number] | null {
  if (b.length < 24 || b[0] !== 0x89 || b[1] !== 0x50 || b[2] !== 0x4e || b[3] !== 0x47) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return [v.getUint32(16), v.getUint32(20)];
}

/** A random keystring / secret pair shaped like Etsy's (tests and the demo). */
export function etsyAppKey(): { keystring: string; shared_secret: string } {
  return { keystring: randomBytes(12).toString('base64url').toLowerCase(), shared_secret: randomBytes(5).toString('hex') };
}
