// The one door to Shopee's API: every call signed (partner_id, timestamp, sign; shop calls add
// access_token and shop_id, which the sign covers), the shop's token pair renewed shortly before it
// expires (and once on a refused token), the renewed pair stored through saveCredentials, and
// Shopee's answers mapped to ChannelError kinds:
//   error_auth / error_sign / 401 / 403 -> auth (after one renewal for a refused access token)
//   429                                 -> rate_limited (retry-after)
//   5xx / timeouts, and error_server / error_inner / error_system_busy / error_network
//   (Shopee's "please try later" words, which can come with HTTP 200) -> transient
//   error_param and other refusals      -> permanent, with Shopee's message
// Shopee answers some errors with HTTP 200 and a non-empty `error` (API-calls page: every answer
// carries request_id, error and message), so the body decides, not only the status.
import { RenewableTokens } from '../renewable-tokens.ts';
import { ChannelError, type ChannelConnection } from '../contract.ts';
import { trimBase } from '../adapter-kit.ts';
import { httpCall, parseRetryAfter, type HttpResult } from '../http-client.ts';
import type { ShopeeSettings } from './settings.ts';
import { callSign } from './sign.ts';
import { parsePlatformJson } from '../json.ts';

/** Renew this long before the recorded expiry (clock skew, a slow call in between). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
export const API = '/api/v2';

interface Envelope {
  error?: string;
  message?: string;
  request_id?: string;
}

export interface ShopeeCall {
  method: 'GET' | 'POST';
  /** Path under /api/v2 (`/product/get_item_list`). */
  path: string;
  query?: Record<string, string | number>;
  body?: unknown;
  /** A multipart body (an image upload), sent as is: the sign never covers the body. */
  multipart?: { bytes: Uint8Array; contentType: string };
  /**
   * A public API (v2.media_space.upload_image is one): signed over partner_id + path + timestamp
   * only, without access_token and shop_id (API-calls page).
   */
  public?: boolean;
}

/** A refusal Shopee explained: its error word and message kept apart (the catalog side turns them into what a merchant should change). */
export class ShopeeRefusal extends ChannelError {
  readonly error: string;
  readonly detail: string;
  constructor(kind: ChannelError['kind'], text: string, error: string, detail: string, status: number) {
    super(kind, text, { status });
    this.error = error;
    this.detail = detail;
  }
}

/** Shopee's error words that mean "try again later" (error lists of the product APIs). */
const RETRYABLE = new Set(['error_server', 'error_inner', 'error_system_busy', 'error_network', 'error_get_shop_fail']);

const unix = (ms: number) => Math.floor(ms / 1000);

function envelope(res: HttpResult): Envelope {
  try {
    const b = parsePlatformJson(res.text) as Envelope;
    return b && typeof b === 'object' ? b : {};
  } catch {
    return {};
  }
}

