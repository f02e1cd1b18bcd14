// Purchase orders: stock ordered from a supplier. Each line names an item, the location it is
// delivered to and the quantity ordered; what is ordered and not yet received on an open order is
// `incoming` on that level. Receiving (wholly or in part) writes receipt movements through the
// ledger; more than is outstanding is refused (422 over_receipt). The order row is locked for the
// whole receipt, so two concurrent receipts of one line never receive more than was ordered.
// An order nothing was received on can be cancelled; one partly received can be closed (the rest
// is no longer expected).
import type { Tx } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyMovements } from '../ledger/ledger.ts';
import { audit } from './audit-log.ts';
import type { PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';
import { byKey, checkLineRefs, getDocument, listDocuments, lockDocument, lockForEdit, receipt, setStatus, type StockDocument } from './stock-documents.ts';

export const STATUSES = ['open', 'partially_received', 'received', 'cancelled', 'closed'] as const;
export type PurchaseOrderStatus = (typeof STATUSES)[number];

export type PurchaseOrder = {
  id: string;
  status: PurchaseOrderStatus;
  supplier: string | null;
  reference: string | null;
  version: number;
  lines: Array<{ item_id: string; location_id: string; qty_ordered: number; qty_received: number; unit_cost: number | null }>;
  created_at: Date;
  updated_at: Date;
};

/** A line of a receipt: `qty` of an item arrived at a location. */
export interface ReceiptLine {
  item_id: string;
  location_id: string;
  qty: number;
}

const PURCHASE_ORDERS: StockDocument = {
  table: 'purchase_orders',
  what: 'Purchase order',
  noun: 'purchase order',
  columns: `d.id, d.status, d.supplier, d.reference, d.version, d.created_at, d.updated_at,
            coalesce((select json_agg(json_build_object('item_id', l.item_id, 'location_id', l.location_id, 'qty_ordered', l.qty_ordered,
                                                        'qty_received', l.qty_received, 'unit_cost', l.unit_cost) order by l.item_id, l.location_id)
                      from purchase_order_lines l where l.tenant_id = d.tenant_id and l.purchase_order_id = d.id), '[]') as lines`,
};

/** A line's level: one line per item and location. */
export const levelKey = (l: { item_id: string; location_id: string }) => `${l.item_id}|${l.location_id}`;

const OPEN = ['open', 'partially_received'] as const;

export function get(q: Q, scope: Scope, id: string): Promise<PurchaseOrder> {
  return getDocument<PurchaseOrder>(q, PURCHASE_ORDERS, scope.tenantId, id);
}

export function list(q: Q, scope: Scope, input: PageRequest & { status?: PurchaseOrderStatus | null; itemId?: string | null; locationId?: string | null }) {
  return listDocuments<PurchaseOrder>(
    q,
    PURCHASE_ORDERS,
    scope.tenantId,
    input,
    `($4::text is null or d.status = $4)
     and ($5::text is null and $6::text is null or exists (
           select 1 from purchase_order_lines l where l.tenant_id = d.tenant_id and l.purchase_order_id = d.id
             and ($5::text is null or l.item_id = $5) and ($6::text is null or l.location_id = $6)))`,
    [input.status ?? null, input.itemId ?? null, input.locationId ?? null],
  );
}

export type PurchaseOrderCreate = {
  supplier?: string;
  reference?: string;
  /** One line per item and location. */
  lines: Array<{ item_id: string; location_id: string; qty_ordered: number; unit_cost?: number }>;
};

/** Creates an open purchase order: its lines become incoming stock. */
export async function create(tx: Tx, scope: Scope, input: PurchaseOrderCreate): Promise<PurchaseOrder> {
  const tenantId = scope.tenantId;
  const id = newId('po');
  await checkLineRefs(
    tx,
    tenantId,
    input.lines.map((l) => l.location_id),
    input.lines.map((l) => l.item_id),
  );
  await tx.query(`insert into purchase_orders (tenant_id, id, supplier, reference, status) values ($1, $2, $3, $4, 'open')`, [
    tenantId,
    id,
    input.supplier ?? null,
    input.reference ?? null,
  ]);
  await tx.query(
    `insert into purchase_order_lines (tenant_id, purchase_order_id, item_id, location_id, qty_ordered, unit_cost)
     select $1, $2, x.item_id, x.location_id, x.qty_ordered, x.unit_cost
     from jsonb_to_recordset($3::jsonb) as x(item_id text, location_id text, qty_ordered int, unit_cost float8)`,
    [tenantId, id, JSON.stringify(input.lines)],
  );
  const po = await get(tx, scope, id);
  await audit(tx, scope, 'purchase_order.created', { type: 'purchase_order', id }, input);
  return po;
}

/** Changes the supplier and/or the reference (a field left out stays); `guard` sees the current version first (If-Match). */
export async function update(
  tx: Tx,
  scope: Scope,
  id: string,
  input: { supplier?: string | null; reference?: string | null },
  guard?: (version: number) => void,
): Promise<PurchaseOrder> {
  await lockForEdit(tx, PURCHASE_ORDERS, scope.tenantId, id, guard);
  await tx.query(
    `update purchase_orders set supplier = case when $3::boolean then $4 else supplier end, reference = case when $5::boolean then $6 else reference end,
       version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`,
    [scope.tenantId, id, 'supplier' in input, input.supplier ?? null, 'reference' in input, input.reference ?? null],
  );
  await audit(tx, scope, 'purchase_order.updated', { type: 'purchase_order', id }, input);
  return get(tx, scope, id);
}

/** Receives a purchase order, wholly (no `lines`) or in part: receipt movements at each line's location. */
export async function receive(tx: Tx, scope: Scope, id: string, input: { lines?: ReceiptLine[] }): Promise<PurchaseOrder> {
  const po = await lockDocument<object, { item_id: string; location_id: string; qty_ordered: number; qty_received: number }>(
    tx,
    PURCHASE_ORDERS,
    scope.tenantId,
    id,
    {
      allowed: OPEN,
      action: 'received',
      linesSql: `select item_id, location_id, qty_ordered, qty_received from purchase_order_lines where tenant_id = $1 and purchase_order_id = $2 order by item_id, location_id`,
    },
  );
  const { arriving, over, complete } = receipt(
    po.lines.map((l) => ({ item_id: l.item_id, location_id: l.location_id, qty: l.qty_ordered - l.qty_received })),
    input.lines,
    levelKey,
  );
  if (over.length) {
    const details = over.map((o) => ({
      item_id: o.line.item_id,
      location_id: o.line.location_id,
      outstanding: o.outstanding,
      qty: o.line.qty,
      on_order: o.known,
    }));
    const o = details[0]!;
    throw new AppError(
      422,
      'over_receipt',
      o.on_order
        ? `Only ${o.outstanding} of ${o.item_id} at ${o.location_id} is still outstanding; ${o.qty} cannot be received`
        : `${o.item_id} at ${o.location_id} is not on this purchase order`,
      { lines: details },
    );
  }
  await tx.query(
    `update purchase_order_lines l set qty_received = l.qty_received + x.qty
     from jsonb_to_recordset($3::jsonb) as x(item_id text, location_id text, qty int)
     where l.tenant_id = $1 and l.purchase_order_id = $2 and l.item_id = x.item_id and l.location_id = x.location_id`,
    [scope.tenantId, po.id, JSON.stringify(arriving)],
  );
  await applyMovements(
    tx,
    scope.tenantId,
    byKey(arriving, levelKey).map((l) => ({
      itemId: l.item_id,
      locationId: l.location_id,
      qtyDelta: l.qty,
      reason: 'receipt' as const,
      sourceUserId: scope.actor.id,
      note: `purchase order ${po.id}`,
    })),
  );
  await setStatus(tx, PURCHASE_ORDERS, scope.tenantId, po.id, complete ? 'received' : 'partially_received');
  const res = await get(tx, scope, po.id);
  await audit(tx, scope, 'purchase_order.received', { type: 'purchase_order', id: po.id }, { lines: arriving });
  return res;
}

async function finish(tx: Tx, scope: Scope, id: string, status: 'cancelled' | 'closed'): Promise<PurchaseOrder> {
  await setStatus(tx, PURCHASE_ORDERS, scope.tenantId, id, status);
  const res = await get(tx, scope, id);
  await audit(tx, scope, `purchase_order.${status}`, { type: 'purchase_order', id });
  return res;
}

/** Cancels an order nothing was received on. */
export async function cancel(tx: Tx, scope: Scope, id: string): Promise<PurchaseOrder> {
  await lockDocument(tx, PURCHASE_ORDERS, scope.tenantId, id, { allowed: ['open'], action: 'cancelled', hint: ' (close it instead once stock was received)' });
  return finish(tx, scope, id, 'cancelled');
}

/** Closes an open or partly received order: what was not received is no longer expected (no longer incoming). */
export async function close(tx: Tx, scope: Scope, id: string): Promise<PurchaseOrder> {
  await lockDocument(tx, PURCHASE_ORDERS, scope.tenantId, id, { allowed: OPEN, action: 'closed' });
  return finish(tx, scope, id, 'closed');
}
