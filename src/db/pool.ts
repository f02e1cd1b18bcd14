// Connection pool and the one transaction helper every writer uses.
import pg from 'pg';
import { openWithFirst, queryWith, travelsExtended, unnamedIf, type Opening } from './open-with-first.ts';
import { RANDOM_PAGE_COST, UnpreparedClient } from './pooler.ts';

// int8 columns (movement ids, counters) fit in a JS number for this product's lifetime.
pg.types.setTypeParser(20, (v) => Number(v));

export type Db = pg.Pool;
export type Tx = pg.PoolClient;

export interface PoolOptions {
  /**
   * Commit without waiting for the WAL flush (synchronous_commit = off). Only for work that is
   * redone from durable inputs when lost: the agents' jobs. A crash can forget their last few
   * hundred milliseconds of commits, never a sale: every event, API write and job they start from
   * is committed synchronously first, and a synchronous commit flushes all WAL before it, so
   * nothing durable can depend on a forgotten commit. The win: agents stop queueing for fsync
   * (and for the notify lock, held across the flush) behind webhook intake.
   */
  asyncCommit?: boolean;
  /**
   * `url` is a transaction-mode pooler (DATABASE_DIRECT_URL set; src/db/pooler.ts): statements go
   * unnamed, and the settings travel with each transaction rather than with the connection.
   */
  transactionPooler?: boolean;
  /** Postgres cancels a statement of this pool's running longer (statement_timeout): for work that is worthless late, such as a heartbeat. */
  statementTimeoutMs?: number;
  /** Give up connecting after this long (default: wait as long as the server takes). */
  connectTimeoutMs?: number;
  /** Names the pool's connections in pg_stat_activity and the server's log. */
  applicationName?: string;
}

/**
 * Per pool: the `set local` statements every runTx transaction opens with, behind a transaction
 * pooler. A startup `options` is refused there (PgBouncer knows no such parameter), and a plain
 * `set` would stay on a server connection other clients are then lent. `set local` ends with the
 * transaction and rides in the same simple query as the `begin`: no round trip added, and the
 * agents' transactions keep their asynchronous commit. Statements outside a transaction (the API's
 * reads, item search among them) get the database's own values: the operator sets the planner's
 * for the database (README "Behind PgBouncer"; the server warns at start when it is missing,
 * plannerWarning in src/db/pooler.ts). Not synchronous_commit: set for a database or role, it
 * would make the API's writes asynchronous too.
 */
const txSettings = new WeakMap<Db, string[]>();

