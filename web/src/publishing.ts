// Publishing products to marketplaces, as the dashboard sees it (issue 13): which channels are
// marketplaces (their type has a catalog side, from GET /channel-types), a product's publications
// refreshed while any of them is still being worked on; the pure decisions are in publishing-rules.ts.
import { useQuery } from '@tanstack/react-query';
import { api, errorText, type Answer } from './api.ts';
import { useChannelTypes } from './channel-types.ts';
import { detailLines, type CatalogAction } from './publishing-rules.ts';

export { actionsFor, type CatalogAction } from './publishing-rules.ts';

export type DryRun = Answer<'/products/{id}/publish', 'post'>;
export type Publication = Answer<'/publications'>['data'][number];
export type BulkJob = Answer<'/publication-jobs/{id}'>;
export type Channel = Answer<'/channels'>['data'][number];

export const ACTION_LABEL: Record<CatalogAction, string> = { publish: 'Publish', update: 'Update', delist: 'Delist', relist: 'Relist' };

/** The tenant's marketplace channels (stock-only channels cannot take a product's listing). */
export function useMarketplaces() {
  const types = useChannelTypes();
  const channels = useQuery({ queryKey: ['channels'], queryFn: () => api.get('/channels', { query: { limit: 100 } }) });
  const catalog = new Set(types.data?.data.filter((t) => t.capabilities?.catalog).map((t) => t.type));
  return {
    isPending: types.isPending || channels.isPending,
    error: types.error ?? channels.error,
    data: (channels.data?.data ?? []).filter((c) => catalog.has(c.type)),
    refetch: () => void Promise.all([types.refetch(), channels.refetch()]),
  };
}

/** A product's (or every product's) publications; polled while one is publishing, so the page settles by itself. */
export function usePublications(productId?: string) {
  return useQuery({
    queryKey: ['publications', productId ?? 'all'],
    queryFn: () => api.get('/publications', { query: { product_id: productId } }),
    refetchInterval: (q) => (q.state.data?.data.some((p) => p.state === 'publishing') ? 1000 : false),
  });
}

/** The lines an error shows: a 422's refusing channels one a line, else its readable sentence. */
export function errorLines(err: unknown): string[] {
  return detailLines(err) ?? [errorText(err)];
}
