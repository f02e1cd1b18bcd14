// The demo on first `npm start`: tenant "Demo Deli", three emulated channels (Epos Now till, Wix
// store, Deliveroo) running in this process on local ports, 20 items listed on all three, stock
// received into the ledger. On later starts the same accounts are reopened (their secrets are
// kept in DATA_DIR, mode 0600); each emulator kept its accounts' stock and counters in
// DATA_DIR/emulators/<type>.json, as the platform would have.
import fs from 'node:fs';
import path from 'node:path';
import { hash } from '@node-rs/argon2';
import { createVintedEmulator, type VintedEmulator } from '../../emulators/vinted/index.ts';
import type { EmulatedChannelType as ChannelType } from '../channels/registry.ts';
import { withTx } from '../db/pool.ts';
import { createItems, createTenant } from '../db/tenants.ts';
import type { AppContext } from '../engine/context.ts';
import { importListings } from '../services/listings.ts';
import { systemScope } from '../services/scope.ts';
import { recordMovements } from '../ledger/ledger.ts';
import { connectEmulatedChannel, openAccount, startEmulators, newEmulatedAccount, type EmulatedAccount, type EmulatorSet } from './emulated.ts';
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
  channels: Array<{ type: ChannelType; name: string; channelId: string; accountId: string; url: string }>;
  /** The marketplace demo tenant (src/demo/threads.ts). */
  threads: ThreadsInfo | null;
}

type Saved = Record<string, EmulatedAccount & { type: ChannelType }>;

export async function ensureDemo(ctx: AppContext, stockclerkUrl: string): Promise<DemoInfo> {
  const base = ctx.config.port;
  // The platforms remember their accounts, stock and counters across restarts, as real ones do.
  const stateDir = path.join(ctx.config.dataDir, 'emulators');
  const emulators = await startEmulators({ eposnow: base + 1, wix: base + 2, deliveroo: base + 3, ebay: base + 4, etsy: base + 5 }, { stateDir });
  const vinted = createVintedEmulator({ stateFile: path.join(stateDir, 'vinted.json') });
  const file = path.join(ctx.config.dataDir, 'demo-accounts.json');
  const { rows } = await ctx.db.query<{ tenant_id: string }>(`select tenant_id from users where lower(email) = $1`, [DEMO_LOGIN.email]);
  try {
    await vinted.listen(base + 6).catch(() => vinted.listen(0)); // the preferred port is taken: any free one will do
    const deli = rows[0] ? await reopen(ctx, rows[0].tenant_id, emulators, stockclerkUrl, file) : await create(ctx, emulators, stockclerkUrl, file);
    return { ...deli, vinted, threads: await ensureThreads(ctx, emulators, vinted, stockclerkUrl) };
  } catch (err) {
    await Promise.all([emulators.close(), vinted.close()]);
    throw err;
  }
}

async function create(ctx: AppContext, emulators: EmulatorSet, url: string, file: string): Promise<Omit<DemoInfo, 'threads' | 'vinted'>> {
  const passwordHash = await hash(DEMO_LOGIN.password);
  const t = await withTx(ctx.db, async (tx) => {
    const created = await createTenant(tx, { name: DEMO_TENANT_NAME, locationName: 'Deli counter', owner: { email: DEMO_LOGIN.email, passwordHash } });
    // Taken as verified: the demo's alert emails go to the mail catcher from the first sale.
    await tx.query(`update users set email_verified_at = now() where tenant_id = $1 and id = $2`, [created.tenantId, created.userId]);
    // On Enterprise: a demo left running for weeks must not lapse like a trial and stop syncing.
    await tx.query(`update tenants set plan = 'enterprise', billing_status = 'active' where id = $1`, [created.tenantId]);
    return created;
  });
  const ids = await createItems(
    ctx.db,
    t.tenantId,
    ITEMS.map(([sku, name, , low]) => ({ sku, name, lowStockThreshold: low })),
  );
  await recordMovements(
    ctx.db,
    t.tenantId,
    ids.map((itemId, i) => ({ itemId, locationId: t.locationId, qtyDelta: ITEMS[i]![2], reason: 'receipt' as const, note: 'opening stock' })),
  );
  const items = ITEMS.map(([sku, name, qty]) => ({ sku, name, qty }));
  const saved: Saved = {};
  const channels: DemoInfo['channels'] = [];
  for (const c of CHANNELS) {
    const account = newEmulatedAccount(c.type, c.account);
    const r = await connectEmulatedChannel(ctx, {
      tenantId: t.tenantId,
      type: c.type,
      emulator: emulators[c.type],
      name: c.name,
      stockclerkUrl: url,
      items,
      locationIds: [t.locationId],
      account,
    });
    saved[r.channelId] = { ...account, type: c.type };
    channels.push({ type: c.type, name: c.name, channelId: r.channelId, accountId: account.id, url: emulators[c.type].url });
  }
  fs.writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  return { tenantId: t.tenantId, emulators, channels };
}

