// Catalog conflicts: a marketplace holds a title, description or price that differs both from what
// we last sent it (so it is not our echo) and from the master (so it is news). Neither side is
// overwritten until the conflict is resolved:
// - use_master: the channel gets the master's value again (an update action);
// - use_platform: the platform's value becomes ours: the channel's override when it has one for
//   the field, else the master, and every channel the product is live on is updated;
// - manual: a value someone typed, applied like use_platform.
// Stock conflicts (field `stock`, one per variant) come from the Guardian's read-back of a channel
// whose conflict_policy is not use_master: the channel holds a quantity that is neither ours nor a
// sale we know of (a seller edited it there). Until resolved the Guardian leaves that listing alone
// (Sync still pushes every change of the ledger: a channel is never left above what we hold because
// of a conflict). use_master pushes our quantity again; use_platform and manual move the ledger by
// an adjustment so the channel's sellable becomes that quantity, and every channel follows.
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { pushJob } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Tx } from '../db/pool.ts';
import { applyMovements } from '../ledger/ledger.ts';
import { audit } from './audit-log.ts';
import { page, type PageRequest } from './paging.ts';
import { requestActions } from './publishing.ts';
import { NEEDS_PUSH_SET } from './listing-push.ts';
import { dryRun as stockDryRun } from './sync-rules.ts';
import type { Q, Scope } from './scope.ts';

export const CONFLICT_FIELDS = ['title', 'description', 'price_minor'] as const;
export type ConflictField = (typeof CONFLICT_FIELDS)[number] | 'stock';
export const CONFLICT_STRATEGIES = ['use_master', 'use_platform', 'manual'] as const;
export type ConflictStrategy = (typeof CONFLICT_STRATEGIES)[number];
/** A channel's standing answer to its conflicts (settings.conflict_policy): `ask` queues them for a person. */
export type ConflictPolicy = 'ask' | 'use_master' | 'use_platform';

const COLUMNS = `k.id, k.channel_id, c.name as channel_name, c.type as channel_type, k.product_id, p.title as product_title, k.publication_id,
  k.field, k.item_id, i.sku, k.master_value, k.platform_value, k.status, k.resolution, k.resolved_value, k.resolved_by, k.detected_at, k.resolved_at`;
const FROM = `from conflicts k join channels c on c.tenant_id = k.tenant_id and c.id = k.channel_id
  join products p on p.tenant_id = k.tenant_id and p.id = k.product_id
  left join items i on i.tenant_id = k.tenant_id and i.id = k.item_id`;

export interface ConflictRow {
  id: string;
  channel_id: string;
  product_id: string;
  publication_id: string | null;
  field: ConflictField;
  item_id: string | null;
  master_value: unknown;
  platform_value: unknown;
  status: 'open' | 'resolved';
  [k: string]: unknown;
}

export async function listConflicts(q: Q, scope: Scope, input: PageRequest & { status?: string | null; channelId?: string | null; productId?: string | null }) {
  const { rows } = await q.query<ConflictRow>(
    `select ${COLUMNS} ${FROM}
     where k.tenant_id = $1 and ($2::text is null or k.id > $2) and ($4::text is null or k.status = $4)
       and ($5::text is null or k.channel_id = $5) and ($6::text is null or k.product_id = $6)
     order by k.id limit $3`,
    [scope.tenantId, input.after, input.limit + 1, input.status ?? null, input.channelId ?? null, input.productId ?? null],
  );
  return page(rows, input.limit, (r) => r.id);
}

