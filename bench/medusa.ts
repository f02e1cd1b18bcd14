// `bench medusa`: Medusa v2 (a real server, peers/medusa) beside StockClerk, in one run on one machine.
// (a) Stock writes per second, same client shape for both (undici keep-alive pool, 8 concurrent
//     clients, 1 s warm-up then a fixed window, one phase after the other so they never share the
//     machine):
//     - Medusa 2.21.2, one process, no Redis (local event bus, in-memory locking), the StockClerk
//       subscriber loaded but with no URL (it returns at once): `POST /admin/inventory-items/{id}/
//       location-levels/{location}` setting stocked_quantity, one level per request, bearer token
//       per client, Medusa's default answer (then the same with `?fields=id`, reported beside it);
//     - StockClerk (`stockclerk start` in its own process, workers on, no channels connected):
//       POST /api/v1/adjustments, one movement per request.
// (b) 12 shoppers race for the last 5 units:
//     - Medusa: 12 storefront carts of 1 unit prepared (line, shipping, payment session), then all
//       12 `POST /store/carts/{id}/complete` fired together;
//     - StockClerk: 12 concurrent `POST /api/v1/sales-orders` of 1 unit on an item with 5 on hand
//       (a sales order holds stock through the ledger, all lines or nothing; more than is
//       available is a 409 insufficient_stock: the checkout of StockClerk's own API).
//     oversold = orders accepted beyond the 5 units.
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { completeCart, levelOf, prepareCart, setStocked } from '../src/channels/medusa/dev-client.ts';
import { ensureMedusaInstalled, MEDUSA_ADMIN, startMedusaDev } from '../src/channels/medusa/dev-server.ts';
import { createItems } from '../src/db/tenants.ts';
import { recordMovements } from '../src/ledger/ledger.ts';
import { benchDatabase, progress, sleep, startBenchEnv } from './env.ts';
import { runPhase, type Phase } from './write-phase.ts';

export interface MedusaBenchOptions {
  seconds: number;
  clients: number;
  items: number;
  shoppers: number;
  units: number;
}

async function postJson(pool: Pool, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.body.text();
  return { status: res.statusCode, json: text ? JSON.parse(text) : null };
}

interface Race {
  accepted: number;
  refused: number;
  errors: number;
  oversold: number;
  ms: number;
  after: Record<string, number>;
}

