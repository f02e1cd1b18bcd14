// What the extension keeps, and where. The pairing (StockClerk URL + token) lives in
// chrome.storage.local: it must survive a browser restart. The connection's state lives in
// chrome.storage.session: it describes this browser session only, and the options page watches it
// (storage.onChanged) instead of asking the service worker, which may be asleep.

export interface Pairing {
  /** The StockClerk base URL the seller typed, normalised to its origin. */
  url: string;
  token: string;
}

export type Connection = 'unpaired' | 'connecting' | 'connected' | 'disconnected' | 'refused' | 'replaced';

export interface LinkState {
  connection: Connection;
  channel_name: string | null;
  marketplace_origin: string | null;
  /** The marketplace session as last checked: null = not checked yet. */
  logged_in: boolean | null;
  account: string | null;
  last_error: string | null;
  last_job: { id: string; kind: string; ok: boolean; at: string } | null;
  /** The last 8 characters of a token StockClerk refused: that token is not tried again. */
  refused_token: string | null;
  updated_at: string;
}

export const INITIAL_STATE: LinkState = {
  connection: 'unpaired',
  channel_name: null,
  marketplace_origin: null,
  logged_in: null,
  account: null,
  last_error: null,
  last_job: null,
  refused_token: null,
  updated_at: new Date(0).toISOString(),
};

export const tokenTail = (token: string) => token.slice(-8);

export async function loadPairing(): Promise<Pairing | null> {
  const { pairing } = await chrome.storage.local.get('pairing');
  const p = pairing as Partial<Pairing> | undefined;
  return p && typeof p.url === 'string' && typeof p.token === 'string' ? { url: p.url, token: p.token } : null;
}

export async function savePairing(p: Pairing | null): Promise<void> {
  if (p) await chrome.storage.local.set({ pairing: p });
  else await chrome.storage.local.remove('pairing');
}

export async function loadState(): Promise<LinkState> {
  const { state } = await chrome.storage.session.get('state');
  return { ...INITIAL_STATE, ...(state as Partial<LinkState> | undefined) };
}

let writes: Promise<unknown> = Promise.resolve();
/** Merges `patch` into the stored state. One writer (the service worker), one write at a time: two merges never race. */
export function patchState(patch: Partial<LinkState>): Promise<LinkState> {
  const next = writes.then(async () => {
    const merged = { ...(await loadState()), ...patch, updated_at: new Date().toISOString() };
    await chrome.storage.session.set({ state: merged });
    return merged;
  });
  writes = next.catch(() => undefined);
  return next;
}

/** Messages the options page sends the service worker. */
export type PageRequest = { type: 'check-session' } | { type: 'reconnect' };
