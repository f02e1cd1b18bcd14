// Sync log: every push, pull, repair and inbound change; filter by channel, item, outcome, time.
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link, useSearch } from 'wouter';
import { api, errorText, type QueryOf, type Schema } from '../api.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../ui.tsx';

type Kind = NonNullable<QueryOf<'/sync-events'>['kind']>;
const KINDS: Kind[] = ['push', 'pull', 'repair', 'guardian', 'inbound'];

export function useChannelNames(): Map<string, string> {
  const q = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels', { query: { limit: 100 } }) });
  return new Map((q.data?.data ?? []).map((c) => [c.id, c.name]));
}

function ItemName({ id }: { id: string }) {
  const q = useQuery({ queryKey: ['item', id], queryFn: () => api.get('/items/{id}', { path: { id } }), staleTime: 60_000 });
  return <Link href={`/items/${id}`}>{q.data ? `${q.data.sku} ${q.data.name}` : 'item'}</Link>;
}

export function SyncEventRow({ event, names }: { event: Schema<'SyncEvent'>; names?: Map<string, string> }) {
  const fallback = useChannelNames();
  const n = names ?? fallback;
  if (event.kind === 'stock') {
    return (
      <li className="event-row" data-testid="sync-event" data-kind="stock" data-item-id={event.item_id ?? undefined}>
        <small className="when">{timeAgo(event.created_at)}</small>
        <span>ledger</span> <Badge value="stock" label="stock change" /> {event.item_id && <ItemName id={event.item_id} />} <span>now {event.qty} on hand</span>
      </li>
    );
  }
  return (
    <li className="event-row" data-testid="sync-event" data-kind={event.kind} data-outcome={event.outcome}>
      <small className="when">{timeAgo(event.created_at)}</small>
      <span>{event.channel_id ? (n.get(event.channel_id) ?? 'channel') : 'all channels'}</span>
      <Badge value={event.kind} /> <Badge value={event.outcome} />
      {event.qty !== null && <span>qty {event.qty}</span>}
      {event.item_id && <ItemName id={event.item_id} />}
    </li>
  );
}

const OUTCOMES = ['ok', 'applied', 'failed', 'error', 'drift', 'repaired', 'confirmed', 'echo', 'stale', 'unmatched', 'ignored', 'level_change'];
const SINCE: Record<string, number | null> = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, all: null };

export default function SyncLog() {
  const search = new URLSearchParams(useSearch());
  const [channel, setChannel] = useState(search.get('channel') ?? '');
  const [item, setItem] = useState(search.get('item') ?? '');
  const [sku, setSku] = useState('');
  const [skuError, setSkuError] = useState<string | null>(null);
  const findItem = async (e: FormEvent) => {
    e.preventDefault();
    setSkuError(null);
    if (!sku.trim()) return setItem('');
    try {
      const found = await api.get('/items', { query: { q: sku.trim(), limit: 20 } });
      const hit = found.data.find((i) => i.sku.toLowerCase() === sku.trim().toLowerCase()) ?? (found.data.length === 1 ? found.data[0] : undefined);
      if (hit) setItem(hit.id);
      else setSkuError(found.data.length ? `Several items match "${sku}": type the whole SKU` : `No item with SKU "${sku}"`);
    } catch (err) {
      setSkuError(errorText(err));
    }
  };
  const [outcome, setOutcome] = useState('');
  const [kind, setKind] = useState<Kind | ''>('');
  const [since, setSince] = useState('24h');
  const names = useChannelNames();
  const sinceIso = SINCE[since] ? new Date(Date.now() - SINCE[since]!).toISOString().replace(/\.\d+Z$/, 'Z') : undefined;
  const q = useInfiniteQuery({
    queryKey: ['sync-events', 'log', channel, item, outcome, kind, since],
    queryFn: ({ pageParam }) =>
      api.get('/sync-events', {
        query: { channel_id: channel, item_id: item, outcome, kind: kind || undefined, since: sinceIso, cursor: pageParam, limit: 100 },
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <div>
      <PageHeader title="Sync log" />
      <div className="filters card">
        <label>
          Channel
          <select name="channel" value={channel} onChange={(e) => setChannel(e.target.value)}>
            <option value="">all</option>
            {[...names].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <label>
          Kind
          <select name="kind" value={kind} onChange={(e) => setKind(e.target.value as Kind | '')}>
            <option value="">all</option>
            {KINDS.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        <label>
          Outcome
          <select name="outcome" value={outcome} onChange={(e) => setOutcome(e.target.value)}>
            <option value="">all</option>
            {OUTCOMES.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        </label>
        <label>
          Since
          <select name="since" value={since} onChange={(e) => setSince(e.target.value)}>
            {Object.keys(SINCE).map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <form onSubmit={findItem} className="row" aria-label="Item filter">
          <label>
            Item SKU
            <input name="sku" value={sku} onChange={(e) => setSku(e.target.value)} placeholder="any" />
          </label>
        </form>
        {item && (
          <span className="chip" data-testid="item-filter">
            <ItemName id={item} />{' '}
            <button className="link" onClick={() => (setItem(''), setSku(''))} aria-label="Clear item filter">
              ×
            </button>
          </span>
        )}
        {skuError && <small className="form-error">{skuError}</small>}
      </div>
      {q.isPending ? (
        <Loading what="Loading sync events" />
      ) : q.isError ? (
        <ErrorBox error={q.error} retry={() => q.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>No sync events match these filters.</Empty>
      ) : (
        <ul className="plain card feed">
          {rows.map((e) => (
            <SyncEventRow key={e.id} event={e} names={names} />
          ))}
        </ul>
      )}
      {q.hasNextPage && (
        <button onClick={() => q.fetchNextPage()} disabled={q.isFetchingNextPage}>
          More
        </button>
      )}
    </div>
  );
}
