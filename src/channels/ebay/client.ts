// eBay REST plumbing shared by the stock side (adapter.ts), the catalog side (catalog.ts) and the
// webhook verifier: the OAuth user token (refreshed before it expires and stored through
// conn.saveCredentials), and the mapping of eBay's answers to ChannelError kinds.
// Facts: developer.ebay.com/api-docs/static/oauth-refresh-token-request.html (POST
// /identity/v1/oauth2/token, Basic client_id:client_secret, form body, access tokens live 7,200 s);
// error bodies {errors: [{errorId, domain, category, message, longMessage, parameters}]}.
import { ChannelError } from '../contract.ts';
import { basicAuth, httpCall, parseRetryAfter } from '../http-client.ts';
import { trimBase } from '../adapter-kit.ts';
import { EBAY_SCOPES } from './oauth.ts';
import { parsePlatformJson } from '../json.ts';

export interface EbayErrorDetail {
  errorId?: number;
  domain?: string;
  category?: string;
  message?: string;
  longMessage?: string;
  parameters?: Array<{ name?: string; value?: string }>;
}

/** Refresh this long before the access token's expiry (a call in flight must not outlive it). */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** Documented: errorId 2001 "Too many requests" (call limit reached). */
const RATE_LIMITED = 2001;

/** eBay's errors as a sentence a merchant can act on ("Invalid value for categoryId (errorId 25709)"). */
export function describeErrors(errors: EbayErrorDetail[] | undefined, fallback: string): string {
  const parts = (errors ?? []).map((e) => {
    const text = (e.longMessage && e.longMessage !== e.message ? `${e.message ?? ''} ${e.longMessage}` : (e.message ?? '')).trim();
    return `${text || 'error'}${e.errorId ? ` (errorId ${e.errorId})` : ''}`;
  });
  return parts.length ? parts.join('; ') : fallback;
}

function errorsOf(text: string): EbayErrorDetail[] | undefined {
  try {
    const b = parsePlatformJson(text) as { errors?: EbayErrorDetail[] };
    return Array.isArray(b.errors) ? b.errors : undefined;
  } catch {
    return undefined;
  }
}

// Every 4xx is read here (eBay explains it in the body) except the ones http-client maps itself.
const READ_4XX = [400, 404, 405, 409, 410, 412, 413, 415, 422];

export interface EbayCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Absolute URL, or a path below the base URL. */
  url: string;
  body?: unknown;
  /** Content-Language of the write (required on inventory item, group and offer writes). */
  language?: string;
  /** Statuses the caller reads itself (bulk calls answer 207 per entry). */
  okStatuses?: number[];
}

export interface EbayAnswer {
  status: number;
  body: unknown;
}

export class EbaySession {
  readonly base: string;
  private creds: Record<string, string>;
  private refreshing: Promise<string> | null = null;
  private readonly timeoutMs: number;
  private readonly save: ((credentials: Record<string, string>) => Promise<void>) | undefined;

  constructor(baseUrl: string, credentials: Record<string, string>, timeoutMs: number, save?: (credentials: Record<string, string>) => Promise<void>) {
    this.timeoutMs = timeoutMs;
    this.save = save;
    this.base = trimBase(baseUrl);
    this.creds = { ...credentials };
  }

  get credentials(): Readonly<Record<string, string>> {
    return this.creds;
  }

  /** A user access token valid for at least REFRESH_MARGIN_MS (refreshed first when not). */
  async userToken(now = Date.now()): Promise<string> {
    const at = this.creds.access_token;
    const exp = Date.parse(this.creds.access_expires_at ?? '');
    if (at && Number.isFinite(exp) && exp - now > REFRESH_MARGIN_MS) return at;
    // No expiry stored: trust the token until eBay says otherwise (a 401 refreshes it).
    if (at && !this.creds.access_expires_at) return at;
    return this.refresh();
  }

  /** The refresh_token grant; one at a time. Refused -> ChannelError('auth'): the seller must reconnect. */
  refresh(): Promise<string> {
    this.refreshing ??= this.doRefresh().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async doRefresh(): Promise<string> {
    const { client_id: id, client_secret: secret, refresh_token: refresh } = this.creds;
    if (!id || !secret || !refresh) throw new ChannelError('auth', 'eBay: client id, client secret and refresh token are required');
    const res = await httpCall(
      {
        method: 'POST',
        url: `${this.base}/identity/v1/oauth2/token`,
        headers: { authorization: basicAuth(id, secret), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refresh, scope: EBAY_SCOPES.join(' ') }).toString(),
        timeoutMs: this.timeoutMs,
      },
      [400, 401],
    );
    if (res.status !== 200) {
      let why = res.text.slice(0, 200);
      try {
        const b = parsePlatformJson(res.text) as { error?: string; error_description?: string };
        why = [b.error, b.error_description].filter(Boolean).join(': ') || why;
      } catch {
        /* the raw text says it */
      }
      throw new ChannelError('auth', `eBay refused to renew the access token (${why}); reconnect the eBay account`, { status: res.status });
    }
    const t = res.json<{ access_token?: string; expires_in?: number }>();
    if (!t.access_token) throw new ChannelError('transient', 'eBay token answer without access_token');
    this.creds = {
      ...this.creds,
      access_token: t.access_token,
      access_expires_at: new Date(Date.now() + (t.expires_in ?? 7200) * 1000).toISOString(),
    };
    await this.save?.({ ...this.creds });
    return t.access_token;
  }

  /** One authenticated call; JSON body back (null when empty). Throws ChannelError. */
  async call(c: EbayCall): Promise<EbayAnswer> {
    const url = /^https?:\/\//.test(c.url) ? c.url : `${this.base}${c.url}`;
    // The user token goes to eBay's host only.
    if (new URL(url).origin !== new URL(this.base).origin) throw new ChannelError('permanent', `refusing to send the eBay token to ${new URL(url).origin}`);
    const send = async (token: string) =>
      httpCall(
        {
          method: c.method,
          url,
          headers: {
            authorization: `Bearer ${token}`,
            ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(c.language ? { 'content-language': c.language } : {}),
          },
          body: c.body,
          timeoutMs: this.timeoutMs,
        },
        [401, 429, ...READ_4XX, ...(c.okStatuses ?? [])],
      );
    let res = await send(await this.userToken());
    // An access token eBay no longer takes (revoked, clock skew): renew once and retry.
    if (res.status === 401) res = await send(await this.refresh());
    const where = `${c.method} ${new URL(url).pathname}`;
    const parsed = (): unknown => (res.text.trim() === '' ? null : res.json());
    if ((res.status >= 200 && res.status < 300) || c.okStatuses?.includes(res.status)) return { status: res.status, body: parsed() };
    const errors = errorsOf(res.text);
    const message = `eBay ${where} -> ${res.status}: ${describeErrors(errors, res.text.slice(0, 200))}`;
    if (res.status === 401) throw new ChannelError('auth', message, { status: 401 });
    if (res.status === 429 || errors?.some((e) => e.errorId === RATE_LIMITED)) {
      throw new ChannelError('rate_limited', message, { status: res.status, retryAfterMs: parseRetryAfter(res.headers['retry-after']) });
    }
    throw new ChannelError('permanent', message, { status: res.status });
  }
}
