// Products: the catalog's list. Search by title or a variant's SKU (the API's `q`), filter by
// status, each row with its first image, title, variants, price range and total on hand. Rows are
// a grid, not a table, so a phone stacks them instead of scrolling sideways. Each row shows its
// state on every marketplace it was published to; an editor selects rows (or every product) to
// publish them in bulk.
import { useInfiniteQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { api, type QueryOf } from '../api.ts';
import { priceRange } from '../catalog.ts';
import { BulkPublish, JobProgress } from '../components/BulkPublish.tsx';
import { useCan } from '../hooks.ts';
import { usePublications } from '../publishing.ts';
import { Badge, Empty, ErrorBox, Loading, PageHeader } from '../ui.tsx';

type Status = NonNullable<QueryOf<'/products'>['status']>;

export default function Products() {
  const [search, setSearch] = useState('');
  const q = useDeferredValue(search.trim());
  const [status, setStatus] = useState<Status | ''>('');
  const canWrite = useCan('write');
  const list = useInfiniteQuery({
    queryKey: ['products', q, status],
    queryFn: ({ pageParam }) => api.get('/products', { query: { q, status: status || undefined, limit: 50, cursor: pageParam } }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (p) => p.next_cursor ?? undefined,
    placeholderData: (prev) => prev,
  });
  const rows = list.data?.pages.flatMap((p) => p.data) ?? [];
  const pubs = usePublications();
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [everything, setEverything] = useState(false);
  const jobId = new URLSearchParams(useSearch()).get('job');
  const [, navigate] = useLocation();
  const pick = (id: string, on: boolean) => {
    const next = new Set(picked);
    if (on) next.add(id);
    else next.delete(id);
    setPicked(next);
  };
  const allShown = rows.length > 0 && rows.every((p) => picked.has(p.id));
  return (
    <div className="products-page">
      <PageHeader title="Products">
        {canWrite && (
          <Link href="/products/new" className="button primary">
            New product
          </Link>
        )}
      </PageHeader>
      <div className="filters">
        <label className="wide">
          Search
          <input type="search" placeholder="Title or SKU" aria-label="Search products" value={search} onChange={(e) => setSearch(e.target.value)} />
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.target.value as Status | '')}>
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="archived">Archived</option>
          </select>
        </label>
      </div>
      {canWrite && rows.length > 0 && (
        <div className="row wrap select-bar">
          <label className="inline">
            <input
              type="checkbox"
              aria-label="Select every product shown"
              checked={allShown}
              onChange={(e) => setPicked(e.target.checked ? new Set(rows.map((p) => p.id)) : new Set())}
            />
            {picked.size ? `${picked.size} selected` : 'Select all shown'}
          </label>
          <label className="inline">
            <input type="checkbox" checked={everything} onChange={(e) => setEverything(e.target.checked)} />
            Every active product
          </label>
        </div>
      )}
      {jobId && (
        <section className="card" aria-label="Bulk publishing job">
          <h2>Bulk publishing</h2>
          <JobProgress id={jobId} />
        </section>
      )}
      {canWrite && (everything || picked.size > 0) && (
        <BulkPublish
          productIds={everything ? null : [...picked]}
          onStarted={(id) => {
            setPicked(new Set());
            setEverything(false);
            navigate(`/products?job=${encodeURIComponent(id)}`, { replace: true });
          }}
        />
      )}
      {list.isPending ? (
        <Loading what="Loading products" />
      ) : list.isError ? (
        <ErrorBox error={list.error} retry={() => list.refetch()} />
      ) : rows.length === 0 ? (
        <Empty>{q || status ? 'No product matches.' : 'No products yet. Every item is a product of its own; create one with variants here.'}</Empty>
      ) : (
        <ul className="plain card product-list" data-testid="products-list">
          <li className="product-row head" aria-hidden>
            <span />
            <span>Product</span>
            <span className="num">Variants</span>
            <span className="num">Price</span>
            <span className="num">On hand</span>
          </li>
          {rows.map((p) => {
            const img = p.images[0];
            const onHand = p.variants.reduce((n, v) => n + v.on_hand, 0);
            return (
              <li key={p.id} className="product-row" data-testid="product-row" data-product-id={p.id}>
                <span className="thumb">{img ? <img src={img.url} alt={img.alt ?? ''} loading="lazy" /> : <span className="no-image" aria-hidden />}</span>
                <span className="title">
                  {canWrite && (
                    <input
                      type="checkbox"
                      className="pick"
                      checked={picked.has(p.id)}
                      onChange={(e) => pick(p.id, e.target.checked)}
                      aria-label={`Select ${p.title}`}
                    />
                  )}{' '}
                  <Link href={`/products/${p.id}`}>{p.title}</Link> {p.status !== 'active' && <Badge value={p.status} />}
                  <small className="skus">{p.variants.map((v) => v.sku).join(', ')}</small>
                  <span className="pubs" data-testid="product-publications">
                    {pubs.data?.data
                      .filter((x) => x.product_id === p.id)
                      .sort((a, b) => (a.channel_name ?? '').localeCompare(b.channel_name ?? ''))
                      .map((x) => (
                        <Badge key={x.id} value={x.state} label={`${x.channel_name ?? x.channel_type ?? 'channel'}: ${x.state}`} />
                      ))}
                  </span>
                </span>
                <span className="num vars" data-testid="variant-count">
                  {p.variants.length} {p.variants.length === 1 ? 'variant' : 'variants'}
                </span>
                <span className="num price" data-testid="price-range">
                  {priceRange(p.price_minor, p.variants, p.currency)}
                </span>
                <span className="num hand" data-testid="product-on-hand">
                  {onHand} on hand
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {list.hasNextPage && (
        <button onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage}>
          {list.isFetchingNextPage ? 'Loading…' : 'More products'}
        </button>
      )}
    </div>
  );
}
