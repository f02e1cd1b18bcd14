// Running behind a transaction-mode pooler (PgBouncer pool_mode = transaction; DATABASE_DIRECT_URL
// set, src/config.ts). Such a pooler lends a server connection for one transaction, then gives it
// to another client: whatever outlives a transaction on a connection (a prepared statement, a
// session setting, a LISTEN, a session advisory lock) lands in a stranger's session, or is lost.
// The pools (createPool with `transactionPooler`) send nothing of the kind; what truly needs a
// session of its own connects to DATABASE_DIRECT_URL instead.
import pg from 'pg';
import type { Db } from './pool.ts';

/** A query config without its statement name: pg then sends it as the unnamed statement. */
function unnamed(config: unknown): unknown {
  // Only plain configs: a submittable (a cursor, a stream) carries its own protocol.
  if (!config || typeof config !== 'object' || !('name' in config) || typeof (config as { submit?: unknown }).submit === 'function') return config;
  const { name: _, ...rest } = config as { name?: unknown };
  return rest;
}

/**
 * The pool's client behind a transaction pooler: every statement unnamed. `named()` (src/db/pool.ts)
 * and graphile-worker ask for named statements, which Postgres keeps per session; through a
 * transaction pooler the next call with that name lands on a server connection that never
 * prepared it ("prepared statement does not exist"), or on one that did and refuses it again
 * ("already exists"); PgBouncer 1.18 cannot track them. Stripping the name here, in the one
 * class every pooled query goes through, keeps the call sites as they are. The unnamed statement
 * is parsed, bound and run in one round trip, as a pooler needs. What is lost: each call is
 * planned again, the price of running behind a transaction pooler.
 */
export class UnpreparedClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    this.query = ((config: unknown, ...rest: unknown[]) => query(unnamed(config), ...rest)) as pg.Client['query'];
  }
}

type ConnectCallback = (err: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * `pool` for graphile-worker, with its LISTEN connection taken from `direct`. graphile-worker takes
 * one pool and keeps one of its connections for LISTEN "jobs:insert" (a new job wakes a worker at
 * once); through a transaction pooler that LISTEN would stay behind on a server connection other
 * clients use, and the notifications would be lost (the workers would fall back to polling). In
 * graphile-worker 0.18 the listener is the one caller that connects with a callback
 * (`pgPool.connect(listenForChanges)`, dist/main.js); its jobs `await pgPool.connect()`.
 * test/e2e/pgbouncer.test.ts checks that the LISTEN runs on a direct session, should that change.
 */
export function listenThrough(pool: Db, direct: Db): Db {
  return new Proxy(pool, {
    get(target, prop) {
      if (prop === 'connect') return (cb?: ConnectCallback) => (cb ? direct.connect(cb) : target.connect());
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The planner cost createPool's options give a direct connection (src/db/pool.ts). */
export const RANDOM_PAGE_COST = 1.1;

/**
 * Why item search may plan badly through the pooler, or null. Outside a transaction a pooled
 * statement gets the database's random_page_cost (no startup options there); at Postgres' default
 * of 4 the planner prefers a scan of every item to the trigram index. The fix is the operator's
 * (`ALTER DATABASE ... SET`, or PgBouncer's connect_query): StockClerk's user may not own the
 * database, and an ALTER from here would outlive the process.
 */
export async function plannerWarning(db: Db): Promise<string | null> {
  const { rows } = await db.query<{ cost: number; db: string }>(`select current_setting('random_page_cost')::float8 as cost, current_database() as db`);
  const r = rows[0]!;
  if (r.cost <= RANDOM_PAGE_COST) return null;
  return `random_page_cost is ${r.cost} on connections through the pooler: item search may scan every item. Run ALTER DATABASE "${r.db}" SET random_page_cost = ${RANDOM_PAGE_COST}`;
}
