// What eBay holds outside any one seller: the tokens and authorization codes it issued, each
// application's daily call counts, the Notification API destinations (they belong to the
// application, not to a seller) and the key pair notifications are signed with.
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

export type TokenKind = 'user' | 'application';

export interface IssuedToken {
  kind: TokenKind;
  clientId: string;
  /** The seller a user token acts for (null for application tokens). */
  accountId: string | null;
  scopes: string[];
  expiresAt: number;
}

export interface RefreshGrant {
  clientId: string;
  accountId: string;
  scopes: string[];
  expiresAt: number;
}

export interface AuthCode {
  clientId: string;
  accountId: string;
  scopes: string[];
  ruName: string;
  expiresAt: number;
}

export interface Destination {
  destinationId: string;
  clientId: string;
  name: string;
  status: 'ENABLED' | 'DISABLED';
  endpoint: string;
  verificationToken: string;
}

/** The daily budgets (calls per application per API per day) and the token lifetimes. */
export interface EbayLimits {
  /** GUESS: eBay's call-limits page (developer.ebay.com/develop/api/sell/api_call_limits) was only partly readable here; 2,000,000 is the figure we remember for the Inventory API. */
  inventoryPerDay: number;
  /** GUESS: likewise for the Fulfillment API. */
  fulfillmentPerDay: number;
  /** Documented: Notification API, 10,000 calls per day (api_call_limits page). */
  notificationPerDay: number;
  /** Documented (oauth-rate-limits.html): client credentials 1,000/day, authorization code 10,000/day, refresh token 50,000/day. */
  clientCredentialsPerDay: number;
  authorizationCodePerDay: number;
  refreshTokenPerDay: number;
  /** Documented: each listing can be revised up to 250 times in one calendar day. */
  revisionsPerListingPerDay: number;
  /** Documented: user and application access tokens live 7,200 s. */
  accessTokenTtlSec: number;
  /** Documented: refresh tokens live 18 months (47,304,000 s). */
  refreshTokenTtlSec: number;
  /** GUESS: authorization codes live 299 s (the consent redirect's expires_in as we remember it). */
  authCodeTtlSec: number;
}

export const DEFAULT_LIMITS: EbayLimits = {
  inventoryPerDay: 2_000_000,
  fulfillmentPerDay: 100_000,
  notificationPerDay: 10_000,
  clientCredentialsPerDay: 1_000,
  authorizationCodePerDay: 10_000,
  refreshTokenPerDay: 50_000,
  revisionsPerListingPerDay: 250,
  accessTokenTtlSec: 7200,
  refreshTokenTtlSec: 47_304_000,
  authCodeTtlSec: 299,
};

export type Budget = 'inventory' | 'fulfillment' | 'notification' | 'client_credentials' | 'authorization_code' | 'refresh_token';

const pacificDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Los_Angeles', year: 'numeric', month: '2-digit', day: '2-digit' });

/** eBay's user tokens look like "v^1.1#i^1#...": '#' and '^' must be form-encoded by clients. GUESS: the inner fields are not documented. */
function ebayToken(kind: 'a' | 'r'): string {
  return `v^1.1#i^1#p^3#${kind === 'r' ? 'r^1' : 'r^0'}#I^3#f^0#t^${randomBytes(48).toString('base64')}`;
}

export class Platform {
  limits: EbayLimits;
  /** Whole days added to the clock's calendar day (tests move to "tomorrow" without waiting). */
  dayShift = 0;
  readonly tokens = new Map<string, IssuedToken>();
  readonly refreshGrants = new Map<string, RefreshGrant>();
  readonly codes = new Map<string, AuthCode>();
  /** "clientId|budget" -> {day, count}. */
  readonly usage = new Map<string, { day: string; count: number }>();
  readonly destinations = new Map<string, Destination>();
  signingKey: { kid: string; privateKey: string; publicKey: string };

  constructor(limits: Partial<EbayLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    this.signingKey = Platform.newKey();
  }

