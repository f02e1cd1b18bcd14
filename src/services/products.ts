// The catalog: products, their variants (items: each with its SKU and its stock in the ledger),
// images and per-channel overrides. Options and variants are checked by the pure rules of
// src/domain/catalog.ts; an item made elsewhere (the items API, CSV import) is already a
// single-variant product of its own (the items_own_product trigger, migration 0027) and can be
// moved into a product as one of its variants.
import { variantProblems, type PriceOverride, type ProductOption } from '../domain/catalog.ts';
import { AppError, conflict, notFound } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import { containsPattern } from '../db/item-search.ts';
import type { Tx } from '../db/pool.ts';
import { audit } from './audit-log.ts';
import type { Guard } from './items.ts';
import { page, type PageRequest } from './paging.ts';
import { productFactsChanged } from './sync-rules.ts';
import type { Q, Scope } from './scope.ts';

export interface ProductFields {
  title: string;
  description?: string;
  brand?: string | null;
  category?: string | null;
  price_minor?: number | null;
  currency?: string;
  weight_g?: number | null;
  length_mm?: number | null;
  width_mm?: number | null;
  height_mm?: number | null;
  attributes?: Record<string, string>;
  options?: ProductOption[];
  tags?: string[];
  status?: 'active' | 'archived';
}

export interface VariantInput {
  sku: string;
  /** The item's name; default: the product's title and the option values ("Linen shirt - M / Red"). */
  name?: string;
  option_values?: Record<string, string>;
  price_minor?: number | null;
  barcode?: string | null;
}

export interface OverrideInput {
  title?: string | null;
  description?: string | null;
  price?: PriceOverride | null;
  image_ids?: string[] | null;
  category_id?: string | null;
  attributes?: Record<string, string>;
}

const PRODUCT_COLUMNS = `p.id, p.title, p.description, p.brand, p.category, p.price_minor::float8 as price_minor, p.currency,
  p.weight_g, p.length_mm, p.width_mm, p.height_mm, p.attributes, p.options, p.tags, p.status, p.version, p.created_at, p.updated_at`;

/** The product's variants and images as JSON arrays, in one statement with the product. */
const CHILDREN = `
  coalesce((select json_agg(json_build_object('item_id', i.id, 'sku', i.sku, 'name', i.name, 'option_values', i.option_values,
      'price_minor', i.price_minor::float8, 'barcode', i.barcode,
      'on_hand', coalesce((select sum(s.on_hand) from stock_levels s where s.tenant_id = i.tenant_id and s.item_id = i.id), 0)::int) order by i.created_at, i.id)
    from items i where i.tenant_id = p.tenant_id and i.product_id = p.id), '[]') as variants,
  coalesce((select json_agg(json_build_object('id', m.id, 'storage_key', m.storage_key, 'position', m.position, 'alt', m.alt,
      'content_type', m.content_type, 'bytes', m.bytes) order by m.position, m.id)
    from product_images m where m.tenant_id = p.tenant_id and m.product_id = p.id), '[]') as images`;

export interface ProductRow {
  id: string;
  title: string;
  description: string;
  brand: string | null;
  category: string | null;
  attributes: Record<string, string>;
  tags: string[];
  options: ProductOption[];
  price_minor: number | null;
  currency: string;
  version: number;
  variants: Array<{
    item_id: string;
    sku: string;
    name: string;
    option_values: Record<string, string>;
    price_minor: number | null;
    barcode: string | null;
    on_hand: number;
  }>;
  images: Array<{ id: string; storage_key: string; position: number; alt: string | null; content_type: string; bytes: number }>;
  [k: string]: unknown;
}

