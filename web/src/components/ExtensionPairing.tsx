// A channel worked through the seller's browser extension (docs/extension-protocol.md): whether an
// extension is connected, the jobs waiting for one, and the tokens that pair it. A token is shown
// once, beside the StockClerk address the extension must be given; revoking one disconnects the
// extension that holds it.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorText, type Answer } from '../api.ts';
import { Badge, Empty, ErrorBox, Loading, timeAgo } from '../ui.tsx';

type Channel = Answer<'/channels/{id}'>;

export function ExtensionPairing({ channel, canWrite }: { channel: Channel; canWrite: boolean }) {
  const qc = useQueryClient();
  const tokens = useQuery({
    queryKey: ['extension-tokens', channel.id],
    queryFn: () => api.get('/channels/{id}/extension-tokens', { path: { id: channel.id } }),
    // Presence changes without anything done here: look again now and then.
    refetchInterval: 10_000,
  });
  const [name, setName] = useState('');
  const [issued, setIssued] = useState<string | null>(null);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries({ queryKey: ['extension-tokens', channel.id] }), qc.invalidateQueries({ queryKey: ['channels'] })]);
  const issue = async () => {
    setMsg(null);
    try {
      const t = await api.post('/channels/{id}/extension-tokens', { path: { id: channel.id }, body: { name: name.trim() || 'Browser extension' } });
      setIssued(t.token);
      setName('');
      await refresh();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  const revoke = async (id: string, label: string) => {
    if (!confirm(`Revoke "${label}"? The extension holding it is disconnected at once.`)) return;
    setMsg(null);
    try {
      await api.delete('/extension-tokens/{id}', { path: { id } });
      setMsg({ ok: true, text: `Revoked "${label}".` });
      await refresh();
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  const ext = channel.extension;
  const live = (tokens.data?.data ?? []).filter((t) => !t.revoked_at);
  return (
    <section className="card" aria-label="Browser extension">
      <h2>
        Browser extension{' '}
        {ext?.connected ? <Badge value="connected" label="extension connected" /> : <Badge value="waiting" label="waiting for the extension" />}
      </h2>
      <p className="small">
        This marketplace has no seller API: the StockClerk extension does the work inside your own logged-in browser.{' '}
        {ext && ext.queued_jobs > 0
          ? `${ext.queued_jobs} job${ext.queued_jobs === 1 ? '' : 's'} waiting; they run as soon as an extension connects.`
          : 'Nothing is waiting.'}
      </p>
      {ext && ext.failed_jobs > 0 && (
        <p className="state error" role="alert" data-testid="extension-failures">
          {ext.failed_jobs} job{ext.failed_jobs === 1 ? '' : 's'} failed in the last day
          {ext.last_failure ? `; the latest: ${ext.last_failure}` : ''}. The extension retries what can be retried; these need you (a listing the marketplace
          refused, or a photo it could not take).
        </p>
      )}
      {issued && (
        <div className="callout ok" role="status" data-testid="issued-token">
          <p>Paste these into the extension&apos;s options page. The token is shown only now.</p>
          <p>
            StockClerk address: <code>{window.location.origin}</code>
          </p>
          <p>
            Token: <code data-testid="token-value">{issued}</code>{' '}
            <button type="button" onClick={() => void navigator.clipboard?.writeText(issued)}>
              Copy
            </button>
          </p>
        </div>
      )}
      {tokens.isPending ? (
        <Loading />
      ) : tokens.isError ? (
        <ErrorBox error={tokens.error} retry={() => tokens.refetch()} />
      ) : live.length === 0 ? (
        <Empty>No extension paired yet.</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Name</th>
                <th>Token</th>
                <th>State</th>
                <th>Marketplace session</th>
                <th>Last seen</th>
                {canWrite && <th />}
              </tr>
            </thead>
            <tbody>
              {live.map((t) => (
                <tr key={t.id}>
                  <td>{t.name}</td>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>
                    <Badge value={t.connected ? 'connected' : 'idle'} label={t.connected ? 'connected' : 'not connected'} />
                  </td>
                  <td>{t.status ? (t.status.logged_in ? `logged in${t.status.account ? ` as ${t.status.account}` : ''}` : 'logged out') : '—'}</td>
                  <td>{timeAgo(t.last_seen_at)}</td>
                  {canWrite && (
                    <td>
                      <button className="danger" onClick={() => void revoke(t.id, t.name)}>
                        Revoke
                      </button>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canWrite && (
        <form
          className="row wrap"
          onSubmit={(e) => {
            e.preventDefault();
            void issue();
          }}
        >
          <label>
            Name this browser
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Shop laptop" maxLength={200} />
          </label>
          <button type="submit">Pair an extension</button>
        </form>
      )}
      {msg && (
        <p className={msg.ok ? 'ok-text' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
    </section>
  );
}
