// The one door to TikTok Shop's API for this module: every call signed (sign.ts) with app_key,
// timestamp and the shop's cipher in the query and the seller's token in x-tts-access-token; the
// token renewed shortly before it expires (and once on an "expired" answer), the renewed pair
// stored through saveCredentials; answers mapped to ChannelError kinds:
//   401 / 403 (bad sign, token, cipher)  -> auth
//   429 / code 36009004                  -> rate_limited
//   5xx / timeouts                       -> transient
//   other 4xx                            -> returned for the caller to decide (permanent per item)
import { ChannelError, type ChannelConnection } from '../contract.ts';
import { trimBase } from '../adapter-kit.ts';
import { httpCall, parseRetryAfter, type HttpResult } from '../http-client.ts';
import { signRequest } from './sign.ts';
import type { TiktokShopSettings } from './settings.ts';
import { parsePlatformJson } from '../json.ts';

export const DEFAULT_API_BASE = 'https://open-api.tiktokglobalshop.com';
/** Tokens are issued and renewed on TikTok Shop's auth host, not the API host. */
export const DEFAULT_AUTH_BASE = 'https://auth.tiktok-shops.com';
/** Renew this long before the recorded expiry (clock skew, a slow call in between). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
// GUESS: codes of an expired token and of throttling (the emulator's, from the same reading).
const TOKEN_EXPIRED = 105002;
const THROTTLED = 36009004;

/** TikTok's envelope: code 0 is success. */
export interface Envelope<T> {
  code: number;
  message: string;
  request_id?: string;
  data: T;
}

export interface TtsCall {
  method: 'GET' | 'POST' | 'PUT';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Shop calls carry shop_cipher; Get Authorized Shops does not. */
  shop?: boolean;
  /** A multipart body (an image upload): sent as is and left out of the sign, as TikTok's signing rule says. */
  multipart?: { bytes: Uint8Array; contentType: string };
}

export function envelopeOf(res: Pick<HttpResult, 'text'>): { code: number | null; message: string } {
  try {
    const b = parsePlatformJson(res.text) as { code?: unknown; message?: unknown };
    return { code: typeof b.code === 'number' ? b.code : null, message: typeof b.message === 'string' ? b.message : res.text.slice(0, 200) };
  } catch {
    return { code: null, message: res.text.trim().slice(0, 200) || 'no details' };
  }
}

/** Where tokens are renewed for an API base: TikTok's auth host in production, the same host elsewhere (an emulator). */
export function authBaseFor(apiBase: string): string {
  return trimBase(apiBase) === DEFAULT_API_BASE ? DEFAULT_AUTH_BASE : trimBase(apiBase);
}

/** One signed call with the given credentials and cipher (no renewal): the webhook reader uses it too. */
export async function signedCall(
  base: string,
  creds: Record<string, string>,
  cipher: string | null,
  c: TtsCall,
  timeoutMs: number,
  now: () => number = Date.now,
): Promise<HttpResult> {
  const query: Record<string, string> = { ...c.query, app_key: creds.app_key ?? '', timestamp: String(Math.floor(now() / 1000)) };
  if (cipher !== null) query.shop_cipher = cipher;
  const body = c.multipart || c.body === undefined ? '' : JSON.stringify(c.body);
  query.sign = signRequest(creds.app_secret ?? '', c.path, query, body);
  const headers: Record<string, string> = { 'x-tts-access-token': creds.access_token ?? '' };
  if (c.multipart) headers['content-type'] = c.multipart.contentType;
  return httpCall(
    {
      method: c.method,
      url: `${trimBase(base)}${c.path}?${new URLSearchParams(query)}`,
      headers,
      body: c.multipart ? c.multipart.bytes : c.body === undefined ? undefined : body,
      timeoutMs,
    },
    [400, 401, 403, 404, 409, 422, 429],
  );
}

export class TiktokShopClient {
  readonly base: string;
  readonly timeoutMs: number;
  private creds: Record<string, string>;
  private readonly save: ChannelConnection['saveCredentials'];
  private refreshing: Promise<void> | null = null;
  private unsaved = false;
  private cipher: string | null = null;
  private shopName: string | null = null;
  private readonly shopId: string | null;
  private readonly now: () => number;

  constructor(conn: ChannelConnection<TiktokShopSettings>, now: () => number = Date.now) {
    this.base = trimBase(conn.baseUrl);
    this.timeoutMs = conn.settings.request_timeout_ms;
    this.creds = { ...conn.credentials };
    this.save = conn.saveCredentials;
    this.shopId = conn.settings.shop_id ?? null;
    this.now = now;
  }

