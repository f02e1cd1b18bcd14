// A local Epos Now: the V4 REST paths StockClerk uses, Basic auth per API device, 200-row pages
// ending on an empty array, stock held in batches, Add/Remove as the only writes (no absolute
// set), till sales as Transactions, and a signed webhook per sale (signing is our GUESS, see
// webhook.ts). Accounts come from the emulator kit's /_control API.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type AccountInput, type BaseAccount, type EmulatorSpec, type ItemState } from '../emulator-kit/index.ts';
import { EPOSNOW_CAPABILITIES, PAGE_SIZE, stockLevel, type V4Location, type V4Product, type V4StockChange, type V4StockRow, type V4Transaction } from './model.ts';
import { signEposWebhook } from './webhook.ts';

export interface EposAccount extends BaseAccount {
  products: Map<number, V4Product>;
  locations: V4Location[];
  /** Keyed `${ProductId}:${LocationId}`; every product has a row at every location. */
  stock: Map<string, V4StockRow>;
  transactions: V4Transaction[];
  nextTransactionId: number;
  nextBatchId: number;
}

const key = (productId: number, locationId: number) => `${productId}:${locationId}`;
const primary = (acc: EposAccount) => acc.locations[0]!;

function page<T>(rows: T[], req: FastifyRequest): T[] {
  const n = Math.max(1, Number((req.query as { page?: string }).page ?? 1) || 1);
  return rows.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE);
}

// GUESS: error bodies follow the ASP.NET Web API `{Message}` convention the V4 API is built on.
function fail(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ Message: message });
}

function findProduct(acc: EposAccount, input: { externalId?: string; sku?: string }): V4Product {
  const p = input.externalId !== undefined ? acc.products.get(Number(input.externalId)) : [...acc.products.values()].find((x) => x.Sku === input.sku);
  if (!p) throw Object.assign(new Error(`no product ${input.externalId ?? input.sku}`), { statusCode: 404 });
  return p;
}

/** Applies a signed change to a row's batches: additions land on the newest batch, removals drain the oldest first. */
function applyChange(acc: EposAccount, row: V4StockRow, change: number): void {
  const batches = row.ProductStockBatches;
  if (batches.length === 0) batches.push({ Id: acc.nextBatchId++, CurrentStock: 0 });
  if (change >= 0) {
    batches[batches.length - 1]!.CurrentStock += change;
    return;
  }
  let left = -change;
  for (const b of batches) {
    const take = Math.min(left, Math.max(0, b.CurrentStock));
    b.CurrentStock -= take;
    left -= take;
  }
  // GUESS: like most tills, Epos Now lets stock go negative rather than refuse a sale or a Remove.
  if (left > 0) batches[batches.length - 1]!.CurrentStock -= left;
}

function setLevelOf(acc: EposAccount, row: V4StockRow, qty: number): void {
  applyChange(acc, row, qty - stockLevel(row));
}

function parseChanges(acc: EposAccount, body: unknown): V4StockChange[] | string {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) return 'No stock changes supplied';
  for (const c of list as Array<Partial<V4StockChange>>) {
    if (!c || typeof c !== 'object') return 'Invalid stock change';
    if (!Number.isInteger(c.ProductId) || !acc.products.has(c.ProductId!)) return `Product ${String(c.ProductId)} not found`;
    if (!Number.isInteger(c.LocationId) || !acc.stock.has(key(c.ProductId!, c.LocationId!))) return `Location ${String(c.LocationId)} not found`;
    if (typeof c.ChangeInStock !== 'number' || !(c.ChangeInStock > 0)) return 'ChangeInStock must be a positive number';
  }
  return list as V4StockChange[];
}

