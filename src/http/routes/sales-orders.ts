// Sales orders and reservations. Creating an order holds its lines' quantities (reservations with
// an expiry; all lines or nothing: 409 insufficient_stock); shipping turns the holds into sale
// movements through the ledger; cancelling releases them; an expired hold releases itself (the
// scheduler's tick). A reservation can also be made on its own (a cart, a quote).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withTx, type Tx } from '../../db/pool.ts';
import { emitEvent } from '../../db/webhook-events.ts';
import { newId } from '../../domain/ids.ts';
import type { AppContext } from '../../engine/context.ts';
import { applyMovements } from '../../ledger/ledger.ts';
import { changeReserved, InsufficientStock } from '../../ledger/reservations.ts';
import { audit } from '../audit.ts';
import { ApiError, notFound, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { page, pageQuery } from '../paging.ts';
import { versionTag } from '../plugins/etag.ts';
import { finishInTx } from '../plugins/idempotency.ts';
import { timestamp } from '../schemas.ts';
import { idParam, idRef, pathId, refuseKits, stringCursor, text } from './common.ts';

const MAX_QTY = 1_000_000;
const ttl = z
  .number()
  .int()
  .min(1)
  .max(30 * 86_400)
  .default(3_600)
  .meta({ description: 'Seconds the stock stays held (default 1 h)' });

const OrderCreate = z
  .strictObject({
    location_id: idRef('loc'),
    reference: text(1, 200).optional(),
    lines: z.array(z.strictObject({ item_id: idRef('item'), qty: z.number().int().min(1).max(MAX_QTY) })).min(1).max(100),
    hold_for_s: ttl,
  })
  .refine((b) => new Set(b.lines.map((l) => l.item_id)).size === b.lines.length, { path: ['lines'], message: 'one line per item' });
const ReservationCreate = z.strictObject({ item_id: idRef('item'), location_id: idRef('loc'), qty: z.number().int().min(1).max(MAX_QTY), hold_for_s: ttl });

const ORDER_STATUSES = ['reserved', 'shipped', 'cancelled', 'expired'] as const;
const RESERVATION_STATUSES = ['active', 'released', 'consumed', 'expired'] as const;
const OrdersQuery = z.strictObject({ ...pageQuery, status: z.enum(ORDER_STATUSES).optional() });
const ReservationsQuery = z.strictObject({
  ...pageQuery,
  status: z.enum(RESERVATION_STATUSES).optional(),
  item_id: idRef('item').optional(),
  order_id: idRef('so').optional(),
});

const Reservation = named(
  z.strictObject({
    id: z.string(),
    order_id: z.string().nullable(),
    item_id: z.string(),
    location_id: z.string(),
    qty: z.number().int(),
    status: z.enum(RESERVATION_STATUSES),
    expires_at: timestamp,
    created_at: timestamp,
    released_at: timestamp.nullable(),
  }),
  'Reservation',
);
const SalesOrder = named(
  z.strictObject({
    id: z.string(),
    status: z.enum(ORDER_STATUSES),
    location_id: z.string(),
    reference: z.string().nullable(),
    version: z.number().int(),
    lines: z.array(z.strictObject({ item_id: z.string(), qty: z.number().int(), reservation_id: z.string(), reservation_status: z.enum(RESERVATION_STATUSES) })),
    expires_at: timestamp,
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'SalesOrder',
);

const RES_COLUMNS = 'r.id, r.order_id, r.item_id, r.location_id, r.qty, r.status, r.expires_at, r.created_at, r.released_at';
type Q = Pick<Tx, 'query'>;

function short(err: InsufficientStock): ApiError {
  const s = err.short[0]!;
  return new ApiError(409, 'insufficient_stock', `Only ${Math.max(0, s.available)} available of ${s.item_id} at ${s.location_id}; ${s.wanted} wanted`, { lines: err.short });
}

async function readOrder(q: Q, tenantId: string, id: string) {
  const { rows } = await q.query(
    `select o.id, o.status, o.location_id, o.reference, o.version, o.expires_at, o.created_at, o.updated_at,
            coalesce((select json_agg(json_build_object('item_id', r.item_id, 'qty', r.qty, 'reservation_id', r.id, 'reservation_status', r.status) order by r.id)
                      from reservations r where r.tenant_id = o.tenant_id and r.order_id = o.id), '[]') as lines
     from sales_orders o where o.tenant_id = $1 and o.id = $2`,
    [tenantId, id],
  );
  if (!rows[0]) throw notFound('Sales order');
  return rows[0] as { version: number; status: string } & Record<string, unknown>;
}

/** 404 unless the location and every item belong to the tenant. */
async function checkRefs(q: Q, tenantId: string, locationId: string, itemIds: string[]): Promise<void> {
  const { rows } = await q.query<{ location: boolean; items: number }>(
    `select exists(select 1 from locations where tenant_id = $1 and id = $2) as location,
            (select count(*) from items where tenant_id = $1 and id = any($3))::int as items`,
    [tenantId, locationId, itemIds],
  );
  if (!rows[0]!.location) throw notFound('Location');
  if (rows[0]!.items !== new Set(itemIds).size) throw notFound('Item');
  await refuseKits(q, tenantId, itemIds);
}

export async function salesOrderRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const OrderParams = idParam('so');
  const ResParams = idParam('res');

  app.get('/sales-orders', doc({ summary: 'List sales orders, newest first', tag: 'sales-orders', query: OrdersQuery, responses: { 200: pageOf(SalesOrder) } }), async (req) => {
    const q = parse(OrdersQuery, req.query);
    const before = stringCursor(q.cursor);
    const { rows } = await ctx.db.query<{ id: string }>(
      `select id from sales_orders where tenant_id = $1 and ($2::text is null or id < $2) and ($3::text is null or status = $3) order by id desc limit $4`,
      [req.auth.tenantId, before, q.status ?? null, q.limit + 1],
    );
    const p = page(rows, q.limit, (r) => r.id);
    const data = [];
    for (const r of p.data) data.push(await readOrder(ctx.db, req.auth.tenantId, r.id));
    return { data, next_cursor: p.next_cursor };
  });

  app.post(
    '/sales-orders',
    doc({ summary: 'Create a sales order: holds every line (all or nothing)', tag: 'sales-orders', body: OrderCreate, etag: true, responses: { 201: SalesOrder, 409: ErrorBody } }),
    async (req, reply) => {
      const b = parse(OrderCreate, req.body);
      const tenantId = req.auth.tenantId;
      const id = newId('so');
      const order = await withTx(ctx.db, async (tx) => {
        await checkRefs(tx, tenantId, b.location_id, b.lines.map((l) => l.item_id));
        await changeReserved(
          tx,
          tenantId,
          b.lines.map((l) => ({ itemId: l.item_id, locationId: b.location_id, delta: l.qty })),
        );
        await tx.query(
          `insert into sales_orders (tenant_id, id, location_id, reference, status, expires_at) values ($1, $2, $3, $4, 'reserved', now() + make_interval(secs => $5))`,
          [tenantId, id, b.location_id, b.reference ?? null, b.hold_for_s],
        );
        await tx.query(
          `insert into reservations (tenant_id, id, order_id, item_id, location_id, qty, status, expires_at)
           select $1, x.id, $2, x.item_id, $3, x.qty, 'active', now() + make_interval(secs => $4)
           from jsonb_to_recordset($5::jsonb) as x(id text, item_id text, qty int)`,
          [tenantId, id, b.location_id, b.hold_for_s, JSON.stringify(b.lines.map((l) => ({ id: newId('res'), item_id: l.item_id, qty: l.qty })))],
        );
        const out = await readOrder(tx, tenantId, id);
        await emitEvent(tx, tenantId, 'order.created', out);
        await audit(tx, req, 'sales_order.created', { type: 'sales_order', id }, b);
        await finishInTx(tx, req, 201, out, { etag: versionTag(out.version) });
        return out;
      }).catch((err) => {
        if (err instanceof InsufficientStock) throw short(err);
        throw err;
      });
      return reply.code(201).header('etag', versionTag(order.version)).send(order);
    },
  );

  app.get('/sales-orders/:id', doc({ summary: 'Read a sales order', tag: 'sales-orders', params: OrderParams, etag: true, responses: { 200: SalesOrder } }), async (req, reply) => {
    const order = await readOrder(ctx.db, req.auth.tenantId, pathId(req.params, 'so', 'Sales order'));
    return reply.header('etag', versionTag(order.version)).send(order);
  });

  /** Locks an order in `reserved` state for a transition (404, or 409 from another state). */
  async function lockOrder(tx: Tx, req: FastifyRequest, action: string) {
    const id = pathId(req.params, 'so', 'Sales order');
    const { rows } = await tx.query<{ status: string }>(`select status from sales_orders where tenant_id = $1 and id = $2 for update`, [req.auth.tenantId, id]);
    if (!rows[0]) throw notFound('Sales order');
    if (rows[0].status !== 'reserved') throw new ApiError(409, 'conflict', `This order is ${rows[0].status}; it cannot be ${action}`, { status: rows[0].status });
    const { rows: lines } = await tx.query<{ id: string; item_id: string; location_id: string; qty: number }>(
      `select id, item_id, location_id, qty from reservations where tenant_id = $1 and order_id = $2 and status = 'active' order by id for update`,
      [req.auth.tenantId, id],
    );
    return { id, lines };
  }

  for (const action of ['ship', 'cancel'] as const) {
    app.post(
      `/sales-orders/:id/${action}`,
      doc({
        summary: action === 'ship' ? 'Ship: the held stock leaves as sale movements' : 'Cancel: release the held stock',
        tag: 'sales-orders',
        params: OrderParams,
        etag: true,
        responses: { 200: SalesOrder, 409: ErrorBody },
      }),
      async (req, reply) => {
        const tenantId = req.auth.tenantId;
        const order = await withTx(ctx.db, async (tx) => {
          const { id, lines } = await lockOrder(tx, req, action === 'ship' ? 'shipped' : 'cancelled');
          await changeReserved(tx, tenantId, lines.map((l) => ({ itemId: l.item_id, locationId: l.location_id, delta: -l.qty })));
          if (action === 'ship') {
            await applyMovements(
              tx,
              tenantId,
              lines.map((l) => ({ itemId: l.item_id, locationId: l.location_id, qtyDelta: -l.qty, reason: 'sale' as const, sourceUserId: req.auth.actorId, note: `sales order ${id}` })),
            );
          }
          await tx.query(`update reservations set status = $3, released_at = now() where tenant_id = $1 and order_id = $2 and status = 'active'`, [
            tenantId,
            id,
            action === 'ship' ? 'consumed' : 'released',
          ]);
          await tx.query(`update sales_orders set status = $3, updated_at = now(), version = version + 1 where tenant_id = $1 and id = $2`, [
            tenantId,
            id,
            action === 'ship' ? 'shipped' : 'cancelled',
          ]);
          const out = await readOrder(tx, tenantId, id);
          await emitEvent(tx, tenantId, action === 'ship' ? 'order.shipped' : 'order.cancelled', out);
          await audit(tx, req, `sales_order.${action === 'ship' ? 'shipped' : 'cancelled'}`, { type: 'sales_order', id });
          await finishInTx(tx, req, 200, out, { etag: versionTag(out.version) });
          return out;
        });
        return reply.header('etag', versionTag(order.version)).send(order);
      },
    );
  }

  app.get('/reservations', doc({ summary: 'List reservations, newest first', tag: 'reservations', query: ReservationsQuery, responses: { 200: pageOf(Reservation) } }), async (req) => {
    const q = parse(ReservationsQuery, req.query);
    const before = stringCursor(q.cursor);
    const { rows } = await ctx.db.query(
      `select ${RES_COLUMNS} from reservations r
       where r.tenant_id = $1 and ($2::text is null or r.id < $2) and ($3::text is null or r.status = $3)
         and ($4::text is null or r.item_id = $4) and ($5::text is null or r.order_id = $5)
       order by r.id desc limit $6`,
      [req.auth.tenantId, before, q.status ?? null, q.item_id ?? null, q.order_id ?? null, q.limit + 1],
    );
    return page(rows, q.limit, (r) => r.id as string);
  });

  app.post(
    '/reservations',
    doc({ summary: 'Hold stock without an order (released on expiry)', tag: 'reservations', body: ReservationCreate, etag: true, responses: { 201: Reservation, 409: ErrorBody } }),
    async (req, reply) => {
      const b = parse(ReservationCreate, req.body);
      const tenantId = req.auth.tenantId;
      const id = newId('res');
      const res = await withTx(ctx.db, async (tx) => {
        await checkRefs(tx, tenantId, b.location_id, [b.item_id]);
        await changeReserved(tx, tenantId, [{ itemId: b.item_id, locationId: b.location_id, delta: b.qty }]);
        const { rows } = await tx.query(
          `insert into reservations as r (tenant_id, id, item_id, location_id, qty, status, expires_at)
           values ($1, $2, $3, $4, $5, 'active', now() + make_interval(secs => $6)) returning ${RES_COLUMNS}`,
          [tenantId, id, b.item_id, b.location_id, b.qty, b.hold_for_s],
        );
        await audit(tx, req, 'reservation.created', { type: 'reservation', id }, b);
        await finishInTx(tx, req, 201, rows[0]);
        return rows[0];
      }).catch((err) => {
        if (err instanceof InsufficientStock) throw short(err);
        throw err;
      });
      return reply.code(201).send(res);
    },
  );

  app.get('/reservations/:id', doc({ summary: 'Read a reservation', tag: 'reservations', params: ResParams, etag: true, responses: { 200: Reservation } }), async (req) => {
    const { rows } = await ctx.db.query(`select ${RES_COLUMNS} from reservations r where r.tenant_id = $1 and r.id = $2`, [
      req.auth.tenantId,
      pathId(req.params, 'res', 'Reservation'),
    ]);
    if (!rows[0]) throw notFound('Reservation');
    return rows[0];
  });

  app.post(
    '/reservations/:id/release',
    doc({ summary: 'Release a reservation made without an order', tag: 'reservations', params: ResParams, etag: true, responses: { 200: Reservation, 409: ErrorBody } }),
    async (req) => {
      const id = pathId(req.params, 'res', 'Reservation');
      const tenantId = req.auth.tenantId;
      return withTx(ctx.db, async (tx) => {
        const { rows } = await tx.query<{ status: string; order_id: string | null; item_id: string; location_id: string; qty: number }>(
          `select status, order_id, item_id, location_id, qty from reservations where tenant_id = $1 and id = $2 for update`,
          [tenantId, id],
        );
        const r = rows[0];
        if (!r) throw notFound('Reservation');
        if (r.order_id) throw new ApiError(409, 'conflict', 'This reservation belongs to a sales order: cancel the order instead', { order_id: r.order_id });
        if (r.status !== 'active') throw new ApiError(409, 'conflict', `This reservation is already ${r.status}`, { status: r.status });
        await changeReserved(tx, tenantId, [{ itemId: r.item_id, locationId: r.location_id, delta: -r.qty }]);
        const { rows: out } = await tx.query(
          `update reservations r set status = 'released', released_at = now() where r.tenant_id = $1 and r.id = $2 returning ${RES_COLUMNS}`,
          [tenantId, id],
        );
        await audit(tx, req, 'reservation.released', { type: 'reservation', id });
        await finishInTx(tx, req, 200, out[0]);
        return out[0];
      });
    },
  );
}
