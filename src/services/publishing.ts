// Publishing products to marketplace channels. An action (publish, update, delist, relist) is
// planned by the channel's catalog side (src/channels/contract.ts) from the product as that channel
// shows it (overrides applied); the dry run returns that plan and sends nothing; a real run
// records the action on the product's publication row and queues the publishing job
// (src/engine/publishing.ts), which sends the same plan.
import { ChannelError, type CatalogAction, type CatalogPlan, type CatalogSide, type ListingDraft, type PublishedRef } from '../channels/contract.ts';
import { AWAITING } from '../channels/catalog.ts';
import { channelPolicyOf } from '../channels/registry.ts';
import { KIT_COMPONENTS_SQL } from '../db/kits.ts';
import { channelView, type ChannelOverride } from '../domain/catalog.ts';
import type { KitComponentStock } from '../domain/sellable.ts';
import { channelTarget } from '../domain/sync-rules.ts';
import { AppError, conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { publishJob, type PublishPriority } from '../db/job-specs.ts';
import { addJobs } from '../db/jobs.ts';
import type { Tx } from '../db/pool.ts';
import type { LiveChannels } from './channels.ts';
import { getProduct } from './products.ts';
import { loadRules } from './sync-rules.ts';
import type { Q, Scope } from './scope.ts';

export const PUBLICATION_STATES = ['draft', 'publishing', 'live', 'error', 'delisted'] as const;
export type PublicationState = (typeof PUBLICATION_STATES)[number];

/** Catalog-capable channel, loaded: its adapter's catalog side and its documented budget. */
export interface CatalogChannel {
  id: string;
  name: string;
  type: string;
  catalog: CatalogSide;
  rateLimit: { perSecond: number; burst: number };
}

/** The channels an action targets, each checked to exist, be this tenant's and publish catalogs. */
export async function catalogChannels(q: Q, scope: Scope, live: LiveChannels, channelIds: string[]): Promise<CatalogChannel[]> {
  const { rows } = await q.query<{ id: string; name: string; type: string; status: string }>(
    `select id, name, type, status from channels where tenant_id = $1 and id = any($2::text[])`,
    [scope.tenantId, channelIds],
  );
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: CatalogChannel[] = [];
  for (const [i, id] of channelIds.entries()) {
    const row = byId.get(id);
    if (!row) throw new AppError(404, 'not_found', `No channel ${id}`, [{ path: `channel_ids.${i}`, message: 'no such channel' }]);
    const ch = await live.load(scope.tenantId, id);
    const catalog = ch?.adapter.catalog;
    if (!ch || !catalog) {
      throw new AppError(400, 'not_a_marketplace', `${row.name} (${row.type}) does not publish products; it syncs stock only`, [
        { path: `channel_ids.${i}`, message: `${row.type} channels do not publish products` },
      ]);
    }
    out.push({ id, name: row.name, type: row.type, catalog, rateLimit: ch.module.capabilities.rateLimit });
  }
  return out;
}

/**
 * The product as `channelId` should list it: the master with the channel's override on top, each
 * variant's price (a variant without one has none to sell at: refused) and the quantity the
 * channel may sell now, both as the Sync pushes them (channelTarget: the channel's locations,
 * buffers and cap, then the sync rules, price adjustments included).
 */
export async function loadDraft(q: Q, scope: Scope, productId: string, channelId: string, mediaUrl: (key: string) => string): Promise<ListingDraft> {
  const p = await getProduct(q, scope, productId);
  const o = (p.overrides as Array<ChannelOverride & { channel_id: string }>).find((x) => x.channel_id === channelId) ?? null;
  const images = p.images.map((i) => ({ id: i.id, url: mediaUrl(i.storage_key), contentType: i.content_type }));
  const view = channelView(
    {
      title: p.title,
      description: p.description ?? '',
      price_minor: p.price_minor,
      currency: p.currency,
      category: p.category ?? null,
      attributes: p.attributes ?? {},
      images,
      variants: p.variants.map((v) => ({ item_id: v.item_id, sku: v.sku, option_values: v.option_values, price_minor: v.price_minor })),
    },
    o,
  );
  // Quantity and price as the Sync will push them: the channel's policy over its locations, then
  // the merchant's sync rules (caps, keep-backs, price adjustments) through the one channelTarget.
  const ch = await q.query<{ type: string; settings: unknown }>(`select type, settings from channels where tenant_id = $1 and id = $2`, [
    scope.tenantId,
    channelId,
  ]);
  if (!ch.rows[0]) throw notFound('Channel');
  const policy = channelPolicyOf(ch.rows[0].type, ch.rows[0].settings);
  const { rows: stock } = await q.query<{ item_id: string; item_buffer: number | null; available: number; components: KitComponentStock[] }>(
    `select l.item_id, l.buffer as item_buffer,
            coalesce((select sum(s.on_hand - s.reserved) from stock_levels s
                      where s.tenant_id = l.tenant_id and s.item_id = l.item_id
                        and (cardinality($3::text[]) = 0 or s.location_id = any($3))), 0)::int as available,
            ${KIT_COMPONENTS_SQL} as components
     from (select tenant_id, id as item_id, buffer from items where tenant_id = $1 and product_id = $2) l`,
    [scope.tenantId, productId, policy.locationIds],
  );
  const { rules } = await loadRules(q, scope.tenantId);
  const target = new Map(
    view.variants.map((v) => {
      const st = stock.find((r) => r.item_id === v.item_id);
      const out = channelTarget(policy, { available: st?.available ?? 0, item_buffer: st?.item_buffer ?? null, components: st?.components ?? [] }, rules, {
        channel_id: channelId,
        product_id: productId,
        category: p.category ?? null,
        tags: (p.tags as string[] | undefined) ?? [],
        price_minor: v.price_minor,
      });
      return [v.item_id, out] as const;
    }),
  );
  const unpriced = view.variants.filter((v) => v.price_minor === null).map((v) => v.sku);
  if (unpriced.length) {
    throw new AppError(
      400,
      'validation_failed',
      `Set a price before publishing: ${unpriced.join(', ')} has none (the product's base price or the variant's own)`,
      [{ path: 'price_minor', message: 'a price is needed to publish' }],
    );
  }
  return {
    productId,
    title: view.title,
    description: view.description,
    brand: p.brand ?? null,
    category: view.category,
    attributes: view.attributes,
    currency: view.currency,
    options: p.options,
    images: view.images.map((i) => ({ id: i.id, url: i.url, contentType: images.find((x) => x.id === i.id)?.contentType ?? 'image/jpeg' })),
    variants: view.variants.map((v) => ({
      itemId: v.item_id,
      sku: v.sku,
      optionValues: v.option_values,
      priceMinor: target.get(v.item_id)?.price_minor ?? v.price_minor!,
      qty: Math.max(0, target.get(v.item_id)?.qty ?? 0),
    })),
  };
}

export interface PublicationRow {
  id: string;
  product_id: string;
  channel_id: string;
  state: PublicationState;
  action: CatalogAction | null;
  external_id: string | null;
  refs: Record<string, string>;
  step: number;
  captured: Record<string, string>;
  last_error: string | null;
  version: number;
  updated_at: Date;
}

/**
 * A publication's columns (of alias `p.` when given). The job's mark of a request awaiting its
 * answer (AWAITING, src/channels/catalog.ts) is kept among the captured values but is not one.
 */
const pubColumns = (p = '') =>
  `${p}id, ${p}product_id, ${p}channel_id, ${p}state, ${p}action, ${p}job_id, ${p}external_id, ${p}refs, ${p}sent, ${p}step, ` +
  `(${p}captured - '${AWAITING}') as captured, ${p}attempts, ${p}last_error, ${p}version, ${p}created_at, ${p}updated_at`;
const PUB_COLUMNS = pubColumns();

export async function publicationOf(q: Q, tenantId: string, productId: string, channelId: string): Promise<PublicationRow | null> {
  const { rows } = await q.query<PublicationRow>(`select ${PUB_COLUMNS} from publications where tenant_id = $1 and product_id = $2 and channel_id = $3`, [
    tenantId,
    productId,
    channelId,
  ]);
  return rows[0] ?? null;
}

export const existingRef = (pub: PublicationRow | null): PublishedRef | null =>
  pub?.external_id ? { externalId: pub.external_id, refs: pub.refs ?? {} } : null;

/**
 * What `action` means for a product's current publication: publishing something already live is
 * an update (nothing is listed twice); updating, delisting or relisting what was never published
 * is refused.
 */
export function effectiveAction(action: CatalogAction, pub: PublicationRow | null): CatalogAction {
  const listed = Boolean(pub?.external_id);
  if (action === 'publish') return listed ? (pub!.state === 'delisted' ? 'relist' : 'update') : 'publish';
  if (!listed) throw conflict(`The product is not on this channel yet: publish it first`);
  return action;
}

export interface ChannelPlan {
  productId: string;
  channel: CatalogChannel;
  action: CatalogAction;
  /** Null when the channel refuses the product as it stands (`problem` says why and what to do). */
  plan: CatalogPlan | null;
  problem?: string;
}

/**
 * The plans of `action` for one product on each channel: what a dry run shows and a run sends.
 * A product a channel cannot take as it stands (Etsy without an image, eBay without its policies)
 * is a problem for the merchant to fix, not an error of ours. With `skipInapplicable` (bulk), an
 * action that cannot apply to a channel (updating what was never published) is left out.
 */
export async function planProduct(
  q: Q,
  scope: Scope,
  channels: CatalogChannel[],
  productId: string,
  action: CatalogAction,
  mediaUrl: (key: string) => string,
  opts: { skipInapplicable?: boolean } = {},
): Promise<ChannelPlan[]> {
  const out: ChannelPlan[] = [];
  for (const channel of channels) {
    const pub = await publicationOf(q, scope.tenantId, productId, channel.id);
    let act: CatalogAction;
    try {
      act = effectiveAction(action, pub);
    } catch (err) {
      if (opts.skipInapplicable) continue;
      throw err;
    }
    const draft = await loadDraft(q, scope, productId, channel.id, mediaUrl);
    try {
      out.push({ productId, channel, action: act, plan: channel.catalog.plan(act, draft, existingRef(pub)) });
    } catch (err) {
      if (!(err instanceof ChannelError) || err.kind !== 'permanent') throw err;
      out.push({ productId, channel, action: act, plan: null, problem: err.message });
    }
  }
  return out;
}

/** Refuses a run some channel cannot take as the product stands: 422 naming each channel and why. */
export function assertPlannable(plans: ChannelPlan[]): void {
  const problems = plans.filter((p) => p.problem);
  if (problems.length === 0) return;
  throw new AppError(
    422,
    'cannot_publish',
    problems.length === 1 ? `${problems[0]!.channel.name}: ${problems[0]!.problem}` : `${problems.length} channels cannot take this product as it stands`,
    problems.map((p) => ({ path: 'channel_ids', message: `${p.channel.name} (${p.channel.id}): ${p.problem}` })),
  );
}

/** The budget a channel has left now (the shared token bucket, read without taking from it). */
async function budgetNow(q: Q, tenantId: string, ch: CatalogChannel): Promise<number> {
  const { rows } = await q.query<{ avail: number }>(
    `select least($3::float8, coalesce(rate_tokens, $3::float8) + $4::float8 * greatest(0, extract(epoch from clock_timestamp() - coalesce(rate_at, clock_timestamp())))) as avail
     from channels where tenant_id = $1 and id = $2`,
    [tenantId, ch.id, ch.rateLimit.burst, ch.rateLimit.perSecond],
  );
  return Math.max(0, Math.floor(rows[0]?.avail ?? 0));
}

/** A dry run's answer: every request in order, and what it costs each channel against its budget. */
export async function dryRunAnswer(q: Q, scope: Scope, plans: ChannelPlan[]) {
  const requests = plans.flatMap((p) =>
    (p.plan?.requests ?? []).map((r) => ({
      channel_id: p.channel.id,
      action: p.action,
      label: r.label,
      method: r.method,
      url: r.url,
      body: r.body ?? null,
      ...(r.upload ? { upload: r.upload } : {}),
    })),
  );
  const channels = new Map<string, { channel_id: string; type: string; api_calls: number; per_second: number; burst: number; available_now: number }>();
  for (const p of plans) {
    const c = channels.get(p.channel.id) ?? {
      channel_id: p.channel.id,
      type: p.channel.type,
      api_calls: 0,
      per_second: p.channel.rateLimit.perSecond,
      burst: p.channel.rateLimit.burst,
      available_now: await budgetNow(q, scope.tenantId, p.channel),
    };
    c.api_calls += p.plan?.requests.length ?? 0;
    channels.set(p.channel.id, c);
  }
  return {
    dry_run: true as const,
    requests,
    api_calls: requests.length,
    problems: plans.filter((p) => p.problem).map((p) => ({ product_id: p.productId, channel_id: p.channel.id, message: p.problem! })),
    channels: [...channels.values()].map((c) => ({ ...c, seconds_at_budget: Math.ceil(Math.max(0, c.api_calls - c.available_now) / c.per_second) })),
  };
}

/**
 * Records `action` on each (product, channel) publication, state `publishing`, and queues its job.
 * A publication already publishing is left alone (its job runs the newest product when it starts).
 */
export async function requestActions(
  tx: Tx,
  scope: Scope,
  items: Array<{ productId: string; channelId: string; action: CatalogAction }>,
  opts: { jobId?: string | null; priority?: PublishPriority } = {},
): Promise<PublicationRow[]> {
  const out: PublicationRow[] = [];
  for (const it of items) {
    const { rows } = await tx.query<PublicationRow>(
      `insert into publications (tenant_id, id, product_id, channel_id, state, action, job_id, step, captured, attempts, last_error)
       values ($1, $2, $3, $4, 'publishing', $5, $6, 0, '{}', 0, null)
       on conflict (tenant_id, product_id, channel_id) do update
         set state = 'publishing', action = excluded.action, job_id = excluded.job_id, step = 0, captured = '{}', attempts = 0, last_error = null,
             version = publications.version + 1, updated_at = now()
       returning ${PUB_COLUMNS}`,
      [scope.tenantId, newId('pub'), it.productId, it.channelId, it.action, opts.jobId ?? null],
    );
    const pub = rows[0]!;
    await tx.query(`insert into publication_events (tenant_id, publication_id, action, state) values ($1, $2, $3, 'publishing')`, [
      scope.tenantId,
      pub.id,
      it.action,
    ]);
    await addJobs(tx, [publishJob(scope.tenantId, pub.id, it.channelId, opts.priority ?? 'single')]);
    out.push(pub);
  }
  return out;
}

export async function listPublications(q: Q, scope: Scope, filter: { productId?: string | null; channelId?: string | null; state?: string | null }) {
  const { rows } = await q.query(
    `select ${pubColumns('p.')}, c.name as channel_name, c.type as channel_type
     from publications p join channels c on c.tenant_id = p.tenant_id and c.id = p.channel_id
     where p.tenant_id = $1 and ($2::text is null or p.product_id = $2) and ($3::text is null or p.channel_id = $3) and ($4::text is null or p.state = $4)
     order by p.updated_at desc, p.id limit 500`,
    [scope.tenantId, filter.productId ?? null, filter.channelId ?? null, filter.state ?? null],
  );
  return rows;
}

export async function getPublication(q: Q, scope: Scope, id: string) {
  const { rows } = await q.query(`select ${PUB_COLUMNS} from publications where tenant_id = $1 and id = $2`, [scope.tenantId, id]);
  if (!rows[0]) throw notFound('Publication');
  const history = await q.query(
    `select action, state, requests, error, at from publication_events where tenant_id = $1 and publication_id = $2 order by id desc limit 50`,
    [scope.tenantId, id],
  );
  return { ...rows[0], history: history.rows };
}
