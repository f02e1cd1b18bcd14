// The catalog's REST resource (issue 13): products with their variants, images and per-channel
// overrides. The same conventions as every resource: cursor pages, ETag / If-Match on the product,
// idempotent POSTs, structured errors. Images are uploaded as the raw bytes of one image
// (Content-Type image/jpeg, png, webp or gif; what they are is read from the bytes) and served
// publicly at /media/<key>, because marketplaces fetch them by URL.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { AppContext } from '../../engine/context.ts';
import * as products from '../../services/products.ts';
import { IMAGE_TYPES, imageKey, MAX_IMAGE_BYTES, sniffImage } from '../../storage/images.ts';
import { ApiError, parse } from '../errors.ts';
import { doc, ErrorBody, named, pageOf } from '../openapi.ts';
import { decodeCursor, pageQuery } from '../paging.ts';
import { checkIfMatch, versionTag } from '../plugins/etag.ts';
import { timestamp } from '../schemas.ts';
import { scopeOf } from '../scope.ts';
import { write } from '../tx.ts';
import { idRef, pathId, text } from './common.ts';

const TAG = 'products';
const minor = z.number().int().min(0).max(100_000_000);
const dim = z.number().int().min(0).max(1_000_000).nullable();
const Option = z.strictObject({ name: text(1, 50), values: z.array(text(1, 100)).min(1).max(100) });
const strMap = z.record(text(1, 100), text(0, 1000)).refine((m) => Object.keys(m).length <= 100, 'at most 100 entries');
const Fields = {
  title: text(1, 300),
  description: text(0, 20_000).optional(),
  brand: text(0, 200).nullable().optional(),
  category: text(0, 300).nullable().optional(),
  price_minor: minor.nullable().optional().meta({ description: 'Base price in minor units (pence)' }),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as GBP')
    .optional(),
  weight_g: dim.optional(),
  length_mm: dim.optional(),
  width_mm: dim.optional(),
  height_mm: dim.optional(),
  attributes: strMap.optional(),
  options: z.array(Option).max(3).optional().meta({ description: 'What variants differ by, e.g. Size and Colour (at most 3)' }),
  tags: z.array(text(1, 50)).max(30).optional(),
  status: z.enum(['active', 'archived']).optional(),
};
const Variant = z.strictObject({
  sku: text(1, 100),
  name: text(1, 300).optional(),
  option_values: z.record(text(1, 50), text(1, 100)).optional(),
  price_minor: minor.nullable().optional(),
  barcode: text(0, 100).nullable().optional(),
});
const Create = z.strictObject({ ...Fields, variants: z.array(Variant).min(1).max(250) });
const Patch = z.strictObject({ ...Fields, title: Fields.title.optional() }).refine((b) => Object.keys(b).length > 0, 'Send at least one field');
const AddVariant = z.union([
  Variant,
  z.strictObject({ item_id: idRef('item'), option_values: z.record(text(1, 50), text(1, 100)).optional(), price_minor: minor.nullable().optional() }),
]);
const VariantPatch = z
  .strictObject({
    name: text(1, 300).optional(),
    option_values: z.record(text(1, 50), text(1, 100)).optional(),
    price_minor: minor.nullable().optional().meta({ description: "null: the product's base price" }),
    barcode: text(0, 100).nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'Send at least one field');
const ImageOrder = z.strictObject({
  image_ids: z.array(idRef('img')).min(1).max(100).meta({ description: 'Every image of the product, once each, first = main' }),
});
const VariantParams = z.object({ id: idRef('prd'), item_id: idRef('item') });
const PriceRule = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('absolute'), minor }),
  z.strictObject({ type: z.literal('percent'), percent: z.number().min(-90).max(1000) }),
]);
const Override = z.strictObject({
  title: text(1, 300).nullable().optional(),
  description: text(0, 20_000).nullable().optional(),
  price: PriceRule.nullable().optional().meta({ description: 'absolute: this price; percent: the base price moved by it (+15 = 15% more)' }),
  image_ids: z.array(idRef('img')).max(24).nullable().optional(),
  category_id: text(1, 100).nullable().optional().meta({ description: "The channel's own category id" }),
  attributes: strMap.optional(),
});
const ListQuery = z.strictObject({
  ...pageQuery,
  q: text(0, 100).optional().meta({ description: 'Search the title or a variant SKU' }),
  status: z.enum(['active', 'archived']).optional(),
});
const Params = z.object({ id: idRef('prd') });
/** Path ids that cannot name anything answer 404, like every resource (common.ts pathId). */
const pathIds = <T extends z.ZodObject>(schema: T, params: unknown, what: string): z.infer<T> => {
  const r = schema.safeParse(params);
  if (!r.success) throw new ApiError(404, 'not_found', `${what} not found`);
  return r.data;
};
const OverrideParams = z.object({ id: idRef('prd'), channel_id: idRef('ch') });
const ImageParams = z.object({ id: idRef('prd'), image_id: idRef('img') });
const ImageQuery = z.strictObject({ alt: text(0, 300).optional() });

