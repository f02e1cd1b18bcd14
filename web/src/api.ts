// The only way the dashboard talks to StockClerk: /api/v1 with the Bearer access token from login.
// Access tokens last 15 minutes: a call refused with 401 trades the refresh token for a new pair
// (once, then retries the call); when that fails too the session is over and the dashboard logs out.
// Remembers each resource's ETag from its GET so PATCH / DELETE can send If-Match.
// What each path takes and answers comes from the SDK's schema, generated from the served OpenAPI
// document (sdk/src/schema.d.ts, `npm run sdk:generate`): a field the API renames or drops breaks
// the dashboard's typecheck instead of showing up blank on a page.
import type { components, paths } from '../../sdk/src/schema.d.ts';

const TOKEN_KEY = 'stockclerk.token';
const REFRESH_KEY = 'stockclerk.refresh';
const etags = new Map<string, string>();

export class ApiError extends Error {
  status: number;
  code: string;
  details: unknown;
  constructor(status: number, code: string, message: string, details: unknown = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// An operator looking at a tenant (impersonation) holds that tenant's token in this tab only
// (sessionStorage): their own session, in localStorage, stays as it was in every other tab and
// comes back when the impersonation ends. The token cannot be refreshed; when it expires, it ends.
const IMPERSONATION_KEY = 'stockclerk.impersonation';
const IMPERSONATION_RETURN_KEY = 'stockclerk.impersonation.return';

export function getToken(): string | null {
  return sessionStorage.getItem(IMPERSONATION_KEY) ?? localStorage.getItem(TOKEN_KEY);
}

export const impersonating = () => sessionStorage.getItem(IMPERSONATION_KEY) !== null;

/** This tab becomes the tenant's dashboard as its users see it; `back` is where ending returns to. */
export function startImpersonating(token: string, back: string): void {
  sessionStorage.setItem(IMPERSONATION_KEY, token);
  sessionStorage.setItem(IMPERSONATION_RETURN_KEY, back);
  etags.clear();
  for (const fn of listeners) fn();
  window.location.assign('/');
}

/** Ends the impersonation (on the server too, best effort) and returns to the console. */
export async function stopImpersonating(impersonationId: string | null): Promise<void> {
  const token = sessionStorage.getItem(IMPERSONATION_KEY);
  const back = sessionStorage.getItem(IMPERSONATION_RETURN_KEY) ?? '/admin';
  if (token && impersonationId) {
    await fetch(`/api/v1/impersonations/${encodeURIComponent(impersonationId)}`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } }).catch(
      () => undefined,
    );
  }
  sessionStorage.removeItem(IMPERSONATION_KEY);
  sessionStorage.removeItem(IMPERSONATION_RETURN_KEY);
  etags.clear();
  for (const fn of listeners) fn();
  window.location.assign(back);
}

const listeners = new Set<() => void>();
export function onAuthChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Logged in (a new pair from login or sign-up) or out (null). */
export function setSession(pair: { access_token: string; refresh_token: string } | null): void {
  if (!pair && impersonating()) {
    // The impersonation ended (expired, or ended by the merchant): back to the operator's own session.
    sessionStorage.removeItem(IMPERSONATION_KEY);
    etags.clear();
    for (const fn of listeners) fn();
    return;
  }
  if (pair) {
    localStorage.setItem(TOKEN_KEY, pair.access_token);
    localStorage.setItem(REFRESH_KEY, pair.refresh_token);
  } else {
    localStorage.removeItem(TOKEN_KEY);
    localStorage.removeItem(REFRESH_KEY);
  }
  etags.clear();
  for (const fn of listeners) fn();
}

let refreshing: Promise<boolean> | null = null;

/**
 * Trades the refresh token for a new pair; false when the session is over. `stale` is the access
 * token that was refused: if another call or tab already replaced it, there is nothing to do.
 * Refresh tokens work once, and a second use ends the session, so two tabs must never refresh at
 * the same time: the Web Locks API makes them take turns (one lock across the browser's tabs).
 */
