// Square's REST API as the adapter calls it (channel-apis.md section 4): Bearer access token,
// `Square-Version` on every call, JSON bodies, and Square's error body
// `{errors: [{category, code, detail, field}]}` mapped to ChannelError kinds by its code, not by
// its text. OAuth token renewal (POST /oauth2/token) lives here too, so the adapter and the
// consent flow (auth.ts) share it.
import { trimBase } from '../adapter-kit.ts';
import { ChannelError, type ChannelConnection } from '../contract.ts';
import { httpCall, parseRetryAfter, type HttpResult } from '../http-client.ts';
import { RenewableTokens } from '../renewable-tokens.ts';

/**
 * The API version we are written against, sent as `Square-Version` (Square pins every call to the
 * version named there, else to the application's default). GUESS: the exact date is ours; the
 * fields we use (counts, physical counts, catalog list, locations) are stable across versions.
 */
export const SQUARE_VERSION = '2025-01-23';

/** One entry of Square's `errors` array. */
export interface SquareError {
  category?: string;
  code?: string;
  detail?: string;
  field?: string;
}

const AUTH_CODES = new Set([
  'UNAUTHORIZED',
  'ACCESS_TOKEN_EXPIRED',
  'ACCESS_TOKEN_REVOKED',
  'CLIENT_DISABLED',
  'FORBIDDEN',
  'INSUFFICIENT_SCOPES',
  'APPLICATION_DISABLED',
  'V1_APPLICATION',
  'V1_ACCESS_TOKEN',
]);
const TRANSIENT_CODES = new Set(['INTERNAL_SERVER_ERROR', 'SERVICE_UNAVAILABLE', 'GATEWAY_TIMEOUT', 'REQUEST_TIMEOUT']);

/** The `errors` array of a Square answer (empty when none or unreadable). */
export function squareErrors(res: Pick<HttpResult, 'text'> & { json<T>(): T }): SquareError[] {
  if (!res.text) return [];
  try {
    const body = res.json<{ errors?: unknown }>();
    return Array.isArray(body?.errors) ? (body.errors as SquareError[]) : [];
  } catch {
    return [];
  }
}

/** A failed Square answer as a ChannelError: the first error's code decides (Square's status matches the first error). */
export function squareChannelError(where: string, status: number, errors: SquareError[], retryAfter?: string | string[]): ChannelError {
  const first = errors[0];
  const code = first?.code ?? '';
  const text = `${where} -> ${status}${code ? ` ${code}` : ''}${first?.detail ? `: ${first.detail.slice(0, 200)}` : ''}`;
  if (code === 'RATE_LIMITED' || first?.category === 'RATE_LIMIT_ERROR' || status === 429)
    return new ChannelError('rate_limited', text, { status, retryAfterMs: parseRetryAfter(retryAfter) });
  if (AUTH_CODES.has(code) || first?.category === 'AUTHENTICATION_ERROR' || status === 401 || status === 403) return new ChannelError('auth', text, { status });
  if (TRANSIENT_CODES.has(code) || status >= 500 || status === 408) return new ChannelError('transient', text, { status });
  return new ChannelError('permanent', text, { status });
}

const CLIENT_ERRORS = Array.from({ length: 100 }, (_, i) => 400 + i);

export interface SquareCall {
  method: 'GET' | 'POST';
  path: string;
  body?: unknown;
}

/** Renew this long before the recorded expiry: access tokens live 30 days, renewal is cheap. */
const RENEW_MARGIN_MS = 24 * 3600_000;

