// The Fulfillment API's order reads (GET /sell/fulfillment/v1/order, /order/{orderId}): how a
// seller's application learns of sales. Facts: Fulfillment API v1.11 OpenAPI document (filter
// grammar, limit/offset as a record offset, errorIds 30700-31100).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import type { EbayAccount, Order } from './account.ts';
import { intParam, origin, requireUser } from './context.ts';
import { fulfillmentError } from './errors.ts';
import { SCOPE_BASE } from './oauth.ts';

const BASE = '/sell/fulfillment/v1';
const READ = [`${SCOPE_BASE}/sell.fulfillment`, `${SCOPE_BASE}/sell.fulfillment.readonly`];
const DAY = 86_400_000;

const bad = (errorId: number, message: string) => fulfillmentError(400, errorId, message);

function parseRange(name: string, raw: string): [number, number] {
  const m = /^\[([^\]]*)\]$/.exec(raw);
  if (!m) throw bad(30800, `Invalid filter value ${raw} for filter ${name}`);
  const [fromS = '', toS = ''] = m[1]!.split('..');
  if (!fromS) throw bad(30820, 'Start date is missing');
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
  if (!iso.test(fromS) || (toS && !iso.test(toS))) throw bad(30810, 'Invalid date format');
  const now = Date.now();
  const from = Date.parse(fromS);
  const to = toS ? Date.parse(toS) : now;
  if (from > to) throw bad(30840, 'Start date should be before end date');
  // GUESS: a little clock skew is forgiven before "in the future" applies.
  if (from > now + 60_000 || to > now + 60_000) throw bad(30850, "Start and end dates can't be in the future");
  // Documented: the filter only reaches back 90 days.
  if (from < now - 90 * DAY) throw bad(30830, 'Start date must be within 90 days of end date and current date.');
  return [from, to];
}

function matcher(filter: string | undefined): (o: Order) => boolean {
  const now = Date.now();
  // Documented: without a filter (and in every case) only the last 90 days are returned.
  const tests: Array<(o: Order) => boolean> = [(o) => Date.parse(o.creationDate) >= now - 90 * DAY];
  if (!filter) return (o) => tests.every((t) => t(o));
  const parts = filter
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const byName = new Map<string, string>();
  for (const p of parts) {
    const i = p.indexOf(':');
    const name = i > 0 ? p.slice(0, i) : p;
    if (!['creationdate', 'lastmodifieddate', 'orderfulfillmentstatus'].includes(name)) throw bad(30700, `Invalid filter name: ${name}`);
    byName.set(name, p.slice(i + 1));
  }
  const created = byName.get('creationdate');
  const modified = byName.get('lastmodifieddate');
  // Documented: with both date filters only creationdate is used.
  if (created !== undefined) {
    const [a, b] = parseRange('creationdate', created);
    tests.push((o) => Date.parse(o.creationDate) >= a && Date.parse(o.creationDate) <= b);
  } else if (modified !== undefined) {
    const [a, b] = parseRange('lastmodifieddate', modified);
    tests.push((o) => Date.parse(o.lastModifiedDate) >= a && Date.parse(o.lastModifiedDate) <= b);
  }
  const status = byName.get('orderfulfillmentstatus');
  if (status !== undefined) {
    // Documented: only these two combinations are supported.
    const sets: Record<string, string[]> = {
      '{NOT_STARTED|IN_PROGRESS}': ['NOT_STARTED', 'IN_PROGRESS'],
      '{FULFILLED|IN_PROGRESS}': ['FULFILLED', 'IN_PROGRESS'],
    };
    const allowed = sets[status];
    if (!allowed) throw bad(30800, `Invalid filter value ${status} for filter orderfulfillmentstatus`);
    tests.push((o) => allowed.includes(o.orderFulfillmentStatus));
  }
  return (o) => tests.every((t) => t(o));
}

export function installFulfillment(app: FastifyInstance, emu: Emulator<EbayAccount>): void {
  app.get(`${BASE}/order`, async (req: FastifyRequest) => {
    requireUser(req, READ);
    const acc = emu.account(req);
    const q = req.query as { filter?: string; limit?: string; offset?: string; orderIds?: string };
    if (q.orderIds) {
      // Documented: with orderIds every other parameter is ignored; at most 50 ids.
      const ids = q.orderIds
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (ids.length > 50) throw bad(30900, 'Exceeded maximum number of order IDs (the current limit is 50)');
      const orders = acc.orders.filter((o) => ids.includes(o.orderId) || ids.includes(o.legacyOrderId));
      return { href: `${origin(req)}${req.url}`, total: orders.length, limit: orders.length, offset: 0, orders, warnings: [] };
    }
    const limit = intParam(q.limit, 50, 1, 1000, () => bad(31100, `Invalid limit: ${q.limit}`));
    const offset = intParam(q.offset, 0, 0, Number.MAX_SAFE_INTEGER, () => bad(31000, `Invalid offset: ${q.offset}`));
    const match = matcher(q.filter);
    // Documented: oldest to newest by creation date.
    const all = acc.orders.filter(match).sort((a, b) => a.creationDate.localeCompare(b.creationDate));
    const href = (o: number) =>
      `${origin(req)}${BASE}/order?${new URLSearchParams({ ...(q.filter ? { filter: q.filter } : {}), limit: String(limit), offset: String(o) }).toString()}`;
    return {
      href: href(offset),
      total: all.length,
      limit,
      offset,
      ...(offset + limit < all.length ? { next: href(offset + limit) } : {}),
      ...(offset > 0 ? { prev: href(Math.max(0, offset - limit)) } : {}),
      orders: all.slice(offset, offset + limit),
      warnings: [],
    };
  });

  app.get(`${BASE}/order/:orderId`, async (req) => {
    requireUser(req, READ);
    const { orderId } = req.params as { orderId: string };
    const o = emu.account(req).orders.find((x) => x.orderId === orderId || x.legacyOrderId === orderId);
    // Documented: 32100 "Invalid order ID" (listed under 400; GUESS: a well-formed but unknown id answers 404).
    if (!o) throw fulfillmentError(404, 32100, `Invalid order ID: ${orderId}`);
    return o;
  });
}
