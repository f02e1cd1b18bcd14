// Emulated channels wired to a StockClerk: start the platform emulators, open an account on one
// for a tenant, and connect it the way a merchant would (credentials sealed in a channel row,
// webhooks pointed at the channel's webhook URL, listings imported through the real adapter and
// matched by SKU). Used by the demo, the end-to-end tests and the benchmarks.
import { randomBytes, randomInt } from 'node:crypto';
import path from 'node:path';
import { createDeliverooEmulator } from '../../emulators/deliveroo/index.ts';
import { createEbayEmulator } from '../../emulators/ebay/index.ts';
import { createEposnowEmulator } from '../../emulators/eposnow/index.ts';
import { createEtsyEmulator } from '../../emulators/etsy/index.ts';
import { createOtterEmulator } from '../../emulators/otter/index.ts';
import type { AccountInput, Emulator, EmulatorOptions } from '../../emulators/kit/index.ts';
import { createShopeeEmulator } from '../../emulators/shopee/index.ts';
import { createShopifyEmulator } from '../../emulators/shopify/index.ts';
import { createSquareEmulator } from '../../emulators/square/index.ts';
import { createTiktokShopEmulator } from '../../emulators/tiktok_shop/index.ts';
import { createWixEmulator, generateWixKeyPair } from '../../emulators/wix/index.ts';
import { channelModule, type EmulatedChannelType as ChannelType } from '../channels/registry.ts';
import { webhookPath, withUrlSecret } from '../channels/url-secret.ts';
import { createWoocommerceEmulator } from '../../emulators/woocommerce/index.ts';
import { newId } from '../domain/ids.ts';
import type { AppContext } from '../engine/context.ts';
import { importListings } from '../services/listings.ts';
import { systemScope } from '../services/scope.ts';

// The emulators' account types differ; callers only use the shared Emulator surface.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyEmulator = Emulator<any>;
export type EmulatorSet = Record<ChannelType, AnyEmulator> & { close(): Promise<void> };

const FACTORIES: Record<ChannelType, (opts: EmulatorOptions) => AnyEmulator> = {
  shopify: (opts) => createShopifyEmulator(opts),
  wix: (opts) => createWixEmulator(opts),
  eposnow: (opts) => createEposnowEmulator(opts),
  deliveroo: (opts) => createDeliverooEmulator(opts),
  etsy: (opts) => createEtsyEmulator(opts),
  ebay: (opts) => createEbayEmulator(opts),
  shopee: (opts) => createShopeeEmulator(opts),
  tiktok_shop: (opts) => createTiktokShopEmulator(opts),
  otter: (opts) => createOtterEmulator(opts),
  woocommerce: (opts) => createWoocommerceEmulator(opts),
  square: (opts) => createSquareEmulator(opts),
};

export interface StartEmulatorsOptions {
  /** Each emulator keeps its platform state in `<stateDir>/<type>.json` across restarts; none = in memory. */
  stateDir?: string | null;
}

export async function startEmulators(ports: Partial<Record<ChannelType, number>> = {}, opts: StartEmulatorsOptions = {}): Promise<EmulatorSet> {
  const set = {} as Record<ChannelType, AnyEmulator>;
  for (const type of Object.keys(FACTORIES) as ChannelType[]) {
    const emu = FACTORIES[type]({ stateFile: opts.stateDir ? path.join(opts.stateDir, `${type}.json`) : null });
    try {
      await emu.listen(ports[type] ?? 0);
    } catch {
      await emu.listen(0); // the preferred port is taken: any free one will do
    }
    set[type] = emu;
  }
  const all = Object.values(set);
  return Object.assign(set, {
    async close() {
      await Promise.all(all.map((e) => e.close()));
    },
  });
}

const rand = (n = 16) => randomBytes(n).toString('hex');

