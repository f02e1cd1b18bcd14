// The marketplace demo on first `npm start`: tenant "Demo Threads", a clothing reseller with a
// dozen products in sizes and colours (each with a photo), stock received into the ledger, the
// eBay, Etsy and TikTok Shop emulators connected and the whole catalog published to them as one
// bulk job; a Shopee shop that already lists the catalog, its listings matched by SKU; a Vinted
// shop waiting for the seller's browser extension (threads-vinted.ts).
// On later starts the same accounts are reopened (secrets in DATA_DIR/demo-threads-accounts.json,
// mode 0600); an emulator that lost its state gets the catalog published again.
import fs from 'node:fs';
import path from 'node:path';
import { hash } from '@node-rs/argon2';
import type { VintedEmulator } from '../../emulators/vinted/index.ts';
import type { EmulatedChannelType } from '../channels/registry.ts';
import { withTx } from '../db/pool.ts';
import { createTenant } from '../db/tenants.ts';
import type { AppContext } from '../engine/context.ts';
import { recordMovements } from '../ledger/ledger.ts';
import { importListings } from '../services/listings.ts';
import { addImage, createProduct } from '../services/products.ts';
import { startBulk } from '../services/publishing-bulk.ts';
import { catalogChannels } from '../services/publishing.ts';
import { systemScope } from '../services/scope.ts';
import { imageKey } from '../storage/images.ts';
import { connectEmulatedChannel, newEmulatedAccount, openAccount, type EmulatedAccount, type EmulatorSet } from './emulated.ts';
import { swatchPng } from './swatch.ts';
import { connectVinted, reopenVinted, type VintedSeller } from './threads-vinted.ts';

type ChannelType = EmulatedChannelType | 'vinted';

export const THREADS_LOGIN = { email: 'threads@stockclerk.local', password: 'demo-threads-2026' };
export const THREADS_TENANT_NAME = 'Demo Threads';
/** The SKU dev.json's ready-made sale sells (a medium black tee). */
export const THREADS_SALE_SKU = 'THR-TEE-M-BLK';

type RGB = [number, number, number];
interface DemoProduct {
  code: string;
  title: string;
  description: string;
  category: string;
  pricePence: number;
  colour: RGB;
  options: Array<{ name: string; values: string[]; codes: string[] }>;
  /** Units received per variant. */
  stock: number;
}

const SIZES = { name: 'Size', values: ['S', 'M', 'L'], codes: ['S', 'M', 'L'] };
const PRODUCTS: DemoProduct[] = [
  {
    code: 'TEE',
    title: 'Classic Cotton Tee',
    description: 'Heavyweight organic cotton tee, boxy fit.',
    category: 'Clothing > Tops',
    pricePence: 1800,
    colour: [30, 30, 30],
    options: [SIZES, { name: 'Colour', values: ['Black', 'White'], codes: ['BLK', 'WHT'] }],
    stock: 8,
  },
  {
    code: 'LIN',
    title: 'Linen Overshirt',
    description: 'Washed linen overshirt with two chest pockets.',
    category: 'Clothing > Shirts',
    pricePence: 4500,
    colour: [196, 180, 150],
    options: [SIZES],
    stock: 5,
  },
  {
    code: 'DNM',
    title: 'Vintage Denim Jacket',
    description: 'Reworked 90s denim jacket, mid wash.',
    category: 'Clothing > Outerwear',
    pricePence: 6500,
    colour: [60, 90, 140],
    options: [{ name: 'Size', values: ['M', 'L'], codes: ['M', 'L'] }],
    stock: 3,
  },
  {
    code: 'BNE',
    title: 'Merino Beanie',
    description: 'Ribbed merino wool beanie.',
    category: 'Accessories > Hats',
    pricePence: 2200,
    colour: [110, 110, 115],
    options: [{ name: 'Colour', values: ['Grey', 'Navy'], codes: ['GRY', 'NVY'] }],
    stock: 10,
  },
  {
    code: 'CHN',
    title: 'Slim Chinos',
    description: 'Stretch cotton chinos, tapered leg.',
    category: 'Clothing > Trousers',
    pricePence: 3900,
    colour: [170, 150, 110],
    options: [{ name: 'Waist', values: ['30', '32', '34'], codes: ['30', '32', '34'] }],
    stock: 4,
  },
  {
    code: 'HOD',
    title: 'Loopback Hoodie',
    description: 'French terry hoodie, brushed inside.',
    category: 'Clothing > Tops',
    pricePence: 4800,
    colour: [120, 40, 50],
    options: [SIZES],
    stock: 6,
  },
  {
    code: 'SCF',
    title: 'Silk Square Scarf',
    description: 'Hand-rolled silk scarf, 70 cm square.',
    category: 'Accessories > Scarves',
    pricePence: 2900,
    colour: [200, 120, 40],
    options: [],
    stock: 7,
  },
  {
    code: 'BLT',
    title: 'Leather Belt',
    description: 'Vegetable-tanned leather belt with a brass buckle.',
    category: 'Accessories > Belts',
    pricePence: 3200,
    colour: [100, 60, 30],
    options: [{ name: 'Size', values: ['M', 'L'], codes: ['M', 'L'] }],
    stock: 5,
  },
  {
    code: 'TOT',
    title: 'Canvas Tote',
    description: 'Heavy canvas tote with an inside pocket.',
    category: 'Accessories > Bags',
    pricePence: 1500,
    colour: [225, 215, 190],
    options: [],
    stock: 12,
  },
  {
    code: 'SCK',
    title: 'Striped Socks',
    description: 'Combed cotton socks, Breton stripe.',
    category: 'Accessories > Socks',
    pricePence: 900,
    colour: [170, 30, 40],
    options: [{ name: 'Colour', values: ['Red', 'Blue'], codes: ['RED', 'BLU'] }],
    stock: 15,
  },
  {
    code: 'MAC',
    title: 'Waxed Rain Mac',
    description: 'Waxed cotton mac, storm collar.',
    category: 'Clothing > Outerwear',
    pricePence: 8900,
    colour: [60, 70, 50],
    options: [SIZES],
    stock: 2,
  },
  {
    code: 'CAP',
    title: 'Corduroy Cap',
    description: 'Six-panel corduroy cap, adjustable strap.',
    category: 'Accessories > Hats',
    pricePence: 1900,
    colour: [140, 100, 60],
    options: [],
    stock: 9,
  },
];

