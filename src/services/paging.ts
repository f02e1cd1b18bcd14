// Cursor pages for list services: a service reads `limit + 1` rows after the cursor's key and
// `page()` keeps `limit` of them and encodes the last one's key as the next cursor (opaque to
// clients). HTTP decodes cursors (src/http/paging.ts) before calling a service.
export interface PageRequest<K extends string | number = string> {
  /** Sort key of the last row of the previous page; null for the first page. */
  after: K | null;
  limit: number;
}

export function encodeCursor(key: string | number): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Given limit+1 rows, the page and the cursor for the next one. */
export function page<R>(rows: R[], limit: number, key: (r: R) => string | number): { data: R[]; next_cursor: string | null } {
  const data = rows.slice(0, limit);
  return { data, next_cursor: rows.length > limit ? encodeCursor(key(data[data.length - 1]!)) : null };
}
