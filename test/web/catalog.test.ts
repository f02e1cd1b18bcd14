// The catalog pages' pure helpers (web/src/catalog.ts): prices typed and shown as £12.50 but kept
// in pence, combinations, and the API's error paths placed on the editor's fields.
import { describe, expect, it } from 'vitest';
import { combinations, fieldErrors, formatMoney, moneyInput, parseMoney, priceRange, suggestSku } from '../../web/src/catalog.ts';

describe('money', () => {
  it('reads what a merchant types as minor units, exactly', () => {
    expect(parseMoney('12.50', 'GBP')).toBe(1250);
    expect(parseMoney('£12.5', 'GBP')).toBe(1250);
    expect(parseMoney(' 1,250 ', 'GBP')).toBe(125000);
    expect(parseMoney('0.29', 'GBP')).toBe(29);
    expect(parseMoney('12', 'GBP')).toBe(1200);
    expect(parseMoney('', 'GBP')).toBeNull();
    expect(parseMoney('12.505', 'GBP')).toBeUndefined();
    expect(parseMoney('twelve', 'GBP')).toBeUndefined();
    expect(parseMoney('-3', 'GBP')).toBeUndefined();
    expect(parseMoney('1500', 'JPY')).toBe(1500);
    expect(parseMoney('15.5', 'JPY')).toBeUndefined();
  });

  it('shows minor units in the currency, and back in a field', () => {
    expect(formatMoney(1250, 'GBP')).toBe('£12.50');
    expect(formatMoney(null, 'GBP')).toBe('—');
    expect(formatMoney(1500, 'JPY')).toBe('JP¥1,500');
    expect(moneyInput(1250, 'GBP')).toBe('12.50');
    expect(moneyInput(5, 'GBP')).toBe('0.05');
    expect(moneyInput(null, 'GBP')).toBe('');
  });

  it('gives a price range over the variants, the base price where a variant has none', () => {
    expect(priceRange(3000, [{ price_minor: null }, { price_minor: 3500 }], 'GBP')).toBe('£30.00 – £35.00');
    expect(priceRange(3000, [{ price_minor: null }], 'GBP')).toBe('£30.00');
    expect(priceRange(null, [{ price_minor: null }], 'GBP')).toBe('—');
  });
});

describe('variants', () => {
  it('generates every combination, first option slowest, and a SKU for each', () => {
    expect(
      combinations([
        ['S', 'M'],
        ['Red', 'Blue'],
      ]),
    ).toEqual([
      ['S', 'Red'],
      ['S', 'Blue'],
      ['M', 'Red'],
      ['M', 'Blue'],
    ]);
    expect(combinations([])).toEqual([[]]);
    expect(suggestSku('Linen shirt', ['M', 'Sand'])).toBe('LINEN-SHIRT-M-SAND');
    expect(suggestSku('', ['XL'])).toBe('SKU-XL');
  });
});

describe('errors on fields', () => {
  it("places a variant's option by its place, not its name, and a single variant's details at its row", () => {
    const errs = fieldErrors(
      [
        { path: 'variants.1.option_values.Size', message: 'XL is not one of Size: S, M' },
        { path: 'variants.2', message: 'variants A and B have the same options' },
        { path: 'variants.0.option_values.Shape', message: 'Shape is not an option' },
        { path: 'title', message: 'Required' },
        { path: 'title', message: 'Too short' },
      ],
      ['Colour', 'Size'],
    );
    expect(Object.fromEntries(errs)).toEqual({
      'variants.1.option.1': 'XL is not one of Size: S, M',
      'variants.2': 'variants A and B have the same options',
      'variants.0.option_values': 'Shape is not an option',
      title: 'Required; Too short',
    });
    expect(Object.fromEntries(fieldErrors([{ path: 'sku', message: 'Too long' }], [], 'variants.3'))).toEqual({ 'variants.3.sku': 'Too long' });
    expect(fieldErrors(null, []).size).toBe(0);
  });
});