export function refreshSession(stale: string | null): Promise<boolean> {
  const run = async (): Promise<boolean> => {
    const current = getToken();
    if (current && current !== stale) return true;
    const refresh = localStorage.getItem(REFRESH_KEY);
    if (!refresh) return false;
    let res: Response;
    try {
      res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: refresh }),
      });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach StockClerk. Check your connection and try again.');
    }
    if (!res.ok) return false;
    const pair = (await res.json()) as { access_token: string; refresh_token: string };
    // Quietly: the same user goes on (no auth-change listeners, which would reset the app).
    localStorage.setItem(TOKEN_KEY, pair.access_token);
    localStorage.setItem(REFRESH_KEY, pair.refresh_token);
    return true;
  };
  if (!refreshing) {
    const locked: Promise<boolean> =
      typeof navigator !== 'undefined' && navigator.locks ? navigator.locks.request('stockclerk.refresh', run).then((r) => r) : run();
    refreshing = locked.finally(() => (refreshing = null));
  }
  return refreshing;
}

/** Ends the session on the server (best effort: offline, the tokens are forgotten all the same). */
export async function logout(): Promise<void> {
  const token = getToken();
  const refresh = localStorage.getItem(REFRESH_KEY);
  setSession(null);
  if (!token) return;
  await fetch('/api/v1/auth/logout', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(refresh ? { refresh_token: refresh } : {}),
  }).catch(() => undefined);
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function qs(query: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * One call to /api/v1`path` (a concrete path, query string included), answering the parsed JSON.
 * Untyped: T is whatever the caller says. Prefer api.get / api.post / api.patch / api.delete below,
 * whose paths, parameters, bodies and answers come from the schema.
 */
async function request<T = unknown>(method: string, path: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  // A Blob (an uploaded file) goes as its own bytes and type; anything else as JSON.
  const raw = typeof Blob !== 'undefined' && body instanceof Blob;
  if (body !== undefined) headers['content-type'] = raw ? body.type || 'application/octet-stream' : 'application/json';
  const bare = path.split('?')[0]!;
  if (method === 'PATCH' || method === 'DELETE') {
    // Optimistic concurrency: send the ETag of the version we saw; if we never read this one
    // resource on its own, read it now (a server that sends no ETag gets no If-Match).
    if (!etags.has(bare)) await request('GET', bare).catch(() => undefined);
    if (etags.has(bare)) headers['if-match'] = etags.get(bare)!;
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : raw ? body : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach StockClerk. Check your connection and try again.');
  }
  const etag = res.headers.get('etag');
  if (etag && method === 'GET') etags.set(bare, etag);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = (json as Partial<Schema<'Error'>> | null)?.error;
    if (res.status === 401 && token && !path.startsWith('/auth/')) {
      if (!retried && !impersonating() && (await refreshSession(token))) return request<T>(method, path, body, true);
      setSession(null);
    }
    if (res.status === 412) {
      etags.delete(bare);
      throw new ApiError(412, 'precondition_failed', 'This changed since you opened it. Check the new values and save again.', e?.details ?? null);
    }
    throw new ApiError(res.status, e?.code ?? 'http_error', e?.message ?? `Request failed (${res.status})`, e?.details ?? null);
  }
  if (etag && method !== 'GET') etags.set(bare, etag);
  return json as T;
}

/** A readable sentence for an error, with field details when the API gave them. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) {
    const d = Array.isArray(err.details) ? (err.details as Array<{ path?: string; message?: string }>) : [];
    const fields = d.map((x) => (x.path ? `${x.path.replace(/_/g, ' ')}: ${x.message}` : x.message)).filter(Boolean);
    return fields.length ? `${err.message}. ${fields.join('; ')}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** A named shape of the API: Schema<'Item'>, Schema<'Alert'> ... */
