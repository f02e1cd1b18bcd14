// One HTTP client for every adapter: keep-alive pool per origin, a hard timeout, and the
// mapping from HTTP outcomes to ChannelError kinds (auth / rate_limited / transient / permanent)
// that the Sync agent's retry policy is written against.
import { Agent, request } from 'undici';
import { ChannelError } from './contract.ts';
import { holdIfDry } from './dry-run.ts';
import { parsePlatformJson } from './json.ts';

const agent = new Agent({ keepAliveTimeout: 10_000, connections: 32, pipelining: 1 });

export interface HttpCall {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON unless a string or bytes (a multipart upload, with its content-type header) are given. */
  body?: unknown;
  timeoutMs?: number;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = unknown>(): T;
}

/** Retry-After in seconds or as an HTTP date -> milliseconds (null when absent or unreadable). */
export function parseRetryAfter(v: string | string[] | undefined, now = Date.now()): number | null {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return null;
  const secs = Number(s);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * Performs the call. Resolves for 2xx and for 4xx the caller may want to read (409/412/422/428);
 * throws ChannelError for auth failures, throttling, server errors, timeouts and network errors.
 */
export async function httpCall(call: HttpCall, okStatuses: number[] = []): Promise<HttpResult> {
  holdIfDry(call); // inside a dry run a write stops here, written down (src/channels/dry-run.ts)
  const timeout = call.timeoutMs ?? 10_000;
  const body = call.body === undefined ? undefined : typeof call.body === 'string' || call.body instanceof Uint8Array ? call.body : JSON.stringify(call.body);
  const headers: Record<string, string> = { accept: 'application/json', ...call.headers };
  if (body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  let res;
  try {
    res = await request(call.url, {
      method: call.method,
      headers,
      body,
      dispatcher: agent,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: AbortSignal.timeout(timeout),
    });
  } catch (err) {
    throw new ChannelError('transient', `${call.method} ${new URL(call.url).pathname}: ${(err as Error).message}`);
  }
  let text: string;
  try {
    text = await res.body.text();
  } catch (err) {
    throw new ChannelError('transient', `reading response: ${(err as Error).message}`, { status: res.statusCode });
  }
  const status = res.statusCode;
  const result: HttpResult = {
    status,
    headers: res.headers,
    text,
    json<T>() {
      try {
        return parsePlatformJson(text) as T;
      } catch {
        throw new ChannelError('transient', `unreadable JSON from ${new URL(call.url).pathname} (status ${status})`, { status });
      }
    },
  };
  if ((status >= 200 && status < 300) || okStatuses.includes(status)) return result;
  const where = `${call.method} ${new URL(call.url).pathname} -> ${status}`;
  if (status === 401 || status === 403) throw new ChannelError('auth', where, { status });
  if (status === 429) throw new ChannelError('rate_limited', where, { status, retryAfterMs: parseRetryAfter(res.headers['retry-after']) });
  if (status >= 500 || status === 408) throw new ChannelError('transient', where, { status });
  throw new ChannelError('permanent', `${where}: ${text.slice(0, 200)}`, { status });
}

export function basicAuth(user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}
