// A transaction's opening statements (`begin`, and for a tenant its role and setting) sent in the
// same write as its first statement, instead of a round trip of their own. On loopback every round
// trip costs both processes a socket write and a wakeup: profiling `bench medusa`, the product's
// socket writes were ~40% of its CPU, at three round trips per API write.
//
// How: the opening statements go as extended-protocol messages (parse, bind, execute, each
// unnamed) in front of the first statement's own, all under its one Sync. Postgres runs them in
// order; should one fail, it skips everything up to the Sync, so the first statement can never
// run outside the transaction. Only a statement that travels the extended protocol anyway (it has
// parameters or a name) is taken: a bare text may hold several statements, which the extended
// protocol refuses; such a first statement gets the opening sent before it, as before.
//
// The same query can also carry the transaction's CLOSING statements (the writes waiting for the
// commit, then `commit`) after its own Execute, under the same Sync: a transaction of one
// statement is then one round trip in all (`commitWith` in src/db/pool.ts). Should the statement
// fail, Postgres skips the closing too, and the transaction is still open for the caller's rollback.
import pg from 'pg';

interface Connection {
  parse(m: { text: string; name: string; types: unknown[] }): void;
  bind(m: { portal: string; statement: string; values: unknown[] }): void;
  execute(m: { portal: string; rows: number }): void;
  submittedNamedStatements: Record<string, string | undefined>;
  stream: { cork?: () => void; uncork?: () => void };
}

type Callback = (err: Error | null, res?: pg.QueryResult) => void;

// pg.Query's protocol methods are not in its published types.
const QueryBase = pg.Query as unknown as new (config: pg.QueryConfig & { callback: Callback }) => {
  submit(connection: Connection): Error | null;
  handleCommandComplete(msg: unknown, connection: Connection): void;
  handleError(err: Error, connection: Connection): void;
};

/** One statement of the opening or closing: parse, bind and execute, all unnamed, no parameters. */
function sendUnnamed(connection: Connection, text: string): void {
  connection.parse({ text, name: '', types: [] });
  connection.bind({ portal: '', statement: '', values: [] });
  connection.execute({ portal: '', rows: 0 });
}

class OpenThenQuery extends QueryBase {
  /** Set before super() returns (pg.Query's constructor assigns `name`): kept off the class fields. */
  declare private ownName: string | undefined;
  /** Opening statements whose completion has not come back yet. */
  private pending: number;
  /** While our own messages are written, the name is ours (pg.Query's prepare reads it). */
  private writing = false;
  private readonly opening: readonly string[];
  private readonly closing: readonly string[];
  /** The query's own CommandComplete has come: what completes after it is the closing's. */
  private done = false;

  constructor(opening: readonly string[], config: pg.QueryConfig, callback: Callback, closing: readonly string[] = []) {
    super({ ...config, callback });
    this.opening = opening;
    this.closing = closing;
    this.pending = opening.length;
  }

  // pg's client records "statement <name> is prepared" on every ParseComplete, and forgets a
  // submitted name on an error, by the active query's name: the opening statements' own
  // ParseCompletes (and an error in them, before our Parse ran) must not count as ours.
  get name(): string | undefined {
    return this.pending > 0 && !this.writing ? undefined : this.ownName;
  }
  set name(v: string | undefined) {
    this.ownName = v;
  }

  override submit(connection: Connection): Error | null {
    connection.stream.cork?.();
    try {
      for (const text of this.opening) sendUnnamed(connection, text);
      this.writing = true;
      return super.submit(connection);
    } finally {
      this.writing = false;
      connection.stream.uncork?.();
    }
  }

  // pg.Query sends its Execute and then the Sync here: the closing goes between the two. (Only
  // for a query read whole; pg.Query pages with `rows`, which a closing query never sets.)
  _getRows(connection: Connection & { sync(): void }, rows?: number): void {
    if (this.closing.length === 0 || rows)
      return (QueryBase.prototype as unknown as { _getRows: (c: Connection, r?: number) => void })._getRows.call(this, connection, rows);
    connection.execute({ portal: (this as unknown as { portal: string }).portal, rows: 0 });
    for (const text of this.closing) sendUnnamed(connection, text);
    connection.sync();
  }

