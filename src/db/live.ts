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
  private onPayload: (payload: string) => void = () => {};
  private onReconnect: () => void = () => {};
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  constructor(url: string, process: string) {
    this.url = url;
    this.process = process;
  }

  /**
   * Connects and LISTENs; every notification's payload goes to `onPayload`. When the connection
   * is lost (the database restarted), it connects and LISTENs again by itself, with backoff, and
   * then calls `onReconnect`: what was announced in between is gone, and the watchers should be
   * told so (the hub closes its sockets, and the dashboards reload what they show).
   */
  async listen(onPayload: (payload: string) => void, onReconnect: () => void = () => {}): Promise<void> {
    this.onPayload = onPayload;
    this.onReconnect = onReconnect;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ connectionString: this.url });
    c.on('error', () => {}); // 'end' follows, and that is where the loss is handled
    c.on('end', () => {
      if (this.client !== c) return;
      this.client = null;
      this.reconnectLater(0);
    });
    await c.connect();
    c.on('notification', (n) => {
      if (n.payload) this.onPayload(n.payload);
    });
    await c.query(`listen ${LIVE_CHANNEL}`);
    if (this.closed) {
      await c.end().catch(() => {});
      return;
    }
    this.client = c;
  }

  private reconnectLater(attempt: number): void {
    if (this.closed) return;
    this.retry = setTimeout(
      () => {
        this.connect().then(
          () => {
            if (!this.closed) this.onReconnect();
          },
          () => this.reconnectLater(attempt + 1),
        );
      },
      Math.min(5_000, 250 * 2 ** attempt),
    );
    this.retry.unref();
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
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    await c?.query(`delete from stream_watchers where process = $1`, [this.process]).catch(() => {});
    await c?.end().catch(() => {});
  }
}