const spec: EmulatorSpec<EposAccount> = {
  type: 'eposnow',
  rateLimit: EPOSNOW_CAPABILITIES.rateLimit,

  createAccount(input: AccountInput, base: BaseAccount): EposAccount {
    // GUESS: location ids are account-wide integers; two locations so location filtering matters.
    const locations: V4Location[] = [
      { Id: 4501, Name: 'High Street', Town: 'Leeds' },
      { Id: 4502, Name: 'Warehouse', Town: 'Leeds' },
    ];
    const acc: EposAccount = { ...base, products: new Map(), locations, stock: new Map(), transactions: [], nextTransactionId: 90001, nextBatchId: 1 };
    let nextId = 1001;
    for (const item of input.items) {
      const id = item.externalId !== undefined && /^\d+$/.test(item.externalId) ? Number(item.externalId) : nextId++;
      acc.products.set(id, { Id: id, Name: item.name, Sku: item.sku, Barcode: null });
      for (const loc of locations) {
        // Seed the primary location's stock as two batches so a reader that ignores all but the
        // first batch gets a wrong level and fails the tests.
        const qty = loc === locations[0] ? item.qty : 0;
        const first = Math.floor(qty / 2);
        const batches = qty > 1 ? [first, qty - first] : [qty];
        acc.stock.set(key(id, loc.Id), {
          ProductId: id,
          LocationId: loc.Id,
          ProductStockBatches: batches.map((b) => ({ Id: acc.nextBatchId++, CurrentStock: b })),
        });
      }
    }
    return acc;
  },

  authenticate(req, accounts) {
    const auth = header(req, 'authorization');
    if (!auth?.startsWith('Basic ')) return null;
    const [key, secret] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    for (const acc of accounts.values()) {
      if (acc.credentials.api_key === key && acc.credentials.api_secret === secret) return acc;
    }
    return null;
  },

  unauthorized: (reply) => fail(reply, 401, 'Authorization has been denied for this request.'),
  // GUESS: status 429 and this wording. Epos Now documents an "API Limit Exceeded" error once the
  // account's allowance is spent and clients match "maximum API limit"; no Retry-After is sent.
  throttled: (reply) => fail(reply, 429, 'API Limit Exceeded: you have reached the maximum API limit for this account.'),
  serverError: (reply) => fail(reply, 500, 'An error has occurred.'),

  routes(app: FastifyInstance, emu: Emulator<EposAccount>) {
    const acc = (req: FastifyRequest) => emu.account(req);
    const rows = (a: EposAccount) => [...a.stock.values()];

    app.get('/api/v4/Product', async (req) => page([...acc(req).products.values()], req));
    app.get('/api/v4/Product/Stats', async (req) => ({ TotalProducts: acc(req).products.size }));
    app.get('/api/v4/Product/:id', async (req, reply) => {
      const p = acc(req).products.get(Number((req.params as { id: string }).id));
      return p ?? fail(reply, 404, 'Product not found');
    });
    app.get('/api/v4/Location', async (req) => acc(req).locations);
    app.get('/api/v4/ProductStock', async (req) => page(rows(acc(req)), req));
    // GUESS: an unknown product gives an empty list rather than a 404.
    app.get('/api/v4/ProductStock/Product/:productId', async (req) => {
      const id = Number((req.params as { productId: string }).productId);
      return rows(acc(req)).filter((r) => r.ProductId === id);
    });
    app.get('/api/v4/ProductStock/location/:locationId', async (req) => {
      const id = Number((req.params as { locationId: string }).locationId);
      return page(rows(acc(req)).filter((r) => r.LocationId === id), req);
    });

    const write = (sign: 1 | -1) => async (req: FastifyRequest, reply: FastifyReply) => {
      const a = acc(req);
      const changes = parseChanges(a, req.body);
      // GUESS: a bad entry rejects the whole request (nothing applied), as one validation pass.
      if (typeof changes === 'string') return fail(reply, 400, changes);
      const touched = changes.map((c) => {
        const row = a.stock.get(key(c.ProductId, c.LocationId))!;
        applyChange(a, row, sign * c.ChangeInStock);
        emu.recordWrite(a.id, String(c.ProductId), stockLevel(row));
        return row;
      });
      // GUESS: the response echoes the affected stock rows, in request shape (object or array).
      return Array.isArray(req.body) ? touched : touched[0];
    };
    app.post('/api/v4/ProductStock/Add', write(1));
    app.post('/api/v4/ProductStock/Remove', write(-1));

    // GUESS: the list shape and `?since=<Id>` (transactions with a larger Id, oldest first).
    app.get('/api/v4/Transaction', async (req) => {
      const since = Number((req.query as { since?: string }).since ?? 0) || 0;
      return page(acc(req).transactions.filter((t) => t.Id > since), req);
    });
    // GUESS: GetLatest answers an array holding the newest transaction (empty when none).
    app.get('/api/v4/Transaction/GetLatest', async (req) => acc(req).transactions.slice(-1));
  },

  async sale(emu, account, input) {
    const product = findProduct(account, input);
    const loc = primary(account);
    const row = account.stock.get(key(product.Id, loc.Id))!;
    applyChange(account, row, -input.qty);
    const txn: V4Transaction = {
      Id: account.nextTransactionId++,
      DateTime: new Date().toISOString(),
      LocationId: loc.Id,
      TransactionItems: [{ ProductId: product.Id, Quantity: input.qty }],
    };
    account.transactions.push(txn);
    const body = JSON.stringify(txn);
    const headers: Record<string, string> = {};
    if (account.webhookSecret) {
      const ts = Math.floor(Date.now() / 1000);
      headers['x-epos-timestamp'] = String(ts);
      headers['x-epos-signature'] = signEposWebhook(account.webhookSecret, ts, body);
    }
    emu.sendWebhook(account, { headers, body });
    return { transaction: txn, qty: stockLevel(row) };
  },

  // A back-office stock edit: Epos Now documents no stock webhook, so nothing is sent; the
  // Guardian's read-back is what notices this drift.
  async setLevel(_emu, account, input) {
    const product = findProduct(account, input);
    const row = account.stock.get(key(product.Id, primary(account).Id))!;
    setLevelOf(account, row, input.qty);
    return { externalId: String(product.Id), qty: stockLevel(row) };
  },

  state(account): ItemState[] {
    const loc = primary(account);
    return [...account.products.values()].map((p) => ({
      externalId: String(p.Id),
      sku: p.Sku,
      name: p.Name,
      qty: stockLevel(account.stock.get(key(p.Id, loc.Id))!),
      available: null,
    }));
  },
};

export function createEposnowEmulator(): Emulator<EposAccount> {
  return new Emulator(spec);
}
