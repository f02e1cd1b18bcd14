// A Deliveroo site as the emulator holds it: a brand and menu, menu items with a PLU and an
// availability status (Deliveroo has no stock counts), and the orders customers placed.
// Facts: /work/shared/channel-apis.md section 6.
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export type ItemStatus = 'available' | 'unavailable' | 'hidden';
export const STATUSES: ReadonlySet<string> = new Set(['available', 'unavailable', 'hidden']);

export interface DeliverooMenuItem {
  id: string;
  name: string;
  /** The partner's PLU = `pos_item_id` on orders. */
  plu: string;
  status: ItemStatus;
}

export interface DeliverooOrder {
  id: string;
  order_number: string;
  location_id: string;
  display_id: string;
  status: 'placed' | 'accepted' | 'rejected' | 'confirmed' | 'canceled';
  status_log: Array<{ at: string; status: string }>;
  fulfillment_type: 'deliveroo';
  asap: boolean;
  total_price: { fractional: number; currency_code: string };
  items: Array<Record<string, unknown> & { pos_item_id: string; quantity: number; name: string }>;
}

export interface DeliverooAccount extends BaseAccount {
  /** The account id is the Deliveroo site id (the rate limit is per site, like the platform's). */
  brandId: string;
  menuId: string;
  items: Map<string, DeliverooMenuItem>;
  orders: Map<string, DeliverooOrder>;
  orderSeq: number;
}

/** Extra, optional fields on the /_control/accounts body (AccountInput has no place for them). */
export type DeliverooAccountInput = AccountInput & { brand_id?: string; menu_id?: string };

export function createSite(input: DeliverooAccountInput, base: BaseAccount): DeliverooAccount {
  const items = new Map<string, DeliverooMenuItem>();
  input.items.forEach((it, i) => {
    const id = it.externalId ?? `item-${i + 1}`;
    items.set(id, { id, name: it.name, plu: it.sku, status: it.qty > 0 ? 'available' : 'unavailable' });
  });
  return { ...base, brandId: input.brand_id ?? 'brand-1', menuId: input.menu_id ?? 'menu-1', items, orders: new Map(), orderSeq: 0 };
}

type SavedSite = Pick<DeliverooAccount, 'brandId' | 'menuId' | 'orderSeq'> & { items: DeliverooMenuItem[]; orders: DeliverooOrder[] };

export function saveSite(acc: DeliverooAccount): SavedSite {
  return { brandId: acc.brandId, menuId: acc.menuId, orderSeq: acc.orderSeq, items: [...acc.items.values()], orders: [...acc.orders.values()] };
}

export function loadSite(saved: unknown, base: BaseAccount): DeliverooAccount {
  const s = saved as SavedSite;
  return {
    ...base,
    brandId: s.brandId,
    menuId: s.menuId,
    orderSeq: s.orderSeq,
    items: new Map(s.items.map((i) => [i.id, i])),
    orders: new Map(s.orders.map((o) => [o.id, o])),
  };
}
