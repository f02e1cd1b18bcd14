// The Vinted emulator over real HTTP, the way a browser extension meets it: the login form's
// session cookie and the home page's CSRF token, the documented 401s, photo upload and serving,
// the idempotent item upload, edit / hide / sold / delete, wardrobe and my_orders paging, the
// anti-bot 429 with Retry-After and the fault knobs, a buyer's sale, and the state file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVintedEmulator, SESSION_COOKIE, type VintedEmulator } from './index.ts';

// Enough of a JPEG for the emulator's sniffing (magic bytes), plus some payload.
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('emulated jpeg body '.repeat(20)), Buffer.from([0xff, 0xd9])]);

let emu: VintedEmulator;

type Res = { status: number; body: any; headers: Headers };

async function ctl(method: string, p: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${emu.url}${p}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

interface Seller {
  login: string;
  userId: number;
  cookie: string;
  csrf: string;
}

async function seller(login = 'seller', password = 'pw-1234'): Promise<Seller> {
  await ctl('POST', '/_control/accounts', { login, password });
  const s = (await ctl('POST', '/_control/sessions', { login })).body;
  expect(s.cookie_name).toBe(SESSION_COOKIE);
  return { login, userId: s.user_id, cookie: `${s.cookie_name}=${s.cookie_value}`, csrf: s.csrf_token };
}

async function call(s: Seller | null, method: string, p: string, opts: { body?: unknown; csrf?: string | null; form?: FormData } = {}): Promise<Res> {
  const headers: Record<string, string> = {};
  if (s) headers.cookie = s.cookie;
  const csrf = opts.csrf === undefined ? s?.csrf : opts.csrf;
  if (csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
  let body: FormData | string | undefined;
  if (opts.form) body = opts.form;
  else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${emu.url}${p}`, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // HTML or empty
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

function photoForm(bytes: Buffer = JPEG, type = 'item', uuid = 'tmp-1'): FormData {
  const f = new FormData();
  f.set('photo[type]', type);
  f.set('photo[temp_uuid]', uuid);
  f.set('photo[file]', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'photo.jpg');
  return f;
}

async function upload(s: Seller, item: Record<string, unknown> = {}, uploadSessionId: string | null = crypto.randomUUID()): Promise<Res> {
  const photo = (await call(s, 'POST', '/api/v2/photos', { form: photoForm() })).body;
  return call(s, 'POST', '/api/v2/item_upload/items', {
    body: {
      item: {
        id: null,
        currency: 'GBP',
        temp_uuid: 'tmp-1',
        title: 'Blue denim jacket',
        description: 'Worn twice',
        brand: 'Levi',
        size: 'M',
        status_id: 2,
        price: 12.5,
        assigned_photos: [{ id: photo.id, orientation: 0 }],
        ...item,
      },
      feedback_id: null,
      push_up: false,
      upload_session_id: uploadSessionId,
    },
  });
}

const stateOf = async (login = 'seller') => (await ctl('GET', `/_control/accounts/${login}/state`)).body;

beforeEach(async () => {
  // Mutations back to back in most tests; the spacing has its own test.
  emu = createVintedEmulator({ knobs: { mutationIntervalMs: 0 } });
  await emu.listen(0);
});
afterEach(async () => {
  await emu.close();
});

describe('Vinted emulator: session and CSRF', () => {
  it('logs in through the form, sets the session cookie and shows the CSRF token on the home page', async () => {
    await ctl('POST', '/_control/accounts', { login: 'anna', password: 'secret-1' });
    const form = await call(null, 'GET', '/member/login');
    expect(form.status).toBe(200);
    expect(form.body).toContain('<form method="post" action="/member/login">');

    const wrong = await fetch(`${emu.url}/member/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'login=anna&password=nope',
      redirect: 'manual',
    });
    expect(wrong.status).toBe(422);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const ok = await fetch(`${emu.url}/member/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'login=anna&password=secret-1',
      redirect: 'manual',
    });
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe('/');
    const setCookie = ok.headers.get('set-cookie')!;
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]+; `));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Lax');
    expect(setCookie).toContain('Path=/');
    const cookie = setCookie.split(';')[0]!;

    const home = await fetch(`${emu.url}/`, { headers: { cookie } });
    const html = await home.text();
    const csrf = /<meta name="csrf-token" content="([^"]+)">/.exec(html)?.[1];
    expect(csrf).toBeTruthy();
    // Logged out: no token on the page.
    expect(await (await fetch(`${emu.url}/`)).text()).not.toContain('csrf-token');

    const me = await fetch(`${emu.url}/api/v2/users/current`, { headers: { cookie } });
    expect(me.status).toBe(200);
    const user = ((await me.json()) as any).user;
    expect(user.login).toBe('anna');
    expect(Number.isInteger(user.id)).toBe(true);
    expect(user.id).toBe((await stateOf('anna')).user_id);

    // The token from the page opens mutations.
    const hide = await fetch(`${emu.url}/api/v2/items/1/is_hidden`, {
      method: 'PUT',
      headers: { cookie, 'x-csrf-token': csrf!, 'content-type': 'application/json' },
      body: '{"is_hidden":true}',
    });
    expect(hide.status).toBe(404); // past session and CSRF: the item does not exist
  });

  it('answers 401 code 100 without a live session and 401 code 106 on a missing or wrong CSRF token, changing nothing', async () => {
    const s = await seller();
    for (const [method, p] of [
      ['GET', '/api/v2/users/current'],
      ['GET', `/api/v2/wardrobe/${s.userId}/items`],
      ['GET', '/api/v2/my_orders?type=sold&status=all'],
      ['POST', '/api/v2/item_upload/items'],
    ] as const) {
      const r = await call(null, method, p, { body: method === 'POST' ? { item: {} } : undefined });
      expect(r.status, `${method} ${p}`).toBe(401);
      expect(r.body).toEqual({ code: 100, message: 'invalid_authentication_token' });
    }
    const bogus = await call({ ...s, cookie: `${SESSION_COOKIE}=not-a-session` }, 'GET', '/api/v2/users/current');
    expect(bogus.status).toBe(401);
    expect(bogus.body.code).toBe(100);

    const noCsrf = await upload(s, {}, 'u-1').then(() => call(s, 'POST', '/api/v2/item_upload/items', { body: { item: { title: 'x' } }, csrf: null }));
    expect(noCsrf.status).toBe(401);
    expect(noCsrf.body).toEqual({ code: 106, message: 'invalid_csrf_token' });
    const wrong = await call(s, 'POST', '/api/v2/photos', { form: photoForm(), csrf: 'wrong-token' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe(106);
    // Another session's token is wrong for this one.
    const other = await seller('other');
    expect((await call(s, 'PUT', '/api/v2/items/1/mark_as_sold', { csrf: other.csrf })).body.code).toBe(106);

    // Only the first upload (with a token) made an item; the log shows who sent what.
    expect((await stateOf()).items).toHaveLength(1);
    const log = (await ctl('GET', '/_control/requests')).body.requests as any[];
    const refused = log.filter((r) => r.status === 401);
    expect(refused.map((r) => r.refused)).toEqual(['no_session', 'no_session', 'no_session', 'no_session', 'no_session', 'csrf', 'csrf', 'csrf']);
    expect(log.find((r) => r.csrf === 'wrong' && r.url === '/api/v2/photos')).toMatchObject({ login: 'seller', session_cookie: true, status: 401 });

    // Logged out everywhere: the cookie stops working.
    expect((await ctl('POST', '/_control/accounts/seller/logout')).body.closed).toBe(1);
    expect((await call(s, 'GET', '/api/v2/users/current')).body.code).toBe(100);
  });
});

