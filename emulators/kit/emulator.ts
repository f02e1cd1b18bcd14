// The machinery every platform emulator shares: a Fastify server, accounts, the fault knobs in
// front of the platform's API (faults.ts), the platform's rate limit, outbound notifications
// with duplicates / reordering / retries (deliveries.ts), a feed of every write received, the
// /_control API (control.ts) and the platform's memory across restarts (state.ts).
// Each platform (emulators/<platform>/) supplies only what is its own: paths, payloads, auth,
// throttle answers and signatures, written from that platform's documentation.
import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { TokenBucket } from '../../src/domain/token-bucket.ts';
import { installControl } from './control.ts';
import { Deliveries, type Delivery } from './deliveries.ts';
import { accountOf, installFaults } from './faults.ts';
import { DEFAULT_KNOBS, type Knobs } from './knobs.ts';
import type { AccountInput, BaseAccount, EmulatorSpec, RecordedRequest, SavedBase, WriteRecord } from './spec.ts';
import { STATE_FORMAT, StateFile } from './state.ts';

export interface EmulatorOptions {
  /** JSON file holding the platform's state across restarts; none = in memory only. */
  stateFile?: string | null;
  /** How long after a change the state file is written (changes in between share the write). */
  saveDelayMs?: number;
}

/** The recorder keeps the latest requests only. */
const MAX_RECORDED = 10_000;
export interface ReceivedRequest {
  method: string;
  url: string;
  body: unknown;
}

interface SavedState {
  format: number;
  platform: string;
  savedAt: string;
  accounts: Array<{ base: SavedBase; data: unknown }>;
  shared?: unknown;
}

export class Emulator<A extends BaseAccount> {
  readonly spec: EmulatorSpec<A>;
  readonly app: FastifyInstance;
  readonly accounts = new Map<string, A>();
  readonly events = new EventEmitter();
  knobs: Knobs = { ...DEFAULT_KNOBS };
  /** Calls answered and their outcomes (tests read it to see faults and throttling happened). */
  readonly stats = { calls: 0, faults: 0, throttled: 0, webhooksSent: 0, webhooksFailed: 0 };
  /** Platform API requests received while the `recordRequests` knob is on, oldest first (GET /_control/requests). */
  readonly requests: RecordedRequest[] = [];
  readonly stateFile: StateFile | null;
  /**
   * Platform API requests answered while `recording` is on, in arrival order: method, absolute
   * URL and the parsed body. Tests compare them with what a client meant to send.
   */
  readonly received: ReceivedRequest[] = [];
  recording = false;
  private readonly deliveries: Deliveries;
  url = '';

