// Conflicts: catalog fields a marketplace changed on its side that disagree with ours (a channel
// whose Conflicts setting is "ask" queues them here). Each shows our value beside the platform's;
// keep ours (sent to the channel again), take theirs (it becomes ours, and every channel the
// product is live on follows) or type a value of your own. Many at once: keep ours or take theirs.
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { api, errorText, type Answer } from '../api.ts';
import { formatMoney, parseMoney } from '../catalog.ts';
import { useCan } from '../hooks.ts';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader, timeAgo, when } from '../ui.tsx';

type Conflict = Answer<'/conflicts'>['data'][number];
type Status = 'open' | 'resolved' | '';

const FIELD_LABEL: Record<Conflict['field'], string> = { title: 'Title', description: 'Description', price_minor: 'Price', stock: 'Stock' };
const STRATEGY_LABEL: Record<string, string> = {
  use_master: 'kept ours',
  use_platform: 'took theirs',
  manual: 'set by hand',
  agreed: 'the two sides came to agree',
};

export default function Conflicts() {
  const [status, setStatus] = useState<Status>('open');
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const canWrite = useCan('write');
  const qc = useQueryClient();
  const list = useInfiniteQuery({
    queryKey: ['conflicts', status],
    queryFn: ({ pageParam }) => api.get('/conflicts', { query: { status: status || undefined, limit: 50, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const open = rows.filter((c) => c.status === 'open');
  const chosen = open.filter((c) => picked.has(c.id));
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['conflicts'] }), qc.invalidateQueries({ queryKey: ['publications'] })]);

  const resolveMany = async (strategy: 'use_master' | 'use_platform') => {
    setBusy(true);
    setError(null);
    try {
      const r = await api.post('/conflicts/resolve', { body: { ids: chosen.map((c) => c.id), strategy } });
      setNotice(`${r.data.length} ${r.data.length === 1 ? 'conflict' : 'conflicts'} resolved: ${STRATEGY_LABEL[strategy]}.`);
      setPicked(new Set());
      await refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="conflicts-page">
      <PageHeader title="Conflicts">
        <label>
          Show
          <select value={status} onChange={(e) => setStatus(e.target.value as Status)} aria-label="Show conflicts">
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
            <option value="">All</option>
          </select>
        </label>
      </PageHeader>
      {canWrite && open.length > 0 && (
        <div className="card row wrap" data-testid="bulk-resolve">
          <label className="inline">
            <input
              type="checkbox"
              aria-label="Select every open conflict"
              checked={chosen.length === open.length}
              onChange={(e) => setPicked(e.target.checked ? new Set(open.map((c) => c.id)) : new Set())}
            />
            {chosen.length ? `${chosen.length} selected` : 'Select all'}
          </label>
          <button type="button" disabled={busy || chosen.length === 0} onClick={() => void resolveMany('use_master')}>
            Keep ours for selected
          </button>
          <button type="button" disabled={busy || chosen.length === 0} onClick={() => void resolveMany('use_platform')}>
            Take theirs for selected
          </button>
        </div>
      )}
      {notice && (
        <p className="ok-text" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {list.isPending ? (
        <Loading what="Loading conflicts" />
      ) : list.isError ? (
        <ErrorBox error={list.error} retry={() => list.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>
          {status === 'open'
            ? 'No open conflicts. When a marketplace changes a title, description or price so it differs from yours, it waits here for you (on channels whose Conflicts setting is "ask").'
            : 'No conflicts.'}
        </Empty>
      ) : (
        <ul className="plain card" data-testid="conflicts-list">
          {rows.map((c) => (
            <ConflictRow
              key={c.id}
              conflict={c}
              canWrite={canWrite}
              picked={picked.has(c.id)}
              pick={(on) => {
                const next = new Set(picked);
                if (on) next.add(c.id);
                else next.delete(c.id);
                setPicked(next);
              }}
              resolved={async (text) => {
                setNotice(text);
                await refresh();
              }}
            />
          ))}
        </ul>
      )}
      {list.hasNextPage && (
        <button onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? 'Loading…' : 'More conflicts'}
        </button>
      )}
    </div>
  );
}

/** A price is held in minor units; its currency is the product's (read only for price conflicts). */
function useCurrency(c: Conflict): string | null {
  const product = useQuery({
    queryKey: ['product-currency', c.product_id],
    queryFn: () => api.get('/products/{id}', { path: { id: c.product_id } }),
    enabled: c.field === 'price_minor',
    staleTime: 60_000,
  });
  return c.field === 'price_minor' ? (product.data?.currency ?? null) : null;
}

function show(value: unknown, currency: string | null): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'number' && currency) return formatMoney(value, currency);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function ConflictRow(props: {
  conflict: Conflict;
  canWrite: boolean;
  picked: boolean;
  pick: (on: boolean) => void;
  resolved: (text: string) => Promise<void>;
}) {
  const { conflict: c, canWrite } = props;
  const currency = useCurrency(c);
  const [manual, setManual] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const resolve = async (strategy: 'use_master' | 'use_platform' | 'manual', value?: string | number) => {
    setBusy(true);
    setError(null);
    try {
      await api.post('/conflicts/{id}/resolve', { path: { id: c.id }, body: { strategy, value } });
      await props.resolved(`${FIELD_LABEL[c.field]} of ${c.product_title} on ${c.channel_name}: ${STRATEGY_LABEL[strategy]}.`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const submitManual = (e: FormEvent) => {
    e.preventDefault();
    if (manual === null) return;
    if (c.field === 'stock') {
      const qty = Number(manual);
      if (!/^\d+$/.test(manual.trim()) || !Number.isSafeInteger(qty)) return setError('Type a whole quantity, like 12');
      return void resolve('manual', qty);
    }
    if (c.field !== 'price_minor') return void resolve('manual', manual);
    const minor = parseMoney(manual, currency ?? 'GBP');
    if (typeof minor !== 'number') return setError('Type a price, like 12.50');
    void resolve('manual', minor);
  };
  const open = c.status === 'open';
  return (
    <li className="conflict" data-testid="conflict" data-conflict-id={c.id} data-status={c.status}>
      <span>
        {open && canWrite && (
          <input
            type="checkbox"
            checked={props.picked}
            onChange={(e) => props.pick(e.target.checked)}
            aria-label={`Select ${c.product_title} ${FIELD_LABEL[c.field]}`}
          />
        )}
      </span>
      <span>
        <b>{FIELD_LABEL[c.field]}</b>
        {c.sku ? ` of ${c.sku}` : ''} of <Link href={`/products/${c.product_id}`}>{c.product_title}</Link>
        <br />
        <small>
          {c.channel_name} (<ChannelLabel type={c.channel_type} />) · <span title={when(c.detected_at)}>{timeAgo(c.detected_at)}</span>
        </small>
      </span>
      <span className="values">
        <small>Ours</small>
        <div className="value" data-testid="master-value">
          {show(c.master_value, currency)}
        </div>
        <small>On {c.channel_name}</small>
        <div className="value" data-testid="platform-value">
          {show(c.platform_value, currency)}
        </div>
      </span>
      <span className="resolve">
        {!open ? (
          <span data-testid="resolution">
            <Badge value="resolved" /> {STRATEGY_LABEL[c.resolution ?? ''] ?? c.resolution}
            {c.resolution === 'manual' && <>: {show(c.resolved_value, currency)}</>}
            <br />
            <small>{timeAgo(c.resolved_at)}</small>
          </span>
        ) : canWrite ? (
          <>
            <button type="button" disabled={busy} onClick={() => void resolve('use_master')}>
              Keep ours
            </button>
            <button type="button" disabled={busy} onClick={() => void resolve('use_platform')}>
              Take theirs
            </button>
            {manual === null ? (
              <button type="button" className="link" onClick={() => setManual(c.field === 'price_minor' ? '' : show(c.master_value, null))}>
                Set a value…
              </button>
            ) : (
              <form onSubmit={submitManual} aria-label="Set a value">
                {c.field === 'description' ? (
                  <textarea value={manual} rows={3} aria-label="Value to keep" onChange={(e) => setManual(e.target.value)} />
                ) : (
                  <input value={manual} aria-label="Value to keep" onChange={(e) => setManual(e.target.value)} />
                )}
                <button type="submit" className="primary" disabled={busy}>
                  Keep
                </button>
              </form>
            )}
          </>
        ) : (
          <Badge value="open" />
        )}
        {error && (
          <small className="form-error" role="alert">
            {error}
          </small>
        )}
      </span>
    </li>
  );
}