export function createPool(url: string, max = 20, opts: PoolOptions = {}): Db {
  const settings: Array<[string, string]> = [
    // random_page_cost for SSDs (Postgres' default of 4 assumes spinning disks): without it the
    // planner prefers a scan of every item to the trigram indexes item search needs.
    ['random_page_cost', String(RANDOM_PAGE_COST)],
    ...(opts.asyncCommit ? [['synchronous_commit', 'off'] as [string, string]] : []),
    ...(opts.statementTimeoutMs ? [['statement_timeout', String(opts.statementTimeoutMs)] as [string, string]] : []),
  ];
  const base: pg.PoolConfig = {
    connectionString: url,
    max,
    idleTimeoutMillis: 30_000,
    ...(opts.connectTimeoutMs ? { connectionTimeoutMillis: opts.connectTimeoutMs } : {}),
    ...(opts.applicationName ? { application_name: opts.applicationName } : {}),
  };
  const pool = opts.transactionPooler
    ? new pg.Pool({ ...base, Client: UnpreparedClient })
    : new pg.Pool({ ...base, options: settings.map(([k, v]) => `-c ${k}=${v}`).join(' ') });
  if (opts.transactionPooler)
    txSettings.set(
      pool,
      settings.map(([k, v]) => `set local ${k} = ${v}`),
    );
  // A dropped connection must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * A named (prepared) statement: each connection plans it once. Our hot statements are big CTEs
 * whose planning costs as much as running them; a name makes every later call skip the planner.
 * Behind a transaction pooler the pool sends it unnamed (UnpreparedClient, src/db/pooler.ts).
 */
export function named(name: string, text: string, values: unknown[]): pg.QueryConfig {
  return { name, text, values };
}

/** Postgres gave up on the transaction for a reason a retry resolves (deadlock, serialization). */
const RETRYABLE = new Set(['40P01', '40001']);

/**
 * Runs `fn` in a transaction on the connecting role: the SYSTEM path, which row-level security does
 * not restrict (superuser or table owner). Cross-tenant work (workers, auth lookups by secret,
 * operators) uses it; tenant-scoped work uses `tenantTx` (src/db/tenant-tx.ts). A deadlock or
 * serialization failure rolls back and runs `fn` again (a few times, with jitter): every writer's
 * `fn` is a pure function of the database state.
 */
export function withTx<T>(db: Db, fn: (tx: Tx) => Promise<T>, attempts = 5): Promise<T> {
  return runTx(db, ['begin'], fn, attempts);
}

/** Statements of an open transaction (runTx's) that wait for its commit and go with it. */
const atCommit = new WeakMap<object, string[]>();

/** Per open transaction (runTx's): what `commitWith` needs, once its owner says nothing follows the work. */
interface Ending {
  /** Sends the last statement with the closing; the opening goes before it if it has not gone out. */
  last(config: pg.QueryConfig, closing: readonly string[]): Promise<pg.QueryResult>;
  /** The owner's word that it runs nothing after the work (`nothingFollows`). */
  allowed: boolean;
  /** The commit has gone out with a statement: runTx sends none of its own. */
  committed: boolean;
  /** Takes commitWith's guard off the client (its `query` as it was before); safe to call again. */
  unguard?: () => void;
  /** The work wrote outbox rows (`wroteJobs`): after the commit the relay has something to move. */
  jobs: boolean;
}
const endings = new WeakMap<object, Ending>();

/**
 * Sends a write nothing in the transaction reads back (an audit row) with the commit instead of on
 * its own: one round trip fewer per write. Only inside runTx (returns false elsewhere: the caller
 * runs it itself). `build` gets a quoting function and must quote every value with it; the
 * statement travels as a simple query, so it has no parameters. If it fails, the commit does not
 * happen and the transaction rolls back, exactly as if it had failed when it was called.
 */
export function deferToCommit(q: object, build: (literal: (v: string | null) => string) => string): boolean {
  if (endings.get(q)?.committed) throw new Error('deferToCommit after the transaction committed (commitWith must be its last statement)');
  const list = atCommit.get(q);
  if (!list) return false;
  const tx = q as Tx;
  list.push(build((v) => (v === null ? 'null' : tx.escapeLiteral(v))));
  return true;
}

/**
 * The owner of a runTx transaction (the one who called it) says it runs no statement of its own
 * after the work it hands `fn`: the work's `commitWith` may then end the transaction. The API's
 * write path says so when the request stores no idempotent answer after the service's work.
 */
export function nothingFollows(tx: object): void {
  const e = endings.get(tx);
  if (e) e.allowed = true;
}

/**
 * Runs `config` as its transaction's LAST statement and, where the transaction's owner allows it
 * (`nothingFollows`), commits with it: the writes waiting for the commit and `commit` itself go in
 * the same write, under the same Sync (src/db/open-with-first.ts). A transaction of one statement,
 * such as the API's stock take-out, is then one round trip. Elsewhere (not in runTx, not allowed,
 * a statement the extended protocol cannot carry) it is a plain query and the commit comes later.
 *
 * The caller must run nothing in the transaction after it: on a committed transaction another
 * statement throws, as does `deferToCommit`. A failure rolls back as usual. The caller may still
 * throw after a committed statement (a check the statement reported failing): the statement must
 * then have changed nothing, for there is nothing left to roll back.
 */
export async function commitWith<R extends pg.QueryResultRow = pg.QueryResultRow>(tx: Tx, config: pg.QueryConfig): Promise<pg.QueryResult<R>> {
  const e = endings.get(tx);
  if (!e?.allowed || !travelsExtended(config)) return tx.query<R>(config);
  const closing = [...(atCommit.get(tx) ?? []), 'commit'];
  const r = await e.last(config, closing);
  e.committed = true;
  atCommit.delete(tx);
  // Anything after this would run outside the transaction it was written for.
  const target = tx as unknown as { query: unknown };
  const own = Object.prototype.hasOwnProperty.call(tx, 'query');
  const before = target.query;
  target.query = () => {
    throw new Error('query on a transaction commitWith already committed');
  };
  e.unguard = () => {
    if (own) target.query = before;
    else delete (target as { query?: unknown }).query;
  };
  return r as pg.QueryResult<R>;
}

/**
 * The work wrote rows to the job outbox in `tx`, or may have: the transaction's owner nudges the
 * relay once it has committed (src/http/tx.ts). Outside runTx it does nothing.
 */
export function wroteJobs(tx: object): void {
  const e = endings.get(tx);
  if (e) e.jobs = true;
}

/** Whether the work said it wrote outbox rows in `tx` (`wroteJobs`); true where nobody tracks it (not runTx's). */
export function jobsWritten(tx: object): boolean {
  return endings.get(tx)?.jobs ?? true;
}

/** Whether a `commitWith` statement has committed `tx` (nothing may run in it any more). */
export function committedWith(tx: object): boolean {
  return endings.get(tx)?.committed === true;
}

/**
 * Thrown by work whose `commitWith` statement committed but, by its own report, wrote nothing and
 * must run again (the ledger's lean take-out finding a subscriber): runTx runs the whole body again
 * in a new transaction, which it does for no other error once committed. The thrower vouches that
 * the committed transaction changed nothing.
 */
export class NothingWritten extends Error {}

/**
 * `withTx` with the statements that open the transaction given. A list of single statements goes
 * out with the transaction's first statement, in the same write (src/db/open-with-first.ts): no
 * round trip of its own. A string (which may hold several statements) is sent on its own first.
 */
export async function runTx<T>(db: Db, begin: string | string[] | ((tx: Tx) => string | string[]), fn: (tx: Tx) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const tx = await db.connect();
    let broken = false;
    const deferred: string[] = [];
    const settings = txSettings.get(db);
    let opening: Opening | null = null;
    const ending: Ending = {
      allowed: false,
      committed: false,
      jobs: false,
      last: (config, closing) => (opening ? opening.last(config, closing) : queryWith(tx, [], unnamedIf(config, settings !== undefined), closing)),
    };
    try {
      const open = typeof begin === 'function' ? begin(tx) : begin;
      if (typeof open === 'string') await tx.query(settings ? [open, ...settings].join('; ') : open);
      else opening = openWithFirst(tx, settings ? [...open, ...settings] : open, settings !== undefined);
      atCommit.set(tx, deferred);
      endings.set(tx, ending);
      const out = await fn(tx);
      atCommit.delete(tx);
      if (ending.committed) return out;
      // Nothing ran and nothing waits for the commit: there is no transaction to end.
      if (opening && !opening.opened() && deferred.length === 0) {
        opening.restore();
        return out;
      }
      await opening?.open();
      await tx.query(deferred.length ? `${deferred.join(';\n')};\ncommit` : 'commit');
      return out;
    } catch (err) {
      // commitWith's guard is an own `query` on the client: off before the rollback, and before the pool has it back.
      opening?.restore();
      ending.unguard?.();
      // A connection that could not roll back may still hold the transaction, its role and its
      // settings: it must not go back to the pool for another caller to inherit them. (After
      // commitWith there is none: Postgres only warns.)
      broken = await tx.query('rollback').then(
        () => false,
        () => true,
      );
      const again = err instanceof NothingWritten || (!ending.committed && RETRYABLE.has((err as { code?: string }).code ?? ''));
      if (!again || attempt >= attempts) throw err;
      if (err instanceof NothingWritten) continue;
      await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
    } finally {
      opening?.restore();
      ending.unguard?.();
      atCommit.delete(tx);
      endings.delete(tx);
      tx.release(broken);
    }
  }
}
