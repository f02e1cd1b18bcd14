// Shared machinery for the platform emulators: accounts, fault knobs (latency, 5xx, 429,
// timeouts), the platform's rate limit, webhook delivery with duplicates / reordering / retries,
// a log of every write we receive, and the /_control API tests and the demo drive.
// Each platform's emulator (src/channels/<type>/emulator.ts) supplies only what is platform
// specific: its paths, payloads, auth, throttle response and signatures.
import { EventEmitter } from 'node:events';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';
import { TokenBucket } from '../../domain/token-bucket.ts';

export interface Knobs {
  /** Added to every platform API response. */
  latencyMs: number;
  /** Share of API calls answered 5xx (nothing applied). */
  errorRate: number;
  /** Share of API calls answered with the platform's throttle response (nothing applied). */
  throttleRate: number;
  /** Share of API calls that never answer in time: half hang before applying, half apply then hang. */
  timeoutRate: number;
  /** How long a "timeout" hangs before the socket is dropped. */
  timeoutHangMs: number;
  /** Every webhook leaves this long after its cause (platforms dispatch them from a queue, not inline). */
  webhookDelayMs: number;
  /** Share of webhooks delivered twice. */
  duplicateRate: number;
  /** Share of webhooks held back (0..reorderDelayMs) so later ones overtake them. */
  reorderRate: number;
  reorderDelayMs: number;
  /** Attempts per webhook before the emulator gives up (platforms retry on non-2xx). */
  webhookMaxAttempts: number;
  /** Enforce the platform's documented rate limit (off only for scale benchmarks that model a plan with more quota). */
  enforceRateLimit: boolean;
}

export const DEFAULT_KNOBS: Knobs = {
  latencyMs: 0,
  errorRate: 0,
  throttleRate: 0,
  timeoutRate: 0,
  timeoutHangMs: 3000,
  webhookDelayMs: 0,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 300,
  webhookMaxAttempts: 8,
  enforceRateLimit: true,
};

export interface AccountInput {
  /** Emulator-side account id (shop, site, device...). */
  id: string;
  /** Whatever the platform authenticates with (token, key/secret, client id/secret). */
  credentials: Record<string, string>;
  /** Where the platform sends webhooks (StockClerk's /webhooks/:type/:channelId), and what it signs them with. */
  webhookUrl?: string | null;
  webhookSecret?: string | null;
  items: Array<{ sku: string; name: string; qty: number; externalId?: string }>;
}

export interface BaseAccount {
  id: string;
  credentials: Record<string, string>;
  webhookUrl: string | null;
  webhookSecret: string | null;
  bucket: TokenBucket;
}

export interface WriteRecord {
  accountId: string;
  externalId: string;
  /** Quantity held after the write (null for availability-only platforms). */
  qty: number | null;
  available: boolean | null;
  at: number;
}

export interface ItemState {
  externalId: string;
  sku: string | null;
  name: string | null;
  qty: number | null;
  available: boolean | null;
}

export interface EmulatorSpec<A extends BaseAccount> {
  type: string;
  /** Documented limit per account. */
  rateLimit: { perSecond: number; burst: number };
  createAccount(input: AccountInput, base: BaseAccount): A;
  /** Finds the account a platform API call authenticates as; null -> `unauthorized`. */
  authenticate(req: FastifyRequest, accounts: Map<string, A>): A | null;
  unauthorized(reply: FastifyReply): FastifyReply;
  throttled(reply: FastifyReply, retryAfterSec: number): FastifyReply;
  serverError(reply: FastifyReply): FastifyReply;
  /** Platform API routes; handlers get the authenticated account from `emu.account(req)`. */
  routes(app: FastifyInstance, emu: Emulator<A>): void;
  /** "A customer bought this here": update the platform's own state and send its webhooks. */
  sale(emu: Emulator<A>, account: A, input: { externalId?: string; sku?: string; qty: number }): Promise<Record<string, unknown>>;
  /** Drift injection: the merchant edited stock on the platform directly. */
  setLevel(emu: Emulator<A>, account: A, input: { externalId?: string; sku?: string; qty: number }): Promise<Record<string, unknown>>;
  state(account: A): ItemState[];
}

