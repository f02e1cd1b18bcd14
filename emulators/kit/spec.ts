// What a platform's emulator supplies to the kit (emulators/kit/emulator.ts), and the account
// shapes the two share. The kit knows nothing about any platform, and nothing about StockClerk:
// an emulator is the platform's side of the wire, written from the platform's documentation.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TokenBucket } from '../../src/domain/token-bucket.ts';
import type { Emulator } from './emulator.ts';

export interface AccountInput {
  /** Emulator-side account id (shop, site, device...). */
  id: string;
  /** Whatever the platform authenticates with (token, key/secret, client id/secret). */
  credentials: Record<string, string>;
  /** Where the platform sends webhooks, and what it signs them with (a shared secret, or a private key PEM). */
  webhookUrl?: string | null;
  webhookSecret?: string | null;
  items: Array<{ sku: string; name: string; qty: number; externalId?: string }>;
}

export interface BaseAccount {
  id: string;
  credentials: Record<string, string>;
  webhookUrl: string | null;
  webhookSecret: string | null;
  bucket: TokenBucket;
}

/** The kit's own part of an account in the state file (the bucket is not kept: it refills anyway). */
export type SavedBase = Pick<BaseAccount, 'id' | 'credentials' | 'webhookUrl' | 'webhookSecret'>;

export interface WriteRecord {
  accountId: string;
  externalId: string;
  /** Quantity held after the write (null for availability-only platforms). */
  qty: number | null;
  available: boolean | null;
  at: number;
}

/** One platform API request as the emulator received it (the `recordRequests` knob). */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  contentType: string | null;
  /** The parsed body (JSON or form fields); `{bytes}` for a raw or multipart body; null when none. */
  body: unknown;
  /** The Authorization header as sent (tests check which token a call carried: a refresh's new one). */
  authorization: string | null;
  status: number;
  at: number;
}

export interface ItemState {
  externalId: string;
  sku: string | null;
  name: string | null;
  qty: number | null;
  available: boolean | null;
}

export type SaleInput = { externalId?: string; sku?: string; qty: number };

export interface EmulatorSpec<A extends BaseAccount> {
  /** The platform's name, written into the state file (a file of one platform is never loaded by another). */
  platform: string;
  /** Documented limit per account. */
  rateLimit: { perSecond: number; burst: number };
  createAccount(input: AccountInput, base: BaseAccount): A;
  /** Finds the account a platform API call authenticates as; null -> `unauthorized`. */
  authenticate(req: FastifyRequest, accounts: Map<string, A>): A | null;
  unauthorized(reply: FastifyReply): FastifyReply;
  throttled(reply: FastifyReply, retryAfterSec: number): FastifyReply;
  serverError(reply: FastifyReply): FastifyReply;
  /** Platform API routes; handlers get the authenticated account from `emu.account(req)`. */
  routes(app: FastifyInstance, emu: Emulator<A>): void;
  /** "A customer bought this here": update the platform's own state and send its webhooks. */
  sale(emu: Emulator<A>, account: A, input: SaleInput): Promise<Record<string, unknown>>;
  /** Drift injection: the merchant edited stock on the platform directly. */
  setLevel(emu: Emulator<A>, account: A, input: SaleInput): Promise<Record<string, unknown>>;
  state(account: A): ItemState[];
  /** The account's platform state as plain JSON (everything but the kit's base fields), for the state file. */
  saveAccount(account: A): unknown;
  /** Rebuilds an account from what saveAccount wrote. */
  loadAccount(saved: unknown, base: BaseAccount): A;
  /** Platform state that belongs to no account (issued tokens...), if any. */
  saveShared?(): unknown;
  loadShared?(saved: unknown): void;
}
