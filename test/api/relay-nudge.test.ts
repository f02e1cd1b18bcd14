// An API write nudges this process's outbox relay only when it wrote jobs: a take-out that signals
// nothing (no channel lists the item, nobody subscribes, far from the alert line) costs the relay
// no run, and one that signals anything (a webhook subscriber's delivery, an alert check) still
// has its jobs moved at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, type Call } from './support.ts';

let h: Harness;
let call: Call;
let locationId: string;
let itemId: string;
let nudges = 0;

beforeAll(async () => {
  // No relay of its own: the counting one below is the only one nudged.
  h = await startHarness({ worker: false, relay: false });
  h.sc.ctx.jobs.addRelay({ nudge: () => nudges++ });
  const tenant = await registerTenant(h.url, 'Quiet Co');
  call = client(h.url, tenant.token);
  locationId = tenant.locationId;
  itemId = (await call('POST', '/items', { sku: 'QUIET-1', name: 'Quiet', low_stock_threshold: 5 })).body.id;
});

afterAll(async () => {
  await h?.stop();
});

const outbox = async () => (await h.testDb.db.query<{ n: number }>(`select count(*)::int as n from job_outbox`)).rows[0]!.n;
const adjust = (qty: number) => call('POST', '/adjustments', { item_id: itemId, location_id: locationId, qty_delta: qty, reason: 'adjustment' });

describe('relay nudges', () => {
  it('a write that signalled jobs nudges; a take-out far above the alert line with nobody to tell does not', async () => {
    // From 0 to 100 crosses the alert line (5): the alert check is signalled.
    // (Registering wrote jobs of its own, a welcome mail: counted from here.)
    const start = await outbox();
    let before = nudges;
    expect((await adjust(100)).status).toBe(201);
    expect(await outbox()).toBe(start + 1);
    expect(nudges).toBe(before + 1);

    before = nudges;
    for (let i = 0; i < 5; i++) expect((await adjust(-1)).status).toBe(201);
    expect(nudges).toBe(before);
    expect(await outbox()).toBe(start + 1); // nothing more was written

    // A subscriber to stock changes: every take-out now writes its delivery job, and nudges.
    expect((await call('POST', '/webhook-endpoints', { url: 'https://hooks.example.com/stock', event_types: ['stock.changed'] })).status).toBe(201);
    before = nudges;
    expect((await adjust(-1)).status).toBe(201);
    expect(await outbox()).toBe(start + 2);
    expect(nudges).toBe(before + 1);
  });

  it('a refused take-out writes nothing and nudges nothing', async () => {
    const before = nudges;
    const jobs = await outbox();
    expect((await adjust(-1000)).status).toBe(409);
    expect(nudges).toBe(before);
    expect(await outbox()).toBe(jobs);
  });
});