async function medusaPhases(o: MedusaBenchOptions, pgServerUrl: string): Promise<{ writes: Phase; trimmed: Phase; race: Race; boot_ms: number }> {
  const skus = [...Array.from({ length: o.items }, (_, i) => `BENCH-${i + 1}`), 'RACE-1'];
  const m = await startMedusaDev({ pgServerUrl, skus, initialStock: 1000, bootTimeoutMs: 300_000 });
  progress(`Medusa up with ${skus.length} inventory items in ${m.bootMs} ms (${m.url}; template database, migrate, start, fixture)`);
  const pool = new Pool(m.url, { connections: o.clients, pipelining: 1 });
  try {
    // One admin session per client, as separate integrations would have.
    const tokens: string[] = [];
    for (let c = 0; c < o.clients; c++) {
      const r = await postJson(pool, '/auth/user/emailpass', MEDUSA_ADMIN, {});
      if (r.status !== 200 || typeof r.json?.token !== 'string') throw new Error(`Medusa login failed: ${r.status}`);
      tokens.push(r.json.token);
    }
    const items = skus.filter((s) => s !== 'RACE-1').map((s) => m.fixture.variants.get(s)!.inventoryItemId);
    const loc = m.fixture.stockLocationId;
    const write = (query: string) => async (c: number, n: number) => {
      const id = items[(c * 7919 + Math.abs(n) * 31) % items.length]!;
      const res = await postJson(
        pool,
        `/admin/inventory-items/${id}/location-levels/${loc}${query}`,
        { stocked_quantity: 1000 + (Math.abs(n) % 500) * 2 + (n < 0 ? 1 : 0) },
        { authorization: `Bearer ${tokens[c]}` },
      );
      if (res.status !== 200) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.json).slice(0, 200)}`);
    };
    // The headline: the call as documented, with Medusa's default answer (the inventory item),
    // as /work/shared/medusa.md measured it. Then the same write asking only for the id back
    // (`?fields=id`, what StockClerk's adapter sends), reported beside it.
    const writes = await runPhase('Medusa POST /admin/inventory-items/{id}/location-levels/{loc} (1 level / request)', o, write(''));
    const trimmed = await runPhase('Medusa, the same with ?fields=id', o, write('?fields=id'));

    // (b) The last units: RACE-1 down to o.units, then every shopper's cart completed at once.
    const race = m.fixture.variants.get('RACE-1')!;
    await setStocked(m.admin, race.inventoryItemId, loc, o.units);
    // Prepared side by side (they are independent); only the completions race.
    const carts = await Promise.all(Array.from({ length: o.shoppers }, () => prepareCart(m.url, m.fixture, race.variantId, 1)));
    progress(`Medusa: ${carts.length} carts prepared for ${o.units} units; completing them together`);
    const t0 = performance.now();
    const results = await Promise.all(
      carts.map((id) =>
        completeCart(m.url, m.fixture, id)
          .then((r) => (r ? 'order' : 'refused'))
          .catch(() => 'error'),
      ),
    );
    const ms = Math.round(performance.now() - t0);
    const accepted = results.filter((r) => r === 'order').length;
    const after = await levelOf(m.admin, race.inventoryItemId, loc);
    const r: Race = {
      accepted,
      refused: results.filter((r) => r === 'refused').length,
      errors: results.filter((r) => r === 'error').length,
      oversold: Math.max(0, accepted - o.units),
      ms,
      after: { ...after },
    };
    progress(
      `Medusa race: ${accepted} orders for ${o.units} units, ${r.refused} refused, ${r.errors} errors in ${ms} ms; level after ${JSON.stringify(after)}`,
    );
    return { writes, trimmed, race: r, boot_ms: m.bootMs };
  } finally {
    await pool.close();
    await m.stop();
  }
}

async function stockclerkPhases(o: MedusaBenchOptions): Promise<{ writes: Phase; race: Race; db: string }> {
  const env = await startBenchEnv({ productProcess: true });
  const pool = new Pool(env.sc.url!, { connections: Math.max(o.clients, o.shoppers), pipelining: 1 });
  try {
    const reg = await postJson(
      pool,
      '/api/v1/auth/register',
      { business_name: 'Bench Medusa', email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: 'correct-horse-9' },
      {},
    );
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.json)}`);
    const tenantId: string = reg.json.tenant.id;
    const locationId: string = reg.json.location.id;
    const auth = { authorization: `Bearer ${reg.json.token}` };
    const itemIds = await createItems(env.sc.ctx.db, tenantId, [
      ...Array.from({ length: o.items }, (_, i) => ({ sku: `BENCH-${i + 1}`, name: `Item ${i + 1}` })),
      { sku: 'RACE-1', name: 'The last units' },
    ]);
    const raceItem = itemIds.pop()!;
    await recordMovements(env.sc.ctx.db, tenantId, [
      ...itemIds.map((itemId) => ({ itemId, locationId, qtyDelta: 1_000_000, reason: 'receipt' as const })),
      { itemId: raceItem, locationId, qtyDelta: o.units, reason: 'receipt' as const },
    ]);
    const writes = await runPhase('StockClerk POST /api/v1/adjustments (1 movement / request)', o, async (c, n) => {
      const itemId = itemIds[(c * 7919 + Math.abs(n) * 31) % itemIds.length]!;
      const res = await postJson(pool, '/api/v1/adjustments', { item_id: itemId, location_id: locationId, qty_delta: -1, reason: 'adjustment' }, auth);
      if (res.status !== 201) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.json)}`);
    });

    const t0 = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: o.shoppers }, (_, i) =>
        postJson(pool, '/api/v1/sales-orders', { location_id: locationId, reference: `shopper-${i + 1}`, lines: [{ item_id: raceItem, qty: 1 }] }, auth).then(
          (r) => r.status,
          () => 0,
        ),
      ),
    );
    const ms = Math.round(performance.now() - t0);
    const accepted = statuses.filter((s) => s === 201).length;
    const { rows } = await env.sc.ctx.db.query<{ on_hand: number; reserved: number }>(
      `select on_hand, reserved from stock_levels where tenant_id = $1 and item_id = $2 and location_id = $3`,
      [tenantId, raceItem, locationId],
    );
    const r: Race = {
      accepted,
      refused: statuses.filter((s) => s === 409).length,
      errors: statuses.filter((s) => s !== 201 && s !== 409).length,
      oversold: Math.max(0, accepted - o.units),
      ms,
      after: { ...rows[0]! },
    };
    progress(
      `StockClerk race: ${accepted} sales orders for ${o.units} units, ${r.refused} refused (409), ${r.errors} errors in ${ms} ms; level after ${JSON.stringify(rows[0])}`,
    );
    return { writes, race: r, db: env.db.kind };
  } finally {
    await pool.close();
    await env.stop();
  }
}

export async function benchMedusa(o: MedusaBenchOptions): Promise<Record<string, unknown>> {
  // A fresh checkout has no peers/medusa/node_modules (`npm ci` installs the root only).
  await ensureMedusaInstalled(progress);
  // One side after the other, each with a Postgres of its own and the machine to itself.
  const mdb = await benchDatabase();
  let m: Awaited<ReturnType<typeof medusaPhases>>;
  try {
    m = await medusaPhases(o, mdb.url);
  } finally {
    await mdb.drop();
  }
  await sleep(1000);
  const sc = await stockclerkPhases(o);
  return {
    medusa_writes_per_s: m.writes.writes_per_s,
    stockclerk_writes_per_s: sc.writes.writes_per_s,
    ratio: Math.round((sc.writes.writes_per_s / Math.max(0.001, m.writes.writes_per_s)) * 10) / 10,
    medusa_oversold: m.race.oversold,
    stockclerk_oversold: sc.race.oversold,
    clients: o.clients,
    seconds_per_phase: o.seconds,
    items: o.items,
    shoppers: o.shoppers,
    units: o.units,
    medusa: {
      config:
        'Medusa 2.21.2, one process (medusa start), no Redis: local event bus, in-memory cache/workflows/locking; POST /admin/inventory-items/{id}/location-levels/{loc} stocked_quantity, 1 level per request, default response (fields_id: ?fields=id), bearer token per client; StockClerk subscriber loaded without a URL',
      p50_ms: m.writes.p50_ms,
      p99_ms: m.writes.p99_ms,
      errors: m.writes.errors,
      fields_id: { writes_per_s: m.trimmed.writes_per_s, p50_ms: m.trimmed.p50_ms, p99_ms: m.trimmed.p99_ms, errors: m.trimmed.errors },
      boot_ms: m.boot_ms,
      race: m.race,
    },
    stockclerk: {
      config:
        'stockclerk start own process (API + workers), JWT auth, POST /api/v1/adjustments (1 movement per request); race: POST /api/v1/sales-orders of 1 unit (409 insufficient_stock past the available)',
      p50_ms: sc.writes.p50_ms,
      p99_ms: sc.writes.p99_ms,
      errors: sc.writes.errors,
      race: sc.race,
    },
    db: sc.db,
  };
}