describe('Vinted emulator: photos and items', () => {
  it('takes a multipart photo and serves it at its url', async () => {
    const s = await seller();
    const r = await call(s, 'POST', '/api/v2/photos', { form: photoForm(JPEG, 'item', 'uuid-42') });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: expect.any(Number), temp_uuid: 'uuid-42' });
    const img = await fetch(r.body.url);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await img.arrayBuffer()).equals(JPEG)).toBe(true);

    const notImage = await call(s, 'POST', '/api/v2/photos', { form: photoForm(Buffer.from('hello')) });
    expect(notImage.status).toBe(400);
    expect(notImage.body.code).toBe(99);
    expect((await call(s, 'POST', '/api/v2/photos', { form: photoForm(JPEG, 'avatar') })).status).toBe(400);
    const json = await call(s, 'POST', '/api/v2/photos', { body: { photo: {} } });
    expect(json.status).toBe(400);
    const logged = ((await ctl('GET', '/_control/requests')).body.requests as any[]).find((x) => x.url === '/api/v2/photos');
    expect(logged.body).toEqual({
      fields: { 'photo[type]': 'item', 'photo[temp_uuid]': 'uuid-42' },
      files: [{ field: 'photo[file]', name: 'photo.jpg', type: 'image/jpeg', bytes: JPEG.length }],
    });

    // Another member cannot assign it.
    const other = await seller('other');
    const stolen = await call(other, 'POST', '/api/v2/item_upload/items', {
      body: { item: { title: 'Mine now', price: 5, currency: 'GBP', assigned_photos: [{ id: r.body.id, orientation: 0 }] }, upload_session_id: 'x' },
    });
    expect(stolen.status).toBe(400);
    expect(stolen.body.errors[0].field).toBe('assigned_photos');
  });

  it('creates one item per upload_session_id: the same id again answers the same item', async () => {
    const s = await seller();
    const first = await upload(s, {}, 'session-a');
    expect(first.status).toBe(200);
    const item = first.body.item;
    expect(item).toMatchObject({ title: 'Blue denim jacket', price: { amount: '12.5', currency_code: 'GBP' }, is_hidden: false, is_closed: false });
    expect(item.url).toBe(`${emu.url}/items/${item.id}-blue-denim-jacket`);
    expect((await fetch(item.url)).status).toBe(200);

    const again = await upload(s, { title: 'Blue denim jacket' }, 'session-a');
    expect(again.status).toBe(200);
    expect(again.body.item.id).toBe(item.id);
    expect((await stateOf()).items).toHaveLength(1);

    const second = await upload(s, { title: 'Red scarf', price: '7.99' }, 'session-b');
    expect(second.body.item.id).not.toBe(item.id);
    expect(second.body.item.price).toEqual({ amount: '7.99', currency_code: 'GBP' });
    const st = await stateOf();
    expect(st.items.map((i: any) => [i.title, i.price, i.status, i.upload_session_id])).toEqual([
      ['Blue denim jacket', 12.5, 'active', 'session-a'],
      ['Red scarf', 7.99, 'active', 'session-b'],
    ]);
  });

  it('refuses an invalid item with a validation error and creates nothing', async () => {
    const s = await seller();
    for (const [bad, field] of [
      [{ title: '' }, 'title'],
      [{ price: 0 }, 'price'],
      [{ price: 1.234 }, 'price'],
      [{ currency: 'pounds' }, 'currency'],
      [{ status_id: 42 }, 'status_id'],
      [{ assigned_photos: [] }, 'assigned_photos'],
    ] as const) {
      const r = await upload(s, bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.body).toMatchObject({ code: 99, errors: [{ field }] });
    }
    expect((await stateOf()).items).toHaveLength(0);
  });

  it('edits, hides, marks sold and deletes an item; unknown and foreign items are 404 code 104', async () => {
    const s = await seller();
    const id = (await upload(s)).body.item.id;
    const edit = await call(s, 'PUT', `/api/v2/item_upload/items/${id}`, { body: { item: { id, title: 'Blue denim jacket (L)', price: 15 } } });
    expect(edit.status).toBe(200);
    expect(edit.body.item).toMatchObject({ id, title: 'Blue denim jacket (L)', price: { amount: '15', currency_code: 'GBP' }, description: 'Worn twice' });
    expect((await call(s, 'PUT', `/api/v2/item_upload/items/${id}`, { body: { item: { id: id + 1, title: 'x' } } })).status).toBe(400);

    const hide = await call(s, 'PUT', `/api/v2/items/${id}/is_hidden`, { body: { is_hidden: true } });
    expect(hide.body.item.is_hidden).toBe(true);
    expect((await stateOf()).items[0].status).toBe('hidden');
    expect((await call(s, 'PUT', `/api/v2/items/${id}/is_hidden`, { body: { is_hidden: 'yes' } })).status).toBe(400);
    expect((await call(s, 'PUT', `/api/v2/items/${id}/is_hidden`, { body: { is_hidden: false } })).body.item.is_hidden).toBe(false);

    const sold = await call(s, 'PUT', `/api/v2/items/${id}/mark_as_sold`);
    expect(sold.status).toBe(200);
    expect(sold.body.item.is_closed).toBe(true);
    expect((await stateOf()).items[0].status).toBe('sold');
    // Marked sold by the seller: no buyer, no order.
    expect((await call(s, 'GET', '/api/v2/my_orders?type=sold&status=all')).body.my_orders).toEqual([]);
    expect((await call(s, 'PUT', `/api/v2/item_upload/items/${id}`, { body: { item: { title: 'Too late' } } })).status).toBe(400);

    const other = await seller('other');
    expect((await call(other, 'POST', `/api/v2/items/${id}/delete`)).body).toEqual({ code: 104, message: 'not_found' });
    const del = await call(s, 'POST', `/api/v2/items/${id}/delete`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ code: 0 });
    for (const [method, p] of [
      ['POST', `/api/v2/items/${id}/delete`],
      ['PUT', `/api/v2/items/${id}/mark_as_sold`],
      ['PUT', `/api/v2/item_upload/items/${id}`],
      ['POST', '/api/v2/items/999/delete'],
    ] as const) {
      const r = await call(s, method, p, { body: { item: { title: 'x' }, is_hidden: true } });
      expect(r.status, `${method} ${p}`).toBe(404);
      expect(r.body).toEqual({ code: 104, message: 'not_found' });
    }
    const st = await stateOf();
    expect(st.items).toEqual([]);
    expect(st.deleted_item_ids).toEqual([id]);
  });
});

