import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  adjustPrice,
  applyQtyAction,
  applySyncRules,
  categoryMatches,
  channelTarget,
  orderRules,
  type ListingFacts,
  type SyncRule,
  type SyncRuleAction,
  type SyncRuleConditions,
} from './sync-rules.ts';

let n = 0;
const rule = (action: SyncRuleAction, conditions: SyncRuleConditions = {}, over: Partial<SyncRule> = {}): SyncRule => ({
  id: `srl_${String(++n).padStart(4, '0')}`,
  name: `rule ${n}`,
  priority: 100,
  enabled: true,
  conditions,
  action,
  ...over,
});

const facts = (over: Partial<ListingFacts> = {}): ListingFacts => ({
  channel_id: 'ch_a',
  product_id: 'prd_1',
  category: 'Clothing > Shirts',
  tags: ['summer', 'Linen'],
  qty: 20,
  price_minor: 1000,
  ...over,
});

describe('sync rules: matching', () => {
  it('no rules: the master quantity and price pass through', () => {
    expect(applySyncRules([], facts())).toEqual({ master_qty: 20, qty: 20, price_minor: 1000, rules: [], applied: [] });
  });

  it('a rule with no conditions matches every listing', () => {
    const out = applySyncRules([rule({ type: 'cap', value: 5 })], facts());
    expect(out.qty).toBe(5);
    expect(out.rules[0]).toMatchObject({ status: 'applied', qty_before: 20, qty_after: 5 });
    expect(out.rules[0]!.reason).toContain('matches every listing');
    expect(out.rules[0]!.reason).toContain('caps at 5: 20 -> 5');
  });

  it('channel, product, category, tag and stock conditions each must hold', () => {
    const cases: Array<[SyncRuleConditions, boolean, string?]> = [
      [{ channel_ids: ['ch_a', 'ch_b'] }, true],
      [{ channel_ids: ['ch_b'] }, false, 'channel ch_a is not one of ch_b'],
      [{ product_ids: ['prd_1'] }, true],
      [{ product_ids: ['prd_2'] }, false, 'product prd_1 is not one of prd_2'],
      [{ categories: ['clothing'] }, true],
      [{ categories: ['Clothing > Shirts'] }, true],
      [{ categories: ['Cloth'] }, false, 'category "Clothing > Shirts" is not in Cloth'],
      [{ tags: ['LINEN'] }, true],
      [{ tags: ['winter'] }, false, 'include none of winter'],
      [{ stock_below: 21 }, true],
      [{ stock_below: 20 }, false, 'stock 20 is not below 20'],
      [{ stock_at_least: 20 }, true],
      [{ stock_at_least: 21 }, false, 'stock 20 is below 21'],
      [{ channel_ids: ['ch_a'], tags: ['summer'], stock_at_least: 10 }, true],
      [{ channel_ids: ['ch_a'], tags: ['winter'] }, false, 'include none of winter'],
    ];
    for (const [conditions, matches, why] of cases) {
      const out = applySyncRules([rule({ type: 'cap', value: 3 }, conditions)], facts());
      expect(out.rules[0]!.status, JSON.stringify(conditions)).toBe(matches ? 'applied' : 'not_matched');
      expect(out.qty).toBe(matches ? 3 : 20);
      if (why) expect(out.rules[0]!.reason).toContain(why);
    }
  });

  it('categories match whole path segments; a product with none matches no category', () => {
    expect(categoryMatches('Clothing', 'Clothing > Shirts')).toBe(true);
    expect(categoryMatches('clothing >shirts', 'Clothing > Shirts > Linen')).toBe(true);
    expect(categoryMatches('Clothing > Shirts', 'Clothing')).toBe(false);
    expect(categoryMatches('Clothing', null)).toBe(false);
    const out = applySyncRules([rule({ type: 'cap', value: 1 }, { categories: ['Clothing'] })], facts({ category: null }));
    expect(out.rules[0]!.reason).toBe('category (none) is not in Clothing');
  });

  it('a disabled rule never applies, and says so', () => {
    const out = applySyncRules([rule({ type: 'cap', value: 1 }, {}, { enabled: false })], facts());
    expect(out.qty).toBe(20);
    expect(out.rules[0]).toMatchObject({ status: 'disabled', reason: 'the rule is disabled' });
    expect(out.applied).toEqual([]);
  });
});