const Image = z.strictObject({
  id: z.string(),
  url: z.string(),
  position: z.number().int(),
  alt: z.string().nullable(),
  content_type: z.string(),
  bytes: z.number().int(),
});
const Product = named(
  z.strictObject({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    brand: z.string().nullable(),
    category: z.string().nullable(),
    price_minor: z.number().nullable(),
    currency: z.string(),
    weight_g: z.number().int().nullable(),
    length_mm: z.number().int().nullable(),
    width_mm: z.number().int().nullable(),
    height_mm: z.number().int().nullable(),
    attributes: z.record(z.string(), z.string()),
    options: z.array(z.strictObject({ name: z.string(), values: z.array(z.string()) })),
    tags: z.array(z.string()),
    status: z.string(),
    version: z.number().int(),
    created_at: timestamp,
    updated_at: timestamp,
    variants: z.array(
      z.strictObject({
        item_id: z.string(),
        sku: z.string(),
        name: z.string(),
        option_values: z.record(z.string(), z.string()),
        price_minor: z.number().nullable(),
        barcode: z.string().nullable(),
        on_hand: z.number().int(),
      }),
    ),
    images: z.array(Image),
  }),
  'Product',
);
const ProductDetail = named(
  z.strictObject({
    ...Product.shape,
    overrides: z.array(
      z.strictObject({
        channel_id: z.string(),
        channel_name: z.string(),
        channel_type: z.string(),
        title: z.string().nullable(),
        description: z.string().nullable(),
        price: z.unknown(),
        image_ids: z.array(z.string()).nullable(),
        category_id: z.string().nullable(),
        attributes: z.record(z.string(), z.string()),
        updated_at: timestamp,
      }),
    ),
  }),
  'ProductDetail',
);

