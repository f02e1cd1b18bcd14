// What transfers, purchase orders and sales orders have in common: each is a document (a header row
// with a status and a version, and lines) that moves or holds stock. Reading one or a page of them
// (lines included, one statement whatever the page size), checking what its lines name, locking it
// for a change of status, and the arithmetic of a receipt are written here once.
import { AppError, conflict, notFound } from '../domain/errors.ts';
import { refuseKits } from './kits.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q } from './scope.ts';

export interface StockDocument {
  /** The header table; its rows are keyed (tenant_id, id) and carry status, version and updated_at. */
  table: string;
  /** The document as the API shows it, lines included: a select list over `table` aliased `d`. */
  columns: string;
  /** What a 404 calls it ("Transfer"). */
  what: string;
  /** What a refused change of status calls it ("transfer"). */
  noun: string;
}

/** One document as the API shows it (404 when the tenant has none with this id). */
export async function getDocument<T>(q: Q, kind: StockDocument, tenantId: string, id: string): Promise<T> {
  const { rows } = await q.query(`select ${kind.columns} from ${kind.table} d where d.tenant_id = $1 and d.id = $2`, [tenantId, id]);
  if (!rows[0]) throw notFound(kind.what);
  return rows[0] as T;
}

/**
 * A page of documents, newest first (ids are time-ordered), with their lines, in ONE statement: a
 * page costs one round trip whatever its size. `filter` is SQL over `d` whose parameters start at $4.
 */
export async function listDocuments<T extends { id: string }>(
  q: Q,
  kind: StockDocument,
  tenantId: string,
  req: PageRequest,
  filter: string,
  params: unknown[],
) {
  const { rows } = await q.query<T>(
    `select ${kind.columns} from ${kind.table} d
     where d.tenant_id = $1 and ($2::text is null or d.id < $2) and ${filter}
     order by d.id desc limit $3`,
    [tenantId, req.after, req.limit + 1, ...params],
  );
  return page(rows, req.limit, (r) => r.id);
}

/**
 * Locks a document for a change of status and reads its lines under that lock (`linesSql`, with
 * $1 tenant and $2 id; none without it): 404 when there is none, 409 conflict when its status is
 * not one of `allowed`. Every writer of a document's lines holds this lock, so the lines read here
 * stay as they are until the transaction ends.
 */
export async function lockDocument<H, L>(
  tx: Q,
  kind: StockDocument,
  tenantId: string,
  id: string,
  opts: { columns?: string; allowed: readonly string[]; action: string; hint?: string; linesSql?: string },
): Promise<{ id: string; status: string; lines: L[] } & H> {
  const { rows } = await tx.query<{ status: string } & H>(
    `select status${opts.columns ? `, ${opts.columns}` : ''} from ${kind.table} where tenant_id = $1 and id = $2 for update`,
    [tenantId, id],
  );
  const d = rows[0];
  if (!d) throw notFound(kind.what);
  if (!opts.allowed.includes(d.status)) throw conflict(`This ${kind.noun} is ${d.status}; it cannot be ${opts.action}${opts.hint ?? ''}`, { status: d.status });
  const lines = opts.linesSql ? (await tx.query<L & Record<string, unknown>>(opts.linesSql, [tenantId, id])).rows : [];
  return { ...d, id, lines };
}

/** Locks a document for an edit of its own fields; `guard` sees its current version first (If-Match). */
export async function lockForEdit(tx: Q, kind: StockDocument, tenantId: string, id: string, guard?: (version: number) => void): Promise<void> {
  const { rows } = await tx.query<{ version: number }>(`select version from ${kind.table} where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  if (!rows[0]) throw notFound(kind.what);
  guard?.(rows[0].version);
}

/** Sets a locked document's status (a new version). */
export async function setStatus(tx: Q, kind: StockDocument, tenantId: string, id: string, status: string): Promise<void> {
  await tx.query(`update ${kind.table} set status = $3, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, id, status]);
}

/** 404 unless every location and every item belongs to the tenant; 409 when an item is a kit. */
export async function checkLineRefs(q: Q, tenantId: string, locationIds: string[], itemIds: string[]): Promise<void> {
  const { rows } = await q.query<{ locations: number; items: number }>(
    `select (select count(*) from locations where tenant_id = $1 and id = any($2))::int as locations,
            (select count(*) from items where tenant_id = $1 and id = any($3))::int as items`,
    [tenantId, locationIds, itemIds],
  );
  if (rows[0]!.locations !== new Set(locationIds).size) throw notFound('Location');
  if (rows[0]!.items !== new Set(itemIds).size) throw notFound('Item');
  await refuseKits(q, tenantId, itemIds);
}

/**
 * A receipt against what is outstanding (each line's qty still to come, by `key`): what arrives
 * (the lines asked for, or everything outstanding), the lines asking for more than is outstanding
 * (`known`: the line is on the document at all), and whether the document is then complete.
 */
export function receipt<L extends { qty: number }>(outstanding: L[], asked: L[] | undefined, key: (l: L) => string) {
  const left = new Map(outstanding.map((l) => [key(l), l.qty]));
  const arriving = (asked ?? outstanding).filter((l) => l.qty > 0);
  const over = arriving.filter((l) => l.qty > (left.get(key(l)) ?? 0)).map((l) => ({ line: l, outstanding: left.get(key(l)) ?? 0, known: left.has(key(l)) }));
  const arrived = new Map(arriving.map((l) => [key(l), l.qty]));
  const complete = outstanding.every((l) => l.qty - (arrived.get(key(l)) ?? 0) <= 0);
  return { arriving, over, complete };
}

/** 409 insufficient_stock naming the first short line; `lines` are the details. */
export function insufficientStock(lines: Array<{ item_id: string; location_id: string; available: number; wanted: number }>): AppError {
  const s = lines[0]!;
  return new AppError(409, 'insufficient_stock', `Only ${Math.max(0, s.available)} available of ${s.item_id} at ${s.location_id}; ${s.wanted} wanted`, {
    lines,
  });
}

/** Lines sorted by key: the ledger's lock order (item, location), so writers never deadlock. */
export const byKey = <L>(lines: L[], key: (l: L) => string): L[] => [...lines].sort((x, y) => (key(x) < key(y) ? -1 : 1));
