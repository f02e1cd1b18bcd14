// Every channel StockClerk speaks, by type. Adding a platform = one folder + one line here.
import type { ChannelModule, ChannelType } from './contract.ts';
import { deliverooChannel } from './deliveroo/index.ts';
import { eposnowChannel } from './eposnow/index.ts';
import { shopifyChannel } from './shopify/index.ts';
import { vendureChannel } from './vendure/index.ts';
import { wixChannel } from './wix/index.ts';

export const CHANNELS: Record<ChannelType, ChannelModule> = {
  shopify: shopifyChannel,
  wix: wixChannel,
  eposnow: eposnowChannel,
  deliveroo: deliverooChannel,
  vendure: vendureChannel,
};

export function channelModule(type: string): ChannelModule | null {
  return (CHANNELS as Record<string, ChannelModule | undefined>)[type] ?? null;
}