export type Schema<K extends keyof components['schemas']> = components['schemas'][K];

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
/** The API's paths as the dashboard writes them (without /api/v1), path parameters in braces. */
type Routes = { [P in keyof paths as P extends `/api/v1${infer R}` ? R : never]: paths[P] };
/** The paths that answer a method (the generated schema marks the others `?: never`). */
export type PathOf<M extends Method> = { [P in keyof Routes]: Routes[P] extends Record<M, object> ? P : never }[keyof Routes];
type Op<P extends keyof Routes, M extends Method> = Routes[P] extends Record<M, infer O> ? O : never;

type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : undefined;
type Success<R> = 200 extends keyof R ? R[200] : 201 extends keyof R ? R[201] : 202 extends keyof R ? R[202] : undefined;
/** The JSON a successful call answers (undefined for 204 No Content). */
export type Answer<P extends PathOf<M>, M extends Method = 'get'> = Op<P, M> extends { responses: infer R } ? JsonOf<Success<R>> : never;
/** The query parameters a path takes. */
export type QueryOf<P extends PathOf<M>, M extends Method = 'get'> = Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;
/** The JSON body a path takes. */
export type BodyOf<P extends PathOf<M>, M extends Method> = Op<P, M> extends { requestBody: { content: { 'application/json': infer B } } } ? B : never;

// What a call passes besides the path: `path` fills the {braces}, `query` becomes the query string
// (empty strings and nulls left out), `body` is sent as JSON. If-Match is added by request().
type PathPart<O> = O extends { parameters: { path: infer A } } ? { path: A } : { path?: undefined };
type QueryPart<O> = O extends { parameters: { query?: infer Q } } ? ([NonNullable<Q>] extends [never] ? unknown : { query?: Q }) : unknown;
type BodyPart<O> = O extends { requestBody: { content: { 'application/json': infer B } } }
  ? { body: B }
  : O extends { requestBody?: { content: { 'application/json': infer B } } }
    ? { body?: B }
    : unknown;
type Init<O> = PathPart<O> & QueryPart<O> & BodyPart<O>;
// The init argument may be left out when nothing in it is required.
type Args<O> = object extends Init<O> ? [init?: Init<O>] : [init: Init<O>];

function call(method: string, path: string, init: { path?: Record<string, string | number>; query?: Query; body?: unknown } = {}) {
  const url = path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(String(init.path?.[name] ?? '')));
  return request(method, url + qs(init.query), init.body);
}

/**
 * The API, typed from the schema: `api.get('/items/{id}', { path: { id } })` answers an ItemDetail;
 * `api.post('/adjustments', { body })` checks the body. `api(method, path, body)` is the untyped call.
 */
export const api = Object.assign(request, {
  get: <P extends PathOf<'get'>>(path: P, ...[init]: Args<Op<P, 'get'>>) => call('GET', path, init as never) as Promise<Answer<P, 'get'>>,
  post: <P extends PathOf<'post'>>(path: P, ...[init]: Args<Op<P, 'post'>>) => call('POST', path, init as never) as Promise<Answer<P, 'post'>>,
  put: <P extends PathOf<'put'>>(path: P, ...[init]: Args<Op<P, 'put'>>) => call('PUT', path, init as never) as Promise<Answer<P, 'put'>>,
  patch: <P extends PathOf<'patch'>>(path: P, ...[init]: Args<Op<P, 'patch'>>) => call('PATCH', path, init as never) as Promise<Answer<P, 'patch'>>,
  delete: <P extends PathOf<'delete'>>(path: P, ...[init]: Args<Op<P, 'delete'>>) => call('DELETE', path, init as never) as Promise<Answer<P, 'delete'>>,
  /**
   * A POST whose body is a file's raw bytes, sent with the file's own Content-Type (product
   * images: the API reads what they are from the bytes). Path and query are typed like `post`.
   */
  upload: <P extends PathOf<'post'>>(path: P, file: Blob, ...[init]: Args<Op<P, 'post'>>) =>
    call('POST', path, { ...(init as object), body: file }) as Promise<Answer<P, 'post'>>,
});
