// An Epos Now account as the emulator holds it: products, two locations, stock rows made of
// batches, the till's transactions and the id counters that number them.
import type { AccountInput, BaseAccount } from '../kit/index.ts';
import { stockLevel, type V4Location, type V4Product, type V4StockRow, type V4Transaction } from './v4.ts';

export interface EposAccount extends BaseAccount {
  products: Map<number, V4Product>;
  locations: V4Location[];
  /** Keyed `${ProductId}:${LocationId}`; every product has a row at every location. */
  stock: Map<string, V4StockRow>;
  transactions: V4Transaction[];
  nextTransactionId: number;
  nextBatchId: number;
  /** API devices the App Store made for installed apps (appstore.ts): each authenticates like the account's own device. */
  appDevices: AppDevice[];
  nextDeviceId: number;
}

export interface AppDevice {
  clientId: string;
  deviceId: number;
  api_key: string;
  api_secret: string;
}

export const stockKey = (productId: number, locationId: number) => `${productId}:${locationId}`;
export const primary = (acc: EposAccount) => acc.locations[0]!;

export function createTill(input: AccountInput, base: BaseAccount): EposAccount {
  // GUESS: location ids are account-wide integers; two locations so location filtering matters.
  const locations: V4Location[] = [
    { Id: 4501, Name: 'High Street', Town: 'Leeds' },
    { Id: 4502, Name: 'Warehouse', Town: 'Leeds' },
  ];
  const acc: EposAccount = {
    ...base,
    products: new Map(),
    locations,
    stock: new Map(),
    transactions: [],
    nextTransactionId: 90001,
    nextBatchId: 1,
    appDevices: [],
    nextDeviceId: 7001,
  };
  let nextId = 1001;
  for (const item of input.items) {
    const id = item.externalId !== undefined && /^\d+$/.test(item.externalId) ? Number(item.externalId) : nextId++;
    acc.products.set(id, { Id: id, Name: item.name, Sku: item.sku, Barcode: null });
    for (const loc of locations) {
      // Seed the primary location's stock as two batches so a reader that ignores all but the
      // first batch gets a wrong level and fails the tests.
      const qty = loc === locations[0] ? item.qty : 0;
      const first = Math.floor(qty / 2);
      const batches = qty > 1 ? [first, qty - first] : [qty];
      acc.stock.set(stockKey(id, loc.Id), {
        ProductId: id,
        LocationId: loc.Id,
        ProductStockBatches: batches.map((b) => ({ Id: acc.nextBatchId++, CurrentStock: b })),
      });
    }
  }
  return acc;
}

type SavedTill = Pick<EposAccount, 'locations' | 'transactions' | 'nextTransactionId' | 'nextBatchId'> & {
  products: V4Product[];
  stock: V4StockRow[];
  appDevices?: AppDevice[];
  nextDeviceId?: number;
};

export function saveTill(acc: EposAccount): SavedTill {
  const { locations, transactions, nextTransactionId, nextBatchId, appDevices, nextDeviceId } = acc;
  return {
    locations,
    transactions,
    nextTransactionId,
    nextBatchId,
    appDevices,
    nextDeviceId,
    products: [...acc.products.values()],
    stock: [...acc.stock.values()],
  };
}

export function loadTill(saved: unknown, base: BaseAccount): EposAccount {
  const s = saved as SavedTill;
  return {
    ...base,
    locations: s.locations,
    transactions: s.transactions,
    nextTransactionId: s.nextTransactionId,
    nextBatchId: s.nextBatchId,
    appDevices: s.appDevices ?? [],
    nextDeviceId: s.nextDeviceId ?? 7001,
    products: new Map(s.products.map((p) => [p.Id, p])),
    stock: new Map(s.stock.map((r) => [stockKey(r.ProductId, r.LocationId), r])),
  };
}

/** Applies a signed change to a row's batches: additions land on the newest batch, removals drain the oldest first. */
export function applyChange(acc: EposAccount, row: V4StockRow, change: number): void {
  const batches = row.ProductStockBatches;
  if (batches.length === 0) batches.push({ Id: acc.nextBatchId++, CurrentStock: 0 });
  if (change >= 0) {
    batches[batches.length - 1]!.CurrentStock += change;
    return;
  }
  let left = -change;
  for (const b of batches) {
    const take = Math.min(left, Math.max(0, b.CurrentStock));
    b.CurrentStock -= take;
    left -= take;
  }
  // GUESS: like most tills, Epos Now lets stock go negative rather than refuse a sale or a Remove.
  if (left > 0) batches[batches.length - 1]!.CurrentStock -= left;
}

export function setLevelOf(acc: EposAccount, row: V4StockRow, qty: number): void {
  applyChange(acc, row, qty - stockLevel(row));
}

export function findProduct(acc: EposAccount, input: { externalId?: string; sku?: string }): V4Product {
  const p = input.externalId !== undefined ? acc.products.get(Number(input.externalId)) : [...acc.products.values()].find((x) => x.Sku === input.sku);
  if (!p) throw Object.assign(new Error(`no product ${input.externalId ?? input.sku}`), { statusCode: 404 });
  return p;
}