/** Credentials the channel row holds, and what the emulator account is opened with. */
function credentialsFor(type: ChannelType, accountId: string): Omit<EmulatedAccount, 'id'> {
  switch (type) {
    case 'shopify': {
      const c = { access_token: `shpat_${rand()}`, webhook_secret: rand() };
      return { channel: c, account: { access_token: c.access_token }, webhookSecret: c.webhook_secret, settings: {} };
    }
    case 'wix': {
      const keys = generateWixKeyPair();
      const c = { api_key: `IST.${rand()}`, site_id: accountId, public_key: keys.publicKey };
      return { channel: c, account: { api_key: c.api_key, site_id: c.site_id }, webhookSecret: keys.privateKey, settings: {} };
    }
    case 'eposnow': {
      // Epos Now signs nothing: its webhooks reach the channel's secret URL (added on connecting), so no webhook secret.
      const c = { api_key: rand(10), api_secret: rand() };
      return { channel: c, account: { api_key: c.api_key, api_secret: c.api_secret }, webhookSecret: '', settings: {} };
    }
    case 'deliveroo': {
      const c = { client_id: rand(8), client_secret: rand(), webhook_secret: rand() };
      return {
        channel: c,
        account: { client_id: c.client_id, client_secret: c.client_secret },
        webhookSecret: c.webhook_secret,
        settings: { brand_id: 'brand-1', site_id: accountId, menu_id: 'menu-1' },
      };
    }
    case 'otter': {
      // The application's client credentials; the store id is the emulator account (X-Store-Id).
      const c = { client_id: rand(8), client_secret: rand(), webhook_secret: rand() };
      return {
        channel: c,
        account: { client_id: c.client_id, client_secret: c.client_secret },
        webhookSecret: c.webhook_secret,
        settings: { store_id: accountId },
      };
    }
    case 'etsy': {
      // The app key; the seller's token pair is issued once the shop exists (SELLER_TOKENS below).
      // Fixed user and shop ids keep tokens valid when the account is opened again after a restart.
      const c = { keystring: rand(12), shared_secret: rand(5), access_token: '', refresh_token: '' };
      const ids = { user_id: String(randomInt(10_000_000, 99_999_999)), shop_id: String(randomInt(10_000_000, 99_999_999)) };
      return { channel: c, account: { keystring: c.keystring, shared_secret: c.shared_secret, ...ids }, webhookSecret: '', settings: {} };
    }
    case 'ebay': {
      // The application's keys; the seller's tokens come once the account exists (SELLER_TOKENS).
      // The verification token is what the notification endpoint's challenge hashes.
      const c = { client_id: `StockCle-${rand(4)}-PRD`, client_secret: `PRD-${rand()}`, refresh_token: 'pending', verification_token: rand(20) };
      return {
        channel: c,
        account: {
          client_id: c.client_id,
          client_secret: c.client_secret,
          ru_name: `StockClerk-${rand(4)}`,
          accept_url: 'https://stockclerk.invalid/oauth/ebay/accepted',
          username: accountId,
        },
        webhookSecret: c.verification_token,
        settings: {},
      };
    }
    case 'shopee': {
      // The partner app's id and key (every call and push is signed with the key) and the shop; the
      // shop's token pair comes once the account exists (SELLER_TOKENS). Pushes are signed with the
      // partner key, so the kit's webhook secret is unused.
      const ids = { partner_id: String(randomInt(1_000_000, 9_999_999)), shop_id: String(randomInt(100_000_000, 999_999_999)) };
      const c = { ...ids, partner_key: `shpk${rand(24)}`, access_token: '', refresh_token: '' };
      return { channel: c, account: { ...ids, partner_key: c.partner_key }, webhookSecret: '', settings: {} };
    }
    case 'tiktok_shop': {
      // The app's key pair; the seller's tokens are issued once the shop exists (SELLER_TOKENS).
      // The warehouse is the shop's (the emulator opens it under this id) and the channel's setting.
      const c = { app_key: rand(7), app_secret: rand(), access_token: '', refresh_token: '' };
      const settings = { warehouse_id: `7${randomInt(100_000_000, 999_999_999)}${randomInt(100_000_000, 999_999_999)}` };
      return { channel: c, account: { app_key: c.app_key, app_secret: c.app_secret }, webhookSecret: c.app_secret, settings };
    }
    case 'woocommerce': {
      // A Read/Write REST API key pair; the store's order webhooks are signed with webhook_secret.
      const c = { consumer_key: `ck_${rand(20)}`, consumer_secret: `cs_${rand(20)}`, webhook_secret: rand() };
      return { channel: c, account: { consumer_key: c.consumer_key, consumer_secret: c.consumer_secret }, webhookSecret: c.webhook_secret, settings: {} };
    }
    case 'square': {
      // A personal access token, and the webhook subscription's signature key (Square signs over
      // the notification URL + body with it; the emulator signs with the kit's webhook secret).
      const c = { access_token: `EAAA${rand(24)}`, webhook_signature_key: rand(16) };
      return { channel: c, account: { access_token: c.access_token }, webhookSecret: c.webhook_signature_key, settings: {} };
    }
  }
}

/**
 * Platforms whose channel holds a seller's OAuth tokens: they are issued once the emulator account
 * exists (the emulator's control API stands for the seller's consent).
 */
