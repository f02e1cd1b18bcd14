// The read replica (issue 16, point 8): a streaming standby of the primary that a few dashboard and
// report reads use (src/http/replica-read.ts lists them) while it is provably at most
// REPLICA_MAX_LAG_MS behind, and the primary serves them otherwise.
//
// How far behind: every tick reads the primary's WAL (insert) position first, then the position the
// standby has replayed. A primary position read at time t covers every commit finished before t, so once
// the standby has replayed past it, the standby holds everything committed before t: its staleness
// is at most now - t for the newest such t. On an idle primary the positions stay equal and the
// staleness stays at one tick; `now() - pg_last_xact_replay_timestamp()` would instead grow with
// the idle time. No heartbeat writes, no migration. The bound keeps growing while the standby stops
// replaying or answering, so a standby that stalls between ticks is noticed at the next request.
import type { Logger } from '../log.ts';
import type { Db } from './pool.ts';

/** Why a read went to the primary although a replica is configured; `replica` when it did not. */
export type ReadReason = 'replica' | 'lagging' | 'unreachable' | 'not_standby' | 'unmeasured' | 'own_write' | 'replica_error';

export type ReadChoice = { source: 'replica'; stalenessMs: number } | { source: 'primary'; reason: Exclude<ReadReason, 'replica'> };

export interface ReplicaStatus {
  /** What the standby answered at the last tick. */
  state: 'ok' | 'unreachable' | 'not_standby' | 'unmeasured';
  /** The staleness bound now (ms); null before the first measure. */
  lag_ms: number | null;
  max_lag_ms: number;
  /** Where a dashboard or report read of a tenant with no recent write of its own goes now. */
  serving: 'replica' | 'primary';
}