/** Products by id; `search` matches the title or a variant's SKU; `status` filters. */
export async function listProducts(q: Q, scope: Scope, input: PageRequest & { search?: string | null; status?: string | null }) {
  const { rows } = await q.query<ProductRow>(
    `select ${PRODUCT_COLUMNS}, ${CHILDREN} from products p
     where p.tenant_id = $1 and ($2::text is null or p.id > $2) and ($5::text is null or p.status = $5)
       and ($3::text is null or p.title ilike $3 or exists (select 1 from items i where i.tenant_id = p.tenant_id and i.product_id = p.id and i.sku ilike $3))
     order by p.id limit $4`,
    [scope.tenantId, input.after, containsPattern(input.search), input.limit + 1, input.status ?? null],
  );
  return page(rows, input.limit, (r) => r.id);
}

/** One product with its variants, images and channel overrides. */
export async function getProduct(q: Q, scope: Scope, id: string) {
  const { rows } = await q.query<ProductRow>(`select ${PRODUCT_COLUMNS}, ${CHILDREN} from products p where p.tenant_id = $1 and p.id = $2`, [
    scope.tenantId,
    id,
  ]);
  if (!rows[0]) throw notFound('Product');
  const overrides = await q.query(
    `select o.channel_id, c.name as channel_name, c.type as channel_type, o.title, o.description, o.price, o.image_ids, o.category_id, o.attributes, o.updated_at
     from product_overrides o join channels c on c.tenant_id = o.tenant_id and c.id = o.channel_id
     where o.tenant_id = $1 and o.product_id = $2 order by c.name`,
    [scope.tenantId, id],
  );
  return { ...rows[0], overrides: overrides.rows };
}

export type ProductDetail = Awaited<ReturnType<typeof getProduct>>;

const invalid = (problems: Array<{ path: string; message: string }>) =>
  new AppError(400, 'validation_failed', problems.map((p) => p.message).join('; '), problems);

const skuTaken = (err: { code?: string; detail?: string }) => {
  if (err.code === '23505' && /items_tenant_sku_key|sku/.test(`${err.detail ?? ''}${(err as { constraint?: string }).constraint ?? ''}`)) {
    throw conflict(`A SKU is already used: ${err.detail ?? ''}`.trim());
  }
  throw err;
};

const variantName = (title: string, options: ProductOption[], values: Record<string, string>) =>
  options.length ? `${title} - ${options.map((o) => values[o.name]).join(' / ')}` : title;

/**
 * Refuses SKUs other items already use, naming each at its place (`pathOf(i)`) so a form can show
 * it on that field. Checked before the insert because a unique violation under row-level security
 * does not say which key it was (Postgres leaves the DETAIL out); `skuTaken` still answers a race.
 */
async function refuseTakenSkus(tx: Tx, scope: Scope, variants: VariantInput[], pathOf: (i: number) => string): Promise<void> {
  const { rows } = await tx.query<{ sku: string }>(`select sku from items where tenant_id = $1 and sku = any($2::text[])`, [
    scope.tenantId,
    variants.map((v) => v.sku),
  ]);
  if (rows.length === 0) return;
  const taken = new Set(rows.map((r) => r.sku));
  throw conflict(
    `SKU already used by another item: ${[...taken].join(', ')}`,
    variants.flatMap((v, i) => (taken.has(v.sku) ? [{ path: pathOf(i), message: `${v.sku} is already used by another item` }] : [])),
  );
}

async function insertVariants(tx: Tx, scope: Scope, productId: string, title: string, options: ProductOption[], variants: VariantInput[]): Promise<void> {
  if (variants.length === 0) return;
  await tx
    .query(
      `insert into items (tenant_id, id, sku, name, barcode, product_id, option_values, price_minor)
       select $1, x.id, x.sku, x.name, x.barcode, $2, x.option_values, x.price_minor
       from jsonb_to_recordset($3::jsonb) as x(id text, sku text, name text, barcode text, option_values jsonb, price_minor bigint)`,
      [
        scope.tenantId,
        productId,
        JSON.stringify(
          variants.map((v) => ({
            id: newId('item'),
            sku: v.sku,
            name: v.name ?? variantName(title, options, v.option_values ?? {}),
            barcode: v.barcode ?? null,
            option_values: v.option_values ?? {},
            price_minor: v.price_minor ?? null,
          })),
        ),
      ],
    )
    .catch(skuTaken);
}

