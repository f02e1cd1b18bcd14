// Sync rules: a merchant's conditions -> actions on what channels are told (the rules themselves are
// src/domain/sync-rules.ts). Every change bumps tenants.sync_rules_version (the engine's rules cache
// keys on it) and marks the listings of the channels it can touch for a push, in the same transaction.
import { channelPolicyOf } from '../channels/registry.ts';
import { KIT_COMPONENTS_SQL } from '../db/kits.ts';
import type { Tx } from '../db/pool.ts';
import { overridePrice, type PriceOverride } from '../domain/catalog.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { KitComponentStock } from '../domain/sellable.ts';
import { channelTarget, orderRules, type SyncRule, type SyncRuleAction, type SyncRuleConditions } from '../domain/sync-rules.ts';
import { audit } from './audit-log.ts';
import { markForPush } from './listing-push.ts';
import type { PageRequest } from './paging.ts';
import { encodeCursor } from './paging.ts';
import type { Q, Scope } from './scope.ts';

export type Guard = (currentVersion: number) => void;

export interface SyncRuleInput {
  name: string;
  priority?: number;
  enabled?: boolean;
  conditions?: SyncRuleConditions;
  action: SyncRuleAction;
}

export type SyncRuleRow = SyncRule & { version: number; created_at: Date; updated_at: Date };

const COLUMNS = `r.id, r.name, r.priority, r.enabled, r.conditions, r.action, r.version, r.created_at, r.updated_at`;

/** Priority and id as one sortable cursor key (priorities are 0..1,000,000). */
const cursorKey = (r: { priority: number; id: string }) => `${String(r.priority).padStart(7, '0')}:${r.id}`;

export async function list(q: Q, scope: Scope, input: PageRequest) {
  const [p, id] = input.after ? [Number(input.after.slice(0, 7)), input.after.slice(8)] : [null, null];
  const { rows } = await q.query<SyncRuleRow>(
    `select ${COLUMNS} from sync_rules r
     where r.tenant_id = $1 and ($2::int is null or (r.priority, r.id) > ($2::int, $3::text))
     order by r.priority, r.id limit $4`,
    [scope.tenantId, Number.isFinite(p) ? p : null, id, input.limit + 1],
  );
  const data = rows.slice(0, input.limit);
  return { data, next_cursor: rows.length > input.limit ? encodeCursor(cursorKey(data[data.length - 1]!)) : null };
}

