// Live events: one WebSocket to /api/v1/stream?token=, reconnecting with backoff. Events update
// the cached queries (so open pages change without a reload) and feed subscribers (the live feed).
import type { QueryClient } from '@tanstack/react-query';
import { getToken, refreshSession, setSession, type Answer } from './api.ts';

/**
 * A live frame. The stream is not in the OpenAPI document (it is a WebSocket), so its frames are
 * typed here: each type's data is read defensively (Array.isArray) before use.
 */
export interface StreamEvent {
  type: string;
  data: { events?: unknown; levels?: unknown; [k: string]: unknown } | null;
}

/** An event and when it arrived (ISO time). */
type Subscriber = (e: StreamEvent, receivedAt: string) => void;
const subscribers = new Set<Subscriber>();
// The last events, handed to a subscriber that arrives late: a page whose chunk was still loading
// when a sale came in shows it anyway.
const RECENT = 50;
const recent: Array<[StreamEvent, string]> = [];

/** Every event from now on; first, those of the last few already received that `replay` picks. */
export function subscribe(fn: Subscriber, opts: { replay?: (e: StreamEvent) => boolean } = {}): () => void {
  if (opts.replay) for (const [e, at] of recent) if (opts.replay(e)) fn(e, at);
  subscribers.add(fn);
  return () => subscribers.delete(fn);
}

let status: 'connecting' | 'live' | 'offline' = 'offline';
const statusListeners = new Set<() => void>();
export const streamStatus = {
  get: () => status,
  subscribe(fn: () => void) {
    statusListeners.add(fn);
    return () => statusListeners.delete(fn);
  },
};
function setStatus(s: typeof status) {
  status = s;
  for (const fn of statusListeners) fn();
}

/** Coalesces invalidations: a burst of events refetches each query family at most every 300 ms. */
function invalidator(qc: QueryClient) {
  const pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  return (...keys: string[]) => {
    for (const k of keys) pending.add(k);
    timer ??= setTimeout(() => {
      timer = null;
      const ks = [...pending];
      pending.clear();
      for (const k of ks) void qc.invalidateQueries({ queryKey: [k] });
    }, 150);
  };
}

export function connectStream(qc: QueryClient): () => void {
  let ws: WebSocket | null = null;
  let stopped = false;
  let retry = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const invalidate = invalidator(qc);

  const open = () => {
    const token = getToken();
    if (!token || stopped) return;
    setStatus('connecting');
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${proto}://${location.host}/api/v1/stream?token=${encodeURIComponent(token)}`);
    ws.onmessage = (m) => {
      let e: StreamEvent;
      try {
        e = JSON.parse(m.data as string);
      } catch {
        return;
      }
      if (e.type === 'hello') {
        retry = 0;
        setStatus('live');
        // Anything may have changed while we were away.
        invalidate('items', 'item', 'overview', 'alerts', 'sync-events', 'agents', 'listings', 'movements', 'products');
        return;
      }
      if (e.type === 'stock.changed' && Array.isArray(e.data?.levels)) patchItemRows(qc, e.data.levels);
      if (e.type === 'stock.changed') invalidate('items', 'item', 'movements', 'overview', 'agents', 'listings', 'products');
      else if (e.type === 'sync.events') invalidate('sync-events', 'overview', 'agents', 'listings', 'items', 'item', 'channels');
      else if (e.type.startsWith('alert.')) invalidate('alerts', 'overview', 'agents');
      const at = new Date().toISOString();
      recent.push([e, at]);
      if (recent.length > RECENT) recent.shift();
      for (const fn of subscribers) fn(e, at);
    };
    ws.onclose = (ev) => {
      setStatus('offline');
      ws = null;
      if (stopped) return;
      if (ev.code === 4401) {
        // The access token expired (or the session ended): a fresh one reconnects at once; none, and
        // the session is over.
        refreshSession(token).then(
          (ok) => (ok ? open() : setSession(null)),
          () => (timer = setTimeout(open, Math.min(10_000, 500 * 2 ** retry++))),
        );
        return;
      }
      timer = setTimeout(open, Math.min(10_000, 500 * 2 ** retry++));
    };
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    ws?.close();
    setStatus('offline');
  };
}

interface Level {
  item_id: string;
  location_id: string;
  on_hand: number;
  reserved: number;
}
type RowsPage = Answer<'/item-rows'>;

/** Writes announced levels straight into the cached Items rows, so the row changes before the refetch returns. */
function patchItemRows(qc: QueryClient, levels: Level[]): void {
  const byItem = new Map<string, Level[]>();
  for (const l of levels) byItem.set(l.item_id, [...(byItem.get(l.item_id) ?? []), l]);
  qc.setQueriesData<{ pages: RowsPage[]; pageParams: unknown[] }>({ queryKey: ['items', 'rows'] }, (old) => {
    if (!old?.pages) return old;
    let changed = false;
    const pages = old.pages.map((p) => ({
      ...p,
      data: p.data.map((row) => {
        const news = byItem.get(row.id);
        if (!news) return row;
        changed = true;
        const lv = new Map(row.levels.map((x) => [x.location_id, x]));
        for (const n of news) lv.set(n.location_id, { location_id: n.location_id, on_hand: n.on_hand, reserved: n.reserved });
        const all = [...lv.values()];
        const onHand = all.reduce((s, x) => s + x.on_hand, 0);
        const reserved = all.reduce((s, x) => s + x.reserved, 0);
        return { ...row, levels: all, on_hand: onHand, reserved, available: onHand - reserved };
      }),
    }));
    return changed ? { ...old, pages } : old;
  });
}
