// Vinted through the browser extension: what the extension answers (docs/extension-protocol.md,
// section 1) and what the channel can do.
import type { ChannelCapabilities } from '../contract.ts';

export const VINTED_CAPABILITIES: ChannelCapabilities = {
  catalog: true,
  transport: 'extension',
  // A Vinted listing is one item: it is for sale or it is not.
  quantityModel: 'availability',
  compareAndSet: false,
  defaultSalesSource: 'orders',
  webhooks: false,
  pollable: true,
  maxPushBatch: 20,
  // GUESS: Vinted's anti-bot limits are unpublished; the extension backs off on 429 as well, this
  // keeps our own pace modest (jobs, not HTTP calls: one job is a few calls in the seller's session).
  rateLimit: { perSecond: 1, burst: 5 },
  callsPerPush: 1,
};

export interface ExtListing {
  item_id: string | number;
  title?: string | null;
  price?: { amount?: string | number | null; currency?: string | null; currency_code?: string | null } | null;
  status?: 'active' | 'hidden' | 'reserved' | 'sold' | string;
  updated_at?: string | null;
}

export interface ExtSale {
  transaction_id: string | number;
  item_id: string | number;
  status?: string | null;
  sold_at?: string | null;
}

/** The extension waits this long at most for one job; past it the engine's job comes back later for the same one. */
export const JOB_WAIT_MS = 10_000;