export async function get(q: Q, scope: Scope, id: string): Promise<SyncRuleRow> {
  const { rows } = await q.query<SyncRuleRow>(`select ${COLUMNS} from sync_rules r where r.tenant_id = $1 and r.id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Sync rule');
  return rows[0];
}

/** Every rule of the tenant in priority order, with the version they are at (the engine's cache loads this). */
export async function loadRules(q: Q, tenantId: string): Promise<{ version: number; rules: SyncRule[] }> {
  const [v, r] = await Promise.all([
    q.query<{ v: string }>(`select sync_rules_version::text as v from tenants where id = $1`, [tenantId]),
    q.query<SyncRule>(`select r.id, r.name, r.priority, r.enabled, r.conditions, r.action from sync_rules r where r.tenant_id = $1 order by r.priority, r.id`, [
      tenantId,
    ]),
  ]);
  return { version: Number(v.rows[0]?.v ?? 0), rules: orderRules(r.rows) };
}

type Problem = { path: string; message: string };
const invalid = (problems: Problem[]) => new AppError(400, 'validation_failed', problems.map((p) => `${p.path}: ${p.message}`).join('; '), problems);

/** What the shape (zod, at the route) cannot say: referenced channels and products exist, ranges agree. */
async function check(q: Q, tenantId: string, r: { conditions: SyncRuleConditions; action: SyncRuleAction }): Promise<void> {
  const problems: Problem[] = [];
  const c = r.conditions;
  const refs = async (table: 'channels' | 'products', ids: string[] | undefined, path: string) => {
    if (!ids?.length) return;
    const { rows } = await q.query<{ id: string }>(`select id from ${table} where tenant_id = $1 and id = any($2)`, [tenantId, ids]);
    const found = new Set(rows.map((x) => x.id));
    ids.forEach((id, i) => {
      if (!found.has(id)) problems.push({ path: `${path}.${i}`, message: `no ${table === 'channels' ? 'channel' : 'product'} ${id}` });
    });
  };
  await refs('channels', c.channel_ids, 'conditions.channel_ids');
  await refs('products', c.product_ids, 'conditions.product_ids');
  if (c.stock_below !== undefined && c.stock_at_least !== undefined && c.stock_below <= c.stock_at_least) {
    problems.push({ path: 'conditions.stock_below', message: `must be greater than stock_at_least (${c.stock_at_least}), or no stock level matches` });
  }
  const a = r.action;
  if (a.type === 'percent' && (a.value < 0 || a.value > 100)) problems.push({ path: 'action.value', message: 'a percent is 0 to 100' });
  if (a.type === 'price_adjust' && a.unit === 'percent' && a.value < -100)
    problems.push({ path: 'action.value', message: 'a price cannot go down more than 100%' });
  if (a.type !== 'price_adjust' && a.type !== 'percent' && a.value < 0) problems.push({ path: 'action.value', message: 'must be 0 or more' });
  if (problems.length) throw invalid(problems);
}

/** The rule's conditions with empty lists dropped, so `{}` and `{tags: []}` mean the same. */
function tidy(c: SyncRuleConditions | undefined): SyncRuleConditions {
  const out: SyncRuleConditions = {};
  for (const [k, v] of Object.entries(c ?? {}) as Array<[keyof SyncRuleConditions, unknown]>) {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
    (out as Record<string, unknown>)[k] = Array.isArray(v) ? [...new Set(v as string[])] : v;
  }
  return out;
}

/** Bumps the version and queues pushes on the connected channels either side of a change can touch. */
async function changed(tx: Tx, tenantId: string, touched: SyncRuleConditions[]): Promise<void> {
  await tx.query(`update tenants set sync_rules_version = sync_rules_version + 1 where id = $1`, [tenantId]);
  const all = touched.some((c) => !c.channel_ids?.length);
  const { rows } = await tx.query<{ id: string }>(
    `select id from channels where tenant_id = $1 and status = 'connected' and ($2::boolean or id = any($3)) order by id`,
    [tenantId, all, touched.flatMap((c) => c.channel_ids ?? [])],
  );
  for (const ch of rows) await markForPush(tx, tenantId, { channelId: ch.id });
}

/**
 * A product's category or tags changed, or items moved to another product: what rules matching on
 * those say may now differ, so the items' listings are pushed again (only when some enabled rule
 * looks at products at all: most tenants have none, and then this costs one indexed read).
 */
export async function productFactsChanged(tx: Q, tenantId: string, itemIds: string[]): Promise<void> {
  if (itemIds.length === 0) return;
  const { rows } = await tx.query(
    `select 1 from sync_rules where tenant_id = $1 and enabled
       and (conditions ? 'categories' or conditions ? 'tags' or conditions ? 'product_ids') limit 1`,
    [tenantId],
  );
  if (rows.length) await markForPush(tx, tenantId, { itemIds });
}

const lockTenant = (tx: Tx, tenantId: string) => tx.query(`select 1 from tenants where id = $1 for update`, [tenantId]);

export async function create(tx: Tx, scope: Scope, input: SyncRuleInput): Promise<SyncRuleRow> {
  const tenantId = scope.tenantId;
  const conditions = tidy(input.conditions);
  await check(tx, tenantId, { conditions, action: input.action });
  await lockTenant(tx, tenantId);
  const id = newId('srl');
  await tx.query(`insert into sync_rules (tenant_id, id, name, priority, enabled, conditions, action) values ($1, $2, $3, $4, $5, $6, $7)`, [
    tenantId,
    id,
    input.name,
    input.priority ?? 100,
    input.enabled ?? true,
    JSON.stringify(conditions),
    JSON.stringify(input.action),
  ]);
  await changed(tx, tenantId, [conditions]);
  await audit(tx, scope, 'sync_rule.created', { type: 'sync_rule', id }, { ...input, conditions });
  return get(tx, scope, id);
}

export async function update(tx: Tx, scope: Scope, id: string, patch: Partial<SyncRuleInput>, guard?: Guard): Promise<SyncRuleRow> {
  const tenantId = scope.tenantId;
  await lockTenant(tx, tenantId);
  const { rows } = await tx.query<SyncRuleRow>(`select ${COLUMNS} from sync_rules r where r.tenant_id = $1 and r.id = $2 for update`, [tenantId, id]);
  const cur = rows[0];
  if (!cur) throw notFound('Sync rule');
  guard?.(cur.version);
  const next = {
    name: patch.name ?? cur.name,
    priority: patch.priority ?? cur.priority,
    enabled: patch.enabled ?? cur.enabled,
    conditions: patch.conditions !== undefined ? tidy(patch.conditions) : cur.conditions,
    action: patch.action ?? cur.action,
  };
  await check(tx, tenantId, next);
  await tx.query(
    `update sync_rules set name = $3, priority = $4, enabled = $5, conditions = $6, action = $7, version = version + 1, updated_at = now()
     where tenant_id = $1 and id = $2`,
    [tenantId, id, next.name, next.priority, next.enabled, JSON.stringify(next.conditions), JSON.stringify(next.action)],
  );
  await changed(tx, tenantId, [cur.conditions, next.conditions]);
  await audit(tx, scope, 'sync_rule.updated', { type: 'sync_rule', id }, patch);
  return get(tx, scope, id);
}

export async function remove(tx: Tx, scope: Scope, id: string, guard?: Guard): Promise<void> {
  const tenantId = scope.tenantId;
  await lockTenant(tx, tenantId);
  const { rows } = await tx.query<SyncRuleRow>(`select ${COLUMNS} from sync_rules r where r.tenant_id = $1 and r.id = $2 for update`, [tenantId, id]);
  if (!rows[0]) throw notFound('Sync rule');
  guard?.(rows[0].version);
  await tx.query(`delete from sync_rules where tenant_id = $1 and id = $2`, [tenantId, id]);
  await changed(tx, tenantId, [rows[0].conditions]);
  await audit(tx, scope, 'sync_rule.deleted', { type: 'sync_rule', id });
}

/**
 * What one listing's channel is told, and why: the master sellable (the channel's buffer, percent
 * and cap over its locations), then every rule in priority order with what it did. The same
 * `channelTarget` Sync pushes with. An item not (yet) listed on the channel is answered too.
 */
export async function dryRun(q: Q, scope: Scope, input: { channel_id: string; item_id?: string; sku?: string }) {
  const tenantId = scope.tenantId;
  const ch = await q.query<{ id: string; type: string; name: string; settings: unknown }>(
    `select id, type, name, settings from channels where tenant_id = $1 and id = $2`,
    [tenantId, input.channel_id],
  );
  if (!ch.rows[0]) throw notFound('Channel');
  const policy = channelPolicyOf(ch.rows[0].type, ch.rows[0].settings);
  const { rows } = await q.query<{
    item_id: string;
    sku: string;
    item_buffer: number | null;
    available: number;
    components: KitComponentStock[];
    product_id: string | null;
    category: string | null;
    tags: string[] | null;
    price_minor: string | null;
    price_override: PriceOverride | null;
    listing_id: string | null;
    last_pushed_qty: number | null;
  }>(
    `select l.item_id, i.sku, i.buffer as item_buffer,
            coalesce((select sum(s.on_hand - s.reserved) from stock_levels s
                      where s.tenant_id = l.tenant_id and s.item_id = l.item_id
                        and (cardinality($3::text[]) = 0 or s.location_id = any($3))), 0)::int as available,
            ${KIT_COMPONENTS_SQL} as components,
            i.product_id, p.category, p.tags, coalesce(i.price_minor, p.price_minor)::text as price_minor, o.price as price_override,
            ls.id as listing_id, ls.last_pushed_qty
     from (select tenant_id, id as item_id from items where tenant_id = $1 and (id = $4 or ($4::text is null and sku = $5))) l
     join items i on i.tenant_id = l.tenant_id and i.id = l.item_id
     left join products p on p.tenant_id = i.tenant_id and p.id = i.product_id
     left join product_overrides o on o.tenant_id = i.tenant_id and o.product_id = i.product_id and o.channel_id = $2
     left join listings ls on ls.tenant_id = i.tenant_id and ls.channel_id = $2 and ls.item_id = i.id`,
    [tenantId, input.channel_id, policy.locationIds, input.item_id ?? null, input.sku ?? null],
  );
  const r = rows[0];
  if (!r) throw notFound('Item');
  const { rules } = await loadRules(q, tenantId);
  const price = overridePrice(r.price_minor === null ? null : Number(r.price_minor), r.price_override ?? undefined);
  const out = channelTarget(policy, { available: r.available, item_buffer: r.item_buffer, components: r.components }, rules, {
    channel_id: input.channel_id,
    product_id: r.product_id,
    category: r.category,
    tags: r.tags ?? [],
    price_minor: price,
  });
  return {
    channel_id: input.channel_id,
    channel_name: ch.rows[0].name,
    item_id: r.item_id,
    sku: r.sku,
    listing_id: r.listing_id,
    last_pushed_qty: r.last_pushed_qty,
    product: { id: r.product_id, category: r.category, tags: r.tags ?? [] },
    master_qty: out.master_qty,
    qty: out.qty,
    price_minor: price,
    price_after_minor: out.price_minor,
    applied: out.applied,
    rules: out.rules,
  };
}
