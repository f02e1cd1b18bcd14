// The channel contract: every platform StockClerk talks to is one strategy behind these types.
// An adapter speaks the platform's real HTTP API; a webhook module verifies and parses what the
// platform sends us; an emulator (tests, demo, benchmarks) behaves like the platform.
// The engine only ever sees these shapes, never a platform's own payloads.
import type { z } from 'zod';
import type { SettingsSchema } from './settings.ts';
// The list of channel types (ChannelType) is the registry's: one line per platform there.

/** What one platform can do; the engine picks its strategy from this, never from the type name. */
export interface ChannelCapabilities {
  /**
   * How a push is expressed on the platform:
   * - absolute: "quantity = N" (Shopify set, Wix update)
   * - delta: only add/remove exist; the adapter reads then posts the difference (Epos Now)
   * - availability: no counts, only available / unavailable (Deliveroo)
   */
  quantityModel: 'absolute' | 'delta' | 'availability';
  /** The platform rejects a write whose expected current value is stale (Shopify changeFromQuantity, Wix revision). */
  compareAndSet: boolean;
  /** The single inbound source of sales (invariant 5). 'orders': order events move the ledger and level
   *  events only confirm; 'levels': absolute level changes are deltas against what we last saw. */
  defaultSalesSource: 'orders' | 'levels';
  /** The platform can push events to us. */
  webhooks: boolean;
  /** The adapter implements `pollEvents`: the Watcher polls it on a schedule as a safety net for lost webhooks. */
  pollable: boolean;
  /** Most listings one pushLevels call may carry (the adapter splits internally if the platform needs smaller calls). */
  maxPushBatch: number;
  /** Documented request budget per account, for the token bucket in front of every call. */
  rateLimit: { perSecond: number; burst: number };
  /** HTTP calls one pushLevels call usually makes (read-then-write platforms make more than one); default 1. */
  callsPerPush?: number;
  /** A marketplace: its adapter has a catalog side (products are published to it, not only stocked). */
  catalog?: boolean;
  /**
   * 'extension': the platform has no API for sellers; an extension in the seller's browser runs
   * our jobs in their session (docs/extension-protocol.md). The adapter gets `conn.extension`,
   * users issue extension tokens for the channel, and it shows "waiting for the extension" until
   * one connects. Default 'http': the adapter calls the platform itself.
   */
  transport?: 'http' | 'extension';
}

/** Decrypted channel credentials + where to reach it. Keys are platform specific (see each module's settings.ts). */
export interface ChannelConnection<S = Record<string, unknown>> {
  channelId: string;
  /** Base URL of the platform API (the real host in production, an emulator in tests and the demo). */
  baseUrl: string;
  credentials: Record<string, string>;
  /** The channel's settings parsed by its module's schema, defaults applied (src/channels/settings.ts). */
  settings: S;
  /**
   * Stores credentials the adapter renewed (an OAuth access token refreshed before expiry), sealed
   * in the channel row, so the next process starts from them. Absent where nothing can store them
   * (a connection test before the row exists): the adapter then keeps them in memory only.
   */
  saveCredentials?: (credentials: Record<string, string>) => Promise<void>;
  /**
   * The credentials as stored now. Another process holding the same channel may have renewed its
   * tokens since this adapter was built; where the platform rotates refresh tokens (Etsy), ours is
   * then spent and the stored pair is the one to use. Absent with saveCredentials.
   */
  loadCredentials?: () => Promise<Record<string, string>>;
  /** Channels reached through a browser extension (capabilities.transport 'extension'): its job queue. */
  extension?: ExtensionRelay;
}

/** Failure kinds an extension reports for a job (docs/extension-protocol.md). */
export type ExtensionErrorKind = 'session' | 'throttled' | 'not_found' | 'rejected' | 'network';

/**
 * The job queue between an adapter and the extension of its channel (src/engine/extension-relay.ts).
 * Jobs are durable: queued while no extension is connected, sent again if one drops mid-job.
 */
export interface ExtensionRelay {
  /** Whether an extension holds a socket for this channel now. */
  connected(): Promise<boolean>;
  /**
   * Queues a job nobody waits for (a stock change); the same `key` while it is still queued or
   * running is the same job. Resolves once the job is stored.
   */
  queue(kind: string, key: string, payload: unknown): Promise<void>;
  /**
   * Queues a job (or finds the one with this key) and waits up to `waitMs` for its result. A job
   * still waiting at the deadline stays queued: calling again with the same key waits for it.
   * Throws ChannelError: 'rate_limited' while waiting for the extension, 'permanent' when the
   * extension reported `rejected`/`not_found`, 'transient' for the others.
   */
  run(kind: string, key: string, payload: unknown, waitMs: number): Promise<unknown>;
}

