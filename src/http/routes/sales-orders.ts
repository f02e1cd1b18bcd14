// Sales orders and reservations (rules in src/services/sales-orders.ts): an order holds its
// lines' stock until it is shipped (sale movements), cancelled or expires; a reservation holds
// stock without an order.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as salesOrders from '../../services/sales-orders.ts';
import { parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { pageQuery } from '../paging.ts';
import { versionTag } from '../plugins/etag.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idParam, idRef, pathId, stringCursor, text } from './common.ts';

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
    lines: z
      .array(z.strictObject({ item_id: idRef('item'), qty: z.number().int().min(1).max(MAX_QTY) }))
      .min(1)
      .max(100),
    hold_for_s: ttl,
  })
  .refine((b) => new Set(b.lines.map((l) => l.item_id)).size === b.lines.length, { path: ['lines'], message: 'one line per item' });
const ReservationCreate = z.strictObject({ item_id: idRef('item'), location_id: idRef('loc'), qty: z.number().int().min(1).max(MAX_QTY), hold_for_s: ttl });

const { ORDER_STATUSES, RESERVATION_STATUSES } = salesOrders;
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
    lines: z.array(
      z.strictObject({ item_id: z.string(), qty: z.number().int(), reservation_id: z.string(), reservation_status: z.enum(RESERVATION_STATUSES) }),
    ),
    expires_at: timestamp,
    created_at: timestamp,
    updated_at: timestamp,
  }),
  'SalesOrder',
);

const etag = (o: salesOrders.SalesOrder) => ({ etag: versionTag(o.version) });

export async function salesOrderRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const OrderParams = idParam('so');
  const ResParams = idParam('res');

  app.get(
    '/sales-orders',
    doc({ summary: 'List sales orders, newest first', tag: 'sales-orders', query: OrdersQuery, responses: { 200: pageOf(SalesOrder) } }),
    async (req) => {
      const q = parse(OrdersQuery, req.query);
      return salesOrders.list(ctx.db, scopeOf(req), { after: stringCursor(q.cursor), limit: q.limit, status: q.status });
    },
  );

  app.post(
    '/sales-orders',
    doc({
      summary: 'Create a sales order: holds every line (all or nothing)',
      tag: 'sales-orders',
      body: OrderCreate,
      etag: true,
      responses: { 201: SalesOrder, 409: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(OrderCreate, req.body);
      const order = await write(ctx, req, 201, (tx, scope) => salesOrders.create(tx, scope, b), etag);
      return reply.code(201).headers(etag(order)).send(order);
    },
  );

  app.get(
    '/sales-orders/:id',
    doc({ summary: 'Read a sales order', tag: 'sales-orders', params: OrderParams, etag: true, responses: { 200: SalesOrder } }),
    async (req, reply) => {
      const order = await salesOrders.get(ctx.db, scopeOf(req), pathId(req.params, 'so', 'Sales order'));
      return reply.headers(etag(order)).send(order);
    },
  );

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
        const id = pathId(req.params, 'so', 'Sales order');
        const order = await write(ctx, req, 200, (tx, scope) => salesOrders[action](tx, scope, id), etag);
        return reply.headers(etag(order)).send(order);
      },
    );
  }

  app.get(
    '/reservations',
    doc({ summary: 'List reservations, newest first', tag: 'reservations', query: ReservationsQuery, responses: { 200: pageOf(Reservation) } }),
    async (req) => {
      const q = parse(ReservationsQuery, req.query);
      return salesOrders.listReservations(ctx.db, scopeOf(req), {
        after: stringCursor(q.cursor),
        limit: q.limit,
        status: q.status,
        itemId: q.item_id,
        orderId: q.order_id,
      });
    },
  );

  app.post(
    '/reservations',
    doc({
      summary: 'Hold stock without an order (released on expiry)',
      tag: 'reservations',
      body: ReservationCreate,
      etag: true,
      responses: { 201: Reservation, 409: ErrorBody },
    }),
    async (req, reply) => {
      const b = parse(ReservationCreate, req.body);
      const res = await write(ctx, req, 201, (tx, scope) => salesOrders.createReservation(tx, scope, b));
      return reply.code(201).send(res);
    },
  );

  app.get(
    '/reservations/:id',
    doc({ summary: 'Read a reservation', tag: 'reservations', params: ResParams, etag: true, responses: { 200: Reservation } }),
    async (req) => {
      return salesOrders.getReservation(ctx.db, scopeOf(req), pathId(req.params, 'res', 'Reservation'));
    },
  );

  app.post(
    '/reservations/:id/release',
    doc({
      summary: 'Release a reservation made without an order',
      tag: 'reservations',
      params: ResParams,
      etag: true,
      responses: { 200: Reservation, 409: ErrorBody },
    }),
    async (req) => {
      const id = pathId(req.params, 'res', 'Reservation');
      return write(ctx, req, 200, (tx, scope) => salesOrders.releaseReservation(tx, scope, id));
    },
  );
}