describe('Vinted emulator: reading', () => {
  it("reads one item by id: a buyer's sale shows as is_closed; another member's hidden item and unknown or deleted ids are 404", async () => {
    const s = await seller();
    const id = (await ctl('POST', '/_control/accounts/seller/items', { title: 'Wool coat', price: 30 })).body.id;
    const before = await call(s, 'GET', `/api/v2/items/${id}`);
    expect(before.status).toBe(200);
    expect(before.body.item).toMatchObject({ id, title: 'Wool coat', price: { amount: '30', currency_code: 'GBP' }, is_hidden: false, is_closed: false });

    expect((await ctl('POST', '/_control/accounts/seller/sale', { item_id: id })).status).toBe(200);
    expect((await call(s, 'GET', `/api/v2/items/${id}`)).body.item.is_closed).toBe(true);
    // Sold is final: hiding or showing it is refused, and reading it says why.
    expect((await call(s, 'PUT', `/api/v2/items/${id}/is_hidden`, { body: { is_hidden: true } })).status).toBe(400);

    const other = await seller('other');
    expect((await call(other, 'GET', `/api/v2/items/${id}`)).body.item.id).toBe(id);
    const hidden = (await ctl('POST', '/_control/accounts/seller/items', { title: 'Private', price: 5, is_hidden: true })).body.id;
    expect((await call(s, 'GET', `/api/v2/items/${hidden}`)).body.item.is_hidden).toBe(true);
    expect((await call(other, 'GET', `/api/v2/items/${hidden}`)).body).toEqual({ code: 104, message: 'not_found' });
    expect((await call(s, 'POST', `/api/v2/items/${hidden}/delete`)).status).toBe(200);
    for (const p of [`/api/v2/items/${hidden}`, '/api/v2/items/999', '/api/v2/items/abc']) {
      const r = await call(s, 'GET', p);
      expect(r.status, p).toBe(404);
      expect(r.body).toEqual({ code: 104, message: 'not_found' });
    }
    expect((await call(null, 'GET', `/api/v2/items/${id}`)).status).toBe(401);
  });

  it('pages the wardrobe newest first with per_page and total_pages', async () => {
    const s = await seller();
    for (let i = 1; i <= 25; i++) await ctl('POST', '/_control/accounts/seller/items', { title: `Item ${i}`, price: i, is_hidden: i === 25 });
    const p1 = await call(s, 'GET', `/api/v2/wardrobe/${s.userId}/items?page=1&per_page=10`);
    expect(p1.status).toBe(200);
    expect(p1.body.pagination).toEqual({ current_page: 1, total_pages: 3, total_entries: 25, per_page: 10 });
    expect(p1.body.items.map((i: any) => i.title).slice(0, 3)).toEqual(['Item 25', 'Item 24', 'Item 23']);
    expect(p1.body.items[0]).toMatchObject({ is_hidden: true, is_closed: false, is_reserved: false, price: { amount: '25', currency_code: 'GBP' } });
    expect(typeof p1.body.items[0].updated_at_ts).toBe('number');
    const p3 = await call(s, 'GET', `/api/v2/wardrobe/${s.userId}/items?page=3&per_page=10`);
    expect(p3.body.items.map((i: any) => i.title)).toEqual(['Item 5', 'Item 4', 'Item 3', 'Item 2', 'Item 1']);
    expect((await call(s, 'GET', `/api/v2/wardrobe/${s.userId}/items?page=4&per_page=10`)).body.items).toEqual([]);
    // Default and ceiling.
    expect((await call(s, 'GET', `/api/v2/wardrobe/${s.userId}/items`)).body.pagination.per_page).toBe(20);
    expect((await call(s, 'GET', `/api/v2/wardrobe/${s.userId}/items?per_page=500`)).body.pagination.per_page).toBe(96);
    // Another member sees the wardrobe without the hidden item; an unknown member is 404.
    const other = await seller('other');
    expect((await call(other, 'GET', `/api/v2/wardrobe/${s.userId}/items?per_page=96`)).body.pagination.total_entries).toBe(24);
    expect((await call(s, 'GET', '/api/v2/wardrobe/1/items')).body).toEqual({ code: 104, message: 'not_found' });
  });

  it('turns a buyer sale into a closed item and a my_orders row, newest first, paged', async () => {
    const s = await seller();
    const ids: number[] = [];
    for (const t of ['Hat', 'Scarf', 'Gloves']) ids.push((await ctl('POST', '/_control/accounts/seller/items', { title: t, price: 9.5 })).body.id);
    const sale1 = await ctl('POST', '/_control/accounts/seller/sale', { item_id: ids[0] });
    expect(sale1.status).toBe(200);
    await new Promise((r) => setTimeout(r, 5));
    const sale2 = await ctl('POST', '/_control/accounts/seller/sale', { item_id: ids[2] });
    expect(sale2.body.transaction_id).toBeGreaterThan(sale1.body.transaction_id);
    expect((await ctl('POST', '/_control/accounts/seller/sale', { item_id: ids[0] })).status).toBe(409);
    expect((await ctl('POST', '/_control/accounts/seller/sale', { item_id: 1 })).status).toBe(404);
    await ctl('POST', `/_control/accounts/seller/items/${ids[1]}/edit`, { is_hidden: true });
    expect((await ctl('POST', '/_control/accounts/seller/sale', { item_id: ids[1] })).status).toBe(409);

    const all = await call(s, 'GET', '/api/v2/my_orders?type=sold&status=all&page=1&per_page=20');
    expect(all.status).toBe(200);
    expect(all.body.my_orders.map((o: any) => [o.transaction_id, o.item_id, o.title])).toEqual([
      [sale2.body.transaction_id, ids[2], 'Gloves'],
      [sale1.body.transaction_id, ids[0], 'Hat'],
    ]);
    expect(all.body.my_orders[0]).toMatchObject({ price: { amount: '9.5', currency_code: 'GBP' }, status: 'payment_successful' });
    expect(new Date(all.body.my_orders[0].date).toISOString()).toBe(all.body.my_orders[0].date);
    const p2 = await call(s, 'GET', '/api/v2/my_orders?type=sold&status=all&page=2&per_page=1');
    expect(p2.body.pagination).toEqual({ current_page: 2, total_pages: 2, total_entries: 2, per_page: 1 });
    expect(p2.body.my_orders.map((o: any) => o.item_id)).toEqual([ids[0]]);
    expect((await call(s, 'GET', '/api/v2/my_orders?type=purchased&status=all')).body.my_orders).toEqual([]);

    const wardrobe = (await call(s, 'GET', `/api/v2/wardrobe/${s.userId}/items`)).body.items;
    expect(wardrobe.find((i: any) => i.id === ids[0]).is_closed).toBe(true);
    expect((await stateOf()).items.map((i: any) => i.status)).toEqual(['sold', 'hidden', 'sold']);
    expect((await stateOf()).orders).toHaveLength(2);
  });
});

