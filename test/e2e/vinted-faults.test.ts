// Vinted under faults: nothing lost, nothing counted twice. Vinted is reached only through the
// seller's browser extension, and chromium per run is too slow for a property test, so the
// extension's OWN background code runs in this process (test/helpers/extension-node.ts: Link,
// JobRunner, the Vinted client and jobs.ts, with chrome.storage, the seller's cookie and the socket
// shimmed as the browser gives them), paired with an extension token issued through the API the
// dashboard uses, against the Vinted emulator. Link itself holds the socket (hello, welcome,
// status, jobs, results, acks, its own reconnect backoff): no stand-in client speaks the protocol.
// test/browser/vinted.test.ts is the same path in real chromium. Link builds its VintedClient with
// the default 800 ms between writes (no option reaches it), so the runs keep Vinted writes few:
// only a till sale makes one (the hide).
//
// Each run (fast-check, a few runs from a fixed seed; VINTED_FAULTS_SEED / VINTED_FAULTS_RUNS
// override): a tenant whose single-unit items are listed on Vinted (listed by hand on the emulator,
// imported through the channel and mapped to their items) and on an Epos Now till; a random
// sequence of Vinted sales, till sales and faults: Vinted's anti-bot 429s (throttleNext and a tight
// window), 5xx (failNext), the extension's socket dropped at random moments, results sent twice,
// and read_sales answers that repeat sales from earlier answers. The socket is dropped from the
// client side (the server sees it close and queues its unanswered jobs again). After quiescence
// every Vinted sale is exactly one ledger movement, no other Vinted movement exists, the ledger
// verifies, every extension job is done (none queued, sent or failed), Epos Now holds the ledger's
// quantity and Vinted shows an item for sale exactly when the ledger has it. A second test drops
// the socket in the middle of a hide (the Link bug this suite found).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVintedEmulator, DEFAULT_VINTED_KNOBS, type VintedEmulator, type VintedKnobs } from '../../emulators/vinted/index.ts';
import { startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { verifyLedger } from '../../src/ledger/ledger.ts';
import { startNodeBrowser, type NodeBrowser } from '../helpers/extension-node.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, quiescent, sale } from '../helpers/tenant.ts';

const SEED = Number(process.env.VINTED_FAULTS_SEED ?? 20261214);
const RUNS = Number(process.env.VINTED_FAULTS_RUNS ?? 3);
const SKUS = Array.from({ length: 6 }, (_, i) => `VT-${i}`);

type Op =
  | { op: 'vinted_sale'; item: number }
  | { op: 'till_sale'; item: number }
  | { op: 'drop_socket' }
  | { op: 'throttle'; n: number }
  | { op: 'fail'; n: number; status: number }
  | { op: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('vinted_sale' as const), item: fc.nat(SKUS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('till_sale' as const), item: fc.nat(SKUS.length - 1) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('drop_socket' as const) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('throttle' as const), n: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fail' as const), n: fc.integer({ min: 1, max: 3 }), status: fc.constantFrom(500, 502, 503) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('wait' as const), ms: fc.integer({ min: 100, max: 1200 }) }) },
);
const planArb = fc.record({
  ops: fc.array(opArb, { minLength: 12, maxLength: 20 }),
  /** Share of results the extension sends twice. */
  dupResults: fc.constantFrom(0.1, 0.3, 0.5),
  /** Share of read_sales answers that repeat every sale an earlier answer carried. */
  staleSales: fc.constantFrom(0.3, 0.7),
  /** Vinted's anti-bot window this tight during the ops (requests per 3 s), or its default. */
  window: fc.constantFrom(null, 6, 10),
});
type Plan = typeof planArb extends fc.Arbitrary<infer T> ? T : never;

/** Faults that actually happened, over all runs: a run whose faults all missed proves little. */
const hit = { drops: 0, doubled: 0, repeatedSales: 0, throttled: 0, failed: 0 };

let h: Harness;
let emus: EmulatorSet;
beforeAll(async () => {
  // Polls every second: Vinted's sales are heard only by the poll's read_sales job.
  h = await startHarness({ tuning: { pollIntervalS: 1 } });
  emus = await startEmulators();
});
afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const q = async <T = any>(sql: string, params: unknown[]) => (await h.sc.ctx.db.query(sql, params)).rows as T[];

async function ctl(emu: VintedEmulator, p: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${emu.url}/_control${p}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

interface World {
  emu: VintedEmulator;
  browser: NodeBrowser;
  tenantId: string;
  channelId: string;
  tillAccount: string;
  /** SKU -> Vinted item id. */
  vintedIds: Map<string, number>;
}

/** A tenant with the items on the till and on Vinted, the extension paired and logged in, the first poll done. */
async function world(): Promise<World> {
  const emu = createVintedEmulator();
  await emu.listen(0);
  const login = 'seller';
  await ctl(emu, '/accounts', { login, password: 'pw-seller-1', items: SKUS.map((sku) => ({ title: `Item ${sku}`, price: 12.5 })) });
  const state = (await ctl(emu, `/accounts/${login}/state`)).body as { items: Array<{ id: number; title: string }> };
  const vintedIds = new Map(state.items.map((i) => [i.title.replace('Item ', ''), i.id]));

  const t = await emulatedTenant(h, emus, { types: ['eposnow'], items: SKUS.map((sku) => ({ sku, name: `Item ${sku}`, qty: 1 })) });
  const call = (method: string, p: string, body?: unknown) => api(h.url, method, `/api/v1${p}`, { token: t.token, body });
  const made = await call('POST', '/channels', { type: 'vinted', name: 'Vinted', base_url: emu.url, credentials: {} });
  expect(made.status, JSON.stringify(made.body)).toBe(201);
  const channelId = made.body.id as string;
  const issued = await call('POST', `/channels/${channelId}/extension-tokens`, { name: 'Seller laptop' });
  expect(issued.status, JSON.stringify(issued.body)).toBe(201);

  const browser = startNodeBrowser();
  try {
    const s = (await ctl(emu, '/sessions', { login })).body as { cookie_name: string; cookie_value: string };
    browser.setCookie(emu.url, `${s.cookie_name}=${s.cookie_value}`);
    await browser.pair(h.url, issued.body.token);
    await eventually(
      async () => {
        const row = (await call('GET', `/channels/${channelId}/extension-tokens`)).body.data[0];
        return row.connected && row.status?.logged_in === true;
      },
      10_000,
      'the extension to connect, logged in',
    );
    // The seller's Vinted items, read by the extension (read_listings) and mapped to their items by hand.
    const imported = await call('POST', `/channels/${channelId}/import`);
    expect(imported.status, JSON.stringify(imported.body)).toBe(200);
    expect(imported.body.imported).toBe(SKUS.length);
    const listings = (await call('GET', `/listings?channel_id=${channelId}&limit=100`)).body.data as Array<{ id: string; external_id: string }>;
    for (const l of listings) {
      const sku = [...vintedIds].find(([, id]) => String(id) === l.external_id)![0];
      const mapped = await call('PATCH', `/listings/${l.id}`, { item_id: t.itemIds.get(sku) });
      expect(mapped.status, JSON.stringify(mapped.body)).toBe(200);
    }
    // Sales before the first poll are history (the import counted them): sell once it has run.
    await eventually(async () => (await q(`select poll_cursor from channels where id = $1`, [channelId]))[0].poll_cursor !== null, 15_000, 'first poll');
    return { emu, browser, tenantId: t.tenantId, channelId, tillAccount: t.channels.eposnow!.accountId, vintedIds };
  } catch (err) {
    await stop({ browser, emu });
    throw err;
  }
}

/** Unpairs the extension and closes its Vinted. */
async function stop(w: Pick<World, 'browser' | 'emu'>): Promise<void> {
  await w.browser.close();
  // A job the extension was running when it was unpaired may still be waiting on Vinted: its
  // keep-alive connection would hold close() for Fastify's 72 s keep-alive timeout.
  const closing = w.emu.close();
  w.emu.app.server.closeAllConnections();
  await closing;
}

/** The extension's misbehaviour on the wire: results sent twice, read_sales answers repeating earlier sales. */
function meddle(browser: NodeBrowser, plan: Plan, rnd: () => number): void {
  const answered: unknown[] = [];
  let repeated = false;
  browser.tap = (msg, kind) => {
    let out = msg;
    if (msg.type === 'result' && msg.ok === true && kind === 'read_sales') {
      const sales = ((msg.result as { sales?: unknown[] } | null)?.sales ?? []) as unknown[];
      // The first chance always, then at the plan's rate: an answer with no sale before it has nothing to repeat.
      if (answered.length && (!repeated || rnd() < plan.staleSales)) {
        repeated = true;
        out = { ...msg, result: { sales: [...sales, ...answered] } };
        hit.repeatedSales++;
      }
      answered.push(...sales);
    }
    if (msg.type !== 'result' || rnd() >= plan.dupResults) return [out];
    hit.doubled++;
    return [out, out];
  };
}

async function knobs(emu: VintedEmulator, k: Partial<VintedKnobs>): Promise<void> {
  expect((await ctl(emu, '/knobs', k)).status).toBe(200);
}

async function check(w: World, vintedSales: Map<string, string>, tillSold: Map<string, number>): Promise<void> {
  const { tenantId, channelId } = w;
  // Every Vinted sale is one movement of -1 on its item, named by its transaction; no other Vinted movement.
  const moves = await q<{ source_event_id: string; item_id: string; qty_delta: number }>(
    `select m.source_event_id, m.item_id, m.qty_delta from stock_movements m where m.tenant_id = $1 and m.source_channel_id = $2`,
    [tenantId, channelId],
  );
  const items = await q<{ id: string; sku: string }>(`select id, sku from items where tenant_id = $1`, [tenantId]);
  const skuOf = new Map(items.map((i) => [i.id, i.sku]));
  const got = moves.map((m) => `${m.source_event_id} ${skuOf.get(m.item_id)} ${m.qty_delta}`).sort();
  const want = [...vintedSales].map(([tx, sku]) => `sale:${tx} ${sku} -1`).sort();
  expect(got, 'Vinted movements (event, SKU, delta)').toEqual(want);
  expect(await verifyLedger(h.sc.ctx.db)).toEqual([]);

  const jobs = await q<{ kind: string; status: string; n: number; error: unknown }>(
    `select kind, status, count(*)::int as n, max(error::text) as error from extension_jobs where tenant_id = $1 and channel_id = $2 group by 1, 2 order by 1, 2`,
    [tenantId, channelId],
  );
  expect(
    jobs.filter((j) => j.status !== 'done'),
    `extension jobs not done: ${JSON.stringify(jobs)}`,
  ).toEqual([]);

  const levels = await q<{ sku: string; on_hand: number }>(
    `select i.sku, coalesce(sum(s.on_hand), 0)::int as on_hand from items i left join stock_levels s on s.tenant_id = i.tenant_id and s.item_id = i.id
      where i.tenant_id = $1 group by i.id, i.sku`,
    [tenantId],
  );
  const vinted = (await ctl(w.emu, '/accounts/seller/state')).body as { items: Array<{ id: number; status: string }> };
  const wrong: string[] = [];
  for (const { sku, on_hand } of levels) {
    const soldOnVinted = [...vintedSales.values()].filter((s) => s === sku).length;
    const expected = 1 - soldOnVinted - (tillSold.get(sku) ?? 0);
    if (on_hand !== expected) wrong.push(`${sku}: ledger ${on_hand}, expected ${expected} (${on_hand > expected ? 'lost' : 'double counted'})`);
    const till = held(emus, 'eposnow', w.tillAccount, sku)?.qty;
    if (till !== Math.max(0, on_hand)) wrong.push(`${sku} on the till: ${till}, should be ${Math.max(0, on_hand)}`);
    const item = vinted.items.find((i) => i.id === w.vintedIds.get(sku));
    const shown = soldOnVinted ? 'sold' : on_hand > 0 ? 'active' : 'hidden';
    if (item?.status !== shown) wrong.push(`${sku} on Vinted: ${item?.status}, should be ${shown}`);
  }
  expect(wrong).toEqual([]);
}

async function runPlan(plan: Plan, seed: number): Promise<void> {
  const w = await world();
  try {
    // Faults drawn in order from the run's own seed: the plan (and this seed) reproduce a run.
    const rnd = mulberry32(seed);
    meddle(w.browser, plan, rnd);
    if (plan.window) await knobs(w.emu, { windowMs: 3_000, windowMaxRequests: plan.window });
    const vintedSales = new Map<string, string>(); // transaction id -> SKU
    const tillSold = new Map<string, number>();
    for (const o of plan.ops) {
      if (o.op === 'vinted_sale') {
        const sku = SKUS[o.item]!;
        const r = await ctl(w.emu, '/accounts/seller/sale', { item_id: w.vintedIds.get(sku) });
        // Sold already, or hidden because the till sold it: no buyer can buy it.
        if (r.status === 200) vintedSales.set(String(r.body.transaction_id), sku);
        else expect(r.status, JSON.stringify(r.body)).toBe(409);
      } else if (o.op === 'till_sale') {
        const sku = SKUS[o.item]!;
        // A till sells what it shows in stock.
        if ((held(emus, 'eposnow', w.tillAccount, sku)?.qty ?? 0) <= 0) continue;
        const r = await sale(emus, 'eposnow', w.tillAccount, sku, 1);
        if (r.ok) tillSold.set(sku, (tillSold.get(sku) ?? 0) + 1);
      } else if (o.op === 'drop_socket') {
        if (w.browser.dropSocket()) hit.drops++;
      } else if (o.op === 'throttle') await knobs(w.emu, { throttleNext: o.n });
      else if (o.op === 'fail') await knobs(w.emu, { failNext: o.n, failStatus: o.status });
      else await sleep(o.ms);
      await sleep(50 + Math.floor(rnd() * 250));
    }

    // Vinted's faults off (the last few throttled or failing calls asked for are still answered
    // so: the polls use them up); the extension keeps doubling results and repeating sales, which
    // must not stop anything from settling. It reconnects by itself (its own backoff).
    await knobs(w.emu, { windowMs: DEFAULT_VINTED_KNOBS.windowMs, windowMaxRequests: DEFAULT_VINTED_KNOBS.windowMaxRequests });
    const expectedOnHand = SKUS.length - vintedSales.size - [...tillSold.values()].reduce((a, b) => a + b, 0);
    const onHand = async () => (await q(`select coalesce(sum(on_hand), 0)::int as n from stock_levels where tenant_id = $1`, [w.tenantId]))[0].n as number;
    await eventually(async () => (await onHand()) <= expectedOnHand, 30_000, 'every sale to reach the ledger');
    const settled = async () => {
      await quiescent(h, emus, 30_000);
      await eventually(
        async () => (await q(`select 1 from extension_jobs where tenant_id = $1 and status in ('queued', 'sent')`, [w.tenantId])).length === 0,
        30_000,
        'the extension queue to drain',
      );
      await quiescent(h, emus, 30_000);
    };
    await settled();
    await sleep(2_500); // more polls read the same sales again
    await settled();
    await check(w, vintedSales, tillSold);
    hit.throttled += w.emu.stats.throttled;
    hit.failed += w.emu.stats.failed;
  } finally {
    await stop(w);
  }
}

/** A small seeded generator for the faults drawn while a run goes (which results are doubled, the pauses). */
function mulberry32(a: number): () => number {
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('Vinted through the extension, with faults', () => {
  it('the socket drops while a hide is running on Vinted: the hide finishes and is answered on the next socket', async () => {
    const w = await world();
    try {
      // Every Vinted call takes 1.5 s: the drop lands between the hide's CSRF read and its PUT.
      await knobs(w.emu, { latencyMs: 1_500 });
      const sku = SKUS[0]!;
      expect((await sale(emus, 'eposnow', w.tillAccount, sku, 1)).ok).toBe(true);
      const hide = async () =>
        (await q<{ status: string; error: unknown }>(`select status, error from extension_jobs where tenant_id = $1 and kind = 'update'`, [w.tenantId]))[0];
      await eventually(async () => (await hide())?.status === 'sent', 15_000, 'the hide to be sent to the extension');
      await sleep(600);
      expect(w.browser.dropSocket()).toBe(true);
      await eventually(async () => ['done', 'failed'].includes((await hide())!.status), 20_000, 'the hide to be answered');
      expect(await hide()).toMatchObject({ status: 'done', error: null });
      const item = ((await ctl(w.emu, '/accounts/seller/state')).body.items as Array<{ id: number; status: string }>).find(
        (i) => i.id === w.vintedIds.get(sku),
      );
      expect(item?.status).toBe('hidden');
    } finally {
      await stop(w);
    }
  }, 60_000);

  it(`sales on Vinted and the till under throttling, 5xx, socket drops and repeated answers: exact end state (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(planArb, fc.integer(), async (plan, seed) => runPlan(plan, seed)),
      { numRuns: RUNS, seed: SEED, endOnFailure: true, verbose: true },
    );
    console.log(`Vinted faults over ${RUNS} runs: ${JSON.stringify(hit)}`);
    if (RUNS >= 3) for (const [fault, n] of Object.entries(hit)) expect(n, `${fault} over ${RUNS} runs`).toBeGreaterThan(0);
  }, 110_000);
});
