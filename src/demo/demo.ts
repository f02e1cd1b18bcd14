// The demo on first `npm start`, on emulators running in this process on local ports:
// - "Demo Deli": an Epos Now till, a Wix store and Deliveroo, 20 items listed on all three, stock
//   received into the ledger (sync-demo.ts builds and reopens it);
// - "Demo Threads": the marketplace seller (threads.ts);
// - "Demo Bakery": a Square till, a WooCommerce shop and Otter (MORE: further sync-only tenants).
// Accounts are reopened on later starts; each emulator keeps its state in DATA_DIR/emulators.
import path from 'node:path';
import { createVintedEmulator, type VintedEmulator } from '../../emulators/vinted/index.ts';
import type { EmulatedChannelType as ChannelType } from '../channels/registry.ts';
import type { AppContext } from '../engine/context.ts';
import { startEmulators, type EmulatorSet } from './emulated.ts';
import { ensureSyncDemo, syncDemoDevTenant, type SyncDemoChannel, type SyncDemoInfo, type SyncDemoSpec } from './sync-demo.ts';
import { ensureThreads, THREADS_LOGIN, THREADS_SALE_SKU, threadsDevTenant, type ThreadsInfo } from './threads.ts';

export const DEMO_LOGIN = { email: 'demo@stockclerk.local', password: 'demo-deli-2026' };
export const DEMO_TENANT_NAME = 'Demo Deli';

const ITEMS: Array<[string, string, number, number]> = [
  ['DELI-001', 'Ham & Cheese Sandwich', 24, 5],
  ['DELI-002', 'Chicken Caesar Wrap', 18, 5],
  ['DELI-003', 'Falafel Wrap', 15, 4],
  ['DELI-004', 'Tuna Melt', 12, 4],
  ['DELI-005', 'BLT Sandwich', 20, 5],
  ['DELI-006', 'Egg Mayo Sandwich', 16, 4],
  ['DELI-007', 'Tomato Soup', 30, 6],
  ['DELI-008', 'Mac & Cheese Pot', 14, 4],
  ['DELI-009', 'Greek Salad Box', 10, 3],
  ['DELI-010', 'Sausage Roll', 40, 8],
  ['DELI-011', 'Cheese Scone', 25, 5],
  ['DELI-012', 'Chocolate Brownie', 30, 6],
  ['DELI-013', 'Carrot Cake Slice', 12, 3],
  ['DELI-014', 'Flat White', 100, 10],
  ['DELI-015', 'Cappuccino', 100, 10],
  ['DELI-016', 'Orange Juice 330ml', 36, 6],
  ['DELI-017', 'Sparkling Water 500ml', 48, 8],
  ['DELI-018', 'Crisps Sea Salt', 60, 10],
  ['DELI-019', 'Fruit Pot', 8, 3],
  ['DELI-020', 'Banana Bread', 9, 3],
];

const CHANNELS: Array<{ type: ChannelType; name: string; account: string }> = [
  { type: 'eposnow', name: 'Epos Now till', account: 'demo-till' },
  { type: 'wix', name: 'Wix store', account: 'demo-wix-site' },
  { type: 'deliveroo', name: 'Deliveroo', account: 'demo-deliveroo-site' },
];

export interface DemoInfo {
  tenantId: string;
  emulators: EmulatorSet;
  /** Vinted's emulator (Demo Threads' shop), apart: it has its own interface, not the kit's. */
  vinted: VintedEmulator;
  /** Demo Deli's channels. */
  channels: SyncDemoChannel[];
  /** The marketplace demo tenant (src/demo/threads.ts). */
  threads: ThreadsInfo | null;
  /** The other sync-only demo tenants, after Demo Deli. */
  more: SyncDemoInfo[];
}

const DELI: SyncDemoSpec = {
  name: DEMO_TENANT_NAME,
  login: DEMO_LOGIN,
  locationName: 'Deli counter',
  items: ITEMS,
  channels: CHANNELS,
  accountsFile: 'demo-accounts.json',
  saleSku: 'DELI-001',
};

export const BAKERY_LOGIN = { email: 'bakery@stockclerk.local', password: 'demo-bakery-2026' };

/** A bakery on the tills and shops most small merchants use after Shopify: Square, WooCommerce, Otter. */
const BAKERY: SyncDemoSpec = {
  name: 'Demo Bakery',
  login: BAKERY_LOGIN,
  locationName: 'Bakery counter',
  items: [
    ['BAK-001', 'Sourdough Loaf', 30, 5],
    ['BAK-002', 'Seeded Rye', 18, 4],
    ['BAK-003', 'Butter Croissant', 60, 10],
    ['BAK-004', 'Pain au Chocolat', 48, 8],
    ['BAK-005', 'Cinnamon Bun', 36, 6],
    ['BAK-006', 'Almond Croissant', 24, 5],
    ['BAK-007', 'Baguette', 40, 8],
    ['BAK-008', 'Focaccia Slice', 20, 4],
    ['BAK-009', 'Lemon Tart', 12, 3],
    ['BAK-010', 'Carrot Cake', 8, 2],
    ['BAK-011', 'Oat Cookie', 50, 10],
    ['BAK-012', 'Filter Coffee', 100, 10],
  ],
  channels: [
    { type: 'square', name: 'Square till', account: 'demo-bakery-square' },
    { type: 'woocommerce', name: 'WooCommerce shop', account: 'demo-bakery-woo' },
    { type: 'otter', name: 'Otter', account: 'demo-bakery-otter' },
  ],
  accountsFile: 'demo-bakery-accounts.json',
  saleSku: 'BAK-001',
};