  override handleCommandComplete(msg: unknown, connection: Connection): void {
    if (this.pending > 0) {
      this.pending--;
      return;
    }
    if (this.done) return; // a closing statement's
    this.done = true;
    super.handleCommandComplete(msg, connection);
  }

  override handleError(err: Error, connection: Connection): void {
    // An opening statement failed: Postgres skipped our Parse too, so it is not prepared.
    if (this.pending > 0 && this.ownName) delete connection.submittedNamedStatements[this.ownName];
    super.handleError(err, connection);
  }
}

type QueryFn = (config: unknown, values?: unknown, cb?: unknown) => unknown;

/**
 * Sends `config` on `client` with `opening` before it and `closing` after it, all in one write under
 * one Sync (above). `config` must travel the extended protocol: a parametrized or named statement.
 */
export function queryWith(client: pg.PoolClient, opening: readonly string[], config: pg.QueryConfig, closing: readonly string[]): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    (client.query as unknown as QueryFn).call(client, new OpenThenQuery(opening, config, (err, res) => (err ? reject(err) : resolve(res!)), closing));
  });
}

/** `config` without its name when `strip` (behind a transaction pooler, where names do not hold). */
export function unnamedIf(config: pg.QueryConfig, strip: boolean): pg.QueryConfig {
  if (!strip) return config;
  const { name: _, ...rest } = config;
  return rest;
}

/** A statement the extended protocol can carry: it has parameters or a name. */
export function travelsExtended(config: pg.QueryConfig): boolean {
  return (config.values?.length ?? 0) > 0 || !!config.name;
}

export interface Opening {
  /** Whether the opening has gone out. */
  opened(): boolean;
  /** Sends the opening now, if it has not gone out. */
  open(): Promise<void>;
  /** Sends `config` (travelsExtended) with the opening before it if it has not gone out, and `closing` after it. */
  last(config: pg.QueryConfig, closing: readonly string[]): Promise<pg.QueryResult>;
  /** Puts the client's own `query` back (before it returns to the pool). */
  restore(): void;
}

/**
 * Installs on `client` a one-shot `query` that sends `opening` with the first statement (above) or,
 * for a first statement that cannot carry it, just before it.
 */
export function openWithFirst(client: pg.PoolClient, opening: readonly string[], stripNames: boolean): Opening {
  const own = Object.prototype.hasOwnProperty.call(client, 'query');
  const original = client.query as unknown as QueryFn;
  const target = client as unknown as { query: QueryFn };
  let opened = false;
  const restore = () => {
    if (own) target.query = original;
    else delete (target as { query?: QueryFn }).query;
  };
  const open = async () => {
    if (opened) return;
    opened = true;
    restore();
    await (original.call(client, opening.join('; ')) as Promise<unknown>);
  };
  target.query = (config: unknown, values?: unknown, cb?: unknown) => {
    const qc = (typeof config === 'string' ? { text: config, values } : config) as (pg.QueryConfig & { submit?: unknown }) | null;
    const plain = qc && typeof qc === 'object' && typeof qc.submit !== 'function' && typeof values !== 'function' && cb === undefined;
    const conf = plain ? unnamedIf({ ...qc, values: qc.values ?? (Array.isArray(values) ? values : undefined) }, stripNames) : null;
    if (!conf || !travelsExtended(conf)) return open().then(() => original.call(client, config, values, cb));
    opened = true;
    restore();
    return queryWith(client, opening, conf, []);
  };
  const last = (config: pg.QueryConfig, closing: readonly string[]) => {
    const first = !opened;
    opened = true;
    restore();
    return queryWith(client, first ? opening : [], unnamedIf(config, stripNames), closing);
  };
  return { opened: () => opened, open, last, restore };
}
