// System health: the database, every StockClerk process with its heartbeat and memory, and the
// job queue in total. Refreshes every 5 seconds.
import { useQuery } from '@tanstack/react-query';
import { api } from '../../api.ts';
import { Badge, ErrorBox, Loading, PageHeader, timeAgo } from '../../ui.tsx';
import { bytes, ConsoleNav, duration } from './ConsoleNav.tsx';

const ms = (n: number | null | undefined) => (n === null || n === undefined ? '—' : `${n.toFixed(n < 10 ? 1 : 0)} ms`);

export default function Health() {
  const q = useQuery({ queryKey: ['admin', 'health'], queryFn: () => api.get('/admin/health'), refetchInterval: 5_000 });
  if (q.isPending) return <Loading />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => void q.refetch()} />;
  const h = q.data;
  const conns = Object.values(h.database.connections).reduce((a, b) => a + b, 0);
  return (
    <>
      <PageHeader title="Health" />
      <ConsoleNav />
      <div className="cards">
        <div className="card" data-testid="health-db">
          <h3>Database</h3>
          <p className="big">{bytes(h.database.size_bytes)}</p>
          <p className="muted">
            {conns} of {h.database.max_connections} connections (
            {Object.entries(h.database.connections)
              .map(([s, n]) => `${n} ${s}`)
              .join(', ')}
            ) · longest transaction {duration(h.database.longest_transaction_s)} · {h.database.waiting_on_locks} waiting on locks
          </p>
        </div>
        <div className="card">
          <h3>Jobs</h3>
          <p className="big">{h.jobs.per_minute} / min</p>
          <p className={h.jobs.dead > 0 ? 'bad-text' : 'muted'}>
            {h.jobs.waiting} waiting · {h.jobs.running} running · {h.jobs.dead} dead · oldest due {duration(h.jobs.oldest_due_s)}
          </p>
        </div>
        <div className="card">
          <h3>Workers</h3>
          <p className="big">{h.workers.count}</p>
          <p className="muted">oldest heartbeat {duration(h.workers.oldest_heartbeat_s)} ago</p>
        </div>
      </div>
      <div className="card table-wrap">
        <h2>Processes</h2>
        <table data-testid="processes">
          <thead>
            <tr>
              <th>Process</th>
              <th>Role</th>
              <th>Heartbeat</th>
              <th className="num">Memory (RSS)</th>
              <th className="num">Jobs / min</th>
              <th className="num">Run time</th>
              <th className="num">Wait past due</th>
              <th className="num">Jobs (failed)</th>
            </tr>
          </thead>
          <tbody>
            {h.processes.map((p) => (
              <tr key={p.id}>
                <td>{p.id}</td>
                <td>{p.role}</td>
                <td>
                  <Badge value={p.alive ? 'ok' : 'failed'} label={p.alive ? 'alive' : 'gone'} /> {timeAgo(p.heartbeat_at)}
                </td>
                <td className="num">{bytes(p.rss_bytes)}</td>
                <td className="num">{p.jobs_last_min}</td>
                <td className="num">{ms(p.job_ms_last_min)}</td>
                <td className="num">{ms(p.latency_ms_last_min)}</td>
                <td className="num">
                  {p.jobs_total} ({p.jobs_failed})
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
