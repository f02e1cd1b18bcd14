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
}

/** Decrypted channel credentials + where to reach it. Keys are platform specific (see each module's settings.ts). */
export interface ChannelConnection<S = Record<string, unknown>> {
  channelId: string;
  /** Base URL of the platform API (the real host in production, an emulator in tests and the demo). */
  baseUrl: string;
  credentials: Record<string, string>;
  /** The channel's settings parsed by its module's schema, defaults applied (src/channels/settings.ts). */
  settings: S;
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
  verify(req: IncomingWebhook, credentials: Record<string, string>, now: Date): VerifyResult;
  /** Turns a verified body into events. Throws WebhookParseError on a body it cannot read. */
  parse(req: IncomingWebhook): InboundEvent[];
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
  /** Channels polled as a safety net (webhooks absent or unreliable): events since `cursor`. */
  pollEvents?(cursor: string | null): Promise<{ events: InboundEvent[]; cursor: string | null }>;
  /** True when version a is newer than version b (ordering of level events). */
  isNewer(a: string | null | undefined, b: string | null | undefined): boolean;
  close(): Promise<void>;
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
  createAdapter(conn: ChannelConnection<z.output<S>>): ChannelAdapter;
}

/** Declares a module with its settings type inferred from its schema (for the adapter factory). */
export const defineChannel = <S extends SettingsSchema>(m: ChannelModule<S>): ChannelModule<S> => m;
