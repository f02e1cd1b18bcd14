// The extension talks to two origins only: the StockClerk it was paired with and the marketplace
// origin that StockClerk's welcome named (docs/extension-protocol.md). Every network call goes
// through guardedFetch, so a job payload carrying some other URL (a photo link pointing elsewhere,
// a tampered item URL) is refused here instead of being fetched with the seller's cookies.

export class OriginRefused extends Error {
  constructor(url: string) {
    super(`refused: ${safeOrigin(url) ?? 'an unreadable URL'} is neither the paired StockClerk nor the paired marketplace`);
    this.name = 'OriginRefused';
  }
}

function safeOrigin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** The origin of a URL as the guard compares it ("null" for data:, blob: and the like). */
export function originOf(url: string): string | null {
  const o = safeOrigin(url);
  return o && o !== 'null' ? o : null;
}

/** Whether `url` may be called: its origin (scheme, host, port) equals one of `allowed` exactly. */
export function isAllowed(url: string, allowed: Iterable<string | null | undefined>): boolean {
  const o = originOf(url);
  if (!o) return false;
  for (const a of allowed) if (a && originOf(a) === o) return true;
  return false;
}

/** The WebSocket URL of a StockClerk base URL (http -> ws, https -> wss), only for http(s) origins. */
export function socketUrl(stockclerk: string): string {
  const u = new URL('/api/v1/extension/socket', stockclerk);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('The StockClerk URL must start with http:// or https://');
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.toString();
}

export type Fetch = (url: string, init?: RequestInit) => Promise<Response>;

/**
 * A fetch that refuses every origin but the allowed ones, read at call time (the marketplace
 * origin arrives with the welcome; unpairing empties the list). Cookies go along (`include`):
 * the marketplace session is the seller's own.
 */
export function guardedFetch(allowed: () => Array<string | null | undefined>, inner: Fetch = (u, i) => fetch(u, i)): Fetch {
  return (url, init) => {
    if (!isAllowed(url, allowed())) return Promise.reject(new OriginRefused(url));
    return inner(url, { credentials: 'include', redirect: 'manual', ...init });
  };
}
