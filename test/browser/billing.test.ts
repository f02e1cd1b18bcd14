// The merchant's side of billing in a real browser (Debian chromium via playwright-core), against a
// real StockClerk (API, workers, Postgres), the Stripe emulator (its hosted Checkout page and its
// control API standing in for a renewal) and the channel emulators:
//   a trial tenant with 3 shops (the trial's all) -> the Channels page says "3 of 3 shops" and a
//   fourth shop is refused with the limit and an upgrade link -> a trial ending soon shows the
//   banner (a button for the owner, words for a viewer) -> Upgrade to Growth on /billing -> Pay
//   on Stripe's page -> back on /billing, "confirming payment" until Stripe's webhook is applied,
//   then Growth -> a failed renewal: the past-due banner with when pushes stop -> the grace period
//   (seconds here) ends: the banner says pushes are paused, a sale arriving by the till's webhook
//   is in the ledger while the web shops are not pushed to -> the invoice is paid: pushes resume
//   and every channel converges to the ledger.
// Assertions are on the emulators' state and the ledger as well as on what the page shows.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startStripeEmulator, type StripeEmulator } from '../../emulators/stripe/index.ts';
import { newEmulatedAccount, startEmulators, type EmulatorSet } from '../../src/demo/emulated.ts';
import { systemScope } from '../../src/services/scope.ts';
import { addMember } from '../../src/services/users.ts';
import { ensureWebBuilt, launchBrowser, shoot } from '../helpers/browser.ts';
import { api, eventually, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { emulatedTenant, held, sale, type EmulatedTenant } from '../helpers/tenant.ts';

const WEBHOOK_SECRET = 'whsec_browser_billing_0123456789';
/** Long enough to see the past-due banner, short enough to watch it run out. */
const GRACE_S = 12;
const SKU = 'PIE-1';
const ITEMS = [
  { sku: SKU, name: 'Steak Pie', qty: 30 },
  { sku: 'TART-1', name: 'Custard Tart', qty: 12 },
];

let h: Harness;
let stripeEmu: StripeEmulator;
let gate: Gate;
let emus: EmulatorSet;
let t: EmulatedTenant;
let browser: Browser;
let owner: BrowserContext;
let viewer: BrowserContext;
let page: Page;
let viewerPage: Page;
let subscriptionId = '';

/**
 * Between the Stripe emulator and StockClerk's webhook endpoint: passes each signed delivery on
 * byte for byte, or holds it while closed (the emulator waits 10 s for an answer), so the test can
 * see the page while the payment is made but not yet confirmed.
 */
interface Gate {
  url: string;
  hold(): void;
  open(): void;
  close(): Promise<void>;
}

async function startGate(target: string): Promise<Gate> {
  let opened: Promise<void> = Promise.resolve();
  let release = () => {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      await opened;
      try {
        const r = await fetch(target, {
          method: 'POST',
          headers: { 'content-type': String(req.headers['content-type']), 'stripe-signature': String(req.headers['stripe-signature'] ?? '') },
          body: Buffer.concat(chunks),
        });
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(await r.text());
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/stripe`,
    hold: () => (opened = new Promise((r) => (release = r))),
    open: () => release(),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

async function loggedIn(token: string, width = 1280): Promise<BrowserContext> {
  const ctx = await browser.newContext({ viewport: { width, height: width > 500 ? 900 : 844 }, deviceScaleFactor: 1 });
  await ctx.addInitScript(
    (tk) => (globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }).localStorage.setItem('stockclerk.token', tk),
    token,
  );
  return ctx;
}

const db = () => h.sc.ctx.db;
const onHand = async (sku: string) =>
  (await db().query<{ on_hand: number }>(`select on_hand from stock_levels where tenant_id = $1 and item_id = $2`, [t.tenantId, t.itemIds.get(sku)])).rows[0]!
    .on_hand;
const qtyOn = (type: 'eposnow' | 'wix' | 'shopify', sku = SKU) => held(emus, type, t.channels[type]!.accountId, sku)!.qty;
const tenantRow = async () =>
  (await db().query(`select plan, billing_status, stripe_subscription_id, lapsed_at from tenants where id = $1`, [t.tenantId])).rows[0] as {
    plan: string;
    billing_status: string;
    stripe_subscription_id: string | null;
    lapsed_at: Date | null;
  };
const control = async (p: string, body: unknown = {}) => {
  const r = await fetch(`${stripeEmu.url}/_control${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(r.status, `${p}: ${await r.clone().text()}`).toBe(200);
  return r.json() as Promise<any>;
};
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const banner = (p: Page) => p.getByTestId('billing-banner');

beforeAll(async () => {
  await ensureWebBuilt();
  stripeEmu = await startStripeEmulator();
  h = await startHarness({
    config: {
      // The same wiring `npm start` uses without STRIPE_SECRET_KEY: the official SDK against the emulator.
      stripe: { secretKey: 'sk_test_emulator', webhookSecret: WEBHOOK_SECRET, apiBase: stripeEmu.url, prices: {} },
      billingGraceS: GRACE_S,
    },
  });
  gate = await startGate(`${h.url}/webhooks/stripe`);
  stripeEmu.setWebhook({ url: gate.url, secret: WEBHOOK_SECRET });
  emus = await startEmulators();
  // The trial's three shops: a till selling, two web shops told the ledger's count.
  t = await emulatedTenant(h, emus, { types: ['eposnow', 'wix', 'shopify'], items: ITEMS });
  const email = `viewer-${Date.now()}@example.com`;
  await addMember(db(), systemScope(t.tenantId), { email, password: 'viewer-pass-123', role: 'viewer' });
  const login = await api(h.url, 'POST', '/api/v1/auth/login', { body: { email, password: 'viewer-pass-123' } });
  expect(login.status).toBe(200);
  browser = await launchBrowser();
  owner = await loggedIn(t.token);
  viewer = await loggedIn(login.body.access_token);
  page = await owner.newPage();
  viewerPage = await viewer.newPage();
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page && !page.isClosed()) {
    await page.screenshot({ path: `test-artifacts/failed-billing-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`, fullPage: true }).catch(() => {});
  }
});

afterAll(async () => {
  await browser?.close();
  await emus?.close();
  await h?.stop();
  await stripeEmu?.close();
  await gate?.close();
});

describe('billing in the dashboard', () => {
  it('on a trial with every shop used: "3 of 3 shops", and a fourth is refused with the limit and an upgrade link', async () => {
    await page.goto(`${h.url}/channels`);
    await expect.poll(() => page.getByTestId('shops-used').textContent(), { timeout: 10_000 }).toBe('3 of 3 shops');
    // A 14-day trial just begun: nothing to say yet.
    expect(await banner(page).count()).toBe(0);

    await page.getByRole('button', { name: 'Add channel' }).click();
    const form = page.getByRole('form', { name: 'Connect a channel' });
    const acc = newEmulatedAccount('deliveroo');
    await form.locator('select[name="type"]').selectOption('deliveroo');
    await form.locator('[name="base_url"]').fill(emus.deliveroo.url);
    for (const [field, value] of Object.entries(acc.channel)) await form.locator(`[name="${field}"]`).fill(value);
    for (const [field, value] of Object.entries(acc.settings)) await form.locator(`[name="settings.${field}"]`).fill(String(value));
    await form.getByRole('button', { name: /Connect and test connection/ }).click();
    const notice = form.getByTestId('plan-limit');
    await expect.poll(() => notice.textContent(), { timeout: 10_000 }).toContain('Your Trial plan includes 3 shops, and 3 are connected.');
    expect(await notice.textContent()).toContain('Growth (10 shops)');
    // The limit in place of the generic error line, and nothing connected.
    expect(await form.locator('.form-error').count()).toBe(0);
    expect((await db().query(`select count(*)::int as n from channels where tenant_id = $1`, [t.tenantId])).rows[0].n).toBe(3);
    await notice.getByRole('link', { name: 'Upgrade to Growth' }).click();
    await page.waitForURL(`${h.url}/billing`);
  });

  it('a trial ending soon: the banner, with a button for the owner and words for a viewer', async () => {
    await db().query(`update tenants set trial_ends_at = now() + interval '2 days' where id = $1`, [t.tenantId]);
    await page.reload();
    await expect.poll(() => banner(page).getAttribute('data-kind'), { timeout: 10_000 }).toBe('trial_ending');
    expect(await banner(page).textContent()).toContain('Your free trial ends in 2 days');
    expect(await banner(page).getByRole('link', { name: 'Choose a plan' }).getAttribute('href')).toBe('/billing');

    await viewerPage.goto(`${h.url}/`);
    await expect.poll(() => banner(viewerPage).getAttribute('data-kind'), { timeout: 10_000 }).toBe('trial_ending');
    expect(await banner(viewerPage).getByRole('link').count()).toBe(0);
    expect(await banner(viewerPage).textContent()).toContain('Ask your account owner to choose a plan');
    // No Billing entry in a viewer's menu; the page, opened anyway, offers nothing to buy.
    expect(await viewerPage.getByRole('navigation').getByRole('link', { name: 'Billing' }).count()).toBe(0);
    await viewerPage.goto(`${h.url}/billing`);
    await expect.poll(() => viewerPage.getByText('Only the account owner can change the plan.').count(), { timeout: 10_000 }).toBe(1);
    expect(await viewerPage.getByRole('button', { name: /Upgrade|Choose/ }).count()).toBe(0);
  });

  it("upgrades to Growth on Stripe's hosted page; back on /billing it confirms the payment, then shows Growth", async () => {
    const current = page.getByTestId('current-plan');
    await expect.poll(() => current.textContent(), { timeout: 10_000 }).toContain('Trial plan');
    expect(await current.getByRole('progressbar', { name: 'Shops used' }).getAttribute('aria-valuenow')).toBe('3');
    expect(await page.getByTestId('plan-starter').textContent()).toMatch(/Starter.*£50\/month.*3 shops/);
    expect(await page.getByTestId('plan-growth').textContent()).toMatch(/Growth.*£100\/month.*10 shops/);
    expect(await page.getByTestId('plan-enterprise').textContent()).toContain('Contact us');

    gate.hold(); // Stripe's webhooks wait, so the return finds the payment not yet applied
    await page.getByTestId('plan-growth').getByRole('button', { name: 'Upgrade to Growth' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${stripeEmu.url}/checkout/`), { timeout: 15_000 });
    await page.getByRole('button', { name: 'Pay £100.00' }).click();
    await page.waitForURL(`${h.url}/billing?checkout=success`);
    const msg = page.getByTestId('checkout-message');
    await expect.poll(() => msg.getAttribute('data-state'), { timeout: 10_000 }).toBe('confirming');
    expect(await msg.textContent()).toContain('Confirming your payment');
    expect((await tenantRow()).plan).toBe('trial');

    gate.open();
    await expect.poll(() => msg.getAttribute('data-state'), { timeout: 20_000 }).toBe('confirmed');
    expect(await msg.textContent()).toContain("Payment confirmed: you're on the Growth plan");
    // Off the return address once confirmed: a later reload does not wait for a payment again.
    await page.waitForURL(`${h.url}/billing`);
    expect(await current.textContent()).toContain('Growth plan');
    expect(await current.getByTestId('shops-used').textContent()).toBe('3 of 10 shops');
    expect(await banner(page).count()).toBe(0); // paid: no trial banner

    const row = await tenantRow();
    expect(row).toMatchObject({ plan: 'growth', billing_status: 'active', lapsed_at: null });
    subscriptionId = row.stripe_subscription_id!;
    // What Stripe (the emulator) holds: an active subscription to the Growth price.
    const sub = (await (
      await fetch(`${stripeEmu.url}/v1/subscriptions/${subscriptionId}`, { headers: { authorization: 'Bearer sk_test_emulator' } })
    ).json()) as any;
    expect(sub.status).toBe('active');
    expect(sub.items.data[0].price.id).toBe(stripeEmu.prices.stockclerk_growth);
  });

  it('the Billing page at 1280 and 390 px, without sideways scrolling', async () => {
    for (const width of [1280, 390]) {
      const ctx = await loggedIn(t.token, width);
      const p = await ctx.newPage();
      await p.goto(`${h.url}/billing`);
      await expect.poll(() => p.getByTestId('current-plan').textContent(), { timeout: 10_000 }).toContain('Growth plan');
      const overflow = await p.evaluate(() => {
        const el = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
        return el.scrollWidth - el.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      await shoot(p, `billing-${width}`);
      await ctx.close();
    }
  });

  it('a failed renewal shows the past-due banner; after the grace period pushes stop while sales are still recorded', async () => {
    // Paid and current: a sale on the till reaches the web shops (so what follows is the pause's doing).
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, SKU, 1)).ok).toBe(true);
    await eventually(async () => (await onHand(SKU)) === ITEMS[0]!.qty - 1, 10_000, 'the first sale in the ledger');
    await eventually(() => qtyOn('wix') === ITEMS[0]!.qty - 1 && qtyOn('shopify') === ITEMS[0]!.qty - 1, 10_000, 'the first sale pushed');
    const before = await onHand(SKU);

    await control(`/subscriptions/${subscriptionId}/renew`, { outcome: 'failed' });
    await eventually(async () => (await tenantRow()).billing_status === 'past_due', 15_000, 'the failed renewal to be applied');
    await page.goto(`${h.url}/items`); // any page: the banner is the shell's
    await expect.poll(() => banner(page).getAttribute('data-kind'), { timeout: 5_000 }).toBe('grace');
    const text = (await banner(page).textContent())!;
    expect(text).toContain('Your last payment failed: pushes to your channels stop on');
    expect(text).toContain("unless it's paid");
    expect(await banner(page).getByRole('link', { name: 'Pay now' }).getAttribute('href')).toBe('/billing');
    await viewerPage.reload();
    await expect.poll(() => banner(viewerPage).getAttribute('data-kind'), { timeout: 5_000 }).toBe('grace');
    expect(await banner(viewerPage).getByRole('link').count()).toBe(0);
    expect(await banner(viewerPage).textContent()).toContain('Ask your account owner to pay');
    // Still within the grace period: pushes run.
    expect((await api(h.url, 'GET', '/api/v1/billing', { token: t.token })).body.pushes_paused).toBe(false);

    // The grace period runs out: the open page says so by itself (no reload).
    await expect.poll(() => banner(page).getAttribute('data-kind'), { timeout: (GRACE_S + 10) * 1000 }).toBe('paused');
    expect(await banner(page).textContent()).toContain('Pushes to your channels are paused until payment; sales are still recorded.');
    expect((await api(h.url, 'GET', '/api/v1/billing', { token: t.token })).body.pushes_paused).toBe(true);
    await settle(1_500); // every worker has read the paused list (once a second)

    // A sale on the till, arriving by its webhook: in the ledger; the web shops are not told.
    expect((await sale(emus, 'eposnow', t.channels.eposnow!.accountId, SKU, 2)).ok).toBe(true);
    await eventually(async () => (await onHand(SKU)) === before - 2, 10_000, 'the sale in the ledger');
    const moved = await db().query(`select qty_delta, reason from stock_movements where tenant_id = $1 and item_id = $2 order by created_at desc limit 1`, [
      t.tenantId,
      t.itemIds.get(SKU),
    ]);
    expect(moved.rows[0]).toMatchObject({ qty_delta: -2, reason: 'sale' });
    await settle(2_500);
    expect(qtyOn('eposnow')).toBe(before - 2); // where the sale was made
    expect([qtyOn('wix'), qtyOn('shopify')]).toEqual([before, before]);
  });

  it('paying the invoice resumes pushes: the channels converge to the ledger and the banner goes', async () => {
    const ledger = await onHand(SKU);
    await control(`/subscriptions/${subscriptionId}/pay`);
    await eventually(async () => (await tenantRow()).billing_status === 'active', 15_000, 'the payment to be applied');
    await eventually(() => qtyOn('wix') === ledger && qtyOn('shopify') === ledger && qtyOn('eposnow') === ledger, 15_000, 'the channels to converge');

    await page.goto(`${h.url}/billing`);
    await expect.poll(() => page.getByTestId('current-plan').textContent(), { timeout: 10_000 }).toContain('Growth plan');
    expect(await page.getByTestId('current-plan').textContent()).toContain('active');
    expect(await banner(page).count()).toBe(0);
    expect((await api(h.url, 'GET', '/api/v1/billing', { token: t.token })).body).toMatchObject({
      plan: 'growth',
      status: 'active',
      pushes_paused: false,
      grace_ends_at: null,
    });
  });
});
