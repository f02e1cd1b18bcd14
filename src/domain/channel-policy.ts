// A channel's sync policy, from its sync settings. The settings arrive parsed, defaults applied
// (src/channels/settings.ts declares them as zod and reads a channel row through that schema).
import type { ChannelCapabilities } from '../channels/contract.ts';

/** The settings every channel shares, as a channel row holds them once parsed. */
export interface SyncSettings {
  location_ids: string[];
  default_buffer: number;
  percent: number;
  cap?: number | undefined;
  sales_source?: 'orders' | 'levels' | undefined;
  location_map: Record<string, string>;
}

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

export function channelPolicy(s: SyncSettings, caps: Pick<ChannelCapabilities, 'defaultSalesSource'>): ChannelPolicy {
  return {
    locationIds: s.location_ids,
    saleLocationId: s.location_ids[0] ?? null,
    locationMap: s.location_map,
    defaultBuffer: s.default_buffer,
    percent: s.percent,
    cap: s.cap ?? null,
    salesSource: s.sales_source ?? caps.defaultSalesSource,
  };
}
