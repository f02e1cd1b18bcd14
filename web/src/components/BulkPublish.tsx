// Publishing many products at once from the product list: pick marketplaces and an action,
// preview the run (every request counted, the first 200 listed, what would be refused named),
// then start it as one job whose progress is polled and shown as a bar, with Pause / Resume (the
// product list keeps the job's id in its address, so a reload still shows it).
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, errorText } from '../api.ts';
import { ACTION_LABEL, errorLines, useMarketplaces, type BulkJob, type CatalogAction, type DryRun } from '../publishing.ts';
import { Badge, Empty, ErrorBox, Loading } from '../ui.tsx';
import { PublishPreview } from './PublishPreview.tsx';

/** `productIds` null: every active product (the API's `all: true`). `onStarted` gets the job's id. */
export function BulkPublish({ productIds, onStarted }: { productIds: string[] | null; onStarted: (jobId: string) => void }) {
  const markets = useMarketplaces();
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [action, setAction] = useState<CatalogAction>('publish');
  const [dry, setDry] = useState<DryRun | null>(null);
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  if (markets.isPending) return <Loading what="Loading marketplaces" />;
  if (markets.error) return <ErrorBox error={markets.error} retry={markets.refetch} />;
  const channels = markets.data;
  const channelIds = channels.filter((c) => picked.has(c.id)).map((c) => c.id);
  const nameOf = (id: string) => channels.find((c) => c.id === id)?.name ?? id;
  const count = productIds === null ? 'every active product' : `${productIds.length} ${productIds.length === 1 ? 'product' : 'products'}`;

  const run = async (dryRun: boolean) => {
    setBusy(true);
    setErrors([]);
    try {
      const body = { ...(productIds === null ? { all: true as const } : { product_ids: productIds }), channel_ids: channelIds, action, dry_run: dryRun };
      const answer = await api.post('/publications/bulk', { body });
      if (dryRun) setDry(answer);
      else {
        setDry(null);
        onStarted((answer as unknown as BulkJob).id); // a real run answers 202 with the job
      }
    } catch (err) {
      setErrors(errorLines(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card bulk-bar" aria-label="Publish selected products" data-testid="bulk-publish">
      <h2>Publish {count}</h2>
      {channels.length === 0 ? (
        <Empty>No marketplace connected yet.</Empty>
      ) : (
        <>
          <div className="row wrap">
            {channels.map((c) => (
              <label key={c.id} className="inline">
                <input
                  type="checkbox"
                  checked={picked.has(c.id)}
                  aria-label={`Publish to ${c.name}`}
                  onChange={(e) => {
                    const next = new Set(picked);
                    if (e.target.checked) next.add(c.id);
                    else next.delete(c.id);
                    setPicked(next);
                  }}
                />
                {c.name}
              </label>
            ))}
            <label>
              Action
              <select value={action} onChange={(e) => setAction(e.target.value as CatalogAction)} aria-label="Bulk action">
                {(Object.keys(ACTION_LABEL) as CatalogAction[]).map((a) => (
                  <option key={a} value={a}>
                    {ACTION_LABEL[a]}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="row wrap">
            <button type="button" disabled={busy || channelIds.length === 0} onClick={() => void run(true)}>
              Preview (dry run)
            </button>
            <button type="button" className="primary" disabled={busy || channelIds.length === 0} onClick={() => void run(false)}>
              Start
            </button>
          </div>
        </>
      )}
      {errors.length > 0 && (
        <div className="form-error" role="alert">
          {errors.map((l, i) => (
            <p key={i}>{l}</p>
          ))}
        </div>
      )}
      {dry && <PublishPreview dry={dry} channelName={nameOf} />}
    </section>
  );
}

/** A bulk job's progress, polled until it is over; pausing lets what is running finish and starts nothing else. */
export function JobProgress({ id }: { id: string }) {
  const qc = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const job = useQuery({
    queryKey: ['publication-job', id],
    queryFn: () => api.get('/publication-jobs/{id}', { path: { id } }),
    refetchInterval: (q) => (q.state.data && q.state.data.status !== 'running' && q.state.data.publishing === 0 ? false : 1000),
  });
  // The product list's badges follow the job as items finish.
  const finished = job.data ? job.data.done + job.data.failed : 0;
  useEffect(() => {
    if (finished > 0) void qc.invalidateQueries({ queryKey: ['publications'] });
  }, [finished, qc]);
  if (job.isPending) return <Loading what="Starting" />;
  if (job.isError) return <ErrorBox error={job.error} retry={() => job.refetch()} />;
  const j = job.data;
  const verb = async (v: 'pause' | 'resume') => {
    setError(null);
    try {
      qc.setQueryData(
        ['publication-job', id],
        await api.post(v === 'pause' ? '/publication-jobs/{id}/pause' : '/publication-jobs/{id}/resume', { path: { id } }),
      );
      await job.refetch();
    } catch (err) {
      setError(errorText(err)); // 409: the job is no longer running (or paused)
    }
  };
  return (
    <div className="job-progress" data-testid="job-progress" data-status={j.status}>
      <div className="row wrap">
        <Badge value={j.status} />
        <span data-testid="job-counts">
          {j.done} done · {j.failed} failed · {j.publishing} to go · {j.total} in all
        </span>
        {j.status === 'running' && (
          <button type="button" onClick={() => void verb('pause')}>
            Pause
          </button>
        )}
        {j.status === 'paused' && (
          <button type="button" onClick={() => void verb('resume')}>
            Resume
          </button>
        )}
      </div>
      <progress max={j.total} value={j.done + j.failed} aria-label="Progress" />
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
