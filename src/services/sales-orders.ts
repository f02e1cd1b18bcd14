// Sales orders and reservations. Creating an order holds its lines' quantities (reservations with
// an expiry; all lines or nothing: 409 insufficient_stock); shipping turns the holds into sale
// movements through the ledger; cancelling releases them; an expired hold releases itself (the
// scheduler's tick, src/ledger/reservations.ts). A reservation can also be made on its own (a cart,
// a quote). Holds move through the ledger's reservations (changeReserved), never by hand.
import type { Tx } from '../db/pool.ts';
import { emitEvent } from '../db/webhook-events.ts';
import { conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyMovements } from '../ledger/ledger.ts';
import { changeReserved, InsufficientStock, type ReservedChange } from '../ledger/reservations.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';
import { checkLineRefs, getDocument, insufficientStock, listDocuments, lockDocument, setStatus, type StockDocument } from './stock-documents.ts';

export const ORDER_STATUSES = ['reserved', 'shipped', 'cancelled', 'expired'] as const;
export const RESERVATION_STATUSES = ['active', 'released', 'consumed', 'expired'] as const;
export type SalesOrderStatus = (typeof ORDER_STATUSES)[number];
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];

export type SalesOrder = {
  id: string;
  status: SalesOrderStatus;
  location_id: string;
  reference: string | null;
  version: number;
  lines: Array<{ item_id: string; qty: number; reservation_id: string; reservation_status: ReservationStatus }>;
  expires_at: Date;
  created_at: Date;
  updated_at: Date;
};

export interface Reservation {
  id: string;
  order_id: string | null;
  item_id: string;
  location_id: string;
  qty: number;
  status: ReservationStatus;
  expires_at: Date;
  created_at: Date;
  released_at: Date | null;
}

// An order's lines are its reservations.
const SALES_ORDERS: StockDocument = {
  table: 'sales_orders',
  what: 'Sales order',
  noun: 'order',
  columns: `d.id, d.status, d.location_id, d.reference, d.version, d.expires_at, d.created_at, d.updated_at,
            coalesce((select json_agg(json_build_object('item_id', r.item_id, 'qty', r.qty, 'reservation_id', r.id, 'reservation_status', r.status) order by r.id)
                      from reservations r where r.tenant_id = d.tenant_id and r.order_id = d.id), '[]') as lines`,
};

const RES_COLUMNS = 'r.id, r.order_id, r.item_id, r.location_id, r.qty, r.status, r.expires_at, r.created_at, r.released_at';

/** Holds stock through the ledger; wanting more than is available is a 409 insufficient_stock. */
async function hold(tx: Tx, tenantId: string, changes: ReservedChange[]): Promise<void> {
  try {
    await changeReserved(tx, tenantId, changes);
  } catch (err) {
    if (err instanceof InsufficientStock) throw insufficientStock(err.short);
    throw err;
  }
}

export function get(q: Q, scope: Scope, id: string): Promise<SalesOrder> {
  return getDocument<SalesOrder>(q, SALES_ORDERS, scope.tenantId, id);
}

export function list(q: Q, scope: Scope, input: PageRequest & { status?: SalesOrderStatus | null }) {
  return listDocuments<SalesOrder>(q, SALES_ORDERS, scope.tenantId, input, `($4::text is null or d.status = $4)`, [input.status ?? null]);
}

export type SalesOrderCreate = {
  location_id: string;
  reference?: string;
  /** One line per item. */
  lines: Array<{ item_id: string; qty: number }>;
  /** Seconds the stock stays held. */
  hold_for_s: number;
};

/** Creates an order holding every line (all or nothing). */
export async function create(tx: Tx, scope: Scope, input: SalesOrderCreate): Promise<SalesOrder> {
  const tenantId = scope.tenantId;
  const id = newId('so');
  await checkLineRefs(
    tx,
    tenantId,
    [input.location_id],
    input.lines.map((l) => l.item_id),
  );
  await hold(
    tx,
    tenantId,
    input.lines.map((l) => ({ itemId: l.item_id, locationId: input.location_id, delta: l.qty })),
  );
  await tx.query(
    `insert into sales_orders (tenant_id, id, location_id, reference, status, expires_at) values ($1, $2, $3, $4, 'reserved', now() + make_interval(secs => $5))`,
    [tenantId, id, input.location_id, input.reference ?? null, input.hold_for_s],
  );
  await tx.query(
    `insert into reservations (tenant_id, id, order_id, item_id, location_id, qty, status, expires_at)
     select $1, x.id, $2, x.item_id, $3, x.qty, 'active', now() + make_interval(secs => $4)
     from jsonb_to_recordset($5::jsonb) as x(id text, item_id text, qty int)`,
    [tenantId, id, input.location_id, input.hold_for_s, JSON.stringify(input.lines.map((l) => ({ id: newId('res'), item_id: l.item_id, qty: l.qty })))],
  );
  const out = await get(tx, scope, id);
  await emitEvent(tx, tenantId, 'order.created', out);
  await audit(tx, scope, 'sales_order.created', { type: 'sales_order', id }, input);
  return out;
}

