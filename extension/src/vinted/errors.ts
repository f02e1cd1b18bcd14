// How Vinted's answers become the protocol's error kinds (docs/extension-protocol.md): StockClerk
// decides from the kind whether to wait for the seller (session), retry later (throttled,
// network) or stop and tell a merchant (rejected, not_found). Pure: tested without a browser.
import { JobFailure } from '../protocol.ts';

/** When Vinted throttles without saying for how long: long enough for a DataDome window to pass (GUESS). */
export const DEFAULT_RETRY_AFTER_MS = 60_000;

/** Retry-After in seconds or as an HTTP date, in milliseconds from `now`; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  const s = header.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** The message Vinted's body gives, if any: `{message}`, `{errors:[{field, value}]}` or a captcha `{url}`. */
export function vintedMessage(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  const b = body as { message?: unknown; message_code?: unknown; errors?: unknown };
  const parts: string[] = [];
  if (typeof b.message === 'string' && b.message) parts.push(b.message);
  if (Array.isArray(b.errors))
    for (const e of b.errors as Array<Record<string, unknown>>) {
      const field = typeof e.field === 'string' ? e.field : null;
      const value = typeof e.value === 'string' ? e.value : typeof e.message === 'string' ? e.message : null;
      if (field || value) parts.push([field, value].filter(Boolean).join(': '));
    }
  return parts.length ? parts.join('; ') : null;
}

export interface VintedAnswer {
  status: number;
  /** The response type: an `opaqueredirect` (status 0) is a redirect we did not follow. */
  type?: string;
  body: unknown;
  retryAfter: string | null;
}

/** The failure an answer stands for, or null when it is a success (2xx). */
export function failureOf(a: VintedAnswer, what: string, now = Date.now()): JobFailure | null {
  if (a.status >= 200 && a.status < 300) return null;
  const said = vintedMessage(a.body);
  const code = a.body && typeof a.body === 'object' ? (a.body as { code?: unknown }).code : undefined;
  if (a.type === 'opaqueredirect' || a.status === 0)
    // Vinted sends a logged-out browser to its login page: a redirect is a session to renew.
    return new JobFailure('session', `Vinted redirected ${what} (logged out?)`);
  if (a.status === 429) {
    const wait = retryAfterMs(a.retryAfter, now) ?? DEFAULT_RETRY_AFTER_MS;
    return new JobFailure('throttled', `Vinted is limiting requests (${what}): retry in ${Math.ceil(wait / 1000)} s`, wait);
  }
  if (a.status === 401) {
    // code 100: no session; code 106: a stale CSRF token (the client refreshes it and asks once more
    // before this is reached). Either way the seller's session needs them.
    const why = code === 106 ? 'the CSRF token was refused' : 'not logged in to Vinted';
    return new JobFailure('session', `${what}: ${why}${said ? ` (${said})` : ''}`);
  }
  // DataDome answers a blocked browser with 403 and a captcha URL: the same as a throttle (GUESS).
  if (a.status === 403 && a.body && typeof a.body === 'object' && typeof (a.body as { url?: unknown }).url === 'string')
    return new JobFailure('throttled', `Vinted asks for a captcha (${what}): solve it in a Vinted tab`, DEFAULT_RETRY_AFTER_MS);
  if (a.status === 404) return new JobFailure('not_found', `${what}: not found on Vinted${said ? ` (${said})` : ''}`);
  if (a.status >= 400 && a.status < 500) return new JobFailure('rejected', `Vinted refused ${what} (${a.status})${said ? `: ${said}` : ''}`);
  return new JobFailure('network', `Vinted answered ${a.status} to ${what}${said ? `: ${said}` : ''}`);
}

/** A thrown fetch (DNS, refused connection, offline, CORS) or anything unexpected, as a job failure. */
export function failureOfThrown(err: unknown, what: string): JobFailure {
  if (err instanceof JobFailure) return err;
  const msg = err instanceof Error ? err.message : String(err);
  // The origin guard's refusal is not a network blip: retrying cannot change it.
  if (err instanceof Error && err.name === 'OriginRefused') return new JobFailure('rejected', `${what}: ${msg}`);
  return new JobFailure('network', `${what}: ${msg}`);
}
