// Locations: the shops, kitchens and warehouses that hold stock. A name is unique per tenant
// (case-insensitively); a location can be deleted only while nothing refers to it.
import { conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { Tx } from '../db/pool.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import type { Q, Scope } from './scope.ts';

/** An If-Match check against the location's current version (throws to refuse). */
export type Guard = (currentVersion: number) => void;

export type LocationRow = { id: string; version: number } & Record<string, unknown>;

const COLUMNS = `l.id, l.name, l.version, l.created_at,
  (select count(*) from stock_levels s where s.tenant_id = l.tenant_id and s.location_id = l.id and s.on_hand <> 0)::int as items_stocked,
  coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = l.tenant_id and s.location_id = l.id), 0)::int as on_hand`;

const duplicate = (name: string) => conflict(`A location named ${name} already exists`);

export async function list(q: Q, scope: Scope, input: PageRequest) {
  const { rows } = await q.query<LocationRow>(
    `select ${COLUMNS} from locations l where l.tenant_id = $1 and ($2::text is null or l.id > $2) order by l.id limit $3`,
    [scope.tenantId, input.after, input.limit + 1],
  );
  return page(rows, input.limit, (r) => r.id);
}

export async function get(q: Q, scope: Scope, id: string): Promise<LocationRow> {
  const { rows } = await q.query<LocationRow>(`select ${COLUMNS} from locations l where l.tenant_id = $1 and l.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Location');
  return rows[0];
}

/** The ids of the tenant's locations (an import checks its rows against them). */
export async function ids(q: Q, scope: Scope): Promise<Set<string>> {
  const { rows } = await q.query<{ id: string }>(`select id from locations where tenant_id = $1`, [scope.tenantId]);
  return new Set(rows.map((l) => l.id));
}

// One location of a name per tenant: creates and renames lock the tenant row, so two cannot race.
const lockTenant = (tx: Tx, tenantId: string) => tx.query(`select 1 from tenants where id = $1 for update`, [tenantId]);

/** Locks the location and runs the caller's If-Match check on its version (404 first). */
async function lockVersion(tx: Tx, tenantId: string, id: string, guard?: Guard): Promise<void> {
  const { rows } = await tx.query<{ version: number }>(`select version from locations where tenant_id = $1 and id = $2 for update`, [tenantId, id]);
  if (!rows[0]) throw notFound('Location');
  guard?.(rows[0].version);
}

export async function create(tx: Tx, scope: Scope, input: { name: string }): Promise<LocationRow> {
  const tenantId = scope.tenantId;
  const id = newId('loc');
  await lockTenant(tx, tenantId);
  const taken = await tx.query(`select 1 from locations where tenant_id = $1 and lower(name) = lower($2)`, [tenantId, input.name]);
  if (taken.rowCount) throw duplicate(input.name);
  await tx.query(`insert into locations (tenant_id, id, name) values ($1, $2, $3)`, [tenantId, id, input.name]);
  const out = await get(tx, scope, id);
  await audit(tx, scope, 'location.created', { type: 'location', id }, input);
  return out;
}

export async function rename(tx: Tx, scope: Scope, id: string, input: { name: string }, guard?: Guard): Promise<LocationRow> {
  const tenantId = scope.tenantId;
  await lockTenant(tx, tenantId);
  await lockVersion(tx, tenantId, id, guard);
  const taken = await tx.query(`select 1 from locations where tenant_id = $1 and lower(name) = lower($2) and id <> $3`, [tenantId, input.name, id]);
  if (taken.rowCount) throw duplicate(input.name);
  await tx.query(`update locations set name = $3, version = version + 1 where tenant_id = $1 and id = $2`, [tenantId, id, input.name]);
  await audit(tx, scope, 'location.updated', { type: 'location', id }, input);
  return get(tx, scope, id);
}

/** Deletes a location while nothing refers to it: no ledger history, transfer, purchase order or channel. */
export async function remove(tx: Tx, scope: Scope, id: string, guard?: Guard): Promise<void> {
  const tenantId = scope.tenantId;
  await lockVersion(tx, tenantId, id, guard);
  const used = await tx.query(`select 1 from stock_levels where tenant_id = $1 and location_id = $2 limit 1`, [tenantId, id]);
  if (used.rowCount) throw conflict('This location has stock history in the ledger and cannot be deleted');
  const moving = await tx.query(
    `select 1 from transfers where tenant_id = $1 and (from_location_id = $2 or to_location_id = $2)
     union all select 1 from purchase_order_lines where tenant_id = $1 and location_id = $2 limit 1`,
    [tenantId, id],
  );
  if (moving.rowCount) throw conflict('Transfers or purchase orders name this location; it cannot be deleted');
  const named = await tx.query(
    `select 1 from channels where tenant_id = $1 and (settings->'location_ids' ? $2 or exists (select 1 from jsonb_each_text(coalesce(settings->'location_map', '{}')) m where m.value = $2)) limit 1`,
    [tenantId, id],
  );
  if (named.rowCount) throw conflict('A channel draws stock from this location; change its settings first');
  await tx.query(`delete from locations where tenant_id = $1 and id = $2`, [tenantId, id]);
  await audit(tx, scope, 'location.deleted', { type: 'location', id });
}
