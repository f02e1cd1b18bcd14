// The landing page's API: its public pricing read, the Enterprise enquiry form (stored and mailed
// to every operator in one transaction; a honeypot that answers like success; a per-IP limit) and
// the operators' list and status changes. Mail goes to the catcher and is read back from it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLANS } from '../../src/domain/plans.ts';
import { makeSuperAdmin } from '../../src/services/operators.ts';
import { inbox, rawSource, waitForMail } from '../helpers/mail.ts';
import { api, registerTenant, startHarness, type Harness } from '../helpers/stockclerk.ts';
import { client, expectError, expectInvalid, type Call } from './support.ts';

const PUBLIC = 'https://stock.example.test';
let h: Harness;
let ops: Call;
let merchant: Call;
const operators = [`ops-a-${Date.now()}@stockclerk.example`, `ops-b-${Date.now()}@stockclerk.example`];
let ipSeq = 0;
/** Each test posts from an address of its own (X-Forwarded-For, believed with TRUST_PROXY), so one test's spending never limits another's. */
const freshIp = () => `203.0.113.${++ipSeq}`;

beforeAll(async () => {
  h = await startHarness({ mail: true, config: { publicUrl: PUBLIC, trustProxy: true } });
  // One operator made afresh, one a merchant promoted: neither has confirmed an address, and both are mailed.
  await makeSuperAdmin(h.sc.ctx.db, operators[0]!, 'operator-pass-1');
  const promoted = await registerTenant(h.url, 'Promoted Co');
  operators[1] = promoted.email;
  await makeSuperAdmin(h.sc.ctx.db, promoted.email, null);
  const login = await api(h.url, 'POST', '/api/v1/auth/login', { body: { email: operators[0], password: 'operator-pass-1' } });
  ops = client(h.url, login.body.access_token);
  merchant = client(h.url, (await registerTenant(h.url, 'Merchant Co')).token);
});
afterAll(async () => {
  await h?.stop();
});

const enquire = (body: unknown, ip = freshIp()) => api(h.url, 'POST', '/api/v1/enquiries', { body, headers: { 'x-forwarded-for': ip } });
const stored = async (company: string) =>
  (await h.sc.ctx.db.query(`select id, name, email, company, shops, message, status from enquiries where company = $1`, [company])).rows;
let sentinel = 0;
/** No operator got a mail about `company`: checked once a later enquiry's mail has arrived (mail leaves through jobs, so "not yet" is not "never"). */
async function noMailAbout(company: string): Promise<void> {
  const later = `Sentinel ${++sentinel}`;
  expect((await enquire(valid(later))).status).toBe(202);
  await waitForMail(h.mailApi!, operators[0]!, new RegExp(later));
  for (const to of operators) expect((await inbox(h.mailApi!, to)).filter((m) => m.subject.includes(company))).toEqual([]);
}
const valid = (company: string) => ({ name: 'Ada Baker', email: 'ada@bakery.example', company, shops: 40, message: 'We run 40 shops across three brands.' });

describe('GET /pricing', () => {
  it('answers without a credential, from the plan definitions and the channel registry', async () => {
    const r = await api(h.url, 'GET', '/api/v1/pricing');
    expect(r.status).toBe(200);
    expect(r.body.plans.map((p: { name: string; price: string; shops: number | null }) => [p.name, p.price, p.shops])).toEqual([
      ['trial', 'Free for 14 days', 3],
      ['starter', '£50 / month', 3],
      ['growth', '£100 / month', 10],
      ['enterprise', 'By enquiry', null],
    ]);
    expect(r.body.plans[1].monthly_pence).toBe(PLANS.starter.monthlyPence);
    const live = r.body.platforms.filter((p: { live: boolean }) => p.live).map((p: { label: string }) => p.label);
    expect(live).toEqual(expect.arrayContaining(['Shopify', 'Wix', 'Epos Now', 'Deliveroo', 'Vendure']));
    expect(r.body.platforms.find((p: { label: string }) => p.label === 'eBay')).toEqual({ label: 'eBay', live: true });
    expect(r.body.platforms.find((p: { label: string }) => p.label === 'Etsy')).toEqual({ label: 'Etsy', live: true });
    expect(r.body.platforms.find((p: { label: string }) => p.label === 'Shopee')).toEqual({ label: 'Shopee', live: true });
    expect(r.body.platforms.find((p: { label: string }) => p.label === 'TikTok Shop')).toEqual({ label: 'TikTok Shop', live: true });
    expect(r.body.platforms.find((p: { label: string }) => p.label === 'Vinted')).toEqual({ label: 'Vinted', live: true });
  });
});

