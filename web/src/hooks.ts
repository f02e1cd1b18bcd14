// Queries several pages share.
import { useQuery } from '@tanstack/react-query';
import { api } from './api.ts';

export function useLocations() {
  return useQuery({ queryKey: ['locations'], queryFn: () => api.get('/locations', { query: { limit: 500 } }), staleTime: 60_000 });
}

/** Who is logged in: their role, the permissions it grants, whether their address is verified. */
export function useMe() {
  return useQuery({ queryKey: ['me'], queryFn: () => api.get('/me'), staleTime: 60_000 });
}

/**
 * Whether the logged-in user's role grants a permission (read, write, admin, owner; operator for a
 * super admin). Pages hide
 * what the role cannot do; the API refuses it anyway (403), this only spares the click.
 */
export function useCan(permission: 'read' | 'write' | 'admin' | 'owner' | 'operator'): boolean {
  const me = useMe();
  return me.data?.credential.scopes.includes(permission) ?? false;
}
