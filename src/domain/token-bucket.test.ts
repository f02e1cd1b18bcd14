import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('token bucket', () => {
  it('allows a burst, then one token per 1/rate seconds', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0)]).toEqual([0, 0, 0]);
    expect(b.take(0)).toBe(500);
    expect(b.take(499)).toBeGreaterThan(0);
    expect(b.take(500)).toBe(0);
  });

  it('never holds more than the burst, and drain empties it', () => {
    const b = new TokenBucket(10, 5, 0);
    expect(b.available(60_000)).toBe(5);
    b.drain(60_000);
    expect(b.available(60_000)).toBe(0);
    expect(b.take(60_000)).toBe(100);
  });
});