/** A product and its variants (each a new item, stock 0 until received), checked against its options. */
export async function createProduct(tx: Tx, scope: Scope, input: ProductFields & { variants: VariantInput[] }): Promise<ProductDetail> {
  const options = input.options ?? [];
  const problems = variantProblems(
    options,
    input.variants.map((v) => ({ sku: v.sku, option_values: v.option_values ?? {} })),
  );
  if (input.variants.length === 0) problems.push({ path: 'variants', message: 'a product has at least one variant' });
  if (problems.length) throw invalid(problems);
  await refuseTakenSkus(tx, scope, input.variants, (i) => `variants.${i}.sku`);
  const id = newId('prd');
  await tx.query(
    `insert into products (tenant_id, id, title, description, brand, category, price_minor, currency, weight_g, length_mm, width_mm, height_mm, attributes, options, tags, status)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
    [
      scope.tenantId,
      id,
      input.title,
      input.description ?? '',
      input.brand ?? null,
      input.category ?? null,
      input.price_minor ?? null,
      input.currency ?? 'GBP',
      input.weight_g ?? null,
      input.length_mm ?? null,
      input.width_mm ?? null,
      input.height_mm ?? null,
      JSON.stringify(input.attributes ?? {}),
      JSON.stringify(options),
      input.tags ?? [],
      input.status ?? 'active',
    ],
  );
  await insertVariants(tx, scope, id, input.title, options, input.variants);
  const out = await getProduct(tx, scope, id);
  await audit(tx, scope, 'product.created', { type: 'product', id }, { title: input.title, variants: input.variants.map((v) => v.sku) });
  return out;
}

async function lockProduct(tx: Tx, scope: Scope, id: string, guard?: Guard): Promise<ProductRow> {
  const { rows } = await tx.query<ProductRow>(`select ${PRODUCT_COLUMNS}, ${CHILDREN} from products p where p.tenant_id = $1 and p.id = $2 for update of p`, [
    scope.tenantId,
    id,
  ]);
  if (!rows[0]) throw notFound('Product');
  guard?.(rows[0].version);
  return rows[0];
}

const PATCHABLE = [
  'title',
  'description',
  'brand',
  'category',
  'price_minor',
  'currency',
  'weight_g',
  'length_mm',
  'width_mm',
  'height_mm',
  'attributes',
  'options',
  'tags',
  'status',
] as const;
const JSON_FIELDS = new Set(['attributes', 'options']);

/** Changes the product's own fields; new options must still fit every variant it has. */
export async function updateProduct(tx: Tx, scope: Scope, id: string, patch: Partial<ProductFields>, guard?: Guard): Promise<ProductDetail> {
  const current = await lockProduct(tx, scope, id, guard);
  if (patch.options) {
    const problems = variantProblems(
      patch.options,
      current.variants.map((v) => ({ sku: v.sku, option_values: v.option_values })),
    );
    if (problems.length) throw invalid(problems);
  }
  const fields = PATCHABLE.filter((f) => patch[f] !== undefined);
  if (fields.length) {
    const sets = fields.map((f, i) => `${f} = $${i + 3}${JSON_FIELDS.has(f) ? '::jsonb' : ''}`);
    await tx.query(`update products set ${sets.join(', ')}, version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [
      scope.tenantId,
      id,
      ...fields.map((f) => (JSON_FIELDS.has(f) ? JSON.stringify(patch[f]) : patch[f])),
    ]);
    await audit(tx, scope, 'product.updated', { type: 'product', id }, Object.fromEntries(fields.map((f) => [f, patch[f]])));
  }
  // Sync rules may match on the category and tags (src/domain/sync-rules.ts).
  if (patch.category !== undefined || patch.tags !== undefined) {
    await productFactsChanged(
      tx,
      scope.tenantId,
      current.variants.map((v) => v.item_id),
    );
  }
  return getProduct(tx, scope, id);
}

