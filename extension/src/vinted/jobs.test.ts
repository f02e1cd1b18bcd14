// Each job kind as the Vinted calls it becomes (docs/extension-protocol.md, section 2), against a
// fake fetch that answers like Vinted and records what it was sent.
import { describe, expect, it } from 'vitest';
import type { Job } from '../protocol.ts';
import { uuidV5 } from '../uuid.ts';
import { csrfTokenOf, VintedClient } from './client.ts';
import { runJob, type JobDeps } from './jobs.ts';
import { publishRequest, statusIdOf, updateRequests } from './requests.ts';

const ORIGIN = 'https://www.vinted.co.uk';
interface Sent {
  method: string;
  path: string;
  csrf: string | null;
  json: any;
  form: FormData | null;
}

/** A Vinted that answers what `route` says (a status and a body), and the home page with a CSRF token. */
function fakeVinted(route: (s: Sent) => [number, unknown] | undefined, opts: { csrf?: string[]; retryAfter?: string; mutationGapMs?: number } = {}) {
  const sent: Sent[] = [];
  const tokens = opts.csrf ?? ['tok-1'];
  let home = 0;
  const fetch = async (url: string, init: RequestInit = {}) => {
    const u = new URL(url);
    const headers = (init.headers ?? {}) as Record<string, string>;
    const s: Sent = {
      method: init.method ?? 'GET',
      path: u.pathname + u.search,
      csrf: headers['x-csrf-token'] ?? null,
      json: typeof init.body === 'string' ? JSON.parse(init.body) : null,
      form: init.body instanceof FormData ? init.body : null,
    };
    if (s.path === '/') {
      const t = tokens[Math.min(home++, tokens.length - 1)];
      return new Response(`<html><head><meta content="${t}" name="csrf-token"></head></html>`, { headers: { 'content-type': 'text/html' } });
    }
    sent.push(s);
    const [status, body] = route(s) ?? [404, { code: 104, message: 'not_found' }];
    return new Response(body === null ? null : JSON.stringify(body), {
      status,
      headers: { 'content-type': 'application/json', 'retry-after': opts.retryAfter ?? '30' },
    });
  };
  const deps: JobDeps = {
    vinted: new VintedClient(ORIGIN, fetch),
    fetchPhoto: async () => new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' }),
  };
  return { sent, deps };
}

const job = (kind: string, payload: Record<string, unknown>, id = 'xj_1'): Job => ({ id, kind, payload, attempt: 1 });
const PUBLISH = {
  ref: 'prod_1',
  title: 'Tweed jacket',
  description: 'Harris tweed, size M.',
  price: { amount: '45.00', currency: 'GBP' },
  brand: 'Harris',
  size: 'M',
  condition: 2,
  photos: ['http://127.0.0.1:8080/media/a.png', 'http://127.0.0.1:8080/media/b.png'],
};

