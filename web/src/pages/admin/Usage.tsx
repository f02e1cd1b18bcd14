// Every tenant's usage of the month against its plan's quota, highest share first: who is about
// to outgrow their plan (operators only; GET /admin/usage).
import { useInfiniteQuery } from '@tanstack/react-query';
import { Link } from 'wouter';
import { api } from '../../api.ts';
import { Empty, ErrorBox, Loading, PageHeader } from '../../ui.tsx';
import { ConsoleNav } from './ConsoleNav.tsx';

const n = (v: number) => v.toLocaleString('en-GB');
const pct = (v: number) => `${v.toFixed(v < 10 ? 1 : 0)}%`;
type Counts = { api_calls: number; pushes: number; webhooks: number };
/** The highest share of a quota the month is on course for (red from 100%: the plan is outgrown). */
const projectedShare = (r: { projected: Counts; quota: Counts }) =>
  Math.max(...(['api_calls', 'pushes', 'webhooks'] as const).map((k) => (r.quota[k] > 0 ? (100 * r.projected[k]) / r.quota[k] : 0)));

export default function ConsoleUsage() {
  const q = useInfiniteQuery({
    queryKey: ['admin', 'usage'],
    queryFn: ({ pageParam }) => api.get('/admin/usage', { query: { limit: 100, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = q.data?.pages.flatMap((p) => p.data) ?? [];
  return (
    <>
      <PageHeader title={`Usage${q.data ? ` in ${q.data.pages[0]!.month}` : ''}`} />
      <ConsoleNav />
      {q.isPending ? (
        <Loading />
      ) : q.isError ? (
        <ErrorBox error={q.error} retry={() => void q.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>No tenants yet.</Empty>
      ) : (
        <div className="card table-wrap">
          <table data-testid="usage-table">
            <thead>
              <tr>
                <th>Tenant</th>
                <th>Plan</th>
                <th className="num">API calls</th>
                <th className="num">Pushes</th>
                <th className="num">Webhooks</th>
                <th className="num">Share of quota used</th>
                <th className="num">Projected at month end</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.tenant_id}>
                  <td>
                    <Link href={`/admin/tenants/${r.tenant_id}`}>{r.name}</Link>
                  </td>
                  <td>{r.plan}</td>
                  <td className="num">
                    {n(r.totals.api_calls)} <span className="muted">of {n(r.quota.api_calls)}</span>
                  </td>
                  <td className="num">
                    {n(r.totals.pushes)} <span className="muted">of {n(r.quota.pushes)}</span>
                  </td>
                  <td className="num">
                    {n(r.totals.webhooks)} <span className="muted">of {n(r.quota.webhooks)}</span>
                  </td>
                  <td className="num">{pct(r.share_percent)}</td>
                  <td className={`num ${projectedShare(r) >= 100 ? 'bad-text' : projectedShare(r) >= 80 ? 'warn-text' : ''}`}>{pct(projectedShare(r))}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {q.hasNextPage && (
            <button onClick={() => void q.fetchNextPage()} disabled={q.isFetchingNextPage}>
              More
            </button>
          )}
        </div>
      )}
    </>
  );
}
