// Epos Now V4 payload shapes and the one mapping both inbound paths share (webhook and poll):
// a Transaction becomes order events with the SAME externalEventId whichever way it arrived, so
// the Watcher's (channel, externalEventId) key dedupes a webhook against the safety-net poll.
import { WebhookParseError, type ChannelCapabilities, type InboundEvent } from '../contract.ts';

export const EPOSNOW_CAPABILITIES: ChannelCapabilities = {
  // No absolute set exists: the adapter reads the level and posts the difference to Add/Remove.
  quantityModel: 'delta',
  compareAndSet: false,
  // Till sales arrive as Transactions (webhook or poll); there is no stock-level webhook at all.
  defaultSalesSource: 'orders',
  webhooks: true,
  pollable: true,
  // a read of the current levels, then Remove (and Add when some levels go up)
  callsPerPush: 2,
  // One Add and one Remove call carry a whole batch; 200 matches the API's page size.
  // GUESS: the largest array Add/Remove accept is undocumented.
  maxPushBatch: 200,
  // GUESS: Epos Now publishes no number (an account allowance shown in Back Office). One public
  // client spaces calls ~0.6 s apart; 5/s with a burst of 40 is a budget a single device sustains
  // in our emulator, and the engine backs off further on the "maximum API limit" 429 anyway.
  rateLimit: { perSecond: 5, burst: 40 },
};

/** Rows per page on every paged V4 list (channel-apis.md §3: 200, stop on an empty array). */
export const PAGE_SIZE = 200;

export interface V4Product {
  Id: number;
  Name: string;
  // GUESS: the SKU field name; public client code only shows Id/Name/Barcode being read.
  Sku: string | null;
  Barcode: string | null;
}

export interface V4Location {
  Id: number;
  Name: string;
  Town?: string | null;
}

export interface V4StockBatch {
  Id?: number;
  CurrentStock: number;
  CostPrice?: number | null;
}

export interface V4StockRow {
  ProductId: number;
  LocationId: number;
  ProductStockBatches: V4StockBatch[];
}

/** Body of ProductStock/Add and /Remove (one object or an array of them). */
export interface V4StockChange {
  ProductId: number;
  LocationId: number;
  /** Always positive; Remove subtracts it. */
  ChangeInStock: number;
}

// GUESS: the whole Transaction shape. Only the GetLatest/Transaction paths are seen in code; the
// fields below are the minimum a till sale must carry and are what our emulator sends.
export interface V4Transaction {
  Id: number;
  DateTime: string;
  LocationId: number | null;
  TransactionItems: Array<{ ProductId: number | null; Quantity: number }>;
}

/** A location's level is the sum of its batches (code: several public clients do exactly this). */
export function stockLevel(row: Pick<V4StockRow, 'ProductStockBatches'>): number {
  return (row.ProductStockBatches ?? []).reduce((sum, b) => sum + (Number(b.CurrentStock) || 0), 0);
}

/** The dedupe key: one per transaction, identical from webhook and from pollEvents. */
export function transactionEventId(id: number): string {
  return `txn:${id}`;
}

function isoFrom(dateTime: unknown): string {
  if (typeof dateTime !== 'string' || dateTime === '') throw new WebhookParseError('Transaction.DateTime missing');
  // GUESS: .NET APIs often send local times with no zone; we read a zone-less value as UTC.
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/i.test(dateTime);
  const ms = Date.parse(hasZone ? dateTime : `${dateTime}Z`);
  if (!Number.isFinite(ms)) throw new WebhookParseError(`Transaction.DateTime unreadable: ${dateTime}`);
  return new Date(ms).toISOString();
}

/**
 * One transaction -> events. Sale lines (Quantity > 0) become one 'sale' event keyed `txn:<Id>`.
 * GUESS: a refund is a transaction line with a negative Quantity; those become a 'cancel' event
 * keyed `txn:<Id>:return` so an exchange (both kinds in one transaction) keeps two distinct keys.
 * Lines without a ProductId (custom amounts, service charges) hold no stock and are dropped.
 */
export function transactionToEvents(raw: unknown): InboundEvent[] {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new WebhookParseError('Transaction is not an object');
  const t = raw as Record<string, unknown>;
  if (typeof t.Id !== 'number' || !Number.isInteger(t.Id)) throw new WebhookParseError('Transaction.Id missing');
  const items = t.TransactionItems ?? [];
  if (!Array.isArray(items)) throw new WebhookParseError('Transaction.TransactionItems is not an array');
  const occurredAt = isoFrom(t.DateTime);
  const orderId = String(t.Id);
  const externalLocationId = typeof t.LocationId === 'number' ? String(t.LocationId) : null;
  const sold: Array<{ externalId: string; qty: number }> = [];
  const returned: Array<{ externalId: string; qty: number }> = [];
  for (const it of items as Array<Record<string, unknown>>) {
    if (!it || typeof it !== 'object') throw new WebhookParseError('TransactionItems entry is not an object');
    const qty = it.Quantity;
    if (typeof qty !== 'number' || !Number.isFinite(qty)) throw new WebhookParseError('TransactionItems[].Quantity missing');
    if (it.ProductId === null || it.ProductId === undefined || qty === 0) continue;
    if (typeof it.ProductId !== 'number') throw new WebhookParseError('TransactionItems[].ProductId is not a number');
    (qty > 0 ? sold : returned).push({ externalId: String(it.ProductId), qty: Math.abs(qty) });
  }
  const events: InboundEvent[] = [];
  const base = { kind: 'order' as const, occurredAt, orderId, externalLocationId };
  if (sold.length > 0) events.push({ ...base, externalEventId: transactionEventId(t.Id), effect: 'sale', lines: sold });
  if (returned.length > 0) events.push({ ...base, externalEventId: `${transactionEventId(t.Id)}:return`, effect: 'cancel', lines: returned });
  if (events.length === 0) {
    events.push({ kind: 'ignored', externalEventId: transactionEventId(t.Id), occurredAt, reason: 'transaction has no stocked product lines' });
  }
  return events;
}
