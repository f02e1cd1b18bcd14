// What each channel type is, as the API describes it (GET /channel-types, built from the channel
// registry): label, default host, credential fields, the settings a connect form asks for, and
// capabilities. Read once per session; the dashboard names no platform itself.
import { useQuery } from '@tanstack/react-query';
import { api } from './api.ts';

export interface ChannelType {
  type: string;
  label: string;
  default_base_url: string | null;
  credential_fields: Array<{ name: string; label: string; secret: boolean; required: boolean }>;
  setting_fields: Array<{ name: string; label: string }>;
  capabilities?: { quantityModel?: string; catalog?: boolean };
  /** Connected by consent on the platform's own page (POST /channels/oauth/{type}/start). */
  oauth?: boolean;
  /** What the consent start names on platforms with a host per account (a shop), else null. */
  oauth_account?: string | null;
  settings_schema: Record<string, unknown>;
}

export function useChannelTypes() {
  return useQuery({ queryKey: ['channel-types'], queryFn: () => api<{ data: ChannelType[] }>('GET', '/channel-types'), staleTime: Infinity });
}

/** A type's label ("Epos Now"); the type itself until the list has loaded (or for a type it lacks). */
export function useChannelLabel(): (type: string | null | undefined) => string {
  const types = useChannelTypes();
  return (type) => types.data?.data.find((t) => t.type === type)?.label ?? type ?? '';
}

/** Whether a type has a catalog side (a marketplace products are published to). */
export function useIsMarketplace(): (type: string | null | undefined) => boolean {
  const types = useChannelTypes();
  return (type) => Boolean(types.data?.data.find((t) => t.type === type)?.capabilities?.catalog);
}
