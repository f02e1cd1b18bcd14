// A bulk publish stays inside both marketplaces' documented budgets (issue 13): 30 products (some
// with variants, each with an image and stock) bulk-published to the eBay and Etsy emulators,
// which enforce their rate limits (Etsy: 10 calls/s per seller; eBay: its per-seller bucket and
// daily call limits) and count every 429 they answer. Zero 429s, every publication done. The
// publishing job draws each request from the channel's token bucket (takeWithin in
// src/engine/publishing.ts, at PUBLISH_PRIORITY's bulk reserve): without it the job's requests go
// out back to back, far above Etsy's 10/s, and this test sees 429s. A till sale in the middle of
// the job still reaches both marketplaces: the reserve leaves room for stock pushes.
// The 500-product run is `npm run bench -- publish` (BENCHMARKS.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectEmulatedChannel, startEmulators, type ConnectedChannel, type EmulatorSet } from '../../src/demo/emulated.ts';
import { swatchPng } from '../../src/demo/swatch.ts';
import { recordMovements } from '../../src/ledger/ledger.ts';
import { client } from '../api/support.ts';
import { eventually, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { held } from '../helpers/tenant.ts';

const PRODUCTS = 30;
const STOCK = 12;
const EBAY_SETTINGS = {
  category_id: '11450',
  merchant_location_key: 'loc-1',
  fulfillment_policy_id: 'ship-1',
  payment_policy_id: 'pay-1',
  return_policy_id: 'ret-1',
};

let h: Harness;
let emus: EmulatorSet;
let call: ReturnType<typeof client>;
let tenantId: string;
const products: Array<{ id: string; skus: string[] }> = [];
const ch = {} as Record<'ebay' | 'etsy' | 'eposnow', ConnectedChannel>;

beforeAll(async () => {
  h = await startHarness();
  emus = await startEmulators();
  for (const type of ['ebay', 'etsy'] as const) expect(emus[type].knobs.enforceRateLimit).toBe(true);
  const t = await registerTenant(h.url, 'Bulk budget');
  tenantId = t.tenantId;
  call = client(h.url, t.token);
  const items: string[] = [];
  for (let i = 0; i < PRODUCTS; i++) {
    const sku = `BB-${i}`;
    const multi = i % 5 === 0;
    const made = await call('POST', '/products', {
      title: `Budget product ${i}`,
      description: 'Bulk publishing within the budget.',
      price_minor: 900 + i,
      ...(multi
        ? { options: [{ name: 'Size', values: ['S', 'M', 'L'] }], variants: ['S', 'M', 'L'].map((s) => ({ sku: `${sku}-${s}`, option_values: { Size: s } })) }
        : { variants: [{ sku }] }),
    });
    expect(made.status, JSON.stringify(made.body)).toBe(201);
    const vs = made.body.variants as Array<{ sku: string; item_id: string }>;
    products.push({ id: made.body.id, skus: vs.map((v) => v.sku) });
    items.push(...vs.map((v) => v.item_id));
    const img = await fetch(`${h.url}/api/v1/products/${made.body.id}/images`, {
      method: 'POST',
      headers: { 'content-type': 'image/png', authorization: `Bearer ${t.token}` },
      body: swatchPng([i * 8, 100, 150], [240, 240, 240]),
    });
    expect(img.status).toBe(201);
  }
  await recordMovements(
    h.sc.ctx.db,
    tenantId,
    items.map((itemId) => ({ itemId, locationId: t.locationId, qtyDelta: STOCK, reason: 'receipt' as const })),
  );
  for (const type of ['ebay', 'etsy', 'eposnow'] as const) {
    ch[type] = await connectEmulatedChannel(h.sc.ctx, {
      tenantId,
      type,
      emulator: emus[type],
      name: type,
      stockclerkUrl: h.url,
      items: type === 'eposnow' ? products.flatMap((p) => p.skus).map((sku) => ({ sku, name: sku, qty: STOCK })) : [],
      locationIds: [t.locationId],
      settings: type === 'ebay' ? EBAY_SETTINGS : {},
    });
  }
}, 60_000);

afterAll(async () => {
  await emus?.close();
  await h?.stop();
});

describe('bulk publishing within the marketplaces budgets', () => {
  it('30 products to eBay and Etsy: every publication done, zero 429s, and a sale meanwhile still reaches both', async () => {
    const before = { ebay: { ...emus.ebay.stats }, etsy: { ...emus.etsy.stats } };
    // Calls each emulator answered per whole second: Etsy's limit is per second.
    const peaks = { ebay: 0, etsy: 0 };
    let last = { ebay: before.ebay.calls, etsy: before.etsy.calls };
    const sampler = setInterval(() => {
      for (const m of ['ebay', 'etsy'] as const) peaks[m] = Math.max(peaks[m], emus[m].stats.calls - last[m]);
      last = { ebay: emus.ebay.stats.calls, etsy: emus.etsy.stats.calls };
    }, 1000);
    const started = Date.now();
    const job = await call('POST', '/publications/bulk', { product_ids: products.map((p) => p.id), channel_ids: [ch.ebay.channelId, ch.etsy.channelId] });
    expect(job.status, JSON.stringify(job.body)).toBe(202);
    const status = async () => (await call('GET', `/publication-jobs/${job.body.id}`)).body as { status: string; done: number; failed: number; total: number };

    // Once the first product is live on both, sell it on the till while the job runs on.
    const first = products[1]!; // single-variant
    await eventually(
      async () => (await call('GET', `/publications?product_id=${first.id}`)).body.data.filter((p: { state: string }) => p.state === 'live').length === 2,
      60_000,
      'the first product live on both',
    );
    const sale = await fetch(`${emus.eposnow.url}/_control/accounts/${ch.eposnow.accountId}/sale`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sku: first.skus[0], qty: 2 }),
    });
    expect(sale.status).toBe(200);
    const soldAt = Date.now();
    await eventually(
      () =>
        held(emus, 'ebay', ch.ebay.accountId, first.skus[0]!)?.qty === STOCK - 2 && held(emus, 'etsy', ch.etsy.accountId, first.skus[0]!)?.qty === STOCK - 2,
      15_000,
      'the till sale on eBay and Etsy',
    );
    const pushMs = Date.now() - soldAt;
    const during = await status();

    await eventually(async () => (await status()).status !== 'running', 90_000, 'the bulk job to finish');
    clearInterval(sampler);
    const end = await status();
    const stats = {
      ebay: { calls: emus.ebay.stats.calls - before.ebay.calls, throttled: emus.ebay.stats.throttled - before.ebay.throttled, peak_per_s: peaks.ebay },
      etsy: { calls: emus.etsy.stats.calls - before.etsy.calls, throttled: emus.etsy.stats.throttled - before.etsy.throttled, peak_per_s: peaks.etsy },
      wall_ms: Date.now() - started,
      sale_pushed_ms: pushMs,
      job_when_pushed: during,
    };
    expect(end, JSON.stringify(stats)).toMatchObject({ status: 'done', done: PRODUCTS * 2, failed: 0, total: PRODUCTS * 2 });
    // The point: inside both budgets, so neither platform ever answered 429.
    expect([stats.ebay.throttled, stats.etsy.throttled], JSON.stringify(stats)).toEqual([0, 0]);
    // The job really needed pacing: more Etsy calls than a second's allowance, and none of its seconds above it.
    expect(stats.etsy.calls, JSON.stringify(stats)).toBeGreaterThan(100);
    expect(stats.etsy.peak_per_s, JSON.stringify(stats)).toBeLessThanOrEqual(10);
    for (const p of products) {
      for (const sku of p.skus) {
        const want = sku === first.skus[0] ? STOCK - 2 : STOCK;
        expect([held(emus, 'ebay', ch.ebay.accountId, sku)?.qty, held(emus, 'etsy', ch.etsy.accountId, sku)?.qty], sku).toEqual([want, want]);
      }
    }
  }, 150_000);
});
