// One item: levels, the stock history chart and movement list from the ledger, each listing's
// status with "sync now", and the same editor as the Items page.
import { useInfiniteQuery, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'wouter';
import { api, errorText, type Schema } from '../api.ts';
import { StockHistoryChart } from '../components/Charts.tsx';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader, timeAgo, when } from '../ui.tsx';
import { useCan } from '../hooks.ts';
import { ItemEditor } from './Items.tsx';
import { useChannelTypes } from '../channel-types.ts';

export default function ItemDetail({ id }: { id: string }) {
  const item = useQuery({ queryKey: ['item', id], queryFn: () => api.get('/items/{id}', { path: { id } }) });
  const moves = useInfiniteQuery({
    queryKey: ['movements', id],
    queryFn: ({ pageParam }) => api.get('/movements', { query: { item_id: id, limit: 200, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
  });
  if (item.isPending) return <Loading what="Loading item" />;
  if (item.isError) return <ErrorBox error={item.error} retry={() => item.refetch()} />;
  const it = item.data;
  const movements = moves.data?.pages.flatMap((p) => p.data) ?? [];
  const locName = new Map(it.levels.map((l) => [l.location_id, l.location_name]));
  return (
    <div className="item-detail">
      <PageHeader title={`${it.sku} · ${it.name}`}>
        <Link href={`/sync-log?item=${it.id}`}>Sync log</Link>
      </PageHeader>
      <div className="grid">
        <section className="card" aria-label="Stock levels">
          <h2>Stock</h2>
          <p className="big" data-testid="detail-on-hand">
            {it.on_hand} on hand
          </p>
          <p>
            {it.reserved} reserved · threshold {it.low_stock_threshold} · buffer {it.buffer ?? 'channel default'}
          </p>
          <ul className="plain">
            {it.levels.map((l) => (
              <li key={l.location_id}>
                {l.location_name}: {l.on_hand} {l.reserved ? `(${l.reserved} reserved)` : ''}
              </li>
            ))}
          </ul>
        </section>
        <section className="card span2" aria-label="Stock history">
          <h2>Stock history</h2>
          {moves.isPending ? <Loading /> : moves.isError ? <ErrorBox error={moves.error} /> : <StockHistoryChart onHand={it.on_hand} movements={movements} />}
        </section>
        <section className="card span3" aria-label="Listings">
          <h2>Listings</h2>
          {it.listings.length === 0 ? (
            <Empty>Not listed on any channel.</Empty>
          ) : (
            <ul className="plain">
              {it.listings.map((l) => (
                <ListingRow key={l.id} listing={l} />
              ))}
            </ul>
          )}
        </section>
        <section className="card span3" aria-label="Edit">
          <h2>Change</h2>
          <ItemEditor item={it} />
        </section>
        <section className="card span3" aria-label="Movements">
          <h2>Movements</h2>
          {moves.isPending ? (
            <Loading />
          ) : moves.isError ? (
            <ErrorBox error={moves.error} />
          ) : movements.length === 0 ? (
            <Empty>No movements yet.</Empty>
          ) : (
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>When</th>
                    <th>Change</th>
                    <th>Reason</th>
                    <th>Location</th>
                    <th>Note</th>
                  </tr>
                </thead>
                <tbody>
                  {movements.map((m) => (
                    <tr key={m.id} data-testid="movement">
                      <td>{when(m.created_at)}</td>
                      <td className={m.qty_delta < 0 ? 'bad-text' : 'ok-text'}>{m.qty_delta > 0 ? `+${m.qty_delta}` : m.qty_delta}</td>
                      <td>{m.reason}</td>
                      <td>{locName.get(m.location_id) ?? '—'}</td>
                      <td>{m.note ?? (m.source_channel_id ? 'from a channel' : '')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {moves.hasNextPage && <button onClick={() => moves.fetchNextPage()}>Older movements</button>}
        </section>
      </div>
    </div>
  );
}

function ListingRow({ listing }: { listing: Schema<'ItemDetail'>['listings'][number] }) {
  const qc = useQueryClient();
  const types = useChannelTypes();
  // Availability-only platforms (Deliveroo) hold on / off, not a count.
  const availability = types.data?.data.find((t) => t.type === listing.channel_type)?.capabilities?.quantityModel === 'availability';
  const shown = (n: number | null) => (n === null ? '—' : availability ? (n > 0 ? 'available' : 'unavailable') : n);
  const [msg, setMsg] = useState<string | null>(null);
  const canWrite = useCan('write');
  const sync = async () => {
    try {
      await api.post('/listings/{id}/sync', { path: { id: listing.id } });
      setMsg('Queued: the Sync agent pushes it now.');
      void qc.invalidateQueries({ queryKey: ['item'] });
    } catch (err) {
      setMsg(errorText(err));
    }
  };
  return (
    <li className="listing-row" data-testid="listing-row">
      <strong>{listing.channel_name}</strong>{' '}
      <small>
        <ChannelLabel type={listing.channel_type} />
      </small>{' '}
      <Badge value={listing.state} /> last pushed {shown(listing.last_pushed_qty)}, channel holds {shown(listing.last_seen_qty)}, synced{' '}
      {timeAgo(listing.last_synced_at)}
      {listing.last_error && <small className="bad-text"> {listing.last_error}</small>}
      {canWrite && <button onClick={sync}>Sync now</button>}
      {msg && <small> {msg}</small>}
    </li>
  );
}
