import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../db/tenants.ts';
import { createPool, type Db } from '../db/pool.ts';
import { newId } from '../domain/ids.ts';
import { createTestDb, type TestDb } from '../../test/helpers/db.ts';
import { BUDGET_SHARE, channelRateGate } from './rate-gate.ts';

let t: TestDb;
let other: Db;
let tenantId: string;

async function channel(): Promise<string> {
  const id = newId('ch');
  await t.db.query(`insert into channels (tenant_id, id, type, name, base_url, credentials_enc) values ($1, $2, 'wix', 'Wix', 'http://127.0.0.1:9', 'x')`, [
    tenantId,
    id,
  ]);
  return id;
}

beforeAll(async () => {
  t = await createTestDb();
  other = createPool(t.url, 10); // a second worker process's connections
  tenantId = (await createTenant(t.db, { name: 'Rate Co' })).tenantId;
});
afterAll(async () => {
  await other.end();
  await t.drop();
});

describe('channel rate gate (token bucket in Postgres)', () => {
  // Documented limits chosen so that our share of them (BUDGET_SHARE) is 2/s with a burst of 5.
  const limit = { perSecond: 2 / BUDGET_SHARE, burst: 5 / BUDGET_SHARE };

  it('two processes share one budget: concurrent takes never grant more than the burst', async () => {
    const ch = await channel();
    // A slow refill (one token per 5 s), so a loaded machine cannot blur the count.
    const slow = { perSecond: 0.2 / BUDGET_SHARE, burst: 5 / BUDGET_SHARE };
    const a = channelRateGate(t.db, tenantId, ch, slow);
    const b = channelRateGate(other, tenantId, ch, slow);
    const waits = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).take()));
    const granted = waits.filter((w) => w === 0).length;
    expect(granted).toBe(5);
    // The refused ones are told how long until a token is there: up to 5 s at 0.2/s.
    for (const w of waits.filter((w) => w > 0)) expect(w).toBeLessThanOrEqual(5000);
  });

  it('a call costing several tokens takes them all or none', async () => {
    const ch = await channel();
    const a = channelRateGate(t.db, tenantId, ch, limit);
    expect(await a.take(4)).toBe(0);
    const wait = await a.take(4); // ~1 token left: 3 more needed at 2/s
    expect(wait).toBeGreaterThan(1000);
    expect(wait).toBeLessThanOrEqual(1500);
    expect(await a.take(1)).toBe(0); // the refused take spent nothing
  });

  it('drain (the platform answered 429 with Retry-After) holds every process back for that long', async () => {
    const ch = await channel();
    const a = channelRateGate(t.db, tenantId, ch, limit);
    const b = channelRateGate(other, tenantId, ch, limit);
    await a.drain(3000);
    const wait = await b.take();
    expect(wait).toBeGreaterThan(3000);
    expect(wait).toBeLessThanOrEqual(3600);
  });

  it('spends only our share of the documented budget', async () => {
    const g = channelRateGate(t.db, tenantId, await channel(), { perSecond: 0.1, burst: 10 });
    expect(await g.take(Math.floor(10 * BUDGET_SHARE))).toBe(0);
    expect(await g.take(1)).toBeGreaterThan(0);
  });

  it('is per channel: one channel spending its budget leaves another untouched', async () => {
    const [c1, c2] = [await channel(), await channel()];
    const g1 = channelRateGate(t.db, tenantId, c1, limit);
    await g1.take(5);
    expect(await g1.take()).toBeGreaterThan(0);
    expect(await channelRateGate(t.db, tenantId, c2, limit).take(5)).toBe(0);
  });

  it('a take with a reserve leaves that much for higher-priority work, and waits for it', async () => {
    const ch = await channel();
    // One token per 5 s: the refill cannot blur the counts. Our share: burst 5.
    const slow = { perSecond: 0.2 / BUDGET_SHARE, burst: 5 / BUDGET_SHARE };
    const g = channelRateGate(t.db, tenantId, ch, slow);
    expect(await g.take(2, 3)).toBe(0); // 5 held, 3 must stay: taken
    expect(await g.take(1, 3)).toBeGreaterThan(0); // 3 held: a catalog call would dip into the stock pushes' room
    expect(await g.take(3)).toBe(0); // a stock push (no reserve) still gets all three
  });
});
