/// <reference types="chrome" />
// The extension's own background code (extension/src/background/link.ts: Link, JobRunner, the
// Vinted client and jobs) run in Node instead of chromium, for suites that need many runs: Node 24
// has the WebSocket and fetch a service worker has, so only what the browser adds is shimmed here:
// - chrome.storage.local / .session (in memory), chrome.runtime.getManifest, chrome.permissions;
// - the seller's cookie jar: a fetch to the Vinted origin carries the session cookie, as the
//   browser sends it for a host permission (credentials 'omit' leaves it out, as Chrome does);
// - a tap on the extension's WebSocket, so a test can drop the socket from the client side and
//   meddle with what the extension sends (a result sent twice, an old read_sales answer repeated).
// One browser per process: the shims are globals, as chrome.* is in a real worker.
import fs from 'node:fs';
import path from 'node:path';
import { Link } from '../../extension/src/background/link.ts';

type Message = Record<string, unknown>;

export interface NodeBrowser {
  link: Link;
  /** Sets the cookie the browser holds for `origin` (the seller logged in there); null logs out. */
  setCookie(origin: string, cookie: string | null): void;
  /** Pastes the StockClerk URL and the token into the options page (what the page stores), and connects. */
  pair(stockclerkUrl: string, token: string): Promise<void>;
  /** The extension's open sockets (one, or none while it reconnects). */
  sockets(): WebSocket[];
  /** Closes the extension's socket from the client side, as a network drop or a sleeping laptop does; false when none was open. */
  dropSocket(): boolean;
  /**
   * Rewrites or multiplies what the extension sends: gets each outgoing message (and the kind of
   * the job a result answers) and returns the messages actually sent, in order.
   */
  tap: ((msg: Message, jobKind: string | null) => Message[]) | null;
  /** Unpairs (the socket closes, no reconnect) and forgets everything stored. */
  close(): Promise<void>;
}

function area(m: Map<string, unknown>): chrome.storage.StorageArea {
  const keysOf = (keys: unknown): string[] | null =>
    keys === null || keys === undefined ? null : typeof keys === 'string' ? [keys] : Array.isArray(keys) ? (keys as string[]) : Object.keys(keys as object);
  const a = {
    async get(keys?: unknown) {
      const ks = keysOf(keys);
      const out: Record<string, unknown> = {};
      for (const [k, v] of m) if (!ks || ks.includes(k)) out[k] = structuredClone(v);
      return out;
    },
    async set(items: Record<string, unknown>) {
      for (const [k, v] of Object.entries(items)) m.set(k, structuredClone(v));
    },
    async remove(keys: string | string[]) {
      for (const k of typeof keys === 'string' ? [keys] : keys) m.delete(k);
    },
    async clear() {
      m.clear();
    },
  };
  return a as unknown as chrome.storage.StorageArea;
}

let installed: NodeBrowser | null = null;

/** Installs the browser shims (once per process) and starts a fresh extension in them. */
export function startNodeBrowser(): NodeBrowser {
  if (installed) throw new Error('one Node browser at a time: close the previous one');
  const local = new Map<string, unknown>();
  const session = new Map<string, unknown>();
  const manifest = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, '../../extension/manifest.json'), 'utf8').replace(/^\s*\/\/.*$/gm, '')) as {
    version: string;
  };
  (globalThis as { chrome?: unknown }).chrome = {
    storage: { local: area(local), session: area(session) },
    runtime: { getManifest: () => manifest },
    // The manifest's host permissions cover loopback on any port (the emulator's origin).
    permissions: { contains: async () => true },
  };

  const jar = new Map<string, string>();
  const realFetch = (globalThis as { __realFetch?: typeof fetch }).__realFetch ?? globalThis.fetch;
  (globalThis as { __realFetch?: typeof fetch }).__realFetch = realFetch;
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const cookie = jar.get(new URL(url).origin);
    if (!cookie || init?.credentials === 'omit') return realFetch(input, init);
    const headers = new Headers(init?.headers);
    headers.set('cookie', cookie);
    return realFetch(input, { ...init, headers });
  }) as typeof fetch;

  const RealWebSocket = (globalThis as { __realWebSocket?: typeof WebSocket }).__realWebSocket ?? globalThis.WebSocket;
  (globalThis as { __realWebSocket?: typeof WebSocket }).__realWebSocket = RealWebSocket;
  const open = new Set<WebSocket>();
  class TappedWebSocket extends RealWebSocket {
    /** Job id -> kind, from the jobs this socket was sent (a result names only the job id). */
    private readonly kinds = new Map<string, string>();
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      open.add(this);
      this.addEventListener('message', (ev) => {
        try {
          const m = JSON.parse(String(ev.data)) as { type?: string; job?: { id: string; kind: string } };
          if (m.type === 'job' && m.job) this.kinds.set(m.job.id, m.job.kind);
        } catch {
          // not ours to judge: Link ignores it too
        }
      });
      this.addEventListener('close', () => open.delete(this));
    }
    override send(data: string | ArrayBufferLike | Blob | ArrayBufferView): void {
      if (!browser.tap || typeof data !== 'string') return super.send(data);
      const msg = JSON.parse(data) as Message;
      const kind = msg.type === 'result' ? (this.kinds.get(String(msg.job_id)) ?? null) : null;
      for (const m of browser.tap(msg, kind)) if (this.readyState === RealWebSocket.OPEN) super.send(JSON.stringify(m));
    }
  }
  globalThis.WebSocket = TappedWebSocket as typeof WebSocket;

  const link = new Link();
  const browser: NodeBrowser = {
    link,
    tap: null,
    setCookie(origin, cookie) {
      if (cookie) jar.set(origin, cookie);
      else jar.delete(origin);
    },
    async pair(stockclerkUrl, token) {
      await chrome.storage.local.set({ pairing: { url: new URL(stockclerkUrl).origin, token } });
      // What service-worker.ts does on storage.onChanged for the pairing.
      await link.repair();
    },
    sockets: () => [...open],
    dropSocket() {
      const ws = [...open].find((s) => s.readyState === RealWebSocket.OPEN);
      if (!ws) return false;
      ws.close(4000, 'dropped by the test');
      return true;
    },
    async close() {
      browser.tap = null;
      await chrome.storage.local.remove('pairing');
      await link.repair();
      local.clear();
      session.clear();
      jar.clear();
      globalThis.WebSocket = RealWebSocket;
      globalThis.fetch = realFetch;
      installed = null;
    },
  };
  installed = browser;
  return browser;
}
