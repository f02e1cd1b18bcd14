// A channel's sync settings, read from its JSON settings with safe defaults.
import type { ChannelCapabilities } from '../channels/contract.ts';

export interface ChannelPolicy {
  /** Locations whose stock this channel sells; empty = every location of the tenant. */
  locationIds: string[];
  /** Where a sale on this channel is taken from (the first drawn location unless mapped). */
  saleLocationId: string | null;
  /** Platform location id -> our location id, for platforms with several locations. */
  locationMap: Record<string, string>;
  defaultBuffer: number;
  percent: number;
  cap: number | null;
  salesSource: 'orders' | 'levels';
}

export function channelPolicy(settings: Record<string, unknown>, caps: Pick<ChannelCapabilities, 'defaultSalesSource'>): ChannelPolicy {
  const locationIds = Array.isArray(settings.location_ids) ? settings.location_ids.filter((x): x is string => typeof x === 'string') : [];
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
  const map = settings.location_map && typeof settings.location_map === 'object' ? (settings.location_map as Record<string, string>) : {};
  return {
    locationIds,
    saleLocationId: locationIds[0] ?? null,
    locationMap: map,
    defaultBuffer: Math.max(0, Math.trunc(num(settings.default_buffer, 0))),
    percent: Math.min(1, Math.max(0, num(settings.percent, 1))),
    cap: typeof settings.cap === 'number' ? Math.max(0, Math.trunc(settings.cap)) : null,
    salesSource: settings.sales_source === 'levels' || settings.sales_source === 'orders' ? settings.sales_source : caps.defaultSalesSource,
  };
}