  constructor(spec: EmulatorSpec<A>, opts: EmulatorOptions = {}) {
    // A sale or a stock edit changes the platform's state whoever calls it (control API or a test).
    this.spec = {
      ...spec,
      sale: async (emu, acc, input) => this.changes(() => spec.sale(emu, acc, input)),
      setLevel: async (emu, acc, input) => this.changes(() => spec.setLevel(emu, acc, input)),
    };
    this.events.setMaxListeners(0);
    this.deliveries = new Deliveries(() => this.knobs, this.stats);
    this.stateFile = opts.stateFile ? new StateFile(opts.stateFile, () => this.snapshot(), opts.saveDelayMs) : null;
    if (this.stateFile) this.restore(this.stateFile.read());
    this.app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
    // Any call that is not a read may have changed something (a write, an order, a token).
    this.app.addHook('onResponse', async (req, reply) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') this.touch();
      if (this.knobs.recordRequests && !req.url.startsWith('/_control')) this.record(req, reply.statusCode);
    });
    installFaults(this);
    // After authentication and body parsing: what reached the platform's own handlers.
    this.app.addHook('preHandler', async (req) => {
      if (this.recording && !req.url.startsWith('/_control'))
        this.received.push({ method: req.method, url: `${this.url}${req.url}`, body: req.body ?? undefined });
    });
    installControl(this);
    this.spec.routes(this.app, this);
  }

  account(req: FastifyRequest): A {
    return accountOf<A>(req);
  }

  /** Opens an account (replacing one with the same id). */
  addAccount(input: AccountInput): A {
    const acc = this.spec.createAccount(input, this.base(input));
    this.accounts.set(acc.id, acc);
    this.touch();
    return acc;
  }

  /**
   * The account the platform kept from an earlier run, with today's credentials and webhook
   * target; a new one (from `input.items`) when there is none.
   */
  reopenAccount(input: AccountInput): { account: A; kept: boolean } {
    const acc = this.accounts.get(input.id);
    if (!acc) return { account: this.addAccount(input), kept: false };
    acc.credentials = input.credentials;
    acc.webhookUrl = input.webhookUrl ?? null;
    acc.webhookSecret = input.webhookSecret ?? null;
    this.touch();
    return { account: acc, kept: true };
  }

  /** Called by platform routes after a write was applied: feeds the write log and the bench. */
  recordWrite(accountId: string, externalId: string, qty: number | null, available: boolean | null = null): void {
    const rec: WriteRecord = { accountId, externalId, qty, available, at: Date.now() };
    this.events.emit('write', rec);
  }

  /**
   * Posts a notification to the account's webhook target (or `url`) the way platforms do: at
   * least once, maybe twice, maybe late, retried on non-2xx. `drain()` waits for them.
   */
  sendWebhook(account: A, delivery: Delivery & { url?: string }): void {
    const url = delivery.url ?? account.webhookUrl;
    if (url) this.deliveries.send(url, delivery);
  }

  /** Waits until every webhook in flight has been delivered or given up. */
  async drain(): Promise<void> {
    await this.deliveries.drain();
  }

  /** Platform state changed outside a request (the kit sees requests itself): save it soon. */
  touch(): void {
    this.stateFile?.touch();
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const addr = await this.app.listen({ port, host });
    this.url = addr.replace('localhost', '127.0.0.1');
    return this.url;
  }

  async close(): Promise<void> {
    this.deliveries.stop();
    await this.app.close();
    await this.stateFile?.flush();
  }

  private record(req: FastifyRequest, status: number): void {
    const ct = req.headers['content-type'];
    // A file upload is kept as its size: the bytes say nothing a test compares, and would fill memory.
    const body = Buffer.isBuffer(req.body) ? { bytes: req.body.length } : (req.body ?? null);
    this.requests.push({
      method: req.method,
      url: req.url,
      contentType: typeof ct === 'string' ? ct.split(';')[0]!.trim() : null,
      body,
      authorization: typeof req.headers.authorization === 'string' ? req.headers.authorization : null,
      status,
      at: Date.now(),
    });
    if (this.requests.length > MAX_RECORDED) this.requests.splice(0, this.requests.length - MAX_RECORDED);
  }

  private async changes<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } finally {
      this.touch();
    }
  }

  private base(b: SavedBase | AccountInput): BaseAccount {
    return {
      id: b.id,
      credentials: b.credentials,
      webhookUrl: b.webhookUrl ?? null,
      webhookSecret: b.webhookSecret ?? null,
      bucket: new TokenBucket(this.spec.rateLimit.perSecond, this.spec.rateLimit.burst),
    };
  }

  private snapshot(): SavedState {
    return {
      format: STATE_FORMAT,
      platform: this.spec.platform,
      savedAt: new Date().toISOString(),
      accounts: [...this.accounts.values()].map((a) => ({
        base: { id: a.id, credentials: a.credentials, webhookUrl: a.webhookUrl, webhookSecret: a.webhookSecret },
        data: this.spec.saveAccount(a),
      })),
      ...(this.spec.saveShared ? { shared: this.spec.saveShared() } : {}),
    };
  }

  private restore(raw: unknown): void {
    if (raw === null) return;
    const s = raw as Partial<SavedState>;
    const where = this.stateFile?.path ?? 'state';
    // Someone else's file at this path is a configuration mistake, not something to overwrite.
    if (s.platform !== this.spec.platform) throw new Error(`${where} holds ${String(s.platform)} state, not ${this.spec.platform}`);
    if (s.format !== STATE_FORMAT || !Array.isArray(s.accounts)) throw new Error(`${where}: unknown state format ${String(s.format)}`);
    for (const { base, data } of s.accounts) this.accounts.set(base.id, this.spec.loadAccount(data, this.base(base)));
    if (s.shared !== undefined) this.spec.loadShared?.(s.shared);
  }
}
