// One channel: test, pause / resume, edit credentials (never shown back), disconnect, its
// listings and recent sync events. A marketplace also shows how its catalog conflicts are settled.
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation } from 'wouter';
import { api, errorText } from '../api.ts';
import { useChannelTypes } from '../channel-types.ts';
import { ChannelForm } from '../components/ChannelForm.tsx';
import { ConflictPolicy } from '../components/ConflictPolicy.tsx';
import { ConsentButton } from '../components/ConsentButton.tsx';
import { ExtensionPairing } from '../components/ExtensionPairing.tsx';
import { UnmatchedListings } from '../components/UnmatchedListings.tsx';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader, timeAgo } from '../ui.tsx';
import { useCan } from '../hooks.ts';
import { SyncEventRow } from './SyncLog.tsx';

export default function ChannelDetail({ id }: { id: string }) {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const ch = useQuery({ queryKey: ['channels', id], queryFn: () => api.get('/channels/{id}', { path: { id } }) });
  const listings = useInfiniteQuery({
    queryKey: ['listings', id, 'all'],
    queryFn: ({ pageParam }) => api.get('/listings', { query: { channel_id: id, limit: 100, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  const events = useQuery({ queryKey: ['sync-events', 'channel', id], queryFn: () => api.get('/sync-events', { query: { channel_id: id, limit: 25 } }) });
  const types = useChannelTypes();
  const [editing, setEditing] = useState(false);
  // Buttons a role cannot use are not shown (the API would answer 403 forbidden).
  const admin = useCan('admin');
  const canWrite = useCan('write');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  if (ch.isPending) return <Loading what="Loading channel" />;
  if (ch.isError) return <ErrorBox error={ch.error} retry={() => ch.refetch()} />;
  const c = ch.data;
  const act = async (what: string, fn: () => Promise<string>) => {
    setMsg(null);
    try {
      setMsg({ ok: true, text: await fn() });
      // Pausing, resuming or disconnecting changes the shops the plan counts.
      await Promise.all([qc.invalidateQueries({ queryKey: ['channels'] }), qc.invalidateQueries({ queryKey: ['billing'] })]);
    } catch (err) {
      setMsg({ ok: false, text: `${what}: ${errorText(err)}` });
    }
  };
  const rows = listings.data?.pages.flatMap((p) => p.data) ?? [];
  const availability = types.data?.data.find((t) => t.type === c.type)?.capabilities?.quantityModel === 'availability';
  const consentType = types.data?.data.find((t) => t.type === c.type);
  const shown = (n: number | null) => (n === null ? '—' : availability ? (n > 0 ? 'on' : 'off') : n);
  return (
    <div>
      <PageHeader title={c.name}>
        <Badge value={c.status} />
      </PageHeader>
      <section className="card">
        <p>
          <ChannelLabel type={c.type} /> · {c.base_url} · last sync {timeAgo(c.last_sync_at)}
        </p>
        {/* A channel worked through a browser extension has no credentials and takes no webhooks. */}
        {!c.extension && (
          <p className="small">
            Credentials:{' '}
            {Object.entries(c.credentials).map(([k, set]) => (
              <span key={k} className="chip">
                {k.replace(/_/g, ' ')} {set ? 'set' : 'not set'}
              </span>
            ))}
          </p>
        )}
        {!c.extension && (
          <p className="small">
            Webhook URL: <code>{c.webhook_url}</code>
          </p>
        )}
        {c.last_error && <p className="bad-text">{c.last_error}</p>}
        <div className="row wrap">
          {admin && (
            <button
              onClick={() =>
                act('Test', async () => {
                  const r = await api.post('/channels/{id}/test', { path: { id } });
                  if (!r.ok) throw new Error(r.error.message);
                  return `Connection works${r.account ? ` (account ${r.account})` : ''}.`;
                })
              }
            >
              Test connection
            </button>
          )}
          {!admin ? null : c.status === 'paused' ? (
            <button onClick={() => act('Resume', async () => (await api.post('/channels/{id}/resume', { path: { id } }), 'Sync resumed.'))}>Resume sync</button>
          ) : (
            <button onClick={() => act('Pause', async () => (await api.post('/channels/{id}/pause', { path: { id } }), 'Sync paused.'))}>Pause sync</button>
          )}
          {canWrite && (
            <button
              onClick={() =>
                act('Import', async () => {
                  const r = await api.post('/channels/{id}/import', { path: { id } });
                  await qc.invalidateQueries({ queryKey: ['listings'] });
                  return `Imported ${r.imported}: ${r.matched} newly matched, ${r.unmatched} unmatched.`;
                })
              }
            >
              Import listings
            </button>
          )}
          {canWrite && (
            <button onClick={() => act('Sync', async () => (await api.post('/channels/{id}/sync', { path: { id } }), 'Full sync queued.'))}>
              Sync all now
            </button>
          )}
          {admin && c.status === 'disconnected' && consentType?.oauth && (
            <ConsentButton type={c.type} text={`Reconnect with ${consentType.label}`} body={{ channel_id: id }} />
          )}
          {admin && !c.extension && <button onClick={() => setEditing(!editing)}>{editing ? 'Cancel' : 'Edit credentials'}</button>}
          {admin && (
            <button
              className="danger"
              onClick={async () => {
                if (!confirm(`Disconnect ${c.name}? Its listings are removed; the ledger keeps its history.`)) return;
                try {
                  await api.delete('/channels/{id}', { path: { id } });
                  await Promise.all([qc.invalidateQueries({ queryKey: ['channels'] }), qc.invalidateQueries({ queryKey: ['billing'] })]);
                  navigate('/channels');
                } catch (err) {
                  setMsg({ ok: false, text: errorText(err) });
                }
              }}
            >
              Disconnect
            </button>
          )}
        </div>
        {msg && (
          <p className={msg.ok ? 'ok-text' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
            {msg.text}
          </p>
        )}
      </section>
      {new URLSearchParams(window.location.search).get('connected') === '1' && (
        <p className="card callout ok" role="status" data-testid="connected">
          Connected: the platform accepted StockClerk. {c.name} is a channel: import its listings or publish products to it.
        </p>
      )}
      {c.extension && <ExtensionPairing channel={c} canWrite={canWrite} />}
      {types.data?.data.find((t) => t.type === c.type)?.capabilities?.catalog && <ConflictPolicy channel={c} canEdit={admin} />}
      {editing && (
        <ChannelForm
          channel={c}
          onSaved={(_s, t) => {
            setEditing(false);
            setMsg(t.ok ? { ok: true, text: 'Saved; connection works.' } : { ok: false, text: `Saved, but the connection failed: ${t.error?.message}` });
            void qc.invalidateQueries({ queryKey: ['channels'] });
          }}
        />
      )}
      {c.listings.unmatched > 0 && (
        <section className="card">
          <UnmatchedListings channelId={id} />
        </section>
      )}
      <div className="grid">
        <section className="card span2" aria-label="Listings">
          <h2>Listings ({c.listings.total})</h2>
          {listings.isPending ? (
            <Loading />
          ) : listings.isError ? (
            <ErrorBox error={listings.error} />
          ) : rows.length === 0 ? (
            <Empty>No listings imported yet.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>SKU</th>
                    <th>Name</th>
                    <th>Item</th>
                    <th>Pushed</th>
                    <th>Holds</th>
                    <th>State</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((l) => (
                    <tr key={l.id}>
                      <td>{l.external_sku ?? l.external_id}</td>
                      <td>{l.name}</td>
                      <td>{l.item_sku ?? '—'}</td>
                      <td>{shown(l.last_pushed_qty)}</td>
                      <td>{shown(l.last_seen_qty)}</td>
                      <td>
                        <Badge value={l.push_pending && l.state === 'in_sync' ? 'pending' : l.state} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {listings.hasNextPage && <button onClick={() => listings.fetchNextPage()}>More</button>}
        </section>
        <section className="card" aria-label="Recent sync events">
          <h2>Recent sync events</h2>
          {events.isPending ? (
            <Loading />
          ) : events.isError ? (
            <ErrorBox error={events.error} />
          ) : events.data.data.length === 0 ? (
            <Empty>Nothing synced yet.</Empty>
          ) : (
            <ul className="plain feed">
              {events.data.data.map((e) => (
                <SyncEventRow key={e.id} event={e} />
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}