  static newKey(): { kid: string; privateKey: string; publicKey: string } {
    // eBay's notification keys are ECDSA P-256 (the public key in eBay's SDK test vector is a prime256v1 SPKI).
    const { privateKey, publicKey } = generateKeyPairSync('ec', {
      namedCurve: 'prime256v1',
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { kid: randomUUID(), privateKey, publicKey };
  }

  /**
   * The calendar day eBay counts limits in. GUESS: "day" is taken as Pacific time (eBay resets call
   * limits at midnight Pacific per secondary sources); the 250-revision day is assumed to be the same.
   */
  today(now = Date.now()): string {
    return pacificDay.format(new Date(now + this.dayShift * 86_400_000));
  }

  /** Seconds until the next Pacific midnight (the Retry-After of a spent daily budget). */
  secondsToTomorrow(now = Date.now()): number {
    const today = this.today(now);
    let lo = 0;
    let hi = 26 * 3600;
    // The day boundary in Pacific time moves with DST; search for it instead of computing offsets.
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.today(now + mid * 1000) === today) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  budgetOf(b: Budget): number {
    const l = this.limits;
    const map: Record<Budget, number> = {
      inventory: l.inventoryPerDay,
      fulfillment: l.fulfillmentPerDay,
      notification: l.notificationPerDay,
      client_credentials: l.clientCredentialsPerDay,
      authorization_code: l.authorizationCodePerDay,
      refresh_token: l.refreshTokenPerDay,
    };
    return map[b];
  }

  /** Counts one call against the application's daily budget; false when the budget is spent. */
  spend(clientId: string, b: Budget): boolean {
    const key = `${clientId}|${b}`;
    const day = this.today();
    let u = this.usage.get(key);
    if (!u || u.day !== day) this.usage.set(key, (u = { day, count: 0 }));
    if (u.count >= this.budgetOf(b)) return false;
    u.count++;
    return true;
  }

  usageOf(clientId: string): Record<string, number> {
    const day = this.today();
    const out: Record<string, number> = {};
    for (const [key, u] of this.usage) {
      const [cid, b] = key.split('|');
      if (cid === clientId && u.day === day && b) out[b] = u.count;
    }
    return out;
  }

  issueAccess(kind: TokenKind, clientId: string, accountId: string | null, scopes: string[]): string {
    const token = ebayToken('a');
    this.tokens.set(token, { kind, clientId, accountId, scopes, expiresAt: Date.now() + this.limits.accessTokenTtlSec * 1000 });
    return token;
  }

  issueRefresh(clientId: string, accountId: string, scopes: string[]): string {
    const token = ebayToken('r');
    this.refreshGrants.set(token, { clientId, accountId, scopes, expiresAt: Date.now() + this.limits.refreshTokenTtlSec * 1000 });
    return token;
  }

  issueCode(c: Omit<AuthCode, 'expiresAt'>): string {
    // GUESS: code format; eBay documents only "a maximum of 1024 characters".
    const code = `v^1.1#i^1#f^0#I^3#r^1#p^3#t^${randomBytes(32).toString('base64')}`;
    this.codes.set(code, { ...c, expiresAt: Date.now() + this.limits.authCodeTtlSec * 1000 });
    return code;
  }

  /** Ages every access token past its expiry (tests of the refresh path). */
  expireAccessTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  reset(): void {
    this.tokens.clear();
    this.refreshGrants.clear();
    this.codes.clear();
    this.usage.clear();
    this.destinations.clear();
    this.dayShift = 0;
  }

  save(): unknown {
    const now = Date.now();
    // Limits are configuration (like the kit's knobs): not kept with the platform's state.
    return {
      dayShift: this.dayShift,
      tokens: [...this.tokens].filter(([, t]) => t.expiresAt > now),
      refreshGrants: [...this.refreshGrants].filter(([, t]) => t.expiresAt > now),
      usage: [...this.usage],
      destinations: [...this.destinations.values()],
      signingKey: this.signingKey,
    };
  }

  load(saved: unknown): void {
    const s = saved as {
      dayShift?: number;
      tokens?: Array<[string, IssuedToken]>;
      refreshGrants?: Array<[string, RefreshGrant]>;
      usage?: Array<[string, { day: string; count: number }]>;
      destinations?: Destination[];
      signingKey?: Platform['signingKey'];
    };
    this.dayShift = s.dayShift ?? 0;
    for (const [k, v] of s.tokens ?? []) this.tokens.set(k, v);
    for (const [k, v] of s.refreshGrants ?? []) this.refreshGrants.set(k, v);
    for (const [k, v] of s.usage ?? []) this.usage.set(k, v);
    for (const d of s.destinations ?? []) this.destinations.set(d.destinationId, d);
    // The same key after a restart: a verifier that cached the public key by kid keeps verifying.
    if (s.signingKey) this.signingKey = s.signingKey;
  }
}