/** Sync-only demo tenants after Demo Deli. */
const MORE: SyncDemoSpec[] = [BAKERY];

export async function ensureDemo(ctx: AppContext, stockclerkUrl: string): Promise<DemoInfo> {
  const base = ctx.config.port;
  // The platforms remember their accounts, stock and counters across restarts, as real ones do.
  const stateDir = path.join(ctx.config.dataDir, 'emulators');
  const emulators = await startEmulators(
    { eposnow: base + 1, wix: base + 2, deliveroo: base + 3, ebay: base + 4, etsy: base + 5, square: base + 7, woocommerce: base + 8, otter: base + 9 },
    { stateDir },
  );
  const vinted = createVintedEmulator({ stateFile: path.join(stateDir, 'vinted.json') });
  try {
    await vinted.listen(base + 6).catch(() => vinted.listen(0)); // the preferred port is taken: any free one will do
    const deli = await ensureSyncDemo(ctx, emulators, stockclerkUrl, DELI);
    const more: SyncDemoInfo[] = [];
    for (const spec of MORE) more.push(await ensureSyncDemo(ctx, emulators, stockclerkUrl, spec));
    return { tenantId: deli.tenantId, channels: deli.channels, emulators, vinted, more, threads: await ensureThreads(ctx, emulators, vinted, stockclerkUrl) };
  } catch (err) {
    await Promise.all([emulators.close(), vinted.close()]);
    throw err;
  }
}

export function demoBanner(stockclerkUrl: string, info: DemoInfo): string {
  const till = info.channels.find((c) => c.type === 'eposnow');
  const wix = info.channels.find((c) => c.type === 'wix');
  const lines = [
    '',
    `StockClerk is running at ${stockclerkUrl}`,
    `Demo login: ${DEMO_LOGIN.email} / ${DEMO_LOGIN.password}`,
    ...info.channels.map((c) => `  ${c.name.padEnd(14)} emulator ${c.url}  account ${c.accountId}`),
  ];
  if (till && wix) {
    lines.push(
      'Sell a sandwich on the till:',
      `  curl -s -X POST ${till.url}/_control/accounts/${till.accountId}/sale -H 'content-type: application/json' -d '{"sku":"DELI-001","qty":1}'`,
      'and watch the Wix store follow:',
      `  curl -s ${wix.url}/_control/accounts/${wix.accountId}/state`,
    );
  }
  const ebay = info.threads?.channels.find((c) => c.type === 'ebay');
  const etsy = info.threads?.channels.find((c) => c.type === 'etsy');
  if (ebay && etsy) {
    lines.push(
      `Marketplace demo login: ${THREADS_LOGIN.email} / ${THREADS_LOGIN.password} (Demo Threads: ${info.threads!.channels.map((c) => `${c.name} ${c.url}`).join(', ')})`,
      'Sell a tee on eBay:',
      `  curl -s -X POST ${ebay.url}/_control/accounts/${ebay.accountId}/sale -H 'content-type: application/json' -d '{"sku":"${THREADS_SALE_SKU}","qty":1}'`,
      'and watch Etsy follow:',
      `  curl -s ${etsy.url}/_control/accounts/${etsy.accountId}/state`,
    );
  }
  for (const d of info.more) {
    const [from, to] = d.channels;
    lines.push(`${d.spec.name} login: ${d.spec.login.email} / ${d.spec.login.password} (${d.channels.map((c) => `${c.name} ${c.url}`).join(', ')})`);
    if (from && to)
      lines.push(
        `Sell one on the ${from.name}:`,
        `  curl -s -X POST ${from.url}/_control/accounts/${from.accountId}/sale -H 'content-type: application/json' -d '{"sku":"${d.spec.saleSku}","qty":1}'`,
        `and watch the ${to.name} follow:`,
        `  curl -s ${to.url}/_control/accounts/${to.accountId}/state`,
      );
  }
  return lines.join('\n') + '\n';
}

/**
 * The demo tenants as DATA_DIR/dev.json lists them for scripts and outside checks: the login, and
 * per channel a ready request that sells one unit on its emulator and the URL of what the
 * platform holds now (`{items: [{sku, qty}]}`).
 */
export function devTenants(info: DemoInfo) {
  return [
    syncDemoDevTenant({ spec: DELI, tenantId: info.tenantId, channels: info.channels }),
    ...(info.threads ? [threadsDevTenant(info.threads)] : []),
    ...info.more.map(syncDemoDevTenant),
  ];
}
