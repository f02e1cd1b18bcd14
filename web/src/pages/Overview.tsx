// Overview: channel health, the four agents, the live sync feed, open alerts, 24 h activity.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link } from 'wouter';
import { api, type Schema } from '../api.ts';
import { ActivityChart } from '../components/Charts.tsx';
import { subscribe } from '../stream.ts';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../ui.tsx';
import { AlertRow } from './Alerts.tsx';
import { SyncEventRow } from './SyncLog.tsx';

type SyncEvent = Schema<'SyncEvent'>;

export default function Overview() {
  const overview = useQuery({ queryKey: ['overview'], queryFn: () => api.get('/overview'), refetchInterval: 30_000 });
  const agents = useQuery({ queryKey: ['agents'], queryFn: () => api.get('/agents'), refetchInterval: 10_000 });
  const activity = useQuery({ queryKey: ['overview', 'activity'], queryFn: () => api.get('/overview/activity', { query: { hours: 24 } }) });
  const alerts = useQuery({ queryKey: ['alerts', 'open', 'overview'], queryFn: () => api.get('/alerts', { query: { status: 'open', limit: 5 } }) });
  return (
    <div className="overview">
      <PageHeader title="Overview" />
      {overview.data && overview.data.channels.length === 0 && (
        <div className="card callout">
          No channels connected yet. <Link href="/onboarding">Set up your channels</Link>
        </div>
      )}
      <div className="grid">
        <section className="card span2" aria-label="Channel health">
          <h2>Channels</h2>
          {overview.isPending ? (
            <Loading />
          ) : overview.isError ? (
            <ErrorBox error={overview.error} retry={() => overview.refetch()} />
          ) : overview.data.channels.length === 0 ? (
            <Empty>No channels yet.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Channel</th>
                    <th>Status</th>
                    <th>Last sync</th>
                    <th>Errors (1 h)</th>
                    <th title="Estimated platform calls in the last hour against the documented budget">API quota</th>
                  </tr>
                </thead>
                <tbody>
                  {overview.data.channels.map((c) => (
                    <tr key={c.id}>
                      <td>
                        <Link href={`/channels/${c.id}`}>{c.name}</Link>{' '}
                        <small>
                          <ChannelLabel type={c.type} />
                        </small>
                      </td>
                      <td>
                        <Badge value={c.status} />
                      </td>
                      <td>{timeAgo(c.last_sync_at)}</td>
                      <td className={c.errors_last_hour ? 'bad-text' : ''}>{c.errors_last_hour}</td>
                      <td>{c.api_quota ? `${(c.api_quota.used * 100).toFixed(1)}%` : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
        <section className="card" aria-label="Agents">
          <h2>Agents</h2>
          {agents.isPending ? (
            <Loading />
          ) : agents.isError ? (
            <ErrorBox error={agents.error} />
          ) : (
            <ul className="agents plain">
              {agents.data.agents.map((a) => (
                <li key={a.name} data-testid={`agent-${a.name}`}>
                  <strong>{a.name}</strong> <Badge value={a.state} />{' '}
                  <small>
                    queue {a.queue_depth}
                    {a.failing ? `, ${a.failing} failing` : ''} · {timeAgo(a.last_activity_at)}
                  </small>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section className="card span2" aria-label="Sales and syncs, last 24 hours">
          <h2>Last 24 hours</h2>
          {activity.isPending ? <Loading /> : activity.isError ? <ErrorBox error={activity.error} /> : <ActivityChart data={activity.data.data} />}
        </section>
        <section className="card" aria-label="Open alerts">
          <h2>
            Open alerts <Link href="/alerts">all</Link>
          </h2>
          {alerts.isPending ? (
            <Loading />
          ) : alerts.isError ? (
            <ErrorBox error={alerts.error} />
          ) : alerts.data.data.length === 0 ? (
            <Empty>Nothing needs you.</Empty>
          ) : (
            <ul className="plain">
              {alerts.data.data.map((a) => (
                <AlertRow key={a.id} alert={a} compact />
              ))}
            </ul>
          )}
        </section>
        <section className="card span3" aria-label="Live sync feed">
          <h2>Live sync feed</h2>
          <LiveFeed />
        </section>
      </div>
    </div>
  );
}

let seq = 0;

/** The latest sync events, then every new one (and every ledger change) from the stream, newest first. */
function LiveFeed() {
  const first = useQuery({ queryKey: ['sync-events', 'feed'], queryFn: () => api.get('/sync-events', { query: { limit: 30 } }), staleTime: Infinity });
  const [live, setLive] = useState<SyncEvent[]>([]);
  const qc = useQueryClient();
  useEffect(
    () =>
      subscribe(
        (e, now) => {
          let fresh: SyncEvent[] = [];
          if (e.type === 'sync.events' && Array.isArray(e.data?.events)) {
            fresh = (e.data.events as SyncEvent[]).map((ev) => ({ ...ev, id: --seq, created_at: ev.created_at ?? now }));
          } else if (e.type === 'stock.changed' && Array.isArray(e.data?.levels)) {
            // Ledger changes (sales, receipts, counts) as they commit: the cause of the pushes that follow.
            fresh = (e.data.levels as Array<{ item_id: string; on_hand: number }>).map((l) => ({
              id: --seq,
              channel_id: null,
              listing_id: null,
              item_id: l.item_id,
              kind: 'stock',
              outcome: 'ledger',
              qty: l.on_hand,
              detail: null,
              created_at: now,
            }));
          }
          if (fresh.length) setLive((prev) => [...fresh.reverse(), ...prev].slice(0, 100));
          // Ledger changes are not in /sync-events: replay the ones that came while this page loaded.
        },
        { replay: (e) => e.type === 'stock.changed' },
      ),
    [qc],
  );
  if (first.isPending) return <Loading />;
  if (first.isError) return <ErrorBox error={first.error} retry={() => first.refetch()} />;
  const rows = [...live, ...first.data.data].slice(0, 60);
  if (rows.length === 0) return <Empty>No sync activity yet. Sales on any channel appear here as they happen.</Empty>;
  return (
    <ul className="feed plain" data-testid="live-feed">
      {rows.map((e) => (
        <SyncEventRow key={e.id} event={e} />
      ))}
    </ul>
  );
}