/** Ships (the held stock leaves as sale movements) or cancels (the holds are released) an order still `reserved`. */
async function settle(tx: Tx, scope: Scope, id: string, action: 'ship' | 'cancel'): Promise<SalesOrder> {
  const tenantId = scope.tenantId;
  const [status, reservationStatus] = action === 'ship' ? (['shipped', 'consumed'] as const) : (['cancelled', 'released'] as const);
  const { lines } = await lockDocument<object, { id: string; item_id: string; location_id: string; qty: number }>(tx, SALES_ORDERS, tenantId, id, {
    allowed: ['reserved'],
    action: status,
    linesSql: `select id, item_id, location_id, qty from reservations where tenant_id = $1 and order_id = $2 and status = 'active' order by id for update`,
  });
  await changeReserved(
    tx,
    tenantId,
    lines.map((l) => ({ itemId: l.item_id, locationId: l.location_id, delta: -l.qty })),
  );
  if (action === 'ship') {
    await applyMovements(
      tx,
      tenantId,
      lines.map((l) => ({
        itemId: l.item_id,
        locationId: l.location_id,
        qtyDelta: -l.qty,
        reason: 'sale' as const,
        sourceUserId: scope.actor.id,
        note: `sales order ${id}`,
      })),
    );
  }
  await tx.query(`update reservations set status = $3, released_at = now() where tenant_id = $1 and order_id = $2 and status = 'active'`, [
    tenantId,
    id,
    reservationStatus,
  ]);
  await setStatus(tx, SALES_ORDERS, tenantId, id, status);
  const out = await get(tx, scope, id);
  await emitEvent(tx, tenantId, action === 'ship' ? 'order.shipped' : 'order.cancelled', out);
  await audit(tx, scope, `sales_order.${status}`, { type: 'sales_order', id });
  return out;
}

export const ship = (tx: Tx, scope: Scope, id: string) => settle(tx, scope, id, 'ship');
export const cancel = (tx: Tx, scope: Scope, id: string) => settle(tx, scope, id, 'cancel');

/** Reservations, newest first, with or without an order. */
export async function listReservations(
  q: Q,
  scope: Scope,
  input: PageRequest & { status?: ReservationStatus | null; itemId?: string | null; orderId?: string | null },
) {
  const { rows } = await q.query<Reservation>(
    `select ${RES_COLUMNS} from reservations r
     where r.tenant_id = $1 and ($2::text is null or r.id < $2) and ($3::text is null or r.status = $3)
       and ($4::text is null or r.item_id = $4) and ($5::text is null or r.order_id = $5)
     order by r.id desc limit $6`,
    [scope.tenantId, input.after, input.status ?? null, input.itemId ?? null, input.orderId ?? null, input.limit + 1],
  );
  return page(rows, input.limit, (r) => r.id);
}

export async function getReservation(q: Q, scope: Scope, id: string): Promise<Reservation> {
  const { rows } = await q.query<Reservation>(`select ${RES_COLUMNS} from reservations r where r.tenant_id = $1 and r.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Reservation');
  return rows[0];
}

export type ReservationCreate = { item_id: string; location_id: string; qty: number; hold_for_s: number };

/** Holds stock without an order (released on expiry). */
export async function createReservation(tx: Tx, scope: Scope, input: ReservationCreate): Promise<Reservation> {
  const tenantId = scope.tenantId;
  const id = newId('res');
  await checkLineRefs(tx, tenantId, [input.location_id], [input.item_id]);
  await hold(tx, tenantId, [{ itemId: input.item_id, locationId: input.location_id, delta: input.qty }]);
  const { rows } = await tx.query<Reservation>(
    `insert into reservations as r (tenant_id, id, item_id, location_id, qty, status, expires_at)
     values ($1, $2, $3, $4, $5, 'active', now() + make_interval(secs => $6)) returning ${RES_COLUMNS}`,
    [tenantId, id, input.item_id, input.location_id, input.qty, input.hold_for_s],
  );
  await audit(tx, scope, 'reservation.created', { type: 'reservation', id }, input);
  return rows[0]!;
}

/** Releases a reservation made without an order (an order's are released by cancelling it). */
export async function releaseReservation(tx: Tx, scope: Scope, id: string): Promise<Reservation> {
  const tenantId = scope.tenantId;
  const { rows } = await tx.query<{ status: string; order_id: string | null; item_id: string; location_id: string; qty: number }>(
    `select status, order_id, item_id, location_id, qty from reservations where tenant_id = $1 and id = $2 for update`,
    [tenantId, id],
  );
  const r = rows[0];
  if (!r) throw notFound('Reservation');
  if (r.order_id) throw conflict('This reservation belongs to a sales order: cancel the order instead', { order_id: r.order_id });
  if (r.status !== 'active') throw conflict(`This reservation is already ${r.status}`, { status: r.status });
  await changeReserved(tx, tenantId, [{ itemId: r.item_id, locationId: r.location_id, delta: -r.qty }]);
  const { rows: out } = await tx.query<Reservation>(
    `update reservations r set status = 'released', released_at = now() where r.tenant_id = $1 and r.id = $2 returning ${RES_COLUMNS}`,
    [tenantId, id],
  );
  await audit(tx, scope, 'reservation.released', { type: 'reservation', id });
  return out[0]!;
}