async function controlToken(emu: AnyEmulator, accountId: string): Promise<Record<string, string>> {
  const res = await fetch(`${emu.url}/_control/accounts/${encodeURIComponent(accountId)}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  if (!res.ok) throw new Error(`emulator token for ${accountId}: ${res.status}`);
  const t = (await res.json()) as { access_token: string; refresh_token: string; expires_in: number };
  return { access_token: t.access_token, refresh_token: t.refresh_token, access_expires_at: new Date(Date.now() + t.expires_in * 1000).toISOString() };
}
const SELLER_TOKENS: Partial<Record<ChannelType, (emu: AnyEmulator, accountId: string) => Promise<Record<string, string>>>> = {
  ebay: controlToken,
  etsy: controlToken,
  // Shopee's token answers say `expire_in` (seconds), not `expires_in`.
  shopee: async (emu, accountId) => {
    const res = await fetch(`${emu.url}/_control/accounts/${encodeURIComponent(accountId)}/token`, { method: 'POST' });
    if (!res.ok) throw new Error(`emulator token for ${accountId}: ${res.status}`);
    const t = (await res.json()) as { access_token: string; refresh_token: string; expire_in: number };
    return { access_token: t.access_token, refresh_token: t.refresh_token, access_expires_at: new Date(Date.now() + t.expire_in * 1000).toISOString() };
  },
  tiktok_shop: controlToken,
};

export interface ConnectInput {
  tenantId: string;
  type: ChannelType;
  emulator: AnyEmulator;
  name: string;
  /** StockClerk's own base URL, where the emulator sends webhooks. */
  stockclerkUrl: string;
  /** externalId: the platform's own id for the item, where a test wants a particular one. */
  items: Array<{ sku: string; name: string; qty: number; externalId?: string }>;
  /** Locations the channel draws from (and takes sales from, the first). */
  locationIds: string[];
  settings?: Record<string, unknown>;
  /** Emulator account id (random unless given) and its secrets, to reopen the same account after a restart. */
  account?: EmulatedAccount;
}

export interface EmulatedAccount {
  id: string;
  channel: Record<string, string>;
  account: Record<string, string>;
  webhookSecret: string;
  settings: Record<string, unknown>;
}

export interface ConnectedChannel {
  channelId: string;
  accountId: string;
  matched: number;
  account: EmulatedAccount;
}

export function newEmulatedAccount(type: ChannelType, id = `${type}-${rand(4)}`): EmulatedAccount {
  return { id, ...credentialsFor(type, id) };
}

/**
 * Opens (or reopens, after a restart) the emulator account behind a channel. Returns true when
 * the emulator kept the account from an earlier run (its stock, ids and counters as they were);
 * `items` only seed an account the emulator does not have.
 */
export function openAccount(
  emulator: AnyEmulator,
  type: ChannelType,
  channelId: string,
  stockclerkUrl: string,
  acc: EmulatedAccount,
  items: ConnectInput['items'],
): boolean {
  return emulator.reopenAccount(accountInput(type, channelId, stockclerkUrl, acc, items)).kept;
}

function accountInput(type: ChannelType, channelId: string, stockclerkUrl: string, acc: EmulatedAccount, items: ConnectInput['items']): AccountInput {
  return {
    id: acc.id,
    credentials: acc.account,
    webhookUrl: stockclerkUrl + webhookPath(type, channelId, acc.channel),
    webhookSecret: acc.webhookSecret,
    items,
    ...acc.settings,
  };
}

export async function connectEmulatedChannel(ctx: AppContext, input: ConnectInput): Promise<ConnectedChannel> {
  const channelId = newId('ch');
  const creds = input.account ?? newEmulatedAccount(input.type);
  // As connecting through the API does: a platform that signs nothing gets a secret webhook URL.
  creds.channel = withUrlSecret(channelModule(input.type), creds.channel, creds.channel);
  // A new connection is a new account on the platform, holding these items (whatever an earlier run left under that id).
  input.emulator.addAccount(accountInput(input.type, channelId, input.stockclerkUrl, creds, input.items));
  const tokens = await SELLER_TOKENS[input.type]?.(input.emulator, creds.id);
  if (tokens) Object.assign(creds.channel, tokens);
  await ctx.db.query(`insert into channels (tenant_id, id, type, name, base_url, credentials_enc, settings) values ($1, $2, $3, $4, $5, $6, $7)`, [
    input.tenantId,
    channelId,
    input.type,
    input.name,
    input.emulator.url,
    ctx.sealer.seal(creds.channel),
    { ...creds.settings, location_ids: input.locationIds, emulated: true, emulator_account: creds.id, ...input.settings },
  ]);
  const r = await importListings(ctx.db, systemScope(input.tenantId), ctx.channels, channelId);
  return { channelId, accountId: creds.id, matched: r.matched, account: creds };
}
