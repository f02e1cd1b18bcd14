// The sync monitor: the job queues by tenant, channel and task, the oldest due job, and the dead
// jobs (out of attempts) with a retry, one by one or all of a tenant's.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useSearch } from 'wouter';
import { api, errorText } from '../../api.ts';
import { Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../../ui.tsx';
import { ConsoleNav, duration } from './ConsoleNav.tsx';

export default function SyncMonitor() {
  const tenant = new URLSearchParams(useSearch()).get('tenant') ?? undefined;
  const qc = useQueryClient();
  const queues = useQuery({
    queryKey: ['admin', 'sync', tenant],
    queryFn: () => api.get('/admin/sync', { query: { tenant_id: tenant } }),
    refetchInterval: 5_000,
  });
  const dead = useQuery({
    queryKey: ['admin', 'dead', tenant],
    queryFn: () => api.get('/admin/jobs/dead', { query: { tenant_id: tenant } }),
    refetchInterval: 5_000,
  });
  const [note, setNote] = useState<string | null>(null);
  const retry = async (body: { ids: string[] } | { tenant_id: string }) => {
    try {
      const out = await api.post('/admin/jobs/retry', { body });
      setNote(`${out.retried} job${out.retried === 1 ? '' : 's'} sent to run again.`);
      await qc.invalidateQueries({ queryKey: ['admin'] });
    } catch (err) {
      setNote(errorText(err));
    }
  };
  return (
    <>
      <PageHeader title="Sync monitor">{tenant && <Link href="/admin/sync">All tenants</Link>}</PageHeader>
      <ConsoleNav />
      {note && (
        <p className="card callout" role="status">
          {note}
        </p>
      )}
      <section className="card table-wrap" aria-label="Queues">
        <h2>Queues</h2>
        {queues.isPending ? (
          <Loading />
        ) : queues.isError ? (
          <ErrorBox error={queues.error} />
        ) : queues.data.data.length === 0 ? (
          <Empty>Nothing queued: every job has run.</Empty>
        ) : (
          <table data-testid="queues-table">
            <thead>
              <tr>
                <th>Tenant</th>
                <th>Channel</th>
                <th>Task</th>
                <th className="num">Waiting</th>
                <th className="num">Running</th>
                <th className="num">Retrying</th>
                <th className="num">Dead</th>
                <th className="num">Oldest due</th>
              </tr>
            </thead>
            <tbody>
              {queues.data.data.map((r) => (
                <tr key={`${r.tenant_id}|${r.channel_id}|${r.task}`}>
                  <td>{r.tenant_id ? <Link href={`/admin/tenants/${r.tenant_id}`}>{r.tenant_name ?? r.tenant_id}</Link> : 'system'}</td>
                  <td>{r.channel_id ?? '—'}</td>
                  <td>{r.task}</td>
                  <td className="num">{r.waiting}</td>
                  <td className="num">{r.running}</td>
                  <td className={`num ${r.failing ? 'warn-text' : ''}`}>{r.failing}</td>
                  <td className={`num ${r.dead ? 'bad-text' : ''}`}>{r.dead}</td>
                  <td className={`num ${r.oldest_due_s > 60 ? 'warn-text' : ''}`}>{r.oldest_due_s > 0 ? duration(r.oldest_due_s) : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section className="card table-wrap" aria-label="Dead jobs">
        <div className="page-header">
          <h2>Dead jobs</h2>
          {tenant && (dead.data?.data.length ?? 0) > 0 && <button onClick={() => void retry({ tenant_id: tenant })}>Retry all of this tenant</button>}
        </div>
        {dead.isPending ? (
          <Loading />
        ) : dead.isError ? (
          <ErrorBox error={dead.error} />
        ) : dead.data.data.length === 0 ? (
          <Empty>No dead jobs.</Empty>
        ) : (
          <table data-testid="dead-jobs">
            <thead>
              <tr>
                <th>Job</th>
                <th>Tenant</th>
                <th>Last error</th>
                <th>Failed</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {dead.data.data.map((j) => (
                <tr key={j.id}>
                  <td>
                    {j.task} <span className="muted">#{j.id}</span>
                  </td>
                  <td>{j.tenant_id ? <Link href={`/admin/tenants/${j.tenant_id}`}>{j.tenant_id}</Link> : '—'}</td>
                  <td className="bad-text">{j.last_error}</td>
                  <td>{timeAgo(j.updated_at)}</td>
                  <td>
                    <button onClick={() => void retry({ ids: [j.id] })}>Retry</button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
