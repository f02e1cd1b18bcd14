// Is the database reachable? The answer /healthz gives, and the one place an outage is logged:
// once when it starts and once when it ends, however many queries fail in between (a relay loop
// retrying every 20 ms would otherwise log hundreds of ECONNREFUSED a second).
import pg from 'pg';
import type { Logger } from '../log.ts';

export interface DatabaseStatus {
  ok: boolean;
  /** While down: since when. */
  since?: Date;
}

export interface WatchOptions {
  /** Between background probes (they notice an outage nobody queries through). */
  intervalMs?: number;
  /** A probe slower than this counts as a failure. */
  timeoutMs?: number;
  /** /healthz reuses a probe this recent rather than running another. */
  maxAgeMs?: number;
}

/** Node and PostgreSQL codes of "no connection" (08xxx, shutdown 57P01-57P03), not of a bad query. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);
const CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Client was closed/i;

export function isConnectionError(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const { code, message } = err as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return typeof message === 'string' && CONNECTION_MESSAGES.test(message);
}

export class DatabaseWatch {
  private readonly url: string;
  private readonly log: Logger;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;
  /** A connection of its own: a probe never queues behind a busy pool. */
  private client: pg.Client | null = null;
  private down: { since: Date; reason: string; suppressed: number } | null = null;
  /** A connection error was seen while up: more like it are not logged until a probe decides. */
  private suspect = false;
  private checkedAt = 0;
  private inflight: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly recovered: Array<() => void> = [];

  constructor(url: string, log: Logger, opts: WatchOptions = {}) {
    this.url = url;
    this.log = log;
    this.intervalMs = opts.intervalMs ?? 2_000;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.maxAgeMs = opts.maxAgeMs ?? 500;
  }

  start(): void {
    this.timer = setInterval(() => void this.probe(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.inflight;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }

  /** For /healthz: a fresh answer (one probe at a time, shared by concurrent callers). */
  async status(): Promise<DatabaseStatus> {
    if (Date.now() - this.checkedAt > this.maxAgeMs) await this.probe();
    return this.down ? { ok: false, since: this.down.since } : { ok: true };
  }

  /** `cb` runs at the end of every outage. */
  onRecovered(cb: () => void): void {
    this.recovered.push(cb);
  }

  /** Known down without asking (the embedded PostgreSQL exited): opens the incident now. */
  markDown(reason: string): void {
    this.open(reason);
    this.checkedAt = Date.now();
  }

  probe(): Promise<void> {
    this.inflight ??= this.probeOnce().finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async probeOnce(): Promise<void> {
    if (this.stopped) return;
    let failure: string | null = null;
    try {
      if (!this.client) {
        const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: this.timeoutMs, query_timeout: this.timeoutMs });
        // A dropped connection is noticed by the next probe; it must not crash the process.
        c.on('error', () => {});
        // Lost between probes: the server restarted (or the network dropped it) even if the next
        // probe finds it back at once; what was said just before may be forgotten (asynchronous
        // commits), and that is what onRecovered is for.
        c.on('end', () => {
          if (this.client !== c) return;
          this.client = null;
          this.open('the connection to the database was lost');
          void this.probe();
        });
        try {
          await c.connect();
        } catch (err) {
          await c.end().catch(() => {});
          throw err;
        }
        this.client = c;
      }
      await this.client.query('select 1');
    } catch (err) {
      failure = (err as Error).message || String(err);
      const c = this.client;
      this.client = null;
      await c?.end().catch(() => {});
    }
    this.checkedAt = Date.now();
    if (this.stopped) return;
    if (failure !== null) return this.open(failure);
    this.suspect = false;
    if (this.down) {
      const { since, suppressed } = this.down;
      this.down = null;
      this.log.info({ down_s: Math.round((Date.now() - since.getTime()) / 100) / 10, suppressed_log_lines: suppressed }, 'database reachable again');
      for (const cb of this.recovered) cb();
    }
  }

  private open(reason: string): void {
    if (this.down || this.stopped) return;
    this.down = { since: new Date(), reason, suppressed: 0 };
    this.log.error({ reason }, 'database unreachable: requests and jobs fail until it is back (logged once per outage)');
  }

  /**
   * `log` (and every child of it: request logs too) with its connection errors held back during
   * an outage (counted, and the count logged at its end). The first connection error while up is
   * logged and sends a probe to settle it.
   */
  quiet(log: Logger): Logger {
    return new Proxy(log, this.quieting);
  }

  private readonly filtered = new WeakMap<Logger, { warn: Logger['warn']; error: Logger['error'] }>();

  private readonly quieting: ProxyHandler<Logger> = {
    get: (target, prop, receiver) => {
      if (prop === 'child') return (...args: Parameters<Logger['child']>) => this.quiet(target.child(...args) as unknown as Logger);
      if (prop !== 'warn' && prop !== 'error') return Reflect.get(target, prop, receiver);
      let f = this.filtered.get(target);
      if (!f) this.filtered.set(target, (f = { warn: this.filter(target, 'warn'), error: this.filter(target, 'error') }));
      return f[prop];
    },
  };

  private filter(log: Logger, level: 'warn' | 'error'): Logger['warn'] {
    const original = log[level].bind(log) as (...args: unknown[]) => void;
    return ((...args: unknown[]) => {
      const first = args[0] as { err?: unknown } | undefined;
      const err = first instanceof Error ? first : first && typeof first === 'object' ? first.err : undefined;
      if (isConnectionError(err)) {
        if (this.down || this.suspect) {
          if (this.down) this.down.suppressed++;
          return;
        }
        this.suspect = true;
        void this.probe();
      }
      original(...args);
    }) as Logger['warn'];
  }
}
