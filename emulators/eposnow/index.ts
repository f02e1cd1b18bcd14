// A local Epos Now: the V4 REST paths StockClerk uses, Basic auth per API device, 200-row pages
// ending on an empty array, stock held in batches, Add/Remove as the only writes (no absolute
// set), till sales as Transactions, and an unsigned webhook per sale (notify.ts). Facts: /work/shared/channel-apis.md section 3. Accounts come from the kit's /_control API.
// Its App Store (appstore.ts: installing an app makes it an API device; all guesses, Epos Now documents none).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Emulator, header, type EmulatorOptions, type EmulatorSpec, type ItemState } from '../kit/index.ts';
import { appStoreRoutes } from './appstore.ts';
import { sendTransaction } from './notify.ts';
import { applyChange, createTill, findProduct, loadTill, primary, saveTill, setLevelOf, stockKey, type EposAccount } from './till.ts';
import { PAGE_SIZE, stockLevel, type V4StockChange, type V4Transaction } from './v4.ts';

export type { EposAccount } from './till.ts';

function page<T>(rows: T[], req: FastifyRequest): T[] {
  const n = Math.max(1, Number((req.query as { page?: string }).page ?? 1) || 1);
  return rows.slice((n - 1) * PAGE_SIZE, n * PAGE_SIZE);
}

// GUESS: error bodies follow the ASP.NET Web API `{Message}` convention the V4 API is built on.
function fail(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ Message: message });
}

function parseChanges(acc: EposAccount, body: unknown): V4StockChange[] | string {
  const list = Array.isArray(body) ? body : [body];
  if (list.length === 0) return 'No stock changes supplied';
  for (const c of list as Array<Partial<V4StockChange>>) {
    if (!c || typeof c !== 'object') return 'Invalid stock change';
    if (!Number.isInteger(c.ProductId) || !acc.products.has(c.ProductId!)) return `Product ${String(c.ProductId)} not found`;
    if (!Number.isInteger(c.LocationId) || !acc.stock.has(stockKey(c.ProductId!, c.LocationId!))) return `Location ${String(c.LocationId)} not found`;
    if (typeof c.ChangeInStock !== 'number' || !(c.ChangeInStock > 0)) return 'ChangeInStock must be a positive number';
  }
  return list as V4StockChange[];
}

const spec: EmulatorSpec<EposAccount> = {
  platform: 'eposnow',
  // GUESS: Epos Now publishes no number (an account allowance shown in Back Office; one public
  // client spaces calls ~0.6 s apart). 5/s with a burst of 40 per account.
  rateLimit: { perSecond: 5, burst: 40 },
  createAccount: createTill,
  saveAccount: saveTill,
  loadAccount: loadTill,

  authenticate(req, accounts) {
    // The App Store's pages and its token call carry no device key (appstore.ts): the merchant a
    // page names, else (the token call: the app's credentials are in its body) the first account.
    // GUESS (emulator artefact): they count against that account for the kit's knobs.
    const path = req.url.split('?')[0]!;
    if (path.startsWith('/appstore/') || path === '/oauth/token') {
      const named = accounts.get(
        String((req.query as { account?: string; merchant_id?: string }).account ?? (req.query as { merchant_id?: string }).merchant_id ?? ''),
      );
      return named ?? accounts.values().next().value ?? null;
    }
    const auth = header(req, 'authorization');
    if (!auth?.startsWith('Basic ')) return null;
    const [key, secret] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
    for (const acc of accounts.values()) {
      if (acc.credentials.api_key === key && acc.credentials.api_secret === secret) return acc;
      if (acc.appDevices.some((d) => d.api_key === key && d.api_secret === secret)) return acc;
    }
    return null;
  },

  unauthorized: (reply) => fail(reply, 401, 'Authorization has been denied for this request.'),
  // GUESS: status 429 and this wording. Epos Now documents an "API Limit Exceeded" error once the
  // account's allowance is spent and clients match "maximum API limit"; no Retry-After is sent.
  throttled: (reply) => fail(reply, 429, 'API Limit Exceeded: you have reached the maximum API limit for this account.'),
  serverError: (reply) => fail(reply, 500, 'An error has occurred.'),

  routes(app: FastifyInstance, emu: Emulator<EposAccount>) {
    appStoreRoutes(app, emu);
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
      return page(
        rows(acc(req)).filter((r) => r.LocationId === id),
        req,
      );
    });

    const write = (sign: 1 | -1) => async (req: FastifyRequest, reply: FastifyReply) => {
      const a = acc(req);
      const changes = parseChanges(a, req.body);
      // GUESS: a bad entry rejects the whole request (nothing applied), as one validation pass.
      if (typeof changes === 'string') return fail(reply, 400, changes);
      const touched = changes.map((c) => {
        const row = a.stock.get(stockKey(c.ProductId, c.LocationId))!;
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
      return page(
        acc(req).transactions.filter((t) => t.Id > since),
        req,
      );
    });
    // GUESS: GetLatest answers an array holding the newest transaction (empty when none).
    app.get('/api/v4/Transaction/GetLatest', async (req) => acc(req).transactions.slice(-1));
    // GUESS: one transaction by Id, by analogy with Product/{id} (the docs list only the list,
    // GetLatest and POST); 404 when the account has none by that Id.
    app.get('/api/v4/Transaction/:id', async (req, reply) => {
      const id = Number((req.params as { id: string }).id);
      return acc(req).transactions.find((t) => t.Id === id) ?? fail(reply, 404, 'Transaction not found');
    });
  },

  async sale(emu, account, input) {
    const product = findProduct(account, input);
    const loc = primary(account);
    const row = account.stock.get(stockKey(product.Id, loc.Id))!;
    applyChange(account, row, -input.qty);
    const txn: V4Transaction = {
      Id: account.nextTransactionId++,
      DateTime: new Date().toISOString(),
      LocationId: loc.Id,
      TransactionItems: [{ ProductId: product.Id, Quantity: input.qty }],
    };
    account.transactions.push(txn);
    sendTransaction(emu, account, txn);
    return { transaction: txn, qty: stockLevel(row) };
  },

  // A back-office stock edit: Epos Now documents no stock webhook, so nothing is sent; the
  // Guardian's read-back is what notices this drift.
  async setLevel(_emu, account, input) {
    const product = findProduct(account, input);
    const row = account.stock.get(stockKey(product.Id, primary(account).Id))!;
    setLevelOf(account, row, input.qty);
    return { externalId: String(product.Id), qty: stockLevel(row) };
  },

  state(account): ItemState[] {
    const loc = primary(account);
    return [...account.products.values()].map((p) => ({
      externalId: String(p.Id),
      sku: p.Sku,
      name: p.Name,
      qty: stockLevel(account.stock.get(stockKey(p.Id, loc.Id))!),
      available: null,
    }));
  },
};

export function createEposnowEmulator(opts: EmulatorOptions = {}): Emulator<EposAccount> {
  return new Emulator(spec, opts);
}