/** One sellable thing as it exists on the platform. */
export interface RemoteListing {
  /** Stable id of the stock-holding object on the platform (inventory item id, product id, menu item id). */
  externalId: string;
  /** Platform location id the quantity belongs to, where the platform has locations. */
  externalLocationId?: string | null;
  sku: string | null;
  name?: string | null;
  /** Quantity the platform holds; null where it has no counts (availability channels) or does not track. */
  qty: number | null;
  /** Availability-only platforms. */
  available?: boolean | null;
  /** Opaque ordering token: Wix revision, Shopify updated_at, ... (compared by the adapter's `isNewer`). */
  version?: string | null;
  /**
   * The platform's own field a push sets, where `qty` is derived from it and other writers move
   * the rest (Vendure: stockOnHand, with qty = stockOnHand - stockAllocated). Equal to what our
   * last push wrote, an edit is our own echo even when allocations moved `qty` meanwhile.
   */
  raw?: number | null;
}

export interface PushRequest {
  /** Our listing id, echoed back in the result. */
  listingId: string;
  externalId: string;
  externalLocationId?: string | null;
  /** The sellable quantity the channel must hold after this push. */
  qty: number;
  /** What we last knew the channel held: the compare value for CAS platforms. */
  known: { qty: number | null; version: string | null };
  /** Stable per (listing, intended value): lets platforms with idempotency keys replay a timed-out write. */
  idempotencyKey: string;
}

export type PushResult =
  /** `unchanged`: the platform already held it and nothing was written (a read-then-write adapter skipped it; not a metered push). */
  | { listingId: string; outcome: 'ok'; qty: number; version: string | null; written?: number; unchanged?: true }
  /** CAS rejected: the platform holds something else; `remote` is a fresh read of it. */
  | { listingId: string; outcome: 'stale'; remote: RemoteListing; written?: number }
  | { listingId: string; outcome: 'failed'; error: string; retryable: boolean };

/** A platform event normalised: what the Watcher applies. */
export type InboundEvent =
  | {
      kind: 'order';
      /** Unique per channel; duplicate deliveries carry the same id (exactly-once key). */
      externalEventId: string;
      occurredAt: string;
      /**
       * 'sale' decrements stock, 'cancel' gives it back (a cancelled or refunded+restocked order);
       * 'reserve' holds units for an unfulfilled order (stock_levels.reserved), 'release' lets them go.
       */
      effect: 'sale' | 'cancel' | 'reserve' | 'release';
      /** A sale that fulfils units this channel reserved earlier: the reservation is released with it. */
      consumesReservation?: boolean;
      orderId: string;
      lines: Array<{ externalId?: string | null; sku?: string | null; qty: number }>;
      externalLocationId?: string | null;
    }
  | {
      kind: 'level';
      externalEventId: string;
      occurredAt: string;
      level: RemoteListing;
      /** The platform says this level came from a stock edit of `delta` (not a sale): an echo of
       *  our push, a merchant's manual adjustment, or (when it does not add up) drift. */
      change?: { delta: number };
    }
  /** Verified and recorded, but nothing to apply (a topic we do not act on). */
  | { kind: 'ignored'; externalEventId: string; occurredAt: string; reason: string };

export interface IncomingWebhook {
  headers: Record<string, string | string[] | undefined>;
  rawBody: Buffer;
  /** Full URL the platform posted to, as registered (Square-style signatures need it). */
  url: string;
}

export type VerifyResult = { ok: true } | { ok: false; reason: 'missing_signature' | 'bad_signature' | 'stale_timestamp' };

