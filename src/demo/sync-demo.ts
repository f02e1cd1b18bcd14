// A demo tenant whose channels all sync one catalogue of items (no publishing): the tenant, its
// items with opening stock in the ledger, and one emulated account per channel, connected the way
// a merchant would and matched by SKU. "Demo Deli" and "Demo Bakery" are such tenants (demo.ts).
// On later starts the same accounts are reopened (their secrets are kept in DATA_DIR, mode 0600);
// each emulator kept its accounts' stock and counters in DATA_DIR/emulators/<type>.json, as the
// platform would have.
import fs from 'node:fs';
import path from 'node:path';
import { hash } from '@node-rs/argon2';
import type { EmulatedChannelType as ChannelType } from '../channels/registry.ts';
import { withTx } from '../db/pool.ts';
import { createItems, createTenant } from '../db/tenants.ts';
import type { AppContext } from '../engine/context.ts';
import { recordMovements } from '../ledger/ledger.ts';
import { importListings } from '../services/listings.ts';
import { systemScope } from '../services/scope.ts';
import { connectEmulatedChannel, newEmulatedAccount, openAccount, type EmulatedAccount, type EmulatorSet } from './emulated.ts';

export interface SyncDemoSpec {
  name: string;
  login: { email: string; password: string };
  locationName: string;
  /** sku, name, opening stock, low-stock threshold. */
  items: Array<[string, string, number, number]>;
  channels: Array<{ type: ChannelType; name: string; account: string }>;
  /** Where the accounts' secrets are kept, in DATA_DIR. */
  accountsFile: string;
  /** The SKU dev.json's ready-made sales sell. */
  saleSku: string;
}

export interface SyncDemoChannel {
  type: ChannelType;
  name: string;
  channelId: string;
  accountId: string;
  url: string;
}

export interface SyncDemoInfo {
  spec: SyncDemoSpec;
  tenantId: string;
  channels: SyncDemoChannel[];
}

type Saved = Record<string, EmulatedAccount & { type: ChannelType }>;

export async function ensureSyncDemo(ctx: AppContext, emulators: EmulatorSet, stockclerkUrl: string, spec: SyncDemoSpec): Promise<SyncDemoInfo> {
  const file = path.join(ctx.config.dataDir, spec.accountsFile);
  const { rows } = await ctx.db.query<{ tenant_id: string }>(`select tenant_id from users where lower(email) = $1`, [spec.login.email]);
  return rows[0] ? reopen(ctx, spec, rows[0].tenant_id, emulators, stockclerkUrl, file) : create(ctx, spec, emulators, stockclerkUrl, file);
}

async function create(ctx: AppContext, spec: SyncDemoSpec, emulators: EmulatorSet, url: string, file: string): Promise<SyncDemoInfo> {
  const passwordHash = await hash(spec.login.password);
  const t = await withTx(ctx.db, async (tx) => {
    const created = await createTenant(tx, { name: spec.name, locationName: spec.locationName, owner: { email: spec.login.email, passwordHash } });
    // Taken as verified: the demo's alert emails go to the mail catcher from the first sale.
    await tx.query(`update users set email_verified_at = now() where tenant_id = $1 and id = $2`, [created.tenantId, created.userId]);
    // On Enterprise: a demo left running for weeks must not lapse like a trial and stop syncing.
    await tx.query(`update tenants set plan = 'enterprise', billing_status = 'active' where id = $1`, [created.tenantId]);
    return created;
  });
  const ids = await createItems(
    ctx.db,
    t.tenantId,
    spec.items.map(([sku, name, , low]) => ({ sku, name, lowStockThreshold: low })),
  );
  await recordMovements(
    ctx.db,
    t.tenantId,
    ids.map((itemId, i) => ({ itemId, locationId: t.locationId, qtyDelta: spec.items[i]![2], reason: 'receipt' as const, note: 'opening stock' })),
  );
  const items = spec.items.map(([sku, name, qty]) => ({ sku, name, qty }));
  const saved: Saved = {};
  const channels: SyncDemoChannel[] = [];
  for (const c of spec.channels) {
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
  return { spec, tenantId: t.tenantId, channels };
}

async function reopen(ctx: AppContext, spec: SyncDemoSpec, tenantId: string, emulators: EmulatorSet, url: string, file: string): Promise<SyncDemoInfo> {
  const saved: Saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const channels: SyncDemoChannel[] = [];
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
  return { spec, tenantId, channels };
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

/** The tenant as DATA_DIR/dev.json lists it (see devTenants in demo.ts). */
export function syncDemoDevTenant(info: SyncDemoInfo) {
  const sku = info.spec.saleSku;
  return {
    name: info.spec.name,
    email: info.spec.login.email,
    password: info.spec.login.password,
    channels: info.channels.map((c) => ({
      id: c.channelId,
      type: c.type,
      emulator: c.url,
      account: c.accountId,
      sale: { method: 'POST', url: `${c.url}/_control/accounts/${encodeURIComponent(c.accountId)}/sale`, body: { sku, qty: 1 }, sku },
      state: `${c.url}/_control/accounts/${encodeURIComponent(c.accountId)}/state`,
    })),
  };
}
