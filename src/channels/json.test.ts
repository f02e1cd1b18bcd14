import { describe, expect, it } from 'vitest';
import { fillPlaceholders } from './catalog.ts';
import { exactInt, numericId, parsePlatformJson } from './json.ts';

describe('platform JSON', () => {
  it('keeps integers beyond 2^53 exact, as strings, at any depth', () => {
    const text = '{"id":9007199254740993,"line_items":[{"id":866550311766439020,"variant_id":808950810}],"neg":-9007199254740993}';
    // What JSON.parse alone does to them: the id becomes a different number.
    expect(String((JSON.parse(text) as { id: number }).id)).toBe('9007199254740992');
    expect(parsePlatformJson(text)).toEqual({
      id: '9007199254740993',
      line_items: [{ id: '866550311766439020', variant_id: 808950810 }],
      neg: '-9007199254740993',
    });
  });

  it('leaves quantities, prices, safe integers and strings as JSON.parse reads them', () => {
    const text = '{"quantity":3,"available":-2,"price":"199.00","rate":0.06,"max":9007199254740991,"e":1e21,"f":12345678901234567.5,"s":"820982911946154508"}';
    expect(parsePlatformJson(text)).toEqual(JSON.parse(text));
    const v = parsePlatformJson(text) as Record<string, unknown>;
    expect(typeof v.quantity).toBe('number');
    expect(typeof v.max).toBe('number');
  });

  it('throws on malformed JSON like JSON.parse', () => {
    expect(() => parsePlatformJson('{"id": 12345678901234567890')).toThrow(SyntaxError);
  });

  it('numericId takes numbers and digit strings and gives the exact string', () => {
    expect(numericId.parse(808950810)).toBe('808950810');
    expect(numericId.parse('820982911946154508')).toBe('820982911946154508');
    expect(numericId.safeParse('12ab').success).toBe(false);
    expect(numericId.safeParse(1.5).success).toBe(false);
  });

  it('exactInt writes an id back with exactly its digits, through placeholder filling too', () => {
    const body = { item_id: exactInt('820982911946154508'), model_id: exactInt(808950810), name: '{{n}}' };
    expect(JSON.stringify(body)).toBe('{"item_id":820982911946154508,"model_id":808950810,"name":"{{n}}"}');
    expect(JSON.stringify(fillPlaceholders(body, { n: 'Tee' }))).toBe('{"item_id":820982911946154508,"model_id":808950810,"name":"Tee"}');
    // A round trip through the platform's reader gives the same id back.
    expect((parsePlatformJson(JSON.stringify(body)) as { item_id: string }).item_id).toBe('820982911946154508');
    expect(() => exactInt('12a')).toThrow();
  });
});