/**
 * Adds a variant: a new item with `sku`, or an existing item (`item_id`) moved in from its own
 * single-variant product (which goes, if nothing else is left of it).
 */
export async function addVariant(
  tx: Tx,
  scope: Scope,
  productId: string,
  input: (VariantInput & { item_id?: undefined }) | { item_id: string; option_values?: Record<string, string>; price_minor?: number | null },
): Promise<ProductDetail> {
  const p = await lockProduct(tx, scope, productId);
  const values = input.option_values ?? {};
  let sku: string;
  let moved: { id: string; product_id: string | null } | null = null;
  if (input.item_id !== undefined) {
    const { rows } = await tx.query<{ sku: string; product_id: string | null }>(
      `select sku, product_id from items where tenant_id = $1 and id = $2 for update`,
      [scope.tenantId, input.item_id],
    );
    if (!rows[0]) throw notFound('Item');
    if (rows[0].product_id === productId) throw conflict('This item is already a variant of this product');
    sku = rows[0].sku;
    moved = { id: input.item_id, product_id: rows[0].product_id };
  } else {
    sku = (input as VariantInput).sku;
  }
  const problems = variantProblems(p.options, [...p.variants.map((v) => ({ sku: v.sku, option_values: v.option_values })), { sku, option_values: values }]);
  if (problems.length) throw invalid(problems);
  if (moved) {
    await tx.query(
      `update items set product_id = $3, option_values = $4, price_minor = coalesce($5, price_minor), version = version + 1, updated_at = now()
                    where tenant_id = $1 and id = $2`,
      [scope.tenantId, moved.id, productId, JSON.stringify(values), input.price_minor ?? null],
    );
    await dropIfEmpty(tx, scope.tenantId, moved.product_id);
    await productFactsChanged(tx, scope.tenantId, [moved.id]);
  } else {
    await refuseTakenSkus(tx, scope, [input as VariantInput], () => 'sku');
    await insertVariants(tx, scope, productId, p.title, p.options, [input as VariantInput]);
  }
  await tx.query(`update products set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, productId]);
  await audit(tx, scope, 'product.variant_added', { type: 'product', id: productId }, { sku, item_id: moved?.id ?? null, option_values: values });
  return getProduct(tx, scope, productId);
}

/** Deletes a product nothing is left of (no variants, images or overrides): an item's own product once the item moved. */
async function dropIfEmpty(tx: Tx, tenantId: string, productId: string | null): Promise<void> {
  if (!productId) return;
  await tx.query(
    `delete from products p where p.tenant_id = $1 and p.id = $2
       and not exists (select 1 from items i where i.tenant_id = p.tenant_id and i.product_id = p.id)
       and not exists (select 1 from product_images m where m.tenant_id = p.tenant_id and m.product_id = p.id)
       and not exists (select 1 from product_overrides o where o.tenant_id = p.tenant_id and o.product_id = p.id)`,
    [tenantId, productId],
  );
}

/** Sets (replaces) what the product looks like on one channel; image ids must be the product's. */
export async function setOverride(tx: Tx, scope: Scope, productId: string, channelId: string, input: OverrideInput): Promise<ProductDetail> {
  const p = await lockProduct(tx, scope, productId);
  const { rowCount } = await tx.query(`select 1 from channels where tenant_id = $1 and id = $2`, [scope.tenantId, channelId]);
  if (!rowCount) throw notFound('Channel');
  const known = new Set(p.images.map((i) => i.id));
  const unknown = (input.image_ids ?? []).filter((i) => !known.has(i));
  if (unknown.length) throw invalid(unknown.map((i) => ({ path: 'image_ids', message: `${i} is not an image of this product` })));
  await tx.query(
    `insert into product_overrides (tenant_id, product_id, channel_id, title, description, price, image_ids, category_id, attributes)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
     on conflict (tenant_id, product_id, channel_id) do update set title = excluded.title, description = excluded.description,
       price = excluded.price, image_ids = excluded.image_ids, category_id = excluded.category_id, attributes = excluded.attributes,
       version = product_overrides.version + 1, updated_at = now()`,
    [
      scope.tenantId,
      productId,
      channelId,
      input.title ?? null,
      input.description ?? null,
      input.price ? JSON.stringify(input.price) : null,
      input.image_ids ?? null,
      input.category_id ?? null,
      JSON.stringify(input.attributes ?? {}),
    ],
  );
  await audit(tx, scope, 'product.override_set', { type: 'product', id: productId }, { channel_id: channelId, ...input });
  return getProduct(tx, scope, productId);
}

export async function deleteOverride(tx: Tx, scope: Scope, productId: string, channelId: string): Promise<void> {
  const { rowCount } = await tx.query(`delete from product_overrides where tenant_id = $1 and product_id = $2 and channel_id = $3`, [
    scope.tenantId,
    productId,
    channelId,
  ]);
  if (!rowCount) throw notFound('Override');
  await audit(tx, scope, 'product.override_deleted', { type: 'product', id: productId }, { channel_id: channelId });
}

/** Records an image whose bytes the store already holds, last in the product's order. */
export async function addImage(
  tx: Tx,
  scope: Scope,
  productId: string,
  img: { storageKey: string; contentType: string; bytes: number; sha256: string; alt: string | null },
): Promise<{ id: string; position: number }> {
  await lockProduct(tx, scope, productId);
  const id = newId('img');
  const { rows } = await tx.query<{ position: number }>(
    `insert into product_images (tenant_id, id, product_id, position, storage_key, content_type, bytes, sha256, alt)
     select $1, $2, $3, coalesce(max(position) + 1, 0), $4, $5, $6, $7, $8 from product_images where tenant_id = $1 and product_id = $3
     returning position`,
    [scope.tenantId, id, productId, img.storageKey, img.contentType, img.bytes, img.sha256, img.alt],
  );
  await tx.query(`update products set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, productId]);
  await audit(tx, scope, 'product.image_added', { type: 'product', id: productId }, { image_id: id, bytes: img.bytes });
  return { id, position: rows[0]!.position };
}

