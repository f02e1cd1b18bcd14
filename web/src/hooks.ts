// Queries several pages share.
import { useQuery } from '@tanstack/react-query';
import { api, type Page } from './api.ts';

export function useLocations() {
  return useQuery({ queryKey: ['locations'], queryFn: () => api<Page<{ id: string; name: string }>>('GET', '/locations?limit=500'), staleTime: 60_000 });
}