export async function getConflict(q: Q, scope: Scope, id: string): Promise<ConflictRow> {
  const { rows } = await q.query<ConflictRow>(`select ${COLUMNS} ${FROM} where k.tenant_id = $1 and k.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Conflict');
  return rows[0];
}

/**
 * Records (or refreshes) the open conflict on one field of a listing. Returns its id. A later
 * read that still differs updates the values; one open conflict per field and listing.
 */
export async function recordConflict(
  q: Q,
  tenantId: string,
  c: { channelId: string; productId: string; publicationId: string | null; itemId?: string | null; field: ConflictField; master: unknown; platform: unknown },
): Promise<string> {
  const { rows } = await q.query<{ id: string }>(
    `insert into conflicts (tenant_id, id, channel_id, product_id, publication_id, item_id, field, master_value, platform_value)
     values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb)
     on conflict (tenant_id, channel_id, product_id, field, (coalesce(item_id, ''))) where status = 'open'
       do update set master_value = excluded.master_value, platform_value = excluded.platform_value
     returning id`,
    [tenantId, newId('cfl'), c.channelId, c.productId, c.publicationId, c.itemId ?? null, c.field, JSON.stringify(c.master), JSON.stringify(c.platform)],
  );
  return rows[0]!.id;
}

function checkValue(field: ConflictField, value: unknown): string | number {
  if (field === 'stock') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1_000_000)
      throw new AppError(400, 'validation_failed', 'A stock level is a whole number from 0 to 1,000,000', [{ path: 'value', message: 'a quantity' }]);
    return value;
  }
  if (field === 'price_minor') {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 1e12)
      throw new AppError(400, 'validation_failed', 'A price is a whole number of minor units (pence), 0 or more', [{ path: 'value', message: 'minor units' }]);
    return value;
  }
  if (typeof value !== 'string' || (field === 'title' && (value.trim() === '' || value.length > 500)) || value.length > 50_000)
    throw new AppError(400, 'validation_failed', `A ${field} is text${field === 'title' ? ' of 1 to 500 characters' : ''}`, [
      { path: 'value', message: `a ${field}` },
    ]);
  return value;
}

/** Writes `value` as ours for `field`: the channel's override when it overrides that field, else the master. */
async function adopt(tx: Tx, scope: Scope, k: ConflictRow, value: string | number): Promise<void> {
  const t = scope.tenantId;
  if (k.field === 'price_minor') {
    const { rowCount } = await tx.query(
      `update product_overrides set price = jsonb_build_object('type', 'absolute', 'minor', $4::bigint), version = version + 1, updated_at = now()
       where tenant_id = $1 and product_id = $2 and channel_id = $3 and price is not null`,
      [t, k.product_id, k.channel_id, value],
    );
    if (rowCount) return;
    await tx.query(`update products set price_minor = $3, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [
      t,
      k.product_id,
      value,
    ]);
    // Variants priced on their own would keep the old price: they follow the adopted one.
    await tx.query(`update items set price_minor = $3 where tenant_id = $1 and product_id = $2 and price_minor is not null`, [t, k.product_id, value]);
    return;
  }
  const col = k.field === 'title' ? 'title' : 'description';
  const { rowCount } = await tx.query(
    `update product_overrides set ${col} = $4, version = version + 1, updated_at = now()
     where tenant_id = $1 and product_id = $2 and channel_id = $3 and ${col} is not null`,
    [t, k.product_id, k.channel_id, value],
  );
  if (rowCount) return;
  await tx.query(`update products set ${col} = $3, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [t, k.product_id, value]);
}

/** Resolves one open conflict; returns it resolved, with the publications whose update it queued. */
export async function resolveConflict(tx: Tx, scope: Scope, id: string, strategy: ConflictStrategy, value?: unknown) {
  const { rows } = await tx.query<ConflictRow>(`select ${COLUMNS} ${FROM} where k.tenant_id = $1 and k.id = $2 for update of k`, [scope.tenantId, id]);
  const k = rows[0];
  if (!k) throw notFound('Conflict');
  if (k.status !== 'open') throw new AppError(409, 'already_resolved', `This conflict was already resolved (${String(k.resolution)})`);
  if (strategy === 'manual' && value === undefined)
    throw new AppError(400, 'validation_failed', 'A manual resolution needs a value', [{ path: 'value', message: 'required for manual' }]);
  if (strategy !== 'manual' && value !== undefined)
    throw new AppError(400, 'validation_failed', `${strategy} takes no value (only manual does)`, [{ path: 'value', message: 'only with manual' }]);
  let resolved: unknown;
  let channels: string[];
  if (k.field === 'stock') {
    resolved = strategy === 'use_master' ? null : checkValue('stock', strategy === 'manual' ? value : k.platform_value);
    resolved = await resolveStock(tx, scope, k, resolved as number | null);
    channels = [];
  } else if (strategy === 'use_master') {
    resolved = k.master_value;
    channels = [k.channel_id];
  } else {
    resolved = checkValue(k.field, strategy === 'manual' ? value : k.platform_value);
    await adopt(tx, scope, k, resolved as string | number);
    // Ours changed: every channel the product is live on shows the new value.
    const live = await tx.query<{ channel_id: string }>(`select channel_id from publications where tenant_id = $1 and product_id = $2 and state = 'live'`, [
      scope.tenantId,
      k.product_id,
    ]);
    channels = live.rows.map((r) => r.channel_id);
  }
  const queued = await requestActions(
    tx,
    scope,
    channels.map((channelId) => ({ productId: k.product_id, channelId, action: 'update' as const })),
  );
  await tx.query(
    `update conflicts set status = 'resolved', resolution = $3, resolved_value = $4::jsonb, resolved_by = $5, resolved_at = now() where tenant_id = $1 and id = $2`,
    [scope.tenantId, id, strategy, JSON.stringify(resolved), `${scope.actor.type}:${scope.actor.id}`],
  );
  await audit(tx, scope, 'conflict.resolve', { type: 'conflict', id }, { field: k.field, strategy, value: resolved });
  return { conflict: await getConflict(tx, scope, id), updates: queued.map((p) => ({ publication_id: p.id, channel_id: p.channel_id })) };
}

/**
 * A stock conflict resolved: `qty` null (use_master) pushes our quantity to the channel again;
 * a quantity moves the ledger by an adjustment at the channel's first location (the tenant's first
 * otherwise) so that the channel's sellable, as Sync computes it now, becomes `qty`. Every channel
 * then follows through the ordinary push. Answers the quantity the channel is told.
 */
async function resolveStock(tx: Tx, scope: Scope, k: ConflictRow, qty: number | null): Promise<number> {
  const t = scope.tenantId;
  const now = await stockDryRun(tx, scope, { channel_id: k.channel_id, item_id: k.item_id! });
  if (qty !== null && qty !== now.qty) {
    const { rows } = await tx.query<{ id: string }>(
      `select l.id from channels c, locations l where c.tenant_id = $1 and c.id = $2 and l.tenant_id = c.tenant_id
         and (jsonb_typeof(c.settings -> 'location_ids') is distinct from 'array' or jsonb_array_length(c.settings -> 'location_ids') = 0
              or c.settings -> 'location_ids' ? l.id)
       order by l.created_at, l.id limit 1`,
      [t, k.channel_id],
    );
    if (!rows[0]) throw new AppError(409, 'no_location', 'The channel sells from no location: give it one before taking its quantity in');
    await applyMovements(tx, t, [
      {
        itemId: k.item_id!,
        locationId: rows[0].id,
        qtyDelta: qty - now.qty,
        reason: 'adjustment',
        sourceChannelId: k.channel_id,
        sourceUserId: scope.actor.type === 'user' ? scope.actor.id : null,
        note: `stock conflict ${k.id} resolved (${qty === k.platform_value ? 'the channel' : 'a value entered'})`,
      },
    ]);
    return qty;
  }
  // Ours again (or already equal): push it to this channel. What it holds is what the Guardian
  // saw there (the Sync skips a push of what it believes the channel already holds).
  await tx.query(
    `update listings l set last_seen_qty = $4, last_pushed_qty = null, ${NEEDS_PUSH_SET} where l.tenant_id = $1 and l.channel_id = $2 and l.item_id = $3`,
    [t, k.channel_id, k.item_id, typeof k.platform_value === 'number' ? k.platform_value : null],
  );
  await addJobs(tx, [pushJob(t, k.channel_id)]);
  return now.qty;
}
