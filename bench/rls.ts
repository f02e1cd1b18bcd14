// `bench rls`: what row-level security costs per transaction, measured in one process on one
// database so the machine's noise hits both sides alike: the same work on the system path (withTx,
// or an autocommit read) and on the tenant path (tenantTx: as stockclerk_app under the policies),
// serial, in alternating blocks, each side on a pool of its own (as a connection that switches roles
// re-plans its named statements). Medians of the blocks' mean milliseconds per operation.
// Fixture as `bench ledger` (1,000 items listed on 3 channels) plus 30,000 items to search.
import { createPool, withTx, type Db } from '../src/db/pool.ts';
import { itemMatches } from '../src/db/item-search.ts';
import { tenantTx } from '../src/db/tenant-tx.ts';
import { createItems, createTenant } from '../src/db/tenants.ts';
import { newId } from '../src/domain/ids.ts';
import { applyMovements, recordMovements, type MovementInput } from '../src/ledger/ledger.ts';
import { progress, startBenchEnv } from './env.ts';

const ITEMS = 1_000;
const SEARCH_ITEMS = 30_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r3 = (v: number) => Math.round(v * 1000) / 1000;

/** Alternating blocks of `per` calls (system first on even blocks, tenant first on odd ones). */
async function ab(name: string, blocks: number, per: number, system: () => Promise<unknown>, tenant: () => Promise<unknown>) {
  const a: number[] = [];
  const b: number[] = [];
  for (let k = 0; k < 5; k++) {
    await system();
    await tenant();
  }
  for (let i = 0; i < blocks; i++) {
    const order: Array<[() => Promise<unknown>, number[]]> = [
      [system, a],
      [tenant, b],
    ];
    if (i % 2) order.reverse();
    for (const [f, out] of order) {
      const t0 = performance.now();
      for (let j = 0; j < per; j++) await f();
      out.push((performance.now() - t0) / per);
    }
  }
  const sys = median(a);
  const rls = median(b);
  const r = { system_ms: r3(sys), rls_ms: r3(rls), extra_ms: r3(rls - sys), cost_pct: Math.round(((rls - sys) / sys) * 1000) / 10 };
  progress(`${name}: ${JSON.stringify(r)}`);
  return r;
}

async function seed(db: Db) {
  const t = await withTx(db, (tx) => createTenant(tx, { name: 'Bench RLS' }));
  const itemIds = await createItems(
    db,
    t.tenantId,
    Array.from({ length: ITEMS }, (_, i) => ({ sku: `SKU-${i}`, name: `Item ${i}` })),
  );
  for (const type of ['eposnow', 'wix', 'deliveroo']) {
    const channelId = newId('ch');
    await db.query(
      `insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, $3, $3, 'http://127.0.0.1:9', 'x', $4)`,
      [t.tenantId, channelId, type, { location_ids: [t.locationId] }],
    );
    await db.query(
      `insert into listings (tenant_id, id, channel_id, item_id, external_id, external_sku, name, state, dirty_seq, pushed_seq)
       select $1, 'lst_' || md5(x || $2), $2, x, x, x, x, 'in_sync', 1, 1 from unnest($3::text[]) x`,
      [t.tenantId, channelId, itemIds],
    );
  }
  await recordMovements(
    db,
    t.tenantId,
    itemIds.map((itemId) => ({ itemId, locationId: t.locationId, qtyDelta: 1_000_000, reason: 'receipt' as const })),
  );
  const s = await withTx(db, (tx) => createTenant(tx, { name: 'Bench RLS search' }));
  for (let i = 0; i < SEARCH_ITEMS; i += 5_000) {
    await createItems(
      db,
      s.tenantId,
      Array.from({ length: 5_000 }, (_, k) => ({ sku: `S-${i + k}`, name: `oat rye ${i + k}`, barcode: String(5_000_000_000_000 + i + k) })),
    );
  }
  await db.query('vacuum analyze');
  return { tenantId: t.tenantId, locationId: t.locationId, itemIds, searchTenantId: s.tenantId };
}

export async function benchRls(): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ api: false, worker: false, poolSize: 4 });
  const sysDb = createPool(env.db.url, 4);
  const rlsDb = createPool(env.db.url, 4);
  try {
    const f = await seed(env.sc.ctx.db);
    progress(`seeded: ${ITEMS} items on 3 channels, and ${SEARCH_ITEMS} items to search`);
    const mv = (n: number): MovementInput[] =>
      Array.from({ length: n }, () => ({
        itemId: f.itemIds[Math.floor(Math.random() * ITEMS)]!,
        locationId: f.locationId,
        qtyDelta: -1,
        reason: 'sale' as const,
      }));
    const ledger = (n: number) => () => tenantTx(rlsDb, f.tenantId, (tx) => applyMovements(tx, f.tenantId, mv(n)));
    const read = `select id, name from locations where tenant_id = $1 order by id limit 51`;
    const search = `select id from items i where tenant_id = $1 and ${itemMatches('i', '$2')} order by id limit 51`;
    const fragment = () => `%${String(5_000_000_000_000 + Math.floor(Math.random() * SEARCH_ITEMS)).slice(3, 11)}%`;
    return {
      empty_transaction: await ab(
        'empty transaction',
        12,
        300,
        () => withTx(sysDb, async () => {}),
        () => tenantTx(rlsDb, f.tenantId, async () => {}),
      ),
      ledger_1_movement: await ab('ledger, 1 movement per transaction', 16, 200, () => recordMovements(sysDb, f.tenantId, mv(1)), ledger(1)),
      ledger_100_movements: await ab('ledger, 100 movements per transaction', 20, 20, () => recordMovements(sysDb, f.tenantId, mv(100)), ledger(100)),
      read_autocommit_vs_own_tenant_tx: await ab(
        'a read (locations list): autocommit vs a tenantTx of its own',
        12,
        300,
        () => sysDb.query(read, [f.tenantId]),
        () => tenantTx(rlsDb, f.tenantId, (tx) => tx.query(read, [f.tenantId])),
      ),
      item_search_30k: await ab(
        'item search, 8-digit barcode fragment over 30,000 items',
        6,
        20,
        () => sysDb.query(search, [f.searchTenantId, fragment()]),
        () => tenantTx(rlsDb, f.searchTenantId, (tx) => tx.query(search, [f.searchTenantId, fragment()])),
      ),
      serial: true,
      db: env.db.kind,
    };
  } finally {
    await sysDb.end();
    await rlsDb.end();
    await env.stop();
  }
}