describe('publish', () => {
  it('uploads each photo (multipart, CSRF), then creates the item with them and an upload session derived from the job id', async () => {
    let photo = 0;
    const { sent, deps } = fakeVinted((s) => {
      if (s.path === '/api/v2/photos') return [200, { id: ++photo, url: 'x', temp_uuid: s.form!.get('photo[temp_uuid]') }];
      if (s.path === '/api/v2/item_upload/items') return [200, { item: { id: 456, title: s.json.item.title, url: '/items/456-tweed-jacket' } }];
    });
    const result = await runJob(job('publish', PUBLISH), deps);
    expect(result).toEqual({ item_id: '456', url: `${ORIGIN}/items/456-tweed-jacket` });
    expect(sent.map((s) => `${s.method} ${s.path}`)).toEqual(['POST /api/v2/photos', 'POST /api/v2/photos', 'POST /api/v2/item_upload/items']);
    expect(sent.every((s) => s.csrf === 'tok-1')).toBe(true);
    expect(sent[0]!.form!.get('photo[type]')).toBe('item');
    expect(sent[0]!.form!.get('photo[file]')).toBeInstanceOf(Blob);
    const body = sent[2]!.json;
    expect(body).toEqual({
      item: {
        id: null,
        currency: 'GBP',
        temp_uuid: await uuidV5('item:xj_1'),
        title: 'Tweed jacket',
        description: 'Harris tweed, size M.',
        brand: 'Harris',
        size: 'M',
        status_id: 2,
        price: 45,
        assigned_photos: [
          { id: 1, orientation: 0 },
          { id: 2, orientation: 0 },
        ],
      },
      feedback_id: null,
      push_up: false,
      upload_session_id: await uuidV5('upload-session:xj_1'),
    });
    expect(body.upload_session_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('the same job sent again is the same upload session; another job is another', async () => {
    const sessions: string[] = [];
    const { deps } = fakeVinted((s) => {
      if (s.path === '/api/v2/photos') return [200, { id: 1 }];
      sessions.push(s.json.upload_session_id);
      return [200, { item: { id: 456 } }];
    });
    await runJob(job('publish', PUBLISH, 'xj_A'), deps);
    await runJob(job('publish', PUBLISH, 'xj_A'), deps);
    await runJob(job('publish', PUBLISH, 'xj_B'), deps);
    expect(sessions[0]).toBe(sessions[1]);
    expect(sessions[2]).not.toBe(sessions[0]);
  });

  it('refuses a publish without photos, title or a readable price before calling Vinted', () => {
    const ids = { tempUuid: 't', uploadSessionId: 'u' };
    expect(() => publishRequest({ ...PUBLISH, title: undefined }, [1], ids)).toThrow(/title/);
    expect(() => publishRequest({ ...PUBLISH, price: { amount: 'twelve', currency: 'GBP' } }, [1], ids)).toThrow(/price/);
    return expect(runJob(job('publish', { ...PUBLISH, photos: [] }), fakeVinted(() => undefined).deps)).rejects.toMatchObject({ kind: 'rejected' });
  });

  it('a refused CSRF token (code 106) is read again from the page and the call made once more', async () => {
    let first = true;
    const { sent, deps } = fakeVinted(
      (s) => {
        if (s.path === '/api/v2/photos') {
          if (first) return ((first = false), [401, { code: 106, message: 'invalid_csrf_token' }]);
          return [200, { id: 9 }];
        }
        return [200, { item: { id: 7 } }];
      },
      { csrf: ['stale', 'fresh'] },
    );
    await runJob(job('publish', { ...PUBLISH, photos: [PUBLISH.photos[0]] }), deps);
    expect(sent.map((s) => s.csrf)).toEqual(['stale', 'fresh', 'fresh']);
  });
});

describe('update, delete, mark_sold', () => {
  it('an update with content edits the item; hidden alone only hides or shows it', async () => {
    expect(updateRequests({ item_id: '4242', hidden: true })).toEqual([
      { method: 'PUT', path: '/api/v2/items/4242/is_hidden', json: { is_hidden: true }, what: 'hiding item 4242' },
    ]);
    const both = updateRequests({ item_id: 4242, title: 'New', price: { amount: '12.50', currency: 'GBP' }, hidden: false });
    expect(both.map((r) => `${r.method} ${r.path}`)).toEqual(['PUT /api/v2/item_upload/items/4242', 'PUT /api/v2/items/4242/is_hidden']);
    expect(both[0]!.json).toEqual({ item: { id: 4242, currency: 'GBP', title: 'New', price: 12.5 }, feedback_id: null, push_up: false });
    expect(() => updateRequests({ item_id: '4242' })).toThrow(/changes nothing/);
    expect(() => updateRequests({ item_id: '../users/1', hidden: true })).toThrow(/item id/);

    const { sent, deps } = fakeVinted(() => [200, { item: { id: 4242 } }]);
    expect(await runJob(job('update', { item_id: '4242', hidden: false }), deps)).toEqual({ item_id: '4242' });
    expect(sent[0]).toMatchObject({ method: 'PUT', path: '/api/v2/items/4242/is_hidden', json: { is_hidden: false }, csrf: 'tok-1' });
  });

  it('a delete of an item already gone is a success; a mark_sold of a gone item is not_found', async () => {
    const { sent, deps } = fakeVinted(() => undefined); // every call: 404
    expect(await runJob(job('delete', { item_id: 5 }), deps)).toEqual({ item_id: '5' });
    expect(sent[0]).toMatchObject({ method: 'POST', path: '/api/v2/items/5/delete' });
    await expect(runJob(job('mark_sold', { item_id: 5 }), deps)).rejects.toMatchObject({ kind: 'not_found' });
    expect(sent[1]).toMatchObject({ method: 'PUT', path: '/api/v2/items/5/mark_as_sold' });
  });

  it('hiding an item a buyer has bought is done (it is off sale); showing it, or hiding an unsold item Vinted refuses, is rejected', async () => {
    const wardrobe = [
      { id: 7, title: 'Sold', is_closed: true },
      { id: 8, title: 'For sale', is_closed: false },
    ];
    const { sent, deps } = fakeVinted((s) => {
      if (s.path === '/api/v2/users/current') return [200, { user: { id: 123, login: 'tweedseller' } }];
      if (s.path.startsWith('/api/v2/wardrobe/123/items')) return [200, { items: wardrobe, pagination: { current_page: 1, total_pages: 1 } }];
      return [400, { code: 99, message: 'validation_error', errors: [{ field: 'item', value: 'sold items can not be hidden' }] }];
    });
    expect(await runJob(job('update', { item_id: 7, hidden: true }), deps)).toEqual({ item_id: '7' });
    expect(sent.map((s) => `${s.method} ${s.path.split('?')[0]}`)).toEqual([
      'PUT /api/v2/items/7/is_hidden',
      'GET /api/v2/users/current',
      'GET /api/v2/wardrobe/123/items',
    ]);
    await expect(runJob(job('update', { item_id: 7, hidden: false }), deps)).rejects.toMatchObject({ kind: 'rejected' });
    await expect(runJob(job('update', { item_id: 8, hidden: true }), deps)).rejects.toMatchObject({ kind: 'rejected' });
  });

  it('429 from Vinted is throttled with its Retry-After; 401 code 100 is session; a validation error is rejected', async () => {
    await expect(runJob(job('delete', { item_id: 5 }), fakeVinted(() => [429, { url: 'https://geo.captcha-delivery.com/c' }]).deps)).rejects.toMatchObject({
      kind: 'throttled',
      retryAfterMs: 30_000,
    });
    await expect(runJob(job('read_listings', {}), fakeVinted(() => [401, { code: 100, message: 'invalid_authentication_token' }]).deps)).rejects.toMatchObject({
      kind: 'session',
    });
    await expect(runJob(job('update', { item_id: 5, title: '' }), fakeVinted(() => [422, { message: 'title is too short' }]).deps)).rejects.toMatchObject({
      kind: 'rejected',
    });
    await expect(runJob(job('teleport', {}), fakeVinted(() => undefined).deps)).rejects.toMatchObject({ kind: 'rejected' });
  });
});

describe('pace', () => {
  it('spaces mutations (a publish is several in a row) and waits out a short 429 in place once', async () => {
    const at: number[] = [];
    let throttled = false;
    const { sent, deps } = fakeVinted(
      (s) => {
        at.push(Date.now());
        if (s.path === '/api/v2/photos') return [200, { id: 1 }];
        if (!throttled) return ((throttled = true), [429, { url: 'https://geo.captcha-delivery.com/c' }]);
        return [200, { item: { id: 8 } }];
      },
      { retryAfter: '1', mutationGapMs: 200 },
    );
    expect(await runJob(job('publish', { ...PUBLISH, photos: [PUBLISH.photos[0]] }), deps)).toMatchObject({ item_id: '8' });
    expect(sent.map((s) => s.path)).toEqual(['/api/v2/photos', '/api/v2/item_upload/items', '/api/v2/item_upload/items']);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(190);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(990);
  });
});

describe('reads', () => {
  it("read_listings pages through the seller's wardrobe and names each item's state", async () => {
    const { sent, deps } = fakeVinted((s) => {
      if (s.path === '/api/v2/users/current') return [200, { user: { id: 123, login: 'tweedseller' } }];
      const page = Number(new URL(s.path, ORIGIN).searchParams.get('page'));
      const items =
        page === 1
          ? [
              {
                id: 1,
                title: 'A',
                price: { amount: '5.0', currency_code: 'GBP' },
                is_hidden: false,
                is_closed: false,
                is_reserved: false,
                updated_at_ts: 1_780_000_000,
              },
              { id: 2, title: 'B', price: { amount: '6.0', currency_code: 'GBP' }, is_hidden: true },
            ]
          : [
              { id: 3, title: 'C', is_reserved: true },
              { id: 4, title: 'D', is_closed: true, is_hidden: true },
            ];
      return [200, { items, pagination: { current_page: page, total_pages: 2, total_entries: 4, per_page: 96 } }];
    });
    const { listings } = (await runJob(job('read_listings', {}), deps)) as { listings: any[] };
    expect(sent.map((s) => s.path)).toEqual([
      '/api/v2/users/current',
      '/api/v2/wardrobe/123/items?page=1&per_page=96',
      '/api/v2/wardrobe/123/items?page=2&per_page=96',
    ]);
    expect(sent.every((s) => s.csrf === null)).toBe(true); // reads carry no CSRF token
    expect(listings.map((l) => [l.item_id, l.status])).toEqual([
      ['1', 'active'],
      ['2', 'hidden'],
      ['3', 'reserved'],
      ['4', 'sold'],
    ]);
    expect(listings[0]).toEqual({
      item_id: '1',
      title: 'A',
      price: { amount: '5.0', currency: 'GBP' },
      status: 'active',
      updated_at: '2026-05-28T20:26:40.000Z',
    });
  });

  it('read_sales reads sold orders newest first and stops at `since`', async () => {
    const order = (n: number, date: string) => ({
      transaction_id: n,
      item_id: 100 + n,
      title: 't',
      price: { amount: '10.0', currency_code: 'GBP' },
      status: 'completed',
      date,
    });
    const { sent, deps } = fakeVinted((s) => {
      const page = Number(new URL(s.path, ORIGIN).searchParams.get('page'));
      const orders = page === 1 ? [order(3, '2026-12-03T10:00:00Z'), order(2, '2026-12-02T10:00:00Z')] : [order(1, '2026-11-01T10:00:00Z')];
      return [200, { my_orders: orders, pagination: { current_page: page, total_pages: 2 } }];
    });
    const all = (await runJob(job('read_sales', {}), deps)) as { sales: any[] };
    expect(all.sales.map((s) => s.transaction_id)).toEqual(['3', '2', '1']);
    expect(all.sales[0]).toEqual({
      transaction_id: '3',
      item_id: '103',
      price: { amount: '10.0', currency: 'GBP' },
      status: 'completed',
      sold_at: '2026-12-03T10:00:00.000Z',
    });
    expect(sent[0]!.path).toBe('/api/v2/my_orders?type=sold&status=all&page=1&per_page=20');
    sent.length = 0;
    const recent = (await runJob(job('read_sales', { since: '2026-12-03T00:00:00.000Z' }), deps)) as { sales: any[] };
    expect(recent.sales.map((s) => s.transaction_id)).toEqual(['3']);
    expect(sent).toHaveLength(1); // page 1 already reached back past `since`: page 2 is never read
    sent.length = 0;
    // `since` itself is read again (Vinted's dates are to the second; StockClerk drops what it has seen).
    const same = (await runJob(job('read_sales', { since: '2026-12-02T10:00:00.000Z' }), deps)) as { sales: any[] };
    expect(same.sales.map((s) => s.transaction_id)).toEqual(['3', '2']);
  });
});

describe('pieces', () => {
  it("reads the CSRF token from a page's meta tag, attributes in either order", () => {
    expect(csrfTokenOf('<head><meta name="csrf-token" content="abc=="></head>')).toBe('abc==');
    expect(csrfTokenOf("<meta content='xyz' name='csrf-token' />")).toBe('xyz');
    expect(csrfTokenOf('<meta name="viewport" content="width=device-width">')).toBeNull();
  });
  it("maps conditions to Vinted's status_id", () => {
    expect(statusIdOf(3)).toBe(3);
    expect(statusIdOf('new with tags')).toBe(6);
    expect(statusIdOf(undefined)).toBe(2);
  });
});
