// The staleness bound's arithmetic on fake servers (test/e2e/read-replica.test.ts runs a real standby).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../log.ts';
import type { Db } from './pool.ts';
import { parseLsn, ReplicaReads } from './replica.ts';

/** A "server" answering one row, or failing when the row is an Error. */
function fake(row: () => object | Error): Db {
  return {
    query: async () => {
      const r = row();
      if (r instanceof Error) throw r;
      return { rows: [r] };
    },
  } as unknown as Db;
}

describe('ReplicaReads', () => {
  let primaryLsn = '0/100';
  let standby: object | Error = { standby: true, replayed: '0/100' };
  const make = () =>
    new ReplicaReads(
      fake(() => ({ lsn: primaryLsn })),
      fake(() => standby),
      1000,
      createLogger('silent'),
      { tickMs: 100 },
    );
  afterEach(() => vi.useRealTimers());

  it('reads WAL positions as 64-bit numbers', () => {
    expect(parseLsn('1/0')).toBe(1n << 32n);
    expect(parseLsn('0/3025C48') < parseLsn('0/3025CB0')).toBe(true);
    expect(parseLsn('0/FFFFFFFF') < parseLsn('1/0')).toBe(true);
  });

  it('stays fresh on an idle primary, grows while replay stalls, and recovers when it catches up', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['Date'] });
    primaryLsn = '0/100';
    standby = { standby: true, replayed: '0/100' };
    const r = make();
    expect(r.choose('t')).toEqual({ source: 'primary', reason: 'unmeasured' });
    await r.measure();
    vi.setSystemTime(1_000_000 + 30_000); // idle for 30 s: nothing to replay, still fresh
    await r.measure();
    expect(r.lagMs()).toBe(0);
    expect(r.choose('t')).toEqual({ source: 'replica', stalenessMs: 0 });

    primaryLsn = '0/200'; // a commit the standby does not replay
    await r.measure();
    vi.setSystemTime(1_000_000 + 30_500);
    expect(r.choose('t')).toEqual({ source: 'replica', stalenessMs: 500 });
    vi.setSystemTime(1_000_000 + 31_200); // the bound grows between ticks too
    expect(r.choose('t')).toEqual({ source: 'primary', reason: 'lagging' });

    standby = { standby: true, replayed: '0/200' };
    await r.measure();
    expect(r.choose('t')).toEqual({ source: 'replica', stalenessMs: 0 });
  });

  it("keeps a tenant's reads on the primary until the standby holds its write", async () => {
    vi.useFakeTimers({ now: 2_000_000, toFake: ['Date'] });
    primaryLsn = '0/100';
    standby = { standby: true, replayed: '0/100' };
    const r = make();
    await r.measure();
    vi.setSystemTime(2_000_010);
    r.noteWrite('a');
    primaryLsn = '0/180';
    vi.setSystemTime(2_000_020);
    await r.measure(); // the standby has not replayed the write yet
    expect(r.choose('a')).toEqual({ source: 'primary', reason: 'own_write' });
    expect(r.choose('b').source).toBe('replica');
    standby = { standby: true, replayed: '0/180' };
    await r.measure();
    expect(r.choose('a').source).toBe('replica');
  });

  it('sends reads to the primary when the standby fails, or is not a standby', async () => {
    primaryLsn = '0/100';
    standby = new Error('connect ECONNREFUSED');
    const r = make();
    await r.measure();
    expect(r.choose('t')).toEqual({ source: 'primary', reason: 'unreachable' });
    standby = { standby: false, replayed: null };
    await r.measure();
    expect(r.choose('t')).toEqual({ source: 'primary', reason: 'not_standby' });
    standby = { standby: true, replayed: '0/100' };
    await r.measure();
    expect(r.choose('t').source).toBe('replica');
    r.noteFailure(new Error('terminated'));
    expect(r.choose('t')).toEqual({ source: 'primary', reason: 'unreachable' });
    expect(r.status()).toMatchObject({ state: 'unreachable', serving: 'primary', max_lag_ms: 1000 });
  });

  it('counts a standby that does not answer as unreachable, and sends it no more until that answer comes', async () => {
    let calls = 0;
    let answer: (v: unknown) => void = () => {};
    const hanging = { query: () => (calls++, new Promise((r) => (answer = r))) } as unknown as Db;
    const r = new ReplicaReads(
      fake(() => ({ lsn: '0/100' })),
      hanging,
      1000,
      createLogger('silent'),
      { tickMs: 25 },
    );
    await r.measure(); // times out after 4 ticks
    expect(r.choose('t')).toEqual({ source: 'primary', reason: 'unreachable' });
    await r.measure();
    expect(calls).toBe(1);
    answer({ rows: [{ standby: true, replayed: '0/100' }] });
    await new Promise((res) => setTimeout(res, 0));
    await r.measure();
    expect(calls).toBe(2);
  });
});
