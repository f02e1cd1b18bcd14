// A Square seller as the emulator holds it: locations, catalog ITEMs with one variation each (the
// variation carries the sku), and inventory per (variation, location) kept the way Square's
// Inventory API describes it ("How it works"): a history of physical counts and adjustments, each
// with the client's occurred_at; the current IN_STOCK count is the latest physical count (by
// occurred_at) plus the adjustments that occurred after it, so changes sent out of order are
// re-sequenced by their timestamps. Written from Square's documentation, never from our adapter.
import { randomBytes } from 'node:crypto';
import type { AccountInput, BaseAccount } from '../kit/index.ts';

export interface SqLocation {
  id: string;
  name: string;
  status: 'ACTIVE' | 'INACTIVE';
}

export interface SqVariation {
  id: string;
  itemId: string;
  itemName: string;
  name: string;
  sku: string;
  /** Catalog object version (int64 in Square's JSON; kept as digits). */
  version: string;
  updatedAt: string;
}

export interface SqChange {
  kind: 'count' | 'adjustment';
  /** Physical count: the quantity counted; adjustment: the signed change to IN_STOCK. */
  qty: number;
  /** occurred_at as sent, in ms. */
  at: number;
}

export interface SqCount {
  variationId: string;
  locationId: string;
  changes: SqChange[];
  /** Server time the count was last calculated (RFC 3339). */
  calculatedAt: string;
}

/** What batch-create answered under an idempotency key (only successful answers are kept). */
export interface SqIdempotent {
  fingerprint: string;
  body: unknown;
  at: number;
}

export interface SqToken {
  accountId: string;
  expiresAt: number;
}

export interface SquareAccount extends BaseAccount {
  merchantId: string;
  locations: SqLocation[];
  variations: SqVariation[];
  counts: Record<string, SqCount>;
  idempotency: Record<string, SqIdempotent>;
  /** Last calculated_at handed out (ms): strictly increasing within a seller. */
  lastCalc: number;
  /** GUESS: ListCatalog's page size is Square's choice (not a request parameter); 100 here, smaller in tests. */
  catalogPageSize: number;
}

/** Square-style object id: 24 characters of upper-case letters and digits. */
export function squareId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return [...randomBytes(24)].map((b) => alphabet[b & 31]).join('');
}

export const countKey = (variationId: string, locationId: string) => `${variationId}|${locationId}`;

/** Options an account may be opened with beside the kit's (the control API passes them through). */
export interface SquareAccountOptions {
  merchantId?: string;
  locations?: Array<{ id?: string; name?: string }>;
  catalogPageSize?: number;
}

export function createSeller(input: AccountInput & SquareAccountOptions, base: BaseAccount): SquareAccount {
  const now = Date.now();
  const locations: SqLocation[] = (input.locations?.length ? input.locations : [{ name: 'Main' }]).map((l, i) => ({
    id: l.id ?? `L${squareId().slice(0, 12)}`,
    name: l.name ?? `Location ${i + 1}`,
    status: 'ACTIVE',
  }));
  const acc: SquareAccount = {
    ...base,
    merchantId: input.merchantId ?? `M${squareId().slice(0, 12)}`,
    locations,
    variations: [],
    counts: {},
    idempotency: {},
    lastCalc: 0,
    catalogPageSize: input.catalogPageSize && input.catalogPageSize > 0 ? input.catalogPageSize : 100,
  };
  for (const it of input.items) {
    const v: SqVariation = {
      id: it.externalId ?? squareId(),
      itemId: squareId(),
      itemName: it.name,
      name: 'Regular',
      sku: it.sku,
      version: String(now),
      updatedAt: new Date(now).toISOString(),
    };
    acc.variations.push(v);
    // Stock is counted at the first location.
    const at = calculatedNow(acc);
    acc.counts[countKey(v.id, locations[0]!.id)] = {
      variationId: v.id,
      locationId: locations[0]!.id,
      changes: [{ kind: 'count', qty: it.qty, at: now }],
      calculatedAt: at,
    };
  }
  return acc;
}

/** A new calculated_at for this seller, later than every one before it. */
export function calculatedNow(acc: SquareAccount): string {
  acc.lastCalc = Math.max(Date.now(), acc.lastCalc + 1);
  return new Date(acc.lastCalc).toISOString();
}

/** The IN_STOCK quantity: latest physical count by occurred_at, plus the adjustments after it. */
export function quantityOf(c: SqCount): number {
  let base = 0;
  let since = -Infinity;
  for (const ch of c.changes) if (ch.kind === 'count' && ch.at >= since) [base, since] = [ch.qty, ch.at];
  let q = base;
  for (const ch of c.changes) if (ch.kind === 'adjustment' && ch.at > since) q += ch.qty;
  return q;
}

/** Applies one change; the count is recalculated. Changes older than the latest physical count no longer matter and are dropped. */
export function applyChange(acc: SquareAccount, variationId: string, locationId: string, change: SqChange): SqCount {
  const k = countKey(variationId, locationId);
  const c = (acc.counts[k] ??= { variationId, locationId, changes: [], calculatedAt: '' });
  c.changes.push(change);
  let latest = -Infinity;
  for (const ch of c.changes) if (ch.kind === 'count' && ch.at > latest) latest = ch.at;
  c.changes = c.changes.filter((ch) => ch.at >= latest);
  c.calculatedAt = calculatedNow(acc);
  return c;
}

/** InventoryCount as Square renders it: quantity as a decimal string. */
export function countJson(c: SqCount): Record<string, unknown> {
  return {
    catalog_object_id: c.variationId,
    catalog_object_type: 'ITEM_VARIATION',
    state: 'IN_STOCK',
    location_id: c.locationId,
    quantity: String(quantityOf(c)),
    calculated_at: c.calculatedAt,
  };
}

type SavedSeller = Omit<SquareAccount, keyof BaseAccount>;

export function saveSeller(acc: SquareAccount): SavedSeller {
  const { merchantId, locations, variations, counts, idempotency, lastCalc, catalogPageSize } = acc;
  return { merchantId, locations, variations, counts, idempotency, lastCalc, catalogPageSize };
}

export function loadSeller(saved: unknown, base: BaseAccount): SquareAccount {
  return { ...base, ...(saved as SavedSeller) };
}