describe('Vinted emulator: anti-bot throttling and faults', () => {
  it('answers 429 with the captcha body and Retry-After in whole seconds past the window, then lets the session in again', async () => {
    const s = await seller();
    await ctl('POST', '/_control/knobs', { windowMs: 1500, windowMaxRequests: 3 });
    for (let i = 0; i < 3; i++) expect((await call(s, 'GET', '/api/v2/users/current')).status).toBe(200);
    const t = await call(s, 'GET', '/api/v2/users/current');
    expect(t.status).toBe(429);
    expect(t.body.url).toMatch(/^https:\/\/geo\.captcha-delivery\.com\/captcha\/\?/);
    const retry = t.headers.get('retry-after')!;
    expect(retry).toMatch(/^\d+$/);
    expect(Number(retry)).toBeGreaterThanOrEqual(1);
    expect(Number(retry)).toBeLessThanOrEqual(2);
    // Per session: another member is not throttled.
    const other = await seller('other');
    expect((await call(other, 'GET', '/api/v2/users/current')).status).toBe(200);
    await new Promise((r) => setTimeout(r, Number(retry) * 1000));
    expect((await call(s, 'GET', '/api/v2/users/current')).status).toBe(200);
    expect((await ctl('GET', '/_control/stats')).body.throttled).toBe(1);
  });

  it('spaces mutations: a second mutation inside mutationIntervalMs is refused with Retry-After and not applied', async () => {
    const s = await seller();
    await ctl('POST', '/_control/knobs', { mutationIntervalMs: 400 });
    const a = await ctl('POST', '/_control/accounts/seller/items', { title: 'A', price: 1 });
    expect((await call(s, 'PUT', `/api/v2/items/${a.body.id}/is_hidden`, { body: { is_hidden: true } })).status).toBe(200);
    // Reads are not mutations.
    expect((await call(s, 'GET', '/api/v2/users/current')).status).toBe(200);
    const quick = await call(s, 'PUT', `/api/v2/items/${a.body.id}/mark_as_sold`);
    expect(quick.status).toBe(429);
    expect(quick.headers.get('retry-after')).toBe('1');
    expect((await stateOf()).items[0].status).toBe('hidden');
    await new Promise((r) => setTimeout(r, 400));
    expect((await call(s, 'PUT', `/api/v2/items/${a.body.id}/mark_as_sold`)).status).toBe(200);
    const log = (await ctl('GET', '/_control/requests')).body.requests as any[];
    expect(log.filter((r) => r.status === 429).map((r) => r.refused)).toEqual(['mutation_interval']);
  });

  it('throttleNext and failNext refuse the next calls without applying them', async () => {
    const s = await seller();
    await ctl('POST', '/_control/knobs', { throttleNext: 1, failNext: 1, sendRetryAfter: false });
    const t = await upload(s, {}, 'only-once');
    // The photo upload took the throttle, the item upload the failure.
    expect(t.status).toBe(500);
    expect((await stateOf()).items).toHaveLength(0);
    const log = (await ctl('GET', '/_control/requests')).body.requests as any[];
    expect(log.map((r) => [r.url, r.status, r.refused])).toEqual([
      ['/api/v2/photos', 429, 'throttle_next'],
      ['/api/v2/item_upload/items', 500, 'fail_next'],
    ]);
    const throttled = await call(s, 'GET', '/api/v2/users/current');
    expect(throttled.status).toBe(200);
    expect((await upload(s, {}, 'only-once')).status).toBe(200);
    expect((await stateOf()).items).toHaveLength(1);
    expect((await ctl('GET', '/_control/knobs')).body).toMatchObject({ throttleNext: 0, failNext: 0 });
  });
});

