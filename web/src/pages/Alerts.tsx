// Alerts: filter by status and type, acknowledge.
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorText, type QueryOf, type Schema } from '../api.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../ui.tsx';
import { useCan } from '../hooks.ts';

type Status = NonNullable<QueryOf<'/alerts'>['status']>;
type AlertType = NonNullable<QueryOf<'/alerts'>['type']>;
const TYPES: AlertType[] = [
  'low_stock',
  'out_of_stock',
  'channel_auth',
  'sync_failure_rate',
  'large_drift',
  'webhook_endpoint_paused',
  'tenant_quarantined',
  'push_budget_exceeded',
];

export function AlertRow({ alert, compact }: { alert: Schema<'Alert'>; compact?: boolean }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const canWrite = useCan('write');
  const ack = async () => {
    setBusy(true);
    try {
      await api.post('/alerts/{id}/acknowledge', { path: { id: alert.id } });
      await qc.invalidateQueries({ queryKey: ['alerts'] });
      await qc.invalidateQueries({ queryKey: ['overview'] });
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="alert-row" data-testid="alert-row" data-type={alert.type} data-status={alert.status}>
      <div>
        <Badge value={alert.severity} /> <Badge value={alert.type} /> {!compact && <Badge value={alert.status} />}
        <span className="msg">{alert.message}</span> <small>{timeAgo(alert.created_at)}</small>
      </div>
      {alert.status === 'open' && canWrite && (
        <button onClick={ack} disabled={busy}>
          {busy ? 'Acknowledging…' : 'Acknowledge'}
        </button>
      )}
      {error && <small className="form-error">{error}</small>}
    </li>
  );
}

export default function Alerts() {
  const [status, setStatus] = useState<Status | ''>('open');
  const [type, setType] = useState<AlertType | ''>('');
  const q = useInfiniteQuery({
    queryKey: ['alerts', 'list', status, type],
    queryFn: ({ pageParam }) => api.get('/alerts', { query: { status: status || undefined, type: type || undefined, cursor: pageParam, limit: 50 } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <div>
      <PageHeader title="Alerts" />
      <div className="filters card">
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status | '')} name="status">
            <option value="">all</option>
            <option value="open">open</option>
            <option value="acknowledged">acknowledged</option>
            <option value="resolved">resolved</option>
          </select>
        </label>
        <label>
          Type
          <select value={type} onChange={(e) => setType(e.target.value as AlertType | '')} name="type">
            <option value="">all</option>
            {TYPES.map((t) => (
              <option key={t} value={t}>
                {t.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </label>
      </div>
      {q.isPending ? (
        <Loading what="Loading alerts" />
      ) : q.isError ? (
        <ErrorBox error={q.error} retry={() => q.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>No alerts here.</Empty>
      ) : (
        <ul className="plain card">
          {rows.map((a) => (
            <AlertRow key={a.id} alert={a} />
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
