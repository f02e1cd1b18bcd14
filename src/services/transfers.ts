// Transfers between locations. Creating one takes the stock out of the source at once
// (transfer_out movements; all lines or nothing: 409 insufficient_stock when the source has less
// available, i.e. on_hand - reserved); receiving puts it into the destination (transfer_in,
// partial receipts allowed, never more than was sent: 422 over_receipt); cancelling returns what
// is still in transit to the source (transfer_in at the source). Rows, movements and the audit
// entry commit in the caller's transaction.
import type { Tx } from '../db/pool.ts';
import { AppError } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { applyMovements } from '../ledger/ledger.ts';
import { audit } from './audit-log.ts';
import type { PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';
import {
  byKey,
  checkLineRefs,
  getDocument,
  insufficientStock,
  listDocuments,
  lockDocument,
  lockForEdit,
  receipt,
  setStatus,
  type StockDocument,
} from './stock-documents.ts';

export const STATUSES = ['in_transit', 'partially_received', 'received', 'cancelled'] as const;
export type TransferStatus = (typeof STATUSES)[number];

export type Transfer = {
  id: string;
  status: TransferStatus;
  from_location_id: string;
  to_location_id: string;
  reference: string | null;
  version: number;
  lines: Array<{ item_id: string; qty: number; received_qty: number; returned_qty: number }>;
  created_at: Date;
  updated_at: Date;
};

export interface TransferLine {
  item_id: string;
  qty: number;
}

const TRANSFERS: StockDocument = {
  table: 'transfers',
  what: 'Transfer',
  noun: 'transfer',
  columns: `d.id, d.status, d.from_location_id, d.to_location_id, d.reference, d.version, d.created_at, d.updated_at,
            coalesce((select json_agg(json_build_object('item_id', l.item_id, 'qty', l.qty, 'received_qty', l.received_qty, 'returned_qty', l.returned_qty) order by l.item_id)
                      from transfer_lines l where l.tenant_id = d.tenant_id and l.transfer_id = d.id), '[]') as lines`,
};

const byItem = (l: { item_id: string }) => l.item_id;

export function get(q: Q, scope: Scope, id: string): Promise<Transfer> {
  return getDocument<Transfer>(q, TRANSFERS, scope.tenantId, id);
}

export function list(
  q: Q,
  scope: Scope,
  input: PageRequest & { status?: TransferStatus | null; fromLocationId?: string | null; toLocationId?: string | null; itemId?: string | null },
) {
  return listDocuments<Transfer>(
    q,
    TRANSFERS,
    scope.tenantId,
    input,
    `($4::text is null or d.status = $4) and ($5::text is null or d.from_location_id = $5) and ($6::text is null or d.to_location_id = $6)
     and ($7::text is null or exists (select 1 from transfer_lines l where l.tenant_id = d.tenant_id and l.transfer_id = d.id and l.item_id = $7))`,
    [input.status ?? null, input.fromLocationId ?? null, input.toLocationId ?? null, input.itemId ?? null],
  );
}

/**
 * Locks the source levels (in the ledger's lock order) and refuses the whole transfer when any
 * line wants more than is available there. The row locks serialise against every other writer of
 * these levels (ledger, reservations) until this transaction commits.
 */
async function takeFromSource(tx: Q, tenantId: string, locationId: string, lines: TransferLine[]): Promise<void> {
  const { rows } = await tx.query<{ item_id: string; available: number }>(
    `select item_id, on_hand - reserved as available from stock_levels
     where tenant_id = $1 and location_id = $2 and item_id = any($3) order by item_id for update`,
    [tenantId, locationId, lines.map((l) => l.item_id)],
  );
  const available = new Map(rows.map((r) => [r.item_id, r.available]));
  const short = lines
    .map((l) => ({ item_id: l.item_id, location_id: locationId, available: Math.max(0, available.get(l.item_id) ?? 0), wanted: l.qty }))
    .filter((s) => s.available < s.wanted);
  if (short.length) throw insufficientStock(short);
}

export type TransferCreate = {
  from_location_id: string;
  to_location_id: string;
  reference?: string;
  /** One line per item. */
  lines: TransferLine[];
};

/** Sends stock: it leaves the source now (transfer_out) and is in transit until received. */
export async function create(tx: Tx, scope: Scope, input: TransferCreate): Promise<Transfer> {
  const tenantId = scope.tenantId;
  const id = newId('trf');
  const lines = byKey(input.lines, byItem);
  await checkLineRefs(tx, tenantId, [input.from_location_id, input.to_location_id], lines.map(byItem));
  await takeFromSource(tx, tenantId, input.from_location_id, lines);
  await tx.query(`insert into transfers (tenant_id, id, from_location_id, to_location_id, reference, status) values ($1, $2, $3, $4, $5, 'in_transit')`, [
    tenantId,
    id,
    input.from_location_id,
    input.to_location_id,
    input.reference ?? null,
  ]);
  await tx.query(
    `insert into transfer_lines (tenant_id, transfer_id, item_id, qty) select $1, $2, x.item_id, x.qty from jsonb_to_recordset($3::jsonb) as x(item_id text, qty int)`,
    [tenantId, id, JSON.stringify(lines)],
  );
  await applyMovements(
    tx,
    tenantId,
    lines.map((l) => ({
      itemId: l.item_id,
      locationId: input.from_location_id,
      qtyDelta: -l.qty,
      reason: 'transfer_out' as const,
      sourceUserId: scope.actor.id,
      note: `transfer ${id}`,
    })),
  );
  const t = await get(tx, scope, id);
  await audit(tx, scope, 'transfer.created', { type: 'transfer', id }, input);
  return t;
}

/** Changes the reference; `guard` sees the current version first (If-Match). */
export async function update(tx: Tx, scope: Scope, id: string, input: { reference: string | null }, guard?: (version: number) => void): Promise<Transfer> {
  await lockForEdit(tx, TRANSFERS, scope.tenantId, id, guard);
  await tx.query(`update transfers set reference = $3, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [
    scope.tenantId,
    id,
    input.reference,
  ]);
  await audit(tx, scope, 'transfer.updated', { type: 'transfer', id }, input);
  return get(tx, scope, id);
}

/** Locks a transfer still (partly) in transit, with its lines (404, or 409 from another state). */
function lockInTransit(tx: Q, scope: Scope, id: string, action: string) {
  return lockDocument<{ from_location_id: string; to_location_id: string }, { item_id: string; qty: number; received_qty: number }>(
    tx,
    TRANSFERS,
    scope.tenantId,
    id,
    {
      columns: 'from_location_id, to_location_id',
      allowed: ['in_transit', 'partially_received'],
      action,
      linesSql: `select item_id, qty, received_qty from transfer_lines where tenant_id = $1 and transfer_id = $2 order by item_id`,
    },
  );
}

/** Receives a transfer, wholly (no `lines`) or in part: transfer_in movements at the destination. */
export async function receive(tx: Tx, scope: Scope, id: string, input: { lines?: TransferLine[] }): Promise<Transfer> {
  const t = await lockInTransit(tx, scope, id, 'received');
  const { arriving, over, complete } = receipt(
    t.lines.map((l) => ({ item_id: l.item_id, qty: l.qty - l.received_qty })),
    input.lines,
    byItem,
  );
  if (over.length) {
    const details = over.map((o) => ({ item_id: o.line.item_id, outstanding: o.outstanding, qty: o.line.qty, on_transfer: o.known }));
    const o = details[0]!;
    throw new AppError(
      422,
      'over_receipt',
      o.on_transfer ? `Only ${o.outstanding} of ${o.item_id} is still in transit; ${o.qty} cannot be received` : `${o.item_id} is not on this transfer`,
      { lines: details },
    );
  }
  await tx.query(
    `update transfer_lines l set received_qty = l.received_qty + x.qty
     from jsonb_to_recordset($3::jsonb) as x(item_id text, qty int)
     where l.tenant_id = $1 and l.transfer_id = $2 and l.item_id = x.item_id`,
    [scope.tenantId, t.id, JSON.stringify(arriving)],
  );
  await applyMovements(
    tx,
    scope.tenantId,
    byKey(arriving, byItem).map((l) => ({
      itemId: l.item_id,
      locationId: t.to_location_id,
      qtyDelta: l.qty,
      reason: 'transfer_in' as const,
      sourceUserId: scope.actor.id,
      note: `transfer ${t.id}`,
    })),
  );
  await setStatus(tx, TRANSFERS, scope.tenantId, t.id, complete ? 'received' : 'partially_received');
  const res = await get(tx, scope, t.id);
  await audit(tx, scope, 'transfer.received', { type: 'transfer', id: t.id }, { lines: arriving });
  return res;
}

/** Cancels a transfer in transit: what has not arrived goes back to the source (transfer_in there). */
export async function cancel(tx: Tx, scope: Scope, id: string): Promise<Transfer> {
  const t = await lockInTransit(tx, scope, id, 'cancelled');
  const back = t.lines.map((l) => ({ item_id: l.item_id, qty: l.qty - l.received_qty })).filter((l) => l.qty > 0);
  await tx.query(`update transfer_lines set returned_qty = qty - received_qty where tenant_id = $1 and transfer_id = $2`, [scope.tenantId, t.id]);
  await applyMovements(
    tx,
    scope.tenantId,
    back.map((l) => ({
      itemId: l.item_id,
      locationId: t.from_location_id,
      qtyDelta: l.qty,
      reason: 'transfer_in' as const,
      sourceUserId: scope.actor.id,
      note: `transfer ${t.id} cancelled`,
    })),
  );
  await setStatus(tx, TRANSFERS, scope.tenantId, t.id, 'cancelled');
  const res = await get(tx, scope, t.id);
  await audit(tx, scope, 'transfer.cancelled', { type: 'transfer', id: t.id }, { returned: back });
  return res;
}
