// Purchase orders: stock ordered from a supplier. Each line names an item, the location it is
// delivered to and the quantity ordered; what is ordered and not yet received on an open order is
// `incoming` on that level. Receiving (wholly or in part) writes receipt movements through the
// ledger; more than is outstanding is refused (422 over_receipt). The order row is locked for the
// whole receipt, so two concurrent receipts of one line never receive more than was ordered.
// An order nothing was received on can be cancelled; one partly received can be closed (the rest
// is no longer expected).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withTx, type Tx } from '../../db/pool.ts';
import { newId } from '../../domain/ids.ts';
import type { AppContext } from '../../engine/context.ts';
import { applyMovements } from '../../ledger/ledger.ts';
import { audit } from '../audit.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { timestamp } from '../schemas.ts';
import { idParam, idRef, objectBody, pathId, refuseKits, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000;
const qty = z.number().int().min(1).max(MAX_QTY);
const key = (l: { item_id: string; location_id: string }) => `${l.item_id}|${l.location_id}`;
const oneLinePerLevel = (lines: Array<{ item_id: string; location_id: string }> | undefined) => !lines || new Set(lines.map(key)).size === lines.length;

const PoCreate = z
  .strictObject({
    supplier: text(1, 200).optional(),
    reference: text(1, 200).optional(),
    lines: z
      .array(
        z.strictObject({
          item_id: idRef('item'),
          location_id: idRef('loc').meta({ description: 'Where the stock is delivered' }),
          qty_ordered: qty,
          unit_cost: z.number().min(0).max(1_000_000_000).optional(),
        }),
      )
      .min(1)
      .max(200),
  })
  .refine((b) => oneLinePerLevel(b.lines), { path: ['lines'], message: 'one line per item and location' });
const PoReceive = z
  .strictObject({
    lines: z
      .array(z.strictObject({ item_id: idRef('item'), location_id: idRef('loc'), qty }))
      .min(1)
      .max(200)
      .optional()
      .meta({ description: 'What arrived; without lines, everything outstanding arrives' }),
  })
  .refine((b) => oneLinePerLevel(b.lines), { path: ['lines'], message: 'one line per item and location' });
const PoPatch = z
  .strictObject({ supplier: text(1, 200).nullable().optional(), reference: text(1, 200).nullable().optional() })
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');

const STATUSES = ['open', 'partially_received', 'received', 'cancelled', 'closed'] as const;
const PoQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(STATUSES).optional(),
  item_id: idRef('item').optional(),
  location_id: idRef('loc').optional(),
});

