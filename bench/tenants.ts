// Tenants with emulated channels, connected the way a merchant connects them
// (connectEmulatedChannel: sealed credentials, webhooks pointed at StockClerk, listings imported
// through the real adapter and matched by SKU), with their opening stock in the ledger.
import { Pool } from 'undici';
import type { EmulatedChannelType as ChannelType } from '../src/channels/registry.ts';
import { withTx } from '../src/db/pool.ts';
import { createItems, createTenant } from '../src/db/tenants.ts';
import { connectEmulatedChannel, startEmulators, type AnyEmulator, type EmulatedAccount, type EmulatorSet } from '../src/demo/emulated.ts';
import type { AppContext } from '../src/engine/context.ts';
import { recordMovements } from '../src/ledger/ledger.ts';
import { progress, startBenchEnv, type BenchEnv } from './env.ts';

export interface BenchChannel {
  type: ChannelType;
  channelId: string;
  accountId: string;
  /** The secrets the emulator account signs webhooks with (what connectEmulatedChannel gave the channel). */
  account: EmulatedAccount;
  emulator: AnyEmulator;
  /** sku -> the platform's external id for that item. */
  externalBySku: Map<string, string>;
}

export interface BenchTenant {
  index: number;
  tenantId: string;
  locationId: string;
  items: Array<{ id: string; sku: string }>;
  channels: BenchChannel[];
}

export async function createBenchTenant(
  ctx: AppContext,
  stockclerkUrl: string,
  emulators: EmulatorSet,
  input: { index: number; items: number; qty: number; types: ChannelType[] },
): Promise<BenchTenant> {
  const t = await withTx(ctx.db, (tx) => createTenant(tx, { name: `Bench shop ${input.index}` }));
  const specs = Array.from({ length: input.items }, (_, i) => ({ sku: `T${input.index}-SKU-${String(i).padStart(3, '0')}`, name: `Item ${i}` }));
  const ids = await createItems(ctx.db, t.tenantId, specs);
  await recordMovements(
    ctx.db,
    t.tenantId,
    ids.map((itemId) => ({ itemId, locationId: t.locationId, qtyDelta: input.qty, reason: 'receipt' as const, note: 'opening stock' })),
  );
  const items = ids.map((id, i) => ({ id, sku: specs[i]!.sku }));
  const channels: BenchChannel[] = [];
  for (const type of input.types) {
    const emulator = emulators[type];
    const r = await connectEmulatedChannel(ctx, {
      tenantId: t.tenantId,
      type,
      emulator,
      name: `${type} ${input.index}`,
      stockclerkUrl,
      items: specs.map((s) => ({ ...s, qty: input.qty })),
      locationIds: [t.locationId],
    });
    if (r.matched !== input.items) throw new Error(`${type}: ${r.matched} of ${input.items} listings matched`);
    const acc = emulator.accounts.get(r.accountId);
    const externalBySku = new Map<string, string>();
    for (const s of emulator.spec.state(acc)) if (s.sku) externalBySku.set(s.sku, s.externalId);
    channels.push({ type, channelId: r.channelId, accountId: r.accountId, account: r.account, emulator, externalBySku });
  }
  return { index: input.index, tenantId: t.tenantId, locationId: t.locationId, items, channels };
}

/**
 * `count` tenants, connected `group` at a time; tenant i's webhooks go to `urls[i % urls.length]`
 * (one api process per tenant, as a load balancer that keeps a shop on one node would).
 */
export async function createBenchTenants(
  ctx: AppContext,
  urls: string[],
  emulators: EmulatorSet,
  o: { count: number; group: number; items: number; qty: number; types: ChannelType[]; progressEvery?: (done: number) => void },
): Promise<BenchTenant[]> {
  const tenants: BenchTenant[] = [];
  for (let i = 0; i < o.count; i += o.group) {
    const group = Array.from({ length: Math.min(o.group, o.count - i) }, (_, k) =>
      createBenchTenant(ctx, urls[(i + k) % urls.length]!, emulators, { index: i + k, items: o.items, qty: o.qty, types: o.types }),
    );
    tenants.push(...(await Promise.all(group)));
    o.progressEvery?.(tenants.length);
  }
  return tenants;
}

/** StockClerk as N api + M worker processes, the emulators in this process, and tenants connected to them. */
export interface TenantFleet {
  env: BenchEnv;
  emulators: EmulatorSet;
  /** A keep-alive pool per platform emulator, for the sales the bench makes there. */
  pools: Map<ChannelType, Pool>;
  tenants: BenchTenant[];
  stop(): Promise<void>;
}

export async function startTenantFleet(o: {
  api: number;
  workers: number;
  count: number;
  items: number;
  qty: number;
  types: ChannelType[];
  /** Connections per emulator pool. */
  connections: number;
  /** A progress line every this many tenants connected. */
  progressStep: number;
}): Promise<TenantFleet> {
  const env = await startBenchEnv({ productProcess: true, processes: { api: o.api, workers: o.workers } });
  const emulators = await startEmulators();
  const pools = new Map<ChannelType, Pool>(o.types.map((ty) => [ty, new Pool(emulators[ty].url, { connections: o.connections, pipelining: 1 })]));
  const stop = async () => {
    await Promise.all([...pools.values()].map((p) => p.close()));
    await emulators.close();
    await env.stop();
  };
  try {
    const apiUrls = env.processes!.filter((p) => p.url).map((p) => p.url!);
    const setupStart = Date.now();
    const tenants = await createBenchTenants(env.sc.ctx, apiUrls, emulators, {
      count: o.count,
      group: 8,
      items: o.items,
      qty: o.qty,
      types: o.types,
      progressEvery: (done) => done % o.progressStep === 0 && progress(`${done} of ${o.count} tenants connected`),
    });
    progress(`${o.count} tenants x (${o.types.join(', ')}) x ${o.items} items connected in ${Math.round((Date.now() - setupStart) / 100) / 10} s`);
    return { env, emulators, pools, tenants, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
