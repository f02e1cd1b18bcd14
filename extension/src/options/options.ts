// The options page: the seller pastes the StockClerk address and an extension token, and sees
// the connection's state as the service worker writes it to chrome.storage.session (watched, so
// the page follows a revoke or a Vinted logout without reloading).
import { loadPairing, loadState, savePairing, type LinkState, type PageRequest, type Pairing } from '../storage.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('pairing');
const urlInput = $<HTMLInputElement>('url');
const tokenInput = $<HTMLInputElement>('token');
const formError = $<HTMLParagraphElement>('form-error');
/** The pairing as stored, read at load and kept current: Save with the token field empty keeps its token. */
let saved: Pairing | null = null;

const CONNECTION_TEXT: Record<LinkState['connection'], string> = {
  unpaired: 'Not paired',
  connecting: 'Connecting…',
  connected: 'Connected',
  disconnected: 'Disconnected: trying again',
  refused: 'Refused: the token was revoked or is unknown. Issue a new one in StockClerk and pair again.',
  replaced: 'Another browser is connected for this channel',
};

function show(s: LinkState): void {
  const conn = $('connection');
  conn.textContent = CONNECTION_TEXT[s.connection];
  conn.dataset.state = s.connection;
  $('channel').textContent = s.channel_name ? `${s.channel_name} (${s.marketplace_origin ?? '?'})` : '—';
  const mk = $('marketplace');
  mk.dataset.loggedIn = s.logged_in === null ? '' : String(s.logged_in);
  mk.textContent =
    s.logged_in === null
      ? s.connection === 'connected'
        ? 'Checking…'
        : '—'
      : s.logged_in
        ? `Logged in as ${s.account ?? '?'}`
        : `Not logged in: log in at ${s.marketplace_origin ?? 'Vinted'} in this browser`;
  $('last-job').textContent = s.last_job ? `${s.last_job.kind} ${s.last_job.ok ? 'done' : 'failed'} at ${new Date(s.last_job.at).toLocaleTimeString()}` : '—';
  $('last-error').textContent = s.last_error ?? '—';
}

/** The StockClerk origin the seller typed (a path, if any, is dropped: the socket is at /api/v1). */
function stockclerkOrigin(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    throw new Error('Enter the full StockClerk address, starting with https://');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('The StockClerk address must start with https:// (or http:// on this computer)');
  return u.origin;
}

function showSaved(): void {
  tokenInput.value = '';
  tokenInput.required = !saved;
  tokenInput.placeholder = saved ? `saved (…${saved.token.slice(-4)}): paste a new token to replace it` : 'sce_… (from the channel page in StockClerk)';
  if (saved) urlInput.value = saved.url;
}

function fail(msg: string | null): void {
  formError.textContent = msg ?? '';
  formError.hidden = !msg;
}

form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  fail(null);
  let origin: string;
  try {
    origin = stockclerkOrigin(urlInput.value);
  } catch (err) {
    return fail((err as Error).message);
  }
  const token = tokenInput.value.trim() || saved?.token || '';
  if (!/^sce_[A-Za-z0-9_-]{20,}$/.test(token)) return fail('The token starts with sce_: copy it from the channel page in StockClerk');
  // Asked while the click is still a user gesture: Chrome grants host permissions only then.
  // Loopback and the Vinted sites are granted at install, so this resolves without a prompt for them.
  void chrome.permissions
    .request({ origins: [`${origin}/*`] })
    .then(async (granted) => {
      if (!granted) return fail(`The extension needs your permission to reach ${origin} (it downloads the photos from there)`);
      const before = saved;
      saved = { url: origin, token };
      await savePairing(saved);
      showSaved();
      // The same pairing saved again changes no storage: ask the worker to reconnect.
      if (before?.url === origin && before.token === token) await chrome.runtime.sendMessage({ type: 'reconnect' } satisfies PageRequest);
    })
    .catch((err: Error) => fail(err.message));
});

$('unpair').addEventListener('click', () => {
  fail(null);
  saved = null;
  showSaved();
  void savePairing(null);
});

$('check').addEventListener('click', () => void chrome.runtime.sendMessage({ type: 'check-session' } satisfies PageRequest));

chrome.storage.session.onChanged.addListener((changes) => {
  if (changes.state?.newValue) void loadState().then(show);
});

void (async () => {
  saved = await loadPairing();
  showSaved();
  show(await loadState());
})();
