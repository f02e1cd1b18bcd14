// Products: the catalog's list. Search by title or a variant's SKU (the API's `q`), filter by
// status, each row with its first image, title, variants, price range and total on hand. Rows are
// a grid, not a table, so a phone stacks them instead of scrolling sideways.
import { useInfiniteQuery } from '@tanstack/react-query';
import { useDeferredValue, useState } from 'react';
import { Link } from 'wouter';
import { api, type QueryOf } from '../api.ts';
import { priceRange } from '../catalog.ts';
import { useCan } from '../hooks.ts';
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
                  <Link href={`/products/${p.id}`}>{p.title}</Link> {p.status !== 'active' && <Badge value={p.status} />}
                  <small className="skus">{p.variants.map((v) => v.sku).join(', ')}</small>
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
