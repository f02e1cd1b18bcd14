// Live-stream notifications (NOTIFY stockclerk) are sent only for tenants somebody is watching.
// A transaction that NOTIFYs takes a server-wide lock at commit and holds it through its WAL
// flush, so notifying writers commit one at a time; with nobody watching (the common case under
// API load) there is nothing to announce and writers keep group commit. API processes register
// the tenants their WebSocket clients watch in stream_watchers (`LiveFeed` below, driven by the
// hub in src/http/stream.ts).
import pg from 'pg';

/** The Postgres channel writers NOTIFY on (inside their transactions: only commits are announced). */
export const LIVE_CHANNEL = 'stockclerk';

/** How long a process's registration stays good without its heartbeat (it beats every 20 s). */
export const WATCH_TTL_S = 60;

/** SQL: somebody watches the tenant named by the SQL expression `tenant`. */
export function watchedSql(tenant: string): string {
  return `exists (select 1 from stream_watchers w where w.tenant_id = ${tenant} and w.seen_at > now() - interval '${WATCH_TTL_S} seconds')`;
}

/** SQL: NOTIFY stockclerk with `payload` (text; nothing when null) if somebody watches `tenant`. */
export function notifyIfWatchedSql(tenant: string, payload: string): string {
  return `case when ${payload}::text is not null and ${watchedSql(tenant)} then pg_notify('${LIVE_CHANNEL}', ${payload}) end`;
}

/**
 * One API process's side of the live stream: a connection of its own that LISTENs (a pooled
 * connection would lose the LISTEN when returned), and the process's rows in stream_watchers.
 */
export class LiveFeed {
  private client: pg.Client | null = null;
  private readonly url: string;
  /** This process's name in stream_watchers (unique per process start). */
  private readonly process: string;
  constructor(url: string, process: string) {
    this.url = url;
    this.process = process;
  }

  /** Connects and LISTENs; every notification's payload goes to `onPayload`. */
  async listen(onPayload: (payload: string) => void): Promise<void> {
    this.client = new pg.Client({ connectionString: this.url });
    this.client.on('error', () => {});
    await this.client.connect();
    this.client.on('notification', (n) => {
      if (n.payload) onPayload(n.payload);
    });
    await this.client.query(`listen ${LIVE_CHANNEL}`);
  }

  /** Registers (or refreshes) this process as watching the tenants: writers notify for them. */
  async watch(tenantIds: string[]): Promise<void> {
    if (tenantIds.length === 0 || !this.client) return;
    await this.client.query(
      `insert into stream_watchers (tenant_id, process, seen_at) select unnest($1::text[]), $2, now()
       on conflict (tenant_id, process) do update set seen_at = now()`,
      [tenantIds, this.process],
    );
  }

  /** This process no longer watches the tenant. */
  async unwatch(tenantId: string): Promise<void> {
    await this.client?.query(`delete from stream_watchers where tenant_id = $1 and process = $2`, [tenantId, this.process]);
  }

  /** Drops every registration of this process and the connection. */
  async close(): Promise<void> {
    await this.client?.query(`delete from stream_watchers where process = $1`, [this.process]).catch(() => {});
    await this.client?.end().catch(() => {});
  }
}