  get credentials(): Readonly<Record<string, string>> {
    return this.creds;
  }

  private expiresSoon(): boolean {
    const exp = Date.parse(this.creds.access_expires_at ?? '');
    return Number.isFinite(exp) && exp - this.now() <= REFRESH_MARGIN_MS;
  }

  /** Renews the access token with the refresh token; concurrent callers share one renewal. */
  async refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const q = new URLSearchParams({
        app_key: this.creds.app_key ?? '',
        app_secret: this.creds.app_secret ?? '',
        refresh_token: this.creds.refresh_token ?? '',
        grant_type: 'refresh_token',
      });
      const res = await httpCall({ method: 'GET', url: `${authBaseFor(this.base)}/api/v2/token/refresh?${q}`, timeoutMs: this.timeoutMs }, [400, 401, 403]);
      const env = envelopeOf(res);
      if (res.status !== 200 || env.code !== 0)
        throw new ChannelError('auth', `TikTok Shop refused to renew the access token: ${env.message}`, { status: res.status });
      const d = res.json<Envelope<{ access_token: string; access_token_expire_in: number; refresh_token?: string }>>().data;
      this.creds = {
        ...this.creds,
        access_token: d.access_token,
        refresh_token: d.refresh_token || this.creds.refresh_token || '',
        // access_token_expire_in is a unix time (seconds), not a duration.
        access_expires_at: new Date(d.access_token_expire_in * 1000).toISOString(),
      };
      this.unsaved = true;
      await this.persist();
    })().finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private async persist(): Promise<void> {
    if (!this.unsaved || !this.save) return;
    try {
      await this.save({ ...this.creds });
      this.unsaved = false;
    } catch {
      // The renewed pair works from memory; the next call tries to store it again.
    }
  }

  /** One call; 2xx and readable 4xx resolve, the rest throw ChannelError. */
  async call(c: TtsCall): Promise<HttpResult> {
    if (this.refreshing) await this.refreshing;
    if (this.expiresSoon()) await this.refresh();
    else if (this.unsaved) await this.persist();
    const cipher = c.shop === false ? null : await this.shopCipher();
    for (let attempt = 0; ; attempt++) {
      const used = this.creds.access_token;
      const res = await signedCall(this.base, this.creds, cipher, c, this.timeoutMs, this.now);
      const env = envelopeOf(res);
      const where = `${c.method} ${c.path}`;
      if (res.status === 429 || env.code === THROTTLED)
        throw new ChannelError('rate_limited', `${where} -> ${res.status}: ${env.message}`, {
          status: 429,
          retryAfterMs: parseRetryAfter(res.headers['retry-after']) ?? 1000,
        });
      if (res.status === 401 || res.status === 403) {
        if (attempt === 0 && env.code === TOKEN_EXPIRED) {
          if (this.creds.access_token === used) await this.refresh();
          continue;
        }
        throw new ChannelError('auth', `${where} -> ${res.status}: ${env.message}`, { status: res.status });
      }
      return res;
    }
  }

  /** A call whose every non-success is an error (4xx: permanent, with TikTok's message). */
  async data<T>(c: TtsCall): Promise<T> {
    const res = await this.call(c);
    const env = envelopeOf(res);
    if (res.status >= 300 || env.code !== 0)
      throw new ChannelError('permanent', `${c.method} ${c.path} -> ${res.status} (${env.code}): ${env.message}`, { status: res.status });
    return res.json<Envelope<T>>().data;
  }

  /** The shop's cipher (from Get Authorized Shops), asked once. */
  async shopCipher(): Promise<string> {
    if (this.cipher === null) {
      const d = await this.data<{ shops?: Array<{ id: string; name: string; cipher: string }> }>({
        method: 'GET',
        path: '/authorization/202309/shops',
        shop: false,
      });
      const shop = (d.shops ?? []).find((s) => this.shopId === null || s.id === this.shopId);
      if (!shop) throw new ChannelError('permanent', this.shopId ? `The grant does not cover shop ${this.shopId}` : 'The grant covers no shop');
      this.cipher = shop.cipher;
      this.shopName = shop.name;
    }
    return this.cipher;
  }

  async shopLabel(): Promise<string> {
    await this.shopCipher();
    return this.shopName ?? 'TikTok Shop';
  }
}
