// TEMPORARY profiling script (deleted before hand-off).
import { withTx } from '../src/db/pool.ts';
import { recordMovements } from '../src/ledger/ledger.ts';
import { addJobs, notifyTenant } from '../src/db/jobs.ts';
import { pushJobs } from '../src/ledger/ledger.ts';
import { progress, startBenchEnv } from './env.ts';
import fs from 'node:fs';

const src = fs.readFileSync(new URL('../src/ledger/ledger.ts', import.meta.url), 'utf8');
const APPLY_SQL = src.slice(src.indexOf('const APPLY_SQL = `') + 19, src.indexOf('`;', src.indexOf('const APPLY_SQL')));
const env = await startBenchEnv({ api: false, worker: false, poolSize: 10 });
const db = env.sc.ctx.db;
// reuse seed from ledger.ts via dynamic import trick: copy minimal
const mod = await import('./ledger.ts');
void mod;
const { createItems, createTenant } = await import('../src/db/tenants.ts');
const { newId } = await import('../src/domain/ids.ts');
const t = await withTx(db, (tx) => createTenant(tx, { name: 'p' }));
const itemIds = await createItems(db, t.tenantId, Array.from({ length: 1000 }, (_, i) => ({ sku: `S${i}`, name: `I${i}` })));
const chans: string[] = [];
for (const type of ['eposnow', 'wix', 'deliveroo']) {
  const channelId = newId('ch'); chans.push(channelId);
  await db.query(`insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1,$2,$3,$4,$5,$6,$7)`, [t.tenantId, channelId, type, type, 'http://x', env.sc.ctx.sealer.seal({}), { location_ids: [t.locationId] }]);
  await db.query(`insert into listings (tenant_id, id, channel_id, item_id, external_id, external_sku, state, dirty_seq, pushed_seq)
    select $1, x.id, $2, x.item_id, x.e, x.e, 'in_sync', 1, 1 from jsonb_to_recordset($3::jsonb) as x(id text, item_id text, e text)`, [t.tenantId, channelId, JSON.stringify(itemIds.map((id, i) => ({ id: newId('lst'), item_id: id, e: `${type}${i}` })))]);
}
await recordMovements(db, t.tenantId, itemIds.map((itemId) => ({ itemId, locationId: t.locationId, qtyDelta: 1e6, reason: 'receipt' as const })));
const rows = (n: number) => JSON.stringify(Array.from({ length: n }, () => ({ item_id: itemIds[Math.floor(Math.random() * 1000)], location_id: t.locationId, qty_delta: -1, reason: 'sale', source_channel_id: null, source_event_id: 'b', source_user_id: null, note: null })));
async function phase(name: string, conc: number, per: number, op: () => Promise<unknown>) {
  const end = performance.now() + 3000; let calls = 0; const s = performance.now();
  await Promise.all(Array.from({ length: conc }, async () => { while (performance.now() < end) { await op(); calls++; } }));
  const el = (performance.now() - s) / 1000;
  progress(`${name} c=${conc}: ${Math.round(calls * per / el)}/s, ${(el * 1000 * conc / calls).toFixed(1)} ms/call`);
}
const argsN = Number(process.argv[2] ?? 100);
if (process.argv[3]) await db.query('vacuum analyze');
const RAW = `with input as (select * from jsonb_to_recordset($2::jsonb) as x(item_id text, location_id text, qty_delta int, reason text, source_channel_id text, source_event_id text, source_user_id text, note text)), agg as (select item_id, location_id, sum(qty_delta)::int as delta from input group by 1,2), lv as (insert into stock_levels as l (tenant_id, item_id, location_id, on_hand, reserved, updated_at) select $1, item_id, location_id, delta, 0, now() from agg order by item_id, location_id on conflict (tenant_id, item_id, location_id) do update set on_hand = l.on_hand + excluded.on_hand, updated_at = excluded.updated_at returning 1) insert into stock_movements (tenant_id, item_id, location_id, qty_delta, reason, source_channel_id, source_event_id, source_user_id, note) select $1, item_id, location_id, qty_delta, reason, source_channel_id, source_event_id, source_user_id, note from input`;
for (const conc of [4]) {
  await phase('raw', conc, argsN, () => withTx(db, (tx) => tx.query(RAW, [t.tenantId, rows(argsN)])));
  await phase('apply only', conc, argsN, () => withTx(db, (tx) => tx.query(APPLY_SQL, [t.tenantId, rows(argsN)])));
  await phase('apply+jobs', conc, argsN, () => withTx(db, async (tx) => { const r = await tx.query(APPLY_SQL, [t.tenantId, rows(argsN)]); await addJobs(tx, [...pushJobs(t.tenantId, r.rows[0].channel_ids), { task: 'alerts_stock', payload: { tenantId: t.tenantId }, key: `alerts-stock:${t.tenantId}`, runAt: new Date(Date.now() + 250) }]); }));
  await phase('apply+notify', conc, argsN, () => withTx(db, async (tx) => { const r = await tx.query(APPLY_SQL, [t.tenantId, rows(argsN)]); await notifyTenant(tx, t.tenantId, 'stock.changed', { levels: r.rows[0].levels }); }));
  await phase('recordMovements', conc, argsN, () => recordMovements(db, t.tenantId, JSON.parse(rows(argsN)).map((r: any) => ({ itemId: r.item_id, locationId: r.location_id, qtyDelta: -1, reason: 'sale' }))));
}
const NODIRTY = APPLY_SQL.replace(/, dirty as \([\s\S]*?returning channel_id\n\)/, '').replace(/coalesce\(\(select array_agg[\s\S]*?'\{\}'\)/, "'{}'::text[]");
for (const conc of [4]) {
  await phase('no-listing-update (raw + levels json) +jobs+notify', conc, argsN, () => withTx(db, async (tx) => { await tx.query(NODIRTY, [t.tenantId, rows(argsN)]); await addJobs(tx, [...pushJobs(t.tenantId, chans), { task: 'alerts_stock', payload: { tenantId: t.tenantId }, key: `alerts-stock:${t.tenantId}`, runAt: new Date(Date.now() + 250) }]); await notifyTenant(tx, t.tenantId, 'stock.changed', { levels: [] }); }));
}
await db.query('drop index listings_dirty_idx');
await db.query('alter table listings set (fillfactor = 50)');
await db.query('vacuum full analyze listings');
for (const conc of [1, 4]) {
  await phase('HOT listings: apply only', conc, argsN, () => withTx(db, (tx) => tx.query(APPLY_SQL, [t.tenantId, rows(argsN)])));
  await phase('HOT listings: recordMovements', conc, argsN, () => recordMovements(db, t.tenantId, JSON.parse(rows(argsN)).map((r: any) => ({ itemId: r.item_id, locationId: r.location_id, qtyDelta: -1, reason: 'sale' }))));
}
const st = await db.query(`select n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where relname = 'listings'`);
console.error(JSON.stringify(st.rows));
const ex = await db.query('explain (analyze, buffers) ' + APPLY_SQL, [t.tenantId, rows(argsN)]);
console.error(ex.rows.map((r: any) => r['QUERY PLAN']).join('\n'));
await env.stop();
process.exit(0);
