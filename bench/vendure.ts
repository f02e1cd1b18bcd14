// `bench vendure`: stock writes per second, side by side, in one run on one machine:
// - Vendure 3.7 (real server, child process, SEARCH_BUFFER=1 i.e. DefaultSearchPlugin
//   bufferUpdates:true, job queue in-process, no StockClerk plugin): `updateProductVariants`
//   setting one variant's stockOnHand per request through its Admin API;
// - StockClerk (`stockclerk start` in its own process, workers on, no channels connected):
//   POST /api/v1/adjustments, one movement per request.
// Same client for both (undici keep-alive pool), 8 concurrent clients each, a fixed time window
// after a short warm-up, one phase after the other so they never share the machine. Both write to
// the same PostgreSQL server (databases of their own).
import { randomBytes } from 'node:crypto';
import { Pool } from 'undici';
import { startVendureDev } from '../src/channels/vendure/dev-server.ts';
import { createItems } from '../src/db/tenants.ts';
import { recordMovements } from '../src/ledger/ledger.ts';
import { benchDatabase, progress, sleep, startBenchEnv } from './env.ts';
import { runPhase, type Phase } from './write-phase.ts';

export interface VendureBenchOptions {
  seconds: number;
  clients: number;
  variants: number;
}

async function postJson(
  pool: Pool,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
  const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.statusCode, headers: res.headers, json: await res.body.json() };
}

async function vendurePhase(o: VendureBenchOptions, pgServerUrl: string): Promise<Phase & { boot_ms: number }> {
  const t0 = Date.now();
  const v = await startVendureDev({ pgServerUrl, variants: o.variants, initialStock: 1000, searchBuffer: true, bootTimeoutMs: 300_000 });
  const bootMs = Date.now() - t0;
  progress(`Vendure up with ${o.variants} variants in ${bootMs} ms (${v.url}, SEARCH_BUFFER=1)`);
  const pool = new Pool(v.url, { connections: o.clients, pipelining: 1 });
  try {
    // One admin session per client, as 8 separate integrations would have.
    const tokens: string[] = [];
    for (let c = 0; c < o.clients; c++) {
      const r = await postJson(
        pool,
        '/admin-api',
        {
          query: `mutation($u:String!,$p:String!){ login(username:$u,password:$p){ __typename } }`,
          variables: { u: v.superadmin.username, p: v.superadmin.password },
        },
        {},
      );
      const tok = r.headers['vendure-auth-token'];
      if (typeof tok !== 'string') throw new Error(`Vendure login failed: ${JSON.stringify(r.json)}`);
      tokens.push(tok);
    }
    const set = `mutation($id:ID!,$n:Int!){ updateProductVariants(input:[{ id:$id, stockOnHand:$n }]){ id } }`;
    const r = await runPhase('Vendure updateProductVariants (1 variant / request)', o, async (c, n) => {
      const id = String(1 + ((c * 7919 + Math.abs(n) * 31) % o.variants));
      // A value that differs from the last one written, so Vendure always records a change.
      const res = await postJson(
        pool,
        '/admin-api',
        { query: set, variables: { id, n: 1000 + (Math.abs(n) % 500) * 2 + (n < 0 ? 1 : 0) } },
        { authorization: `Bearer ${tokens[c]}` },
      );
      if (res.status !== 200 || res.json.errors) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.json.errors ?? '')}`);
    });
    return { ...r, boot_ms: bootMs };
  } finally {
    await pool.close();
    await v.stop();
  }
}

async function stockclerkPhase(o: VendureBenchOptions): Promise<Phase & { db: string }> {
  const env = await startBenchEnv({ productProcess: true });
  const pool = new Pool(env.sc.url!, { connections: o.clients, pipelining: 1 });
  try {
    const reg = await postJson(
      pool,
      '/api/v1/auth/register',
      { business_name: 'Bench Vendure', email: `bench-${randomBytes(4).toString('hex')}@example.com`, password: 'correct-horse-9' },
      {},
    );
    if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${JSON.stringify(reg.json)}`);
    const tenantId: string = reg.json.tenant.id;
    const locationId: string = reg.json.location.id;
    const auth = { authorization: `Bearer ${reg.json.token}` };
    const itemIds = await createItems(
      env.sc.ctx.db,
      tenantId,
      Array.from({ length: o.variants }, (_, i) => ({ sku: `SKU-${i}`, name: `Item ${i}` })),
    );
    await recordMovements(
      env.sc.ctx.db,
      tenantId,
      itemIds.map((itemId) => ({ itemId, locationId, qtyDelta: 1_000_000, reason: 'receipt' as const })),
    );
    const r = await runPhase('StockClerk POST /api/v1/adjustments (1 movement / request)', o, async (c, n) => {
      const itemId = itemIds[(c * 7919 + Math.abs(n) * 31) % itemIds.length]!;
      const res = await postJson(pool, '/api/v1/adjustments', { item_id: itemId, location_id: locationId, qty_delta: -1, reason: 'adjustment' }, auth);
      if (res.status !== 201) throw new Error(`HTTP ${res.status} ${JSON.stringify(res.json)}`);
    });
    // Every accepted write is in the ledger, and the ledger holds.
    const { rows } = await env.sc.ctx.db.query<{ bad: number; moves: number }>(
      `select (select count(*)::int from stock_levels l
               where l.tenant_id = $1 and l.on_hand <> (select coalesce(sum(m.qty_delta), 0) from stock_movements m
                 where m.tenant_id = l.tenant_id and m.item_id = l.item_id and m.location_id = l.location_id)) as bad,
              (select count(*)::int from stock_movements where tenant_id = $1 and reason = 'adjustment') as moves`,
      [tenantId],
    );
    if (rows[0]!.bad !== 0) throw new Error(`${rows[0]!.bad} levels disagree with their movements`);
    progress(`ledger holds: ${rows[0]!.moves} adjustment movements recorded (warm-up included)`);
    return { ...r, db: env.db.kind };
  } finally {
    await pool.close();
    await env.stop();
  }
}

export async function benchVendure(o: VendureBenchOptions): Promise<Record<string, unknown>> {
  // One phase after the other, each with a Postgres of its own and the machine to itself.
  const vdb = await benchDatabase();
  let v: Phase & { boot_ms: number };
  try {
    v = await vendurePhase(o, vdb.url);
  } finally {
    await vdb.drop();
  }
  await sleep(1000);
  const sc = await stockclerkPhase(o);
  return {
    vendure_writes_per_s: v.writes_per_s,
    stockclerk_writes_per_s: sc.writes_per_s,
    ratio: Math.round((sc.writes_per_s / Math.max(0.001, v.writes_per_s)) * 10) / 10,
    clients: o.clients,
    seconds_per_phase: o.seconds,
    variants: o.variants,
    vendure: {
      config:
        'Vendure 3.7.3 own process, SEARCH_BUFFER=1 (DefaultSearchPlugin bufferUpdates:true), DefaultJobQueuePlugin started in-process, updateProductVariants stockOnHand, 1 variant per request',
      p50_ms: v.p50_ms,
      p99_ms: v.p99_ms,
      errors: v.errors,
      boot_ms: v.boot_ms,
    },
    stockclerk: {
      config: 'stockclerk start own process (API + workers), JWT auth, POST /api/v1/adjustments, 1 movement per request, no channels connected',
      p50_ms: sc.p50_ms,
      p99_ms: sc.p99_ms,
      errors: sc.errors,
    },
    db: sc.db,
  };
}
