// Square's objects as we read them (only the fields we use), and the exact readings of its values:
// ids are strings, quantities are decimal strings (up to 5 places), versions are int64.

/** InventoryCount (counts/batch-retrieve, batch-create answers, inventory.count.updated). */
export interface InventoryCount {
  catalog_object_id?: string;
  catalog_object_type?: string;
  state?: string;
  location_id?: string;
  quantity?: string;
  calculated_at?: string;
}

/** CatalogObject of type ITEM with its variations nested (GET /v2/catalog/list?types=ITEM). */
export interface CatalogItem {
  type?: string;
  id?: string;
  is_deleted?: boolean;
  item_data?: {
    name?: string;
    variations?: Array<{
      type?: string;
      id?: string;
      is_deleted?: boolean;
      item_variation_data?: { item_id?: string; name?: string; sku?: string; track_inventory?: boolean };
    }>;
  };
}

export interface Location {
  id?: string;
  name?: string;
  status?: string;
}

const DECIMAL = /^(-?)(\d{1,15})(?:\.(\d{1,10}))?$/;

/**
 * A Square quantity string as whole units, exactly: "12", "12.00000" -> 12. A fractional count (an
 * item sold by weight) is floored to the units that can be sold whole ("2.5" -> 2, "-0.5" -> -1).
 * null for anything that is not a decimal string.
 */
export function parseQuantity(q: unknown): number | null {
  if (typeof q !== 'string') return null;
  const m = DECIMAL.exec(q.trim());
  if (!m) return null;
  const whole = Number(m[2]);
  const fraction = (m[3] ?? '').replace(/0+$/, '') !== '';
  if (m[1] === '-') return whole === 0 && !fraction ? 0 : -(whole + (fraction ? 1 : 0));
  return whole;
}

/** Square timestamps (RFC 3339) compared as instants; equal instants are not newer. */
export function isNewerTimestamp(a: string | null | undefined, b: string | null | undefined): boolean {
  if (!a) return false;
  if (!b) return true;
  const x = Date.parse(a);
  const y = Date.parse(b);
  if (Number.isFinite(x) && Number.isFinite(y) && x !== y) return x > y;
  // Same millisecond (or unreadable): finer digits, where Square sends them, decide.
  return Number.isFinite(x) && Number.isFinite(y) ? subMillis(a) > subMillis(b) : false;
}

function subMillis(t: string): number {
  const m = /\.(\d+)/.exec(t);
  return m ? Number((m[1]! + '000000').slice(3, 9)) : 0;
}
