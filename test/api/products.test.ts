// The catalog API (issue 13, point 1): products with options and variants (each an item with its
// SKU), images served by URL, per-channel overrides; existing items as single-variant products.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError } from './support.ts';

let h: Harness;
let call: ReturnType<typeof client>;
let other: ReturnType<typeof client>;
let token: string;

// The smallest valid PNG (1x1, transparent).
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

beforeAll(async () => {
  h = await startHarness();
  token = (await registerTenant(h.url, 'Threads')).token;
  call = client(h.url, token);
  other = client(h.url, (await registerTenant(h.url, 'Elsewhere')).token);
});
afterAll(async () => h?.stop());

const SHIRT = {
  title: 'Linen shirt',
  description: 'Soft, breathable linen.',
  brand: 'Threads',
  category: 'Clothing > Shirts',
  price_minor: 3000,
  options: [
    { name: 'Size', values: ['S', 'M', 'L'] },
    { name: 'Colour', values: ['Sand', 'Navy'] },
  ],
  variants: [
    { sku: 'LIN-S-SAND', option_values: { Size: 'S', Colour: 'Sand' } },
    { sku: 'LIN-M-SAND', option_values: { Size: 'M', Colour: 'Sand' } },
    { sku: 'LIN-L-NAVY', option_values: { Size: 'L', Colour: 'Navy' }, price_minor: 3500 },
  ],
};

/** Images go up as their raw bytes (the JSON client cannot send them). */
const upload = (productId: string, body: Buffer, type: string) =>
  fetch(`${h.url}/api/v1/products/${productId}/images?alt=front`, {
    method: 'POST',
    headers: { 'content-type': type, authorization: `Bearer ${token}` },
    body,
  });

