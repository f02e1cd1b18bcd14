import { describe, expect, it } from 'vitest';
import { nextPollAt } from './poll-hints.ts';

describe('nextPollAt', () => {
  it('polls at once after a quiet spell, and gapMs after the last one under a stream', () => {
    expect(nextPollAt(0, 10_000, 0, 500)).toBe(10_000);
    expect(nextPollAt(9_800, 10_000, 0, 500)).toBe(10_300);
  });

  it('joins a poll already due later instead of asking for one later still: a flood never runs ahead', () => {
    let last = 0;
    const now = 10_000;
    // A thousand hints within the same millisecond range: the poll stays within gapMs of now.
    for (let i = 0; i < 1000; i++) last = nextPollAt(last, now + (i % 5), 0, 500);
    expect(last).toBeLessThanOrEqual(now + 500);
  });
});
