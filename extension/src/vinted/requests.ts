// StockClerk's job payloads (docs/extension-protocol.md, section 1) as Vinted web-API requests
// (section 2, every line a GUESS about Vinted), and Vinted's answers as the protocol's results.
// Pure: no fetch, no chrome.*; src/vinted/client.ts sends what this builds.
import { JobFailure } from '../protocol.ts';

export interface VintedRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Path and query under the marketplace origin. */
  path: string;
  json?: unknown;
  /** What the request does, for error messages ("publishing the item"). */
  what: string;
}

export interface Money {
  amount: string;
  currency: string;
}

const rejected = (msg: string): never => {
  throw new JobFailure('rejected', msg);
};

/** An item id from a payload: Vinted ids are positive integers, sent to us as a number or a string. */
export function itemIdOf(payload: Record<string, unknown>): string {
  const id = payload.item_id;
  const s = typeof id === 'number' ? String(id) : typeof id === 'string' ? id.trim() : '';
  if (!/^\d{1,20}$/.test(s)) rejected(`the job has no valid Vinted item id (${JSON.stringify(id ?? null)})`);
  return s;
}

function money(v: unknown): Money | null {
  if (!v || typeof v !== 'object') return null;
  const m = v as { amount?: unknown; currency?: unknown };
  const amount = typeof m.amount === 'number' ? String(m.amount) : typeof m.amount === 'string' ? m.amount : null;
  if (!amount || !/^\d+(\.\d{1,2})?$/.test(amount) || typeof m.currency !== 'string')
    rejected(`the job's price is not an amount and currency (${JSON.stringify(v)})`);
  return { amount: amount!, currency: m.currency as string };
}

/**
 * Vinted's status_id for a condition: a number is taken as Vinted's own id (the channel's
 * condition_id setting); a word is mapped (GUESS: 6 new with tags, 1 new without tags, 2 very
 * good, 3 good, 4 satisfactory); absent means very good.
 */
export function statusIdOf(condition: unknown): number {
  if (typeof condition === 'number' && Number.isInteger(condition) && condition > 0) return condition;
  const words: Record<string, number> = { new_with_tags: 6, new: 6, new_without_tags: 1, very_good: 2, good: 3, satisfactory: 4, used: 3 };
  if (typeof condition === 'string') return words[condition.toLowerCase().replace(/[\s-]+/g, '_')] ?? 2;
  return 2;
}

function text(payload: Record<string, unknown>, key: string): string | undefined {
  const v = payload[key];
  return typeof v === 'string' ? v : undefined;
}

/** The photo URLs of a publish, in order (at least one: Vinted refuses an item without photos). */
export function photosOf(payload: Record<string, unknown>): string[] {
  const photos = Array.isArray(payload.photos) ? payload.photos.filter((p): p is string => typeof p === 'string') : [];
  if (photos.length === 0) rejected('Vinted needs at least one photo');
  return photos;
}

export interface UploadIds {
  /** Vinted's item-draft uuid and the upload session: derived from the job id, so a resent job is the same upload. */
  tempUuid: string;
  uploadSessionId: string;
}

/** The `item` object Vinted's upload form sends, from the fields the payload carries. */
function itemFields(payload: Record<string, unknown>, itemId: number | null, tempUuid: string | null, photoIds: number[] | null): Record<string, unknown> {
  const price = payload.price === undefined ? null : money(payload.price);
  const item: Record<string, unknown> = { id: itemId };
  if (price) item.currency = price.currency;
  if (tempUuid) item.temp_uuid = tempUuid;
  for (const k of ['title', 'description', 'brand', 'size'] as const) {
    const v = text(payload, k);
    if (v !== undefined) item[k] = v;
  }
  if (payload.condition !== undefined || itemId === null) item.status_id = statusIdOf(payload.condition);
  if (price) item.price = Number(price.amount);
  if (photoIds) item.assigned_photos = photoIds.map((id) => ({ id, orientation: 0 }));
  return item;
}

/** POST /api/v2/item_upload/items for a publish whose photos are uploaded (their Vinted ids). */
export function publishRequest(payload: Record<string, unknown>, photoIds: number[], ids: UploadIds): VintedRequest {
  if (!text(payload, 'title')) rejected('a Vinted item needs a title');
  if (payload.price === undefined) rejected('a Vinted item needs a price');
  return {
    method: 'POST',
    path: '/api/v2/item_upload/items',
    json: { item: itemFields(payload, null, ids.tempUuid, photoIds), feedback_id: null, push_up: false, upload_session_id: ids.uploadSessionId },
    what: 'publishing the item',
  };
}

/** An update: an edit of the content fields it carries and/or showing or hiding the item. */
export function updateRequests(payload: Record<string, unknown>): VintedRequest[] {
  const id = itemIdOf(payload);
  const out: VintedRequest[] = [];
  const edits = ['title', 'description', 'brand', 'size', 'condition', 'price'].some((k) => payload[k] !== undefined);
  if (edits)
    out.push({
      method: 'PUT',
      path: `/api/v2/item_upload/items/${id}`,
      json: { item: itemFields(payload, Number(id), null, null), feedback_id: null, push_up: false },
      what: `editing item ${id}`,
    });
  if (typeof payload.hidden === 'boolean')
    out.push({
      method: 'PUT',
      path: `/api/v2/items/${id}/is_hidden`,
      json: { is_hidden: payload.hidden },
      what: `${payload.hidden ? 'hiding' : 'showing'} item ${id}`,
    });
  if (out.length === 0) rejected('the update changes nothing');
  return out;
}