export async function productRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Images arrive as their raw bytes; what they are is decided by sniffing, never by this header.
  app.addContentTypeParser(Object.values(IMAGE_TYPES), { parseAs: 'buffer', bodyLimit: MAX_IMAGE_BYTES }, (_req, body, done) => done(null, body));
  const mediaUrl = (key: string) => `${ctx.site.publicUrl ?? ''}/media/${key}`;
  const withUrls = <T extends { images: Array<{ storage_key: string }> }>(p: T) => ({
    ...p,
    images: p.images.map(({ storage_key, ...i }) => ({ ...i, url: mediaUrl(storage_key) })),
  });

  app.get(
    '/products',
    doc({ summary: 'List products with their variants and images', tag: TAG, query: ListQuery, responses: { 200: pageOf(Product) } }),
    async (req) => {
      const q = parse(ListQuery, req.query);
      const out = await products.listProducts(ctx.db, scopeOf(req), {
        after: decodeCursor<string>(q.cursor, 'string'),
        limit: q.limit,
        search: q.q,
        status: q.status,
      });
      return { ...out, data: out.data.map(withUrls) };
    },
  );

  app.post(
    '/products',
    doc({
      summary: 'Create a product and its variants',
      description: 'Each variant is a new item (SKU unique in the tenant, stock 0 until received); variants name one value of every option.',
      tag: TAG,
      body: Create,
      etag: true,
      responses: { 201: ProductDetail },
    }),
    async (req, reply) => {
      const b = parse(Create, req.body);
      const p = await write(
        ctx,
        req,
        201,
        async (tx, scope) => withUrls(await products.createProduct(tx, scope, b)),
        (out) => ({ etag: versionTag(out.version) }),
      );
      return reply.code(201).header('etag', versionTag(p.version)).send(p);
    },
  );

  app.get(
    '/products/:id',
    doc({ summary: 'Read a product with its variants, images and channel overrides', tag: TAG, params: Params, etag: true, responses: { 200: ProductDetail } }),
    async (req, reply) => {
      const p = await products.getProduct(ctx.db, scopeOf(req), pathId(req.params, 'prd', 'Product'));
      return reply.header('etag', versionTag(p.version)).send(withUrls(p));
    },
  );

  app.patch(
    '/products/:id',
    doc({
      summary: "Change a product's fields or options",
      tag: TAG,
      params: Params,
      body: Patch,
      ifMatch: true,
      etag: true,
      responses: { 200: ProductDetail },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'prd', 'Product');
      const b = parse(Patch, req.body);
      const p = await write(ctx, req, 200, async (tx, scope) => withUrls(await products.updateProduct(tx, scope, id, b, (v) => checkIfMatch(req, v))));
      return reply.header('etag', versionTag(p.version)).send(p);
    },
  );

  app.post(
    '/products/:id/variants',
    doc({
      summary: 'Add a variant: a new SKU, or an existing item moved in',
      tag: TAG,
      params: Params,
      body: AddVariant,
      etag: true,
      responses: { 201: ProductDetail },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'prd', 'Product');
      const b = parse(AddVariant, req.body);
      const p = await write(ctx, req, 201, async (tx, scope) => withUrls(await products.addVariant(tx, scope, id, b)));
      return reply.code(201).header('etag', versionTag(p.version)).send(p);
    },
  );

  app.patch(
    '/products/:id/variants/:item_id',
    doc({
      summary: "Change a variant's name, option values, price or barcode (its SKU and stock stay)",
      tag: TAG,
      params: VariantParams,
      body: VariantPatch,
      ifMatch: true,
      etag: true,
      responses: { 200: ProductDetail },
    }),
    async (req, reply) => {
      const { id, item_id } = pathIds(VariantParams, req.params, 'Variant');
      const b = parse(VariantPatch, req.body);
      const p = await write(ctx, req, 200, async (tx, scope) => withUrls(await products.updateVariant(tx, scope, id, item_id, b, (v) => checkIfMatch(req, v))));
      return reply.header('etag', versionTag(p.version)).send(p);
    },
  );

  app.delete(
    '/products/:id/variants/:item_id',
    doc({
      summary: 'Take a variant out of the product',
      description:
        'The item keeps its SKU, stock and history and becomes a single-variant product of its own. A product keeps at least one variant (409 last_variant).',
      tag: TAG,
      params: VariantParams,
      ifMatch: true,
      etag: true,
      responses: { 200: ProductDetail, 409: ErrorBody },
    }),
    async (req, reply) => {
      const { id, item_id } = pathIds(VariantParams, req.params, 'Variant');
      const p = await write(ctx, req, 200, async (tx, scope) => withUrls(await products.removeVariant(tx, scope, id, item_id, (v) => checkIfMatch(req, v))));
      return reply.header('etag', versionTag(p.version)).send(p);
    },
  );

  app.put(
    '/products/:id/images/order',
    doc({
      summary: "Put the product's images in order (the first is the main image)",
      tag: TAG,
      params: Params,
      body: ImageOrder,
      ifMatch: true,
      etag: true,
      responses: { 200: ProductDetail },
    }),
    async (req, reply) => {
      const id = pathId(req.params, 'prd', 'Product');
      const b = parse(ImageOrder, req.body);
      const p = await write(ctx, req, 200, async (tx, scope) =>
        withUrls(await products.reorderImages(tx, scope, id, b.image_ids, (v) => checkIfMatch(req, v))),
      );
      return reply.header('etag', versionTag(p.version)).send(p);
    },
  );

  app.put(
    '/products/:id/overrides/:channel_id',
    doc({
      summary: 'Set what the product looks like on one channel',
      tag: TAG,
      params: OverrideParams,
      body: Override,
      etag: true,
      responses: { 200: ProductDetail },
    }),
    async (req, reply) => {
      const { id, channel_id } = pathIds(OverrideParams, req.params, 'Override');
      const b = parse(Override, req.body);
      const p = await write(ctx, req, 200, async (tx, scope) => withUrls(await products.setOverride(tx, scope, id, channel_id, b)));
      return reply.header('etag', versionTag(p.version)).send(p);
    },
  );

  app.delete(
    '/products/:id/overrides/:channel_id',
    doc({ summary: "Remove a channel's override (the channel shows the master again)", tag: TAG, params: OverrideParams, responses: { 204: null } }),
    async (req, reply) => {
      const { id, channel_id } = pathIds(OverrideParams, req.params, 'Override');
      await write(ctx, req, 204, (tx, scope) => products.deleteOverride(tx, scope, id, channel_id));
      return reply.code(204).send();
    },
  );

  app.post(
    '/products/:id/images',
    {
      ...doc({
        summary: 'Upload an image (the raw bytes: JPEG, PNG, WebP or GIF, up to 10 MB)',
        tag: TAG,
        params: Params,
        query: ImageQuery,
        responses: { 201: Image, 413: ErrorBody, 415: ErrorBody },
      }),
      bodyLimit: MAX_IMAGE_BYTES,
    },
    async (req, reply) => {
      const id = pathId(req.params, 'prd', 'Product');
      const q = parse(ImageQuery, req.query);
      const data = Buffer.isBuffer(req.body) ? req.body : null;
      const ext = data ? sniffImage(data) : null;
      if (!data || !ext) throw new ApiError(415, 'unsupported_media_type', 'Send the bytes of one JPEG, PNG, WebP or GIF image with its image/* Content-Type');
      const { key, sha256 } = imageKey(data, ext);
      // The bytes first: a row never names an image the store lacks. A failed insert leaves an
      // unreferenced file, which serves nothing (/media answers only for keys a row names).
      await ctx.images.put(key, data);
      const out = await write(ctx, req, 201, (tx, scope) =>
        products.addImage(tx, scope, id, { storageKey: key, contentType: IMAGE_TYPES[ext], bytes: data.length, sha256, alt: q.alt ?? null }),
      );
      return reply
        .code(201)
        .send({ id: out.id, url: mediaUrl(key), position: out.position, alt: q.alt ?? null, content_type: IMAGE_TYPES[ext], bytes: data.length });
    },
  );

  app.delete(
    '/products/:id/images/:image_id',
    doc({ summary: 'Remove an image (also from every channel override)', tag: TAG, params: ImageParams, responses: { 204: null } }),
    async (req, reply) => {
      const { id, image_id } = pathIds(ImageParams, req.params, 'Image');
      const key = await write(ctx, req, 204, (tx, scope) => products.removeImage(tx, scope, id, image_id));
      await ctx.images.delete(key).catch((err) => req.log.warn({ err }, 'could not delete an image file'));
      return reply.code(204).send();
    },
  );
}

/** The public image URLs: bytes for keys a product image names, cached for good (keys are never reused). */
export async function mediaRoute(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/media/*', async (req, reply) => {
    const key = (req.params as { '*': string })['*'];
    const row = await products.imageByKey(ctx.db, key);
    const data = row ? await ctx.images.get(key) : null;
    if (!row || !data) throw new ApiError(404, 'not_found', 'No such image');
    return reply.header('content-type', row.content_type).header('cache-control', 'public, max-age=31536000, immutable').send(data);
  });
}