/** Inbound side of a channel: pure functions over the raw request. */
export interface WebhookHandler {
  /** Timing-safe check of the platform's signature over the raw body; rejects stale timestamps where the platform sends them. */
  /** May be async where the platform signs with keys fetched from its API (eBay's public_key): `channel.baseUrl` says where. */
  verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date, channel?: { baseUrl: string }): VerifyResult | Promise<VerifyResult>;
  /** Turns a verified body into events. Throws WebhookParseError on a body it cannot read. */
  parse(req: IncomingWebhook): InboundEvent[];
  /**
   * The platform signs nothing: its webhooks are authenticated by a secret in the URL it is given
   * (`/webhooks/{type}/{id}/{secret}`, src/channels/url-secret.ts), checked by intake before
   * verify(), which then has no signature left to check.
   */
  urlSecret?: boolean;
  /**
   * The body is only a hint, never a fact: parse() checks its shape (throwing WebhookParseError on
   * anything else) and returns no events, and intake makes the channel's poll run soon instead
   * (src/engine/poll-hints.ts). The poll reads only the platform's API, so nothing a forged body
   * says can move stock, and one poll covers a burst of hints; its event keys dedupe the rest.
   */
  pollOnHint?: boolean;
  /**
   * Platforms that validate an endpoint with a GET before sending to it (eBay's challenge_code):
   * the JSON answer for `GET /webhooks/{type}/{id}?...`, or null when the query is not a challenge.
   * `url` is the endpoint as the platform was given it (no challenge parameters).
   */
  challenge?(query: Record<string, string | undefined>, credentials: Record<string, string>, url: string): Record<string, unknown> | null;
  /**
   * The (verified) webhook says our app was removed from the merchant's account on the platform
   * (Shopify's app/uninstalled): intake disconnects the channel and raises its auth alert instead
   * of parsing it; nothing is recorded as stock.
   */
  isUninstall?(req: IncomingWebhook): boolean;
}

export class WebhookParseError extends Error {}

/** Every adapter failure is one of these kinds; the engine decides retries from `kind`, never from text. */
export class ChannelError extends Error {
  readonly kind: 'auth' | 'rate_limited' | 'transient' | 'permanent';
  readonly retryAfterMs: number | null;
  readonly status: number | null;
  constructor(kind: ChannelError['kind'], message: string, opts: { retryAfterMs?: number | null; status?: number | null } = {}) {
    super(message);
    this.name = 'ChannelError';
    this.kind = kind;
    this.retryAfterMs = opts.retryAfterMs ?? null;
    this.status = opts.status ?? null;
  }
}

export interface ChannelAdapter {
  readonly type: string;
  readonly capabilities: ChannelCapabilities;
  /** One cheap authenticated call; throws ChannelError('auth') on bad credentials. */
  testConnection(): Promise<{ ok: true; account: string }>;
  /** Every listing with its current quantity, page by page (import, auto-match, Guardian bulk read). */
  listListings(): AsyncIterable<RemoteListing[]>;
  /** Current state of specific listings (after a CAS failure or a timeout). */
  readListings(refs: Array<{ externalId: string; externalLocationId?: string | null }>): Promise<RemoteListing[]>;
  /** Make each listing hold `qty`. Never throws for a per-listing failure; throws ChannelError for a whole-call failure. */
  pushLevels(reqs: PushRequest[]): Promise<PushResult[]>;
  /**
   * HTTP calls pushLevels(reqs) will make, where it depends on the batch (one call per product on
   * platforms that set stock product by product); absent: capabilities.callsPerPush. The engine
   * charges the account's budget this much and sends no batch costing more than its burst.
   */
  pushCalls?(reqs: Array<Pick<PushRequest, 'externalId' | 'externalLocationId'>>): number;
  /** Channels polled as a safety net (webhooks absent or unreliable): events since `cursor`. */
  /** `done: true` when this call read everything there was (the Watcher does not ask again for more). */
  pollEvents?(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null; done?: boolean }>;
  /** True when version a is newer than version b (ordering of level events). */
  isNewer(a: string | null | undefined, b: string | null | undefined): boolean;
  /** Marketplaces: publishing products as listings (src/channels/catalog.ts). Absent on stock-only channels. */
  readonly catalog?: CatalogSide;
  close(): Promise<void>;
}

// ---- The catalog side: a product published as a listing (marketplaces) ----
// An action is *planned* first: the exact requests it sends, in order, with `{{name}}` standing for
// a value an earlier answer gives (eBay's offerId, Etsy's listing_id). The dry run shows the plan;
// the publishing job sends the same plan with the placeholders filled (runPlan in catalog.ts), so
// what a merchant previews is what goes out.

/** A product as one channel should show it (domain/catalog.ts channelView), with what it sells. */
export interface ListingDraft {
  productId: string;
  title: string;
  description: string;
  brand: string | null;
  /** The channel's category id where the override maps one, else the master's category text. */
  category: string | null;
  attributes: Record<string, string>;
  currency: string;
  /** Option names and values in order (Size, Colour); empty for a single-variant product. */
  options: Array<{ name: string; values: string[] }>;
  /** Absolute URLs StockClerk serves the images at (GET /media/...), in order. */
  images: Array<{ id: string; url: string; contentType: string }>;
  variants: Array<{
    itemId: string;
    sku: string;
    optionValues: Record<string, string>;
    /** Minor units, the channel's price (overrides and price rules applied). */
    priceMinor: number;
    /** The sellable quantity the channel should offer now (sync rules applied). */
    qty: number;
  }>;
}