export type Fault = 'none' | 'error' | 'throttle' | 'hang' | 'lose_response';

const webhookAgent = new Agent({ keepAliveTimeout: 10_000, connections: 64 });

export class Emulator<A extends BaseAccount> {
  readonly spec: EmulatorSpec<A>;
  readonly app: FastifyInstance;
  readonly accounts = new Map<string, A>();
  readonly events = new EventEmitter();
  knobs: Knobs = { ...DEFAULT_KNOBS };
  /** Calls answered per account and outcome (tests read it to see faults and throttling happened). */
  readonly stats = { calls: 0, faults: 0, throttled: 0, webhooksSent: 0, webhooksFailed: 0 };
  private readonly pending = new Set<Promise<unknown>>();
  private closed = false;
  url = '';

  constructor(spec: EmulatorSpec<A>) {
    this.spec = spec;
    this.events.setMaxListeners(0);
    this.app = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
    this.installFaults();
    this.installControl();
    spec.routes(this.app, this);
  }

  account(req: FastifyRequest): A {
    return (req as FastifyRequest & { emuAccount: A }).emuAccount;
  }

  addAccount(input: AccountInput): A {
    const base: BaseAccount = {
      id: input.id,
      credentials: input.credentials,
      webhookUrl: input.webhookUrl ?? null,
      webhookSecret: input.webhookSecret ?? null,
      bucket: new TokenBucket(this.spec.rateLimit.perSecond, this.spec.rateLimit.burst),
    };
    const acc = this.spec.createAccount(input, base);
    this.accounts.set(acc.id, acc);
    return acc;
  }

  /** Called by platform routes after a write was applied: feeds the write log and the bench. */
  recordWrite(accountId: string, externalId: string, qty: number | null, available: boolean | null = null): void {
    const rec: WriteRecord = { accountId, externalId, qty, available, at: Date.now() };
    this.events.emit('write', rec);
  }

