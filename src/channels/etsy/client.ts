// The one door to Etsy's API every part of this module uses (stock side and catalog side): the app
// key and the seller's bearer token on every call, the token renewed shortly before it expires
// (and once more on a 401 invalid_token), renewed tokens stored through saveCredentials, and
// Etsy's answers mapped to ChannelError kinds:
//   401 / 403            -> auth        (a bad key, a revoked grant, a missing scope)
//   429                  -> rate_limited, retryAfterMs from retry-after (else from x-remaining-*)
//   5xx / 408 / timeouts -> transient
//   other 4xx            -> returned to the caller, which decides (404 = gone; 400 = permanent with Etsy's text)
import { ChannelError, type ChannelConnection } from '../contract.ts';
import { trimBase } from '../adapter-kit.ts';
import { httpCall, parseRetryAfter, type HttpResult } from '../http-client.ts';
import { RenewableTokens } from '../renewable-tokens.ts';
import { refreshTokens } from './oauth.ts';
import type { EtsySettings } from './settings.ts';
import { parsePlatformJson } from '../json.ts';

/** Renew this long before the recorded expiry (clock skew, a slow call in between). */
export const REFRESH_MARGIN_MS = 120_000;

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface EtsyCall {
  method: Method;
  /** Absolute URL, or a path under /v3/application. */
  url: string;
  body?: unknown;
  /** Content type when the body is a string or bytes (form, multipart); JSON otherwise. */
  contentType?: string;
}

/** Etsy's error body ({error, error_description}) as one readable sentence. */
export function etsyErrorText(res: Pick<HttpResult, 'text'>): string {
  try {
    const b = parsePlatformJson(res.text) as { error?: unknown; error_description?: unknown; message?: unknown };
    const parts = [b.error, b.error_description ?? b.message].filter((x): x is string => typeof x === 'string' && x.trim() !== '');
    if (parts.length) return parts.join(': ');
  } catch {
    /* not JSON */
  }
  return res.text.trim().slice(0, 300) || 'no details';
}

export class EtsyClient {
  readonly base: string;
  readonly api: string;
  readonly timeoutMs: number;
  private readonly tokens: RenewableTokens;
  private shopId: string | null;
  private readonly now: () => number;

  constructor(conn: ChannelConnection<EtsySettings>, now: () => number = Date.now) {
    this.base = trimBase(conn.baseUrl);
    this.api = `${this.base}/v3/application`;
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.tokens = new RenewableTokens(conn, {
      marginMs: REFRESH_MARGIN_MS,
      now,
      renew: async (creds) => ({
        ...(await refreshTokens({
          baseUrl: this.base,
          keystring: creds.keystring ?? '',
          refreshToken: creds.refresh_token ?? '',
          timeoutMs: this.timeoutMs,
          now,
        })),
      }),
    });
    this.shopId = conn.settings.shop_id === undefined ? null : String(conn.settings.shop_id);
    this.now = now;
  }

  /** The token pair held now (tests and the connect flow read it). */
  get credentials(): Readonly<Record<string, string>> {
    return this.tokens.creds;
  }

  private get creds(): Readonly<Record<string, string>> {
    return this.tokens.creds;
  }

  private apiKey(): string {
    return `${this.creds.keystring ?? ''}:${this.creds.shared_secret ?? ''}`;
  }

  /** Renews the token pair now (tests, and an access token refused as expired). */
  refresh(): Promise<void> {
    return this.tokens.refresh();
  }

  private freshToken(): Promise<void> {
    return this.tokens.ready();
  }

  /**
   * One call. Resolves with 2xx and with 4xx other than 401/403/429 (the caller reads those);
   * throws ChannelError for auth, throttling and server failures.
   */
  async call(c: EtsyCall): Promise<HttpResult> {
    await this.freshToken();
    for (let attempt = 0; ; attempt++) {
      const url = /^https?:\/\//.test(c.url) ? c.url : this.api + c.url;
      const used = this.creds.access_token ?? '';
      const headers: Record<string, string> = { 'x-api-key': this.apiKey(), authorization: `Bearer ${used}` };
      if (c.contentType) headers['content-type'] = c.contentType;
      const res = await httpCall(
        { method: c.method, url, headers, body: c.body, timeoutMs: this.timeoutMs },
        [400, 401, 402, 403, 404, 405, 409, 410, 413, 415, 422, 429],
      );
      const where = `${c.method} ${new URL(url).pathname}`;
      if (res.status === 401) {
        // An access token that expired early (or whose expiry we did not know): renew once and retry.
        if (attempt === 0 && /invalid_token/.test(res.text)) {
          // Another call may have renewed it meanwhile: then the new token is simply used.
          if ((this.creds.access_token ?? '') === used) await this.refresh();
          continue;
        }
        throw new ChannelError('auth', `${where} -> 401: ${etsyErrorText(res)}`, { status: 401 });
      }
      if (res.status === 403) throw new ChannelError('auth', `${where} -> 403: ${etsyErrorText(res)}`, { status: 403 });
      if (res.status === 429) {
        throw new ChannelError('rate_limited', `${where} -> 429: ${etsyErrorText(res)}`, { status: 429, retryAfterMs: retryAfter(res) });
      }
      return res;
    }
  }

  /** A call whose every non-2xx is an error: 404 and 4xx become ChannelError('permanent') with Etsy's text. */
  async json<T>(c: EtsyCall): Promise<T> {
    const res = await this.call(c);
    if (res.status >= 300)
      throw new ChannelError('permanent', `${c.method} ${c.url.split('?')[0]} -> ${res.status}: ${etsyErrorText(res)}`, { status: res.status });
    return (res.text ? res.json<T>() : null) as T;
  }

  /** The shop: settings.shop_id, else the connected seller's (getMe), asked once. */
  async shop(): Promise<string> {
    if (this.shopId === null) {
      const me = await this.json<{ user_id?: number; shop_id?: number | null }>({ method: 'GET', url: '/users/me' });
      if (!me?.shop_id) throw new ChannelError('permanent', 'The connected Etsy account has no shop');
      this.shopId = String(me.shop_id);
    }
    return this.shopId;
  }

  /** The shop id if known without a call (settings or an earlier getMe). */
  knownShop(): string | null {
    return this.shopId;
  }
}

/** Retry-after when Etsy sends it; else from the quota headers (per-second spent: 1 s; per-day spent: unknown). */
function retryAfter(res: HttpResult): number | null {
  const ra = parseRetryAfter(res.headers['retry-after']);
  if (ra !== null) return ra;
  const h = (n: string) => {
    const v = res.headers[n];
    return Number(Array.isArray(v) ? v[0] : v);
  };
  if (h('x-remaining-this-second') === 0) return 1000;
  return null;
}
