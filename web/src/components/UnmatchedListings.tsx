// A channel's listings no item matched by SKU: match one by hand to an existing item (by SKU), or
// create them all as new items with the channel's quantity as opening stock.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, errorText, type Schema } from '../api.ts';
import { ErrorBox, Loading } from '../ui.tsx';
import { useCan } from '../hooks.ts';

export function UnmatchedListings({ channelId }: { channelId: string }) {
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ['listings', channelId, 'unmatched'],
    queryFn: () => api.get('/listings', { query: { channel_id: channelId, state: 'unmatched', limit: 500 } }),
  });
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const canWrite = useCan('write');
  const refresh = async () => {
    await qc.invalidateQueries({ queryKey: ['listings'] });
    await qc.invalidateQueries({ queryKey: ['channels'] });
  };
  if (q.isPending) return <Loading what="Loading unmatched listings" />;
  if (q.isError) return <ErrorBox error={q.error} retry={() => q.refetch()} />;
  if (q.data.data.length === 0) return <p className="ok-text">Every listing is matched.</p>;
  if (!canWrite) return <p className="warn-text">{q.data.data.length} listings need an item (an editor or admin can match them).</p>;
  const createAll = async () => {
    setBusy(true);
    setError(null);
    try {
      const locs = await api.get('/locations', { query: { limit: 1 } });
      await api.post('/listings/create-items', { body: { channel_id: channelId, opening_stock_location_id: locs.data[0]?.id ?? null } });
      await refresh();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="unmatched" data-testid="unmatched">
      <h4>{q.data.data.length} listings need an item</h4>
      <button className="primary" onClick={createAll} disabled={busy}>
        {busy ? 'Creating…' : 'Create all as new items (opening stock from this channel)'}
      </button>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <ul className="plain">
        {q.data.data.slice(0, 50).map((l) => (
          <MatchRow key={l.id} listing={l} onDone={refresh} />
        ))}
      </ul>
    </div>
  );
}

function MatchRow({ listing, onDone }: { listing: Schema<'Listing'>; onDone: () => Promise<void> }) {
  const [sku, setSku] = useState('');
  const [error, setError] = useState<string | null>(null);
  const match = async () => {
    setError(null);
    try {
      const found = await api.get('/items', { query: { q: sku, limit: 20 } });
      const item = found.data.find((i) => i.sku.toLowerCase() === sku.toLowerCase()) ?? (found.data.length === 1 ? found.data[0] : undefined);
      if (!item) return setError(`No single item matches "${sku}"`);
      await api.patch('/listings/{id}', { path: { id: listing.id }, body: { item_id: item.id } });
      await onDone();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <li className="match-row">
      <span>
        <strong>{listing.external_sku ?? listing.external_id}</strong> {listing.name} <small>qty {listing.last_seen_qty ?? '—'}</small>
      </span>
      <span className="row">
        <input
          aria-label={`Item SKU for ${listing.external_sku ?? listing.external_id}`}
          placeholder="item SKU"
          value={sku}
          onChange={(e) => setSku(e.target.value)}
        />
        <button onClick={match} disabled={!sku}>
          Match
        </button>
      </span>
      {error && <small className="form-error">{error}</small>}
    </li>
  );
}
