// A team's accounts in a real browser (Debian chromium via playwright-core), reading real mail
// from the MailDev catcher `npm start` runs: sign up -> confirm the address from the mailed link ->
// invite an editor and a viewer -> each accepts in a browser of their own and lands logged in with
// their role -> the owner forgets the password, resets it from the mailed link, and every session
// opened with the old one is logged out.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuilt, launchBrowser, shoot } from '../helpers/browser.ts';
import { linkIn, waitForMail } from '../helpers/mail.ts';
import { api, startHarness, type Harness } from '../helpers/stockclerk.ts';

let h: Harness;
let browser: Browser;
const contexts: BrowserContext[] = [];
let owner: Page;
const stamp = Date.now();
const OWNER = `owner-${stamp}@example.com`;
const EDITOR = `editor-${stamp}@example.com`;
const VIEWER = `viewer-${stamp}@example.com`;
const PASSWORD = 'bakery-secret-42';
const cspRefusals: string[] = [];

async function newPage(): Promise<Page> {
  const c = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(c);
  const page = await c.newPage();
  page.on('console', (m) => {
    if (/Content.Security.Policy/i.test(m.text())) cspRefusals.push(m.text());
  });
  return page;
}

/** The link a mail holds, on this server (PUBLIC_URL is unset: links name the API's own address). */
async function mailedLink(to: string, subject: RegExp, page: string): Promise<string> {
  const { url } = linkIn(await waitForMail(h.mailApi!, to, subject), page);
  expect(url.origin).toBe(h.url);
  return url.toString();
}

beforeAll(async () => {
  await ensureWebBuilt();
  h = await startHarness({ mail: true });
  browser = await launchBrowser();
  owner = await newPage();
}, 120_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail') await shoot(owner, `accounts-failed-${ctx.task.name.replace(/\W+/g, '-')}`).catch(() => {});
});

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await h?.stop();
});

describe('a team in the browser', () => {
  it('signs up and confirms the address from the mailed link', async () => {
    await owner.goto(`${h.url}/signup`);
    await owner.fill('input[name=business_name]', 'Crumb & Co');
    await owner.fill('input[name=email]', OWNER);
    await owner.fill('input[name=password]', PASSWORD);
    await owner.click('button[type=submit]');
    await owner.waitForURL(/\/onboarding$/);
    await owner.getByTestId('verify-banner').waitFor();

    await owner.goto(await mailedLink(OWNER, /confirm your email/i, 'verify-email'));
    await owner.getByRole('button', { name: 'Confirm my address' }).click();
    await owner.getByTestId('email-verified').waitFor();
    await owner.goto(`${h.url}/settings`);
    await owner.getByText('address confirmed').waitFor();
    expect(await owner.getByTestId('verify-banner').count()).toBe(0);
  });

  it('invites an editor and a viewer; each accepts in their own browser and gets their role', async () => {
    await owner.goto(`${h.url}/team`);
    for (const [email, role] of [
      [EDITOR, 'editor'],
      [VIEWER, 'viewer'],
    ]) {
      await owner.fill('input[name=invite_email]', email!);
      await owner.selectOption('select[name=invite_role]', role!);
      await owner.getByRole('button', { name: 'Invite' }).click();
      await owner.getByRole('status').filter({ hasText: email! }).waitFor();
      await owner.locator(`[data-testid=invitation][data-email="${email}"]`).waitFor();
    }
    await shoot(owner, 'team');

    // An item for the newcomers to look at (the owner makes it through the API).
    const ownerToken = (await api(h.url, 'POST', '/api/v1/auth/login', { body: { email: OWNER, password: PASSWORD } })).body.access_token;
    expect((await api(h.url, 'POST', '/api/v1/items', { token: ownerToken, body: { sku: 'LOAF-1', name: 'Sourdough Loaf' } })).status).toBe(201);

    for (const [email, role] of [
      [EDITOR, 'editor'],
      [VIEWER, 'viewer'],
    ]) {
      const page = await newPage();
      await page.goto(await mailedLink(email!, /invitation to join Crumb & Co/i, 'accept-invitation'));
      await page.fill('input[name=password]', PASSWORD);
      await page.getByRole('button', { name: 'Accept and log in' }).click();
      await page.waitForURL(`${h.url}/`);
      await page.getByRole('link', { name: 'Settings' }).click();
      await page.getByText(`${email} · ${role} · address confirmed`).waitFor();
      // Neither manages the team.
      expect(await page.getByRole('link', { name: 'Team' }).count()).toBe(0);
      // The page offers what the role may do: an editor edits stock, a viewer only looks.
      await page.getByRole('link', { name: 'Items' }).click();
      await page.locator('[data-testid=item-row][data-sku="LOAF-1"]').waitFor();
      // (Settings, just shown, loaded who this is: the rows know the role as they render.)
      if (role === 'editor') await page.getByRole('button', { name: 'Edit LOAF-1' }).waitFor();
      else expect(await page.getByRole('button', { name: 'Edit LOAF-1' }).count()).toBe(0);
    }

    await owner.reload();
    await owner.locator(`[data-testid=member][data-email="${EDITOR}"]`).waitFor();
    await owner.locator(`[data-testid=member][data-email="${VIEWER}"]`).waitFor();
    expect(await owner.getByTestId('invitation').count()).toBe(0);
  });

  it('resets a forgotten password from the mailed link; the old sessions are logged out', async () => {
    const other = await newPage();
    await other.goto(`${h.url}/login`);
    await other.getByRole('link', { name: 'Forgot your password?' }).click();
    await other.fill('input[name=email]', OWNER);
    await other.getByRole('button', { name: 'Mail me a link' }).click();
    await other.getByTestId('reset-sent').waitFor();

    await other.goto(await mailedLink(OWNER, /reset your/i, 'reset-password'));
    await other.fill('input[name=password]', 'a-brand-new-secret-7');
    await other.getByRole('button', { name: 'Set the new password' }).click();
    await other.waitForURL(/\/login\?reset=done$/);
    await other.getByText('Your password is changed').waitFor();

    // The first browser's session was opened with the old password: its next call finds it ended.
    await owner.goto(`${h.url}/items`);
    await owner.getByRole('form', { name: 'Log in' }).waitFor({ timeout: 15_000 });
    expect((await api(h.url, 'POST', '/api/v1/auth/login', { body: { email: OWNER, password: PASSWORD } })).status).toBe(401);

    await other.fill('input[name=email]', OWNER);
    await other.fill('input[name=password]', 'a-brand-new-secret-7');
    await other.click('button[type=submit]');
    await other.getByRole('link', { name: 'Team' }).waitFor();
    expect(cspRefusals).toEqual([]);
  });
});