/** Removes an image (and from every override naming it); answers its storage key, for the caller to delete after commit. */
export async function removeImage(tx: Tx, scope: Scope, productId: string, imageId: string): Promise<string> {
  await lockProduct(tx, scope, productId);
  const { rows } = await tx.query<{ storage_key: string }>(
    `delete from product_images where tenant_id = $1 and product_id = $2 and id = $3 returning storage_key`,
    [scope.tenantId, productId, imageId],
  );
  if (!rows[0]) throw notFound('Image');
  await tx.query(`update product_overrides set image_ids = array_remove(image_ids, $3) where tenant_id = $1 and product_id = $2 and $3 = any(image_ids)`, [
    scope.tenantId,
    productId,
    imageId,
  ]);
  await tx.query(`update products set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, productId]);
  await audit(tx, scope, 'product.image_removed', { type: 'product', id: productId }, { image_id: imageId });
  return rows[0].storage_key;
}

/** The content type of a stored image by its key (the public /media route serves nothing else). */
export async function imageByKey(q: Q, key: string): Promise<{ content_type: string } | null> {
  const { rows } = await q.query<{ content_type: string }>(`select content_type from product_images where storage_key = $1`, [key]);
  return rows[0] ?? null;
}

export interface VariantPatch {
  name?: string;
  option_values?: Record<string, string>;
  price_minor?: number | null;
  barcode?: string | null;
}

/** Changes one variant's name, option values, price or barcode; its SKU and stock stay (they are the item's identity). */
export async function updateVariant(tx: Tx, scope: Scope, productId: string, itemId: string, patch: VariantPatch, guard?: Guard): Promise<ProductDetail> {
  const p = await lockProduct(tx, scope, productId, guard);
  const v = p.variants.find((x) => x.item_id === itemId);
  if (!v) throw notFound('Variant');
  if (patch.option_values) {
    const problems = variantProblems(
      p.options,
      p.variants.map((x) => ({ sku: x.sku, option_values: x.item_id === itemId ? patch.option_values! : x.option_values })),
    );
    if (problems.length) throw invalid(problems);
  }
  await tx.query(
    `update items set name = coalesce($3, name), option_values = coalesce($4::jsonb, option_values),
       price_minor = case when $5::boolean then $6::bigint else price_minor end,
       barcode = case when $7::boolean then $8 else barcode end, version = version + 1, updated_at = now()
     where tenant_id = $1 and id = $2`,
    [
      scope.tenantId,
      itemId,
      patch.name ?? null,
      patch.option_values ? JSON.stringify(patch.option_values) : null,
      patch.price_minor !== undefined,
      patch.price_minor ?? null,
      patch.barcode !== undefined,
      patch.barcode ?? null,
    ],
  );
  await tx.query(`update products set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, productId]);
  await audit(tx, scope, 'product.variant_updated', { type: 'product', id: productId }, { item_id: itemId, sku: v.sku, ...patch });
  return getProduct(tx, scope, productId);
}