describe('Vinted emulator: state file', () => {
  it('keeps members, sessions, items, orders and photos across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vinted-emu-'));
    const file = path.join(dir, 'vinted.json');
    try {
      await emu.close();
      emu = createVintedEmulator({ stateFile: file, saveDelayMs: 10, knobs: { mutationIntervalMs: 0 } });
      await emu.listen(0);
      const s = await seller();
      const item = (await upload(s, {}, 'persisted')).body.item;
      await ctl('POST', '/_control/accounts/seller/sale', { item_id: item.id });
      await emu.close();

      emu = createVintedEmulator({ stateFile: file, knobs: { mutationIntervalMs: 0 } });
      await emu.listen(0);
      // The same cookie still works; the same upload session still answers the same item.
      expect((await call(s, 'GET', '/api/v2/users/current')).body.user.login).toBe('seller');
      expect((await call(s, 'GET', '/api/v2/my_orders?type=sold&status=all')).body.my_orders).toHaveLength(1);
      expect((await upload(s, {}, 'persisted')).body.item.id).toBe(item.id);
      const st = await stateOf();
      expect(st.items.map((i: any) => i.id)).toEqual([item.id]);
      const img = await fetch(st.items[0].photo_urls[0]);
      expect(Buffer.from(await img.arrayBuffer()).equals(JPEG)).toBe(true);
      // Counters continue: a new item gets a new id.
      expect((await upload(s, { title: 'Another' }, 'new')).body.item.id).toBeGreaterThan(item.id);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
