// The only way the dashboard talks to StockClerk: /api/v1 with the Bearer token from login.
// Remembers each resource's ETag from its GET so PATCH / DELETE can send If-Match.

const TOKEN_KEY = 'stockclerk.token';
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

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

const listeners = new Set<() => void>();
export function onAuthChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  etags.clear();
  for (const fn of listeners) fn();
}

type Query = Record<string, string | number | boolean | null | undefined>;

export function qs(query: Query = {}): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const bare = path.split('?')[0]!;
  if (method === 'PATCH' || method === 'DELETE') {
    // Optimistic concurrency: send the ETag of the version we saw; if we never read this one
    // resource on its own, read it now (a server that sends no ETag gets no If-Match).
    if (!etags.has(bare)) await api('GET', bare).catch(() => undefined);
    if (etags.has(bare)) headers['if-match'] = etags.get(bare)!;
  }
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'Cannot reach StockClerk. Check your connection and try again.');
  }
  const etag = res.headers.get('etag');
  if (etag && method === 'GET') etags.set(bare, etag);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = json?.error;
    if (res.status === 401 && token && !path.startsWith('/auth/')) setToken(null);
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

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}
