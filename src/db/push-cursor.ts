// Which level changes a channel has not been marked for yet: its push cursor.
//
// Every level row is stamped with the id of the transaction that last changed it (change_txid).
// When Sync marks a channel's listings it reads the levels through one MVCC snapshot and stores
// that snapshot as the channel's cursor: xmin (push_cursor), xmax (push_cursor_xmax) and the ids
// in flight between them (push_cursor_xip). A change is unseen by the channel iff its transaction
// was not visible to that snapshot: it started after it (>= xmax) or was still in flight (in xip).
// Storing only xmin would be safe but coarse: under load some older transaction is nearly always
// in flight, so changes already pushed would look unseen and be marked again and again.

/**
 * SQL predicate: level row `s` changed since cursor row `c` was last moved. A cursor is three
 * columns named after `name`: <name> (the xmin), <name>_xmax and <name>_xip. Channels keep their
 * push cursor this way; the stock alert check keeps one per tenant (stock_alert_cursors).
 */
export function unseenChange(s: string, c: string, name = 'push_cursor'): string {
  return `(${s}.change_txid >= ${c}.${name} and (${s}.change_txid >= ${c}.${name}_xmax or ${s}.change_txid = any(${c}.${name}_xip)))`;
}

/** SQL: the assignments that move a cursor (see unseenChange) to the current snapshot. */
export const cursorToCurrentSnapshot = (name: string) => `${name} = pg_snapshot_xmin(pg_current_snapshot())::text::bigint,
  ${name}_xmax = pg_snapshot_xmax(pg_current_snapshot())::text::bigint,
  ${name}_xip = array(select x::text::bigint from pg_snapshot_xip(pg_current_snapshot()) x)`;

/** SQL: the assignments that move channel `c`'s push cursor to the current snapshot. */
export const CURSOR_TO_CURRENT_SNAPSHOT = cursorToCurrentSnapshot('push_cursor');
