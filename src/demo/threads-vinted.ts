// Demo Threads' Vinted shop: a seller account on the Vinted emulator (emulators/vinted/, its own
// small interface rather than the kit's) and a Vinted channel pointed at it. Vinted has no seller
// API: nothing reaches it until the seller pairs StockClerk's browser extension (extension/), so
// the channel starts "waiting for the extension" and nothing is published to it at start-up (the
// jobs would only wait in the queue). A person who wants to see it work builds the extension
// (`npm run build:extension`), loads it, logs in to the emulated Vinted with the login dev.json
// gives, pairs it from the channel's page and publishes from the dashboard.
import { randomBytes } from 'node:crypto';
import type { VintedEmulator } from '../../emulators/vinted/index.ts';
import { withTx } from '../db/pool.ts';
import type { AppContext } from '../engine/context.ts';
import { create as createChannel } from '../services/channels.ts';
import { systemScope } from '../services/scope.ts';

export interface VintedSeller {
  login: string;
  password: string;
}

const LOGIN = 'threads-vinted';

/** The seller's account on the emulator, made or reopened with the saved password (an emulator that lost its state gets it back). */
function ensureSeller(emu: VintedEmulator, seller: VintedSeller): void {
  const m = emu.store.members.get(seller.login);
  if (!m) emu.store.addMember(seller.login, seller.password);
  else if (m.password !== seller.password) {
    m.password = seller.password;
    emu.store.touch();
  }
}

/** Opens the seller's account and connects the channel as a merchant would (nothing secret: the extension carries the session). */
export async function connectVinted(ctx: AppContext, tenantId: string, emu: VintedEmulator): Promise<{ channelId: string; seller: VintedSeller }> {
  const seller = { login: LOGIN, password: randomBytes(9).toString('base64url') };
  ensureSeller(emu, seller);
  const view = await withTx(ctx.db, (tx) =>
    createChannel(tx, systemScope(tenantId, 'demo'), ctx.sealer, { type: 'vinted', name: 'Vinted', base_url: emu.url, credentials: {} }),
  );
  return { channelId: view.id as string, seller };
}

/** On a later start: the account again, and the channel pointed at wherever the emulator listens now. */
export async function reopenVinted(ctx: AppContext, tenantId: string, channelId: string, emu: VintedEmulator, seller: VintedSeller): Promise<void> {
  ensureSeller(emu, seller);
  await ctx.db.query(`update channels set base_url = $3, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, channelId, emu.url]);
}
