// Every channel StockClerk speaks, by type. Adding a platform = its folder + one line here: the
// routes, GET /channel-types, request validation and the dashboard's connect form read this list.
import { z } from 'zod';
import type { ChannelAdapter, ChannelConnection, ChannelModule } from './contract.ts';
import { deliverooChannel } from './deliveroo/index.ts';
import { ebayChannel } from './ebay/index.ts';
import { eposnowChannel } from './eposnow/index.ts';
import { etsyChannel } from './etsy/index.ts';
import { otterChannel } from './otter/index.ts';
import { medusaChannel } from './medusa/index.ts';
import { shopeeChannel } from './shopee/index.ts';
import { shopifyChannel } from './shopify/index.ts';
import { squareChannel } from './square/index.ts';
import { tiktokShopChannel } from './tiktok_shop/index.ts';
import { vendureChannel } from './vendure/index.ts';
import { vintedChannel } from './vinted/index.ts';
import { channelPolicy, type ChannelPolicy } from '../domain/channel-policy.ts';
import { loadSettings, SYNC_ONLY } from './settings.ts';
import { wixChannel } from './wix/index.ts';
import { woocommerceChannel } from './woocommerce/index.ts';

export const CHANNELS = {
  shopify: shopifyChannel,
  wix: wixChannel,
  eposnow: eposnowChannel,
  deliveroo: deliverooChannel,
  vendure: vendureChannel,
  etsy: etsyChannel,
  ebay: ebayChannel,
  shopee: shopeeChannel,
  tiktok_shop: tiktokShopChannel,
  vinted: vintedChannel,
  otter: otterChannel,
  woocommerce: woocommerceChannel,
  square: squareChannel,
  medusa: medusaChannel,
} satisfies Record<string, ChannelModule>;

export type ChannelType = keyof typeof CHANNELS;
/**
 * Channels with an in-repo API emulator. Vendure and Medusa are tested against real servers instead;
 * Vinted is reached through the browser extension, and its emulator is a web app it logs in to.
 */
export type EmulatedChannelType = Exclude<ChannelType, 'vendure' | 'vinted' | 'medusa'>;

export const CHANNEL_TYPES = Object.keys(CHANNELS) as ChannelType[];

/**
 * Platforms merchants ask for that have no module yet: the landing page names them as coming, so
 * it never claims more than the registry above connects. One moves up into CHANNELS when built.
 */
export const PLANNED_CHANNELS: readonly string[] = [];

const byType: Record<string, ChannelModule | undefined> = CHANNELS;

export function channelModule(type: string): ChannelModule | null {
  return byType[type] ?? null;
}

/** An adapter for a channel row's connection: its stored settings are read through the module's schema. */
export function openAdapter(mod: ChannelModule, conn: ChannelConnection<unknown>): ChannelAdapter {
  return mod.createAdapter({ ...conn, settings: loadSettings(mod.settings, conn.settings) });
}

/** A channel row's sync policy, for read models that build no adapter. */
export function channelPolicyOf(type: string, stored: unknown): ChannelPolicy {
  const mod = channelModule(type);
  return channelPolicy(loadSettings(mod?.settings ?? SYNC_ONLY, stored), mod?.capabilities ?? { defaultSalesSource: 'orders' });
}

export interface CredentialField {
  name: string;
  label: string;
  secret: boolean;
  required: boolean;
}

/** The module's credential fields as a form shows them (from the zod schema's titles and writeOnly). */
export function credentialFields(mod: ChannelModule): CredentialField[] {
  return Object.entries(mod.credentials.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const inner = field instanceof z.ZodOptional ? (field.unwrap() as z.ZodType) : field;
    const meta = inner.meta() ?? {};
    return { name, label: typeof meta.title === 'string' ? meta.title : name, secret: meta.writeOnly === true, required: !field.isOptional() };
  });
}

/** The settings the connect form asks for beside the credentials, labelled from the schema's titles. */
export function connectSettingFields(mod: ChannelModule): Array<{ name: string; label: string }> {
  const shape = mod.settings.shape as unknown as Record<string, z.ZodType>;
  return mod.connectSettings.map((name) => {
    const field = shape[name]!;
    const inner = field instanceof z.ZodOptional || field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
    const title = inner.meta()?.title;
    return { name, label: typeof title === 'string' ? title : name };
  });
}
