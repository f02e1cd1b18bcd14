// Items: server search and sort, virtualised rows (10,000 items stay fast), per item the on-hand
// per location, reserved, and each channel's sellable / last pushed with its sync state.
// Editing threshold / buffer and adjusting or counting stock happen in a panel under the row.
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useDeferredValue, useEffect, useRef, useState, type FormEvent } from 'react';
import { Link } from 'wouter';
import { api, errorText, type Answer, type BodyOf } from '../api.ts';
import { useCan, useLocations } from '../hooks.ts';
import { Badge, ChannelLabel, Empty, ErrorBox, Loading, PageHeader } from '../ui.tsx';

type RowsPage = Answer<'/item-rows'>;
export type ItemRow = RowsPage['data'][number];
type Reason = BodyOf<'/adjustments', 'post'>['reason'];

// The columns the page lets you sort by (the API also sorts by updated_at).
type Sort = 'sku' | 'name' | 'on_hand' | 'available';

export default function Items() {
  const [search, setSearch] = useState('');
  const q = useDeferredValue(search.trim());
  const [sort, setSort] = useState<{ by: Sort; dir: 'asc' | 'desc' }>({ by: 'sku', dir: 'asc' });
  const [open, setOpen] = useState<string | null>(null);
  const rows = useInfiniteQuery({
    queryKey: ['items', 'rows', q, sort.by, sort.dir],
    queryFn: ({ pageParam }) => api.get('/item-rows', { query: { q, sort: sort.by, dir: sort.dir, limit: 200, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
    placeholderData: (prev) => prev,
  });
  const locations = useLocations();
  const locName = new Map((locations.data?.data ?? []).map((l) => [l.id, l.name]));
  const data = rows.data?.pages.flatMap((p) => p.data) ?? [];
  const channels = rows.data?.pages[0]?.channels ?? [];
  const total = rows.data?.pages[0]?.total ?? 0;
  const parentRef = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: data.length,
    getScrollElement: () => parentRef.current,
    estimateSize: () => 64,
    overscan: 8,
    getItemKey: (i) => data[i]!.id,
  });
  const items = virtual.getVirtualItems();
  const last = items[items.length - 1];
  useEffect(() => {
    if (last && last.index >= data.length - 20 && rows.hasNextPage && !rows.isFetchingNextPage) void rows.fetchNextPage();
    // `last` and `rows` are new objects on every render; what decides a fetch is listed.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [last?.index, data.length, rows.hasNextPage, rows.isFetchingNextPage]);
  const sortBy = (by: Sort) => setSort((s) => ({ by, dir: s.by === by && s.dir === 'asc' ? 'desc' : 'asc' }));
  const arrow = (by: Sort) => (sort.by === by ? (sort.dir === 'asc' ? ' ▲' : ' ▼') : '');
  return (
    <div className="items-page">
      <PageHeader title="Items">
        <input
          type="search"
          className="search"
          placeholder="Search SKU, name or barcode"
          aria-label="Search items"
          value={search}
          onChange={(e) => setSearch(e.target.value)}
        />
      </PageHeader>
      <div className="items-meta">
        <span data-testid="items-count">{rows.isPending ? '…' : `${total} items`}</span>
        {rows.isFetching && !rows.isPending && <small> updating…</small>}
      </div>
      <div className="items-head" role="row">
        <button className="link" onClick={() => sortBy('sku')}>
          SKU{arrow('sku')}
        </button>
        <button className="link" onClick={() => sortBy('name')}>
          Name{arrow('name')}
        </button>
        <button className="link num" onClick={() => sortBy('on_hand')}>
          On hand{arrow('on_hand')}
        </button>
        <button className="link num" onClick={() => sortBy('available')}>
          Available{arrow('available')}
        </button>
        <span className="channels-col">Channels: sellable / last pushed</span>
      </div>
      {rows.isPending ? (
        <Loading what="Loading items" />
      ) : rows.isError ? (
        <ErrorBox error={rows.error} retry={() => rows.refetch()} />
      ) : data.length === 0 ? (
        <Empty>{q ? `No item matches "${q}".` : 'No items yet. Import them from a channel in Setup.'}</Empty>
      ) : (
        <div ref={parentRef} className="virtual" data-testid="items-list">
          <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
            {items.map((v) => {
              const it = data[v.index]!;
              return (
                <div
                  key={v.key}
                  data-index={v.index}
                  ref={virtual.measureElement}
                  className="item-row"
                  style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${v.start}px)` }}
                >
                  <Row item={it} channels={channels} locName={locName} open={open === it.id} toggle={() => setOpen(open === it.id ? null : it.id)} />
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}

function Row({
  item,
  channels,
  locName,
  open,
  toggle,
}: {
  item: ItemRow;
  channels: RowsPage['channels'];
  locName: Map<string, string>;
  open: boolean;
  toggle: () => void;
}) {
  const low = item.available <= item.low_stock_threshold;
  const canWrite = useCan('write');
  return (
    <div className="row-inner" data-testid="item-row" data-sku={item.sku} data-item-id={item.id}>
      <div className="cells">
        <span className="sku">
          <Link href={`/items/${item.id}`}>{item.sku}</Link>
        </span>
        <span className="name">{item.name}</span>
        <span className={`num ${low ? 'warn-text' : ''}`} data-testid="on-hand">
          {item.on_hand}
          {item.reserved ? <small> ({item.reserved} reserved)</small> : null}
        </span>
        <span className="num" data-testid="available">
          {item.available}
        </span>
        <span className="channels-col">
          {item.listings.map((l) => {
            const ch = channels.find((c) => c.id === l.channel_id);
            const state = l.push_pending && l.state === 'in_sync' ? 'pending' : l.state;
            // Availability-only platforms (Deliveroo) hold on / off, not a count.
            const shown = (n: number | null | undefined) =>
              n === null || n === undefined ? '—' : ch?.quantity_model === 'availability' ? (n > 0 ? 'on' : 'off') : n;
            return (
              <span
                key={l.id}
                className="listing-chip"
                data-testid="listing-chip"
                data-channel={ch?.type}
                title={`${ch?.name}: sellable ${shown(l.sellable)}, last pushed ${shown(l.last_pushed_qty)} (${state})`}
              >
                {ch ? <ChannelLabel type={ch.type} /> : 'channel'} {shown(l.sellable)}/{shown(l.last_pushed_qty)} <Badge value={state} />
              </span>
            );
          })}
        </span>
        {canWrite && (
          <button className="link toggle" onClick={toggle} aria-expanded={open} aria-label={`Edit ${item.sku}`}>
            {open ? 'Close' : 'Edit'}
          </button>
        )}
      </div>
      {item.levels.length > 1 && (
        <div className="levels small">
          {item.levels.map((lv) => (
            <span key={lv.location_id}>
              {locName.get(lv.location_id) ?? 'location'}: {lv.on_hand}
              {lv.reserved ? ` (${lv.reserved} reserved)` : ''}
            </span>
          ))}
        </div>
      )}
      {open && <ItemEditor item={item} />}
    </div>
  );
}

export function ItemEditor({ item }: { item: Pick<ItemRow, 'id' | 'sku' | 'low_stock_threshold' | 'buffer'> }) {
  const qc = useQueryClient();
  const locations = useLocations();
  const [threshold, setThreshold] = useState(String(item.low_stock_threshold));
  const [buffer, setBuffer] = useState(item.buffer === null ? '' : String(item.buffer));
  const [mode, setMode] = useState<'adjust' | 'count'>('adjust');
  const [qty, setQty] = useState('');
  const [reason, setReason] = useState<Reason>('adjustment');
  const [note, setNote] = useState('');
  const [location, setLocation] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const loc = location || locations.data?.data[0]?.id || '';
  const done = async (text: string) => {
    setMsg({ ok: true, text });
    await qc.invalidateQueries({ queryKey: ['items'] });
    await qc.invalidateQueries({ queryKey: ['item'] });
    await qc.invalidateQueries({ queryKey: ['movements'] });
  };
  const saveSettings = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.get('/items/{id}', { path: { id: item.id } }); // fresh ETag for If-Match
      await api.patch('/items/{id}', {
        path: { id: item.id },
        body: { low_stock_threshold: Number(threshold), buffer: buffer === '' ? null : Number(buffer) },
      });
      await done('Saved.');
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  const move = async (e: FormEvent) => {
    e.preventDefault();
    try {
      if (mode === 'count') {
        const r = await api.post('/stock-counts', { body: { item_id: item.id, location_id: loc, counted_qty: Number(qty), note: note || undefined } });
        await done(r.delta === 0 ? 'Count matches the ledger.' : `Counted: ${r.delta > 0 ? '+' : ''}${r.delta} recorded.`);
      } else {
        await api.post('/adjustments', { body: { item_id: item.id, location_id: loc, qty_delta: Number(qty), reason, note: note || undefined } });
        await done('Adjustment recorded.');
      }
      setQty('');
      setNote('');
    } catch (err) {
      setMsg({ ok: false, text: errorText(err) });
    }
  };
  return (
    <div className="editor">
      <form onSubmit={saveSettings} className="row wrap" aria-label={`Settings for ${item.sku}`}>
        <label>
          Low-stock threshold
          <input name="low_stock_threshold" type="number" min={0} value={threshold} onChange={(e) => setThreshold(e.target.value)} />
        </label>
        <label>
          Buffer (blank = channel default)
          <input name="buffer" type="number" min={0} value={buffer} onChange={(e) => setBuffer(e.target.value)} />
        </label>
        <button type="submit">Save settings</button>
      </form>
      <form onSubmit={move} className="row wrap" aria-label={`Stock change for ${item.sku}`}>
        <label>
          Change
          <select name="mode" value={mode} onChange={(e) => setMode(e.target.value as 'adjust' | 'count')}>
            <option value="adjust">Adjust by</option>
            <option value="count">Count is</option>
          </select>
        </label>
        <label>
          {mode === 'count' ? 'Counted quantity' : 'Quantity (+/-)'}
          <input name="qty" type="number" required value={qty} onChange={(e) => setQty(e.target.value)} />
        </label>
        {mode === 'adjust' && (
          <label>
            Reason
            <select name="reason" value={reason} onChange={(e) => setReason(e.target.value as Reason)}>
              <option value="adjustment">adjustment</option>
              <option value="receipt">receipt</option>
              <option value="return">return</option>
              <option value="sale">sale</option>
            </select>
          </label>
        )}
        {(locations.data?.data.length ?? 0) > 1 && (
          <label>
            Location
            <select name="location" value={loc} onChange={(e) => setLocation(e.target.value)}>
              {locations.data!.data.map((l) => (
                <option key={l.id} value={l.id}>
                  {l.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Note
          <input name="note" value={note} maxLength={500} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" disabled={!loc}>
          Record
        </button>
      </form>
      {msg && (
        <p className={msg.ok ? 'ok-text' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
    </div>
  );
}
