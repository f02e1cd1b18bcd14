// An Otter store as the emulator holds it: the store's menu items (id, name, SKU details, a sale
// status: Otter has no stock counts), the orders its marketplaces sent, and how its webhooks are
// signed. Facts: Otter Public API reference (developer-guides.tryotter.com/api-reference, read
// through the api-evangelist/otter mirror, openapi/_original/otter-public-api-openapi.yml).
import { randomUUID } from 'node:crypto';
import type { AccountInput, BaseAccount } from '../kit/index.ts';

/** ItemStatus.saleStatus in the reference. */
export type SaleStatus = 'FOR_SALE' | 'INDEFINITELY_NOT_FOR_SALE' | 'TEMPORARILY_NOT_FOR_SALE';

export interface OtterMenuItem {
  id: string;
  name: string;
  /** MenuItem_POS.skuDetails: skuSlug is "a system-unique, human-readable identifier for the product". */
  skuSlug: string;
  skuId: string;
  saleStatus: SaleStatus;
  suspendedUntil: string | null;
}

/** The reference's Order (the fields a stock integration reads, and a few to look like one). */
export interface OtterOrder {
  externalIdentifiers: { id: string; friendlyId: string; source: string; sourceType: 'ORDERING_MARKETPLACE' };
  currencyCode: string;
  status: 'NEW_ORDER' | 'CONFIRMED' | 'PICKED_UP' | 'CANCELED' | 'FULFILLED' | 'PREPARED' | 'REJECTED';
  items: Array<{ quantity: number; id: string; skuId: string; name: string; price: number; modifiers: unknown[] }>;
  orderedAt: string;
  customerNote: string | null;
}

/**
 * How the store's webhooks are authenticated. The reference: "Every webhook is signed using
 * HMAC-SHA256 that is present in the header X-HMAC-SHA256 [...] HMAC-SHA1 (legacy)".
 */
export type WebhookSigning = 'hmac-sha256' | 'hmac-sha1';

export interface OtterStore extends BaseAccount {
  /** The account id is the store id partners send as X-Store-Id (limits are per store, like Otter's). */
  items: Map<string, OtterMenuItem>;
  /** In placement order (the order feed pages through them oldest first: GUESS, the reference names no order). */
  orders: OtterOrder[];
  signing: WebhookSigning;
  /** Marketplace the emulated orders come from (seed 000: Deliveroo through Otter). */
  source: string;
}

/** Extra, optional fields on the /_control/accounts body. */
export type OtterAccountInput = AccountInput & { webhook_signing?: WebhookSigning; source?: string };

export function createStore(input: OtterAccountInput, base: BaseAccount): OtterStore {
  const items = new Map<string, OtterMenuItem>();
  for (const it of input.items) {
    const id = it.externalId ?? randomUUID();
    items.set(id, {
      id,
      name: it.name,
      skuSlug: it.sku,
      skuId: randomUUID(),
      saleStatus: it.qty > 0 ? 'FOR_SALE' : 'INDEFINITELY_NOT_FOR_SALE',
      suspendedUntil: null,
    });
  }
  return { ...base, items, orders: [], signing: input.webhook_signing ?? 'hmac-sha256', source: input.source ?? 'deliveroo' };
}

type SavedStore = { items: OtterMenuItem[]; orders: OtterOrder[]; signing: WebhookSigning; source: string };

export function saveStore(acc: OtterStore): SavedStore {
  return { items: [...acc.items.values()], orders: acc.orders, signing: acc.signing, source: acc.source };
}

export function loadStore(saved: unknown, base: BaseAccount): OtterStore {
  const s = saved as SavedStore;
  return { ...base, items: new Map(s.items.map((i) => [i.id, i])), orders: s.orders, signing: s.signing, source: s.source };
}