/**
 * Takes a variant out of the product. Its item is not deleted (the ledger is append-only and its
 * stock stays): it becomes a single-variant product of its own again, as an item made elsewhere
 * is. A product keeps at least one variant: archive the product instead.
 */
export async function removeVariant(tx: Tx, scope: Scope, productId: string, itemId: string, guard?: Guard): Promise<ProductDetail> {
  const p = await lockProduct(tx, scope, productId, guard);
  const v = p.variants.find((x) => x.item_id === itemId);
  if (!v) throw notFound('Variant');
  if (p.variants.length === 1) throw new AppError(409, 'last_variant', 'A product keeps at least one variant: archive the product instead');
  // The id the items_own_product trigger (migration 0027) gives an item's own product.
  const own = `prd_${itemId.slice(itemId.indexOf('_') + 1)}`;
  await tx.query(`insert into products (tenant_id, id, title) values ($1, $2, $3) on conflict do nothing`, [scope.tenantId, own, v.name]);
  await tx.query(`update items set product_id = $3, option_values = '{}', version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [
    scope.tenantId,
    itemId,
    own,
  ]);
  await productFactsChanged(tx, scope.tenantId, [itemId]);
  await tx.query(`update products set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, productId]);
  await audit(tx, scope, 'product.variant_removed', { type: 'product', id: productId }, { item_id: itemId, sku: v.sku, now_product: own });
  return getProduct(tx, scope, productId);
}

/** Puts the product's images in the order given (every image, each once): the first is the main one. */
export async function reorderImages(tx: Tx, scope: Scope, productId: string, imageIds: string[], guard?: Guard): Promise<ProductDetail> {
  const p = await lockProduct(tx, scope, productId, guard);
  const have = new Set(p.images.map((i) => i.id));
  const problems: Array<{ path: string; message: string }> = [];
  imageIds.forEach((id, i) => {
    if (!have.has(id)) problems.push({ path: `image_ids.${i}`, message: `${id} is not an image of this product` });
    else if (imageIds.indexOf(id) !== i) problems.push({ path: `image_ids.${i}`, message: `${id} is listed twice` });
  });
  const missing = [...have].filter((id) => !imageIds.includes(id));
  if (missing.length) problems.push({ path: 'image_ids', message: `every image must be listed; missing ${missing.join(', ')}` });
  if (problems.length) throw invalid(problems);
  await tx.query(
    `update product_images m set position = x.pos - 1 from unnest($3::text[]) with ordinality as x(id, pos)
     where m.tenant_id = $1 and m.product_id = $2 and m.id = x.id`,
    [scope.tenantId, productId, imageIds],
  );
  await tx.query(`update products set version = version + 1, updated_at = now() where tenant_id = $1 and id = $2`, [scope.tenantId, productId]);
  await audit(tx, scope, 'product.images_reordered', { type: 'product', id: productId }, { image_ids: imageIds });
  return getProduct(tx, scope, productId);
}