/** Every combination of the options' values, with the SKU made of their codes. */
function variantsOf(p: DemoProduct): Array<{ sku: string; option_values: Record<string, string> }> {
  let out: Array<{ sku: string; option_values: Record<string, string> }> = [{ sku: `THR-${p.code}`, option_values: {} }];
  for (const o of p.options) {
    out = out.flatMap((v) => o.values.map((value, i) => ({ sku: `${v.sku}-${o.codes[i]}`, option_values: { ...v.option_values, [o.name]: value } })));
  }
  return out;
}

const CHANNELS: Array<{
  type: EmulatedChannelType;
  name: string;
  account: string;
  settings?: Record<string, unknown>;
  /**
   * The shop already lists the catalog (a seller who started on this marketplace): its listings
   * are imported and matched by SKU rather than published (Shopee here: a seller who came from it).
   */
  listsCatalog?: boolean;
}> = [
  {
    type: 'ebay',
    name: 'eBay',
    account: 'threads-ebay',
    // What eBay's publishOffer demands beside the product: a leaf category (11450: Clothing, Shoes &
    // Accessories), the seller's inventory location and three business policies, as a seller sets them up once.
    settings: {
      category_id: '11450',
      merchant_location_key: 'threads-stockroom',
      fulfillment_policy_id: 'threads-shipping',
      payment_policy_id: 'threads-payment',
      return_policy_id: 'threads-returns',
    },
  },
  { type: 'etsy', name: 'Etsy', account: 'threads-etsy' },
  { type: 'tiktok_shop', name: 'TikTok Shop', account: 'threads-tiktok-shop' },
  { type: 'shopee', name: 'Shopee', account: 'threads-shopee', listsCatalog: true },
];

/** What a shop that already lists the catalog holds: every variant, at the stock received. */
function catalogListings(): Array<{ sku: string; name: string; qty: number }> {
  return PRODUCTS.flatMap((p) => variantsOf(p).map((v) => ({ sku: v.sku, name: [p.title, ...Object.values(v.option_values)].join(' / '), qty: p.stock })));
}

export interface ThreadsInfo {
  tenantId: string;
  /** `seller`: Vinted's, whose login opens the emulated Vinted in a browser (the extension works in that session). */
  channels: Array<{ type: ChannelType; name: string; channelId: string; accountId: string; url: string; seller?: VintedSeller }>;
}

type Saved = Record<string, (EmulatedAccount & { type: EmulatedChannelType }) | { type: 'vinted'; seller: VintedSeller }>;

/** Creates or reopens Demo Threads against the running emulators; resolves once the catalog is published. */
export async function ensureThreads(ctx: AppContext, emulators: EmulatorSet, vinted: VintedEmulator, stockclerkUrl: string): Promise<ThreadsInfo> {
  const file = path.join(ctx.config.dataDir, 'demo-threads-accounts.json');
  const { rows } = await ctx.db.query<{ tenant_id: string }>(`select tenant_id from users where lower(email) = $1`, [THREADS_LOGIN.email]);
  const info = rows[0]
    ? await reopen(ctx, rows[0].tenant_id, emulators, vinted, stockclerkUrl, file)
    : await create(ctx, emulators, vinted, stockclerkUrl, file);
  await waitForPublishing(ctx, info.tenantId);
  return info;
}

