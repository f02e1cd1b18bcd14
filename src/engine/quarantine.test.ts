// What counts as a crash (quarantine material) and what does not: a platform failing, the network
// or the database being away retry and raise their own alerts; our code failing on data does not heal.
import { describe, expect, it } from 'vitest';
import { ChannelError } from '../channels/contract.ts';
import { isCrash } from './quarantine.ts';

describe('isCrash', () => {
  it('a TypeError, bad JSON, a RangeError or a Postgres data exception is a crash', () => {
    expect(isCrash(new TypeError('p.event.lines is not iterable'))).toBe(true);
    expect(
      isCrash(
        (() => {
          try {
            JSON.parse('{');
          } catch (e) {
            return e;
          }
        })(),
      ),
    ).toBe(true);
    expect(isCrash(new RangeError('Invalid array length'))).toBe(true);
    expect(isCrash(Object.assign(new Error('invalid input syntax for type integer'), { code: '22P02' }))).toBe(true);
  });

  it('a platform failure, the network or the database going away, or a plain error is not', () => {
    for (const kind of ['auth', 'rate_limited', 'transient', 'permanent'] as const) expect(isCrash(new ChannelError(kind, 'x'))).toBe(false);
    expect(isCrash(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }))).toBe(false);
    expect(isCrash(new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }))).toBe(false);
    expect(isCrash(new TypeError('fetch failed'))).toBe(false);
    expect(isCrash(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }))).toBe(false);
    expect(isCrash(Object.assign(new Error('duplicate key'), { code: '23505' }))).toBe(false);
    expect(isCrash(new Error('pushes to channel ch_1 keep failing'))).toBe(false);
    expect(isCrash(null)).toBe(false);
  });
});