/** `X/Y` (hex halves of a 64-bit WAL position) as one number. */
export function parseLsn(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`);
}

/** What each tick found, for the process's metrics (src/server.ts wires them). */
export interface Measure {
  lagMs: number | null;
  up: boolean;
}

interface Sample {
  at: number;
  lsn: bigint;
}

export class ReplicaReads {
  /** The primary's WAL positions not yet known to be replayed, oldest first. */
  private samples: Sample[] = [];
  /** Every commit on the primary before this time is on the standby. */
  private coveredAt: number | null = null;
  private state: ReplicaStatus['state'] = 'unmeasured';
  /** Each tenant's last write through this process (src/http/tx.ts): its reads wait for the standby to hold it. */
  private writes = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /**
   * Queries a timed-out tick left waiting: no new tick piles more on a server that does not answer.
   * Meanwhile the bound grows, so the wait errs on the primary's side.
   */
  private stuck = 0;
  private readonly primary: Db;
  private readonly log: Logger;
  /** The replica's own pool (DATABASE_REPLICA_URL). */
  readonly pool: Db;
  readonly maxLagMs: number;
  readonly tickMs: number;
  private readonly report: (m: Measure) => void;

  constructor(primary: Db, pool: Db, maxLagMs: number, log: Logger, opts: { tickMs?: number; report?: (m: Measure) => void } = {}) {
    this.report = opts.report ?? (() => {});
    this.primary = primary;
    this.pool = pool;
    this.maxLagMs = maxLagMs;
    this.log = log;
    // The bound's resolution: under steady writes the standby is a tick behind the newest sample,
    // so a busy but healthy standby reads as up to a tick stale. Ten ticks fit in the bound, so a
    // slow tick does not push it past; two small queries per tick cost nothing.
    this.tickMs = opts.tickMs ?? Math.max(50, Math.min(500, Math.floor(maxLagMs / 10)));
  }

  start(): void {
    void this.measure();
    this.timer = setInterval(() => void this.measure(), this.tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One tick; a tick still running (a standby slow to answer) is not doubled. */
  measure(): Promise<void> {
    this.running ??= this.tick().finally(() => (this.running = null));
    return this.running;
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    this.stuck++;
    const done = () => void this.stuck--;
    p.then(done, done);
    return withTimeout(p, this.tickMs * 4);
  }

  private async tick(): Promise<void> {
    if (this.stuck > 0) return this.publish();
    const at = Date.now();
    let lsn: bigint;
    try {
      // The insert position, not the written one: an asynchronous commit (the agents' pool) is
      // visible before its WAL is written, and must count too. (After a record that ends exactly
      // on a page boundary it reads a page header ahead of what the standby can replay: an idle
      // primary then looks lagging until its next write, which errs on the primary's side.)
      const { rows } = await this.bounded(this.primary.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn'));
      lsn = parseLsn(rows[0]!.lsn);
    } catch {
      // The primary does not answer: no new sample, so the bound grows and reads stay where the
      // primary's own outage handling puts them.
      this.publish();
      return;
    }
    this.samples.push({ at, lsn });
    const before = this.state;
    try {
      const { rows } = await this.bounded(
        this.pool.query<{ standby: boolean; replayed: string | null }>('select pg_is_in_recovery() as standby, pg_last_wal_replay_lsn()::text as replayed'),
      );
      const row = rows[0]!;
      if (!row.standby || row.replayed === null) {
        // A promoted or unrelated server: its data may have left the primary's history.
        this.state = 'not_standby';
      } else {
        this.state = 'ok';
        this.advance(parseLsn(row.replayed));
      }
    } catch (err) {
      this.state = 'unreachable';
      if (before !== 'unreachable') this.log.warn({ err }, 'the read replica does not answer; dashboard and report reads go to the primary');
    }
    if (this.state === 'ok' && (before === 'unreachable' || before === 'not_standby')) this.log.info('the read replica answers again');
    this.prune(at);
    this.publish();
  }

  /** The newest sample the standby has replayed covers its time; older samples are done with. */
  private advance(replayed: bigint): void {
    let i = this.samples.length - 1;
    while (i >= 0 && this.samples[i]!.lsn > replayed) i--;
    if (i < 0) return;
    this.coveredAt = Math.max(this.coveredAt ?? 0, this.samples[i]!.at);
    this.samples.splice(0, i + 1);
  }

  /** A standby far behind would keep every sample: past the bound, the oldest left says enough. */
  private prune(now: number): void {
    const keep = now - Math.max(this.maxLagMs * 4, 60_000);
    while (this.samples.length > 1 && this.samples[1]!.at < keep) this.samples.shift();
    for (const [tenant, at] of this.writes) if (this.coveredAt !== null && at < this.coveredAt) this.writes.delete(tenant);
  }

  private publish(): void {
    this.report({ lagMs: this.lagMs(), up: this.state === 'ok' });
  }

  /** The staleness bound at this moment (ms): how old the newest commit the standby surely holds may be. */
  lagMs(now = Date.now()): number | null {
    return this.coveredAt === null ? null : Math.max(0, now - this.coveredAt);
  }

  /** A write of this tenant committed (on the primary): its reads stay there until the standby has it. */
  noteWrite(tenantId: string): void {
    this.writes.set(tenantId, Date.now());
  }

  /** The standby failed a read: the primary serves until a tick finds it answering again. */
  noteFailure(err: unknown): void {
    if (this.state === 'ok') this.log.warn({ err }, 'a read on the replica failed; reads go to the primary until it answers again');
    this.state = 'unreachable';
    this.publish();
  }

  choose(tenantId: string | null): ReadChoice {
    if (this.state !== 'ok') return { source: 'primary', reason: this.state };
    const lag = this.lagMs();
    if (lag === null) return { source: 'primary', reason: 'unmeasured' };
    if (lag > this.maxLagMs) return { source: 'primary', reason: 'lagging' };
    const wrote = tenantId === null ? undefined : this.writes.get(tenantId);
    if (wrote !== undefined && wrote >= this.coveredAt!) return { source: 'primary', reason: 'own_write' };
    return { source: 'replica', stalenessMs: lag };
  }

  status(): ReplicaStatus {
    return { state: this.state, lag_ms: this.lagMs(), max_lag_ms: this.maxLagMs, serving: this.choose(null).source };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