describe('sync rules: priority and order', () => {
  it('per action type the first matching rule by priority wins; the rest are skipped with the winner named', () => {
    const loose = rule({ type: 'cap', value: 10 }, {}, { priority: 20, name: 'Cap ten' });
    const tight = rule({ type: 'cap', value: 2 }, { channel_ids: ['ch_a'] }, { priority: 10, name: 'Cap two on A' });
    const out = applySyncRules([loose, tight], facts());
    expect(out.qty).toBe(2);
    expect(out.rules.map((r) => [r.name, r.status])).toEqual([
      ['Cap two on A', 'applied'],
      ['Cap ten', 'skipped'],
    ]);
    expect(out.rules[1]!.reason).toContain('"Cap two on A" (priority 10) already sets the cap action');
    // Where the higher-priority rule does not match, the next one of its type applies.
    expect(applySyncRules([loose, tight], facts({ channel_id: 'ch_b' })).qty).toBe(10);
  });

  it('equal priorities go by id (the older rule first)', () => {
    const a = rule({ type: 'cap', value: 4 }, {}, { id: 'srl_a', priority: 5 });
    const b = rule({ type: 'cap', value: 1 }, {}, { id: 'srl_b', priority: 5 });
    expect(applySyncRules([b, a], facts()).qty).toBe(4);
    expect(orderRules([b, a]).map((r) => r.id)).toEqual(['srl_a', 'srl_b']);
  });

  it('quantity actions apply keep_back, percent, hide_below, cap whatever their priorities', () => {
    const rules = [
      rule({ type: 'cap', value: 6 }, {}, { priority: 1 }),
      rule({ type: 'hide_below', value: 3 }, {}, { priority: 2 }),
      rule({ type: 'percent', value: 50 }, {}, { priority: 3 }),
      rule({ type: 'keep_back', value: 5 }, {}, { priority: 4 }),
    ];
    // 20 - 5 = 15; 50% = 7 (floor); 7 >= 3 stays; cap 6.
    const out = applySyncRules(rules, facts());
    expect(out.qty).toBe(6);
    expect(out.applied).toEqual([rules[3]!.id, rules[2]!.id, rules[1]!.id, rules[0]!.id]);
    expect(out.rules.map((r) => [r.action.type, r.qty_before, r.qty_after])).toEqual([
      ['cap', 7, 6],
      ['hide_below', 7, 7],
      ['percent', 15, 7],
      ['keep_back', 20, 15],
    ]);
    // Little stock: 4 - 5 -> 0 ... and with 12: 7 -> 3 -> not hidden; with 10: 5 -> 2 -> hidden.
    expect(applySyncRules(rules, facts({ qty: 4 })).qty).toBe(0);
    expect(applySyncRules(rules, facts({ qty: 11 })).qty).toBe(3);
    const hidden = applySyncRules(rules, facts({ qty: 10 }));
    expect(hidden.qty).toBe(0);
    expect(hidden.rules.find((r) => r.action.type === 'hide_below')!.reason).toContain('hides it: 2 is below 3');
  });

  it('stock conditions look at the master quantity, not one another rule already changed', () => {
    const keep = rule({ type: 'keep_back', value: 15 }, {}, { priority: 1 });
    const capWhenPlenty = rule({ type: 'cap', value: 8 }, { stock_at_least: 20 }, { priority: 2 });
    const out = applySyncRules([keep, capWhenPlenty], facts());
    expect(out.rules[1]!.status).toBe('applied');
    expect(out.qty).toBe(5);
  });
});

