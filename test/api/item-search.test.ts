// Item search (GET /items?q=, the dashboard grid): a case-blind substring of the SKU, the name or the
// barcode, never of two of them run together; %, _ and \ taken literally; cursor paging over the
// hits; and the statement really is the one the trigram index (0014) was built for, so a pattern a
// few items share is one index lookup, not a walk through every item of the account.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { itemMatches } from '../../src/db/item-search.ts';
import { registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, type Call } from './support.ts';

let h: Harness;
let call: Call;

const skus = async (q: string, extra = '') => {
  const r = await call('GET', `/items?q=${encodeURIComponent(q)}${extra}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body.data as Array<{ sku: string }>).map((i) => i.sku).sort();
};

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const t = await registerTenant(h.url, 'Search Co');
  call = client(h.url, t.token);
  const items = [
    { sku: 'JAM-01', name: 'Strawberry jam', barcode: '5012345678900' },
    { sku: 'JAM-02', name: 'Apricot jam', barcode: '5012345678917' },
    { sku: 'BRD-7', name: 'Sourdough loaf', barcode: null },
    { sku: '100%_RYE', name: 'Rye \\ spelt', barcode: '4000000000001' },
  ];
  for (const it of items) expect((await call('POST', '/items', it)).status).toBe(201);
});

afterAll(async () => {
  await h?.stop();
});

describe('item search', () => {
  it('finds a substring of SKU, name or barcode, in any case', async () => {
    expect(await skus('jam-0')).toEqual(['JAM-01', 'JAM-02']);
    expect(await skus('APRICOT')).toEqual(['JAM-02']);
    expect(await skus('berry J')).toEqual(['JAM-01']);
    expect(await skus('345678917')).toEqual(['JAM-02']);
    expect(await skus('dough')).toEqual(['BRD-7']);
    expect(await skus('nothing like it')).toEqual([]);
  });

  it('never matches across two fields, and takes %, _ and \\ literally', async () => {
    // SKU "BRD-7" then name "Sourdough loaf": "7 Sour" would only match the two run together.
    expect(await skus('7 Sour')).toEqual([]);
    expect(await skus('7Sour')).toEqual([]);
    expect(await skus('%')).toEqual(['100%_RYE']);
    expect(await skus('_')).toEqual(['100%_RYE']);
    expect(await skus('0%_r')).toEqual(['100%_RYE']);
    expect(await skus('ye \\ s')).toEqual(['100%_RYE']);
    expect(await skus('J_M')).toEqual([]);
  });

  it('pages through the hits with the cursor', async () => {
    const first = await call('GET', '/items?q=jam&limit=1');
    expect(first.body.data).toHaveLength(1);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const second = await call('GET', `/items?q=jam&limit=1&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.next_cursor).toBeNull();
    expect([first.body.data[0].sku, second.body.data[0].sku].sort()).toEqual(['JAM-01', 'JAM-02']);
  });

  it('is the statement the trigram index answers (its expression word for word)', async () => {
    const db = h.sc.ctx.db;
    const c = await db.connect();
    try {
      // Without the tenant (whose btree would do on a table this small) and with scans priced out,
      // only the trigram index can answer this WHERE; if its expression drifted, Postgres scans.
      await c.query('begin');
      await c.query('set local enable_seqscan = off');
      const plan = await c.query(`explain (format json) select i.id from items i where ${itemMatches('i', '$1')}`, ['%apricot%']);
      const text = JSON.stringify(plan.rows[0]);
      expect(text).toContain('items_search_trgm_idx');
      await c.query('rollback');
    } finally {
      c.release();
    }
  });
});
