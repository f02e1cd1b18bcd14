// Live-stream notifications (NOTIFY stockclerk) are sent only for tenants somebody is watching.
// A transaction that NOTIFYs takes a server-wide lock at commit and holds it through its WAL
// flush, so notifying writers commit one at a time; with nobody watching (the common case under
// API load) there is nothing to announce and writers keep group commit. API processes register
// the tenants their WebSocket clients watch in stream_watchers (src/http/stream.ts).

/** How long a process's registration stays good without its heartbeat (it beats every 20 s). */
export const WATCH_TTL_S = 60;

/** SQL: somebody watches the tenant named by the SQL expression `tenant`. */
export function watchedSql(tenant: string): string {
  return `exists (select 1 from stream_watchers w where w.tenant_id = ${tenant} and w.seen_at > now() - interval '${WATCH_TTL_S} seconds')`;
}

/** SQL: NOTIFY stockclerk with `payload` (text; nothing when null) if somebody watches `tenant`. */
export function notifyIfWatchedSql(tenant: string, payload: string): string {
  return `case when ${payload}::text is not null and ${watchedSql(tenant)} then pg_notify('stockclerk', ${payload}) end`;
}
