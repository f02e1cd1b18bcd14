import { describe, expect, it } from 'vitest';
import { channelView, overridePrice, variantProblems } from './catalog.ts';

const OPTIONS = [
  { name: 'Size', values: ['S', 'M', 'L'] },
  { name: 'Colour', values: ['Red', 'Blue'] },
];

describe('variantProblems', () => {
  it('accepts variants that each name one value of every option, all different', () => {
    expect(
      variantProblems(OPTIONS, [
        { sku: 'A', option_values: { Size: 'S', Colour: 'Red' } },
        { sku: 'B', option_values: { Size: 'M', Colour: 'Red' } },
        { sku: 'C', option_values: { Size: 'S', Colour: 'Blue' } },
      ]),
    ).toEqual([]);
  });

  it('names each problem with where it is', () => {
    const p = variantProblems(OPTIONS, [
      { sku: 'A', option_values: { Size: 'S', Colour: 'Red' } },
      { sku: 'B', option_values: { Size: 'S', Colour: 'Red' } },
      { sku: 'C', option_values: { Size: 'XL', Colour: 'Red' } },
      { sku: 'D', option_values: { Size: 'M' } },
      { sku: 'E', option_values: { Size: 'L', Colour: 'Red', Fit: 'Slim' } },
    ]);
    expect(p).toEqual([
      { path: 'variants.1', message: 'variants A and B have the same options' },
      { path: 'variants.2.option_values.Size', message: 'XL is not one of Size: S, M, L' },
      { path: 'variants.3.option_values', message: 'variant D has no Colour' },
      { path: 'variants.4.option_values.Fit', message: 'Fit is not an option of this product' },
    ]);
  });

  it('refuses duplicate option names and values, and several variants without options', () => {
    expect(
      variantProblems(
        [
          { name: 'Size', values: ['S', 'S'] },
          { name: 'size', values: ['M'] },
        ],
        [],
      ).map((x) => x.path),
    ).toEqual(['options.0.values.1', 'options.1.name']);
    expect(variantProblems([], [{ sku: 'A', option_values: {} }])).toEqual([]);
    expect(
      variantProblems(
        [],
        [
          { sku: 'A', option_values: {} },
          { sku: 'B', option_values: {} },
        ],
      ).map((x) => x.path),
    ).toEqual(['variants']);
  });
});

describe('prices and the channel view', () => {
  it('applies absolute and percent overrides, rounding to the minor unit', () => {
    expect(overridePrice(1000, null)).toBe(1000);
    expect(overridePrice(1000, { type: 'absolute', minor: 1299 })).toBe(1299);
    expect(overridePrice(999, { type: 'percent', percent: 15 })).toBe(1149); // 1148.85
    expect(overridePrice(1000, { type: 'percent', percent: -10 })).toBe(900);
    expect(overridePrice(null, { type: 'percent', percent: 15 })).toBeNull();
  });

  const product = {
    title: 'Linen shirt',
    description: 'Soft.',
    price_minor: 3000,
    currency: 'GBP',
    category: 'Clothing > Shirts',
    attributes: { material: 'linen' },
    images: [
      { id: 'img_1', url: '/media/a' },
      { id: 'img_2', url: '/media/b' },
    ],
    variants: [
      { item_id: 'item_1', sku: 'S-RED', option_values: { Size: 'S' }, price_minor: null },
      { item_id: 'item_2', sku: 'L-RED', option_values: { Size: 'L' }, price_minor: 3500 },
    ],
  };

  it('is the master without an override', () => {
    const v = channelView(product, null);
    expect(v).toMatchObject({ title: 'Linen shirt', price_minor: 3000, category: 'Clothing > Shirts' });
    expect(v.variants.map((x) => x.price_minor)).toEqual([3000, 3500]);
  });

  it('takes the override where it says something', () => {
    const v = channelView(product, {
      title: 'Linen Shirt - Free UK delivery',
      description: null,
      price: { type: 'percent', percent: 10 },
      image_ids: ['img_2', 'img_gone'],
      category_id: '57990',
      attributes: { Brand: 'Threads' },
    });
    expect(v.title).toBe('Linen Shirt - Free UK delivery');
    expect(v.description).toBe('Soft.');
    expect(v.variants.map((x) => x.price_minor)).toEqual([3300, 3850]);
    expect(v.images).toEqual([{ id: 'img_2', url: '/media/b' }]);
    expect(v).toMatchObject({ category: '57990', attributes: { material: 'linen', Brand: 'Threads' } });
  });
});