async function create(ctx: AppContext, emulators: EmulatorSet, vinted: VintedEmulator, url: string, file: string): Promise<ThreadsInfo> {
  const passwordHash = await hash(THREADS_LOGIN.password);
  const t = await withTx(ctx.db, async (tx) => {
    const created = await createTenant(tx, { name: THREADS_TENANT_NAME, locationName: 'Stockroom', owner: { email: THREADS_LOGIN.email, passwordHash } });
    await tx.query(`update users set email_verified_at = now() where tenant_id = $1 and id = $2`, [created.tenantId, created.userId]);
    // Enterprise, as Demo Deli: a demo left running must not lapse like a trial.
    await tx.query(`update tenants set plan = 'enterprise', billing_status = 'active' where id = $1`, [created.tenantId]);
    return created;
  });
  const scope = systemScope(t.tenantId, 'demo');
  const receipts: Array<{ itemId: string; qty: number }> = [];
  for (const p of PRODUCTS) {
    const png = swatchPng(p.colour, [235, 235, 235], 96);
    const { key, sha256 } = imageKey(png, 'png');
    await ctx.images.put(key, png);
    const product = await withTx(ctx.db, async (tx) => {
      const made = await createProduct(tx, scope, {
        title: p.title,
        description: p.description,
        brand: 'Threads',
        category: p.category,
        price_minor: p.pricePence,
        currency: 'GBP',
        options: p.options.map(({ name, values }) => ({ name, values })),
        tags: ['demo'],
        variants: variantsOf(p),
      });
      await addImage(tx, scope, made.id, { storageKey: key, contentType: 'image/png', bytes: png.length, sha256, alt: p.title });
      return made;
    });
    for (const v of product.variants) receipts.push({ itemId: v.item_id, qty: p.stock });
  }
  await recordMovements(
    ctx.db,
    t.tenantId,
    receipts.map((r) => ({ itemId: r.itemId, locationId: t.locationId, qtyDelta: r.qty, reason: 'receipt' as const, note: 'opening stock' })),
  );
  const saved: Saved = {};
  const channels: ThreadsInfo['channels'] = [];
  for (const c of CHANNELS) {
    const account = newEmulatedAccount(c.type, c.account);
    // A marketplace account starts empty (the catalog is published to it), unless it already lists the catalog.
    const r = await connectEmulatedChannel(ctx, {
      tenantId: t.tenantId,
      type: c.type,
      emulator: emulators[c.type],
      name: c.name,
      stockclerkUrl: url,
      items: c.listsCatalog ? catalogListings() : [],
      locationIds: [t.locationId],
      account,
      settings: c.settings,
    });
    saved[r.channelId] = { ...account, type: c.type };
    channels.push({ type: c.type, name: c.name, channelId: r.channelId, accountId: account.id, url: emulators[c.type].url });
  }
  const v = await connectVinted(ctx, t.tenantId, vinted);
  saved[v.channelId] = { type: 'vinted', seller: v.seller };
  channels.push({ type: 'vinted', name: 'Vinted', channelId: v.channelId, accountId: v.seller.login, url: vinted.url, seller: v.seller });
  fs.writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  await publishAll(
    ctx,
    t.tenantId,
    channels.filter((c) => c.type !== 'vinted' && !listsCatalog(c.type)).map((c) => c.channelId),
  );
  return { tenantId: t.tenantId, channels };
}