/** Where a product already is on a channel: the ids the platform gave it (kept in its publications row). */
export interface PublishedRef {
  /** The listing's id on the platform (eBay listingId, Etsy listing_id). */
  externalId: string;
  /** Anything else later actions need (eBay offer ids per SKU, Etsy product ids), as strings. */
  refs: Record<string, string>;
}

export type CatalogAction = 'publish' | 'update' | 'delist' | 'relist';
export const CATALOG_ACTIONS: readonly CatalogAction[] = ['publish', 'update', 'delist', 'relist'];

/** One request an action sends. `{{name}}` inside url or body strings is a value captured from an earlier answer. */
export interface PlannedRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL on the platform. */
  url: string;
  body?: unknown;
  /** Sent as multipart/form-data: the image StockClerk serves at `imageUrl`, in form field `field`. */
  upload?: { field: string; imageUrl: string; contentType: string };
  /** Values of this answer later requests use: name -> dotted path into its JSON (`listing_id`, `responses.0.offerId`). */
  capture?: Record<string, string>;
  /** What the request does, for people reading a dry run ("Create the draft listing"). */
  label: string;
  /**
   * The request creates something and the platform takes no idempotency key for it: sent again
   * after an answer that never came (a timeout, a dropped connection, a 5xx after the platform
   * applied it), it would make a second one. The job records that it went out before sending it,
   * and a retry asks the catalog side's `recover` for what the lost attempt made before sending it again.
   */
  recoverable?: boolean;
}

export interface CatalogPlan {
  requests: PlannedRequest[];
  /**
   * After the plan ran: the publication's ids and the listings the stock side tracks from now on
   * (one per variant SKU), from the captured values and `existing`.
   */
  outcome(captured: Record<string, string>): { ref: PublishedRef; listings: Array<{ sku: string; externalId: string; externalLocationId?: string | null }> };
}

/** What a channel reports a published listing holds now (conflict detection). */
export interface RemoteCatalogFields {
  externalId: string;
  title: string | null;
  description: string | null;
  /** Minor units, or null where variants differ or the platform shows none. */
  priceMinor: number | null;
}

export interface CatalogSide {
  /** The requests `action` sends; pure and deterministic (no call is made: the dry run rests on this). */
  plan(action: CatalogAction, draft: ListingDraft, existing: PublishedRef | null): CatalogPlan;
  /**
   * Sends one request of a plan, placeholders already filled, with the account's auth; returns its
   * JSON answer (null when empty). Throws ChannelError; a refusal a merchant can fix is a
   * ChannelError('permanent') whose message says what to change.
   */
  send(req: PlannedRequest): Promise<unknown>;
  /** The catalog fields the platform holds now for published listings (what conflict checks compare). */
  readFields(refs: PublishedRef[]): Promise<RemoteCatalogFields[]>;
  /**
   * For a `recoverable` request (placeholders filled) an earlier attempt sent at or after `since`
   * without an answer: what that attempt may have made, as answers shaped like the request's own
   * (what its `capture` reads), best match first; empty when the platform shows nothing it made.
   * Throws ChannelError as `send` does. A side without it has the request sent again.
   */
  recover?(req: PlannedRequest, since: Date): Promise<unknown[]>;
}

/**
 * What a channel folder exports (src/channels/<type>/index.ts): everything StockClerk knows about
 * one platform. The channel routes, GET /channel-types, request validation and the dashboard's
 * connect form are built from these; nothing outside src/channels names a platform.
 */
export interface ChannelModule<S extends SettingsSchema = SettingsSchema> {
  /** The type name in URLs and rows (`/webhooks/{type}/{id}`, channels.type). */
  type: string;
  /** What a merchant calls the platform ("Epos Now"). */
  label: string;
  /** The platform's real API host; null where every account has its own (base_url is then required). */
  defaultBaseUrl: string | null;
  /** Credential fields (strict; `secret()` ones are never echoed): see src/channels/fields.ts. */
  credentials: z.ZodObject;
  /** What the channel row's `settings` may hold: the sync policy plus the platform's own fields, with their defaults. */
  settings: S;
  /** Settings the connect form asks for beside the credentials (the rest keep their defaults). */
  connectSettings: ReadonlyArray<keyof z.output<S> & string>;
  /** What the platform can do, its request budget (`rateLimit`) included. */
  capabilities: ChannelCapabilities;
  /** Inbound webhooks: signature check and parser. */
  webhook: WebhookHandler;
  /** Platforms a merchant connects by consenting (OAuth) instead of pasting keys. */
  oauth?: OAuthFlow;
  createAdapter(conn: ChannelConnection<z.output<S>>): ChannelAdapter;
}