describe('products', () => {
  it('creates a product whose variants are items with their SKUs', async () => {
    const res = await call('POST', '/products', SHIRT);
    expect(res.status).toBe(201);
    expect(res.headers.get('etag')).toBe('"v1"');
    expect(res.body).toMatchObject({ title: 'Linen shirt', price_minor: 3000, currency: 'GBP', options: SHIRT.options, overrides: [] });
    expect(res.body.variants.map((v: { sku: string; name: string }) => [v.sku, v.name])).toEqual([
      ['LIN-S-SAND', 'Linen shirt - S / Sand'],
      ['LIN-M-SAND', 'Linen shirt - M / Sand'],
      ['LIN-L-NAVY', 'Linen shirt - L / Navy'],
    ]);
    expect(res.body.variants[2].price_minor).toBe(3500);
    // Each variant is an item like any other: the items API, the ledger and the channels know it.
    const items = (await call('GET', '/items?q=LIN-')).body.data.map((i: { sku: string }) => i.sku).sort();
    expect(items).toEqual(['LIN-L-NAVY', 'LIN-M-SAND', 'LIN-S-SAND']);
    const listed = (await call('GET', '/products?q=LIN-M')).body.data;
    expect(listed.map((p: { id: string }) => p.id)).toEqual([res.body.id]);
  });

  it('refuses variants that do not fit the options, and a SKU already used, changing nothing', async () => {
    const bad = await call('POST', '/products', {
      ...SHIRT,
      title: 'Broken',
      variants: [
        { sku: 'B-1', option_values: { Size: 'XL', Colour: 'Sand' } },
        { sku: 'B-2', option_values: { Size: 'S' } },
      ],
    });
    expectError(bad, 400, 'validation_failed');
    expect(bad.body.error.details.map((d: { path: string }) => d.path)).toEqual(['variants.0.option_values.Size', 'variants.1.option_values']);
    // A SKU another item has is named at its place, so a form can show it on that field.
    const twin = await call('POST', '/products', {
      ...SHIRT,
      title: 'Twin',
      variants: [
        { sku: 'TWIN-NEW', option_values: { Size: 'M', Colour: 'Sand' } },
        { sku: 'LIN-S-SAND', option_values: { Size: 'S', Colour: 'Sand' } },
      ],
    });
    expectError(twin, 409, 'conflict');
    expect(twin.body.error.details).toEqual([{ path: 'variants.1.sku', message: 'LIN-S-SAND is already used by another item' }]);
    const shirtId = (await call('GET', '/products?q=LIN-S-SAND')).body.data[0].id;
    const taken = await call('POST', `/products/${shirtId}/variants`, { sku: 'LIN-M-SAND', option_values: { Size: 'L', Colour: 'Sand' } });
    expectError(taken, 409, 'conflict');
    expect(taken.body.error.details).toEqual([{ path: 'sku', message: 'LIN-M-SAND is already used by another item' }]);
    expect((await call('GET', '/items?q=TWIN-NEW')).body.data).toEqual([]);
    expect((await call('GET', '/products?q=Broken')).body.data).toEqual([]);
    expect((await call('GET', '/items?q=B-1')).body.data).toEqual([]);
  });

  it('shows an existing item as a single-variant product, and moves it into a product as a variant', async () => {
    const item = (await call('POST', '/items', { sku: 'LIN-M-NAVY', name: 'Old navy shirt M' })).body;
    const own = (await call('GET', '/products?q=LIN-M-NAVY')).body.data;
    expect(own).toHaveLength(1);
    expect(own[0]).toMatchObject({ title: 'Old navy shirt M', options: [], variants: [{ item_id: item.id, sku: 'LIN-M-NAVY' }] });
    const shirt = (await call('GET', '/products?q=Linen')).body.data[0];
    const moved = await call('POST', `/products/${shirt.id}/variants`, { item_id: item.id, option_values: { Size: 'M', Colour: 'Navy' } });
    expect(moved.status).toBe(201);
    expect(moved.body.variants.map((v: { sku: string }) => v.sku)).toContain('LIN-M-NAVY');
    expectError(await call('GET', `/products/${own[0].id}`), 404, 'not_found'); // its own product is gone
    // The same combination twice is refused.
    expectError(
      await call('POST', `/products/${shirt.id}/variants`, { sku: 'LIN-M-NAVY-2', option_values: { Size: 'M', Colour: 'Navy' } }),
      400,
      'validation_failed',
    );
  });

  it('patches with If-Match; options must still fit every variant', async () => {
    const shirt = (await call('GET', '/products?q=Linen')).body.data[0];
    const read = await call('GET', `/products/${shirt.id}`);
    const etag = read.headers.get('etag')!;
    expectError(await call('PATCH', `/products/${shirt.id}`, { title: 'x' }), 428, 'precondition_required');
    const narrowed = await call('PATCH', `/products/${shirt.id}`, { options: [{ name: 'Size', values: ['S', 'M'] }, SHIRT.options[1]] }, { 'if-match': etag });
    expectError(narrowed, 400, 'validation_failed');
    const ok = await call('PATCH', `/products/${shirt.id}`, { title: 'Linen shirt (relaxed)', price_minor: 3200 }, { 'if-match': etag });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ title: 'Linen shirt (relaxed)', price_minor: 3200 });
    expectError(await call('PATCH', `/products/${shirt.id}`, { title: 'stale' }, { 'if-match': etag }), 412, 'precondition_failed');
  });

  it('stores images served publicly by URL, and refuses what is not an image', async () => {
    const shirt = (await call('GET', '/products?q=Linen')).body.data[0];
    const up = await upload(shirt.id, PNG, 'image/png');
    expect(up.status).toBe(201);
    const img = (await up.json()) as { id: string; url: string; content_type: string; bytes: number; alt: string };
    expect(img).toMatchObject({ content_type: 'image/png', bytes: PNG.length, alt: 'front', position: 0 });
    const served = await fetch(img.url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer()).equals(PNG)).toBe(true);
    // Bytes that are not an image, whatever the header says.
    expect((await upload(shirt.id, Buffer.from('<svg onload=alert(1)>'), 'image/png')).status).toBe(415);
    expect((await fetch(`${h.url}/media/zz/${'0'.repeat(46)}.png`)).status).toBe(404);
    const detail = (await call('GET', `/products/${shirt.id}`)).body;
    expect(detail.images).toEqual([expect.objectContaining({ id: img.id, url: img.url })]);
  });

  it('keeps per-channel overrides: title, price rule, images', async () => {
    const ch = await call('POST', '/channels', {
      type: 'eposnow',
      name: 'Till',
      base_url: 'http://127.0.0.1:9',
      credentials: { api_key: 'k', api_secret: 's' },
    });
    expect(ch.status).toBe(201);
    const shirt = (await call('GET', '/products?q=Linen')).body.data[0];
    const imgId = shirt.images[0].id;
    const set = await call('PUT', `/products/${shirt.id}/overrides/${ch.body.id}`, {
      title: 'Linen Shirt - Free UK Delivery',
      price: { type: 'percent', percent: 15 },
      image_ids: [imgId],
      category_id: '57990',
    });
    expect(set.status).toBe(200);
    expect(set.body.overrides).toEqual([
      expect.objectContaining({ channel_id: ch.body.id, title: 'Linen Shirt - Free UK Delivery', price: { type: 'percent', percent: 15 }, image_ids: [imgId] }),
    ]);
    expectError(
      await call('PUT', `/products/${shirt.id}/overrides/${ch.body.id}`, { image_ids: ['img_00000000000000000000000000000000'] }),
      400,
      'validation_failed',
    );
    expectError(await call('PUT', `/products/${shirt.id}/overrides/${ch.body.id}`, { price: { type: 'percent', percent: 5000 } }), 400, 'validation_failed');
    // Removing the image takes it out of the override too.
    expect((await call('DELETE', `/products/${shirt.id}/images/${imgId}`)).status).toBe(204);
    expect((await call('GET', `/products/${shirt.id}`)).body.overrides[0].image_ids).toEqual([]);
    expect((await call('DELETE', `/products/${shirt.id}/overrides/${ch.body.id}`)).status).toBe(204);
    expectError(await call('DELETE', `/products/${shirt.id}/overrides/${ch.body.id}`), 404, 'not_found');
  });

  it('edits and removes a variant (its item, stock and SKU stay), and reorders images', async () => {
    const made = await call('POST', '/products', {
      title: 'Wool scarf',
      price_minor: 2000,
      options: [{ name: 'Colour', values: ['Grey', 'Red', 'Blue'] }],
      variants: [
        { sku: 'SCF-GREY', option_values: { Colour: 'Grey' } },
        { sku: 'SCF-RED', option_values: { Colour: 'Red' } },
      ],
    });
    expect(made.status).toBe(201);
    const id = made.body.id as string;
    const [grey, red] = made.body.variants as Array<{ item_id: string }>;
    let etag = made.headers.get('etag')!;
    const path = `/products/${id}/variants/${red!.item_id}`;

    expectError(await call('PATCH', path, { price_minor: 2200 }), 428, 'precondition_required');
    // Two variants cannot name the same option values; a value outside the option is refused.
    expectError(await call('PATCH', path, { option_values: { Colour: 'Grey' } }, { 'if-match': etag }), 400, 'validation_failed');
    expectError(await call('PATCH', path, { option_values: { Colour: 'Pink' } }, { 'if-match': etag }), 400, 'validation_failed');
    expectError(await call('PATCH', path, {}, { 'if-match': etag }), 400, 'validation_failed');
    const edited = await call('PATCH', path, { option_values: { Colour: 'Blue' }, price_minor: 2200, barcode: '5012345678900' }, { 'if-match': etag });
    expect(edited.status).toBe(200);
    expect(edited.body.variants[1]).toMatchObject({
      item_id: red!.item_id,
      sku: 'SCF-RED',
      option_values: { Colour: 'Blue' },
      price_minor: 2200,
      barcode: '5012345678900',
    });
    expectError(await call('PATCH', path, { price_minor: 1 }, { 'if-match': etag }), 412, 'precondition_failed');
    etag = edited.headers.get('etag')!;
    // Back to the base price.
    const based = await call('PATCH', path, { price_minor: null }, { 'if-match': etag });
    expect(based.body.variants[1].price_minor).toBeNull();

    // Images in the merchant's order; the list must be the product's images, each once.
    const a = (await (await upload(id, PNG, 'image/png')).json()) as { id: string };
    const b = (await (await upload(id, PNG, 'image/png')).json()) as { id: string };
    etag = (await call('GET', `/products/${id}`)).headers.get('etag')!;
    expectError(await call('PUT', `/products/${id}/images/order`, { image_ids: [b.id] }, { 'if-match': etag }), 400, 'validation_failed');
    expectError(await call('PUT', `/products/${id}/images/order`, { image_ids: [b.id, b.id] }, { 'if-match': etag }), 400, 'validation_failed');
    const ordered = await call('PUT', `/products/${id}/images/order`, { image_ids: [b.id, a.id] }, { 'if-match': etag });
    expect(ordered.status).toBe(200);
    expect(ordered.body.images.map((i: { id: string; position: number }) => [i.id, i.position])).toEqual([
      [b.id, 0],
      [a.id, 1],
    ]);
    etag = ordered.headers.get('etag')!;

    // Taking the red one out: it is its own product again, with its SKU and stock.
    const out = await call('DELETE', path, undefined, { 'if-match': etag });
    expect(out.status).toBe(200);
    expect(out.body.variants.map((v: { sku: string }) => v.sku)).toEqual(['SCF-GREY']);
    const alone = (await call('GET', '/products?q=SCF-RED')).body.data as Array<{ id: string; variants: Array<{ item_id: string; option_values: object }> }>;
    expect(alone).toHaveLength(1);
    expect(alone[0]!.id).not.toBe(id);
    expect(alone[0]!.variants).toEqual([expect.objectContaining({ item_id: red!.item_id, option_values: {} })]);
    expect((await call('GET', `/items/${red!.item_id}`)).status).toBe(200);
    // The last variant stays: archive the product instead.
    expectError(await call('DELETE', `/products/${id}/variants/${grey!.item_id}`, undefined, { 'if-match': out.headers.get('etag')! }), 409, 'last_variant');
    expectError(await call('DELETE', `/products/${id}/variants/${red!.item_id}`, undefined, { 'if-match': '*' }), 404, 'not_found');
    // Another tenant can do none of it.
    expectError(await other('PATCH', `/products/${id}/variants/${grey!.item_id}`, { price_minor: 1 }, { 'if-match': '*' }), 404, 'not_found');
    expectError(await other('PUT', `/products/${id}/images/order`, { image_ids: [a.id, b.id] }, { 'if-match': '*' }), 404, 'not_found');
  });

  it("never shows one tenant's products to another", async () => {
    const shirt = (await call('GET', '/products?q=Linen')).body.data[0];
    expectError(await other('GET', `/products/${shirt.id}`), 404, 'not_found');
    expect((await other('GET', '/products')).body.data).toEqual([]);
    expectError(await other('POST', `/products/${shirt.id}/variants`, { sku: 'X-1', option_values: { Size: 'S', Colour: 'Navy' } }), 404, 'not_found');
  });
});
