import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kitSellable, needsPush, sellable } from './sellable.ts';

describe('sellable', () => {
  it('subtracts the buffer, applies percent and cap, never negative', () => {
    expect(sellable({ available: 10, buffer: 2 })).toBe(8);
    expect(sellable({ available: 10, buffer: 0, percent: 0.5 })).toBe(5);
    expect(sellable({ available: 11, buffer: 0, percent: 0.5 })).toBe(5);
    expect(sellable({ available: 100, buffer: 0, cap: 20 })).toBe(20);
    expect(sellable({ available: 1, buffer: 3 })).toBe(0);
    expect(sellable({ available: -4, buffer: 0 })).toBe(0);
    // 0.7 * 10 is 6.999... in floating point; the rule means 7
    expect(sellable({ available: 10, buffer: 0, percent: 0.7 })).toBe(7);
  });

  it('is within [0, cap] and monotone in available (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 100 }),
        fc.option(fc.integer({ min: 0, max: 500 })),
        (a, b, p, cap) => {
          const s = sellable({ available: a, buffer: b, percent: p / 100, cap });
          expect(s).toBeGreaterThanOrEqual(0);
          if (cap !== null) expect(s).toBeLessThanOrEqual(cap);
          expect(sellable({ available: a + 1, buffer: b, percent: p / 100, cap })).toBeGreaterThanOrEqual(s);
        },
      ),
    );
  });

  it('kit sellable is the scarcest component', () => {
    expect(
      kitSellable([
        { sellable: 10, qtyPerKit: 2 },
        { sellable: 3, qtyPerKit: 1 },
      ]),
    ).toBe(3);
    expect(kitSellable([{ sellable: 10, qtyPerKit: 4 }])).toBe(2);
    expect(kitSellable([])).toBe(0);
  });

  it('availability channels only need a push when crossing zero', () => {
    expect(needsPush('availability', 5, 3)).toBe(false);
    expect(needsPush('availability', 0, 3)).toBe(true);
    expect(needsPush('absolute', 5, 3)).toBe(true);
    expect(needsPush('delta', 5, 5)).toBe(false);
    expect(needsPush('absolute', 5, null)).toBe(true);
  });
});

describe('kits on a channel', () => {
  it('applies the channel buffer and percent per component, the cap to the kit', async () => {
    const { channelKitSellable, explodeKits } = await import('./sellable.ts');
    // 10 bread (buffer 2 -> 8, /2 = 4 kits), 5 soup (item buffer 0 -> 5, /1 = 5 kits): 4.
    expect(
      channelKitSellable(
        [
          { available: 10, buffer: null, qty: 2 },
          { available: 5, buffer: 0, qty: 1 },
        ],
        { defaultBuffer: 2 },
      ),
    ).toBe(4);
    expect(channelKitSellable([{ available: 10, buffer: 0, qty: 2 }], { defaultBuffer: 0, percent: 0.5 })).toBe(2);
    expect(channelKitSellable([{ available: 100, buffer: 0, qty: 1 }], { defaultBuffer: 0, cap: 7 })).toBe(7);
    expect(channelKitSellable([{ available: -3, buffer: 0, qty: 1 }], { defaultBuffer: 0 })).toBe(0);
    const kits = new Map([
      [
        'kit',
        [
          { itemId: 'bread', qty: 2 },
          { itemId: 'soup', qty: 1 },
        ],
      ],
    ]);
    expect(
      explodeKits(
        [
          { itemId: 'kit', qtyDelta: -3, reason: 'sale' },
          { itemId: 'tea', qtyDelta: -1, reason: 'sale' },
        ],
        kits,
        'qtyDelta',
      ),
    ).toEqual([
      { itemId: 'bread', qtyDelta: -6, reason: 'sale' },
      { itemId: 'soup', qtyDelta: -3, reason: 'sale' },
      { itemId: 'tea', qtyDelta: -1, reason: 'sale' },
    ]);
  });
});
