// The item upload body (POST / PUT /api/v2/item_upload/items, section 2) read and checked the way
// an independent witness should: anything the documented shape does not allow is refused with
// a validation error, and a refused call changes nothing.
import type { Member, VintedStore } from './store.ts';

export class VintedError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    super(String(body.message));
    this.status = status;
    this.body = body;
  }
}

export const NO_SESSION = { code: 100, message: 'invalid_authentication_token' };
export const BAD_CSRF = { code: 106, message: 'invalid_csrf_token' };
export const NOT_FOUND = { code: 104, message: 'not_found' };
export const notFound = (): VintedError => new VintedError(404, NOT_FOUND);

/**
 * GUESS: Vinted's validation answer. Section 2 documents none; this is the shape its web
 * front end is reported to receive (code 99 with per-field errors), status 400.
 */
export function invalid(field: string, value: string): VintedError {
  return new VintedError(400, { code: 99, message: 'validation_error', message_code: 'validation_error', errors: [{ field, value }] });
}

export interface ItemFields {
  title?: string;
  description?: string;
  brand?: string | null;
  size?: string | null;
  statusId?: number | null;
  price?: number;
  currency?: string;
  photoIds?: number[];
  tempUuid?: string | null;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function optText(item: Record<string, unknown>, key: string): string | null | undefined {
  const v = item[key];
  if (v === undefined) return undefined;
  if (v === null) return null;
  if (typeof v !== 'string') throw invalid(key, 'must be a string');
  return v;
}

/**
 * Reads `{"item": {...}}`. `create`: the fields a new item needs must be there; otherwise (an
 * edit) absent fields keep their value. GUESS: that an edit may leave fields out (Vinted's front
 * end sends the whole item; section 2 says "same body shape").
 */
export function readItem(body: unknown, member: Member, store: VintedStore, create: boolean): ItemFields {
  if (!isObj(body) || !isObj(body.item)) throw invalid('item', 'is required');
  const item = body.item;
  const out: ItemFields = {};

  const title = optText(item, 'title');
  if (title !== undefined) {
    if (title === null || title.trim() === '') throw invalid('title', 'can not be blank');
    // GUESS: the length limit.
    if (title.length > 100) throw invalid('title', 'is too long (maximum is 100 characters)');
    out.title = title.trim();
  } else if (create) throw invalid('title', 'can not be blank');

  const description = optText(item, 'description');
  if (description !== undefined) out.description = description ?? '';
  else if (create) out.description = '';

  for (const key of ['brand', 'size'] as const) {
    const v = optText(item, key);
    if (v !== undefined) out[key] = v === null || v.trim() === '' ? null : v;
  }

  if (item.status_id !== undefined) {
    // GUESS: Vinted's condition ids are small integers (2 in section 2's example); 1..6 accepted.
    if (item.status_id !== null && !(Number.isInteger(item.status_id) && (item.status_id as number) >= 1 && (item.status_id as number) <= 6))
      throw invalid('status_id', 'is not a valid condition');
    out.statusId = item.status_id as number | null;
  }

  if (item.price !== undefined) {
    // Section 2 sends a JSON number (12.5). GUESS: a numeric string is taken too.
    const p = typeof item.price === 'number' ? item.price : typeof item.price === 'string' && item.price.trim() !== '' ? Number(item.price) : NaN;
    if (!Number.isFinite(p) || p <= 0) throw invalid('price', 'must be greater than 0');
    if (Math.abs(p * 100 - Math.round(p * 100)) > 1e-6) throw invalid('price', 'must have at most 2 decimals');
    out.price = Math.round(p * 100) / 100;
  } else if (create) throw invalid('price', 'can not be blank');

  if (item.currency !== undefined) {
    if (typeof item.currency !== 'string' || !/^[A-Z]{3}$/.test(item.currency)) throw invalid('currency', 'is not a currency code');
    out.currency = item.currency;
  } else if (create) throw invalid('currency', 'can not be blank');

  if (item.assigned_photos !== undefined) {
    if (!Array.isArray(item.assigned_photos)) throw invalid('assigned_photos', 'must be a list');
    const ids: number[] = [];
    for (const a of item.assigned_photos) {
      const id = isObj(a) ? a.id : undefined;
      const photo = typeof id === 'number' ? store.photos.get(id) : undefined;
      // Only the member's own uploads can be assigned.
      if (!photo || photo.userId !== member.id) throw invalid('assigned_photos', `photo ${String(id)} not found`);
      if (!ids.includes(photo.id)) ids.push(photo.id);
    }
    out.photoIds = ids;
  }
  // GUESS: an item needs at least one photo (Vinted's upload form does not let one be listed without).
  if ((create && (out.photoIds ?? []).length === 0) || (!create && out.photoIds?.length === 0)) throw invalid('assigned_photos', 'add at least one photo');

  const tu = optText(item, 'temp_uuid');
  if (tu !== undefined) out.tempUuid = tu;
  return out;
}
