// Publishing on TikTok Shop's side (202309 paths): image upload (multipart, field `data`, answers
// the uri products refer to), Create Product, Edit Product (the whole product replaced; SKUs keep
// their ids when named by id or seller_sku), Activate / Deactivate Products.
// GUESSes: the required fields checked (title, description, category_id, main_images, skus with
// seller_sku, price.amount and inventory), the error codes, the uri's shape, that Create answers
// the SKUs in the order sent, and that Edit keeps quantities of SKUs it is not sent inventory for.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Emulator } from '../kit/index.ts';
import { digits, now, type Product, type Sku, type TiktokShopAccount } from './shop.ts';

export class CatalogError extends Error {}

interface SkuIn {
  id?: string;
  seller_sku?: string;
  price?: { amount?: string; currency?: string };
  inventory?: Array<{ warehouse_id?: string; quantity?: number }>;
  sales_attributes?: Array<{ name?: string; value_name?: string }>;
}
interface ProductIn {
  title?: string;
  description?: string;
  category_id?: string;
  main_images?: Array<{ uri?: string }>;
  skus?: SkuIn[];
}

export function installCatalog(
  app: FastifyInstance,
  emu: Emulator<TiktokShopAccount>,
  ok: (data: unknown) => unknown,
  fail: (status: number, code: number, msg: string) => Error,
): void {
  const uploaded = new Set<string>();
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/product/202309/images/upload', async (req) => {
    const body = req.body as Buffer | undefined;
    if (!Buffer.isBuffer(body) || !/name="data"/.test(body.subarray(0, 500).toString('latin1'))) throw fail(400, 36009003, 'data (the image file) is required');
    const uri = `tos-maliva-i-${randomBytes(8).toString('hex')}-us`;
    uploaded.add(uri);
    return ok({ uri, url: `https://p16-oec-va.ibyteimg.com/${uri}~tplv-o3syd03w52-origin-jpeg.jpeg`, use_case: 'MAIN_IMAGE' });
  });

  const check = (acc: TiktokShopAccount, b: ProductIn) => {
    if (!b.title || b.title.length > 255) throw fail(400, 12052001, 'title is required (at most 255 characters)');
    if (!b.description) throw fail(400, 12052002, 'description is required');
    if (!b.category_id) throw fail(400, 12052003, 'category_id is required');
    if (!b.main_images?.length || b.main_images.some((i) => !i.uri || !uploaded.has(i.uri))) throw fail(400, 12052004, 'main_images must name uploaded images');
    if (!b.skus?.length) throw fail(400, 12052005, 'skus is required');
    for (const s of b.skus) {
      if (!s.seller_sku) throw fail(400, 12052006, 'seller_sku is required');
      if (!s.price?.amount || !(Number(s.price.amount) > 0)) throw fail(400, 12052007, 'price.amount must be positive');
      for (const i of s.inventory ?? [])
        if (!acc.warehouses.includes(String(i.warehouse_id)) || !Number.isInteger(i.quantity) || i.quantity! < 0)
          throw fail(400, 12019010, 'inventory must name a warehouse of this shop and a quantity >= 0');
    }
  };
  const skusAnswer = (p: Product) => p.skus.map((s) => ({ id: s.id, seller_sku: s.seller_sku }));
  const skuOf = (p: Product, s: SkuIn, old: Sku | undefined): Sku => ({
    id: old?.id ?? digits(`sku:${p.id}:${s.seller_sku}:${randomBytes(4).toString('hex')}`),
    seller_sku: s.seller_sku!,
    price: s.price!.amount!,
    inventory: s.inventory?.length ? Object.fromEntries(s.inventory.map((i) => [String(i.warehouse_id), i.quantity!])) : (old?.inventory ?? {}),
  });

  app.post('/product/202309/products', async (req) => {
    const acc = emu.account(req);
    const b = (req.body ?? {}) as ProductIn;
    check(acc, b);
    if (!b.skus!.every((s) => s.inventory?.length)) throw fail(400, 12052008, 'every SKU needs inventory');
    const t = now();
    const p: Product = {
      id: digits(`product:${acc.id}:${randomBytes(6).toString('hex')}`),
      title: b.title!,
      description: b.description!,
      status: 'ACTIVATE',
      create_time: t,
      update_time: t,
      skus: [],
    };
    p.skus = b.skus!.map((s) => skuOf(p, s, undefined));
    acc.products.push(p);
    for (const s of p.skus)
      emu.recordWrite(
        acc.id,
        `${p.id}:${s.id}`,
        Object.values(s.inventory).reduce((x, y) => x + y, 0),
      );
    return ok({ product_id: p.id, skus: skusAnswer(p) });
  });

  app.put('/product/202309/products/:product_id', async (req) => {
    const acc = emu.account(req);
    const p = acc.products.find((x) => x.id === (req.params as { product_id: string }).product_id);
    if (!p) throw fail(404, 12052048, 'product not found');
    const b = (req.body ?? {}) as ProductIn;
    check(acc, b);
    p.title = b.title!;
    p.description = b.description!;
    p.skus = b.skus!.map((s) =>
      skuOf(
        p,
        s,
        p.skus.find((o) => (s.id ? o.id === s.id : o.seller_sku === s.seller_sku)),
      ),
    );
    p.update_time = now();
    return ok({ product_id: p.id, skus: skusAnswer(p) });
  });

  for (const [path, status] of [
    ['activate', 'ACTIVATE'],
    ['deactivate', 'SELLER_DEACTIVATED'],
  ] as const) {
    app.post(`/product/202309/products/${path}`, async (req) => {
      const acc = emu.account(req);
      const ids = ((req.body ?? {}) as { product_ids?: string[] }).product_ids ?? [];
      if (!ids.length) throw fail(400, 36009003, 'product_ids is required');
      const errors = ids.filter((id) => !acc.products.some((p) => p.id === id)).map((id) => ({ code: 12052048, message: `product ${id} not found` }));
      for (const p of acc.products) {
        if (!ids.includes(p.id)) continue;
        p.status = status;
        p.update_time = now();
      }
      return ok({ errors });
    });
  }
}