  /**
   * Delivers a webhook the way platforms do: at least once, maybe twice, maybe late, retried
   * on non-2xx with backoff. Fire and forget; `drain()` waits for in-flight deliveries.
   */
  sendWebhook(account: A, delivery: { headers: Record<string, string>; body: string; url?: string }): void {
    const url = delivery.url ?? account.webhookUrl;
    if (!url || this.closed) return;
    const copies = Math.random() < this.knobs.duplicateRate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.knobs.webhookDelayMs + (Math.random() < this.knobs.reorderRate ? Math.random() * this.knobs.reorderDelayMs : 0);
      const p = this.deliver(url, delivery, delay).finally(() => this.pending.delete(p));
      this.pending.add(p);
    }
  }

  private async deliver(url: string, d: { headers: Record<string, string>; body: string }, delayMs: number): Promise<void> {
    if (delayMs > 0) await sleep(delayMs);
    for (let attempt = 1; attempt <= this.knobs.webhookMaxAttempts && !this.closed; attempt++) {
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...d.headers },
          body: d.body,
          dispatcher: webhookAgent,
          headersTimeout: 5000,
          bodyTimeout: 5000,
        });
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) {
          this.stats.webhooksSent++;
          return;
        }
      } catch {
        // connection refused / timeout: retried like a platform would
      }
      await sleep(Math.min(5000, 200 * 2 ** (attempt - 1)));
    }
    this.stats.webhooksFailed++;
  }

  /** Waits until every webhook in flight has been delivered or given up. */
  async drain(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const addr = await this.app.listen({ port, host });
    this.url = addr.replace('localhost', '127.0.0.1');
    return this.url;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.app.close();
  }

  private pickFault(): Fault {
    const k = this.knobs;
    let r = Math.random();
    if ((r -= k.errorRate) < 0) return 'error';
    if ((r -= k.throttleRate) < 0) return 'throttle';
    if ((r -= k.timeoutRate) < 0) return Math.random() < 0.5 ? 'hang' : 'lose_response';
    return 'none';
  }

  private installFaults(): void {
    this.app.addHook('onRequest', async (req, reply) => {
      if (req.url.startsWith('/_control')) return;
      this.stats.calls++;
      const acc = this.spec.authenticate(req, this.accounts);
      if (!acc) return this.spec.unauthorized(reply);
      (req as FastifyRequest & { emuAccount: A }).emuAccount = acc;
      if (this.knobs.latencyMs > 0) await sleep(this.knobs.latencyMs);
      if (this.knobs.enforceRateLimit) {
        const wait = acc.bucket.take();
        if (wait > 0) {
          this.stats.throttled++;
          return this.spec.throttled(reply, Math.max(1, Math.ceil(wait / 1000)));
        }
      }
      const fault = this.pickFault();
      if (fault === 'none') return;
      this.stats.faults++;
      if (fault === 'error') return this.spec.serverError(reply);
      if (fault === 'throttle') return this.spec.throttled(reply, 1);
      if (fault === 'hang') {
        await sleep(this.knobs.timeoutHangMs);
        req.raw.socket.destroy();
        return reply;
      }
      (req as FastifyRequest & { loseResponse?: boolean }).loseResponse = true;
    });
    // "Applied, but the answer never came": the write happened, the client sees a timeout.
    this.app.addHook('onSend', async (req, _reply, payload) => {
      if ((req as FastifyRequest & { loseResponse?: boolean }).loseResponse) {
        await sleep(this.knobs.timeoutHangMs);
        req.raw.socket.destroy();
      }
      return payload;
    });
  }

  private installControl(): void {
    const app = this.app;
    const find = (id: string, reply: FastifyReply): A | null => {
      const acc = this.accounts.get(id);
      if (!acc) void reply.code(404).send({ error: `no account ${id}` });
      return acc ?? null;
    };
    app.get('/_control/knobs', async () => this.knobs);
    app.post('/_control/knobs', async (req) => {
      this.knobs = { ...this.knobs, ...(req.body as Partial<Knobs>) };
      return this.knobs;
    });
    app.get('/_control/stats', async () => this.stats);
    app.post('/_control/accounts', async (req, reply) => {
      const acc = this.addAccount(req.body as AccountInput);
      return reply.code(201).send({ id: acc.id, items: this.spec.state(acc) });
    });
    app.post('/_control/accounts/:id/webhook', async (req, reply) => {
      const acc = find((req.params as { id: string }).id, reply);
      if (!acc) return reply;
      const b = req.body as { url?: string | null; secret?: string | null };
      if (b.url !== undefined) acc.webhookUrl = b.url;
      if (b.secret !== undefined) acc.webhookSecret = b.secret;
      return { ok: true };
    });
    app.get('/_control/accounts/:id/state', async (req, reply) => {
      const acc = find((req.params as { id: string }).id, reply);
      if (!acc) return reply;
      return { items: this.spec.state(acc) };
    });
    app.post('/_control/accounts/:id/sale', async (req, reply) => {
      const acc = find((req.params as { id: string }).id, reply);
      if (!acc) return reply;
      const body = req.body as { externalId?: string; sku?: string; qty?: number };
      return this.spec.sale(this, acc, { ...body, qty: body.qty ?? 1 });
    });
    app.post('/_control/accounts/:id/set', async (req, reply) => {
      const acc = find((req.params as { id: string }).id, reply);
      if (!acc) return reply;
      const body = req.body as { externalId?: string; sku?: string; qty: number };
      return this.spec.setLevel(this, acc, body);
    });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