/** Signs and sends one public (auth) call: the token endpoints. */
export async function publicCall<T>(
  base: string,
  creds: { partner_id: string; partner_key: string },
  path: string,
  body: unknown,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<T & Envelope> {
  const ts = unix(now());
  const url = `${trimBase(base)}${API}${path}?partner_id=${encodeURIComponent(creds.partner_id)}&timestamp=${ts}&sign=${callSign(creds.partner_key, creds.partner_id, API + path, ts)}`;
  const res = await httpCall({ method: 'POST', url, body, timeoutMs }, [400, 401, 403, 404]);
  const env = envelope(res);
  if (res.status >= 300 || env.error) {
    const kind = res.status === 401 || res.status === 403 || /auth|sign/.test(env.error ?? '') ? 'auth' : 'permanent';
    throw new ChannelError(kind, `POST ${API}${path} -> ${res.status}: ${env.error ?? ''} ${env.message ?? ''}`.trim(), { status: res.status });
  }
  return res.json<T & Envelope>();
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  access_expires_at: string;
}

/** POST /api/v2/auth/access_token/get: a new pair from the refresh token (the used one is spent). */
export async function refreshTokens(base: string, creds: Record<string, string>, timeoutMs: number, now: () => number = Date.now): Promise<TokenPair> {
  const r = await publicCall<{ access_token: string; refresh_token: string; expire_in: number }>(
    base,
    { partner_id: creds.partner_id ?? '', partner_key: creds.partner_key ?? '' },
    '/auth/access_token/get',
    { refresh_token: creds.refresh_token ?? '', partner_id: Number(creds.partner_id), shop_id: Number(creds.shop_id) },
    timeoutMs,
    now,
  );
  return { access_token: r.access_token, refresh_token: r.refresh_token, access_expires_at: new Date(now() + r.expire_in * 1000).toISOString() };
}

export class ShopeeClient {
  readonly base: string;
  readonly timeoutMs: number;
  private readonly tokens: RenewableTokens;
  private readonly now: () => number;
  /**
   * Never renew (the push verifier reads an order with the stored pair: a renewal there would spend
   * the refresh token without storing the new pair). A refused token is then simply 'auth'.
   */
  private readonly renew: boolean;

  constructor(conn: ChannelConnection<ShopeeSettings>, now: () => number = Date.now, opts: { renew?: boolean } = {}) {
    this.renew = opts.renew ?? true;
    this.base = trimBase(conn.baseUrl);
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.tokens = new RenewableTokens(conn, {
      marginMs: REFRESH_MARGIN_MS,
      now,
      renew: async (creds) => ({ ...(await refreshTokens(this.base, creds, this.timeoutMs, now)) }),
    });
    this.now = now;
  }

  get credentials(): Readonly<Record<string, string>> {
    return this.tokens.creds;
  }

  private get creds(): Readonly<Record<string, string>> {
    return this.tokens.creds;
  }

  get shopId(): string {
    return this.creds.shop_id ?? '';
  }

  /** Renews the pair now (tests, and an access token refused as expired). */
  refresh(): Promise<void> {
    return this.tokens.refresh();
  }

  /** The URL of one signed shop call (or public call), as sent (tests and the dry run read it). */
  signedUrl(path: string, query: Record<string, string | number> = {}, opts: { public?: boolean } = {}): string {
    const ts = unix(this.now());
    const token = this.creds.access_token ?? '';
    const partnerId = this.creds.partner_id ?? '';
    if (opts.public) {
      const sign = callSign(this.creds.partner_key ?? '', partnerId, API + path, ts);
      const u = new URLSearchParams({ partner_id: partnerId, timestamp: String(ts), sign });
      for (const [k, v] of Object.entries(query)) u.set(k, String(v));
      return `${this.base}${API}${path}?${u.toString()}`;
    }
    const sign = callSign(this.creds.partner_key ?? '', partnerId, API + path, ts, { accessToken: token, shopId: this.shopId });
    const u = new URLSearchParams({ partner_id: partnerId, timestamp: String(ts), access_token: token, shop_id: this.shopId, sign });
    for (const [k, v] of Object.entries(query)) u.set(k, String(v));
    return `${this.base}${API}${path}?${u.toString()}`;
  }

  /** One shop call; resolves with the `response` of a successful answer. */
  async call<T>(c: ShopeeCall): Promise<T> {
    await this.tokens.ready(this.renew);
    for (let attempt = 0; ; attempt++) {
      const used = this.creds.access_token ?? '';
      const res = await httpCall(
        {
          method: c.method,
          url: this.signedUrl(c.path, c.query, { public: c.public }),
          ...(c.multipart ? { body: c.multipart.bytes, headers: { 'content-type': c.multipart.contentType } } : { body: c.body }),
          timeoutMs: this.timeoutMs,
        },
        [400, 401, 403, 404, 429],
      );
      const env = envelope(res);
      const where = `${c.method} ${API}${c.path}`;
      const text = `${where} -> ${res.status}: ${env.error ?? ''} ${env.message ?? ''}`.trim();
      if (res.status === 429) throw new ChannelError('rate_limited', text, { status: 429, retryAfterMs: parseRetryAfter(res.headers['retry-after']) });
      const authError = res.status === 401 || res.status === 403 || env.error === 'error_auth' || env.error === 'error_sign';
      if (authError) {
        // An access token refused before its recorded expiry (or of unknown expiry): renew once and
        // retry. Shopee's exact refusal text is not documented, so any refusal but a bad sign (our
        // partner key) counts; a renewal that is refused too ends as 'auth'.
        if (attempt === 0 && this.renew && env.error !== 'error_sign') {
          if ((this.creds.access_token ?? '') === used) await this.refresh();
          continue;
        }
        throw new ChannelError('auth', text, { status: res.status });
      }
      if (env.error && RETRYABLE.has(env.error)) throw new ShopeeRefusal('transient', text, env.error, env.message ?? '', res.status);
      if (res.status >= 300 || env.error) throw new ShopeeRefusal('permanent', text, env.error ?? '', env.message ?? '', res.status);
      return (res.json<{ response?: T }>().response ?? null) as T;
    }
  }
}