async function reopen(ctx: AppContext, tenantId: string, emulators: EmulatorSet, url: string, file: string): Promise<Omit<DemoInfo, 'threads' | 'vinted'>> {
  const saved: Saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const channels: DemoInfo['channels'] = [];
  for (const [channelId, acc] of Object.entries(saved)) {
    const { rows: exists } = await ctx.db.query(`select name from channels where tenant_id = $1 and id = $2`, [tenantId, channelId]);
    if (!exists[0]) continue;
    const emu = emulators[acc.type];
    // Where the emulator has no saved state for the account (its state file was removed, or the
    // DATA_DIR is from before emulators kept state), it is opened holding what the ledger says.
    const items = emu.accounts.has(acc.id) ? [] : await ledgerQuantities(ctx, tenantId);
    const kept = openAccount(emu, acc.type, channelId, url, acc, items);
    await ctx.db.query(`update channels set base_url = $3, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, channelId, emu.url]);
    if (!kept) {
      // A newly opened account has new ids (Wix locations): listings are rebuilt from the channel.
      await ctx.db.query(`delete from listings where tenant_id = $1 and channel_id = $2`, [tenantId, channelId]);
      await importListings(ctx.db, systemScope(tenantId), ctx.channels, channelId);
    }
    channels.push({ type: acc.type, name: exists[0].name, channelId, accountId: acc.id, url: emu.url });
  }
  return { tenantId, emulators, channels };
}

async function ledgerQuantities(ctx: AppContext, tenantId: string): Promise<Array<{ sku: string; name: string; qty: number }>> {
  const { rows } = await ctx.db.query<{ sku: string; name: string; qty: number }>(
    `select i.sku, i.name, greatest(0, coalesce(sum(s.on_hand - s.reserved), 0))::int as qty
     from items i left join stock_levels s on s.tenant_id = i.tenant_id and s.item_id = i.id
     where i.tenant_id = $1 group by i.tenant_id, i.id order by i.sku`,
    [tenantId],
  );
  return rows;
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
  return lines.join('\n') + '\n';
}

/**
 * The demo tenants as DATA_DIR/dev.json lists them for scripts and outside checks: the login, and
 * per channel a ready request that sells one unit on its emulator and the URL of what the
 * platform holds now (`{items: [{sku, qty}]}`).
 */
export function devTenants(info: DemoInfo) {
  const SKU = 'DELI-001';
  return [
    {
      name: DEMO_TENANT_NAME,
      email: DEMO_LOGIN.email,
      password: DEMO_LOGIN.password,
      channels: info.channels.map((c) => ({
        id: c.channelId,
        type: c.type,
        emulator: c.url,
        account: c.accountId,
        sale: { method: 'POST', url: `${c.url}/_control/accounts/${encodeURIComponent(c.accountId)}/sale`, body: { sku: SKU, qty: 1 }, sku: SKU },
        state: `${c.url}/_control/accounts/${encodeURIComponent(c.accountId)}/state`,
      })),
    },
    ...(info.threads ? [threadsDevTenant(info.threads)] : []),
  ];
}
