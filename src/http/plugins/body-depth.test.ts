import { describe, expect, it } from 'vitest';
import { nestedDeeperThan } from './body-depth.ts';

const deep = (n: number): unknown => JSON.parse('{"a":'.repeat(n) + '1' + '}'.repeat(n));

describe('nestedDeeperThan', () => {
  it('counts objects and arrays, not scalars, and stops at the limit', () => {
    expect(nestedDeeperThan(undefined, 0)).toBe(false);
    expect(nestedDeeperThan('text', 0)).toBe(false);
    expect(nestedDeeperThan({}, 0)).toBe(true);
    expect(nestedDeeperThan({}, 1)).toBe(false);
    expect(nestedDeeperThan(deep(64), 64)).toBe(false);
    expect(nestedDeeperThan(deep(65), 64)).toBe(true);
    const wide = { wide: Array.from({ length: 10_000 }, () => ({ a: [1] })) };
    expect(nestedDeeperThan(wide, 4)).toBe(false);
    expect(nestedDeeperThan(wide, 3)).toBe(true);
    expect(nestedDeeperThan([[[[]]]], 3)).toBe(true);
  });

  it('walks a body far deeper than the stack would allow a recursion to', () => {
    expect(nestedDeeperThan(deep(200_000), 64)).toBe(true);
    const arr = JSON.parse('['.repeat(200_000) + ']'.repeat(200_000));
    expect(nestedDeeperThan(arr, 64)).toBe(true);
  });

  it('does not walk into buffers (raw webhook bodies)', () => {
    expect(nestedDeeperThan(Buffer.alloc(1_000_000), 0)).toBe(false);
  });
});