const PurchaseOrder = named(
  z.strictObject({
    id: z.string(),
    status: z.enum(STATUSES),
    supplier: z.string().nullable(),
    reference: z.string().nullable(),
    version: z.number().int(),
    lines: z.array(
      z.strictObject({
        item_id: z.string(),
        location_id: z.string(),
        qty_ordered: z.number().int(),
        qty_received: z.number().int(),
        unit_cost: z.number().nullable(),
      }),
    ),
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'PurchaseOrder',
);

type Q = Pick<Tx, 'query'>;
const TAG = 'purchase-orders';

async function readPo(q: Q, tenantId: string, id: string) {
  const { rows } = await q.query(
    `select p.id, p.status, p.supplier, p.reference, p.version, p.created_at, p.updated_at,
            coalesce((select json_agg(json_build_object('item_id', l.item_id, 'location_id', l.location_id, 'qty_ordered', l.qty_ordered,
                                                        'qty_received', l.qty_received, 'unit_cost', l.unit_cost) order by l.item_id, l.location_id)
                      from purchase_order_lines l where l.tenant_id = p.tenant_id and l.purchase_order_id = p.id), '[]') as lines
     from purchase_orders p where p.tenant_id = $1 and p.id = $2`,
    [tenantId, id],
  );
  if (!rows[0]) throw notFound('Purchase order');
  return rows[0] as { version: number; status: string } & Record<string, unknown>;
}

export async function purchaseOrderRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const Params = idParam('po');

  app.get('/purchase-orders', doc({ summary: 'List purchase orders, newest first', tag: TAG, query: PoQuery, responses: { 200: pageOf(PurchaseOrder) } }), async (req) => {
    const q = parse(PoQuery, req.query);
    const before = stringCursor(q.cursor);
    const { rows } = await ctx.db.query<{ id: string }>(
      `select p.id from purchase_orders p
       where p.tenant_id = $1 and ($2::text is null or p.id < $2) and ($3::text is null or p.status = $3)
         and ($4::text is null and $5::text is null or exists (
               select 1 from purchase_order_lines l where l.tenant_id = p.tenant_id and l.purchase_order_id = p.id
                 and ($4::text is null or l.item_id = $4) and ($5::text is null or l.location_id = $5)))
       order by p.id desc limit $6`,
      [req.auth.tenantId, before, q.status ?? null, q.item_id ?? null, q.location_id ?? null, q.limit + 1],
    );
    const p = page(rows, q.limit, (r) => r.id);
    const data = [];
    for (const r of p.data) data.push(await readPo(ctx.db, req.auth.tenantId, r.id));
    return { data, next_cursor: p.next_cursor };
  });

  app.post(
    '/purchase-orders',
    doc({ summary: 'Create a purchase order (its lines become incoming stock)', tag: TAG, body: PoCreate, etag: true, responses: { 201: PurchaseOrder } }),
    async (req, reply) => {
      const b = parse(PoCreate, req.body);
      const tenantId = req.auth.tenantId;
      const id = newId('po');
      const out = await withTx(ctx.db, async (tx) => {
        const { rows } = await tx.query<{ locations: number; items: number }>(
          `select (select count(*) from locations where tenant_id = $1 and id = any($2))::int as locations,
                  (select count(*) from items where tenant_id = $1 and id = any($3))::int as items`,
          [tenantId, b.lines.map((l) => l.location_id), b.lines.map((l) => l.item_id)],
        );
        if (rows[0]!.locations !== new Set(b.lines.map((l) => l.location_id)).size) throw notFound('Location');
        if (rows[0]!.items !== new Set(b.lines.map((l) => l.item_id)).size) throw notFound('Item');
        await refuseKits(tx, tenantId, b.lines.map((l) => l.item_id));
        await tx.query(`insert into purchase_orders (tenant_id, id, supplier, reference, status) values ($1, $2, $3, $4, 'open')`, [
          tenantId,
          id,
          b.supplier ?? null,
          b.reference ?? null,
        ]);
        await tx.query(
          `insert into purchase_order_lines (tenant_id, purchase_order_id, item_id, location_id, qty_ordered, unit_cost)
           select $1, $2, x.item_id, x.location_id, x.qty_ordered, x.unit_cost
           from jsonb_to_recordset($3::jsonb) as x(item_id text, location_id text, qty_ordered int, unit_cost float8)`,
          [tenantId, id, JSON.stringify(b.lines)],
        );
        const po = await readPo(tx, tenantId, id);
        await audit(tx, req, 'purchase_order.created', { type: 'purchase_order', id }, b);
        await finishInTx(tx, req, 201, po, { etag: versionTag(po.version) });
        return po;
      });
      return reply.code(201).header('etag', versionTag(out.version)).send(out);
    },
  );

  app.get('/purchase-orders/:id', doc({ summary: 'Read a purchase order', tag: TAG, params: Params, etag: true, responses: { 200: PurchaseOrder } }), async (req, reply) => {
    const po = await readPo(ctx.db, req.auth.tenantId, pathId(req.params, 'po', 'Purchase order'));
    return reply.header('etag', versionTag(po.version)).send(po);
  });

  app.patch(
    '/purchase-orders/:id',
    doc({ summary: 'Change a purchase order\u2019s supplier or reference', tag: TAG, params: Params, body: PoPatch, ifMatch: true, etag: true, responses: { 200: PurchaseOrder } }),
    async (req, reply) => {
      const id = pathId(req.params, 'po', 'Purchase order');
      const b = parse(PoPatch, req.body);
      const tenantId = req.auth.tenantId;
      const po = await withTx(ctx.db, async (tx) => {
        const { rows } = await tx.query<{ version: number }>(`select version from purchase_orders where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
        if (!rows[0]) throw notFound('Purchase order');
        checkIfMatch(req, rows[0].version);
        await tx.query(
          `update purchase_orders set supplier = case when $3::boolean then $4 else supplier end, reference = case when $5::boolean then $6 else reference end,
             version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`,
          [tenantId, id, 'supplier' in b, b.supplier ?? null, 'reference' in b, b.reference ?? null],
        );
        await audit(tx, req, 'purchase_order.updated', { type: 'purchase_order', id }, b);
        return readPo(tx, tenantId, id);
      });
      return reply.header('etag', versionTag(po.version)).send(po);
    },
  );

  /** Locks the order for a transition; `allowed` are the statuses it may leave. */
  async function lockPo(tx: Tx, req: FastifyRequest, allowed: readonly string[], action: string, hint = '') {
    const id = pathId(req.params, 'po', 'Purchase order');
    const { rows } = await tx.query<{ status: string }>(`select status from purchase_orders where tenant_id = $1 and id = $2 for update`, [req.auth.tenantId, id]);
    if (!rows[0]) throw notFound('Purchase order');
    if (!allowed.includes(rows[0].status)) throw new ApiError(409, 'conflict', `This purchase order is ${rows[0].status}; it cannot be ${action}${hint}`, { status: rows[0].status });
    const { rows: lines } = await tx.query<{ item_id: string; location_id: string; qty_ordered: number; qty_received: number }>(
      `select item_id, location_id, qty_ordered, qty_received from purchase_order_lines where tenant_id = $1 and purchase_order_id = $2 order by item_id, location_id`,
      [req.auth.tenantId, id],
    );
    return { id, lines };
  }

  const OPEN = ['open', 'partially_received'] as const;

  app.post(
    '/purchase-orders/:id/receive',
    doc({
      summary: 'Receive a purchase order, wholly or in part: receipt movements at each line\u2019s location',
      tag: TAG,
      params: Params,
      body: PoReceive,
      etag: true,
      responses: { 200: PurchaseOrder, 409: ErrorBody, 422: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(PoReceive, objectBody(req.body));
      const tenantId = req.auth.tenantId;
      const out = await withTx(ctx.db, async (tx) => {
        const po = await lockPo(tx, req, OPEN, 'received');
        const outstanding = new Map(po.lines.map((l) => [key(l), l.qty_ordered - l.qty_received]));
        const arriving = (b.lines ?? po.lines.map((l) => ({ item_id: l.item_id, location_id: l.location_id, qty: l.qty_ordered - l.qty_received }))).filter((l) => l.qty > 0);
        const over = arriving
          .filter((l) => l.qty > (outstanding.get(key(l)) ?? 0))
          .map((l) => ({ item_id: l.item_id, location_id: l.location_id, outstanding: outstanding.get(key(l)) ?? 0, qty: l.qty, on_order: outstanding.has(key(l)) }));
        if (over.length) {
          const o = over[0]!;
          throw new ApiError(
            422,
            'over_receipt',
            o.on_order
              ? `Only ${o.outstanding} of ${o.item_id} at ${o.location_id} is still outstanding; ${o.qty} cannot be received`
              : `${o.item_id} at ${o.location_id} is not on this purchase order`,
            { lines: over },
          );
        }
        await tx.query(
          `update purchase_order_lines l set qty_received = l.qty_received + x.qty
           from jsonb_to_recordset($3::jsonb) as x(item_id text, location_id text, qty int)
           where l.tenant_id = $1 and l.purchase_order_id = $2 and l.item_id = x.item_id and l.location_id = x.location_id`,
          [tenantId, po.id, JSON.stringify(arriving)],
        );
        await applyMovements(
          tx,
          tenantId,
          [...arriving]
            .sort((x, y) => (key(x) < key(y) ? -1 : 1))
            .map((l) => ({ itemId: l.item_id, locationId: l.location_id, qtyDelta: l.qty, reason: 'receipt' as const, sourceUserId: req.auth.actorId, note: `purchase order ${po.id}` })),
        );
        await tx.query(
          `update purchase_orders p set version = version + 1, updated_at = now(),
             status = case when exists (select 1 from purchase_order_lines l where l.tenant_id = p.tenant_id and l.purchase_order_id = p.id and l.qty_received < l.qty_ordered)
                           then 'partially_received' else 'received' end
           where p.tenant_id = $1 and p.id = $2`,
          [tenantId, po.id],
        );
        const res = await readPo(tx, tenantId, po.id);
        await audit(tx, req, 'purchase_order.received', { type: 'purchase_order', id: po.id }, { lines: arriving });
        await finishInTx(tx, req, 200, res, { etag: versionTag(res.version) });
        return res;
      });
      return reply.header('etag', versionTag(out.version)).send(out);
    },
  );

  for (const action of ['cancel', 'close'] as const) {
    app.post(
      `/purchase-orders/:id/${action}`,
      doc({
        summary:
          action === 'cancel'
            ? 'Cancel a purchase order nothing was received on'
            : 'Close a purchase order: what was not received is no longer expected (no longer incoming)',
        tag: TAG,
        params: Params,
        etag: true,
        responses: { 200: PurchaseOrder, 409: ErrorBody },
      }),
      async (req, reply) => {
        const tenantId = req.auth.tenantId;
        const out = await withTx(ctx.db, async (tx) => {
          const po =
            action === 'cancel' ? await lockPo(tx, req, ['open'], 'cancelled', ' (close it instead once stock was received)') : await lockPo(tx, req, OPEN, 'closed');
          const status = action === 'cancel' ? 'cancelled' : 'closed';
          await tx.query(`update purchase_orders set status = $3, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, po.id, status]);
          const res = await readPo(tx, tenantId, po.id);
          await audit(tx, req, `purchase_order.${status}`, { type: 'purchase_order', id: po.id });
          await finishInTx(tx, req, 200, res, { etag: versionTag(res.version) });
          return res;
        });
        return reply.header('etag', versionTag(out.version)).send(out);
      },
    );
  }
}