/** POST /oauth2/token: a code or a refresh token exchanged for an access token (code flow: with the app secret). */
export async function obtainToken(
  baseUrl: string,
  body: {
    client_id: string;
    client_secret: string;
    grant_type: 'authorization_code' | 'refresh_token';
    code?: string;
    refresh_token?: string;
    redirect_uri?: string;
  },
  timeoutMs = 10_000,
): Promise<{ access_token: string; refresh_token: string; access_expires_at: string; merchant_id: string }> {
  const res = await httpCall(
    { method: 'POST', url: `${trimBase(baseUrl)}/oauth2/token`, headers: { 'square-version': SQUARE_VERSION }, body, timeoutMs },
    CLIENT_ERRORS,
  );
  if (res.status >= 400) {
    const err = squareChannelError('POST /oauth2/token', res.status, squareErrors(res), res.headers['retry-after']);
    // A refused code or refresh token is the merchant's consent gone: auth, whatever the status.
    throw res.status === 400 || res.status === 401 ? new ChannelError('auth', err.message, { status: res.status }) : err;
  }
  const t = res.json<{ access_token?: string; refresh_token?: string; expires_at?: string; merchant_id?: string }>();
  if (!t.access_token) throw new ChannelError('transient', 'POST /oauth2/token: no access_token in the answer');
  return {
    access_token: t.access_token,
    // Code flow: a refresh answers with the same refresh token it was given.
    refresh_token: t.refresh_token ?? body.refresh_token ?? '',
    access_expires_at: t.expires_at ? new Date(t.expires_at).toISOString() : '',
    merchant_id: t.merchant_id ?? '',
  };
}

/** One seller's Square API: every call authenticated, versioned and error-mapped. */
export class SquareClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  /** Present for OAuth channels (a refresh token and the app's keys): renews the access token. */
  private readonly tokens: RenewableTokens | null;
  private readonly fixedToken: string;

  constructor(conn: Pick<ChannelConnection, 'baseUrl' | 'credentials' | 'saveCredentials' | 'loadCredentials'>, timeoutMs: number) {
    this.base = trimBase(conn.baseUrl);
    this.timeoutMs = timeoutMs;
    const c = conn.credentials;
    this.fixedToken = c.access_token ?? '';
    this.tokens =
      c.refresh_token && c.client_id && c.client_secret
        ? new RenewableTokens(conn, {
            marginMs: RENEW_MARGIN_MS,
            renew: async (creds) => {
              const t = await obtainToken(
                this.base,
                {
                  client_id: creds.client_id ?? '',
                  client_secret: creds.client_secret ?? '',
                  grant_type: 'refresh_token',
                  refresh_token: creds.refresh_token ?? '',
                },
                this.timeoutMs,
              );
              return { access_token: t.access_token, refresh_token: t.refresh_token, access_expires_at: t.access_expires_at };
            },
          })
        : null;
  }

  private token(): string {
    return this.tokens ? (this.tokens.creds.access_token ?? '') : this.fixedToken;
  }

  /** Sends the call; resolves with the parsed answer of a 2xx, throws ChannelError otherwise. */
  async call<T>(c: SquareCall): Promise<T> {
    const r = await this.raw(c);
    if (r.status >= 400) throw squareChannelError(`${c.method} ${c.path.split('?')[0]}`, r.status, r.errors, r.retryAfter);
    return r.body as T;
  }

  /** Sends the call; 4xx answers come back with their errors (callers that act on a code: IDEMPOTENCY_KEY_REUSED). */
  async raw(c: SquareCall, retried = false): Promise<{ status: number; body: unknown; errors: SquareError[]; retryAfter?: string | string[] }> {
    await this.tokens?.ready();
    const used = this.token();
    const res = await httpCall(
      {
        method: c.method,
        url: `${this.base}${c.path}`,
        headers: { authorization: `Bearer ${used}`, 'square-version': SQUARE_VERSION },
        body: c.body,
        timeoutMs: this.timeoutMs,
      },
      CLIENT_ERRORS,
    );
    if (res.status < 400) return { status: res.status, body: res.text ? res.json() : {}, errors: squareErrors(res) };
    const errors = squareErrors(res);
    // An OAuth token refused as expired (early, or our clock is off): renew once and send again.
    if (this.tokens && !retried && errors[0]?.code === 'ACCESS_TOKEN_EXPIRED' && this.token() === used) {
      await this.tokens.refresh();
      return this.raw(c, true);
    }
    return { status: res.status, body: null, errors, retryAfter: res.headers['retry-after'] };
  }
}
