// Tenants, their users and locations.
import { newId } from '../domain/ids.ts';
import type { Tx } from './pool.ts';

type Q = Pick<Tx, 'query'>;

export interface NewTenant {
  tenantId: string;
  userId: string | null;
  locationId: string;
}

/** A tenant with its first location and, when given, its owner. */
export async function createTenant(
  q: Q,
  input: { name: string; locationName?: string; owner?: { email: string; passwordHash: string }; guardianIntervalS?: number },
): Promise<NewTenant> {
  const tenantId = newId('ten');
  const locationId = newId('loc');
  await q.query(`insert into tenants (id, name, guardian_interval_s, guardian_next_at) values ($1, $2, $3::int, now() + make_interval(secs => $3::int))`, [
    tenantId,
    input.name,
    input.guardianIntervalS ?? 900,
  ]);
  await q.query(`insert into locations (tenant_id, id, name) values ($1, $2, $3)`, [tenantId, locationId, input.locationName ?? 'Main']);
  let userId: string | null = null;
  if (input.owner) {
    userId = newId('usr');
    await q.query(`insert into users (tenant_id, id, email, password_hash, role) values ($1, $2, $3, $4, 'owner')`, [
      tenantId,
      userId,
      input.owner.email,
      input.owner.passwordHash,
    ]);
  }
  return { tenantId, userId, locationId };
}

export interface ItemInput {
  sku: string;
  name: string;
  barcode?: string | null;
  lowStockThreshold?: number;
  buffer?: number | null;
}

/** Creates many items in one statement; returns their ids in input order. */
export async function createItems(q: Q, tenantId: string, items: ItemInput[]): Promise<string[]> {
  const ids = items.map(() => newId('item'));
  await q.query(
    `insert into items (tenant_id, id, sku, name, barcode, low_stock_threshold, buffer)
     select $1, x.id, x.sku, x.name, x.barcode, coalesce(x.low_stock_threshold, 0), x.buffer
     from jsonb_to_recordset($2::jsonb) as x(id text, sku text, name text, barcode text, low_stock_threshold int, buffer int)`,
    [
      tenantId,
      JSON.stringify(
        items.map((it, i) => ({
          id: ids[i],
          sku: it.sku,
          name: it.name,
          barcode: it.barcode ?? null,
          low_stock_threshold: it.lowStockThreshold ?? 0,
          buffer: it.buffer ?? null,
        })),
      ),
    ],
  );
  return ids;
}