describe('POST /enquiries', () => {
  it('stores a valid enquiry and mails it to every operator, verified or not, Reply-To the enquirer', async () => {
    const r = await enquire(valid('Big Bakery Ltd'));
    expect(r.status).toBe(202);
    expect(r.body.id).toMatch(/^enq_[0-9a-f]{32}$/);
    expect(await stored('Big Bakery Ltd')).toEqual([
      {
        id: r.body.id,
        name: 'Ada Baker',
        email: 'ada@bakery.example',
        company: 'Big Bakery Ltd',
        shops: 40,
        message: 'We run 40 shops across three brands.',
        status: 'new',
      },
    ]);
    for (const to of operators) {
      const mail = await waitForMail(h.mailApi!, to, /Enterprise enquiry from Big Bakery Ltd/);
      expect(mail.text).toContain('Ada Baker <ada@bakery.example> of Big Bakery Ltd asked about StockClerk Enterprise for 40 shops');
      expect(mail.text).toContain('We run 40 shops across three brands.');
      expect(mail.text).toContain(`${PUBLIC}/admin/enquiries`);
      expect(await rawSource(h.mailApi!, mail)).toMatch(/^Reply-To: ada@bakery\.example$/m);
    }
    // A merchant is not an operator: no mail.
    expect((await inbox(h.mailApi!, 'ada@bakery.example')).length).toBe(0);
  });

  it('a filled honeypot answers 202 like success, and stores and mails nothing', async () => {
    const r = await enquire({ ...valid('Bot Corp'), website: 'http://spam.example' });
    expect(r.status).toBe(202);
    expect(r.body.id).toMatch(/^enq_[0-9a-f]{32}$/);
    expect(await stored('Bot Corp')).toEqual([]);
    await noMailAbout('Bot Corp');
  });

  it('refuses invalid input with 400 naming the fields, storing and mailing nothing', async () => {
    const bad = await enquire({ name: '', email: 'not-an-email', company: 'Bad Input Ltd', shops: 2.5, message: '' });
    expectInvalid(bad, 'email');
    const fields = (bad.body.error.details as Array<{ path: string }>).map((d) => d.path).sort();
    expect(fields).toEqual(['email', 'message', 'name', 'shops']);
    expectInvalid(await enquire({ ...valid('Bad Input Ltd'), name: 'Ada\r\nBcc: x@example.com' }), 'name');
    expectInvalid(await enquire({ ...valid('Bad Input Ltd'), extra: 1 }));
    expectInvalid(await enquire({ ...valid('Bad Input Ltd'), message: 'a\u0000b' }), 'message');
    expect(await stored('Bad Input Ltd')).toEqual([]);
    await noMailAbout('Bad Input Ltd');
  });

  it('limits each client address: the sixth in an hour is 429 rate_limited with Retry-After; another address goes on', async () => {
    const ip = freshIp();
    for (let i = 1; i <= 5; i++) expect((await enquire(valid(`Limited ${i}`), ip)).status).toBe(202);
    const refused = await enquire(valid('Limited 6'), ip);
    expectError(refused, 429, 'rate_limited');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await stored('Limited 6')).toEqual([]);
    expect((await enquire(valid('Limited elsewhere'))).status).toBe(202);
  });
});

describe('operators handle enquiries', () => {
  it('lists them newest first, filters by status, pages by cursor, and changes status and note', async () => {
    const a = (await enquire(valid('Paging One'))).body.id as string;
    const b = (await enquire(valid('Paging Two'))).body.id as string;
    const first = await ops('GET', '/admin/enquiries?limit=1');
    expect(first.status).toBe(200);
    expect(first.body.data.map((e: { id: string }) => e.id)).toEqual([b]);
    const second = await ops('GET', `/admin/enquiries?limit=1&cursor=${first.body.next_cursor}`);
    expect(second.body.data.map((e: { id: string }) => e.id)).toEqual([a]);

    const changed = await ops('PATCH', `/admin/enquiries/${a}`, { status: 'contacted', note: 'Called Ada on Monday' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: a, status: 'contacted', note: 'Called Ada on Monday', company: 'Paging One' });
    const contacted = await ops('GET', '/admin/enquiries?status=contacted');
    expect(contacted.body.data.map((e: { id: string }) => e.id)).toEqual([a]);
    expect((await ops('GET', '/admin/enquiries?status=new&limit=500')).body.data.some((e: { id: string }) => e.id === a)).toBe(false);
    // A note alone keeps the status; null clears the note.
    expect((await ops('PATCH', `/admin/enquiries/${a}`, { note: null })).body).toMatchObject({ status: 'contacted', note: null });

    expectInvalid(await ops('PATCH', `/admin/enquiries/${a}`, {}));
    expectInvalid(await ops('PATCH', `/admin/enquiries/${a}`, { status: 'maybe' }), 'status');
    expectInvalid(await ops('GET', '/admin/enquiries?status=maybe'), 'status');
    expectError(await ops('PATCH', '/admin/enquiries/enq_00000000000000000000000000000001', { status: 'won' }), 404, 'not_found');
    expectError(await ops('PATCH', '/admin/enquiries/nope', { status: 'won' }), 404, 'not_found');
  });

  it('refuses anyone but a super admin with 403, changing nothing', async () => {
    const id = (await enquire(valid('Guarded Ltd'))).body.id as string;
    expectError(await merchant('GET', '/admin/enquiries'), 403, 'forbidden');
    expectError(await merchant('PATCH', `/admin/enquiries/${id}`, { status: 'won' }), 403, 'forbidden');
    expectError(await client(h.url, undefined)('GET', '/admin/enquiries'), 401, 'unauthorized');
    expect((await stored('Guarded Ltd'))[0].status).toBe('new');
  });
});