async function reopen(ctx: AppContext, tenantId: string, emulators: EmulatorSet, vinted: VintedEmulator, url: string, file: string): Promise<ThreadsInfo> {
  const saved: Saved = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  const channels: ThreadsInfo['channels'] = [];
  const republish: string[] = [];
  for (const [channelId, acc] of Object.entries(saved)) {
    const { rows } = await ctx.db.query<{ name: string }>(`select name from channels where tenant_id = $1 and id = $2`, [tenantId, channelId]);
    if (!rows[0]) continue;
    if (acc.type === 'vinted') {
      await reopenVinted(ctx, tenantId, channelId, vinted, acc.seller);
      channels.push({ type: 'vinted', name: rows[0].name, channelId, accountId: acc.seller.login, url: vinted.url, seller: acc.seller });
      continue;
    }
    const emu = emulators[acc.type];
    const kept = openAccount(emu, acc.type, channelId, url, acc, listsCatalog(acc.type) ? catalogListings() : []);
    await ctx.db.query(`update channels set base_url = $3, updated_at = now() where tenant_id = $1 and id = $2`, [tenantId, channelId, emu.url]);
    if (!kept) {
      // The platform lost the account (its state file was removed): the catalog goes up again.
      await ctx.db.query(`delete from listings where tenant_id = $1 and channel_id = $2`, [tenantId, channelId]);
      await ctx.db.query(
        `delete from publication_events where tenant_id = $1 and publication_id in (select id from publications where tenant_id = $1 and channel_id = $2)`,
        [tenantId, channelId],
      );
      await ctx.db.query(`delete from conflicts where tenant_id = $1 and channel_id = $2`, [tenantId, channelId]);
      await ctx.db.query(`delete from publications where tenant_id = $1 and channel_id = $2`, [tenantId, channelId]);
      if (listsCatalog(acc.type)) await importListings(ctx.db, systemScope(tenantId, 'demo'), ctx.channels, channelId);
      else republish.push(channelId);
    }
    channels.push({ type: acc.type, name: rows[0].name, channelId, accountId: acc.id, url: emu.url });
  }
  if (!channels.some((c) => c.type === 'vinted')) {
    // A Demo Threads made before it had a Vinted shop gets one.
    const v = await connectVinted(ctx, tenantId, vinted);
    saved[v.channelId] = { type: 'vinted', seller: v.seller };
    channels.push({ type: 'vinted', name: 'Vinted', channelId: v.channelId, accountId: v.seller.login, url: vinted.url, seller: v.seller });
    fs.writeFileSync(file, JSON.stringify(saved, null, 2), { mode: 0o600 });
  }
  if (republish.length) await publishAll(ctx, tenantId, republish);
  return { tenantId, channels };
}

const listsCatalog = (type: EmulatedChannelType) => CHANNELS.some((c) => c.type === type && c.listsCatalog);

async function publishAll(ctx: AppContext, tenantId: string, channelIds: string[]): Promise<void> {
  const scope = systemScope(tenantId, 'demo');
  const { rows } = await ctx.db.query<{ id: string }>(`select id from products where tenant_id = $1 and status = 'active' order by id`, [tenantId]);
  const channels = await catalogChannels(ctx.db, scope, ctx.channels, channelIds);
  await withTx(ctx.db, (tx) =>
    startBulk(
      tx,
      scope,
      channels,
      rows.map((r) => r.id),
      'publish',
    ),
  );
  ctx.jobs.nudgeRelay();
}

/** Waits (at most two minutes) until no publication of the tenant is still publishing, reporting progress. */
async function waitForPublishing(ctx: AppContext, tenantId: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = -1;
  for (;;) {
    const { rows } = await ctx.db.query<{ waiting: number; live: number; failed: number }>(
      `select count(*) filter (where state = 'publishing')::int as waiting, count(*) filter (where state = 'live')::int as live,
              count(*) filter (where state = 'error')::int as failed
       from publications where tenant_id = $1`,
      [tenantId],
    );
    const r = rows[0]!;
    if (r.waiting === 0) {
      if (r.failed) ctx.log.warn({ failed: r.failed }, 'Demo Threads: some products could not be published; see their publications');
      return;
    }
    if (r.live !== last) {
      ctx.log.info({ live: r.live, waiting: r.waiting }, 'Demo Threads: publishing the catalog to the marketplaces');
      last = r.live;
    }
    if (Date.now() > deadline) {
      ctx.log.warn({ waiting: r.waiting }, 'Demo Threads: publishing is taking longer than expected; it goes on in the background');
      return;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
}

/**
 * Demo Threads as DATA_DIR/dev.json lists it: the login, and per channel a ready sale and its state
 * URL. Vinted has no ready sale (nothing is listed there until an extension is paired and publishes)
 * and carries instead the seller's login to the emulated Vinted, for the browser the extension runs in.
 */
export function threadsDevTenant(info: ThreadsInfo) {
  return {
    name: THREADS_TENANT_NAME,
    email: THREADS_LOGIN.email,
    password: THREADS_LOGIN.password,
    channels: info.channels.map((c) => {
      const account = `${c.url}/_control/accounts/${encodeURIComponent(c.accountId)}`;
      const common = { id: c.channelId, type: c.type, emulator: c.url, account: c.accountId, state: `${account}/state` };
      if (c.seller) return { ...common, sale: null, vinted_login: { url: `${c.url}/member/login`, login: c.seller.login, password: c.seller.password } };
      return { ...common, sale: { method: 'POST', url: `${account}/sale`, body: { sku: THREADS_SALE_SKU, qty: 1 }, sku: THREADS_SALE_SKU } };
    }),
  };
}