describe('sync rules: actions', () => {
  it('each quantity action on its own', () => {
    expect(applyQtyAction('keep_back', 3, 10)).toBe(7);
    expect(applyQtyAction('keep_back', 30, 10)).toBe(0);
    expect(applyQtyAction('percent', 33, 10)).toBe(3);
    expect(applyQtyAction('percent', 10, 30)).toBe(3);
    expect(applyQtyAction('percent', 0, 10)).toBe(0);
    expect(applyQtyAction('hide_below', 5, 4)).toBe(0);
    expect(applyQtyAction('hide_below', 5, 5)).toBe(5);
    expect(applyQtyAction('cap', 5, 4)).toBe(4);
    expect(applyQtyAction('cap', 0, 4)).toBe(0);
  });

  it('price_adjust changes the price only, by percent or a minor-unit delta, never below 0', () => {
    const up = applySyncRules([rule({ type: 'price_adjust', value: 15, unit: 'percent' })], facts());
    expect(up).toMatchObject({ qty: 20, price_minor: 1150 });
    expect(up.rules[0]!.reason).toContain('adjusts the price by 15%: 1000 -> 1150');
    expect(applySyncRules([rule({ type: 'price_adjust', value: -250, unit: 'minor' })], facts()).price_minor).toBe(750);
    expect(adjustPrice(100, { value: -500, unit: 'minor' })).toBe(0);
    expect(adjustPrice(999, { value: 10, unit: 'percent' })).toBe(1099);
    // No price to adjust: it stays null, the rule still says it applied.
    const none = applySyncRules([rule({ type: 'price_adjust', value: 5, unit: 'percent' })], facts({ price_minor: null }));
    expect(none.price_minor).toBeNull();
    expect(none.rules[0]!.status).toBe('applied');
  });

  it('a price rule and a quantity rule both apply (different action types)', () => {
    const out = applySyncRules([rule({ type: 'price_adjust', value: 100, unit: 'minor' }, {}, { priority: 1 }), rule({ type: 'cap', value: 3 })], facts());
    expect(out).toMatchObject({ qty: 3, price_minor: 1100 });
    expect(out.rules.every((r) => r.status === 'applied')).toBe(true);
  });
});

describe('channelTarget', () => {
  it('starts from the channel sellable (buffer, percent, cap) and then applies the rules', () => {
    const policy = { defaultBuffer: 2, percent: 1, cap: null };
    const base = channelTarget(policy, { available: 12, item_buffer: null, components: [] }, [], facts());
    expect(base.qty).toBe(10);
    const capped = channelTarget(policy, { available: 12, item_buffer: 0, components: [] }, [rule({ type: 'cap', value: 4 })], facts());
    expect(capped).toMatchObject({ master_qty: 12, qty: 4 });
  });

  it('kits: the scarcest component, then the rules', () => {
    const stock = {
      available: 0,
      item_buffer: null,
      components: [
        { available: 10, buffer: null, qty: 2 },
        { available: 9, buffer: null, qty: 1 },
      ],
    };
    expect(channelTarget({ defaultBuffer: 0 }, stock, [rule({ type: 'keep_back', value: 1 })], facts()).qty).toBe(4);
  });

  it('never gives a channel more than its master sellable, nor a negative quantity', () => {
    const action = fc.oneof(
      fc.record({ type: fc.constantFrom('cap' as const, 'keep_back' as const, 'hide_below' as const), value: fc.nat(50) }),
      fc.record({ type: fc.constant('percent' as const), value: fc.nat(100) }),
    );
    const arbRule = fc.record({ action, priority: fc.nat(10), enabled: fc.boolean(), below: fc.option(fc.nat(60), { nil: undefined }) });
    fc.assert(
      fc.property(fc.array(arbRule, { maxLength: 6 }), fc.nat(60), (rs, qty) => {
        const rules = rs.map((r, i) =>
          rule(r.action, r.below === undefined ? {} : { stock_below: r.below }, { id: `srl_${i}`, priority: r.priority, enabled: r.enabled }),
        );
        const out = applySyncRules(rules, facts({ qty }));
        expect(out.qty).toBeGreaterThanOrEqual(0);
        expect(out.qty).toBeLessThanOrEqual(qty);
        expect(new Set(out.applied.map((id) => rules.find((r) => r.id === id)!.action.type)).size).toBe(out.applied.length);
      }),
    );
  });
});
