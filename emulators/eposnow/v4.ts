// Epos Now's V4 REST model as the emulator serves it, written from channel-apis.md section 3
// (thin vendor docs; field names mostly from public client code).

/** Rows per page on every paged V4 list: 200, 1-based `?page=N`, the end is an empty array. */
export const PAGE_SIZE = 200;

export interface V4Product {
  Id: number;
  Name: string;
  // GUESS: the SKU field name; public client code only shows Id/Name/Barcode being read.
  Sku: string | null;
  Barcode: string | null;
}

/** GET /api/v4/Location answers a bare array of these. */
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

/** One product at one location; its level is the sum of its batches' CurrentStock. */
export interface V4StockRow {
  ProductId: number;
  LocationId: number;
  ProductStockBatches: V4StockBatch[];
}

/** Body of ProductStock/Add and /Remove (one object or an array): ChangeInStock is always positive. */
export interface V4StockChange {
  ProductId: number;
  LocationId: number;
  ChangeInStock: number;
}

// GUESS: the whole Transaction shape. The docs name only the GetLatest/Transaction paths; these
// are the fields a till sale must carry at least.
export interface V4Transaction {
  Id: number;
  DateTime: string;
  LocationId: number | null;
  TransactionItems: Array<{ ProductId: number | null; Quantity: number }>;
}

export function stockLevel(row: Pick<V4StockRow, 'ProductStockBatches'>): number {
  return row.ProductStockBatches.reduce((sum, b) => sum + b.CurrentStock, 0);
}
