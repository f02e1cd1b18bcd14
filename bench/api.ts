// `bench api`: the developers' API on its own process (`stockclerk start`, workers on, demo off).
// 1. Single-movement writes: POST /api/v1/adjustments, each with its own Idempotency-Key, from
//    C concurrent clients (closed loop) for S seconds after a 1 s warm-up: writes/s, p50/p99.
// 2. Item search over N items (seeded in batches of 5,000): GET /api/v1/items?q=... one at a time,
//    alternating a SKU prefix (matches 10 items), a whole name (1) and an 8-digit barcode fragment
//    (about 1): p50/p99 of the whole HTTP round trip.
// 3. A read (GET /api/v1/locations) with a session and with an API key, 300 each: what the key's
//    shared rate-limit bucket adds.
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { createItems } from '../src/db/tenants.ts';
import { progress, startBenchEnv } from './env.ts';
import { ms1, percentile } from './stats.ts';

export interface ApiBenchOptions {
  items: number;
  searches: number;
  seconds: number;
  clients: number;
}

export async function benchApi(o: ApiBenchOptions): Promise<Record<string, unknown>> {
  const env = await startBenchEnv({ productProcess: true });
  const http = new Pool(env.sc.url!, { connections: o.clients + 2, pipelining: 1 });
  const call = async (method: string, path: string, token: string | null, body?: unknown, headers: Record<string, string> = {}) => {
    const started = performance.now();
    const res = await http.request({
      method: method as 'GET',
      path: `/api/v1${path}`,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.body.text();
    return { status: res.statusCode, body: text ? JSON.parse(text) : null, ms: performance.now() - started };
  };
  try {
    const reg = await call('POST', '/auth/register', null, { business_name: 'API bench', email: `api${Date.now()}@example.com`, password: 'correct-horse-9' });
    if (reg.status !== 201) throw new Error(`register: ${reg.status} ${JSON.stringify(reg.body)}`);
    const token = reg.body.token as string;
    const tenantId = reg.body.tenant.id as string;
    const loc = reg.body.location.id as string;

    // Items: N, with names of three words and 13-digit barcodes.
    const words = ['oat', 'rye', 'ham', 'brie', 'kale', 'plum', 'fig', 'lime', 'pear', 'soup', 'tart', 'bun', 'cod', 'yam', 'nut', 'tea'];
    const seedStart = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < o.items; i += 5000) {
      const batch = Array.from({ length: Math.min(5000, o.items - i) }, (_, k) => {
        const n = i + k;
        return {
          sku: `SKU-${String(n).padStart(6, '0')}`,
          name: `${words[n % 16]} ${words[(n >> 4) % 16]} ${words[(n >> 8) % 16]} ${n}`,
          barcode: String(5_000_000_000_000 + n),
        };
      });
      ids.push(...(await createItems(env.sc.ctx.db, tenantId, batch)));
    }
    await env.sc.ctx.db.query('analyze items');
    progress(`${o.items} items seeded in ${Date.now() - seedStart} ms`);
    const first = ids[0]!;
    const receipt = await call('POST', '/adjustments', token, { item_id: first, location_id: loc, qty_delta: 1_000_000_000, reason: 'receipt' });
    if (receipt.status !== 201) throw new Error(`receipt: ${receipt.status} ${JSON.stringify(receipt.body)}`);

    // 1. Writes with Idempotency-Key.
    const lat: number[] = [];
    let errors = 0;
    let counting = false;
    let writes = 0;
    const deadline = Date.now() + 1000 + o.seconds * 1000;
    const countFrom = Date.now() + 1000;
    const client = async () => {
      while (Date.now() < deadline) {
        const item = ids[Math.floor(Math.random() * Math.min(ids.length, 1000))]!;
        const r = await call(
          'POST',
          '/adjustments',
          token,
          { item_id: item, location_id: loc, qty_delta: 1, reason: 'adjustment' },
          { 'idempotency-key': randomUUID() },
        );
        if (!counting && Date.now() >= countFrom) counting = true;
        if (!counting) continue;
        if (r.status !== 201) errors++;
        else {
          writes++;
          lat.push(r.ms);
        }
      }
    };
    await Promise.all(Array.from({ length: o.clients }, client));
    const writesPerS = writes / o.seconds;
    progress(`writes: ${Math.round(writesPerS)}/s, p99 ${ms1(percentile(lat, 99))} ms, ${errors} errors`);

    // 2. Search, once the writes' background work (pushes, the stock alert check) has settled.
    await new Promise((r) => setTimeout(r, 3000));
    const queries = Array.from({ length: o.searches }, (_, k) => {
      const n = Math.floor(Math.random() * o.items);
      return k % 3 === 0
        ? `SKU-${String(n).padStart(6, '0')}`.slice(0, 9)
        : k % 3 === 1
          ? `${words[n % 16]} ${words[(n >> 4) % 16]} ${words[(n >> 8) % 16]} ${n}`
          : String(5_000_000_000_000 + n).slice(3, 11);
    });
    const searchMs: number[] = [];
    let searchErrors = 0;
    let found = 0;
    const byKind: number[][] = [[], [], []];
    for (const [k, q] of queries.entries()) {
      const r = await call('GET', `/items?q=${encodeURIComponent(q)}&limit=50`, token);
      if (r.status !== 200) searchErrors++;
      else {
        searchMs.push(r.ms);
        byKind[k % 3]!.push(r.ms);
        if (r.body.data.length > 0) found++;
      }
    }
    // 3. What a key's rate-limit take costs: the same read with a session (no limit) and with an
    //    API key (one shared bucket row per key), alternating, one at a time, within the plan's burst.
    await env.sc.ctx.db.query(`update tenants set plan = 'enterprise' where id = $1`, [tenantId]);
    const created = await call('POST', '/api-keys', token, { name: 'bench', scopes: ['read'] });
    if (created.status !== 201) throw new Error(`api key: ${created.status} ${JSON.stringify(created.body)}`);
    const apiKey = created.body.key as string;
    const viaSession: number[] = [];
    const viaKey: number[] = [];
    for (let k = 0; k < 300; k++) {
      viaSession.push((await call('GET', '/locations', token)).ms);
      const r = await call('GET', '/locations', apiKey);
      if (r.status !== 200) throw new Error(`read with key: ${r.status}`);
      viaKey.push(r.ms);
    }
    return {
      writes_per_s: Math.round(writesPerS),
      write_p50_ms: ms1(percentile(lat, 50)),
      write_p99_ms: ms1(percentile(lat, 99)),
      write_errors: errors,
      idempotency_key: 'a fresh key on every POST',
      clients: o.clients,
      seconds: o.seconds,
      items: o.items,
      searches: o.searches,
      search_p50_ms: ms1(percentile(searchMs, 50)),
      search_p99_ms: ms1(percentile(searchMs, 99)),
      search_p99_ms_by_kind: {
        sku_prefix: ms1(percentile(byKind[0]!, 99)),
        name: ms1(percentile(byKind[1]!, 99)),
        barcode_fragment: ms1(percentile(byKind[2]!, 99)),
      },
      search_target_ms: 20,
      searches_with_results: found,
      search_errors: searchErrors,
      read_session_p50_ms: ms1(percentile(viaSession, 50)),
      read_api_key_p50_ms: ms1(percentile(viaKey, 50)),
      read_api_key_p99_ms: ms1(percentile(viaKey, 99)),
      db: env.db.kind,
    };
  } finally {
    await http.close();
    await env.stop();
  }
}
