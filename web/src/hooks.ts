// Queries several pages share.
import { useQuery } from '@tanstack/react-query';
import { api } from './api.ts';

export function useLocations() {
  return useQuery({ queryKey: ['locations'], queryFn: () => api.get('/locations', { query: { limit: 500 } }), staleTime: 60_000 });
}