/** StockClerk's registered application on a platform (its OAuth client), from configuration. */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  /** What is sent as redirect_uri: the callback URL itself, or the name the platform maps to it (eBay's RuName). */
  redirectUri: string;
  /** The app-wide key its webhooks are verified with, where it is not the client secret (Wix's app public key, PEM); null when not configured. */
  webhookKey?: string | null;
}

/**
 * The authorisation-code flow a merchant goes through to connect a platform account (the generic
 * routes are src/http/routes/oauth.ts): consent on the platform's page, back with a code, code
 * exchanged for tokens that become the channel's credentials.
 */
export interface OAuthFlow {
  /** Where the consent page lives on the real platform (its API host can differ: eBay, Etsy). */
  defaultAuthorizeBase: string;
  /**
   * redirect_uri is a name registered with the platform (eBay's RuName), not our callback URL: it
   * cannot default to PUBLIC_URL/oauth/callback/{type} and must be configured.
   */
  redirectIsName?: boolean;
  /** The platform requires PKCE (S256). */
  pkce: boolean;
  /** Where the API lives when StockClerk's configuration names no base (a platform with a host per account: `{account}` in it). */
  defaultApiBase?: string;
  /**
   * A platform with a host per merchant account (Shopify's shop domain): the account is named when
   * connecting (by the merchant, or by the platform's install launch), checked here (normalised, or
   * null when it is not one), and `{account}` in the API and consent bases stands for it.
   */
  account?: { label: string; check(account: string): string | null };
  /**
   * Installs started on the platform's side (its app store or install link): the signed launch it
   * sends to GET /install/{type}, checked (signature, freshness, account). Throws an Error whose
   * message says why it is refused; answers the account being installed, and `launch`: what of the
   * launch the consent URL must carry back to the platform (Wix's install token), sealed in the ticket.
   */
  verifyLaunch?(query: Record<string, string>, app: OAuthApp, now: Date): { account: string | null; launch?: Record<string, string> };
  /**
   * Consent can only follow an install started on the platform's side (an App Store whose
   * authorize page needs the launch's install reference to know the merchant): connecting from
   * StockClerk's side is refused, and the connect form offers the platform's keys instead.
   */
  installOnly?: boolean;
  authorizeUrl(input: {
    authorizeBase: string;
    app: OAuthApp;
    state: string;
    codeChallenge: string | null;
    account: string | null;
    /** What verifyLaunch kept from the platform's install launch; null when connecting was started from StockClerk. */
    launch?: Record<string, string> | null;
  }): string;
  /**
   * The platform account a channel's credentials are for, as a stable id (Wix's app instance,
   * Square's merchant): consent for an account one of the tenant's channels already holds (an app
   * installed again after it was removed) reconnects that channel instead of creating a second one.
   * Flows with `account` default to the account's API base. Null: the account cannot be told.
   */
  accountOf?(credentials: Record<string, string>): string | null;
  /** The code exchanged: the credentials the channel row keeps (tokens, expiry, the app keys the adapter signs with) and any settings learnt. */
  exchange(input: {
    baseUrl: string;
    app: OAuthApp;
    code: string;
    codeVerifier: string | null;
    /** The callback's other query parameters, for platforms that send more than the code (Shopee's shop_id). */
    params: Record<string, string>;
    /** The whole callback query (code and state included), for platforms that sign it (Shopify's hmac). */
    query: Record<string, string>;
    /** The account the merchant or the install launch named (flows with `account`), already checked. */
    account: string | null;
    /** What verifyLaunch kept from the platform's install launch (signed by the platform); null when connecting started from StockClerk. */
    launch?: Record<string, string> | null;
  }): Promise<{ credentials: Record<string, string>; settings?: Record<string, unknown> }>;
}

/** Declares a module with its settings type inferred from its schema (for the adapter factory). */
export const defineChannel = <S extends SettingsSchema>(m: ChannelModule<S>): ChannelModule<S> => m;
