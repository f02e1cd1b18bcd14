// Marketplaces end to end (issue 13) over real HTTP: a product with three variants published to
// the eBay and Etsy emulators through the API; the dry run sends nothing and lists what the real
// run then sends; a sale on eBay reaches Etsy; a title edited on Etsy becomes a conflict and each
// strategy resolves it as it says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEmulatedChannel, startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { catalogCheck } from '../../src/engine/conflicts.ts';
import { guardianRun } from '../../src/engine/guardian.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { client } from '../api/support.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let emus: EmulatorSet;
let call: ReturnType<typeof client>;
let tenantId: string;
let token: string;
let productId: string;
const ch: Record<'ebay' | 'etsy', { channelId: string; accountId: string }> = {} as never;

const EBAY_SETTINGS = {
  category_id: '11450',
  merchant_location_key: 'loc-1',
  fulfillment_policy_id: 'ship-1',
  payment_policy_id: 'pay-1',
  return_policy_id: 'ret-1',
};

const state = async (type: 'ebay' | 'etsy') => {
  const r = await fetch(`${emus[type].url}/_control/accounts/${ch[type].accountId}/state`);
  return new Map(((await r.json()) as { items: Array<{ sku: string; qty: number }> }).items.map((i) => [i.sku, i.qty]));
};
const publication = async (channelId: string) => {
  const r = await call('GET', `/publications?product_id=${productId}&channel_id=${channelId}`);
  return r.body.data[0] as { id: string; state: string; external_id: string | null; last_error: string | null };
};
const settled = async (channelId: string, want = 'live') => {
  await eventually(async () => (await publication(channelId))?.state !== 'publishing', 30_000, `publication on ${channelId} to settle`);
  const p = await publication(channelId);
  expect(p.state, p.last_error ?? '').toBe(want);
  return p;
};
const title = async () => (await call('GET', `/products/${productId}`)).body.title as string;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  const t = await registerTenant(h.url, 'Threads E2E');
  tenantId = t.tenantId;
  token = t.token;
  call = client(h.url, token);
  for (const type of ['ebay', 'etsy'] as const) {
    const c = await connectEmulatedChannel(h.sc.ctx, {
      tenantId,
      type,
      emulator: emus[type],
      name: type,
      stockclerkUrl: h.url,
      items: [],
      locationIds: [t.locationId],
      settings: type === 'ebay' ? EBAY_SETTINGS : {},
    });
    ch[type] = { channelId: c.channelId, accountId: c.accountId };
  }
  const made = await call('POST', '/products', {
    title: 'Linen shirt',
    description: 'Washed linen.',
    category: 'Clothing > Shirts',
    price_minor: 2500,
    options: [{ name: 'Size', values: ['S', 'M', 'L'] }],
    variants: ['S', 'M', 'L'].map((s) => ({ sku: `LIN-${s}`, option_values: { Size: s } })),
  });
  expect(made.status).toBe(201);
  productId = made.body.id;
  const img = await fetch(`${h.url}/api/v1/products/${productId}/images`, {
    method: 'POST',
    headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
    body: swatchPng([40, 60, 90], [220, 220, 220]),
  });
  expect(img.status).toBe(201);
  await recordMovements(
    h.sc.ctx.db,
    tenantId,
    (made.body.variants as Array<{ item_id: string }>).map((v) => ({ itemId: v.item_id, locationId: t.locationId, qtyDelta: 6, reason: 'receipt' as const })),
  );
}, 60_000);
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('publishing to eBay and Etsy', () => {
  let planned: Array<{ channel_id: string; method: string; url: string; body: unknown }> = [];

  it('a dry run lists the requests and their cost, and sends nothing', async () => {
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].received.length = 0;
      emus[type].recording = true;
    }
    const dry = await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.ebay.channelId, ch.etsy.channelId], dry_run: true });
    expect(dry.status).toBe(200);
    planned = dry.body.requests;
    expect(planned.length).toBeGreaterThan(4);
    expect(dry.body.api_calls).toBe(planned.length);
    expect(dry.body.channels.map((c: { api_calls: number }) => c.api_calls).reduce((a: number, b: number) => a + b)).toBe(planned.length);
    expect(planned.every((r) => r.method && r.url.startsWith('http://127.0.0.1'))).toBe(true);
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].recording = false;
      // The Watcher's safety-net polls (receipts, orders) run on their own clock; nothing else may reach the platform.
      const sent = emus[type].received.filter((r) => !/\/receipts|\/sell\/fulfillment\/|oauth/.test(r.url));
      expect(sent, type).toEqual([]);
    }
    expect((await call('GET', `/publications?product_id=${productId}`)).body.data).toEqual([]);
  });

  it('publishes with the same requests the dry run listed, and each variant becomes a synced listing', async () => {
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].received.length = 0;
      emus[type].recording = true;
    }
    const res = await call('POST', `/products/${productId}/publish`, { channel_ids: [ch.ebay.channelId, ch.etsy.channelId] });
    expect(res.status).toBe(202);
    expect(res.body.jobs).toHaveLength(2);
    await settled(ch.ebay.channelId);
    await settled(ch.etsy.channelId);
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].recording = false;
      const mine = planned.filter((r) => r.channel_id === ch[type].channelId);
      // The Watcher's safety-net polls (receipts, orders) run on their own clock, and the Sync's
      // first push follows the plan: the plan is what comes first among the rest.
      const got = emus[type].received.filter((r) => !/\/receipts|\/sell\/fulfillment\/|oauth/.test(r.url)).slice(0, mine.length);
      expect(got, `${type}: ${JSON.stringify(emus[type].received.map((r) => `${r.method} ${r.url}`))}`).toHaveLength(mine.length);
      expect(got.map((r) => r.method)).toEqual(mine.map((r) => r.method));
      mine.forEach((r, i) => {
        const pattern = new RegExp('^' + r.url.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\{[A-Za-z0-9_.-]+\}\}/g, '[^/?&]+') + '$');
        expect(got[i]!.url, `${type} request ${i}`).toMatch(pattern);
      });
      // JSON bodies without placeholders go out exactly as listed.
      mine.forEach((r, i) => {
        if (r.body && typeof r.body === 'object' && !JSON.stringify(r.body).includes('{{') && got[i]!.body && typeof got[i]!.body === 'object') {
          if (type === 'ebay') expect(got[i]!.body, `${type} body ${i}`).toEqual(r.body);
        }
      });
    }
    for (const type of ['ebay', 'etsy'] as const) {
      await eventually(async () => (await state(type)).get('LIN-M') === 6, 15_000, `${type} to hold 6 of LIN-M`);
    }
    const { rows } = await h.sc.ctx.db.query(`select count(*)::int as n from listings where tenant_id = $1 and item_id is not null`, [tenantId]);
    expect(rows[0].n).toBe(6);
  });

  it('a sale on eBay moves the ledger once and Etsy follows', async () => {
    const r = await fetch(`${emus.ebay.url}/_control/accounts/${ch.ebay.accountId}/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'LIN-M', qty: 2 }),
    });
    expect(r.status).toBeLessThan(300);
    await eventually(async () => (await state('etsy')).get('LIN-M') === 4, 20_000, 'Etsy to hold 4 of LIN-M');
    const { rows } = await h.sc.ctx.db.query(
      `select coalesce(sum(m.qty_delta), 0)::int as q from stock_movements m join items i on i.tenant_id = m.tenant_id and i.id = m.item_id
       where m.tenant_id = $1 and i.sku = 'LIN-M'`,
      [tenantId],
    );
    expect(rows[0].q).toBe(4);
  });

  it('a title edited on Etsy becomes a conflict; use_master, use_platform and manual each do what they say', async () => {
    const etsyListing = (await publication(ch.etsy.channelId)).external_id!;
    const edit = (t: string) =>
      fetch(`${emus.etsy.url}/_control/accounts/${ch.etsy.accountId}/listings/${etsyListing}/edit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: t }),
      });
    // A read-back Etsy throttled stops early (the next Guardian run goes on): run it again.
    const check = async () => {
      for (;;) {
        const r = await catalogCheck(h.sc.ctx, { tenantId, channelId: ch.etsy.channelId });
        if (!r.stoppedEarly) return r;
        await new Promise((ok) => setTimeout(ok, 1000));
      }
    };
    const openConflict = async () => {
      const list = (await call('GET', '/conflicts?status=open')).body.data as Array<{
        id: string;
        field: string;
        master_value: unknown;
        platform_value: unknown;
      }>;
      expect(list).toHaveLength(1);
      return list[0]!;
    };
    const refs = async (type: 'ebay' | 'etsy') => {
      const { rows } = await h.sc.ctx.db.query(`select external_id, refs from publications where tenant_id = $1 and channel_id = $2`, [
        tenantId,
        ch[type].channelId,
      ]);
      return { externalId: rows[0].external_id as string, refs: rows[0].refs as Record<string, string> };
    };
    const remote = async (type: 'ebay' | 'etsy') => {
      const live = await h.sc.ctx.channels.load(tenantId, ch[type].channelId);
      return (await live!.adapter.catalog!.readFields([await refs(type)]))[0]?.title;
    };

    // Nothing changed there: no conflict.
    expect((await check()).conflicts).toBe(0);

    // use_master: Etsy gets ours back; the master is untouched.
    await edit('Linen shirt (edited on Etsy)');
    expect((await check()).conflicts).toBe(1);
    let c = await openConflict();
    expect([c.field, c.master_value, c.platform_value]).toEqual(['title', 'Linen shirt', 'Linen shirt (edited on Etsy)']);
    let r = await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'use_master' });
    expect(r.status).toBe(200);
    expect(r.body.conflict.status).toBe('resolved');
    await settled(ch.etsy.channelId);
    expect(await remote('etsy')).toBe('Linen shirt');
    expect(await title()).toBe('Linen shirt');
    expect((await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'use_master' })).status).toBe(409);

    // use_platform: theirs becomes ours, and eBay follows.
    await edit('Washed linen shirt');
    await check();
    c = await openConflict();
    r = await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'use_platform' });
    expect(r.status).toBe(200);
    expect(await title()).toBe('Washed linen shirt');
    await settled(ch.ebay.channelId);
    await settled(ch.etsy.channelId);
    expect(await remote('ebay')).toBe('Washed linen shirt');

    // manual: a value of our own, on both; a bad value is refused and changes nothing.
    await edit('LINEN SHIRT!!!');
    await check();
    c = await openConflict();
    expect((await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'manual' })).status).toBe(400);
    expect((await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'manual', value: '' })).status).toBe(400);
    expect((await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'use_master', value: 'x' })).status).toBe(400);
    expect(await title()).toBe('Washed linen shirt');
    r = await call('POST', `/conflicts/${c.id}/resolve`, { strategy: 'manual', value: 'Linen shirt, washed' });
    expect(r.status).toBe(200);
    expect(await title()).toBe('Linen shirt, washed');
    await settled(ch.ebay.channelId);
    await settled(ch.etsy.channelId);
    expect(await remote('etsy')).toBe('Linen shirt, washed');
    expect(await remote('ebay')).toBe('Linen shirt, washed');
    expect((await check()).conflicts).toBe(0);

    // A standing policy settles what it finds: use_platform takes Etsy's title at once.
    expect((await call('PATCH', `/channels/${ch.etsy.channelId}`, { settings: { conflict_policy: 'use_platform' } })).status).toBe(200);
    try {
      await edit('Linen shirt (Etsy edit)');
      const r2 = await check();
      expect([r2.conflicts, r2.autoResolved]).toEqual([1, 1]);
      expect((await call('GET', '/conflicts?status=open')).body.data).toEqual([]);
      expect(await title()).toBe('Linen shirt (Etsy edit)');
      await settled(ch.ebay.channelId);
      expect(await remote('ebay')).toBe('Linen shirt (Etsy edit)');
    } finally {
      await call('PATCH', `/channels/${ch.etsy.channelId}`, { settings: { conflict_policy: 'ask' } });
    }
  });

  it('a stock level changed on Etsy becomes a stock conflict; use_platform, use_master and manual each do what they say', async () => {
    const onHand = async (sku: string) =>
      (
        await h.sc.ctx.db.query<{ q: number }>(
          `select coalesce(sum(s.on_hand), 0)::int as q from stock_levels s join items i on i.tenant_id = s.tenant_id and i.id = s.item_id where s.tenant_id = $1 and i.sku = $2`,
          [tenantId, sku],
        )
      ).rows[0]!.q;
    const setOnEtsy = (sku: string, qty: number) =>
      fetch(`${emus.etsy.url}/_control/accounts/${ch.etsy.accountId}/set`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku, qty }),
      });
    // Paced: the Guardian's reads are charged to the channel's budget (Etsy: 10 calls a second),
    // which Sync's pushes share; run back to back, the runs (and the catalog check each one
    // enqueues) would spend it all and leave the pushes they wait for starved.
    const guard = async () => {
      await new Promise((r) => setTimeout(r, 1000));
      return (await guardianRun(h.sc.ctx, { tenantId })).find((r) => r.channelId === ch.etsy.channelId)!;
    };
    const openStock = async () =>
      (await call('GET', '/conflicts?status=open')).body.data.filter((c: { field: string }) => c.field === 'stock') as Array<{
        id: string;
        sku: string;
        item_id: string;
        master_value: number;
        platform_value: number;
      }>;
    // The Guardian skips a listing with a push or an event in flight: run it until it has looked.
    const conflictOn = async (sku: string) => {
      await eventually(
        async () => {
          await guard();
          return (await openStock()).some((c) => c.sku === sku);
        },
        30_000,
        `a stock conflict on ${sku}`,
      );
      return await openStock();
    };
    const both = async (sku: string, qty: number) => {
      await eventually(async () => (await state('etsy')).get(sku) === qty, 15_000, `Etsy to hold ${qty} of ${sku}`);
      await eventually(async () => (await state('ebay')).get(sku) === qty, 15_000, `eBay to hold ${qty} of ${sku}`);
    };
    // Catalog updates still running (the last test's) write Etsy's inventory whole: let them finish.
    await settled(ch.etsy.channelId);
    await settled(ch.ebay.channelId);
    const [s0, m0, l0] = [await onHand('LIN-S'), await onHand('LIN-M'), await onHand('LIN-L')];
    await both('LIN-S', s0);

    // The seller sets 9 on Etsy: a conflict, and neither side is overwritten.
    expect((await setOnEtsy('LIN-S', 9)).status).toBe(200);
    let open = await conflictOn('LIN-S');
    expect(open).toEqual([expect.objectContaining({ sku: 'LIN-S', master_value: s0, platform_value: 9 })]);
    await guard(); // seen again: still one conflict, still not repaired
    expect(await openStock()).toHaveLength(1);
    expect((await state('etsy')).get('LIN-S')).toBe(9);
    expect(await onHand('LIN-S')).toBe(s0);
    // use_platform: the ledger takes Etsy's count in, and eBay follows.
    let r = await call('POST', `/conflicts/${open[0]!.id}/resolve`, { strategy: 'use_platform' });
    expect([r.status, r.body.conflict.resolved_value]).toEqual([200, 9]);
    expect(await onHand('LIN-S')).toBe(9);
    await both('LIN-S', 9);

    // use_master: Etsy gets ours back; the ledger is untouched.
    await setOnEtsy('LIN-M', 1);
    open = await conflictOn('LIN-M');
    expect(open.map((c) => [c.sku, c.platform_value])).toEqual([['LIN-M', 1]]);
    r = await call('POST', `/conflicts/${open[0]!.id}/resolve`, { strategy: 'use_master' });
    expect(r.status).toBe(200);
    await both('LIN-M', m0);
    expect(await onHand('LIN-M')).toBe(m0);

    // manual: a count someone typed, on both; a bad value changes nothing.
    await setOnEtsy('LIN-L', 2);
    open = await conflictOn('LIN-L');
    expect((await call('POST', `/conflicts/${open[0]!.id}/resolve`, { strategy: 'manual', value: -1 })).status).toBe(400);
    expect((await call('POST', `/conflicts/${open[0]!.id}/resolve`, { strategy: 'manual', value: 'three' })).status).toBe(400);
    expect(await onHand('LIN-L')).toBe(l0);
    r = await call('POST', `/conflicts/${open[0]!.id}/resolve`, { strategy: 'manual', value: 3 });
    expect([r.status, r.body.conflict.resolution]).toEqual([200, 'manual']);
    expect(await onHand('LIN-L')).toBe(3);
    await both('LIN-L', 3);

    // Sides that come to match by themselves (the ledger caught up) close the conflict as agreed.
    await setOnEtsy('LIN-L', 5);
    const c = (await conflictOn('LIN-L'))[0]!;
    const loc = (await h.sc.ctx.db.query<{ id: string }>(`select id from locations where tenant_id = $1 limit 1`, [tenantId])).rows[0]!.id;
    await recordMovements(h.sc.ctx.db, tenantId, [{ itemId: c.item_id, locationId: loc, qtyDelta: 2, reason: 'receipt' }]);
    await both('LIN-L', 5);
    await eventually(
      async () => {
        await guard();
        return (await openStock()).length === 0;
      },
      30_000,
      'the conflict to close as agreed',
    );
    expect((await call('GET', `/conflicts/${c.id}`)).body).toMatchObject({ status: 'resolved', resolution: 'agreed' });

    // With conflict_policy use_master the Guardian repairs at once, as on any channel.
    expect((await call('PATCH', `/channels/${ch.etsy.channelId}`, { settings: { conflict_policy: 'use_master' } })).status).toBe(200);
    try {
      await setOnEtsy('LIN-S', 8); // within the drift threshold: repaired (beyond it: an alert, as on any channel)
      await eventually(async () => (await guard()).repaired > 0, 30_000, 'the Guardian to repair Etsy');
      await both('LIN-S', 9);
      expect(await openStock()).toEqual([]);
    } finally {
      await call('PATCH', `/channels/${ch.etsy.channelId}`, { settings: { conflict_policy: 'ask' } });
    }
  }, 120_000);

  it('bulk: a dry run counts every request and sends nothing; the job shows progress, pauses, resumes and finishes', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      const p = await call('POST', '/products', { title: `Scarf ${n}`, description: 'Wool.', price_minor: 1800 + n, variants: [{ sku: `SCARF-${n}` }] });
      expect(p.status).toBe(201);
      ids.push(p.body.id);
    }
    const channel_ids = [ch.ebay.channelId, ch.etsy.channelId];
    // Etsy activates only listings with an image: the dry run names what would be refused, and a
    // single publish is refused whole (422) with nothing queued.
    const bare = await call('POST', `/products/${ids[0]}/publish`, { channel_ids, dry_run: true });
    expect(bare.body.problems).toEqual([{ product_id: ids[0], channel_id: ch.etsy.channelId, message: expect.stringMatching(/image/) }]);
    expect(bare.body.requests.every((r: { channel_id: string }) => r.channel_id === ch.ebay.channelId)).toBe(true);
    const refused = await call('POST', `/products/${ids[0]}/publish`, { channel_ids });
    expect([refused.status, refused.body.error.code]).toEqual([422, 'cannot_publish']);
    expect(refused.body.error.details[0].message).toContain(ch.etsy.channelId);
    expect((await call('GET', `/publications?product_id=${ids[0]}`)).body.data).toEqual([]);
    for (const [n, id] of ids.entries()) {
      const img = await fetch(`${h.url}/api/v1/products/${id}/images`, {
        method: 'POST',
        headers: { 'content-type': 'image/png', authorization: `Bearer ${token}` },
        body: swatchPng([30 * n, 90, 120], [240, 240, 240]),
      });
      expect(img.status).toBe(201);
    }
    const noStock = await call('POST', `/products/${ids[0]}/publish`, { channel_ids: [ch.etsy.channelId], dry_run: true });
    expect(noStock.body.problems[0].message).toMatch(/stock/);
    const scarves = (await Promise.all(ids.map(async (id) => (await call('GET', `/products/${id}`)).body.variants[0].item_id))) as string[];
    const loc = (await h.sc.ctx.db.query<{ id: string }>(`select id from locations where tenant_id = $1 limit 1`, [tenantId])).rows[0]!.id;
    await recordMovements(
      h.sc.ctx.db,
      tenantId,
      scarves.map((itemId) => ({ itemId, locationId: loc, qtyDelta: 3, reason: 'receipt' as const })),
    );
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].received.length = 0;
      emus[type].recording = true;
    }
    const dry = await call('POST', '/publications/bulk', { product_ids: ids, channel_ids, dry_run: true });
    expect(dry.status, JSON.stringify(dry.body)).toBe(200);
    expect(dry.body.problems).toEqual([]);
    expect(dry.body.requests_total).toBe(dry.body.api_calls);
    expect(dry.body.api_calls).toBeGreaterThanOrEqual(ids.length * 2 * 2);
    expect(new Set(dry.body.requests.map((r: { channel_id: string }) => r.channel_id))).toEqual(new Set(channel_ids));
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].recording = false;
      expect(
        emus[type].received.filter((r) => !/\/receipts|\/sell\/fulfillment\/|oauth/.test(r.url)),
        type,
      ).toEqual([]);
    }
    // An unknown product refuses the whole job, with nothing queued.
    const bad = await call('POST', '/publications/bulk', { product_ids: [...ids, `prd_${'0'.repeat(32)}`], channel_ids });
    expect([bad.status, bad.body.error.code]).toEqual([404, 'not_found']);

    // Slow platforms so the job is still running when it is paused.
    emus.ebay.knobs.latencyMs = 250;
    emus.etsy.knobs.latencyMs = 250;
    const started = await call('POST', '/publications/bulk', { product_ids: ids, channel_ids });
    expect(started.status).toBe(202);
    expect(started.headers.get('location')).toBe(`/api/v1/publication-jobs/${started.body.id}`);
    expect(started.body).toMatchObject({ status: 'running', total: ids.length * 2 });
    const jobUrl = `/publication-jobs/${started.body.id}`;
    const paused = await call('POST', `${jobUrl}/pause`);
    expect([paused.status, paused.body.status]).toEqual([200, 'paused']);
    expect((await call('POST', `${jobUrl}/pause`)).status).toBe(409);
    // What was running finishes; nothing else starts: progress stops short of the total.
    const progress = async () => {
      const j = (await call('GET', jobUrl)).body as { done: number; failed: number; status: string };
      return j.done + j.failed;
    };
    let held = -1;
    await eventually(
      async () => {
        const before = await progress();
        await new Promise((r) => setTimeout(r, 1500));
        const after = await progress();
        const stable = before === after && after === held;
        held = after;
        return stable;
      },
      30_000,
      'a paused job to stop making progress',
    );
    const still = (await call('GET', jobUrl)).body;
    expect(still.status).toBe('paused');
    expect(still.done + still.failed).toBeLessThan(still.total);
    expect(still.publishing).toBe(still.total - still.done - still.failed);
    emus.ebay.knobs.latencyMs = 0;
    emus.etsy.knobs.latencyMs = 0;
    const resumed = await call('POST', `${jobUrl}/resume`);
    expect([resumed.status, resumed.body.status]).toEqual([200, 'running']);
    await eventually(async () => (await call('GET', jobUrl)).body.status !== 'running', 30_000, 'the job to finish');
    const end = (await call('GET', jobUrl)).body;
    const errors = async () => (await Promise.all(ids.map(async (id) => (await call('GET', `/publications?product_id=${id}`)).body.data))).flat();
    expect(end, JSON.stringify(await errors())).toMatchObject({ status: 'done', done: ids.length * 2, failed: 0, publishing: 0 });
    expect((await call('POST', `${jobUrl}/resume`)).status).toBe(409);
    for (const id of ids) {
      const pubs = (await call('GET', `/publications?product_id=${id}`)).body.data as Array<{ state: string }>;
      expect(pubs.map((p) => p.state)).toEqual(['live', 'live']);
    }
    const onEtsy = await state('etsy');
    expect(ids.every((_, i) => onEtsy.has(`SCARF-${i + 1}`))).toBe(true);
  });

  it("the merchant's sync rules shape what is published: a price adjustment and a cap on Etsy only", async () => {
    const price = await call('POST', '/sync-rules', {
      name: 'Etsy fees',
      conditions: { channel_ids: [ch.etsy.channelId] },
      action: { type: 'price_adjust', value: 20, unit: 'percent' },
    });
    const cap = await call('POST', '/sync-rules', {
      name: 'Etsy at most 2',
      conditions: { channel_ids: [ch.etsy.channelId] },
      action: { type: 'cap', value: 2 },
    });
    expect([price.status, cap.status]).toEqual([201, 201]);
    try {
      const dry = await call('POST', `/products/${productId}/publish`, {
        channel_ids: [ch.ebay.channelId, ch.etsy.channelId],
        action: 'update',
        dry_run: true,
      });
      expect(dry.status).toBe(200);
      const inventory = dry.body.requests.find((r: { channel_id: string; url: string }) => r.channel_id === ch.etsy.channelId && r.url.endsWith('/inventory'));
      const offerings = (inventory.body as { products: Array<{ offerings: Array<{ price: number; quantity: number }> }> }).products.map((p) => p.offerings[0]!);
      // 25.00 + 20% = 30.00; the ledger holds more than 2 of each size.
      expect(offerings.map((o) => [o.price, o.quantity])).toEqual([
        [30, 2],
        [30, 2],
        [30, 2],
      ]);
      // eBay is untouched by Etsy's rules.
      const ebayBodies = JSON.stringify(
        dry.body.requests.filter((r: { channel_id: string }) => r.channel_id === ch.ebay.channelId).map((r: { body: unknown }) => r.body),
      );
      expect(ebayBodies).toContain('25');
      expect(ebayBodies).not.toContain('"30');
    } finally {
      for (const r of [price, cap]) await call('DELETE', `/sync-rules/${r.body.id}`, undefined, { 'if-match': r.headers.get('etag') ?? '*' });
    }
  });

  it("a stock push's dry run lists the adapter's exact writes and sends none", async () => {
    const ledger = async () =>
      (await h.sc.ctx.db.query<{ n: number }>(`select count(*)::int as n from stock_movements where tenant_id = $1`, [tenantId])).rows[0]!.n;
    const moves = await ledger();
    // Etsy holding something else than it should, so its read-then-write adapter has a write to make.
    const setOnEtsy = (qty: number) =>
      fetch(`${emus.etsy.url}/_control/accounts/${ch.etsy.accountId}/set`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sku: 'LIN-S', qty }),
      });
    const target = (await call('POST', '/sync-rules/dry-run', { channel_id: ch.etsy.channelId, sku: 'LIN-S' })).body.qty as number;
    // Pushes still running (the rules just deleted re-push Etsy) would overwrite what we set: wait
    // until Etsy holds its target and nothing is waiting to be pushed to it.
    await eventually(
      async () => {
        const pending = await h.sc.ctx.db.query(`select 1 from listings where tenant_id = $1 and channel_id = $2 and dirty_seq > pushed_seq`, [
          tenantId,
          ch.etsy.channelId,
        ]);
        return pending.rowCount === 0 && (await state('etsy')).get('LIN-S') === target;
      },
      20_000,
      'Etsy to settle at its target',
    );
    const heldBefore = target + 3;
    await setOnEtsy(heldBefore);
    for (const type of ['ebay', 'etsy'] as const) {
      emus[type].received.length = 0;
      emus[type].recording = true;
    }
    const ebay = await call('POST', `/channels/${ch.ebay.channelId}/push-dry-run`, { skus: ['LIN-S', 'LIN-M'] });
    // Its read is a real call: one Etsy throttled (the earlier tests' Guardian reads share its
    // budget) comes back as the answer's error; the merchant would try again, and so does this.
    let etsy = await call('POST', `/channels/${ch.etsy.channelId}/push-dry-run`, { skus: ['LIN-S'] });
    for (let i = 0; i < 10 && etsy.body.error; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      etsy = await call('POST', `/channels/${ch.etsy.channelId}/push-dry-run`, { skus: ['LIN-S'] });
    }
    expect(etsy.body.error).toBeNull();
    for (const type of ['ebay', 'etsy'] as const) emus[type].recording = false;
    expect([ebay.status, etsy.status], JSON.stringify([ebay.body, etsy.body])).toEqual([200, 200]);
    const want = new Map((ebay.body.listings as Array<{ sku: string; qty: number }>).map((l) => [l.sku, l.qty]));
    expect([...want.keys()].sort()).toEqual(['LIN-M', 'LIN-S']);
    // eBay: one bulk price/quantity write naming both SKUs with the quantities the push would set.
    expect(ebay.body.requests).toHaveLength(1);
    expect(ebay.body.requests[0]).toMatchObject({ method: 'POST', url: expect.stringContaining('/sell/inventory/v1/bulk_update_price_quantity') });
    const sent = (ebay.body.requests[0].body as { requests: Array<{ sku: string; shipToLocationAvailability: { quantity: number } }> }).requests;
    expect(new Map(sent.map((r) => [r.sku, r.shipToLocationAvailability.quantity]))).toEqual(want);
    // Etsy reads the listing's inventory first (a real read), then would write it whole.
    expect(etsy.body.reads, JSON.stringify(etsy.body)).toBeGreaterThan(0);
    expect(
      etsy.body.requests.map((r: { method: string; url: string }) => `${r.method} ${new URL(r.url).pathname.replace(/listings\/\d+/, 'listings/N')}`),
    ).toEqual(['PUT /v3/application/listings/N/inventory']);
    expect(etsy.body.api_calls).toBe(etsy.body.reads + 1);
    const put = etsy.body.requests[0].body as { products: Array<{ sku: string; offerings: Array<{ quantity: number }> }> };
    expect(put.products.find((p) => p.sku === 'LIN-S')!.offerings[0]!.quantity).toBe(etsy.body.listings[0].qty);
    expect(put.products.find((p) => p.sku === 'LIN-S')!.offerings[0]!.quantity).toBe(target);
    expect((await state('etsy')).get('LIN-S')).toBe(heldBefore);
    await setOnEtsy(target);
    // Nothing was written anywhere: the platforms saw reads (and the Watcher's polls) only; the ledger did not move.
    for (const type of ['ebay', 'etsy'] as const)
      expect(
        emus[type].received.filter((r) => r.method !== 'GET'),
        type,
      ).toEqual([]);
    expect(await ledger()).toBe(moves);
    // Bad input: a clear 4xx.
    expect((await call('POST', `/channels/${ch.ebay.channelId}/push-dry-run`, {})).status).toBe(400);
    expect((await call('POST', `/channels/${ch.ebay.channelId}/push-dry-run`, { skus: ['NOPE'] })).status).toBe(404);
  });

  it('another tenant sees none of it', async () => {
    const other = client(h.url, (await registerTenant(h.url, 'Elsewhere')).token);
    expect((await other('GET', '/conflicts')).body.data).toEqual([]);
    expect((await other('GET', `/publications?product_id=${productId}`)).body.data).toEqual([]);
    expect((await other('POST', `/products/${productId}/publish`, { channel_ids: [ch.etsy.channelId], dry_run: true })).status).toBe(404);
  });

  it('a stock-only channel is refused for publishing with a clear error', async () => {
    const t = await registerTenant(h.url, 'Till only');
    const till = await connectEmulatedChannel(h.sc.ctx, {
      tenantId: t.tenantId,
      type: 'eposnow',
      emulator: emus.eposnow,
      name: 'Till',
      stockclerkUrl: h.url,
      items: [],
      locationIds: [t.locationId],
    });
    const c2 = client(h.url, t.token);
    const p = await c2('POST', '/products', { title: 'Mug', price_minor: 900, variants: [{ sku: 'MUG' }] });
    const r = await c2('POST', `/products/${p.body.id}/publish`, { channel_ids: [till.channelId], dry_run: true });
    expect([r.status, r.body.error.code]).toEqual([400, 'not_a_marketplace']);
  });
});