export function deleteRequest(payload: Record<string, unknown>): VintedRequest {
  const id = itemIdOf(payload);
  return { method: 'POST', path: `/api/v2/items/${id}/delete`, what: `deleting item ${id}` };
}

export function markSoldRequest(payload: Record<string, unknown>): VintedRequest {
  const id = itemIdOf(payload);
  return { method: 'PUT', path: `/api/v2/items/${id}/mark_as_sold`, what: `marking item ${id} sold` };
}

/** The item's details (GUESS: section 2), read only to learn why Vinted refused an update. */
export function itemRequest(itemId: string): VintedRequest {
  return { method: 'GET', path: `/api/v2/items/${itemId}`, what: `reading item ${itemId}` };
}

export const WARDROBE_PER_PAGE = 96;
export const ORDERS_PER_PAGE = 20;
/** A runaway pagination (a page count that never ends) stops here. */
export const MAX_PAGES = 50;

export function wardrobeRequest(userId: string | number, page: number): VintedRequest {
  return {
    method: 'GET',
    path: `/api/v2/wardrobe/${encodeURIComponent(String(userId))}/items?page=${page}&per_page=${WARDROBE_PER_PAGE}`,
    what: 'reading the wardrobe',
  };
}

export function ordersRequest(page: number): VintedRequest {
  return { method: 'GET', path: `/api/v2/my_orders?type=sold&status=all&page=${page}&per_page=${ORDERS_PER_PAGE}`, what: 'reading sold orders' };
}

/** Vinted's session check. */
export const CURRENT_USER: VintedRequest = { method: 'GET', path: '/api/v2/users/current', what: 'checking the Vinted session' };

// ---- answers -> results ----

interface VintedPrice {
  amount?: string | number | null;
  currency_code?: string | null;
}
export interface VintedItem {
  id: number | string;
  title?: string;
  price?: VintedPrice | string | number | null;
  url?: string;
  is_hidden?: boolean;
  is_closed?: boolean;
  is_reserved?: boolean;
  updated_at_ts?: number | string | null;
}

function priceOf(p: VintedItem['price'], currency?: string | null): { amount: string; currency: string | null } | null {
  if (p === null || p === undefined) return null;
  if (typeof p === 'object')
    return p.amount === undefined || p.amount === null ? null : { amount: String(p.amount), currency: p.currency_code ?? currency ?? null };
  return { amount: String(p), currency: currency ?? null };
}

/** Vinted's timestamps come as unix seconds or ISO text (GUESS: both seen in public clients). */
export function isoOf(t: unknown): string | null {
  if (typeof t === 'number' && Number.isFinite(t)) return new Date(t < 1e12 ? t * 1000 : t).toISOString();
  if (typeof t === 'string' && t) {
    if (/^\d+$/.test(t)) return isoOf(Number(t));
    const ms = Date.parse(t);
    return Number.isNaN(ms) ? null : new Date(ms).toISOString();
  }
  return null;
}

export function itemOf(body: unknown, what: string): VintedItem {
  const item = body && typeof body === 'object' ? (body as { item?: VintedItem }).item : undefined;
  if (!item || (typeof item.id !== 'number' && typeof item.id !== 'string')) throw new JobFailure('network', `Vinted's answer to ${what} carries no item`);
  return item;
}

/** The publish result: `{item_id, url}`, the URL on the marketplace origin when Vinted gives none. */
export function publishResult(body: unknown, origin: string): { item_id: string; url: string } {
  const item = itemOf(body, 'publishing the item');
  const id = String(item.id);
  return { item_id: id, url: typeof item.url === 'string' && item.url ? new URL(item.url, origin).toString() : `${origin}/items/${id}` };
}

export type ListingStatus = 'active' | 'hidden' | 'reserved' | 'sold';
export function statusOf(item: VintedItem): ListingStatus {
  if (item.is_closed) return 'sold';
  if (item.is_reserved) return 'reserved';
  if (item.is_hidden) return 'hidden';
  return 'active';
}

export function listingOf(item: VintedItem) {
  return { item_id: String(item.id), title: item.title ?? null, price: priceOf(item.price), status: statusOf(item), updated_at: isoOf(item.updated_at_ts) };
}

export interface Pagination {
  current_page?: number;
  total_pages?: number;
}
/** Whether another page follows `page` (a missing pagination block means this was the only one). */
export function hasMore(pagination: Pagination | undefined, page: number, got: number, perPage: number): boolean {
  if (page >= MAX_PAGES) return false;
  if (pagination && typeof pagination.total_pages === 'number') return page < pagination.total_pages;
  return got >= perPage;
}

export interface VintedOrder {
  transaction_id: number | string;
  item_id: number | string;
  title?: string;
  price?: VintedItem['price'];
  status?: string;
  date?: string | number;
}

export function saleOf(o: VintedOrder) {
  return { transaction_id: String(o.transaction_id), item_id: String(o.item_id), price: priceOf(o.price), status: o.status ?? null, sold_at: isoOf(o.date) };
}
