// The operators' console, first view: every tenant with how busy and how healthy it is. Search by
// name, id or a user's email; sort by a figure to find the one in trouble.
import { useInfiniteQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, type QueryOf } from '../../api.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../../ui.tsx';
import { ConsoleNav, duration, percent } from './ConsoleNav.tsx';

type Sort = NonNullable<QueryOf<'/admin/tenants'>['sort']>;
const SORTS: Array<[Sort, string]> = [
  ['created', 'Newest'],
  ['name', 'Name'],
  ['last_activity', 'Last activity'],
  ['push_failure_rate', 'Push failures'],
  ['queue_lag', 'Queue lag'],
  ['pushes_24h', 'Pushes in 24 h'],
  ['shops_used', 'Shops used'],
];

export default function Tenants() {
  const [search, setSearch] = useState('');
  const [sort, setSort] = useState<Sort>('created');
  const q = useInfiniteQuery({
    queryKey: ['admin', 'tenants', search, sort],
    queryFn: ({ pageParam }) => api.get('/admin/tenants', { query: { search, sort, limit: 50, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: 10_000,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <PageHeader title="Console" />
      <ConsoleNav />
      <div className="filters card">
        <label className="wide">
          Search
          <input
            type="search"
            name="tenant_search"
            placeholder="Name, tenant id or a user's email"
            value={search}
            onChange={(e) => setSearch(e.target.value)}
          />
        </label>
        <label>
          Sort by
          <select name="tenant_sort" value={sort} onChange={(e) => setSort(e.target.value as Sort)}>
            {SORTS.map(([v, label]) => (
              <option key={v} value={v}>
                {label}
              </option>
            ))}
          </select>
        </label>
      </div>
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <ErrorBox error={q.error} retry={() => void q.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>No tenant matches.</Empty>
      ) : (
        <div className="card table-wrap">
          <table data-testid="tenants-table">
            <thead>
              <tr>
                <th>Tenant</th>
                <th>Plan</th>
                <th className="num">Shops</th>
                <th className="num">Items</th>
                <th className="num">Pushes 24 h</th>
                <th className="num">Webhooks 24 h</th>
                <th className="num">Push failures</th>
                <th className="num">Queue lag</th>
                <th>Last activity</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-testid="tenant-row">
                  <td>
                    <Link href={`/admin/tenants/${t.id}`}>{t.name}</Link> {t.sync_paused && <Badge value="failed" label="sync paused" />}
                  </td>
                  <td>
                    {t.plan} <span className="muted">({t.billing_status.replace('_', ' ')})</span>
                  </td>
                  <td className="num">
                    {t.shops_used} / {t.shop_limit ?? '∞'}
                  </td>
                  <td className="num">{t.items}</td>
                  <td className="num">{t.pushes_24h}</td>
                  <td className="num">{t.webhooks_24h}</td>
                  <td className={`num ${(t.push_failure_rate ?? 0) > 0.1 ? 'bad-text' : ''}`}>{percent(t.push_failure_rate)}</td>
                  <td className={`num ${t.queue_lag_s > 60 ? 'warn-text' : ''}`}>{t.queue_lag_s > 0 ? duration(t.queue_lag_s) : '—'}</td>
                  <td>{t.last_activity ? timeAgo(t.last_activity) : 'never'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {q.hasNextPage && (
            <button onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
              {q.isFetchingNextPage ? 'Loading…' : 'More'}
            </button>
          )}
        </div>
      )}
    </>
  );
}
