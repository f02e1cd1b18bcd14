// The product editor's marketplace panel: the product's state on each marketplace channel (with
// the platform's id and, after a failure, why), the next action each allows, and a dry run that
// shows exactly what a publish would send and cost before anything is sent. A real run answers
// 202 and the states are polled until they settle; a product a channel refuses as it stands is
// a 422 whose reasons are shown one a line.
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api } from '../api.ts';
import { useCan } from '../hooks.ts';
import { ACTION_LABEL, actionsFor, errorLines, useMarketplaces, usePublications, type CatalogAction, type DryRun } from '../publishing.ts';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, timeAgo } from '../ui.tsx';
import { PublishPreview } from './PublishPreview.tsx';

export function PublishPanel({ productId }: { productId: string }) {
  const canWrite = useCan('write');
  const qc = useQueryClient();
  const markets = useMarketplaces();
  const pubs = usePublications(productId);
  const [picked, setPicked] = useState<Set<string> | null>(null); // null: every marketplace
  const [dry, setDry] = useState<DryRun | null>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const [notice, setNotice] = useState<string | null>(null);

  if (markets.isPending) return <Loading what="Loading marketplaces" />;
  if (markets.error) return <ErrorBox error={markets.error} retry={markets.refetch} />;
  const channels = markets.data;
  const selected = channels.filter((c) => picked?.has(c.id) ?? true).map((c) => c.id);
  const nameOf = (id: string) => channels.find((c) => c.id === id)?.name ?? id;
  const pubOf = (channelId: string) => pubs.data?.data.find((p) => p.channel_id === channelId) ?? null;

  const run = async (channelIds: string[], action: CatalogAction | undefined, dryRun: boolean) => {
    setBusy(true);
    setErrors([]);
    setNotice(null);
    try {
      const answer = await api.post('/products/{id}/publish', { path: { id: productId }, body: { channel_ids: channelIds, action, dry_run: dryRun } });
      if (dryRun) setDry(answer);
      else {
        setDry(null);
        setNotice(`${ACTION_LABEL[action ?? 'publish']} queued on ${channelIds.map(nameOf).join(', ')}.`);
        await qc.invalidateQueries({ queryKey: ['publications'] });
      }
    } catch (err) {
      setErrors(errorLines(err));
    } finally {
      setBusy(false);
    }
  };
  const toggle = (id: string) => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setPicked(next);
  };

  return (
    <section className="card publish-panel" aria-label="Marketplaces" data-testid="publish-panel">
      <h2>Marketplaces</h2>
      {channels.length === 0 ? (
        <Empty>No marketplace connected. Connect one on the Channels page to publish this product there.</Empty>
      ) : (
        <>
          <ul className="plain publications">
            {channels.map((c) => {
              const p = pubOf(c.id);
              return (
                <li key={c.id} className="publication" data-testid="publication" data-channel-id={c.id} data-state={p?.state ?? 'none'}>
                  <label className="inline pick-channel">
                    <input type="checkbox" checked={selected.includes(c.id)} onChange={() => toggle(c.id)} aria-label={`Include ${c.name}`} />
                    <span>
                      <b>{c.name}</b>{' '}
                      <small>
                        <ChannelLabel type={c.type} />
                      </small>
                    </span>
                  </label>
                  <span className="state">
                    {p ? <Badge value={p.state} /> : <Badge value="none" label="not published" />}
                    {p?.external_id && (
                      <small data-testid="external-id">
                        {' '}
                        id <code>{p.external_id}</code>
                      </small>
                    )}
                    {p && <small> · {timeAgo(p.updated_at)}</small>}
                  </span>
                  {canWrite && (
                    <span className="row wrap actions">
                      {actionsFor(p?.state ?? null).map((a) => (
                        <button key={a} type="button" disabled={busy} className={a === 'delist' ? 'danger' : ''} onClick={() => void run([c.id], a, false)}>
                          {ACTION_LABEL[a]}
                        </button>
                      ))}
                      {p?.state === 'publishing' && <small>working…</small>}
                    </span>
                  )}
                  {p?.last_error && p.state === 'error' && (
                    <p className="bad-text small last-error" data-testid="last-error">
                      {p.last_error}
                    </p>
                  )}
                </li>
              );
            })}
          </ul>
          {canWrite && (
            <div className="row wrap">
              <button type="button" disabled={busy || selected.length === 0} onClick={() => void run(selected, undefined, true)}>
                Preview (dry run)
              </button>
              <button type="button" className="primary" disabled={busy || selected.length === 0} onClick={() => void run(selected, undefined, false)}>
                {selected.length === channels.length ? 'Publish to all' : `Publish to ${selected.length} ${selected.length === 1 ? 'channel' : 'channels'}`}
              </button>
            </div>
          )}
        </>
      )}
      {notice && (
        <p className="ok-text" role="status">
          {notice}
        </p>
      )}
      {errors.length > 0 && (
        <div className="form-error" role="alert" data-testid="publish-error">
          {errors.map((l, i) => (
            <p key={i}>{l}</p>
          ))}
        </div>
      )}
      {dry && <PublishPreview dry={dry} channelName={nameOf} />}
    </section>
  );
}
